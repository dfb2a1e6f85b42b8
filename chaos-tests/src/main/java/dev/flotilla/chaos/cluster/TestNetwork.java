package dev.flotilla.chaos.cluster;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A private network for a chaos run: one network namespace per node, each with one veth into a bridge
 * that lives in a hub namespace of its own, and one more veth from the hub to the host so the test JVM
 * (which stays in the root namespace) reaches every node's API. Addresses are in 10.77.0.0/24, which
 * exists only on these interfaces. The bridge is kept out of the root namespace so the host's own
 * bridge netfilter and firewall never see node-to-node traffic; partitions are iptables rules inside the
 * node namespaces, and never touch the host-facing link, so the clients always reach the node they ask.
 */
public final class TestNetwork implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TestNetwork.class);
    /** Every namespace this harness makes starts with this, so leftovers are found and nothing else is touched. */
    public static final String PREFIX = "fltchaos-";
    private static final String HUB = PREFIX + "hub";
    private static final String HOST_LINK = "fltchaos0";
    private static final String SUBNET = "10.77.0";
    private static final Pattern NODE_ID = Pattern.compile("[a-z0-9-]{1,12}");
    private static final Path LOCK = Path.of("/run/lock/flotilla-chaos.lock");
    private static final long T = 10_000;

    private final Map<String, String> ipOf = new LinkedHashMap<>();
    private final FileChannel lockChannel;
    private final FileLock lock;
    private boolean closed;

    private TestNetwork(FileChannel lockChannel, FileLock lock) {
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /**
     * Takes the host-wide chaos lock, removes what a crashed earlier run left, and builds the network.
     * Fails with a message saying what to do when namespaces cannot be made; never falls back.
     */
    public static TestNetwork create(List<String> nodeIds, long lockWaitMillis) {
        requireRoot();
        for (String id : nodeIds) {
            if (!NODE_ID.matcher(id).matches()) {
                throw new IllegalArgumentException("node id '" + id + "' cannot name a namespace interface; use "
                        + NODE_ID.pattern());
            }
        }
        FileChannel ch = null;
        FileLock lock = null;
        try {
            Files.createDirectories(LOCK.getParent());
            ch = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            long deadline = System.currentTimeMillis() + lockWaitMillis;
            while ((lock = tryLock(ch)) == null) {
                if (System.currentTimeMillis() > deadline) {
                    ch.close();
                    throw new IllegalStateException("another chaos run holds " + LOCK + " for more than "
                            + lockWaitMillis / 1000 + " s; wait for it to end (only one can own the 10.77.0.0/24 "
                            + "network at a time)");
                }
                pollPause();
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot take the chaos lock " + LOCK + ": " + e.getMessage(), e);
        }
        TestNetwork net = new TestNetwork(ch, lock);
        try {
            removeLeftovers(true);
            net.build(nodeIds);
            return net;
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            return null; // held by another network in this same JVM
        }
    }

    private static void pollPause() {
        try {
            Thread.sleep(200); // waiting for another process's lock: there is no condition to wait on
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the chaos lock", e);
        }
    }

    private static void requireRoot() {
        Command.Result id = Command.run(List.of("id", "-u"), T);
        if (!id.stdout().strip().equals("0")) {
            throw new IllegalStateException("chaos runs need root to make network namespaces (ip netns) and "
                    + "iptables rules; this process runs as uid " + id.stdout().strip()
                    + ". Run scripts/chaos.sh as root (sudo), or in a container with CAP_NET_ADMIN and CAP_SYS_ADMIN.");
        }
        Command.Result probe = Command.run(List.of("ip", "netns", "list"), T);
        if (!probe.ok()) {
            throw new IllegalStateException("'ip netns list' failed (" + probe.stderr().strip()
                    + "): this host cannot make network namespaces, so no chaos run is possible here. "
                    + "Install iproute2 and run with CAP_SYS_ADMIN.");
        }
    }

    /** Kills every process inside namespaces an earlier run of this harness left, and removes them. */
    static void removeLeftovers(boolean atStart) {
        for (String ns : ourNamespaces()) {
            if (atStart) {
                LOG.warn("removing namespace {} left by an earlier chaos run", ns);
            }
            killAllIn(ns);
            Command.run(List.of("ip", "netns", "del", ns), T);
        }
        if (Command.run(List.of("ip", "link", "show", HOST_LINK), T).ok()) {
            Command.run(List.of("ip", "link", "del", HOST_LINK), T);
        }
    }

    private static List<String> ourNamespaces() {
        List<String> out = new ArrayList<>();
        for (String line : Command.check(List.of("ip", "netns", "list"), T).stdout().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            if (name.startsWith(PREFIX)) {
                out.add(name);
            }
        }
        return out;
    }

    private static void killAllIn(String ns) {
        List<String> pids = pidsIn(ns);
        if (!pids.isEmpty()) {
            List<String> argv = new ArrayList<>(List.of("kill", "-KILL"));
            argv.addAll(pids);
            Command.run(argv, T);
        }
    }

    /** The pids of every process living in a namespace (as the kernel sees them, nothing guessed). */
    static List<String> pidsIn(String ns) {
        Command.Result r = Command.run(List.of("ip", "netns", "pids", ns), T);
        if (!r.ok()) {
            return List.of();
        }
        return Arrays.stream(r.stdout().split("\\s+")).filter(s -> !s.isBlank()).toList();
    }

    private void build(List<String> nodeIds) {
        Command.Result routes = Command.check(List.of("ip", "-4", "route", "show", "to", "match", SUBNET + ".1"), T);
        for (String line : routes.stdout().split("\n")) {
            if (line.startsWith(SUBNET + ".") || line.contains(" " + SUBNET + ".")) {
                throw new IllegalStateException("the host already routes " + SUBNET + ".0/24 (" + line.strip()
                        + "); the chaos network would collide with it. Remove that route or run elsewhere.");
            }
        }
        ip("netns", "add", HUB);
        ipn(HUB, "link", "set", "lo", "up");
        ipn(HUB, "link", "add", "br0", "type", "bridge");
        ipn(HUB, "link", "set", "br0", "up");
        ip("link", "add", HOST_LINK, "type", "veth", "peer", "name", "up0", "netns", HUB);
        ipn(HUB, "link", "set", "up0", "master", "br0");
        ipn(HUB, "link", "set", "up0", "up");
        ip("addr", "add", SUBNET + ".1/24", "dev", HOST_LINK);
        ip("link", "set", HOST_LINK, "up");
        int i = 0;
        for (String id : nodeIds) {
            i++;
            String ns = namespace(id);
            String addr = SUBNET + "." + (10 + i);
            ip("netns", "add", ns);
            ipn(ns, "link", "set", "lo", "up");
            ipn(HUB, "link", "add", "p-" + id, "type", "veth", "peer", "name", "eth0", "netns", ns);
            ipn(HUB, "link", "set", "p-" + id, "master", "br0");
            ipn(HUB, "link", "set", "p-" + id, "up");
            ipn(ns, "addr", "add", addr + "/24", "dev", "eth0");
            ipn(ns, "link", "set", "eth0", "up");
            ipOf.put(id, addr);
        }
        LOG.info("chaos network up: host {}.1, nodes {}", SUBNET, ipOf);
    }

    private static void ip(String... args) {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        Command.check(argv, T);
    }

    private static void ipn(String ns, String... args) {
        List<String> argv = new ArrayList<>(List.of("ip", "-n", ns));
        argv.addAll(List.of(args));
        Command.check(argv, T);
    }

    /** The namespace a node runs in. */
    public static String namespace(String nodeId) {
        return PREFIX + nodeId;
    }

    /** The node's only address. */
    public String ip(String nodeId) {
        String ip = ipOf.get(nodeId);
        if (ip == null) {
            throw new IllegalArgumentException("no node '" + nodeId + "' in the chaos network; nodes are " + ipOf.keySet());
        }
        return ip;
    }

    /** The address of the host side, where the clients and the CLI live. */
    public String hostIp() {
        return SUBNET + ".1";
    }

    /** Node ids in the order they were made. */
    public List<String> nodeIds() {
        return List.copyOf(ipOf.keySet());
    }

    /** The argument list that runs {@code argv} inside the node's namespace. */
    public List<String> inNamespace(String nodeId, List<String> argv) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(nodeId)));
        full.addAll(argv);
        return full;
    }

    /** Every pid in the node's namespace. */
    public List<String> pids(String nodeId) {
        return pidsIn(namespace(nodeId));
    }

    /** Sends a signal (KILL, STOP, CONT) to every process in the node's namespace. */
    public void signal(String nodeId, String signal) {
        List<String> pids = pids(nodeId);
        if (pids.isEmpty()) {
            return;
        }
        List<String> argv = new ArrayList<>(List.of("kill", "-" + signal));
        argv.addAll(pids);
        Command.run(argv, T); // a process may exit between listing and signalling: not an error
    }

    /** Makes {@code node} drop every packet that comes from {@code from} (one way). */
    public void drop(String node, Collection<String> from) {
        for (String f : from) {
            Command.check(inNamespace(node, List.of("iptables", "-w", "-A", "INPUT", "-s", ip(f), "-j", "DROP")), T);
        }
    }

    /** Cuts both directions between every node of {@code a} and every node of {@code b}. */
    public void partition(Collection<String> a, Collection<String> b) {
        for (String x : a) {
            drop(x, b);
        }
        for (String y : b) {
            drop(y, a);
        }
    }

    /** Removes every partition rule: all nodes hear each other again. */
    public void heal() {
        for (String id : ipOf.keySet()) {
            Command.check(inNamespace(id, List.of("iptables", "-w", "-F", "INPUT")), T);
        }
    }

    /** The DROP rules now in force, as "node<-from" pairs, for checks and logs. */
    public List<String> rules() {
        List<String> out = new ArrayList<>();
        for (String id : ipOf.keySet()) {
            String listing = Command.check(inNamespace(id, List.of("iptables", "-w", "-S", "INPUT")), T).stdout();
            for (String line : listing.split("\n")) {
                if (line.startsWith("-A INPUT")) {
                    out.add(id + ": " + line.strip());
                }
            }
        }
        return out;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            for (String id : ipOf.keySet()) {
                killAllIn(namespace(id));
            }
            removeLeftovers(false);
            LOG.info("chaos network torn down");
        } finally {
            try {
                lock.release();
                lockChannel.close();
            } catch (IOException e) {
                LOG.warn("could not release {}: {}", LOCK, e.getMessage());
            }
        }
    }
}
