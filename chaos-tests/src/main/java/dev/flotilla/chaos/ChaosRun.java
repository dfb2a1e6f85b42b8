package dev.flotilla.chaos;

import dev.flotilla.chaos.checker.KeyVerdict;
import dev.flotilla.chaos.checker.Linearizability;
import dev.flotilla.chaos.checker.SetCheck;
import dev.flotilla.chaos.checker.VmLifecycle;
import dev.flotilla.chaos.cluster.ClusterStatus;
import dev.flotilla.chaos.cluster.ClusterUnderTest;
import dev.flotilla.chaos.history.History;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.history.Recorder;
import dev.flotilla.chaos.nemesis.Fault;
import dev.flotilla.chaos.nemesis.FaultCatalog;
import dev.flotilla.chaos.nemesis.FaultTimeline;
import dev.flotilla.chaos.report.DigestCheck;
import dev.flotilla.chaos.report.HealRecovery;
import dev.flotilla.chaos.report.RunReport;
import dev.flotilla.chaos.report.Verdicts;
import dev.flotilla.chaos.workload.Clients;
import dev.flotilla.chaos.workload.NodeApi;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chaos run from start to verdict: cluster up, clients and faults for the configured time, final
 * heal, quiet period, final reads, digest comparison, checks, report, teardown (always).
 */
public final class ChaosRun {
    private static final Logger LOG = LoggerFactory.getLogger(ChaosRun.class);
    private static final int FINAL_CLIENT = 1000;

    /** The run's outcome and where its report is. */
    public record Result(Verdicts verdicts, String summary, Path reportDir) {
    }

    private final RunConfig config;
    private final List<String> harnessErrors = Collections.synchronizedList(new ArrayList<>());

    public ChaosRun(RunConfig config) {
        this.config = config;
    }

    /** Runs it. Throws only when the cluster cannot be set up at all; every later trouble is in the report. */
    public Result run() {
        Path dir = config.outRoot().resolve(config.name());
        freshDirectory(dir);
        LOG.info("chaos run {}: {} s, faults {}, seed {}, unsafe local reads {}", config.name(),
                config.time().toSeconds(), config.faults().stream().map(Fault::kind).toList(), config.seed(),
                config.unsafeLocalReads());
        ClusterUnderTest.Options options = new ClusterUnderTest.Options(config.flotilla(), dir, config.nodeIds(),
                config.unsafeLocalReads(), FaultCatalog.needsFaketime(config.faults()), config.nodeJavaOptions(),
                Duration.ofSeconds(120));
        try (ClusterUnderTest cluster = ClusterUnderTest.start(options)) {
            Recorder recorder = new Recorder(System.nanoTime());
            FaultTimeline timeline = new FaultTimeline(recorder::now);
            long end = config.time().toNanos();
            // Ids carry the seed too, so no run can meet another run's VMs even in a reused cluster.
            String tag = config.name().replaceAll("[^A-Za-z0-9]", "") + Long.toString(Math.abs(config.seed()) % 1_000_000, 36);
            Clients clients = new Clients(cluster, recorder, config.clients(), tag, config.seed());
            // Clients run until the faults are done: the configured time, stretched until every kind
            // has been injected once, so a short run still meets them all.
            clients.start(Long.MAX_VALUE);
            try {
                injectFaults(cluster, timeline, recorder, end);
            } finally {
                clients.stopAndJoin();
                finalHeal(cluster, timeline);
            }
            probeWrite(cluster, recorder, clients.setPrefix());
            long runNanos = recorder.now();
            quietPeriod(cluster);
            finalReads(cluster, recorder, clients.registerKeys());
            Map<String, Optional<Set<String>>> sets = finalSetReads(cluster, clients.setPrefix());
            DigestCheck digests = compareDigests(cluster);
            History history = recorder.history();
            LOG.info("checking {} ops", history.ops().size());
            Map<String, KeyVerdict> lin = new Linearizability(new VmLifecycle(), config.budget()).check(history);
            SetCheck.Result set = worst(history, sets);
            Verdicts verdicts = Verdicts.of(lin, set, digests, HealRecovery.measure(history, timeline.windows()),
                    harnessErrors);
            String summary = RunReport.write(dir, config.name(), history, timeline.windows(), verdicts,
                    Math.max(runNanos, recorder.now()));
            LOG.info("{}", summary);
            return new Result(verdicts, summary, dir);
        }
    }

