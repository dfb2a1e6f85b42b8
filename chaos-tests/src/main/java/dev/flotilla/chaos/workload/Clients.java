package dev.flotilla.chaos.workload;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.history.Recorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run's clients, spread over all nodes: register clients doing create/start/stop/delete/read on a
 * few live VM keys, and set clients creating unique ids. Bounded in op count and time; each client has
 * one op outstanding at a time and paces itself so the machine is not flooded.
 */
public final class Clients {
    private static final Logger LOG = LoggerFactory.getLogger(Clients.class);

    /**
     * @param registerClients  clients on the register workload
     * @param setClients       clients on the set workload
     * @param maxOps           stop after this many ops in all
     * @param opsPerSecond     target rate of one client
     * @param timeout          a request not answered within this is UNKNOWN
     */
    public record Settings(int registerClients, int setClients, long maxOps, double opsPerSecond, Duration timeout,
                           int liveKeys, int opsPerKey) {
    }

    private final ClusterUnderTest cluster;
    private final Recorder recorder;
    private final Settings settings;
    private final String runTag;
    private final long seed;
    private final KeyPool keys;
    private final AtomicLong setCounter = new AtomicLong();
    private final AtomicLong ops = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    public Clients(ClusterUnderTest cluster, Recorder recorder, Settings settings, String runTag, long seed) {
        this.cluster = cluster;
        this.recorder = recorder;
        this.settings = settings;
        this.runTag = runTag;
        this.seed = seed;
        this.keys = new KeyPool("r-" + runTag + "-", settings.liveKeys(), settings.opsPerKey());
    }

    /** The prefix of every id the set workload creates. */
    public String setPrefix() {
        return "s-" + runTag + "-";
    }

    /** Starts every client thread. */
    public void start(long endNanos) {
        List<String> nodes = cluster.nodeIds();
        int c = 0;
        for (int i = 0; i < settings.registerClients(); i++, c++) {
            String node = nodes.get(c % nodes.size());
            int client = c;
            threads.add(new Thread(() -> loop(client, node, false, endNanos), "register-" + client));
        }
        for (int i = 0; i < settings.setClients(); i++, c++) {
            String node = nodes.get(c % nodes.size());
            int client = c;
            threads.add(new Thread(() -> loop(client, node, true, endNanos), "set-" + client));
        }
        threads.forEach(Thread::start);
    }

    /** Asks every client to finish its current op and waits for them. */
    public void stopAndJoin() {
        stop.set(true);
        for (Thread t : threads) {
            try {
                t.join(settings.timeout().toMillis() * 3);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                LOG.warn("client {} did not stop within {} ms", t.getName(), settings.timeout().toMillis() * 3);
            }
        }
    }

    /** Every register key used, for the final reads. */
    public List<String> registerKeys() {
        return keys.allKeys();
    }

    private void loop(int client, String node, boolean set, long endNanos) {
        Random rnd = new Random(seed * 31 + client);
        NodeApi api = cluster.newApi(node, settings.timeout());
        long periodNanos = (long) (1e9 / settings.opsPerSecond());
        long nextAt = recorder.now();
        while (!stop.get() && recorder.now() < endNanos && ops.incrementAndGet() <= settings.maxOps()) {
            String key;
            OpKind kind;
            if (set) {
                key = setPrefix() + client + "-" + setCounter.getAndIncrement();
                kind = OpKind.CREATE;
            } else {
                key = keys.pick(rnd);
                kind = pickKind(rnd);
            }
            long invoke = recorder.now();
            NodeApi.Answer a = api.call(kind, key);
            long complete = recorder.now();
            recorder.record(client, node, set ? "set" : "register", key, kind, invoke, complete, a.outcome(),
                    a.outcome() == Outcome.OK ? a.read() : null, a.status(), a.error());
            // Pace: one op per period on average, jittered so clients do not march in step; a node that
            // refuses connections (killed, restarting) is retried after a longer pause.
            nextAt += (long) (periodNanos * (0.5 + rnd.nextDouble()));
            if (a.outcome() == Outcome.FAIL && a.status() == 0) {
                nextAt = Math.max(nextAt, recorder.now() + 500_000_000L);
            }
            long wait = nextAt - recorder.now();
            if (wait > 0) {
                pace(wait);
            } else {
                nextAt = recorder.now();
            }
        }
    }

    private static OpKind pickKind(Random rnd) {
        int r = rnd.nextInt(100);
        if (r < 15) {
            return OpKind.CREATE;
        }
        if (r < 35) {
            return OpKind.START;
        }
        if (r < 55) {
            return OpKind.STOP;
        }
        if (r < 65) {
            return OpKind.DELETE;
        }
        return OpKind.READ;
    }

    private static void pace(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)); // rate limit, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
