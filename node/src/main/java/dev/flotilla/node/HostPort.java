package dev.flotilla.node;

/** A "host:port" address as written in config files and flags. */
public record HostPort(String host, int port) {

    public static HostPort parse(String s) {
        if (s == null || s.isBlank()) throw new IllegalArgumentException("address is empty; expected host:port");
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1)
            throw new IllegalArgumentException("'" + s + "' is not host:port");
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "': port is not a number");
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("'" + s + "': port must be 1-65535");
        return new HostPort(s.substring(0, colon), port);
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
