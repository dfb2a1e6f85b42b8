package dev.flotilla.chaos.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.nemesis.FaultWindow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes one run's report directory: history.jsonl, faults.jsonl, verdicts.json, latency.svg and
 * summary.txt (the one line a person reads first).
 */
public final class RunReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RunReport() {
    }

    /** Writes every file into {@code dir} (created if needed) and returns the summary line. */
    public static String write(Path dir, String runName, History history, List<FaultWindow> faults,
                               Verdicts verdicts, long durationNanos) {
        try {
            Files.createDirectories(dir);
            history.writeJsonLines(dir.resolve("history.jsonl"));
            writeFaults(dir.resolve("faults.jsonl"), faults);
            JSON.writeValue(dir.resolve("verdicts.json").toFile(), verdicts);
            String summary = summary(runName, history, faults, verdicts);
            Files.writeString(dir.resolve("latency.svg"),
                    LatencyChart.svg(runName + ": " + (verdicts.valid() ? "VALID" : "NOT VALID"),
                            history.ops(), faults, durationNanos), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("summary.txt"), summary + System.lineSeparator(), StandardCharsets.UTF_8);
            return summary;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the chaos report into " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void writeFaults(Path file, List<FaultWindow> faults) throws IOException {
        ObjectMapper oneLine = new ObjectMapper();
        StringBuilder b = new StringBuilder();
        for (FaultWindow f : faults) {
            b.append(oneLine.writeValueAsString(f)).append('\n');
        }
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }

    /** The one summary line: ops and outcomes, faults by kind, verdicts, recovery after heals. */
    public static String summary(String runName, History history, List<FaultWindow> faults, Verdicts v) {
        Map<String, Integer> byKind = new TreeMap<>();
        for (FaultWindow f : faults) {
            byKind.merge(f.kind(), 1, Integer::sum);
        }
        StringBuilder kinds = new StringBuilder();
        byKind.forEach((k, n) -> kinds.append(kinds.length() == 0 ? "" : " ").append(k).append('=').append(n));
        HealRecovery r = v.recovery();
        String recovery = r.millisPerHeal().isEmpty() ? "no write after any heal"
                : "max " + r.maxMillis() + " ms, after final heal " + r.finalHealMillis() + " ms";
        return String.format("%s: %s | %d ops (ok %d / fail %d / unknown %d) | faults: %s | linearizable %s "
                        + "(%d keys: %d ok, %d not, %d unknown) | set %s (%d acked, %d lost, %d unexpected) | digests %s"
                        + " | heal->first write %s%s",
                runName, v.valid() ? "VALID" : "NOT VALID", history.ops().size(), history.count(Outcome.OK),
                history.count(Outcome.FAIL), history.count(Outcome.UNKNOWN),
                kinds.length() == 0 ? "none" : kinds, v.linearizability(), v.keys(), v.keysLinearizable(),
                v.keysNotLinearizable(), v.keysUnknown(), v.set().verdict(), v.set().acknowledged(),
                v.set().lost().size(), v.set().unexpected().size(), v.digests().verdict(), recovery,
                v.harnessErrors().isEmpty() ? "" : " | HARNESS ERRORS: " + v.harnessErrors().size());
    }
}
