package dev.flotilla.node.sim;

import dev.flotilla.node.net.Packet;
import org.luaj.vm2.LuaTable;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * One simulated VM on a shard. Kept small on purpose (the goal is a million idle VMs in 2 KiB each):
 * mailbox, files, log and drop counters are made on first use.
 */
final class Vm {
    /** Process slots kept per VM: the live ones (at most 64) plus some recently dead for status. */
    static final int KEPT_PROCESSES = 72;
    final SimVmSpec spec;
    final int ip;
    final CompiledProgram[] programs;
    LuaTable env; // null once the sandbox stopped the VM
    LuaProcess[] procs = new LuaProcess[1];
    int nextPid = 1;
    boolean pendingStart = true;
    boolean stopped;
    boolean removed;
    String stopReason;
    ArrayDeque<Packet> mailbox;
    VmFs fs;
    boolean fsDirtyQueued;
    ArrayDeque<String> log;
    long logCount; // lines ever logged, so a reader can ask for the ones after what it saw
    int[] ports;
    LuaProcess[] portOwners;
    long queuedFor = -1;
    int timers;
    int sentThisTick;
    long sentTick = -1;
    long ticksRun;
    long lastRunTick = -1;
    long handlerCalls;
    long packetsIn;
    long packetsOut;
    long[] drops; // indexed by Shard.DROP_* reasons
    // The heap check's bookkeeping, in ints so the tick's hot object stays small.
    int heapCheckedTick; // low 32 bits of the tick of the last check (compared wrap-safe)
    int heapBytes; // what the last check measured
    int allocatedKib; // allocated since then, estimated from sampled handler calls

    Vm(SimVmSpec spec, int ip, CompiledProgram[] programs, LuaTable env) {
        this.spec = spec;
        this.ip = ip;
        this.programs = programs;
        this.env = env;
    }

    String id() {
        return spec.id();
    }

    LuaProcess spawn(CompiledProgram program) {
        LuaProcess p = new LuaProcess(this, nextPid++, program);
        for (int i = 0; i < procs.length; i++) {
            if (procs[i] == null) {
                procs[i] = p;
                return p;
            }
        }
        if (procs.length >= KEPT_PROCESSES) {
            // Keep the status of recent dead processes, not of every one ever spawned.
            for (int i = 0; i < procs.length; i++) {
                if (!procs[i].alive()) {
                    procs[i] = p;
                    return p;
                }
            }
        }
        procs = Arrays.copyOf(procs, procs.length + 1);
        procs[procs.length - 1] = p;
        return p;
    }

    CompiledProgram program(String name) {
        for (CompiledProgram p : programs) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    boolean listen(int port, LuaProcess owner) {
        if (ports == null) {
            ports = new int[] {port};
            portOwners = new LuaProcess[] {owner};
            return true;
        }
        for (int i = 0; i < ports.length; i++) {
            if (ports[i] == port) {
                if (portOwners[i].alive() && portOwners[i] != owner) {
                    return false;
                }
                portOwners[i] = owner;
                return true;
            }
        }
        ports = Arrays.copyOf(ports, ports.length + 1);
        portOwners = Arrays.copyOf(portOwners, portOwners.length + 1);
        ports[ports.length - 1] = port;
        portOwners[portOwners.length - 1] = owner;
        return true;
    }

    LuaProcess listener(int port) {
        if (ports != null) {
            for (int i = 0; i < ports.length; i++) {
                if (ports[i] == port) {
                    LuaProcess p = portOwners[i];
                    return p.alive() ? p : null;
                }
            }
        }
        return null;
    }

    /** The first port the process listens on (the default source port of what it sends), or 0. */
    int firstPortOf(LuaProcess p) {
        if (ports != null) {
            for (int i = 0; i < ports.length; i++) {
                if (portOwners[i] == p) {
                    return ports[i];
                }
            }
        }
        return 0;
    }

    void countDrop(int reason) {
        if (drops == null) {
            drops = new long[Shard.DROP_NAMES.length];
        }
        drops[reason]++;
    }

    void log(String line, int keep) {
        if (log == null) {
            log = new ArrayDeque<>();
        }
        if (log.size() >= keep) {
            log.pollFirst();
        }
        log.addLast(line);
        logCount++;
    }

    boolean hasRunnable() {
        for (LuaProcess p : procs) {
            if (p != null && (p.state == LuaProcess.RUNNING || p.state == LuaProcess.STARTING)) {
                return true;
            }
        }
        return false;
    }
}
