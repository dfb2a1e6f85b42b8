package dev.flotilla.node.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.microvm.BootBench;
import dev.flotilla.node.backend.microvm.MicrovmBackend;
import dev.flotilla.node.backend.microvm.MicrovmSettings;
import dev.flotilla.node.cluster.Eventually;
import dev.flotilla.node.cluster.LocalCluster.Response;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmark (b) of issue 3 through the whole control plane: a microvm VM created through the HTTP API
 * of a real node process (controller places it, agent creates and starts it through MicrovmBackend on
 * the test host, reports running once QMP says so), against the same guest's runner exec'd directly
 * (raw microvm-run to QMP running). Rounds alternate so the shared machine's drifting load weighs on
 * both alike; prints every round, the medians and their difference.
 *
 * <p>Usage: MicrovmDispatchBench RUNS SCRIPTS_DIR   (node module's test classpath; scripts/bench-dispatch.sh)
 */
public final class MicrovmDispatchBench {
    private static final Duration LIMIT = Duration.ofSeconds(180);

    private MicrovmDispatchBench() {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        if (runs < 1 || runs > 20) throw new IllegalArgumentException("RUNS must be 1..20");
        Path scripts = Path.of(args.length > 1 ? args[1] : "scripts/microvm-host").toAbsolutePath().normalize();
        Path host = Files.createTempDirectory("flotilla-bench-mv");
        Path units = host.resolve("units");
        String yaml = "backends: [microvm]\n"
                + "microvm:\n"
                + "  state_dir: " + host.resolve("microvms") + "\n"
                + "  gc_roots_dir: " + host.resolve("gcroots") + "\n"
                + "  microvm_command: " + scripts.resolve("microvm") + "\n"
                + "  systemctl_command: " + scripts.resolve("systemctl") + "\n"
                + "  environment: {SYSTEMCTL_STATE_DIR: " + units + ", MICROVM_SHUTDOWN_GRACE: \"20\"}\n";
        // The raw runner lives in a state dir of its own, which the node never looks at.
        Path rawRoot = host.resolve("raw");
        MicrovmBackend rawHost = new MicrovmBackend(new MicrovmSettings(rawRoot.resolve("microvms"),
                rawRoot.resolve("microvms/.flotilla-flakes"), rawRoot.resolve("gcroots"),
                List.of(scripts.resolve("microvm").toString()), List.of(scripts.resolve("systemctl").toString()),
                Duration.ofSeconds(300), Duration.ofSeconds(60), Duration.ofSeconds(3),
                Map.of("SYSTEMCTL_STATE_DIR", rawRoot.resolve("units").toString())));
        VmSpec spec = VmSpec.newBuilder().setRuntime("microvm").setHypervisor("qemu")
                .setResources(Resources.newBuilder().setVcpu(1).setMemMb(128)).setLifecycle("service").build();
        VmInstance raw = new VmInstance("bench-raw", spec, "10.0.0.2", "02:00:0a:00:00:02", 1);
        rawHost.create(raw);
        BootBench.rawBoot(rawHost.vmDir("bench-raw"), "bench-raw", host.resolve("raw-warmup.log"));

        List<Double> rawMs = new ArrayList<>();
        List<Double> apiMs = new ArrayList<>();
        try (DispatchCluster dc = new DispatchCluster(1, "flotilla-bench-mv-node", yaml)) {
            dc.startAndAwaitRegistered();
            for (int i = 0; i <= runs; i++) {
                BootBench.Boot b = BootBench.rawBoot(rawHost.vmDir("bench-raw"), "bench-raw", host.resolve("raw-" + i + ".log"));
                String id = "bench-mv-" + i;
                Response r = dc.send("POST", "/vms", "{\"job_id\":\"" + id + "\",\"spec\":{\"runtime\":\"microvm\","
                        + "\"hypervisor\":\"qemu\",\"resources\":{\"vcpu\":1,\"mem_mb\":128},\"lifecycle\":\"service\"}}");
                if (r.status() != 202) throw new AssertionError("create " + id + ": " + r.text());
                JsonNode v = Eventually.await(id + " running", LIMIT, () -> {
                    JsonNode x = dc.vm(id);
                    return x != null && x.path("observed").asText().equals("running") ? x : null;
                });
                double api = v.path("updated_ms").asLong() - v.path("created_ms").asLong();
                // Round 0 warms the node (JIT, page cache for the runner build) and is not counted.
                System.out.printf(Locale.ROOT, "round %d%s: raw microvm-run to QMP running %7.1f ms; API create to observed running %7.1f ms%n",
                        i, i == 0 ? " (warm-up, not counted)" : "", b.qmpRunningMs(), api);
                if (i > 0) {
                    rawMs.add(b.qmpRunningMs());
                    apiMs.add(api);
                }
                dc.send("DELETE", "/vms/" + id, null);
                Eventually.await(id + " deleted and its microVM removed", LIMIT,
                        () -> dc.vm(id) == null && !Files.exists(host.resolve("microvms").resolve(id)));
            }
        } finally {
            rawHost.delete(raw);
        }
        double rawMedian = BootBench.median(rawMs.stream().mapToDouble(Double::doubleValue).toArray());
        double apiMedian = BootBench.median(apiMs.stream().mapToDouble(Double::doubleValue).toArray());
        System.out.printf(Locale.ROOT, "median of %d: raw microvm-run to QMP running %.1f ms; API create to observed running %.1f ms%n",
                runs, rawMedian, apiMedian);
        System.out.printf(Locale.ROOT, "control-plane overhead through Flotilla (difference of medians): %.1f ms%n", apiMedian - rawMedian);
    }
}
