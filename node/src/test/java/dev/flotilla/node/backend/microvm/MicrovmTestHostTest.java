package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.proto.ObservedState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test host's stand-ins behave like microvm.nix's command and its microvm@.service unit. */
class MicrovmTestHostTest {
    @TempDir
    Path root;
    private TestHost host;
    private MicrovmBackend backend;
    private String microvm;
    private String systemctl;

    @BeforeEach
    void setUp() {
        host = new TestHost(root);
        backend = new MicrovmBackend(host.settings);
        microvm = host.settings.microvmCommand().get(0);
        systemctl = host.settings.systemctlCommand().get(0);
    }

    @AfterEach
    void removeEveryVm() throws BackendException {
        for (String name : backend.list()) {
            backend.delete(TestHost.vm(name, 128, ""));
        }
    }

    @Test
    void microvmSpeaksLikeTheRealCommand() throws Exception {
        HostCommand.Result help = host.run(List.of(microvm));
        assertEquals(0, help.exitCode());
        assertTrue(help.stdout().contains("-c <name>  Create a MicroVM"), help.stdout());

        backend.create(TestHost.vm("app-1", 128, ""));
        HostCommand.Result again = host.run(List.of(microvm, "-c", "app-1", "-f",
                "path:" + backend.flakeDir("app-1")));
        assertEquals(1, again.exitCode());
        assertEquals(backend.vmDir("app-1") + " already exists.", again.stdout().strip());

        HostCommand.Result wrongName = host.run(List.of(microvm, "-c", "app-2", "-f",
                "path:" + backend.flakeDir("app-1")));
        assertEquals(1, wrongName.exitCode());
        assertTrue(wrongName.stderr().contains("does not provide attribute")
                && wrongName.stderr().contains("nixosConfigurations.app-2"), wrongName.stderr());
        assertFalse(Files.exists(backend.vmDir("app-2")), "a failed create left a state dir");

        HostCommand.Result list = host.run(List.of(microvm, "-l"));
        assertTrue(list.stdout().contains("app-1") && list.stdout().contains("not booted"), list.stdout());

        HostCommand.Result update = host.run(List.of(microvm, "-u", "missing-1"));
        assertEquals(1, update.exitCode());
    }

    @Test
    void theUnitRestartsARunnerThatDiesAndCountsIt() throws Exception {
        VmInstance vm = TestHost.vm("svc-1", 128, "");
        backend.create(vm);
        backend.start(vm);
        Waiting.until("svc-1 running", Duration.ofSeconds(120), () -> backend.status(vm),
                s -> s.state() == ObservedState.RUNNING);
        UnitStatus before = show("svc-1");
        assertTrue(before.running() && before.mainPid() > 0 && before.nRestarts() == 0, before.toString());

        // Kill qemu behind systemd's back: Restart=always brings it back and NRestarts counts it.
        assertTrue(ProcessHandle.of(before.mainPid()).orElseThrow().destroyForcibly());
        UnitStatus after = Waiting.until("svc-1 restarted", Duration.ofSeconds(60), () -> show("svc-1"),
                u -> u.running() && u.nRestarts() == 1);
        assertNotEquals(before.mainPid(), after.mainPid());
        Waiting.until("svc-1 running again", Duration.ofSeconds(120), () -> backend.status(vm),
                s -> s.state() == ObservedState.RUNNING);
        assertTrue(host.journalText("svc-1").contains("Scheduled restart job, restart counter is at 1."));

        HostCommand.Result active = host.run(List.of(systemctl, "is-active", VmName.unit("svc-1")));
        assertEquals(0, active.exitCode());
        assertEquals("active", active.stdout().strip());
        backend.stop(vm);
        HostCommand.Result inactive = host.run(List.of(systemctl, "is-active", VmName.unit("svc-1")));
        assertEquals(3, inactive.exitCode());
        assertEquals("inactive", inactive.stdout().strip());
        assertEquals(1, show("svc-1").nRestarts());
    }

    @Test
    void aUnitWhoseRunnerIsMissingIsSkippedAsItsConditionSays() throws Exception {
        HostCommand.Result start = host.run(List.of(systemctl, "start", VmName.unit("nothing-1")));
        assertEquals(0, start.exitCode(), start.describe());
        assertEquals("inactive", show("nothing-1").activeState());
        HostCommand.Result other = host.run(List.of(systemctl, "start", "sshd.service"));
        assertEquals(5, other.exitCode());
        assertTrue(other.stderr().contains("Unit sshd.service not found."), other.stderr());
    }

    private UnitStatus show(String name) throws Exception {
        HostCommand.Result r = host.run(List.of(systemctl, "show", "-p", "ActiveState,SubState,MainPID,NRestarts",
                VmName.unit(name)));
        assertEquals(0, r.exitCode(), r.describe());
        return UnitStatus.parse(r.stdout());
    }
}
