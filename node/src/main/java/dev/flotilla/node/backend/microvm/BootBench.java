package dev.flotilla.node.backend.microvm;

import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Measures a microVM boot on the test host two ways, with the same polling: the runner's own
 * {@code microvm-run} exec'd directly, and {@link MicrovmBackend} create+start. Run by
 * scripts/bench-boot.sh; prints one line per run and the medians.
 */
public final class BootBench {
    private static final Duration LIMIT = Duration.ofSeconds(180);
    private static final String UP = "flotilla-guest: up";
    private static final Duration POLL = Duration.ofMillis(10);

    private BootBench() {}

    /** Times of one boot, in milliseconds from the start of the measured action. */
    public record Boot(double qmpRunningMs, double upMs, double createMs, double startMs) {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of(arg(args, "--work", "/tmp/flotilla-bench"));
        Path scripts = Path.of(arg(args, "--scripts", "scripts/microvm-host")).toAbsolutePath();
        int runs = Integer.parseInt(arg(args, "--runs", "5"));
        int memMb = Integer.parseInt(arg(args, "--mem", "128"));
        MicrovmSettings settings = new MicrovmSettings(work.resolve("microvms"),
                work.resolve("microvms/.flotilla-flakes"), work.resolve("gcroots"),
                List.of(scripts.resolve("microvm").toString()), List.of(scripts.resolve("systemctl").toString()),
                Duration.ofSeconds(300), Duration.ofSeconds(60), Duration.ofSeconds(3),
                Map.of("SYSTEMCTL_STATE_DIR", work.resolve("units").toString(), "MICROVM_SHUTDOWN_GRACE", "20"));
        MicrovmBackend backend = new MicrovmBackend(settings);

        // Built once and not timed: the raw runner needs a runner to exist.
        VmInstance raw = vm("bench-raw", memMb);
        backend.create(raw);
        // One boot first, not counted: it warms the page cache with qemu, the kernel and the initramfs.
        rawBoot(backend.vmDir("bench-raw"), "bench-raw", work.resolve("raw-warmup.log"));
        // Raw and backend runs alternate, so that the load of this shared machine, which drifts over
        // minutes, weighs on both alike.
        List<Boot> rawBoots = new ArrayList<>();
        List<Boot> flotillaBoots = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            Boot b = rawBoot(backend.vmDir("bench-raw"), "bench-raw", work.resolve("raw-" + i + ".log"));
            rawBoots.add(b);
            System.out.printf("raw microvm-run      run %d: QMP running %7.1f ms, guest up %8.1f ms%n",
                    i, b.qmpRunningMs(), b.upMs());

            VmInstance vm = vm("bench-fl-" + i, memMb);
            Path journal = work.resolve("units").resolve(VmName.unit(vm.name())).resolve("journal");
            Boot f = backendBoot(backend, vm, journal);
            flotillaBoots.add(f);
            System.out.printf("MicrovmBackend       run %d: QMP running %7.1f ms, guest up %8.1f ms"
                    + "  (create %.1f ms, start %.1f ms)%n", i, f.qmpRunningMs(), f.upMs(), f.createMs(), f.startMs());
            backend.delete(vm);
        }
        backend.delete(raw);

