package dev.flotilla.chaos.nemesis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every fault kind by the name --faults uses; "all" names them all. */
public final class FaultCatalog {
    private static final Map<String, Fault> KINDS = new LinkedHashMap<>();

    static {
        for (Fault f : List.of(new Crash(false), new Crash(true), new Freeze(false), new Freeze(true),
                new Partition(Partition.Shape.ONE), new Partition(Partition.Shape.LEADER),
                new Partition(Partition.Shape.HALVES), new Partition(Partition.Shape.RING),
                new ClockFault(ClockFault.Mode.SKEW), new ClockFault(ClockFault.Mode.BUMP),
                new ClockFault(ClockFault.Mode.STROBE), new Corruption(), new Membership())) {
            KINDS.put(f.kind(), f);
        }
    }

    private FaultCatalog() {
    }

    /** Every kind's name. */
    public static List<String> names() {
        return List.copyOf(KINDS.keySet());
    }

    /** The faults a comma-separated list names: a kind, "all", or a family prefix such as "partition" or "clock". */
    public static List<Fault> parse(String list) {
        List<Fault> out = new ArrayList<>();
        for (String raw : list.split(",")) {
            String name = raw.strip();
            if (name.isEmpty()) {
                continue;
            }
            List<Fault> matched = new ArrayList<>();
            if (KINDS.containsKey(name)) {
                matched.add(KINDS.get(name));
            } else {
                for (Map.Entry<String, Fault> e : KINDS.entrySet()) {
                    if (name.equals("all") || e.getKey().startsWith(name + "-")) {
                        matched.add(e.getValue());
                    }
                }
            }
            if (matched.isEmpty()) {
                throw new IllegalArgumentException("unknown fault '" + name + "'; known: all, " + String.join(", ", names())
                        + " (a prefix such as 'partition' or 'clock' names a family)");
            }
            for (Fault f : matched) {
                if (!out.contains(f)) {
                    out.add(f);
                }
            }
        }
        return out;
    }

    /** True when any of the faults moves clocks, so the nodes must run under libfaketime. */
    public static boolean needsFaketime(List<Fault> faults) {
        return faults.stream().anyMatch(f -> f instanceof ClockFault);
    }
}
