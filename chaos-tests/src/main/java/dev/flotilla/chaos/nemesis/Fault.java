package dev.flotilla.chaos.nemesis;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import java.util.List;
import java.util.Random;

/** One kind of fault a run can inject: it starts, stays for a while, and is healed. */
public interface Fault {

    /** The kind's name as given in --faults and shown in the report. */
    String kind();

    /** Injects the fault now. */
    Injected inject(ClusterUnderTest cluster, Random rnd);

    /** A fault in force: what it hit, how, and how to heal it. */
    interface Injected {
        /** The nodes hit, as the chart labels them. */
        String targets();

        /** How it was done, for faults.jsonl. */
        String detail();

        /** Undoes the fault and returns what the heal found (e.g. "restarted, healthy after 3.1 s"). */
        String heal();
    }

    /** A fault whose heal is a simple action. */
    record Simple(String targets, String detail, java.util.function.Supplier<String> healer) implements Injected {
        @Override
        public String heal() {
            return healer.get();
        }
    }

    /** The node the cluster calls leader, or a random node when none is agreed on (said in the detail). */
    static Target leaderOr(ClusterUnderTest cluster, Random rnd) {
        return cluster.leader().map(l -> new Target(l, "leader"))
                .orElseGet(() -> new Target(random(cluster.nodeIds(), rnd), "no agreed leader; random node"));
    }

    /** A random node. */
    static String random(List<String> ids, Random rnd) {
        return ids.get(rnd.nextInt(ids.size()));
    }

    /** A chosen node and why it was chosen. */
    record Target(String node, String why) {
    }
}
