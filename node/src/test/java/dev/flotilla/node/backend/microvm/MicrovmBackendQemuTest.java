package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.ObservedState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MicrovmBackend against the microvm.nix test host, booting a real guest (Debian's cloud kernel and a
 * busybox initramfs) in qemu under software emulation.
 */
class MicrovmBackendQemuTest {
    /** A TCG boot on a loaded two-core machine takes 3 to 30 s. */
    private static final Duration BOOT = Duration.ofSeconds(120);

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
        // Leave no qemu behind, whatever the test did.
        for (String name : backend.list()) {
            backend.delete(TestHost.vm(name, 128, ""));
        }
    }

    @Test
    void createStartStopStartDeleteARealGuest() throws Exception {
        VmInstance vm = TestHost.vm("web-1", 128, "");
        backend.create(vm);

        Path dir = backend.vmDir("web-1");
        assertTrue(Files.isExecutable(dir.resolve("current/bin/microvm-run")), "create built no runner in " + dir);
        assertEquals("path:" + backend.flakeDir("web-1"), Files.readString(dir.resolve("flake")));
        assertEquals(MicrovmDefinition.tapId("web-1"),
                Files.readString(dir.resolve("current/share/microvm/tap-interfaces")).strip());
        assertEquals("qemu", Files.readString(dir.resolve("current/share/microvm/hypervisor")).strip());
        assertEquals(dir.resolve("current"), Files.readSymbolicLink(root.resolve("gcroots/web-1")));
        assertEquals(List.of("web-1"), backend.list());
        VmStatus created = backend.status(vm);
        assertEquals(ObservedState.STOPPED, created.state(), created.reason());
        assertTrue(created.exists());

        backend.start(vm);
        assertTrue(Files.isSymbolicLink(dir.resolve("booted")), "start made no booted link");
        VmStatus running = awaitState(vm, ObservedState.RUNNING);
        assertTrue(running.reason().contains("QMP status 'running'"), running.reason());
        assertEquals("running", new QmpClient(dir.resolve("web-1.sock"), Duration.ofSeconds(5)).queryStatus());
        Waiting.until("the guest's 'up' line on the serial console", BOOT,
                () -> host.journalText("web-1"), t -> t.contains("flotilla-guest: up (web-1)"));
        long pid = mainPid("web-1");

        // QMP serves one client at a time: while another holds the socket, a question waits, and times
        // out with a message that says why. This is why every status call uses a short connection.
        try (ControlSocket holder = ControlSocket.connect(dir.resolve("web-1.sock"), Duration.ofSeconds(5))) {
            assertTrue(holder.readLine().contains("\"QMP\""), "no QMP greeting");
            java.io.IOException busy = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> new QmpClient(dir.resolve("web-1.sock"), Duration.ofSeconds(1)).queryStatus());
            assertTrue(busy.getMessage().contains("one client at a time"), busy.getMessage());
        }
        assertEquals("running", new QmpClient(dir.resolve("web-1.sock"), Duration.ofSeconds(5)).queryStatus());

        backend.stop(vm);
        VmStatus stopped = backend.status(vm);
        assertEquals(ObservedState.STOPPED, stopped.state(), stopped.reason());
        assertFalse(Files.exists(dir.resolve("booted")), "stop left the booted link");
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "qemu " + pid + " survived stop");
        assertTrue(host.journalText("web-1").contains("flotilla-guest: power button"),
                "the guest was not asked to power off through QMP: " + host.journalText("web-1"));

        backend.start(vm);
        awaitState(vm, ObservedState.RUNNING);
        assertNotEquals(pid, mainPid("web-1"));

        backend.delete(vm);
        VmStatus gone = backend.status(vm);
        assertFalse(gone.exists(), gone.reason());
        assertFalse(Files.exists(dir), "delete left " + dir);
        assertFalse(Files.exists(backend.flakeDir("web-1")), "delete left the flake");
        assertFalse(Files.exists(root.resolve("gcroots/web-1"), java.nio.file.LinkOption.NOFOLLOW_LINKS),
                "delete left the GC root");
        assertEquals(List.of(), backend.list());
    }

    @Test
    void aRunnerThatCannotBootIsFailedWithItsStderrInTheReason() throws Exception {
        VmInstance vm = TestHost.vm("broken-1", 128, root.resolve("no-such-kernel").toString());
        backend.create(vm);
        backend.start(vm);

        VmStatus failed = awaitState(vm, ObservedState.FAILED);
        assertTrue(failed.reason().contains("could not open kernel file"),
                "the reason should carry qemu's stderr: " + failed.reason());
        assertTrue(failed.reason().contains("no-such-kernel"), failed.reason());
    }

    @Test
    void createAgainWithTheSameSpecKeepsTheRunnerAndANewSpecRebuildsIt() throws Exception {
        VmInstance vm = TestHost.vm("db-1", 128, "");
        backend.create(vm);
        Path current = Files.readSymbolicLink(backend.vmDir("db-1").resolve("current"));

        backend.create(vm);
        assertEquals(current, Files.readSymbolicLink(backend.vmDir("db-1").resolve("current")));

        backend.create(TestHost.vm("db-1", 192, ""));
        Path rebuilt = Files.readSymbolicLink(backend.vmDir("db-1").resolve("current"));
        assertNotEquals(current, rebuilt);
        assertTrue(Files.readString(rebuilt.resolve("bin/microvm-run")).contains("-m 192"),
                "the rebuilt runner does not have the new memory size");
    }

    @Test
    void startingAVmThatWasNeverCreatedSaysSo() {
        BackendException e = org.junit.jupiter.api.Assertions.assertThrows(BackendException.class,
                () -> backend.start(TestHost.vm("ghost-1", 128, "")));
        assertTrue(e.getMessage().contains("create the VM first"), e.getMessage());
    }

    @Test
    void aNameThatCouldBreakACommandLineIsRefusedBeforeAnyCommandRuns() {
        BackendException e = org.junit.jupiter.api.Assertions.assertThrows(BackendException.class,
                () -> backend.create(TestHost.vm("x; rm -rf /", 128, "")));
        assertTrue(e.getMessage().contains("cannot be used"), e.getMessage());
        assertFalse(Files.exists(root.resolve("microvms")), "a command ran for a refused name");
    }

    private VmStatus awaitState(VmInstance vm, ObservedState want) throws InterruptedException {
        return Waiting.until(vm.name() + " to be " + want, BOOT, () -> backend.status(vm), s -> s.state() == want);
    }

    private long mainPid(String name) throws Exception {
        HostCommand.Result show = host.run(List.of(host.settings.systemctlCommand().get(0), "show", "-p",
                "MainPID", VmName.unit(name)));
        return UnitStatus.parse(show.stdout()).mainPid();
    }
}
