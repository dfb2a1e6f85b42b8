package dev.flotilla.node.net;

import dev.flotilla.proto.FirewallRule;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * A VM's inbound firewall: the first rule that matches a packet decides; a packet no rule matches is
 * allowed (end the list with {@code deny from *} to allow only what is listed). Simulated packets are
 * datagrams, so a rule for proto {@code tcp} never matches them.
 */
public final class Firewall {
    private final List<Compiled> rules;

    private record Compiled(boolean allow, Ipv4.Cidr cidr, String name, int port, boolean protoMatches) {
    }

    private Firewall(List<Compiled> rules) {
        this.rules = rules;
    }

    /** Checks and compiles rules; a bad rule is named by its position and field. */
    public static Firewall of(List<FirewallRule> rules) {
        List<Compiled> out = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            FirewallRule r = rules.get(i);
            String where = "firewall[" + i + "]";
            boolean allow = switch (r.getAction().toLowerCase(Locale.ROOT)) {
                case "allow" -> true;
                case "deny" -> false;
                default -> throw new IllegalArgumentException(where + ".action is '" + r.getAction()
                        + "'; use allow or deny");
            };
            String from = r.getFrom().isEmpty() ? "*" : r.getFrom();
            Ipv4.Cidr cidr = null;
            String name = null;
            if (from.equals("*")) {
                cidr = new Ipv4.Cidr(0, 0);
            } else if (Character.isDigit(from.charAt(0))) {
                try {
                    cidr = Ipv4.Cidr.parse(from);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ".from: " + e.getMessage());
                }
            } else {
                name = from.toLowerCase(Locale.ROOT);
            }
            if (r.getPort() > 65535) {
                throw new IllegalArgumentException(where + ".port is " + r.getPort() + "; use 0 (any) to 65535");
            }
            String proto = r.getProto().isEmpty() ? "*" : r.getProto().toLowerCase(Locale.ROOT);
            if (!proto.equals("*") && !proto.equals("udp") && !proto.equals("tcp")) {
                throw new IllegalArgumentException(where + ".proto is '" + r.getProto() + "'; use tcp, udp or *");
            }
            out.add(new Compiled(allow, cidr, name, r.getPort(), !proto.equals("tcp")));
        }
        return new Firewall(List.copyOf(out));
    }

    /** Whether the packet may pass; names in rules are resolved with {@code resolver} at check time. */
    public boolean allows(Packet p, Function<String, OptionalInt> resolver) {
        for (Compiled r : rules) {
            if (!r.protoMatches || (r.port != 0 && r.port != p.dstPort())) {
                continue;
            }
            boolean fromMatches;
            if (r.cidr != null) {
                fromMatches = r.cidr.contains(p.srcIp());
            } else {
                OptionalInt ip = resolver.apply(r.name);
                fromMatches = ip.isPresent() && ip.getAsInt() == p.srcIp();
            }
            if (fromMatches) {
                return r.allow;
            }
        }
        return true;
    }
}
