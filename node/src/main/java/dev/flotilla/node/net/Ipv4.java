package dev.flotilla.node.net;

import java.util.OptionalInt;

/** IPv4 addresses as plain ints, so the router's hot path neither parses nor allocates. */
public final class Ipv4 {
    private Ipv4() {
    }

    /** The address written as a.b.c.d, or empty when the text is not one. */
    public static OptionalInt parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 15) {
            return OptionalInt.empty();
        }
        int value = 0;
        int part = -1;
        int parts = 0;
        for (int i = 0; i <= text.length(); i++) {
            char c = i < text.length() ? text.charAt(i) : '.';
            if (c == '.') {
                if (part < 0 || part > 255) {
                    return OptionalInt.empty();
                }
                value = (value << 8) | part;
                part = -1;
                parts++;
            } else if (c >= '0' && c <= '9') {
                part = (part < 0 ? 0 : part * 10) + (c - '0');
                if (part > 255) {
                    return OptionalInt.empty();
                }
            } else {
                return OptionalInt.empty();
            }
        }
        return parts == 4 ? OptionalInt.of(value) : OptionalInt.empty();
    }

    /** Parses an address a caller promises is valid; the message names it when it is not. */
    public static int require(String text) {
        OptionalInt ip = parse(text);
        if (ip.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 address; write it as a.b.c.d");
        }
        return ip.getAsInt();
    }

    /** a.b.c.d. */
    public static String format(int ip) {
        return ((ip >>> 24) & 255) + "." + ((ip >>> 16) & 255) + "." + ((ip >>> 8) & 255) + "." + (ip & 255);
    }

    /** A CIDR block such as 10.0.0.0/16; {@code contains} is one mask and one compare. */
    public record Cidr(int network, int mask) {
        /** Parses a.b.c.d/n (or a bare address, as /32). */
        public static Cidr parse(String text) {
            int slash = text.indexOf('/');
            int bits = 32;
            String addr = text;
            if (slash >= 0) {
                addr = text.substring(0, slash);
                try {
                    bits = Integer.parseInt(text.substring(slash + 1));
                } catch (NumberFormatException e) {
                    bits = -1;
                }
                if (bits < 0 || bits > 32) {
                    throw new IllegalArgumentException("'" + text + "' has a bad prefix length; use /0 to /32");
                }
            }
            int mask = bits == 0 ? 0 : -1 << (32 - bits);
            return new Cidr(require(addr) & mask, mask);
        }

        public boolean contains(int ip) {
            return (ip & mask) == network;
        }
    }
}
