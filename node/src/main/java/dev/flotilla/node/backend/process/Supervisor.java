package dev.flotilla.node.backend.process;

import dev.flotilla.node.backend.Backend;
import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.node.control.Lifecycle;
import dev.flotilla.proto.ObservedState;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Keeps VMs of any {@link Backend} running by their lifecycle: it polls their status, and when one
 * ends asks the {@link RestartPolicy} whether and when to start it again. It tells a listener every
 * step (the agent turns them into ReportStatus commands); it never decides whether a VM should run at
 * all — the agent {@link #release releases} a VM before stopping or deleting it.
 */
public final class Supervisor implements AutoCloseable {

    /** What happened to a supervised VM; the agent reports these. */
    public sealed interface Event {
        String name();

        /**
         * The backend started the VM; {@code attempt} counts from 1; {@code status} is what the backend
         * said right after (empty when it could not tell).
         */
        record Started(String name, int attempt, Optional<VmStatus> status) implements Event {}

        /** The VM ended (exited, failed, or failed to start), having run for {@code ranForMs}. */
        record Ended(String name, VmStatus status, long ranForMs) implements Event {}

        /** It will be started again after {@code delayMs}. */
        record RestartScheduled(String name, long delayMs, int crashesInARow) implements Event {}

        /** It stays ended (a job): {@code status} holds the exit code or the failure. No more events follow. */
        record Finished(String name, VmStatus status) implements Event {}

        /** A VM that was still starting when started (a booting microVM) is now running. */
        record Running(String name, VmStatus status) implements Event {}
    }

    /** How often a VM that is still starting is asked again, so "running" is seen soon after it is true. */
    private static final long SETTLE_POLL_MS = 25;
    /** How long such quick asking goes on before the ordinary poll takes over. */
    private static final long SETTLE_LIMIT_MS = 120_000;

    private final Backend backend;
    private final RestartPolicy policy;
    private final LongSupplier clockMs;
    private final Consumer<Event> listener;
    private final ScheduledExecutorService loop;
    private final Map<String, Watched> watched = new TreeMap<>();

    /** One VM under watch: its instance, when its current run began, its backoff, its pending restart. */
    private static final class Watched {
        final VmInstance vm;
        long startedAtMs;
        int attempts;
        RestartPolicy.Backoff backoff = RestartPolicy.Backoff.fresh();
        ScheduledFuture<?> pendingRestart;
        boolean running;
        /** The state the last poll saw, so the change from starting to running is told once. */
        ObservedState seen = ObservedState.OBSERVED_UNSPECIFIED;

        Watched(VmInstance vm) {
            this.vm = vm;
        }
    }

    /**
     * @param pollEvery how often each VM's status is read; ends are noticed at most this late
     * @param clockMs   milliseconds for measuring run lengths (System::currentTimeMillis in the agent)
     */
    public Supervisor(Backend backend, RestartPolicy policy, Duration pollEvery, LongSupplier clockMs, Consumer<Event> listener) {
        this.backend = backend;
        this.policy = policy;
        this.clockMs = clockMs;
        this.listener = listener;
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "supervisor-" + backend.name());
            t.setDaemon(true);
            return t;
        });
        loop.scheduleWithFixedDelay(this::poll, pollEvery.toMillis(), pollEvery.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Starts the VM now and keeps it by its lifecycle. */
    public void supervise(VmInstance vm) {
        loop.execute(() -> {
            Watched w = new Watched(vm);
            replace(w);
            startNow(w);
        });
    }

    /** Watches a VM that is already running (found after an agent restart) without starting it again. */
    public void adopt(VmInstance vm) {
        loop.execute(() -> {
            Watched w = new Watched(vm);
            w.startedAtMs = clockMs.getAsLong();
            w.running = true;
            w.seen = ObservedState.RUNNING; // adopted because it runs: nothing new to tell
            replace(w);
        });
    }

    /** Stops watching the VM (before the agent stops or deletes it); a restart not yet due is cancelled. Waits until done. */
    public void release(String name) {
        try {
            loop.submit(() -> {
                Watched w = watched.remove(name);
                if (w != null && w.pendingRestart != null) {
                    w.pendingRestart.cancel(false);
                }
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("releasing " + name + " failed", e.getCause());
        }
    }

    private void replace(Watched w) {
        Watched old = watched.put(w.vm.name(), w);
        if (old != null && old.pendingRestart != null) {
            old.pendingRestart.cancel(false);
        }
    }

    private void startNow(Watched w) {
        if (watched.get(w.vm.name()) != w) {
            return; // released meanwhile
        }
        w.pendingRestart = null;
        w.attempts++;
        w.startedAtMs = clockMs.getAsLong();
        try {
            backend.start(w.vm);
            w.running = true;
            w.seen = ObservedState.STARTING;
            // Asked at once, not after the first settle pause: a backend whose start waits for its guest
            // (microvm) says running now, and the listener gets it with the start instead of asking again.
            Optional<VmStatus> now = statusNow(w.vm);
            tell(new Event.Started(w.vm.name(), w.attempts, now));
            now.ifPresent(s -> {
                if (s.exists() && (s.state() == ObservedState.RUNNING || s.state() == ObservedState.STARTING)) {
                    seen(w, s);
                }
            });
            if (w.seen == ObservedState.STARTING) {
                long since = clockMs.getAsLong();
                int attempt = w.attempts;
                loop.schedule(() -> settle(w, attempt, since), SETTLE_POLL_MS, TimeUnit.MILLISECONDS);
            }
        } catch (BackendException | RuntimeException e) {
            ended(w, VmStatus.of(ObservedState.FAILED, e.getMessage()));
        }
    }

    private Optional<VmStatus> statusNow(VmInstance vm) {
        try {
            return Optional.of(backend.status(vm));
        } catch (BackendException | RuntimeException e) {
            return Optional.empty(); // the settle and the poll ask again
        }
    }

    private void poll() {
        try {
            pollOnce();
        } catch (RuntimeException e) {
            // One bad round must not end supervision: scheduleWithFixedDelay drops a task that throws.
        }
    }

    private void pollOnce() {
        for (Watched w : watched.values().toArray(new Watched[0])) {
            if (!w.running) {
                continue;
            }
            VmStatus s;
            try {
                s = backend.status(w.vm);
            } catch (BackendException | RuntimeException e) {
                // Cannot tell: keep it as it is and ask again on the next poll rather than restart a live VM.
                continue;
            }
            if (s.exists() && (s.state() == ObservedState.RUNNING || s.state() == ObservedState.STARTING)) {
                seen(w, s);
                continue;
            }
            ended(w, s);
        }
    }

    /** Asks a just-started VM again and again until it is no longer starting (the poll handles ends). */
    private void settle(Watched w, int attempt, long since) {
        if (watched.get(w.vm.name()) != w || w.attempts != attempt || !w.running || w.seen != ObservedState.STARTING) {
            return;
        }
        try {
            VmStatus s = backend.status(w.vm);
            if (s.exists() && (s.state() == ObservedState.RUNNING || s.state() == ObservedState.STARTING)) {
                seen(w, s);
            }
        } catch (BackendException | RuntimeException e) {
            // asked again below, or by the poll
        }
        if (w.seen == ObservedState.STARTING && clockMs.getAsLong() - since < SETTLE_LIMIT_MS) {
            loop.schedule(() -> settle(w, attempt, since), SETTLE_POLL_MS, TimeUnit.MILLISECONDS);
        }
    }

    private void seen(Watched w, VmStatus s) {
        ObservedState before = w.seen;
        w.seen = s.state();
        if (s.state() == ObservedState.RUNNING && before != ObservedState.RUNNING) {
            tell(new Event.Running(w.vm.name(), s));
        }
    }

    private void ended(Watched w, VmStatus status) {
        w.running = false;
        long ranFor = Math.max(0, clockMs.getAsLong() - w.startedAtMs);
        tell(new Event.Ended(w.vm.name(), status, ranFor));
        Lifecycle lifecycle;
        try {
            lifecycle = Lifecycle.of(w.vm.spec().getLifecycle());
        } catch (IllegalArgumentException e) {
            lifecycle = Lifecycle.SERVICE; // the rules validate specs; a stray value keeps the safe default
        }
        RestartPolicy.Decision d = policy.afterEnd(lifecycle, w.backoff, ranFor);
        if (d instanceof RestartPolicy.Decision.Restart r) {
            w.backoff = r.next();
            tell(new Event.RestartScheduled(w.vm.name(), r.delayMs(), r.next().crashesInARow()));
            w.pendingRestart = loop.schedule(() -> startNow(w), r.delayMs(), TimeUnit.MILLISECONDS);
        } else {
            watched.remove(w.vm.name());
            tell(new Event.Finished(w.vm.name(), status));
        }
    }

    // A listener that throws must not end the poll loop (a scheduled task that throws is never run again).
    private void tell(Event e) {
        try {
            listener.accept(e);
        } catch (RuntimeException ignored) {
            // the listener's own failure is its business; supervision goes on
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
    }
}
