package dev.flotilla.node.control;

import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Which registered nodes the leader should declare down or up again. The leader already hears from
 * every follower on each Raft heartbeat, so liveness costs no log entries: only a change of verdict is
 * committed. Pure: it reads how long each follower has been silent and returns the changes.
 */
public final class Liveness {

    private Liveness() {}

    /** A node whose recorded state is wrong: commit SetNodeState(nodeId, state). */
    public record Verdict(String nodeId, NodeState state, String reason) {}

    /**
     * @param nodes       the registered nodes
     * @param silentForMs per Raft follower, milliseconds since its last answer to the leader; a node
     *                    absent from it (not a Raft member, or the leader itself) is left as it is,
     *                    except the leader, which is up by definition
     * @param leaderId    this node, the leader
     * @param downAfterMs silence after which a node is down ({@code node_down_after_ms})
     */
    public static List<Verdict> judge(List<NodeRecord> nodes, Map<String, Long> silentForMs, String leaderId, long downAfterMs) {
        List<NodeRecord> sorted = new ArrayList<>(nodes);
        sorted.sort(Comparator.comparing(NodeRecord::getId));
        List<Verdict> out = new ArrayList<>();
        for (NodeRecord n : sorted) {
            NodeState now = n.getState();
            if (n.getId().equals(leaderId)) {
                if (now != NodeState.NODE_UP) {
                    out.add(new Verdict(n.getId(), NodeState.NODE_UP, "it leads the cluster"));
                }
                continue;
            }
            Long silent = silentForMs.get(n.getId());
            if (silent == null) {
                continue;
            }
            if (silent >= downAfterMs && now != NodeState.NODE_DOWN) {
                out.add(new Verdict(n.getId(), NodeState.NODE_DOWN, "no answer to the leader for " + silent
                        + " ms (node_down_after_ms is " + downAfterMs + ")"));
            } else if (silent < downAfterMs && now == NodeState.NODE_DOWN) {
                out.add(new Verdict(n.getId(), NodeState.NODE_UP, "answers the leader again (last answer "
                        + silent + " ms ago)"));
            }
        }
        return out;
    }
}
