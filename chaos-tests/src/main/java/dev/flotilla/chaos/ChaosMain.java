package dev.flotilla.chaos;

import dev.flotilla.chaos.nemesis.Fault;
import dev.flotilla.chaos.nemesis.FaultCatalog;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line scripts/chaos.sh runs: {@code --time S --runs N --faults LIST [--seed X]
 * [--unsafe-local-reads] [--out DIR] [--flotilla PATH]}. Exits 0 only when every run is valid.
 */
public final class ChaosMain {
    private ChaosMain() {
    }

    public static void main(String[] args) {
        long time = 300;
        int runs = 1;
        String faults = "all";
        long seed = System.nanoTime();
        boolean unsafe = false;
        Path out = Path.of("chaos-tests/target/chaos");
        Path flotilla = Path.of("bin/flotilla");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--time" -> time = Long.parseLong(value(args, ++i, a));
                case "--runs" -> runs = Integer.parseInt(value(args, ++i, a));
                case "--faults" -> faults = value(args, ++i, a);
                case "--seed" -> seed = Long.parseLong(value(args, ++i, a));
                case "--unsafe-local-reads" -> unsafe = true;
                case "--out" -> out = Path.of(value(args, ++i, a));
                case "--flotilla" -> flotilla = Path.of(value(args, ++i, a));
                case "--help", "-h" -> {
                    System.out.println("usage: chaos.sh --time S --runs N --faults LIST [--seed X] "
                            + "[--unsafe-local-reads] [--out DIR] [--flotilla PATH]\nfaults: all, "
                            + String.join(", ", FaultCatalog.names()) + ", or a family prefix (partition, clock, ...)");
                    return;
                }
                default -> fail("unknown argument '" + a + "'; see --help");
            }
        }
        List<Fault> kinds;
        try {
            kinds = FaultCatalog.parse(faults);
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        List<String> summaries = new ArrayList<>();
        boolean allValid = true;
        for (int r = 0; r < runs; r++) {
            long runSeed = seed + r;
            System.out.println("chaos run " + (r + 1) + "/" + runs + " seed " + runSeed);
            RunConfig config = RunConfig.defaults(stamp + "-" + (r + 1), Duration.ofSeconds(time), kinds, runSeed,
                    flotilla.toAbsolutePath(), out.toAbsolutePath()).withUnsafeLocalReads(unsafe);
            ChaosRun.Result result = new ChaosRun(config).run();
            summaries.add(result.summary() + " | seed " + runSeed + " | " + result.reportDir());
            allValid &= result.verdicts().valid();
        }
        System.out.println();
        summaries.forEach(System.out::println);
        System.exit(allValid ? 0 : 1);
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            fail(flag + " needs a value");
        }
        return args[i];
    }

    private static void fail(String message) {
        System.err.println("chaos: " + message);
        System.exit(2);
    }
}
