package dev.flotilla.node.sim;

import dev.flotilla.node.net.NetworkTable;
import dev.flotilla.node.net.Router;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Shared helpers for the runtime tests: a stepped runtime on one node and status lookups. */
final class SimTestSupport {
    private SimTestSupport() {
    }

    static SimConfig config() {
        return SimConfig.defaults().withShards(2);
    }

    /** A stepped runtime whose router knows the given ip -> node table (all on node "n1" unless told). */
    static SimRuntime runtime(SimConfig cfg, String... ips) {
        Router router = new Router("n1");
        Map<String, String> hosts = new HashMap<>();
        for (String ip : ips) {
            hosts.put(ip, "n1");
        }
        router.updateTable(NetworkTable.ofHosts(hosts));
        return new SimRuntime(cfg, router);
    }

    static SimVmSpec vm(String id, String ip, String source) {
        return SimVmSpec.of(id, ip, new SimProgram(id + ".lua", source));
    }

    static SimVmStatus status(SimRuntime rt, String id) {
        try {
            Optional<SimVmStatus> s = rt.status(id).get(10, TimeUnit.SECONDS);
            return s.orElseThrow(() -> new AssertionError("no status for VM " + id));
        } catch (Exception e) {
            throw new AssertionError("status of " + id + " did not arrive: " + e, e);
        }
    }

    static List<String> logs(SimRuntime rt, String id) {
        try {
            return rt.logs(id).get(10, TimeUnit.SECONDS).orElseThrow();
        } catch (Exception e) {
            throw new AssertionError("logs of " + id + " did not arrive: " + e, e);
        }
    }

    /** Polls until the condition holds or the deadline passes (never a fixed sleep). */
    static void await(String what, long timeoutMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeoutMillis + " ms waiting for: " + what);
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(5); // poll interval only; the condition is what we wait on
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what);
            }
        }
    }

    static String lastError(SimVmStatus s) {
        return s.processes().isEmpty() ? "" : s.processes().get(0).lastError();
    }
}
