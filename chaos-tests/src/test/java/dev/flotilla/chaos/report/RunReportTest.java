package dev.flotilla.chaos.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flotilla.chaos.checker.KeyVerdict;
import dev.flotilla.chaos.checker.Linearizability;
import dev.flotilla.chaos.checker.SetCheck;
import dev.flotilla.chaos.checker.VmLifecycle;
import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.history.VmState;
import dev.flotilla.chaos.nemesis.FaultTimeline;
import dev.flotilla.chaos.nemesis.FaultWindow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportTest {
    private static final long S = 1_000_000_000L;

    private static Op op(long id, OpKind kind, long invoke, long complete, Outcome outcome, VmState read, int status) {
        return new Op(id, (int) (id % 4), "n1", "register", "vm-" + (id % 3), kind, invoke, complete, outcome,
                read, status, outcome == Outcome.OK ? null : "x");
    }

    @Test
    void writesEveryFileAndASummaryThatCountsWhatHappened(@TempDir Path dir) throws Exception {
        List<Op> ops = new ArrayList<>();
        ops.add(new Op(100, 0, "n1", "set", "s-1", OpKind.CREATE, S / 10, S / 5, Outcome.OK, null, 202, null));
        for (int i = 0; i < 3; i++) {
            ops.add(op(ops.size(), OpKind.CREATE, i * S / 2, i * S / 2 + 5_000_000, Outcome.OK, null, 202));
        }
        ops.add(op(ops.size(), OpKind.STOP, 3 * S, 8 * S, Outcome.UNKNOWN, null, 0));
        ops.add(op(ops.size(), OpKind.START, 4 * S, 4 * S + 2_000_000, Outcome.FAIL, null, 409));
        ops.add(op(ops.size(), OpKind.READ, 9 * S, 9 * S + 3_000_000, Outcome.OK, VmState.RUNNING, 200));
        ops.add(op(ops.size(), OpKind.DELETE, 10 * S, 10 * S + 4_000_000, Outcome.OK, null, 202));
        History history = new History(ops);

        AtomicLong clock = new AtomicLong();
        FaultTimeline timeline = new FaultTimeline(clock::get);
        clock.set(3 * S);
        long f = timeline.begin("partition-halves", "n1 | n2 n3", "iptables DROP both ways");
        clock.set(7 * S);
        long k = timeline.begin("kill", "n2", null);
        clock.set(8 * S);
        timeline.end(f, "healed");
        clock.set(9 * S);
        timeline.end(k, "restarted");

        Map<String, KeyVerdict> lin = new Linearizability(new VmLifecycle(), Linearizability.Budget.standard())
                .check(history);
        SetCheck.Result set = SetCheck.check(history, Optional.of(Set.of("s-1")));
        DigestCheck digests = DigestCheck.judge(3, Map.of("n1", "ab", "n2", "ab", "n3", "ab"),
                Map.of("n1", 10L, "n2", 10L, "n3", 10L));
        List<FaultWindow> faults = timeline.windows();
        Verdicts verdicts = Verdicts.of(lin, set, digests, HealRecovery.measure(history, faults), List.of());

        String summary = RunReport.write(dir, "run-1", history, faults, verdicts, 11 * S);

        assertTrue(verdicts.valid(), "a clean history should be valid: " + verdicts);
        assertTrue(summary.contains("8 ops (ok 6 / fail 1 / unknown 1)"), summary);
        assertTrue(summary.contains("kill=1 partition-halves=1"), summary);
        assertTrue(summary.contains("linearizable PASS"), summary);
        // Heal at 8 s and 9 s; the next successful write completes at 10.004 s.
        assertEquals(List.of(2004L, 1004L), verdicts.recovery().millisPerHeal());
        assertEquals(1004L, verdicts.recovery().finalHealMillis());

        assertEquals(8, Files.readAllLines(dir.resolve("history.jsonl")).size());
        assertEquals(2, Files.readAllLines(dir.resolve("faults.jsonl")).size());
        JsonNode v = new ObjectMapper().readTree(dir.resolve("verdicts.json").toFile());
        assertEquals("PASS", v.get("linearizability").asText());
        assertEquals(summary, Files.readString(dir.resolve("summary.txt")).strip());

        String svg = Files.readString(dir.resolve("latency.svg"));
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("latency.svg").toFile());
        assertEquals("svg", doc.getDocumentElement().getNodeName(), "the chart must be well-formed SVG");
        assertTrue(svg.contains("partition-halves n1 | n2 n3"), "the partition window is labelled");
        assertEquals(8, doc.getElementsByTagName("circle").getLength() - 3, "one dot per op plus three legend dots");
    }

    @Test
    void aNotLinearizableKeyMakesTheRunInvalidAndIsNamed(@TempDir Path dir) throws Exception {
        History history = new History(List.of(
                op(0, OpKind.CREATE, 0, 10, Outcome.OK, null, 202),
                new Op(1, 1, "n2", "register", "vm-0", OpKind.READ, 20, 30, Outcome.OK, VmState.ABSENT, 404, null)));
        Map<String, KeyVerdict> lin = new Linearizability(new VmLifecycle(), Linearizability.Budget.standard())
                .check(history);
        Verdicts verdicts = Verdicts.of(lin, SetCheck.check(history, Optional.of(Set.of())),
                DigestCheck.judge(3, Map.of("n1", "a", "n2", "b", "n3", "a"), Map.of("n1", 5L, "n2", 5L, "n3", 5L)),
                HealRecovery.measure(history, List.of()), List.of());
        String summary = RunReport.write(dir, "run-2", history, List.of(), verdicts, S);
        assertFalse(verdicts.valid());
        assertTrue(summary.contains("NOT VALID") && summary.contains("linearizable FAIL"), summary);
        assertEquals(DigestCheck.Verdict.FAIL, verdicts.digests().verdict());
        JsonNode v = new ObjectMapper().readTree(dir.resolve("verdicts.json").toFile());
        assertEquals("not-linearizable", v.get("problems").get(0).get("result").asText());
        assertEquals("vm-0", v.get("problems").get(0).get("key").asText());
    }
}
