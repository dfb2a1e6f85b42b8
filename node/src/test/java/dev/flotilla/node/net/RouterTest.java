package dev.flotilla.node.net;

import dev.flotilla.proto.FirewallRule;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class RouterTest {
    private static final int A = Ipv4.require("10.0.0.1");
    private static final int B = Ipv4.require("10.0.0.2");
    private static final int REMOTE = Ipv4.require("10.0.9.9");
    private static final int PUBLIC = Ipv4.require("100.64.0.5");
    private static final int GW1 = Ipv4.require("100.64.255.1");

    private static Router router() {
        Router r = new Router("n1");
        r.updateTable(new NetworkTable(
                Map.of("10.0.0.1", "n1", "10.0.0.2", "n1", "10.0.9.9", "n2", "100.64.0.5", "n3"),
                Map.of("b.sim", "10.0.0.2"), Map.of(), Map.of(),
                List.of(new NetworkTable.NatGateway("n1", "100.64.255.1", "10.0.0.0/16"))));
        return r;
    }

    private static Packet p(int src, int srcPort, int dst, int dstPort, int ttl) {
        return new Packet(src, srcPort, dst, dstPort, ttl, new byte[0]);
    }

    @Test
    void everyPacketGetsOneOfTheThreeAnswers() {
        Router r = router();
        RouteDecision local = r.route(p(A, 1, B, 2, 5));
        assertInstanceOf(RouteDecision.Deliver.class, local);
        assertEquals(4, local.packet().ttl(), "each hop spends one TTL");
        RouteDecision cross = r.route(p(A, 1, REMOTE, 2, 5));
        assertEquals(new RouteDecision.CrossNode("n2", cross.packet()), cross);
        RouteDecision none = r.route(p(A, 1, Ipv4.require("10.0.7.7"), 2, 5));
        assertEquals(DropReason.NO_ROUTE, ((RouteDecision.Drop) none).reason());
        RouteDecision dead = r.route(p(A, 1, B, 2, 0));
        assertEquals(DropReason.TTL, ((RouteDecision.Drop) dead).reason());
        Router.Stats s = r.stats();
        assertEquals(1, s.delivered());
        assertEquals(1, s.crossNode());
        assertEquals(1L, s.drops().get(DropReason.NO_ROUTE));
        assertEquals(1L, s.drops().get(DropReason.TTL));
    }

    @Test
    void firewallFirstMatchWinsAndDropsAreCounted() {
        Router r = router();
        r.setFirewall(B, List.of(
                FirewallRule.newBuilder().setAction("deny").setFrom("10.0.0.1").setPort(22).build(),
                FirewallRule.newBuilder().setAction("allow").setFrom("10.0.0.0/24").build(),
                FirewallRule.newBuilder().setAction("deny").setFrom("*").build()));
        assertInstanceOf(RouteDecision.Drop.class, r.route(p(A, 1, B, 22, 5)));
        assertInstanceOf(RouteDecision.Deliver.class, r.route(p(A, 1, B, 80, 5)));
        assertEquals(1L, r.stats().drops().get(DropReason.FIREWALL));
    }

    @Test
    void badFirewallRulesAreNamedByPositionAndField() {
        Router r = router();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> r.setFirewall(B, List.of(FirewallRule.newBuilder().setAction("allow").build(),
                        FirewallRule.newBuilder().setAction("maybe").build())));
        assertEquals("firewall[1].action is 'maybe'; use allow or deny", e.getMessage());
    }

    @Test
    void natMasqueradesOutboundAndLetsOnlyTheRepliesBack() {
        Router r = router();
        RouteDecision out = r.route(p(A, 5000, PUBLIC, 53, 5));
        assertEquals("n3", ((RouteDecision.CrossNode) out).node());
        Packet masq = out.packet();
        assertEquals(GW1, masq.srcIp(), "the source is the gateway address");
        int gwPort = masq.srcPort();
        assertEquals(gwPort, r.route(p(A, 5000, PUBLIC, 53, 5)).packet().srcPort(), "same flow, same port");

        RouteDecision reply = r.route(p(PUBLIC, 53, GW1, gwPort, 5));
        assertInstanceOf(RouteDecision.Deliver.class, reply);
        assertEquals(A, reply.packet().dstIp());
        assertEquals(5000, reply.packet().dstPort());

        RouteDecision stranger = r.route(p(Ipv4.require("100.64.0.6"), 53, GW1, gwPort, 5));
        assertEquals(DropReason.NO_ROUTE, ((RouteDecision.Drop) stranger).reason(), "only the mapped remote gets in");
        assertInstanceOf(RouteDecision.Deliver.class, r.route(p(A, 1, B, 2, 5)), "inside traffic is not rewritten");
        assertEquals(A, r.route(p(A, 1, B, 2, 5)).packet().srcIp());
    }

    @Test
    void otherNodesReachAGatewayAddressThroughItsNode() {
        Router r2 = new Router("n2");
        r2.updateTable(new NetworkTable(Map.of(), Map.of(), Map.of(), Map.of(),
                List.of(new NetworkTable.NatGateway("n1", "100.64.255.1", "10.0.0.0/16"))));
        assertEquals(new RouteDecision.CrossNode("n1", p(PUBLIC, 53, GW1, 1024, 4)).node(),
                ((RouteDecision.CrossNode) r2.route(p(PUBLIC, 53, GW1, 1024, 5))).node());
    }

    @Test
    void namesResolveThroughCnameChainsCaseInsensitively() {
        Router r = new Router("n1");
        r.updateTable(new NetworkTable(Map.of(), Map.of("b.sim", "10.0.0.2"),
                Map.of("c.sim", "b.sim", "d.sim", "c.sim", "loop1.sim", "loop2.sim", "loop2.sim", "loop1.sim"),
                Map.of("10.0.0.2", "b.sim"), List.of()));
        assertEquals(B, r.resolve("D.SIM.").getAsInt());
        assertEquals(B, r.resolve("10.0.0.2").getAsInt());
        assertEquals(true, r.resolve("loop1.sim").isEmpty(), "a CNAME loop resolves to nothing");
        assertEquals("b.sim", r.reverse(B).orElseThrow());
    }

    @Test
    void ipMapSurvivesRemovalsInsideClusters() {
        IpMap<String> m = new IpMap<>(2);
        for (int i = 0; i < 1000; i++) {
            m.put(i * 16, "v" + i);
        }
        for (int i = 0; i < 1000; i += 2) {
            assertEquals("v" + i, m.remove(i * 16));
        }
        for (int i = 0; i < 1000; i++) {
            assertEquals(i % 2 == 0 ? null : "v" + i, m.get(i * 16), "key " + i * 16);
        }
        assertEquals(500, m.size());
    }
}
