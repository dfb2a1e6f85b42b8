package dev.flotilla.statemachine;

import java.util.Optional;

/**
 * The IPv4 subnet VMs get their addresses from. The network address, the gateway (network + 1) and
 * the broadcast address are never handed out; hosts are counted by their offset from the network.
 */
public record Subnet(int network, int prefix) {
    /** Narrowest useful subnet: /30 leaves one assignable host. Widest: /8, to bound the allocation map. */
    public static final int MIN_PREFIX = 8;
    public static final int MAX_PREFIX = 30;
    /** Offset of the first address handed out: after the network address and the gateway. */
    public static final int FIRST_HOST_OFFSET = 2;

    public Subnet {
        if (prefix < MIN_PREFIX || prefix > MAX_PREFIX) {
            throw new IllegalArgumentException("subnet prefix /" + prefix + " is not supported; use /" + MIN_PREFIX
                    + " to /" + MAX_PREFIX);
        }
        if ((network & ~mask(prefix)) != 0) {
            throw new IllegalArgumentException("subnet " + dotted(network) + "/" + prefix
                    + " has host bits set; use the network address, e.g. " + dotted(network & mask(prefix)) + "/" + prefix);
        }
    }

    /** Parses "10.0.0.0/16"; the message says what form is expected. */
    public static Subnet parse(String cidr) {
        String[] parts = cidr == null ? new String[0] : cidr.trim().split("/", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("subnet '" + cidr + "' is not in CIDR form; write it like 10.0.0.0/16");
        }
        int address = parseAddress(parts[0]).orElseThrow(() -> new IllegalArgumentException(
                "subnet '" + cidr + "' does not start with an IPv4 address; write it like 10.0.0.0/16"));
        int prefix;
        try {
            prefix = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("subnet '" + cidr + "' has no numeric prefix length; write it like 10.0.0.0/16");
        }
        return new Subnet(address, prefix);
    }

    /** Number of addresses in the subnet, including network, gateway and broadcast. */
    public int size() {
        return 1 << (32 - prefix);
    }

    /** Offset of the last address handed out: the one before broadcast. */
    public int lastHostOffset() {
        return size() - 2;
    }

    /** How many addresses can be handed out. */
    public int assignableCount() {
        return lastHostOffset() - FIRST_HOST_OFFSET + 1;
    }

    public String address(int offset) {
        return dotted(network + offset);
    }

    public String gateway() {
        return address(1);
    }

    /** The offset of an address in this subnet, or empty when it is outside or not an address. */
    public Optional<Integer> offsetOf(String ip) {
        return parseAddress(ip).filter(a -> (a & mask(prefix)) == network).map(a -> a - network);
    }

    @Override
    public String toString() {
        return dotted(network) + "/" + prefix;
    }

    static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    public static String dotted(int a) {
        return ((a >>> 24) & 255) + "." + ((a >>> 16) & 255) + "." + ((a >>> 8) & 255) + "." + (a & 255);
    }

    public static Optional<Integer> parseAddress(String s) {
        String[] octets = s.split("\\.", -1);
        if (octets.length != 4) {
            return Optional.empty();
        }
        int a = 0;
        for (String o : octets) {
            if (o.isEmpty() || o.length() > 3 || !o.chars().allMatch(Character::isDigit)) {
                return Optional.empty();
            }
            int v = Integer.parseInt(o);
            if (v > 255) {
                return Optional.empty();
            }
            a = (a << 8) | v;
        }
        return Optional.of(a);
    }

    /** A locally administered unicast MAC derived from the address, so it needs no extra state. */
    public static String macFor(String ip) {
        int a = parseAddress(ip).orElseThrow(() -> new IllegalArgumentException("not an IPv4 address: " + ip));
        StringBuilder mac = new StringBuilder(17).append("02:00");
        for (int shift = 24; shift >= 0; shift -= 8) {
            int octet = (a >>> shift) & 255;
            mac.append(':').append(Character.forDigit(octet >>> 4, 16)).append(Character.forDigit(octet & 15, 16));
        }
        return mac.toString();
    }

    /** The PTR owner name of an address: 5.0.0.10.in-addr.arpa for 10.0.0.5. */
    public static String reverseName(String ip) {
        String[] o = ip.split("\\.");
        return o[3] + "." + o[2] + "." + o[1] + "." + o[0] + ".in-addr.arpa";
    }
}
