package dev.flotilla.chaos;

import dev.flotilla.chaos.nemesis.FaultCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Settings shared by the runs against real node processes (tag "cluster"). */
final class RealCluster {
    private RealCluster() {
    }

    /** bin/flotilla of this checkout (or -Dflotilla.bin), failing clearly when it is not built. */
    static Path flotilla() {
        Path p = Path.of(System.getProperty("flotilla.bin", "../bin/flotilla")).toAbsolutePath().normalize();
        Path jar = p.getParent().resolveSibling("node").resolve("target").resolve("flotilla-node.jar");
        if (!Files.isExecutable(p) || (System.getProperty("flotilla.bin") == null && !Files.exists(jar))) {
            throw new IllegalStateException("the node daemon is not built: " + p + " / " + jar
                    + " missing. Build it first: mvn -B -o -q -pl node -am package -DskipTests");
        }
        return p;
    }

    static RunConfig config(String name, long seconds, String faults, long seed) {
        return RunConfig.defaults(name, Duration.ofSeconds(seconds), FaultCatalog.parse(faults), seed, flotilla(),
                Path.of("target/chaos").toAbsolutePath());
    }

    static long seed() {
        String s = System.getProperty("chaos.seed");
        long seed = s == null ? System.nanoTime() : Long.parseLong(s);
        System.out.println("chaos seed " + seed + " (rerun with -Dchaos.seed=" + seed + ")");
        return seed;
    }
}
