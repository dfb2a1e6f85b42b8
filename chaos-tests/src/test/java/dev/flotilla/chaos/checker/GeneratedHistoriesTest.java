package dev.flotilla.chaos.checker;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.history.VmState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Histories made by running the register for real at random linearization points inside each op's
 * window: every one is linearizable by construction, so the checker must say so.
 */
class GeneratedHistoriesTest {

    private record Planned(int client, OpKind kind, long invoke, long complete, long point, boolean unknown,
                           boolean takesEffect) { }

    static History generate(Random rnd, String key, int count, int clients) {
        return generate(rnd, key, count, clients, 10);
    }

    static History generate(Random rnd, String key, int count, int clients, int unknownOneIn) {
        List<Planned> plans = new ArrayList<>();
        long[] free = new long[clients];
        for (int i = 0; i < count; i++) {
            int c = rnd.nextInt(clients);
            long invoke = free[c] + rnd.nextInt(20);
            long complete = invoke + 1 + rnd.nextInt(60);
            long point = invoke + rnd.nextInt((int) (complete - invoke + 1));
            boolean unknown = unknownOneIn > 0 && rnd.nextInt(unknownOneIn) == 0;
            OpKind kind = OpKind.values()[rnd.nextInt(OpKind.values().length)];
            plans.add(new Planned(c, kind, invoke, complete, point, unknown, !unknown || rnd.nextBoolean()));
            free[c] = complete + 1;
        }
        List<Planned> byPoint = new ArrayList<>(plans);
        byPoint.sort(Comparator.comparingLong(Planned::point));
        VmState state = VmState.ABSENT;
        List<Op> ops = new ArrayList<>();
        for (Planned p : byPoint) {
            int status;
            VmState read = null;
            VmState next = state;
            switch (p.kind) {
                case CREATE -> { status = 202; next = state == VmState.ABSENT ? VmState.RUNNING : state; }
                case START -> { status = state == VmState.ABSENT ? 404 : state == VmState.RUNNING ? 409 : 202;
                    next = status == 202 ? VmState.RUNNING : state; }
                case STOP -> { status = state == VmState.ABSENT ? 404 : state == VmState.STOPPED ? 409 : 202;
                    next = status == 202 ? VmState.STOPPED : state; }
                case DELETE -> { status = state == VmState.ABSENT ? 404 : 202; next = VmState.ABSENT; }
                default -> { status = 200; read = state; }
            }
            if (p.takesEffect) {
                state = next;
            }
            Outcome outcome = p.unknown ? Outcome.UNKNOWN : status >= 400 ? Outcome.FAIL : Outcome.OK;
            ops.add(new Op(ops.size(), p.client, "n1", "register", key, p.kind, p.invoke * 1000, p.complete * 1000,
                    outcome, outcome == Outcome.OK ? read : null, p.unknown ? 0 : status, null));
        }
        finalState = state;
        return new History(ops);
    }

    /** The register's state after the last generated history in the generator's own order. */
    static VmState finalState;

    @Test
    void aFinalReadOfTheWrongStateIsAlwaysCaught() {
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        System.out.println("GeneratedHistoriesTest wrong-final-read seed " + seed);
        Random rnd = new Random(seed);
        Linearizability checker = new Linearizability(new VmLifecycle(), Linearizability.Budget.standard());
        for (int round = 0; round < 100; round++) {
            History h = generate(rnd, "vm", 20 + rnd.nextInt(100), 2 + rnd.nextInt(5), 0);
            VmState wrong = VmState.values()[(finalState.ordinal() + 1 + rnd.nextInt(2)) % 3];
            long end = h.ops().stream().mapToLong(Op::completeNanos).max().orElse(0) + 1000;
            List<Op> ops = new ArrayList<>(h.ops());
            // Concurrent last writes can leave more than one final state possible, so first pin it with a
            // read of the generator's own final state, then read something else with no write between.
            ops.add(new Op(ops.size(), 99, "n1", "final", "vm", OpKind.READ, end, end + 1000, Outcome.OK, finalState,
                    200, null));
            ops.add(new Op(ops.size(), 99, "n1", "final", "vm", OpKind.READ, end + 2000, end + 3000, Outcome.OK, wrong,
                    200, null));
            Map<String, KeyVerdict> v = checker.check(new History(ops));
            assertInstanceOf(KeyVerdict.NotLinearizable.class, v.get("vm"), "seed " + seed + " round " + round
                    + ": a final read of " + wrong + " after a history ending in " + finalState + " was judged " + v);
        }
    }

    @Test
    void everyGeneratedHistoryIsLinearizable() {
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        System.out.println("GeneratedHistoriesTest seed " + seed);
        Random rnd = new Random(seed);
        Linearizability checker = new Linearizability(new VmLifecycle(), Linearizability.Budget.standard());
        for (int round = 0; round < 200; round++) {
            History h = generate(rnd, "vm-" + round, 20 + rnd.nextInt(180), 2 + rnd.nextInt(6));
            Map<String, KeyVerdict> v = checker.check(h);
            assertInstanceOf(KeyVerdict.Linearizable.class, v.get("vm-" + round),
                    "seed " + seed + " round " + round + ": a history linearizable by construction was judged "
                            + v + "\n" + h.byInvocation());
        }
    }
}
