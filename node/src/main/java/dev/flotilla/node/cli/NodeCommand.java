package dev.flotilla.node.cli;

import dev.flotilla.node.Logging;
import dev.flotilla.node.Node;
import dev.flotilla.node.NodeConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `flotilla node`: runs one node of the cluster in the foreground. */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = {"Run one Flotilla node in the foreground until it is stopped (SIGTERM or Ctrl-C).",
                "Settings come from --config (see docs/configuration.md); each flag overrides the file.", "",
                "Example, the first of three loopback nodes:",
                "  flotilla node --node-id n1 --data-dir data/n1 --api-address 127.0.0.1:8088 \\",
                "      --raft-address 127.0.0.1:9088 \\",
                "      --peers n1=127.0.0.1:9088,n2=127.0.0.1:9089,n3=127.0.0.1:9090", "",
                "Inspect and manage the cluster's nodes with 'flotilla node list|drain|undrain'."},
        subcommands = {NodeAdmin.ListNodes.class, NodeAdmin.Drain.class, NodeAdmin.Undrain.class})
final class NodeCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "The node's YAML config file.")
    Path config;

    @Option(names = "--node-id", description = "This node's id: 1-32 of a-z, 0-9, '-'.")
    String nodeId;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the Raft log and the registry live.")
    String dataDir;

    @Option(names = "--api-address", paramLabel = "HOST:PORT", description = "HTTP API address (default 127.0.0.1:8088).")
    String apiAddress;

    @Option(names = "--raft-address", paramLabel = "HOST:PORT", description = "Raft address (default 127.0.0.1:9088).")
    String raftAddress;

    @Option(names = "--transport-address", paramLabel = "HOST:PORT", description = "Inter-node packet address (default 127.0.0.1:7088).")
    String transportAddress;

    @Option(names = "--peers", paramLabel = "ID=RAFT[/API[/TRANSPORT]],...",
            description = "Every member of the initial group, this node included.")
    String peers;

    @Option(names = "--join", description = "Start with an empty group and wait to be added with 'flotilla cluster add-peer'.")
    Boolean join;

    @Option(names = "--subnet", paramLabel = "CIDR", description = "Address range for VMs (default 10.0.0.0/16).")
    String subnet;

    @Option(names = "--log-format", paramLabel = "text|json", description = "One readable line per event (text), or JSON lines.")
    String logFormat;

    @Option(names = "--election-timeout-ms", paramLabel = "MIN-MAX", description = "Raft election timeout range, e.g. 2000-4000.")
    String electionTimeout;

    @Option(names = "--snapshot-every", paramLabel = "N", description = "Log entries between automatic snapshots.")
    Long snapshotEvery;

    @Option(names = "--desired", paramLabel = "FILE",
            description = "A desired-state file applied (upsert) once this node has registered; see 'flotilla apply'.")
    String desired;

    @Option(names = "--node-down-after-ms", paramLabel = "MS", description = "Silence after which the leader declares a node down (default 10000).")
    Long nodeDownAfterMs;

    @Option(names = "--unsafe-local-reads", hidden = true,
            description = "TEST ONLY: serve reads from local state without ReadIndex (chaos negative control).")
    boolean unsafeLocalReads;

    @Override
    public Integer call() throws Exception {
        NodeConfig c;
        try {
            c = config != null ? NodeConfig.load(config) : new NodeConfig();
            if (nodeId != null) {
                c.nodeId = nodeId;
                if (config == null && dataDir == null) c.dataDir = "data/" + nodeId;
            }
            if (dataDir != null) c.dataDir = dataDir;
            if (apiAddress != null) c.apiAddress = apiAddress;
            if (raftAddress != null) c.raftAddress = raftAddress;
            if (transportAddress != null) c.transportAddress = transportAddress;
            if (peers != null) c.peers = NodeConfig.parsePeers(peers);
            if (join != null) c.join = join;
            if (subnet != null) c.subnet = subnet;
            if (logFormat != null) c.logFormat = logFormat;
            if (snapshotEvery != null) c.raft.snapshotEvery = snapshotEvery;
            if (electionTimeout != null) {
                String[] mm = electionTimeout.split("-");
                if (mm.length != 2) throw new NodeConfig.ConfigException("--election-timeout-ms must look like MIN-MAX, e.g. 2000-4000");
                c.raft.electionMinMs = Long.parseLong(mm[0].trim());
                c.raft.electionMaxMs = Long.parseLong(mm[1].trim());
            }
            if (unsafeLocalReads) c.unsafeLocalReads = true;
            if (desired != null) c.desiredFile = desired;
            if (nodeDownAfterMs != null) c.nodeDownAfterMs = nodeDownAfterMs;
            c.validate();
        } catch (NodeConfig.ConfigException | NumberFormatException e) {
            System.err.println("flotilla node: bad configuration: " + e.getMessage());
            return 2;
        }
        Logging.configure(c.logFormat, c.nodeId);
        Node node = new Node(c);
        Runtime.getRuntime().addShutdownHook(new Thread(node::close, "shutdown"));
        try {
            node.start();
        } catch (java.net.BindException e) {
            System.err.println("flotilla node: cannot listen: " + e.getMessage()
                    + " (another process holds the port: is this node already running? check 'scripts/bootstrap-cluster.sh --status')");
            node.close();
            return 1;
        } catch (Exception e) {
            System.err.println(startFailure(e, c));
            node.close();
            return 1;
        }
        return node.awaitStop();
    }

    /**
     * What a failed start tells the operator: every cause in the chain (Ratis wraps the useful one deep
     * inside), and for a damaged Raft log, that the node refuses to serve and how to bring it back.
     */
    static String startFailure(Throwable e, NodeConfig c) {
        StringBuilder sb = new StringBuilder("flotilla node: failed to start: ");
        boolean logDamaged = false;
        String sep = "";
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            sb.append(sep).append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
            sep = "\n  caused by ";
            String text = t.getClass().getName() + " " + t.getMessage();
            if (text.contains("initRaftLog") || text.contains("Corrupt") || text.contains("Checksum")) logDamaged = true;
        }
        if (logDamaged) {
            sb.append("\nThe Raft log under ").append(c.dataPath().resolve("raft").toAbsolutePath())
                    .append(" is damaged (a torn or corrupted segment); this node refuses to start rather than serve it.")
                    .append("\nTo bring it back: from another node run 'flotilla cluster remove-peer ").append(c.nodeId)
                    .append("', move this data dir aside (keep it for diagnosis), start this node with --join, then run")
                    .append(" 'flotilla cluster add-peer ").append(c.nodeId).append(' ').append(c.raftAddress)
                    .append("'; it catches up from the others.");
        }
        return sb.toString();
    }
}
