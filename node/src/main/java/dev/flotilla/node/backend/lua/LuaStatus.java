package dev.flotilla.node.backend.lua;

import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.node.sim.SimVmStatus;
import dev.flotilla.proto.ObservedState;

/**
 * How a simulated VM's status reads to the agent: running while a process lives; failed when the
 * sandbox stopped it or, once none lives, when a process failed (its error and traceback are the
 * reason); exited with the first process's code when every process exited. Pure.
 */
final class LuaStatus {
    private LuaStatus() {}

    static VmStatus of(SimVmStatus s) {
        if ("stopped".equals(s.state())) {
            return VmStatus.of(ObservedState.FAILED, "stopped by the sandbox: " + s.stopReason());
        }
        SimVmStatus.ProcessStatus failed = null;
        int alive = 0;
        for (SimVmStatus.ProcessStatus p : s.processes()) {
            switch (p.state()) {
                case "starting", "running", "sleeping", "waiting" -> alive++;
                case "failed" -> {
                    if (failed == null) failed = p;
                }
                default -> { }
            }
        }
        if (alive > 0 || s.processes().isEmpty()) {
            String note = failed == null ? "" : "; pid " + failed.pid() + " (" + failed.program() + ") failed: "
                    + firstLine(failed.lastError());
            return VmStatus.of(ObservedState.RUNNING, "running: " + alive + " Lua process(es)" + note);
        }
        if (failed != null) {
            return new VmStatus(ObservedState.FAILED, "Lua error in pid " + failed.pid() + " (" + failed.program()
                    + "): " + failed.lastError(), 1, true);
        }
        SimVmStatus.ProcessStatus first = s.processes().get(0);
        return VmStatus.exited(first.exitCode(), "every Lua process exited; pid " + first.pid() + " ("
                + first.program() + ") with code " + first.exitCode());
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
