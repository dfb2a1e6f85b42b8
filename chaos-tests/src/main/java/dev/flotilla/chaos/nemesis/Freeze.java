package dev.flotilla.chaos.nemesis;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import java.util.Random;

/** SIGSTOP a node (random or the leader) so it hangs with its sockets open; the heal is SIGCONT. */
public record Freeze(boolean leader) implements Fault {

    @Override
    public String kind() {
        return leader ? "pause-leader" : "pause";
    }

    @Override
    public Injected inject(ClusterUnderTest cluster, Random rnd) {
        Target t = leader ? Fault.leaderOr(cluster, rnd) : new Target(Fault.random(cluster.nodeIds(), rnd), "random");
        cluster.pauseNode(t.node());
        return new Simple(t.node(), "SIGSTOP (" + t.why() + ")", () -> {
            cluster.resume(t.node());
            return "SIGCONT";
        });
    }
}
