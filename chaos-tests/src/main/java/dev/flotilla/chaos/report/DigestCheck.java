package dev.flotilla.chaos.report;

import java.util.Map;
import java.util.TreeMap;

/** Whether every replica reported the same state digest at the same applied index after the heal. */
public record DigestCheck(Verdict verdict, Map<String, String> digests, Map<String, Long> appliedIndex,
                          String note) {

    /** PASS, FAIL, or UNKNOWN when some node could not be asked. */
    public enum Verdict { PASS, FAIL, UNKNOWN }

    public DigestCheck {
        digests = new TreeMap<>(digests);
        appliedIndex = new TreeMap<>(appliedIndex);
    }

    /** Judges the answers of all nodes; {@code expectedNodes} is how many should have answered. */
    public static DigestCheck judge(int expectedNodes, Map<String, String> digests, Map<String, Long> applied) {
        if (digests.size() < expectedNodes) {
            return new DigestCheck(Verdict.UNKNOWN, digests, applied,
                    "only " + digests.size() + " of " + expectedNodes + " nodes answered GET /cluster");
        }
        long distinctDigests = digests.values().stream().distinct().count();
        long distinctIndex = applied.values().stream().distinct().count();
        if (distinctDigests == 1 && distinctIndex <= 1) {
            return new DigestCheck(Verdict.PASS, digests, applied, "equal digests at one applied index");
        }
        if (distinctIndex > 1) {
            return new DigestCheck(Verdict.FAIL, digests, applied,
                    "replicas did not converge to one applied index within the quiet period");
        }
        return new DigestCheck(Verdict.FAIL, digests, applied, "replicas at the same applied index differ in digest");
    }
}
