package dev.flotilla.node.net;

/** One simulated datagram between VMs; addresses are IPv4 packed into an int (see {@link Ipv4}). */
public record Packet(int srcIp, int srcPort, int dstIp, int dstPort, int ttl, byte[] payload) {

    /** Hops a fresh packet may take before a router drops it. */
    public static final int DEFAULT_TTL = 16;

    /** The same packet one hop further on. */
    public Packet hop() {
        return new Packet(srcIp, srcPort, dstIp, dstPort, ttl - 1, payload);
    }

    /** The same packet with a rewritten source (NAT on the way out). */
    public Packet withSource(int ip, int port) {
        return new Packet(ip, port, dstIp, dstPort, ttl, payload);
    }

    /** The same packet with a rewritten destination (NAT on the way back). */
    public Packet withDestination(int ip, int port) {
        return new Packet(srcIp, srcPort, ip, port, ttl, payload);
    }

    @Override
    public String toString() {
        return Ipv4.format(srcIp) + ":" + srcPort + " -> " + Ipv4.format(dstIp) + ":" + dstPort
                + " ttl=" + ttl + " bytes=" + payload.length;
    }
}
