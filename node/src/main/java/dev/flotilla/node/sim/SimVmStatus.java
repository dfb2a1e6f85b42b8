package dev.flotilla.node.sim;

import java.util.List;
import java.util.Map;

/**
 * What a simulated VM is doing, for {@code GET /vms/{id}}.
 *
 * @param state       running, or stopped (the sandbox stopped it; see {@code stopReason})
 * @param stopReason  why the VM was stopped, empty while it runs
 * @param ticksRun    ticks in which at least one of its handlers ran
 * @param drops       packets it lost, by reason (routing reasons, QUEUE_FULL, NO_LISTENER)
 * @param heapBytes   what its Lua data held at its last heap check (an estimate; 0 before the first)
 */
public record SimVmStatus(String id, String ip, String hostname, String state, String stopReason,
                          List<ProcessStatus> processes, long ticksRun, long handlerCalls, long packetsIn,
                          long packetsOut, Map<String, Long> drops, long fsBytes, long fsQuotaBytes,
                          long heapBytes, long heapQuotaBytes) {

    /** One Lua process of the VM. {@code lastError} carries the message and a traceback. */
    public record ProcessStatus(int pid, String program, String state, int exitCode, String lastError) {
    }
}
