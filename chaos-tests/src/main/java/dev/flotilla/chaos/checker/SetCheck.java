package dev.flotilla.chaos.checker;

import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.Op;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The set workload's check: every acknowledged create of a unique id must be in the final read, and
 * nothing may be there that was never attempted or that definitely failed.
 */
public final class SetCheck {

    /** What the final read showed against what the clients were told. */
    public record Result(Verdict verdict, int attempted, int acknowledged, int failed, int unknown,
                         int unknownPresent, List<String> lost, List<String> unexpected, String note) {
    }

    /** PASS, FAIL, or UNKNOWN when there was no final read to compare with. */
    public enum Verdict { PASS, FAIL, UNKNOWN }

    private SetCheck() {
    }

    /**
     * @param history   ops of every workload; only the "set" workload's creates are considered
     * @param finalRead the ids present in the final read (restricted by the caller to this run's set
     *                  prefix), or empty if no final read succeeded
     */
    public static Result check(History history, Optional<Set<String>> finalRead) {
        Set<String> attempted = new TreeSet<>();
        Set<String> acked = new TreeSet<>();
        Set<String> failed = new TreeSet<>();
        Set<String> unknown = new TreeSet<>();
        for (Op op : history.ops()) {
            if (!"set".equals(op.workload()) || op.kind() != OpKind.CREATE) {
                continue;
            }
            attempted.add(op.key());
            switch (op.outcome()) {
                case OK -> acked.add(op.key());
                case FAIL -> failed.add(op.key());
                case UNKNOWN -> unknown.add(op.key());
            }
        }
        if (finalRead.isEmpty()) {
            return new Result(Verdict.UNKNOWN, attempted.size(), acked.size(), failed.size(), unknown.size(), 0,
                    List.of(), List.of(), "no final read succeeded, so nothing can be said about lost creates");
        }
        Set<String> seen = finalRead.get();
        List<String> lost = new ArrayList<>();
        for (String id : acked) {
            if (!seen.contains(id)) {
                lost.add(id);
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String id : new TreeSet<>(seen)) {
            if (!attempted.contains(id) || (failed.contains(id) && !acked.contains(id) && !unknown.contains(id))) {
                unexpected.add(id);
            }
        }
        int unknownPresent = (int) unknown.stream().filter(seen::contains).count();
        Verdict verdict = lost.isEmpty() && unexpected.isEmpty() ? Verdict.PASS : Verdict.FAIL;
        String note = verdict == Verdict.PASS ? "every acknowledged create is present"
                : lost.size() + " acknowledged create(s) lost, " + unexpected.size()
                        + " id(s) present that were never attempted or definitely failed";
        return new Result(verdict, attempted.size(), acked.size(), failed.size(), unknown.size(), unknownPresent,
                lost, unexpected, note);
    }
}
