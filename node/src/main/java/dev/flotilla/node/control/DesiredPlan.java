package dev.flotilla.node.control;

import dev.flotilla.proto.VmSpec;
import dev.flotilla.statemachine.SpecRules;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What applying a desired-state file would do, as a pure function of the file and the registry:
 * create what is missing, update what differs (UPSERT), leave what matches, and with prune delete the
 * VMs of the file's tenants that the file no longer lists. Warm-pool VMs belong to no user and are never pruned.
 */
public final class DesiredPlan {

    private DesiredPlan() {}

    /** A VM as the registry holds it, as far as the plan cares. */
    public record Current(String jobId, String tenant, VmSpec spec, boolean warm) {}

    /** What happens to one VM. */
    public enum Kind { CREATE, UPDATE, DELETE, UNCHANGED }

    /** One step; {@code entry} is null for a delete. */
    public record Step(Kind kind, String jobId, String tenant, DesiredFile.Entry entry, String why) {}

    public static List<Step> plan(List<DesiredFile.Entry> desired, List<Current> current, boolean prune) {
        Map<String, Current> byId = new TreeMap<>();
        current.forEach(c -> byId.put(c.jobId(), c));
        List<Step> out = new ArrayList<>();
        Set<String> tenants = new TreeSet<>();
        Set<String> listed = new TreeSet<>();
        List<DesiredFile.Entry> sorted = new ArrayList<>(desired);
        sorted.sort(Comparator.comparing(DesiredFile.Entry::jobId));
        for (DesiredFile.Entry e : sorted) {
            tenants.add(e.tenant());
            listed.add(e.jobId());
            Current c = byId.get(e.jobId());
            if (c == null) {
                out.add(new Step(Kind.CREATE, e.jobId(), e.tenant(), e, "not in the registry"));
            } else if (!c.tenant().equals(e.tenant())) {
                out.add(new Step(Kind.UPDATE, e.jobId(), e.tenant(), e, "tenant differs (" + c.tenant()
                        + " in the registry); the cluster will refuse this, a VM cannot change tenant"));
            } else if (!SpecRules.normalize(c.spec()).equals(e.spec())) {
                out.add(new Step(Kind.UPDATE, e.jobId(), e.tenant(), e, "spec differs"));
            } else {
                out.add(new Step(Kind.UNCHANGED, e.jobId(), e.tenant(), e, "matches"));
            }
        }
        if (prune) {
            for (Current c : byId.values()) {
                if (!c.warm() && tenants.contains(c.tenant()) && !listed.contains(c.jobId())) {
                    out.add(new Step(Kind.DELETE, c.jobId(), c.tenant(), null, "tenant " + c.tenant() + " is in the file, this VM is not"));
                }
            }
        }
        return List.copyOf(out);
    }
}