    /** A run starts from nothing: an old report or node data under the same name is removed. */
    private static void freshDirectory(Path dir) {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        LOG.warn("removing the earlier run directory {}", dir);
        try (java.util.stream.Stream<Path> walk = java.nio.file.Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot clear the run directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private void injectFaults(ClusterUnderTest cluster, FaultTimeline timeline, Recorder recorder, long end) {
        Random rnd = new Random(config.seed());
        List<Fault> cycle = new ArrayList<>();
        pauseUntil(recorder, recorder.now() + between(rnd, config.gapMin(), config.gapMax()), end);
        int attempted = 0;
        int kinds = config.faults().size();
        while (kinds > 0 && (recorder.now() < end || attempted < kinds)) {
            attempted++;
            if (cycle.isEmpty()) {
                cycle.addAll(config.faults());
                Collections.shuffle(cycle, rnd);
            }
            supervise(cluster, timeline);
            Fault fault = cycle.remove(0);
            long id = timeline.begin(fault.kind(), "", "injecting");
            Fault.Injected injected;
            try {
                injected = fault.inject(cluster, rnd);
            } catch (RuntimeException e) {
                String msg = fault.kind() + " could not be injected: " + e.getMessage();
                LOG.error("{}", msg, e);
                harnessErrors.add(msg);
                timeline.end(id, "NOT INJECTED: " + e.getMessage());
                healEverything(cluster);
                continue;
            }
            timeline.retarget(id, injected.targets(), injected.detail());
            LOG.info("fault {} on {}: {}", fault.kind(), injected.targets(), injected.detail());
            pauseUntil(recorder, recorder.now() + between(rnd, config.faultHoldMin(), config.faultHoldMax()),
                    Long.MAX_VALUE);
            String healed;
            try {
                healed = injected.heal();
            } catch (RuntimeException e) {
                String msg = fault.kind() + " could not be healed: " + e.getMessage();
                LOG.error("{}", msg, e);
                harnessErrors.add(msg);
                healed = "HEAL FAILED: " + e.getMessage();
                healEverything(cluster);
            }
            timeline.end(id, healed);
            LOG.info("healed {}: {}", fault.kind(), healed);
            pauseUntil(recorder, recorder.now() + between(rnd, config.gapMin(), config.gapMax()),
                    attempted < kinds ? Long.MAX_VALUE : end);
        }
    }

    /**
     * What systemd's Restart=always does for a real node: a node that exited by itself (every fault is
     * healed before the next, so none is meant to be down here) is started again on its data. Each
     * restart is a "supervisor" window in the timeline, so the report shows how often it happened.
     */
    private void supervise(ClusterUnderTest cluster, FaultTimeline timeline) {
        for (String node : cluster.nodeIds()) {
            if (cluster.running(node)) continue;
            long id = timeline.begin("supervisor", node, "exited by itself; restarting it as its supervisor would");
            try {
                cluster.restart(node);
                timeline.end(id, "restarted");
                LOG.warn("supervisor: node {} had exited by itself; restarted it", node);
            } catch (RuntimeException e) {
                harnessErrors.add("could not restart " + node + " after it exited by itself: " + e.getMessage());
                timeline.end(id, "RESTART FAILED: " + e.getMessage());
            }
        }
    }

    private static long between(Random rnd, Duration min, Duration max) {
        long lo = min.toNanos();
        long hi = Math.max(lo, max.toNanos());
        return lo + (long) (rnd.nextDouble() * (hi - lo));
    }

    /** Holds a fault (or the calm after it) until {@code t}, but not past the end of the run. */
    private static void pauseUntil(Recorder recorder, long t, long end) {
        long until = Math.min(t, end);
        while (recorder.now() < until) {
            try {
                Thread.sleep(Math.max(1, Math.min(200, (until - recorder.now()) / 1_000_000))); // a fault's duration
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("chaos run interrupted", e);
            }
        }
    }

    /** The end of every run: whatever is still broken is mended, as one "final-heal" window. */
    private void finalHeal(ClusterUnderTest cluster, FaultTimeline timeline) {
        timeline.endAll("closed by the final heal");
        long id = timeline.begin("final-heal", String.join(" ", cluster.nodeIds()), "heal network, clocks, pauses, dead nodes");
        String what = healEverything(cluster);
        timeline.end(id, what);
    }

    private String healEverything(ClusterUnderTest cluster) {
        List<String> done = new ArrayList<>();
        try {
            cluster.network().heal();
            done.add("network healed");
        } catch (RuntimeException e) {
            harnessErrors.add("final heal of the network failed: " + e.getMessage());
        }
        for (String id : cluster.nodeIds()) {
            cluster.resume(id);
            if (FaultCatalog.needsFaketime(config.faults())) {
                cluster.setClockOffset(id, 0);
            }
            if (!cluster.running(id)) {
                try {
                    cluster.restart(id);
                    done.add("restarted " + id);
                } catch (RuntimeException e) {
                    harnessErrors.add("could not restart " + id + " in the final heal: " + e.getMessage());
                }
            }
        }
        return String.join(", ", done);
    }

    /**
     * After the final heal, creates fresh set ids on the nodes in turn until one is acknowledged, so the
     * report has the time from the last heal to the first successful write. They join the set check.
     */
    private void probeWrite(ClusterUnderTest cluster, Recorder recorder, String prefix) {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        int attempt = 0;
        while (System.nanoTime() < deadline) {
            String node = cluster.nodeIds().get(attempt % cluster.nodeIds().size());
            String key = prefix + "probe-" + attempt++;
            long invoke = recorder.now();
            NodeApi.Answer a = cluster.api(node).call(OpKind.CREATE, key);
            recorder.record(FINAL_CLIENT - 1, node, "set", key, OpKind.CREATE, invoke, recorder.now(), a.outcome(),
                    null, a.status(), a.error());
            if (a.outcome() == Outcome.OK) {
                return;
            }
            try {
                Thread.sleep(100); // retry interval while the cluster recovers
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        harnessErrors.add("no write succeeded within 90 s of the final heal");
    }

    private void quietPeriod(ClusterUnderTest cluster) {
        try {
            cluster.awaitHealthy(Duration.ofSeconds(90));
        } catch (RuntimeException e) {
            harnessErrors.add("cluster not healthy after the final heal: " + e.getMessage());
        }
        long until = System.nanoTime() + config.quiet().toNanos();
        while (System.nanoTime() < until) {
            try {
                Thread.sleep(100); // the quiet period is a stretch of time with no fault and no client
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted in the quiet period", e);
            }
        }
    }

    /** Reads every register key from every node; each read is part of the history the checker sees. */
    private void finalReads(ClusterUnderTest cluster, Recorder recorder, List<String> keys) {
        int c = FINAL_CLIENT;
        for (String node : cluster.nodeIds()) {
            NodeApi api = cluster.newApi(node, Duration.ofSeconds(10));
            int unanswered = 0;
            for (String key : keys) {
                long invoke = recorder.now();
                NodeApi.Answer a = api.call(OpKind.READ, key);
                recorder.record(c, node, "final", key, OpKind.READ, invoke, recorder.now(), a.outcome(),
                        a.outcome() == Outcome.OK ? a.read() : null, a.status(), a.error());
                if (a.outcome() != Outcome.OK) {
                    harnessErrors.add("final read of " + key + " on " + node + " got no answer: " + a.error());
                    if (++unanswered == 3) {
                        harnessErrors.add("gave up the final reads on " + node + " after 3 unanswered");
                        break;
                    }
                }
            }
            c++;
        }
    }

    private Map<String, Optional<Set<String>>> finalSetReads(ClusterUnderTest cluster, String prefix) {
        Map<String, Optional<Set<String>>> out = new LinkedHashMap<>();
        for (String node : cluster.nodeIds()) {
            Optional<Set<String>> ids = cluster.newApi(node, Duration.ofSeconds(20)).listIds().map(all -> {
                Set<String> mine = new TreeSet<>();
                for (String id : all) {
                    if (id.startsWith(prefix)) {
                        mine.add(id);
                    }
                }
                return mine;
            });
            out.put(node, ids);
        }
        return out;
    }

    /** The set check against every node's final list; the worst verdict counts. */
    private static SetCheck.Result worst(History history, Map<String, Optional<Set<String>>> reads) {
        SetCheck.Result worst = null;
        for (Map.Entry<String, Optional<Set<String>>> e : reads.entrySet()) {
            SetCheck.Result r = SetCheck.check(history, e.getValue());
            r = new SetCheck.Result(r.verdict(), r.attempted(), r.acknowledged(), r.failed(), r.unknown(),
                    r.unknownPresent(), r.lost(), r.unexpected(), "on " + e.getKey() + ": " + r.note());
            if (worst == null || rank(r.verdict()) > rank(worst.verdict())) {
                worst = r;
            }
        }
        return worst == null ? SetCheck.check(history, Optional.empty()) : worst;
    }

    private static int rank(SetCheck.Verdict v) {
        return switch (v) {
            case PASS -> 0;
            case UNKNOWN -> 1;
            case FAIL -> 2;
        };
    }

    /** Polls every node's digest until all stand at one index with one digest, or 60 s pass. */
    private static DigestCheck compareDigests(ClusterUnderTest cluster) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        DigestCheck last;
        do {
            Map<String, String> digests = new HashMap<>();
            Map<String, Long> index = new HashMap<>();
            for (String id : cluster.nodeIds()) {
                Optional<ClusterStatus> s = cluster.status(id);
                s.ifPresent(st -> {
                    digests.put(id, st.digest());
                    index.put(id, st.appliedIndex());
                });
            }
            last = DigestCheck.judge(cluster.nodeIds().size(), digests, index);
            if (last.verdict() == DigestCheck.Verdict.PASS) {
                return last;
            }
            // Differing digests at one index are final; anything else may still converge.
            if (last.verdict() == DigestCheck.Verdict.FAIL && index.values().stream().distinct().count() == 1) {
                return last;
            }
            try {
                Thread.sleep(250); // poll interval of a deadline loop
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return last;
            }
        } while (System.nanoTime() < deadline);
        return last;
    }
}
