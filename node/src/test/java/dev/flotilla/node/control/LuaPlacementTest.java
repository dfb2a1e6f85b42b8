package dev.flotilla.node.control;

import static dev.flotilla.node.control.Fixtures.node;
import static dev.flotilla.node.control.Fixtures.on;
import static dev.flotilla.node.control.Fixtures.spec;
import static dev.flotilla.node.control.Fixtures.vm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Lua VMs go to followers first; the leader takes a smaller share, and only while it has room. */
class LuaPlacementTest {
    private static final VmSpec LUA = spec(1, 64).toBuilder().setRuntime("lua").build();

    /** Places {@code count} lua VMs one after another (as the controller does) and counts them per node. */
    private static Map<String, Integer> placeMany(int count, List<NodeRecord> nodes, List<VmRecord> already, String leader) {
        List<VmRecord> current = new ArrayList<>(already);
        Map<String, Integer> per = new TreeMap<>();
        nodes.forEach(n -> per.put(n.getId(), 0));
        for (int i = 0; i < count; i++) {
            VmRecord v = vm("lua-" + i, "t" + i, LUA);
            Decision d = Placement.place(v, nodes, current, leader);
            assertTrue(d instanceof Decision.Place, "lua-" + i + " placed: " + d);
            String n = ((Decision.Place) d).nodeId();
            current.add(on(v, n));
            per.merge(n, 1, Integer::sum);
        }
        return per;
    }

    @Test
    void followersTakeTheMostAndTheLeaderAboutHalfAShareWhileItHasRoom() {
        List<NodeRecord> nodes = List.of(node("n1", 64, 65536, "lua"), node("n2", 64, 65536, "lua"), node("n3", 64, 65536, "lua"));
        Map<String, Integer> per = placeMany(30, nodes, List.of(), "n1");
        assertTrue(per.get("n1") > 0, "the leader with room takes a share: " + per);
        assertTrue(per.get("n1") < per.get("n2") && per.get("n1") < per.get("n3"), "followers take more: " + per);
        assertTrue(Math.abs(per.get("n2") - per.get("n3")) <= 1, "followers are spread evenly: " + per);
        assertEquals(30, per.values().stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    void theFirstLuaVmGoesToAFollowerEvenWhenTheLeaderHasTheLowestId() {
        List<NodeRecord> nodes = List.of(node("n1", 64, 65536, "lua"), node("n2", 64, 65536, "lua"));
        Decision d = Placement.place(vm("a", "t", LUA), nodes, List.of(), "n1");
        assertEquals(new Decision.Place("n2"), d);
    }

    @Test
    void aLeaderOverHalfFullTakesNoLuaVmWhileAFollowerCan() {
        List<NodeRecord> nodes = List.of(node("n1", 8, 65536, "lua"), node("n2", 64, 65536, "lua"));
        // The leader already holds 4 of its 8 vcpu: one more lua VM would take it past half.
        List<VmRecord> busy = new ArrayList<>();
        for (int i = 0; i < 4; i++) busy.add(on(vm("p" + i, "other", spec(1, 64)), "n1"));
        Map<String, Integer> per = placeMany(20, nodes, busy, "n1");
        assertEquals(0, per.get("n1"), "the leader over half full takes none: " + per);
        assertEquals(20, per.get("n2"));
    }

    @Test
    void luaVmsReserveNoVcpuOrMemorySoANodeHoldsManyMore() {
        List<NodeRecord> nodes = List.of(node("n1", 2, 512, "lua"), node("n2", 2, 512, "lua"), node("n3", 2, 512, "lua"));
        Map<String, Integer> per = placeMany(60, nodes, List.of(), "n1");
        assertEquals(60, per.values().stream().mapToInt(Integer::intValue).sum(), "60 lua VMs on 6 vcpu: " + per);
        VmRecord machine = vm("real", "t", spec(2, 512));
        List<VmRecord> luaOnN2 = List.of(on(vm("l", "t", LUA), "n2"));
        assertEquals(new Decision.Place("n2"), Placement.place(machine, List.of(node("n2", 2, 512, "process", "lua")), luaOnN2, "n1"),
                "a real machine still finds the whole node free beside a lua VM");
    }

    @Test
    void theLeaderTakesLuaVmsWhenNoFollowerCan() {
        NodeRecord down = node("n2", 64, 65536, "lua").toBuilder().setState(NodeState.NODE_DOWN).build();
        NodeRecord drained = node("n3", 64, 65536, "lua").toBuilder().setDrained(true).build();
        List<NodeRecord> nodes = List.of(node("n1", 64, 65536, "lua"), down, drained);
        assertEquals(new Decision.Place("n1"), Placement.place(vm("a", "t", LUA), nodes, List.of(), "n1"));
    }

    @Test
    void otherRuntimesAreNotKeptOffTheLeader() {
        List<NodeRecord> nodes = List.of(node("n1", 64, 65536), node("n2", 64, 65536));
        assertEquals(new Decision.Place("n1"), Placement.place(vm("a", "t", spec(1, 64)), nodes, List.of(), "n1"));
    }

    @Test
    void withNoLeaderKnownLuaVmsSpreadLikeAnyOther() {
        List<NodeRecord> nodes = List.of(node("n1", 64, 65536, "lua"), node("n2", 64, 65536, "lua"));
        Map<String, Integer> per = placeMany(10, nodes, List.of(), "");
        assertEquals(Map.of("n1", 5, "n2", 5), per);
    }
}
