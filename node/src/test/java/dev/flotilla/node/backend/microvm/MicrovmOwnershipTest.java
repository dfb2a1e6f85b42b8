package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.ObservedState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the backend treats as its own on a microvm.nix host (the test host of scripts/microvm-host):
 * only the microVMs it made, under their Flotilla names, whatever their host names are. No guest is
 * booted here; MicrovmBackendQemuTest does that.
 */
class MicrovmOwnershipTest {
    @TempDir
    Path root;
    private TestHost host;
    private MicrovmBackend backend;

    @BeforeEach
    void setUp() {
        host = new TestHost(root);
        backend = new MicrovmBackend(host.settings);
    }

    @AfterEach
    void removeEveryVm() throws BackendException {
        for (String name : backend.list()) {
            backend.delete(TestHost.vm(name, 128, ""));
        }
    }

    /** An operator's own microVM, made with microvm.nix's command from a flake outside Flotilla's. */
    private Path operatorsMicrovm(String name) throws Exception {
        Path flake = root.resolve("operator/" + name);
        Files.createDirectories(flake);
        Files.writeString(flake.resolve("flake.nix"),
                FlakeWriter.render(MicrovmDefinition.of(TestHost.vm(name, 128, ""))));
        HostCommand.Result made = host.run(List.of(host.settings.microvmCommand().get(0), "-c", name, "-f", "path:" + flake));
        assertEquals(0, made.exitCode(), made.describe());
        return backend.vmDir(name);
    }

    @Test
    void listShowsOnlyFlotillasVmsByTheirFlotillaNames() throws Exception {
        Path theirs = operatorsMicrovm("db-main");
        backend.create(TestHost.vm("Game_Server.1", 128, ""));
        backend.create(TestHost.vm("web-1", 128, ""));

        assertEquals(List.of("Game_Server.1", "web-1"), backend.list());
        String hostName = VmName.forMachine("Game_Server.1");
        assertTrue(Files.isExecutable(backend.vmDir(hostName).resolve("current/bin/microvm-run")),
                "the mapped VM was created under its host name " + hostName);
        assertEquals(ObservedState.STOPPED, backend.status(TestHost.vm("Game_Server.1", 128, "")).state());

        backend.delete(TestHost.vm("Game_Server.1", 128, ""));
        assertEquals(List.of("web-1"), backend.list());
        assertTrue(Files.isDirectory(theirs), "the operator's microVM is left in place");
    }

    @Test
    void anOperatorsMicrovmWithTheSameNameIsNeverTouched() throws Exception {
        Path theirs = operatorsMicrovm("db-main");
        Path current = Files.readSymbolicLink(theirs.resolve("current"));
        VmInstance ours = TestHost.vm("db-main", 192, "");

        BackendException create = assertThrows(BackendException.class, () -> backend.create(ours));
        assertTrue(create.getMessage().contains("was not made by Flotilla"), create.getMessage());
        assertThrows(BackendException.class, () -> backend.start(ours));
        assertThrows(BackendException.class, () -> backend.stop(ours));
        assertThrows(BackendException.class, () -> backend.delete(ours));
        VmStatus status = backend.status(ours);
        assertEquals(ObservedState.FAILED, status.state());
        assertTrue(status.reason().contains("left alone"), status.reason());

        assertTrue(Files.isDirectory(theirs), "the operator's state dir survives");
        assertEquals(current, Files.readSymbolicLink(theirs.resolve("current")), "its runner was not rebuilt");
        assertEquals(List.of(), backend.list());
    }

    @Test
    void aHostNameHeldByAnotherMachineIsRefused() throws Exception {
        backend.create(TestHost.vm("Web", 128, ""));
        String hostName = VmName.forMachine("Web");
        // A 40-bit hash collision cannot be produced on demand; the owner file is what the check reads,
        // so a second machine claiming that host name is simulated by rewriting it.
        Files.writeString(backend.flakeDir(hostName).resolve(MicrovmBackend.OWNER_FILE), "Someone_Else\n");

        BackendException e = assertThrows(BackendException.class, () -> backend.create(TestHost.vm("Web", 128, "")));
        assertTrue(e.getMessage().contains("Someone_Else") && e.getMessage().contains("rename"), e.getMessage());
        assertThrows(BackendException.class, () -> backend.delete(TestHost.vm("Web", 128, "")));
        assertEquals(List.of("Someone_Else"), backend.list());
        Files.writeString(backend.flakeDir(hostName).resolve(MicrovmBackend.OWNER_FILE), "Web\n");
        backend.delete(TestHost.vm("Web", 128, ""));
        assertEquals(List.of(), backend.list());
    }
}
