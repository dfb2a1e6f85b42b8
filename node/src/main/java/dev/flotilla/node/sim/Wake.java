package dev.flotilla.node.sim;

import org.luaj.vm2.LuaUserdata;

/**
 * What a handler returns to say how its process wants to be woken: sleep(n), wait_packet() or exit(code).
 * Small values are cached so the usual {@code return sleep(1)} allocates nothing.
 */
final class Wake extends LuaUserdata {
    static final byte SLEEP = 1;
    static final byte WAIT_PACKET = 2;
    static final byte EXIT = 3;

    private static final Wake[] SLEEPS = new Wake[1025];
    private static final Wake[] EXITS = new Wake[256];
    static final Wake WAIT = new Wake(WAIT_PACKET, 0);

    static {
        for (int i = 0; i < SLEEPS.length; i++) {
            SLEEPS[i] = new Wake(SLEEP, i);
        }
        for (int i = 0; i < EXITS.length; i++) {
            EXITS[i] = new Wake(EXIT, i);
        }
    }

    final byte kind;
    final long n;

    private Wake(byte kind, long n) {
        super("wake");
        this.kind = kind;
        this.n = n;
    }

    static Wake sleep(long ticks) {
        long t = Math.max(1, ticks);
        return t < SLEEPS.length ? SLEEPS[(int) t] : new Wake(SLEEP, t);
    }

    static Wake exit(int code) {
        return code >= 0 && code < EXITS.length ? EXITS[code] : new Wake(EXIT, code);
    }

    @Override
    public String tojstring() {
        return switch (kind) {
            case SLEEP -> "sleep(" + n + ")";
            case WAIT_PACKET -> "wait_packet()";
            default -> "exit(" + n + ")";
        };
    }
}
