package dev.flotilla.chaos.report;

import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.nemesis.FaultWindow;
import java.util.ArrayList;
import java.util.List;

/** How long after each heal the first write succeeded: the cluster's time to recover from a fault. */
public record HealRecovery(List<Long> millisPerHeal, long maxMillis, long finalHealMillis, int healsWithoutWrite) {

    /** Measures, for the end of each fault, the time until a write next completed successfully. */
    public static HealRecovery measure(History history, List<FaultWindow> faults) {
        List<Long> writes = new ArrayList<>();
        for (Op op : history.ops()) {
            if (op.kind() != OpKind.READ && op.outcome() == Outcome.OK) {
                writes.add(op.completeNanos());
            }
        }
        writes.sort(Long::compare);
        List<Long> perHeal = new ArrayList<>();
        long max = -1;
        long last = -1;
        long lastEnd = -1;
        int without = 0;
        for (FaultWindow f : faults) {
            if (!f.ended()) {
                continue;
            }
            long first = firstAtOrAfter(writes, f.endNanos());
            if (first < 0) {
                without++;
                continue;
            }
            long ms = (first - f.endNanos()) / 1_000_000;
            perHeal.add(ms);
            max = Math.max(max, ms);
            if (f.endNanos() >= lastEnd) {
                lastEnd = f.endNanos();
                last = ms;
            }
        }
        return new HealRecovery(perHeal, max, last, without);
    }

    private static long firstAtOrAfter(List<Long> sorted, long t) {
        int lo = 0;
        int hi = sorted.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted.get(mid) < t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < sorted.size() ? sorted.get(lo) : -1;
    }
}
