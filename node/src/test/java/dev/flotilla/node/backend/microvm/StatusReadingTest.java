package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.ObservedState;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StatusReadingTest {

    private static VmStatus read(boolean dir, String show, GuestState guest, String tail) {
        return StatusReading.read(new StatusReading.Evidence("vm-1", dir, UnitStatus.parse(show),
                Optional.ofNullable(guest), guest == null ? "connection refused" : "", tail));
    }

    private static final String RUNNING = "MainPID=4242\nNRestarts=0\nActiveState=active\nSubState=running\n";

    @Test
    void parsesSystemctlShowInSystemdsOwnOrder() {
        assertEquals(new UnitStatus("active", "running", 4242, 0), UnitStatus.parse(RUNNING));
        assertEquals(new UnitStatus("inactive", "dead", 0, 3),
                UnitStatus.parse("MainPID=0\nNRestarts=3\nActiveState=inactive\nSubState=dead\n"));
        assertEquals(new UnitStatus("inactive", "dead", 0, 0), UnitStatus.parse(""));
    }

    @Test
    void aVmIsRunningOnlyWhenTheHypervisorSaysSo() {
        assertEquals(ObservedState.RUNNING, read(true, RUNNING, GuestState.fromQmp("running"), "").state());
        assertEquals(ObservedState.STARTING, read(true, RUNNING, null, "").state());
        assertEquals(ObservedState.STARTING, read(true, RUNNING, GuestState.fromQmp("prelaunch"), "").state());
        assertEquals(ObservedState.STOPPING, read(true, RUNNING, GuestState.fromQmp("shutdown"), "").state());
        assertEquals(ObservedState.FAILED, read(true, RUNNING, GuestState.fromQmp("paused"), "").state());
        VmStatus panic = read(true, RUNNING, GuestState.fromQmp("guest-panicked"), "Kernel panic");
        assertEquals(ObservedState.FAILED, panic.state());
        assertTrue(panic.reason().contains("guest-panicked") && panic.reason().contains("Kernel panic"),
                panic.reason());
    }

    @Test
    void aRunnerThatKeepsDyingIsFailedWithItsOutput() {
        VmStatus restarting = read(true, "MainPID=0\nNRestarts=2\nActiveState=activating\nSubState=auto-restart\n",
                null, "qemu: could not open kernel file");
        assertEquals(ObservedState.FAILED, restarting.state());
        assertTrue(restarting.reason().contains("NRestarts=2")
                && restarting.reason().contains("could not open kernel file"), restarting.reason());
        VmStatus limit = read(true, "ActiveState=failed\nSubState=failed\n", null, "Start request repeated too quickly.");
        assertEquals(ObservedState.FAILED, limit.state());
        assertTrue(limit.reason().contains("repeated too quickly"), limit.reason());
    }

    @Test
    void unitStatesWithoutAGuestMapToTheirLifecycleStep() {
        assertEquals(ObservedState.STOPPED, read(true, "ActiveState=inactive\nSubState=dead\n", null, "").state());
        assertEquals(ObservedState.STOPPING, read(true, "ActiveState=deactivating\nSubState=stop\n", null, "").state());
        assertEquals(ObservedState.STARTING, read(true, "ActiveState=activating\nSubState=start\n", null, "").state());
        VmStatus absent = read(false, "ActiveState=inactive\nSubState=dead\n", null, "");
        assertFalse(absent.exists());
        // A unit still running without its state dir is reported, not hidden.
        assertTrue(read(false, RUNNING, GuestState.fromQmp("running"), "").exists());
    }
}
