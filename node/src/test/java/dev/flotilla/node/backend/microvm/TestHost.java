package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The microvm.nix test host of scripts/microvm-host, laid out under one temporary directory. */
final class TestHost {
    static final Path SCRIPTS = Path.of("..", "scripts", "microvm-host").toAbsolutePath().normalize();
    final Path root;
    final MicrovmSettings settings;

    TestHost(Path root) {
        this.root = root;
        assertTrue(Files.isExecutable(SCRIPTS.resolve("microvm")),
                "the test host's microvm command is missing at " + SCRIPTS + "; run the tests from node/ in the repo");
        this.settings = new MicrovmSettings(
                root.resolve("microvms"),
                root.resolve("microvms/.flotilla-flakes"),
                root.resolve("gcroots"),
                List.of(SCRIPTS.resolve("microvm").toString()),
                List.of(SCRIPTS.resolve("systemctl").toString()),
                Duration.ofSeconds(120), // the first create builds the guest initramfs
                Duration.ofSeconds(150),
                Duration.ofSeconds(3),
                Map.of("SYSTEMCTL_STATE_DIR", root.resolve("units").toString(),
                        "MICROVM_RESTART_SEC", "0.2",
                        "MICROVM_SHUTDOWN_GRACE", "40",
                        "MICROVM_TIMEOUT_STOP_SEC", "60"));
    }

    Path journal(String name) {
        return root.resolve("units").resolve(VmName.unit(name)).resolve("journal");
    }

    String journalText(String name) throws IOException {
        return Files.exists(journal(name)) ? Files.readString(journal(name)) : "";
    }

    static VmInstance vm(String name, int memMb, String kernel) {
        VmSpec spec = VmSpec.newBuilder()
                .setRuntime("microvm")
                .setHypervisor("qemu")
                .setKernel(kernel)
                .setResources(Resources.newBuilder().setVcpu(1).setMemMb(memMb))
                .setLifecycle("service")
                .build();
        return new VmInstance(name, spec, "10.0.0.2", "02:00:0a:00:00:02", 1);
    }

    /** Runs a command of the test host with its environment; returns exit code and output. */
    HostCommand.Result run(List<String> command) throws Exception {
        Map<String, String> env = new java.util.HashMap<>(settings.environment());
        env.put("MICROVM_STATE_DIR", settings.stateDir().toString());
        env.put("MICROVM_GCROOTS_DIR", settings.gcRootsDir().toString());
        return new HostCommand(env).run(command, Duration.ofSeconds(120));
    }
}
