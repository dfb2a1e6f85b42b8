package dev.flotilla.chaos.report;

import dev.flotilla.chaos.checker.KeyVerdict;
import dev.flotilla.chaos.checker.SetCheck;
import java.util.List;
import java.util.Map;

/**
 * Everything the run concluded. {@code valid} is true only when every check passed: an UNKNOWN
 * anywhere is not a pass, and neither is a run whose faults could not be injected as intended
 * ({@code harnessErrors}).
 */
public record Verdicts(boolean valid, String linearizability, int keys, int keysLinearizable,
                       int keysNotLinearizable, int keysUnknown, List<KeyVerdict> problems,
                       SetCheck.Result set, DigestCheck digests, HealRecovery recovery, List<String> harnessErrors) {

    /** Combines the per-key search results with the other checks. */
    public static Verdicts of(Map<String, KeyVerdict> perKey, SetCheck.Result set, DigestCheck digests,
                              HealRecovery recovery, List<String> harnessErrors) {
        int ok = 0;
        int bad = 0;
        int unknown = 0;
        List<KeyVerdict> problems = new java.util.ArrayList<>();
        for (KeyVerdict v : perKey.values()) {
            if (v instanceof KeyVerdict.Linearizable) {
                ok++;
            } else if (v instanceof KeyVerdict.NotLinearizable) {
                bad++;
                problems.add(v);
            } else {
                unknown++;
                problems.add(v);
            }
        }
        String lin = bad > 0 ? "FAIL" : unknown > 0 ? "UNKNOWN" : "PASS";
        boolean valid = lin.equals("PASS") && set.verdict() == SetCheck.Verdict.PASS
                && digests.verdict() == DigestCheck.Verdict.PASS && harnessErrors.isEmpty();
        return new Verdicts(valid, lin, perKey.size(), ok, bad, unknown, problems, set, digests, recovery,
                List.copyOf(harnessErrors));
    }
}