        double rawQmp = median(rawBoots.stream().mapToDouble(Boot::qmpRunningMs).toArray());
        double rawUp = median(rawBoots.stream().mapToDouble(Boot::upMs).toArray());
        double flQmp = median(flotillaBoots.stream().mapToDouble(Boot::qmpRunningMs).toArray());
        double flUp = median(flotillaBoots.stream().mapToDouble(Boot::upMs).toArray());
        System.out.printf("median of %d, raw microvm-run:            QMP running %7.1f ms, guest up %8.1f ms%n",
                runs, rawQmp, rawUp);
        System.out.printf("median of %d, MicrovmBackend create+start: QMP running %7.1f ms, guest up %8.1f ms%n",
                runs, flQmp, flUp);
        System.out.printf("median create (flake + microvm -c) %.1f ms, start (systemctl start) %.1f ms%n",
                median(flotillaBoots.stream().mapToDouble(Boot::createMs).toArray()),
                median(flotillaBoots.stream().mapToDouble(Boot::startMs).toArray()));
        System.out.printf("backend overhead (difference of medians):   QMP running %7.1f ms, guest up %8.1f ms%n",
                flQmp - rawQmp, flUp - rawUp);
    }

    private static VmInstance vm(String name, int memMb) {
        VmSpec spec = VmSpec.newBuilder().setRuntime("microvm").setHypervisor("qemu")
                .setResources(Resources.newBuilder().setVcpu(1).setMemMb(memMb)).setLifecycle("service").build();
        return new VmInstance(name, spec, "10.0.0.2", "02:00:0a:00:00:02", 1);
    }

    /** Execs the runner as the unit would (in the VM's dir) and polls QMP and the console; quits qemu after. */
    public static Boot rawBoot(Path vmDir, String name, Path console) throws Exception {
        Path socket = vmDir.resolve(name + ".sock");
        Files.deleteIfExists(socket);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(vmDir.resolve("current/bin/microvm-run").toString())
                .directory(vmDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(console.toFile()).start();
        try {
            double qmp = -1;
            double up = -1;
            long deadline = t0 + LIMIT.toNanos();
            while ((qmp < 0 || up < 0) && System.nanoTime() < deadline) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("the runner exited with " + p.exitValue() + ": "
                            + Files.readString(console));
                }
                if (qmp < 0 && Files.exists(socket) && qmpRunning(socket)) {
                    qmp = ms(t0);
                }
                if (up < 0 && Files.readString(console).contains(UP)) {
                    up = ms(t0);
                }
                pause();
            }
            if (qmp < 0 || up < 0) {
                throw new IllegalStateException("no boot within " + LIMIT.toSeconds() + " s: " + Files.readString(console));
            }
            return new Boot(qmp, up, 0, 0);
        } finally {
            try {
                new QmpClient(socket, Duration.ofSeconds(3)).execute("quit");
            } catch (IOException e) {
                // qemu closes the connection as it quits
            }
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private static Boot backendBoot(MicrovmBackend backend, VmInstance vm, Path journal) throws Exception {
        long t0 = System.nanoTime();
        backend.create(vm);
        double created = ms(t0);
        backend.start(vm);
        double started = ms(t0);
        double qmp = -1;
        double up = -1;
        long deadline = t0 + LIMIT.toNanos();
        while ((qmp < 0 || up < 0) && System.nanoTime() < deadline) {
            if (qmp < 0) {
                var s = backend.status(vm);
                if (s.state() == ObservedState.RUNNING) {
                    qmp = ms(t0);
                } else if (s.state() == ObservedState.FAILED) {
                    throw new BackendException("bench VM failed: " + s.reason());
                }
            }
            if (up < 0 && Files.exists(journal) && Files.readString(journal).contains(UP)) {
                up = ms(t0);
            }
            pause();
        }
        if (qmp < 0 || up < 0) {
            throw new IllegalStateException("no boot within " + LIMIT.toSeconds() + " s through the backend");
        }
        return new Boot(qmp, up, created, started - created);
    }

    /**
     * The same poll interval on both paths: a hot loop would take a core from the guest, which under
     * software emulation on two cores slows the very boot being measured.
     */
    private static void pause() {
        java.util.concurrent.locks.LockSupport.parkNanos(POLL.toNanos());
    }

    private static boolean qmpRunning(Path socket) {
        try {
            return new QmpClient(socket, Duration.ofSeconds(3)).queryStatus().equals("running");
        } catch (IOException e) {
            return false; // not listening yet
        }
    }

    private static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }

    public static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static String arg(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
