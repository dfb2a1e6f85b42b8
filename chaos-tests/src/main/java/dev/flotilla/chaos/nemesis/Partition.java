package dev.flotilla.chaos.nemesis;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import dev.flotilla.chaos.cluster.TestNetwork;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Network partitions made of iptables DROP rules inside the node namespaces; the heal flushes them. */
public record Partition(Shape shape) implements Fault {

    /** Which nodes stop hearing which. */
    public enum Shape {
        /** one random node cut off from all others, both ways */
        ONE("partition-one"),
        /** the leader cut off from all others, both ways */
        LEADER("partition-leader"),
        /** a random majority and minority, both ways */
        HALVES("partition-halves"),
        /** every node hears a majority, but each a different one: one-way drops around a ring */
        RING("partition-ring");

        final String kind;

        Shape(String kind) {
            this.kind = kind;
        }
    }

    @Override
    public String kind() {
        return shape.kind;
    }

    @Override
    public Injected inject(ClusterUnderTest cluster, Random rnd) {
        TestNetwork net = cluster.network();
        List<String> ids = new ArrayList<>(cluster.nodeIds());
        String targets;
        String detail;
        switch (shape) {
            case ONE, LEADER -> {
                Target t = shape == Shape.LEADER ? Fault.leaderOr(cluster, rnd)
                        : new Target(Fault.random(ids, rnd), "random");
                List<String> rest = new ArrayList<>(ids);
                rest.remove(t.node());
                net.partition(List.of(t.node()), rest);
                targets = t.node() + " | " + String.join(" ", rest);
                detail = "isolated " + t.node() + " (" + t.why() + ") both ways";
            }
            case HALVES -> {
                Collections.shuffle(ids, rnd);
                List<String> minority = ids.subList(0, ids.size() / 2);
                List<String> majority = ids.subList(ids.size() / 2, ids.size());
                net.partition(minority, majority);
                targets = String.join(" ", minority) + " | " + String.join(" ", majority);
                detail = "minority " + minority + " cut from majority " + majority + " both ways";
            }
            case RING -> {
                Collections.shuffle(ids, rnd);
                int n = ids.size();
                int hears = n / 2; // besides itself: with itself, a bare majority
                List<String> drops = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    // node i hears its `hears` predecessors only; what the others send it is dropped.
                    List<String> heard = new ArrayList<>();
                    for (int k = 1; k <= hears; k++) {
                        heard.add(ids.get((i - k + n) % n));
                    }
                    List<String> notHeard = new ArrayList<>(ids);
                    notHeard.remove(ids.get(i));
                    notHeard.removeAll(heard);
                    net.drop(ids.get(i), notHeard);
                    drops.add(ids.get(i) + "<-x-" + notHeard);
                }
                targets = "ring " + String.join(">", ids);
                detail = "one-way drops " + drops;
            }
            default -> throw new IllegalStateException("unhandled shape " + shape);
        }
        return new Simple(targets, detail, () -> {
            net.heal();
            return "iptables flushed";
        });
    }
}
