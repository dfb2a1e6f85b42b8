package dev.flotilla.node.backend.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.node.sim.SimVmStatus;
import dev.flotilla.node.sim.SimVmStatus.ProcessStatus;
import dev.flotilla.proto.ObservedState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the agent hears of a simulated VM, from the runtime's status of it. */
class LuaStatusTest {
    private static SimVmStatus vm(String state, String stopReason, ProcessStatus... procs) {
        return new SimVmStatus("v", "10.0.0.2", "v", state, stopReason, List.of(procs), 1, 1, 0, 0, Map.of(), 0, 1024, 0, 1 << 26);
    }

    @Test
    void aVmWithALiveProcessRunsEvenWhenAnotherFailed() {
        VmStatus s = LuaStatus.of(vm("running", "", new ProcessStatus(1, "main", "waiting", 0, ""),
                new ProcessStatus(2, "helper", "failed", 0, "helper:3 boom\nstack traceback:")));
        assertEquals(ObservedState.RUNNING, s.state());
        assertTrue(s.reason().contains("pid 2 (helper) failed: helper:3 boom") && !s.reason().contains("traceback"), s.reason());
    }

    @Test
    void aVmWhoseProcessesAllEndedAfterAFailureHasFailedWithTheErrorAndTraceback() {
        VmStatus s = LuaStatus.of(vm("running", "", new ProcessStatus(1, "main", "failed", 0, "main:1 attempt to index\nstack traceback:\n\tmain:1")));
        assertEquals(ObservedState.FAILED, s.state());
        assertEquals("Lua error in pid 1 (main): main:1 attempt to index\nstack traceback:\n\tmain:1", s.reason());
    }

    @Test
    void aVmWhoseProcessesAllExitedHasExitedWithTheFirstOnesCode() {
        VmStatus s = LuaStatus.of(vm("running", "", new ProcessStatus(1, "main", "exited", 3, ""),
                new ProcessStatus(2, "w", "exited", 0, "")));
        assertEquals(ObservedState.EXITED, s.state());
        assertEquals(3, s.exitCode());
    }

    @Test
    void aVmTheSandboxStoppedHasFailedWithTheSandboxesReason() {
        VmStatus s = LuaStatus.of(vm("stopped", "instruction budget of 100000 exhausted (pid 1, program main)",
                new ProcessStatus(1, "main", "killed", 0, "")));
        assertEquals(ObservedState.FAILED, s.state());
        assertEquals("stopped by the sandbox: instruction budget of 100000 exhausted (pid 1, program main)", s.reason());
    }
}
