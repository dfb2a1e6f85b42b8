package dev.flotilla.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.microvm.MicrovmSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The microvm section and forward_bind_address of a node's config file, as the node reads them. */
class NodeConfigMicrovmTest {
    @TempDir
    Path dir;

    private NodeConfig load(String yaml) throws Exception {
        return ConfigFiles.load(dir, yaml);
    }

    @Test
    void theMicrovmSectionReachesTheBackendsSettings() throws Exception {
        NodeConfig c = load("""
                forward_bind_address: 127.0.0.1
                microvm:
                  state_dir: /tmp/fl/microvms
                  gc_roots_dir: /tmp/fl/gcroots
                  microvm_command: /opt/host/microvm
                  systemctl_command: /opt/host/systemctl
                  environment: {SYSTEMCTL_STATE_DIR: /tmp/fl/units, MICROVM_RESTART_SEC: "0.2"}
                  command_timeout_ms: 120000
                  stop_timeout_ms: 90000
                """);
        assertEquals("127.0.0.1", c.forwardBindAddress);
        MicrovmSettings s = Node.microvmSettings(c.microvm);
        assertEquals(Path.of("/tmp/fl/microvms"), s.stateDir());
        assertEquals(Path.of("/tmp/fl/microvms/.flotilla-flakes"), s.flakeDir(), "flake_dir defaults under the state dir");
        assertEquals(Path.of("/tmp/fl/gcroots"), s.gcRootsDir());
        assertEquals(List.of("/opt/host/microvm"), s.microvmCommand());
        assertEquals(List.of("/opt/host/systemctl"), s.systemctlCommand());
        assertEquals(Map.of("SYSTEMCTL_STATE_DIR", "/tmp/fl/units", "MICROVM_RESTART_SEC", "0.2"), s.environment(),
                "environment keys are passed as written, not snake-cased");
        assertEquals(Duration.ofMinutes(2), s.commandTimeout());
        assertEquals(Duration.ofSeconds(90), s.stopTimeout());
    }

    @Test
    void defaultsAreThoseOfANixosHost() throws Exception {
        NodeConfig c = load("node_id: n1\n");
        MicrovmSettings s = Node.microvmSettings(c.microvm);
        assertEquals(Path.of("/var/lib/microvms"), s.stateDir());
        assertEquals(List.of("microvm"), s.microvmCommand());
        assertEquals(Map.of(), s.environment());
        assertEquals("0.0.0.0", c.forwardBindAddress);
    }

    @Test
    void badValuesAreRefusedNamingTheKey() {
        NodeConfig.ConfigException addr = assertThrows(NodeConfig.ConfigException.class,
                () -> load("forward_bind_address: localhost\n"));
        assertTrue(addr.getMessage().contains("forward_bind_address"), addr.getMessage());
        NodeConfig.ConfigException typo = assertThrows(NodeConfig.ConfigException.class,
                () -> load("microvm: {enviroment: {A: b}}\n"));
        assertTrue(typo.getMessage().contains("enviroment") && typo.getMessage().contains("line"), typo.getMessage());
        NodeConfig.ConfigException timeout = assertThrows(NodeConfig.ConfigException.class,
                () -> load("microvm: {stop_timeout_ms: 5}\n"));
        assertTrue(timeout.getMessage().contains("stop_timeout_ms"), timeout.getMessage());
    }
}
