package dev.flotilla.node.backend.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The router's table and the packet peers, from the registry's VMs and nodes. */
class NetworkTablesTest {
    private static VmRecord vm(String id, String runtime, String ip, String node, String dns, String... aliases) {
        return VmRecord.newBuilder().setId(id).setIp(ip).setNode(node).setDnsName(dns)
                .setSpec(VmSpec.newBuilder().setRuntime(runtime).setDnsName(dns).addAllAliases(List.of(aliases))).build();
    }

    @Test
    void placedLuaVmsRouteToTheirNodesAndTheirNamesResolve() {
        NetworkTables.Derived d = NetworkTables.derive("n1", List.of(
                vm("a", "lua", "10.0.0.2", "n1", "a.sim", "www.sim"),
                vm("b", "lua", "10.0.0.3", "n2", ""),
                vm("c", "lua", "10.0.0.4", "", "c.sim"),
                vm("p", "process", "10.0.0.5", "n2", "p.sim")), List.of());
        assertEquals(Map.of("10.0.0.2", "n1", "10.0.0.3", "n2"), d.table().hosts(), "placed lua VMs only");
        assertEquals(Map.of("a.sim", "10.0.0.2", "c.sim", "10.0.0.4"), d.table().a(), "names exist before placement");
        assertEquals(Map.of("www.sim", "a.sim"), d.table().cname());
        assertEquals(Map.of("10.0.0.2", "a.sim", "10.0.0.4", "c.sim"), d.table().ptr());
    }

    @Test
    void everyOtherNodeWithATransportAddressIsAPeer() {
        NetworkTables.Derived d = NetworkTables.derive("n1", List.of(), List.of(
                NodeRecord.newBuilder().setId("n1").setTransportAddress("127.0.0.1:7001").build(),
                NodeRecord.newBuilder().setId("n2").setTransportAddress("127.0.0.1:7002").build(),
                NodeRecord.newBuilder().setId("n3").build()));
        assertEquals(Map.of("n2", "127.0.0.1:7002"), d.peers());
    }
}
