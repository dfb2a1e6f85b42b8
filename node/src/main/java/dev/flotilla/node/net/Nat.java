package dev.flotilla.node.net;

import java.util.HashMap;
import java.util.Map;

/**
 * One node's masquerading gateway. Outbound: a packet from inside to outside leaves with source
 * (gateway, mapped port); the mapping is keyed by the inside (address, port) and the remote (address,
 * port), like a symmetric NAT. Inbound: a packet to (gateway, port) is let in only from the remote the
 * mapping was made for, and is rewritten to the inside address and port. Mappings live in memory on the
 * gateway's node and are lost with it. Ports 1024..65535 are handed out round robin; when all are taken,
 * new flows are dropped as NO_ROUTE.
 */
final class Nat {
    private static final int FIRST_PORT = 1024;
    private static final int PORTS = 65536 - FIRST_PORT;

    final int gatewayIp;
    private final Ipv4.Cidr inside;
    private final Map<Integer, long[]> inward = new HashMap<>(); // gateway port -> {inside ip:port, remote ip:port}
    private final Map<Flow, Integer> portOfFlow = new HashMap<>();
    private int nextPort;

    Nat(int gatewayIp, Ipv4.Cidr inside) {
        this.gatewayIp = gatewayIp;
        this.inside = inside;
    }

    boolean isInside(int ip) {
        return inside.contains(ip);
    }

    private record Flow(long inside, long remote) {
    }

    private static long pack(int ip, int port) {
        return ((long) ip << 16) | (port & 0xffffL);
    }

    /** The packet with its source masqueraded, or null when no gateway port is free. */
    synchronized Packet outbound(Packet p) {
        long flowInside = pack(p.srcIp(), p.srcPort());
        long flowRemote = pack(p.dstIp(), p.dstPort());
        Flow key = new Flow(flowInside, flowRemote);
        Integer port = portOfFlow.get(key);
        if (port == null || !matches(inward.get(port), flowInside, flowRemote)) {
            port = allocate();
            if (port == null) {
                return null;
            }
            portOfFlow.put(key, port);
            inward.put(port, new long[] {flowInside, flowRemote});
        }
        return p.withSource(gatewayIp, port);
    }

    private static boolean matches(long[] m, long flowInside, long flowRemote) {
        return m != null && m[0] == flowInside && m[1] == flowRemote;
    }

    private Integer allocate() {
        for (int i = 0; i < PORTS; i++) {
            int port = FIRST_PORT + (nextPort++ % PORTS);
            if (!inward.containsKey(port)) {
                return port;
            }
        }
        return null;
    }

    /** The reply rewritten to the inside VM, or null when no mapping admits it. */
    synchronized Packet inbound(Packet p) {
        long[] m = inward.get(p.dstPort());
        if (m == null || m[1] != pack(p.srcIp(), p.srcPort())) {
            return null;
        }
        return p.withDestination((int) (m[0] >>> 16), (int) (m[0] & 0xffff));
    }

    synchronized int mappings() {
        return inward.size();
    }
}
