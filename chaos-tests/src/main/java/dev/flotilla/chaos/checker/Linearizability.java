package dev.flotilla.chaos.checker;

import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Wing–Gong–Lowe linearizability search with Lowe's memoisation of (linearized set, state), as
 * Porcupine does it, applied per key (P-compositionality: a history is linearizable iff each key's
 * sub-history is). An op of unknown outcome has its completion at +infinity, so it may take effect at
 * any point after its invocation, or never.
 */
public final class Linearizability {

    /** Limits of one check: exhausting either gives {@link KeyVerdict.Unknown}, never a pass. */
    public record Budget(Duration time, long memoBytes) {
        /** Generous enough for a chaos run's per-key histories on a small machine. */
        public static Budget standard() {
            return new Budget(Duration.ofSeconds(60), 512L << 20);
        }
    }

    private final Model model;
    private final Budget budget;

    public Linearizability(Model model, Budget budget) {
        this.model = model;
        this.budget = budget;
    }

    /** Checks every key of the history within one shared budget; small keys go first. */
    public Map<String, KeyVerdict> check(History history) {
        Map<String, List<Op>> byKey = new LinkedHashMap<>();
        for (Op op : history.byInvocation()) {
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        List<String> keys = new ArrayList<>(byKey.keySet());
        keys.sort(Comparator.comparingInt((String k) -> byKey.get(k).size()).thenComparing(k -> k));
        long deadline = System.nanoTime() + budget.time().toNanos();
        Map<String, KeyVerdict> verdicts = new LinkedHashMap<>();
        for (String key : keys) {
            verdicts.put(key, checkKey(key, byKey.get(key), deadline));
        }
        return verdicts;
    }

    /** Checks the ops of one key against the model until the deadline (System.nanoTime). */
    public KeyVerdict checkKey(String key, List<Op> all, long deadline) {
        List<Op> ops = new ArrayList<>();
        for (Op op : all) {
            if (!VmLifecycle.irrelevant(op)) {
                ops.add(op);
            }
        }
        return new Search(key, ops, deadline).run();
    }

    /** One search over one key's ops: a doubly linked list of call/return events, walked and backtracked. */
    private final class Search {
        private static final int NIL = -1;
        private final String key;
        private final List<Op> ops;
        private final long deadline;
        // Events are numbered 0..2n-1; node 2n is the head sentinel.
        private final int[] next;
        private final int[] prev;
        private final int[] opOf;      // event -> op index
        private final boolean[] isCall;
        private final int[] returnOf;  // call event -> its return event
        private final int head;
        private final int words;

        private int deepest = -1;
        private int[] deepestOrder = new int[0];
        private int deepestState;

        Search(String key, List<Op> ops, long deadline) {
            this.key = key;
            this.ops = ops;
            this.deadline = deadline;
            int n = ops.size();
            this.words = Math.max(1, (n + 63) / 64);
            record Event(int op, boolean call, long time) { }
            List<Event> events = new ArrayList<>(2 * n);
            for (int i = 0; i < n; i++) {
                Op op = ops.get(i);
                events.add(new Event(i, true, op.invokeNanos()));
                long ret = op.outcome() == Outcome.UNKNOWN ? Long.MAX_VALUE : op.completeNanos();
                events.add(new Event(i, false, ret));
            }
            // At equal times calls come first: touching ops are taken as concurrent, the lenient reading.
            events.sort(Comparator.comparingLong(Event::time)
                    .thenComparing(e -> e.call() ? 0 : 1)
                    .thenComparingInt(Event::op));
            int size = 2 * n + 1;
            next = new int[size];
            prev = new int[size];
            opOf = new int[size];
            isCall = new boolean[size];
            returnOf = new int[size];
            head = 2 * n;
            int[] callEvent = new int[n];
            int previous = head;
            for (int e = 0; e < events.size(); e++) {
                Event ev = events.get(e);
                opOf[e] = ev.op();
                isCall[e] = ev.call();
                if (ev.call()) {
                    callEvent[ev.op()] = e;
                } else {
                    returnOf[callEvent[ev.op()]] = e;
                }
                next[previous] = e;
                prev[e] = previous;
                previous = e;
            }
            next[previous] = NIL;
        }

        private void lift(int call) {
            unlink(call);
            unlink(returnOf[call]);
        }

        private void unlink(int e) {
            next[prev[e]] = next[e];
            if (next[e] != NIL) {
                prev[next[e]] = prev[e];
            }
        }

        private void unlift(int call) {
            relink(returnOf[call]);
            relink(call);
        }

        private void relink(int e) {
            next[prev[e]] = e;
            if (next[e] != NIL) {
                prev[next[e]] = e;
            }
        }

        KeyVerdict run() {
            int n = ops.size();
            if (n == 0) {
                return new KeyVerdict.Linearizable(key, 0);
            }
            long[] linearized = new long[words];
            Set<Memo> memo = new HashSet<>();
            long bytesPerMemo = 64L + 8L * words;
            int[] stackCall = new int[n];
            int[] stackState = new int[n];
            int depth = 0;
            int state = model.initial();
            int entry = next[head];
            long steps = 0;
            while (next[head] != NIL) {
                if ((++steps & 0xFFF) == 0) {
                    if (System.nanoTime() > deadline) {
                        return new KeyVerdict.Unknown(key, n, "time budget of " + budget.time().toSeconds()
                                + " s spent after " + steps + " steps, " + memo.size() + " memoised configurations");
                    }
                    if (memo.size() * bytesPerMemo > budget.memoBytes()) {
                        return new KeyVerdict.Unknown(key, n, "memory budget of " + (budget.memoBytes() >> 20)
                                + " MiB spent: " + memo.size() + " memoised configurations");
                    }
                }
                if (isCall[entry]) {
                    int op = opOf[entry];
                    int after = model.step(state, ops.get(op));
                    if (after != Model.ILLEGAL) {
                        long[] candidate = linearized.clone();
                        candidate[op >>> 6] |= 1L << (op & 63);
                        if (memo.add(new Memo(candidate, after))) {
                            stackCall[depth] = entry;
                            stackState[depth] = state;
                            depth++;
                            if (depth > deepest) {
                                deepest = depth;
                                deepestOrder = Arrays.copyOf(stackCall, depth);
                                deepestState = after;
                            }
                            linearized = candidate;
                            state = after;
                            lift(entry);
                            entry = next[head];
                            continue;
                        }
                    }
                    entry = next[entry];
                } else {
                    // A return whose call is not yet linearized: the prefix cannot be extended; backtrack.
                    if (depth == 0) {
                        return failure();
                    }
                    depth--;
                    int call = stackCall[depth];
                    state = stackState[depth];
                    int op = opOf[call];
                    linearized[op >>> 6] &= ~(1L << (op & 63));
                    unlift(call);
                    entry = next[call];
                }
            }
            return new KeyVerdict.Linearizable(key, n);
        }

        private KeyVerdict failure() {
            List<String> order = new ArrayList<>();
            boolean[] done = new boolean[ops.size()];
            for (int call : deepestOrder) {
                done[opOf[call]] = true;
                order.add(ops.get(opOf[call]).toString());
            }
            // The ops that could have come next: not linearized, invoked before the earliest pending return.
            long earliestReturn = Long.MAX_VALUE;
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                if (!done[i] && op.outcome() != Outcome.UNKNOWN) {
                    earliestReturn = Math.min(earliestReturn, op.completeNanos());
                }
            }
            List<String> candidates = new ArrayList<>();
            for (int i = 0; i < ops.size(); i++) {
                if (!done[i] && ops.get(i).invokeNanos() <= earliestReturn) {
                    candidates.add(ops.get(i).toString());
                }
            }
            int stuck = deepest <= 0 ? model.initial() : deepestState;
            return new KeyVerdict.NotLinearizable(key, ops.size(), order, model.describe(stuck), candidates);
        }
    }

    /** A memoised configuration: which ops are linearized and the model state they lead to. */
    private record Memo(long[] linearized, int state) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Memo m && m.state == state && Arrays.equals(m.linearized, linearized);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(linearized) + state;
        }
    }
}
