package dev.flotilla.node.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LivenessTest {
    private static NodeRecord down(NodeRecord n) {
        return n.toBuilder().setState(NodeState.NODE_DOWN).build();
    }

    @Test
    void aFollowerSilentPastTheTimeoutIsDeclaredDownOnce() {
        List<NodeRecord> nodes = List.of(Fixtures.node("n1", 4, 4096), Fixtures.node("n2", 4, 4096), Fixtures.node("n3", 4, 4096));
        List<Liveness.Verdict> v = Liveness.judge(nodes, Map.of("n2", 3500L, "n3", 100L), "n1", 3000);
        assertEquals(1, v.size(), v.toString());
        assertEquals("n2", v.get(0).nodeId());
        assertEquals(NodeState.NODE_DOWN, v.get(0).state());
        // Already recorded down: nothing more to commit, however long the silence lasts.
        List<NodeRecord> after = List.of(nodes.get(0), down(nodes.get(1)), nodes.get(2));
        assertEquals(List.of(), Liveness.judge(after, Map.of("n2", 60_000L, "n3", 100L), "n1", 3000));
    }

    @Test
    void aDownNodeThatAnswersAgainIsUpAndTheLeaderIsAlwaysUp() {
        List<NodeRecord> nodes = List.of(down(Fixtures.node("n1", 4, 4096)), down(Fixtures.node("n2", 4, 4096)));
        List<Liveness.Verdict> v = Liveness.judge(nodes, Map.of("n2", 50L), "n1", 3000);
        assertEquals(List.of("n1", "n2"), v.stream().map(Liveness.Verdict::nodeId).toList());
        assertEquals(List.of(NodeState.NODE_UP, NodeState.NODE_UP), v.stream().map(Liveness.Verdict::state).toList());
    }

    @Test
    void aNodeTheLeaderDoesNotFollowIsLeftAsItIs() {
        List<NodeRecord> nodes = List.of(Fixtures.node("n1", 4, 4096), down(Fixtures.node("old", 4, 4096)));
        assertEquals(List.of(), Liveness.judge(nodes, Map.of(), "n1", 3000));
    }
}
