package dev.flotilla.node.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one `flotilla` command: entry point of the daemon and the CLI. */
@Command(name = "flotilla",
        mixinStandardHelpOptions = true,
        version = "flotilla 0.1.0",
        description = {
                "Flotilla: a replicated control plane for virtual machines.",
                "",
                "Run a node with 'flotilla node --config node.yaml', or start a three-node local cluster",
                "with scripts/bootstrap-cluster.sh. Then manage VMs from any node:",
                "",
                "  flotilla vm create --job-id web-1 --runtime process --cmd sleep --cmd 600",
                "  flotilla vm list",
                "  flotilla cluster status",
                ""},
        footer = {"", "Exit codes: 0 ok, 1 the cluster refused the request (4xx), 2 bad usage, 3 no node reachable or no quorum."},
        subcommands = {NodeCommand.class, VmCommand.class, ClusterCommand.class, CommandLine.HelpCommand.class})
public final class Flotilla {
    public static final int REFUSED = 1;
    public static final int UNAVAILABLE = 3;

    public static void main(String[] args) {
        int code = new CommandLine(new Flotilla()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        if (code != Integer.MIN_VALUE) System.exit(code);
    }
}
