package dev.flotilla.node.net;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketTransportTest {
    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    private static Packet packet(int i) {
        return new Packet(Ipv4.require("10.0.1.1"), 9000, Ipv4.require("10.0.2.1"), 80, 7,
                ("p" + i).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void batchesArriveCompleteAndInOrder() throws Exception {
        List<Packet> got = new CopyOnWriteArrayList<>();
        try (PacketTransport b = new PacketTransport("b", loopback(0), got::add, 100_000).start();
             PacketTransport a = new PacketTransport("a", loopback(0), p -> { }, 100_000).start()) {
            a.setPeer("b", loopback(b.port()));
            Await.until("a connects to b", 10_000, () -> a.flush(0), () -> a.connected("b"));
            int n = 10_000;
            for (int i = 0; i < n; i++) {
                assertTrue(a.send("b", packet(i)));
                if (i % 1000 == 999) {
                    a.flush(i / 1000);
                }
            }
            Await.until("all " + n + " packets arrive", 10_000, () -> { }, () -> got.size() == n);
            for (int i = 0; i < n; i++) {
                assertEquals("p" + i, new String(got.get(i).payload(), StandardCharsets.UTF_8), "packet " + i + " in order");
            }
            Packet first = got.get(0);
            assertEquals(Ipv4.require("10.0.1.1"), first.srcIp());
            assertEquals(9000, first.srcPort());
            assertEquals(Ipv4.require("10.0.2.1"), first.dstIp());
            assertEquals(80, first.dstPort());
            assertEquals(7, first.ttl());
            assertEquals(10, a.stats().batchesSent(), "one batch per flush");
            assertEquals(n, b.stats().received());
        }
    }

    @Test
    void boundedQueueAndUnknownPeerDropsAreCounted() throws Exception {
        try (PacketTransport a = new PacketTransport("a", loopback(0), p -> { }, 5).start()) {
            a.setPeer("b", loopback(1)); // nothing listens: packets wait in the bounded queue
            for (int i = 0; i < 8; i++) {
                a.send("b", packet(i));
            }
            assertFalse(a.send("nobody", packet(0)));
            assertEquals(5, a.queued("b"));
            assertEquals(3L, a.stats().drops().get(PacketTransport.Drop.QUEUE_FULL));
            assertEquals(1L, a.stats().drops().get(PacketTransport.Drop.UNKNOWN_PEER));
        }
    }

    @Test
    void reconnectsAfterThePeerRestartsAndDeliversWhatWaited() throws Exception {
        List<Packet> got = new CopyOnWriteArrayList<>();
        PacketTransport b = new PacketTransport("b", loopback(0), got::add, 1000).start();
        int port = b.port();
        try (PacketTransport a = new PacketTransport("a", loopback(0), p -> { }, 1000).start()) {
            a.setPeer("b", loopback(port));
            a.send("b", packet(1));
            Await.until("first packet arrives", 10_000, () -> a.flush(1), () -> got.size() == 1);
            b.close();
            Await.until("a notices b is gone", 10_000, () -> { }, () -> !a.connected("b"));
            a.send("b", packet(2));
            a.send("b", packet(3));
            b = new PacketTransport("b", loopback(port), got::add, 1000).start();
            Await.until("a re-dials b and the queued packets arrive", 15_000, () -> a.flush(2), () -> got.size() == 3);
            assertEquals("p2", new String(got.get(1).payload(), StandardCharsets.UTF_8));
            assertEquals("p3", new String(got.get(2).payload(), StandardCharsets.UTF_8));
            assertTrue(a.stats().connects() >= 2);
        } finally {
            b.close();
        }
    }
}
