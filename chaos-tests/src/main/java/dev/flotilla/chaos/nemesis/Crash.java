package dev.flotilla.chaos.nemesis;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import java.util.Random;

/** SIGKILL a node (a random one or the leader); the heal restarts it on its own data and waits until it serves. */
public record Crash(boolean leader) implements Fault {

    @Override
    public String kind() {
        return leader ? "kill-leader" : "kill";
    }

    @Override
    public Injected inject(ClusterUnderTest cluster, Random rnd) {
        Target t = leader ? Fault.leaderOr(cluster, rnd) : new Target(Fault.random(cluster.nodeIds(), rnd), "random");
        cluster.kill(t.node());
        return new Simple(t.node(), "SIGKILL (" + t.why() + ")", () -> Restart.andWait(cluster, t.node()));
    }
}
