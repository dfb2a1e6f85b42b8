package dev.flotilla.node.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The --server and --json options every client command shares. */
final class ServerOptions {
    @Option(names = {"-s", "--server"}, paramLabel = "HOST:PORT",
            description = "A node's HTTP API; repeat to give several, tried in turn when one is down. "
                    + "Default: $FLOTILLA_SERVERS (comma-separated) or 127.0.0.1:8088, :8089, :8090.")
    List<String> servers = new ArrayList<>();

    @Option(names = "--json", description = "Print the API's JSON instead of a table, for scripts.")
    boolean json;

    ApiClient client() {
        List<String> s = new ArrayList<>(servers);
        if (s.isEmpty()) {
            String env = System.getenv("FLOTILLA_SERVERS");
            if (env != null && !env.isBlank()) {
                for (String x : env.split(",")) if (!x.isBlank()) s.add(x.trim());
            } else {
                s.addAll(List.of("127.0.0.1:8088", "127.0.0.1:8089", "127.0.0.1:8090"));
            }
        }
        return new ApiClient(s);
    }
}
