package dev.flotilla.chaos.nemesis;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import dev.flotilla.chaos.cluster.Command;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Removes a node from the group with {@code flotilla cluster remove-peer} and stops it; the heal wipes
 * its storage, starts it with --join semantics (an empty group) and adds it back with {@code add-peer}.
 */
public record Membership() implements Fault {
    private static final long CLI_TIMEOUT = 60_000;

    @Override
    public String kind() {
        return "membership";
    }

    @Override
    public Injected inject(ClusterUnderTest cluster, Random rnd) {
        String node = Fault.random(cluster.nodeIds(), rnd);
        Command.Result removed = admin(cluster, node, List.of("cluster", "remove-peer", node));
        cluster.kill(node);
        String detail = "remove-peer " + node + ": " + describe(removed) + "; node stopped";
        return new Simple(node, detail, () -> add(cluster, node));
    }

    private static String add(ClusterUnderTest cluster, String node) {
        long t0 = System.nanoTime();
        cluster.restartEmpty(node);
        String added = addUntilMember(cluster, node);
        cluster.markJoined(node);
        return "empty storage, add-peer: " + added + "; " + Restart.waitServing(cluster, node, t0);
    }

    /**
     * add-peer as an operator runs it: a change that did not finish in time (the new member is still
     * catching up on a loaded host) may still finish, so look at the members, and run it again if the
     * node is not among them. At most four tries.
     */
    private static String addUntilMember(ClusterUnderTest cluster, String node) {
        List<String> add = List.of("cluster", "add-peer", node, cluster.raftAddress(node));
        NemesisError last = null;
        for (int attempt = 1; attempt <= 4; attempt++) {
            try {
                return describe(admin(cluster, node, add)) + (attempt > 1 ? " (attempt " + attempt + ")" : "");
            } catch (NemesisError e) {
                last = e;
            }
            try {
                if (admin(cluster, node, List.of("cluster", "members")).stdout().contains(node)) {
                    return "a member after " + attempt + " add-peer attempt(s) that timed out";
                }
            } catch (NemesisError e) {
                last = e;
            }
        }
        throw last;
    }

    /** Takes a node that will not start out of the group and brings it back empty. */
    static String replace(ClusterUnderTest cluster, String node) {
        Command.Result removed = admin(cluster, node, List.of("cluster", "remove-peer", node));
        cluster.kill(node);
        return "remove-peer: " + describe(removed) + "; " + add(cluster, node);
    }

    /** Runs a cluster admin command against every other node's API (the CLI tries them in turn). */
    private static Command.Result admin(ClusterUnderTest cluster, String node, List<String> args) {
        List<String> argv = new ArrayList<>(args);
        for (String other : cluster.nodeIds()) {
            if (!other.equals(node)) {
                argv.add("--server");
                argv.add(cluster.apiAddress(other));
            }
        }
        Command.Result r = cluster.cli(argv, CLI_TIMEOUT);
        if (!r.ok()) {
            throw new NemesisError("flotilla " + String.join(" ", argv) + " exited " + r.exitCode() + ": "
                    + (r.stderr().isBlank() ? r.stdout() : r.stderr()).strip());
        }
        return r;
    }

    private static String describe(Command.Result r) {
        String out = r.stdout().strip();
        return out.isEmpty() ? "ok" : out.replace('\n', ' ');
    }
}
