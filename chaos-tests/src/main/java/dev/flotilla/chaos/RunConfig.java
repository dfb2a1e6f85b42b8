package dev.flotilla.chaos;

import dev.flotilla.chaos.checker.Linearizability;
import dev.flotilla.chaos.nemesis.Fault;
import dev.flotilla.chaos.workload.Clients;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything one chaos run is told.
 *
 * @param name       the report directory's name under {@code outRoot}
 * @param time       how long clients run and faults are injected (the run then heals and checks)
 * @param faults     the kinds to cycle through, each in turn, in a shuffled order per cycle
 * @param faultHold  how long each fault stays before it is healed: [min, max]
 * @param gap        the calm between a heal and the next fault: [min, max]
 * @param quiet      the quiet period after the final heal, before the final reads
 */
public record RunConfig(String name, Duration time, List<Fault> faults, long seed, Path flotilla, Path outRoot,
                        boolean unsafeLocalReads, List<String> nodeIds, Clients.Settings clients,
                        Duration faultHoldMin, Duration faultHoldMax, Duration gapMin, Duration gapMax,
                        Duration quiet, Linearizability.Budget budget, String nodeJavaOptions) {

    /** Defaults sized for a 2-core machine shared with others: three nodes, a dozen paced clients. */
    public static RunConfig defaults(String name, Duration time, List<Fault> faults, long seed, Path flotilla,
                                     Path outRoot) {
        // Hold each fault long enough to matter (elections take seconds) but short enough that a short
        // run still meets every kind once.
        long slot = faults.isEmpty() ? 10 : Math.max(4, time.toSeconds() / faults.size());
        Duration holdMax = Duration.ofSeconds(Math.min(15, Math.max(3, slot * 2 / 3)));
        Duration holdMin = Duration.ofSeconds(Math.max(2, holdMax.toSeconds() / 2));
        Duration gapMax = Duration.ofSeconds(Math.min(8, Math.max(1, slot / 3)));
        return new RunConfig(name, time, faults, seed, flotilla, outRoot, false, List.of("n1", "n2", "n3"),
                new Clients.Settings(6, 3, 200_000, 10, Duration.ofSeconds(5), 4, 120),
                holdMin, holdMax, Duration.ofSeconds(1), gapMax, Duration.ofSeconds(5),
                Linearizability.Budget.standard(), "-Xms64m -Xmx384m -XX:+UseSerialGC");
    }

    /** The same run with the negative-control flag set or not. */
    public RunConfig withUnsafeLocalReads(boolean unsafe) {
        return new RunConfig(name, time, faults, seed, flotilla, outRoot, unsafe, nodeIds, clients, faultHoldMin,
                faultHoldMax, gapMin, gapMax, quiet, budget, nodeJavaOptions);
    }
}
