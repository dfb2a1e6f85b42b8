package dev.flotilla.node.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.microvm.FlakeWriter;
import dev.flotilla.node.backend.microvm.MicrovmDefinition;
import dev.flotilla.node.backend.microvm.QmpClient;
import dev.flotilla.node.backend.microvm.VmName;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.microvm.HostCommand;
import dev.flotilla.node.cluster.Eventually;
import dev.flotilla.node.cluster.LocalCluster.Member;
import dev.flotilla.proto.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A microvm VM end to end on a real node process: created through the HTTP API, placed by the leader,
 * created and started by the node's agent through MicrovmBackend on the microvm.nix test host
 * (scripts/microvm-host), observed running once QMP says so, then stopped and deleted through the API.
 * The guest is real (Debian's kernel and a busybox initramfs in qemu under TCG). The job id has upper
 * case, '_' and '.', so it reaches the host under its mapped name. The node, killed and restarted,
 * adopts the running guest. An operator's own microVM in the same state dir is left alone throughout.
 */
class MicrovmDispatchTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Path SCRIPTS = Path.of("..", "scripts", "microvm-host").toAbsolutePath().normalize();
    private static final String JOB = "Game_Server.eu-1";

    @Test
    void aMicrovmVmCreatedThroughTheApiRunsAsARealGuestThenStopsAndIsDeleted() throws Exception {
        assertTrue(Files.isExecutable(SCRIPTS.resolve("microvm")), "the test host is missing at " + SCRIPTS);
        Path host = Files.createTempDirectory("flotilla-microvm-host");
        Path state = host.resolve("microvms");
        Path units = host.resolve("units");
        String yaml = "backends: [process, microvm]\n"
                + "microvm:\n"
                + "  state_dir: " + state + "\n"
                + "  gc_roots_dir: " + host.resolve("gcroots") + "\n"
                + "  microvm_command: " + SCRIPTS.resolve("microvm") + "\n"
                + "  systemctl_command: " + SCRIPTS.resolve("systemctl") + "\n"
                + "  command_timeout_ms: 120000\n"
                + "  stop_timeout_ms: 90000\n"
                + "  environment: {SYSTEMCTL_STATE_DIR: " + units + ", MICROVM_SHUTDOWN_GRACE: \"40\", MICROVM_TIMEOUT_STOP_SEC: \"60\"}\n";
        Map<String, String> env = Map.of("MICROVM_STATE_DIR", state.toString(),
                "MICROVM_GCROOTS_DIR", host.resolve("gcroots").toString(), "SYSTEMCTL_STATE_DIR", units.toString());
        Path operators = operatorsMicrovm(host, env, "ops-db");

        try (DispatchCluster dc = new DispatchCluster(1, "flotilla-microvm", yaml)) {
            dc.startAndAwaitRegistered();
            Member n1 = dc.cluster.members().get(0);
            assertTrue(dc.nodes().get(0).path("backends").toString().contains("microvm"), "n1 offers microvm: " + dc.nodes());

            assertEquals(202, dc.send("POST", "/vms", "{\"job_id\":\"" + JOB + "\",\"tenant\":\"games\",\"spec\":{"
                    + "\"runtime\":\"microvm\",\"hypervisor\":\"qemu\",\"resources\":{\"vcpu\":1,\"mem_mb\":128},"
                    + "\"lifecycle\":\"service\"}}").status());
            JsonNode running;
            try {
                running = Eventually.await(JOB + " observed running", WAIT, () -> {
                    JsonNode v = dc.vm(JOB);
                    return v != null && v.path("observed").asText().equals("running") ? v : null;
                });
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; the record: " + dc.vm(JOB) + dc.logs(), e);
            }
            assertEquals("n1", running.path("node").asText());
            assertTrue(running.path("reason").asText().contains("QMP status 'running'"), running.toString());

            String name = VmName.forMachine(JOB);
            assertTrue(name.startsWith("game-server-eu-1-"), name);
            Path vmDir = state.resolve(name);
            assertEquals("running", new QmpClient(vmDir.resolve(name + ".sock"), Duration.ofSeconds(5)).queryStatus(),
                    "qemu itself says the guest runs");
            Path journal = units.resolve(VmName.unit(name)).resolve("journal");
            Eventually.await("the guest's 'up' line on its console", WAIT, () -> read(journal).contains("flotilla-guest: up (" + name + ")"));
            long qemu = mainPid(env, name);
            assertTrue(ProcessHandle.of(qemu).map(ProcessHandle::isAlive).orElse(false), "qemu " + qemu + " runs");

            // The node killed with SIGKILL and restarted: its agent finds the microVM by its Flotilla name
            // (list() maps the host name back) and adopts it, without restarting the guest.
            long epoch = running.path("epoch").asLong();
            dc.cluster.kill(n1);
            assertTrue(ProcessHandle.of(qemu).map(ProcessHandle::isAlive).orElse(false), "the guest outlives its node");
            dc.cluster.start(n1);
            dc.cluster.awaitHealthy(WAIT);
            Eventually.await("the restarted agent adopting " + JOB, WAIT, () -> read(n1.log()).contains("VM " + JOB + " (epoch " + epoch + ") is running here: adopting it"));
            assertEquals(qemu, mainPid(env, name), "the adopted guest is the same qemu, not a new boot");
            assertEquals("running", dc.vm(JOB).path("observed").asText());

            assertEquals(202, dc.send("POST", "/vms/" + JOB + "/stop", null).status());
            Eventually.await(JOB + " observed stopped", WAIT, () -> "stopped".equals(dc.vm(JOB).path("observed").asText()));
            assertFalse(ProcessHandle.of(qemu).map(ProcessHandle::isAlive).orElse(false), "qemu " + qemu + " survived the stop");
            assertFalse(Files.exists(vmDir.resolve("booted"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "stop left the booted link");
            assertTrue(read(journal).contains("flotilla-guest: power button"), "the guest was powered off through QMP");

            int deleted = dc.send("DELETE", "/vms/" + JOB, null).status();
            assertTrue(deleted == 200 || deleted == 202 || deleted == 204, "DELETE answered " + deleted);
            Eventually.await(JOB + " gone from the registry", WAIT, () -> dc.vm(JOB) == null);
            // The agent removes the state dir first and the flake after it, so both are waited on.
            Path flake = state.resolve(".flotilla-flakes").resolve(name);
            Eventually.await("the microVM's state dir and flake removed by the agent", WAIT,
                    () -> !Files.exists(vmDir) && !Files.exists(flake));

            assertTrue(Files.isExecutable(operators.resolve("current/bin/microvm-run")),
                    "the operator's own microVM in the same state dir is left alone");
        } finally {
            stopAll(env, units);
        }
    }

    /** An operator's own microVM, made with microvm.nix's command from a flake outside Flotilla's. */
    private static Path operatorsMicrovm(Path host, Map<String, String> env, String name) throws Exception {
        Path flake = host.resolve("operator").resolve(name);
        Files.createDirectories(flake);
        VmInstance vm = new VmInstance(name, VmSpec.newBuilder().setRuntime("microvm").build(), "", "", 0);
        Files.writeString(flake.resolve("flake.nix"), FlakeWriter.render(MicrovmDefinition.of(vm)));
        HostCommand.Result made = new HostCommand(env).run(List.of(SCRIPTS.resolve("microvm").toString(), "-c", name,
                "-f", "path:" + flake), Duration.ofSeconds(120));
        assertTrue(made.ok(), made.describe());
        return host.resolve("microvms").resolve(name);
    }

    private static long mainPid(Map<String, String> env, String name) throws BackendException {
        HostCommand.Result show = new HostCommand(env).run(List.of(SCRIPTS.resolve("systemctl").toString(), "show",
                "-p", "MainPID", "--value", VmName.unit(name)), Duration.ofSeconds(30));
        return Long.parseLong(show.stdout().strip());
    }

    /** Whatever a failed run left: every unit of the test host stopped, so no qemu outlives the test. */
    private static void stopAll(Map<String, String> env, Path units) throws IOException, BackendException {
        if (!Files.isDirectory(units)) return;
        try (var dirs = Files.list(units)) {
            for (Path u : dirs.toList()) {
                new HostCommand(env).run(List.of(SCRIPTS.resolve("systemctl").toString(), "stop", u.getFileName().toString()),
                        Duration.ofSeconds(90));
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
