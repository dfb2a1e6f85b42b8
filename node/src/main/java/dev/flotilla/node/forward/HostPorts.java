package dev.flotilla.node.forward;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host ports this node forwards to its VMs' guest ports, kept equal to what the agent asks for:
 * {@link #sync} opens the missing ones and closes the ones no VM wants any more (stopped, deleted,
 * moved). A port that cannot be opened (another program holds it) is tried again on the next sync and
 * logged once. Userspace relays, not netfilter rules: see docs/decisions.md ("Port forwards").
 */
public final class HostPorts implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("forward");

    private final InetAddress bind;
    private final Map<String, Relay> open = new TreeMap<>();
    private final Set<Forward> failing = new HashSet<>();

    /** @param bind the local address host ports are opened on ({@code forward_bind_address}) */
    public HostPorts(InetAddress bind) {
        this.bind = bind;
    }

    /** Makes the open host ports exactly {@code wanted}; call from one thread. */
    public synchronized void sync(Collection<Forward> wanted) {
        Map<String, Forward> want = new TreeMap<>();
        for (Forward f : wanted) want.putIfAbsent(f.key(), f);
        for (String key : List.copyOf(open.keySet())) {
            Relay r = open.get(key);
            if (!r.forward().equals(want.get(key))) {
                r.close();
                open.remove(key);
                LOG.info("host port {} closed", r.forward());
            }
        }
        failing.retainAll(want.values());
        for (Forward f : want.values()) {
            if (open.containsKey(f.key())) continue;
            try {
                open.put(f.key(), Relay.open(f, bind));
                failing.remove(f);
                LOG.info("host port {} open on {}", f, bind.getHostAddress());
            } catch (IOException e) {
                if (failing.add(f)) {
                    LOG.warn("cannot open host port {} on {}: {}; another program may hold it (ss -lntup), tried again every agent pass",
                            f, bind.getHostAddress(), e.getMessage());
                }
            }
        }
    }

    /** The forwards open now, by "port/proto". */
    public synchronized Map<String, Forward> open() {
        Map<String, Forward> out = new TreeMap<>();
        open.forEach((k, r) -> out.put(k, r.forward()));
        return out;
    }

    @Override
    public synchronized void close() {
        open.values().forEach(Relay::close);
        open.clear();
    }
}
