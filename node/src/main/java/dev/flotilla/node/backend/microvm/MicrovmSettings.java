package dev.flotilla.node.backend.microvm;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Where the microvm backend finds microvm.nix on this host: its state dir, the commands it calls, and
 * how long each call may take.
 *
 * @param stateDir         microvm.nix's state dir ({@code microvm.stateDir}, /var/lib/microvms)
 * @param flakeDir         where Flotilla writes one flake per VM (outside the state dir, which
 *                         {@code microvm -c} fills itself)
 * @param gcRootsDir       where {@code microvm -c} links each VM's runner so Nix keeps it
 * @param microvmCommand   the {@code microvm} command, possibly with leading arguments
 * @param systemctlCommand the {@code systemctl} command, possibly with leading arguments
 * @param commandTimeout   limit for create, start and status calls
 * @param stopTimeout      limit for a stop (the unit's TimeoutStopSec is 150 s)
 * @param socketTimeout    limit for one exchange on a hypervisor's control socket
 * @param environment      extra environment for both commands (the test host reads its settings here)
 */
public record MicrovmSettings(
        Path stateDir,
        Path flakeDir,
        Path gcRootsDir,
        List<String> microvmCommand,
        List<String> systemctlCommand,
        Duration commandTimeout,
        Duration stopTimeout,
        Duration socketTimeout,
        Map<String, String> environment) {

    public MicrovmSettings {
        if (microvmCommand.isEmpty() || systemctlCommand.isEmpty()) {
            throw new IllegalArgumentException("microvm_command and systemctl_command must not be empty");
        }
        microvmCommand = List.copyOf(microvmCommand);
        systemctlCommand = List.copyOf(systemctlCommand);
        environment = Map.copyOf(environment);
    }

    /** The settings of a NixOS host with microvm.nix's host module, for the given config values. */
    public static MicrovmSettings of(Path stateDir, String microvmCommand, String systemctlCommand) {
        return new MicrovmSettings(
                stateDir,
                stateDir.resolve(".flotilla-flakes"),
                Path.of("/nix/var/nix/gcroots/microvm"),
                List.of(microvmCommand),
                List.of(systemctlCommand),
                Duration.ofMinutes(10), // a first `microvm -c` may build a whole NixOS closure
                Duration.ofSeconds(180),
                Duration.ofSeconds(3),
                Map.of());
    }

    /** Defaults from docs/configuration.md: /var/lib/microvms, `microvm`, `systemctl`. */
    public static MicrovmSettings defaults() {
        return of(Path.of("/var/lib/microvms"), "microvm", "systemctl");
    }

    public MicrovmSettings withGcRootsDir(Path dir) {
        return new MicrovmSettings(stateDir, flakeDir, dir, microvmCommand, systemctlCommand,
                commandTimeout, stopTimeout, socketTimeout, environment);
    }

    public MicrovmSettings withTimeouts(Duration command, Duration stop) {
        return new MicrovmSettings(stateDir, flakeDir, gcRootsDir, microvmCommand, systemctlCommand,
                command, stop, socketTimeout, environment);
    }

    public MicrovmSettings withEnvironment(Map<String, String> env) {
        return new MicrovmSettings(stateDir, flakeDir, gcRootsDir, microvmCommand, systemctlCommand,
                commandTimeout, stopTimeout, socketTimeout, env);
    }
}
