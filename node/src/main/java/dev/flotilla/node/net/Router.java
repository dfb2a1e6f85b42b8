package dev.flotilla.node.net;

import dev.flotilla.proto.FirewallRule;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Decides, for every packet, Deliver (the destination VM is on this node), CrossNode (it is on another
 * node) or Drop (with a reason). Safe to call from many threads: the address table is an immutable
 * snapshot swapped whole, firewalls sit in a concurrent map, NAT state is locked only on the NAT path.
 */
public final class Router {
    private static final int MAX_CNAME_DEPTH = 8;

    private final String selfNode;
    private volatile Snapshot table;
    private final ConcurrentHashMap<Integer, Firewall> firewalls = new ConcurrentHashMap<>();
    private final Map<String, Nat> natByGateway = new ConcurrentHashMap<>();
    private final EnumMap<DropReason, LongAdder> drops = new EnumMap<>(DropReason.class);
    private final LongAdder delivered = new LongAdder();
    private final LongAdder crossNode = new LongAdder();

    private record Snapshot(IpMap<String> nodeOf, Map<String, Integer> names, Map<String, String> cname,
                            IpMap<String> ptr, Nat nat) {
    }

    /** Counters since start; drops by reason. */
    public record Stats(long delivered, long crossNode, Map<DropReason, Long> drops) {
        public long dropped() {
            return drops.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    public Router(String selfNode) {
        this.selfNode = selfNode;
        for (DropReason r : DropReason.values()) {
            drops.put(r, new LongAdder());
        }
        updateTable(NetworkTable.ofHosts(Map.of()));
    }

    public String selfNode() {
        return selfNode;
    }

    /** Replaces the address and name table (the lead calls this when IPAM or DNS change). */
    public void updateTable(NetworkTable t) {
        IpMap<String> nodeOf = new IpMap<>(t.hosts().size() + t.gateways().size());
        t.hosts().forEach((ip, node) -> nodeOf.put(Ipv4.require(ip), node));
        Map<String, Integer> names = new HashMap<>();
        t.a().forEach((name, ip) -> names.put(normal(name), Ipv4.require(ip)));
        Map<String, String> cname = new HashMap<>();
        t.cname().forEach((alias, target) -> cname.put(normal(alias), normal(target)));
        IpMap<String> ptr = new IpMap<>(t.ptr().size());
        t.ptr().forEach((ip, name) -> ptr.put(Ipv4.require(ip), name));
        Nat own = null;
        for (NetworkTable.NatGateway g : t.gateways()) {
            int gw = Ipv4.require(g.gatewayIp());
            nodeOf.put(gw, g.node());
            if (g.node().equals(selfNode)) {
                // Keep live mappings across table updates as long as the gateway itself is unchanged.
                String key = g.gatewayIp() + "|" + g.insideCidr();
                own = natByGateway.computeIfAbsent(key, k -> new Nat(gw, Ipv4.Cidr.parse(g.insideCidr())));
            }
        }
        table = new Snapshot(nodeOf, Map.copyOf(names), Map.copyOf(cname), ptr, own);
    }

    /** Sets (or, with an empty list, clears) the inbound firewall of the VM at {@code ip}. */
    public void setFirewall(int ip, List<FirewallRule> rules) {
        if (rules.isEmpty()) {
            firewalls.remove(ip);
        } else {
            firewalls.put(ip, Firewall.of(rules));
        }
    }

    public void removeFirewall(int ip) {
        firewalls.remove(ip);
    }

    /** The router's answer for one packet; every answer is counted. */
    public RouteDecision route(Packet p) {
        if (p.ttl() <= 0) {
            return drop(DropReason.TTL, p);
        }
        Packet q = p.hop();
        Snapshot s = table;
        Nat nat = s.nat;
        if (nat != null) {
            if (q.dstIp() == nat.gatewayIp) {
                Packet in = nat.inbound(q);
                if (in == null) {
                    return drop(DropReason.NO_ROUTE, q);
                }
                q = in;
            } else if (nat.isInside(q.srcIp()) && !nat.isInside(q.dstIp())) {
                Packet out = nat.outbound(q);
                if (out == null) {
                    return drop(DropReason.NO_ROUTE, q);
                }
                q = out;
            }
        }
        String node = s.nodeOf.get(q.dstIp());
        if (node == null) {
            return drop(DropReason.NO_ROUTE, q);
        }
        if (!node.equals(selfNode)) {
            crossNode.increment();
            return new RouteDecision.CrossNode(node, q);
        }
        if (!firewalls.isEmpty()) {
            Firewall fw = firewalls.get(q.dstIp());
            if (fw != null && !fw.allows(q, this::resolve)) {
                return drop(DropReason.FIREWALL, q);
            }
        }
        delivered.increment();
        return new RouteDecision.Deliver(q);
    }

    private RouteDecision drop(DropReason reason, Packet p) {
        drops.get(reason).increment();
        return new RouteDecision.Drop(reason, p);
    }

    /** Counts a drop that happened after routing (a full transport queue or mailbox). */
    public void countDrop(DropReason reason) {
        drops.get(reason).increment();
    }

    /** A name (following CNAMEs) or a literal address to an address; empty when nothing answers. */
    public OptionalInt resolve(String nameOrIp) {
        OptionalInt literal = Ipv4.parse(nameOrIp);
        if (literal.isPresent()) {
            return literal;
        }
        Snapshot s = table;
        String name = normal(nameOrIp);
        for (int i = 0; i <= MAX_CNAME_DEPTH; i++) {
            Integer ip = s.names.get(name);
            if (ip != null) {
                return OptionalInt.of(ip);
            }
            name = s.cname.get(name);
            if (name == null) {
                return OptionalInt.empty();
            }
        }
        return OptionalInt.empty();
    }

    /** The PTR name of an address, if any. */
    public Optional<String> reverse(int ip) {
        return Optional.ofNullable(table.ptr.get(ip));
    }

    public Stats stats() {
        Map<DropReason, Long> d = new EnumMap<>(DropReason.class);
        drops.forEach((r, n) -> d.put(r, n.sum()));
        return new Stats(delivered.sum(), crossNode.sum(), d);
    }

    private static String normal(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
