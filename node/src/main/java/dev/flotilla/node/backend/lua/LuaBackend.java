package dev.flotilla.node.backend.lua;

import dev.flotilla.node.backend.Backend;
import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.node.sim.SimProgram;
import dev.flotilla.node.sim.SimRuntime;
import dev.flotilla.node.sim.SimVmSpec;
import dev.flotilla.node.sim.SimVmStatus;
import dev.flotilla.proto.LuaProgram;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code runtime: lua} VMs in this node's {@link SimRuntime}. Create reads the programs (inline or
 * from a path on the node); start seeds the VM's files from what the replicated log holds for its job
 * and adds it to the runtime; stop and delete take it out. The files a running VM writes go back into
 * the log through the {@link FsReplicator}, fenced by the epoch it was started with.
 *
 * <p>The VMs live inside the node's JVM, so none survives the node: after a restart {@link #list()} is
 * empty and the agent starts again what is still assigned here (with its files from the log).
 */
public final class LuaBackend implements Backend {
    private static final long SNAPSHOT_MAX_AGE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long STATUS_TIMEOUT_MS = 5_000;

    /** The job and epoch a machine was started for: what its file deltas are fenced by. */
    public record Target(String jobId, long epoch) {}

    /** A machine this backend made: its runtime spec, and since when it runs (0 while stopped). */
    private record Machine(SimVmSpec spec, Target target, long startedNanos) {
        Machine started(long nanos, Target t, SimVmSpec s) {
            return new Machine(s, t, nanos);
        }

        Machine stopped() {
            return new Machine(spec, target, 0);
        }
    }

    /** All VMs' statuses as of one round through the shards, and when that round was asked for. */
    private record Snapshot(Map<String, SimVmStatus> statuses, long askedNanos) {}

    private final SimRuntime runtime;
    private final LuaRecords records;
    private final Map<String, Machine> machines = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot = new Snapshot(Map.of(), Long.MIN_VALUE);

    public LuaBackend(SimRuntime runtime, LuaRecords records) {
        this.runtime = runtime;
        this.records = records;
    }

    @Override
    public String name() {
        return "lua";
    }

    /**
     * The job and epoch of a machine this backend made, for fencing its file deltas; empty once it is
     * gone. The job id is read again each time: a warm VM claimed while it runs keeps its machine and
     * epoch but changes job id, and its files move to the new id with it.
     */
    public Optional<Target> target(String machine) {
        Machine m = machines.get(machine);
        if (m == null) return Optional.empty();
        String job = records.record(machine).map(VmRecord::getId).orElse(m.target().jobId());
        return Optional.of(new Target(job, m.target().epoch()));
    }

    @Override
    public void create(VmInstance vm) throws BackendException {
        SimVmSpec spec = simSpec(vm);
        machines.compute(vm.name(), (k, old) -> old != null && old.startedNanos() != 0 ? old
                : new Machine(spec, new Target(jobOf(vm.name()), vm.epoch()), 0));
    }

    private SimVmSpec simSpec(VmInstance vm) throws BackendException {
        VmSpec s = vm.spec();
        List<SimProgram> programs = new ArrayList<>();
        for (int i = 0; i < s.getProgramsCount(); i++) {
            LuaProgram p = s.getPrograms(i);
            String source = p.getSource();
            if (source.isEmpty() && !p.getPath().isEmpty()) {
                try {
                    source = Files.readString(Path.of(p.getPath()), StandardCharsets.UTF_8);
                } catch (IOException | RuntimeException e) {
                    throw new BackendException("VM " + vm.name() + ": spec.programs[" + i + "].path " + p.getPath()
                            + " cannot be read on this node (" + e + "); put the file on every node that may run"
                            + " it, or give the program inline as source");
                }
            }
            programs.add(new SimProgram(p.getName(), source));
        }
        if (programs.isEmpty()) {
            throw new BackendException("VM " + vm.name() + " has no programs; a lua VM needs spec.programs");
        }
        if (vm.ip().isEmpty()) {
            throw new BackendException("VM " + vm.name() + " has no address yet; the registry allocates one with the VM");
        }
        String hostname = s.getHostname().isEmpty() ? vm.name() : s.getHostname();
        return new SimVmSpec(vm.name(), vm.ip(), hostname, programs, s.getFirewallList(), s.getFs().getQuotaBytes(), Map.of());
    }

    private String jobOf(String machine) {
        return records.record(machine).map(VmRecord::getId).orElse(machine);
    }

    @Override
    public void start(VmInstance vm) throws BackendException {
        Machine m = machines.get(vm.name());
        if (m == null) {
            create(vm);
            m = machines.get(vm.name());
        }
        // Always built afresh: the spec may have changed since create, and the files are re-read.
        SimVmSpec spec = simSpec(vm);
        Target target = new Target(jobOf(vm.name()), vm.epoch());
        Map<String, byte[]> files = records.files(target.jobId());
        try {
            runtime.addVm(spec.withFiles(files));
        } catch (IllegalArgumentException e) {
            throw new BackendException("VM " + vm.name() + " cannot start: " + e.getMessage());
        }
        machines.put(vm.name(), m.started(System.nanoTime(), target, spec));
    }

    @Override
    public void stop(VmInstance vm) {
        Machine m = machines.get(vm.name());
        if (m != null && m.startedNanos() != 0) {
            runtime.removeVm(vm.name());
            machines.put(vm.name(), m.stopped());
        }
    }

    @Override
    public void delete(VmInstance vm) {
        runtime.removeVm(vm.name());
        machines.remove(vm.name());
    }

    @Override
    public VmStatus status(VmInstance vm) throws BackendException {
        Machine m = machines.get(vm.name());
        if (m == null) {
            return VmStatus.absent();
        }
        if (m.startedNanos() == 0) {
            return VmStatus.of(ObservedState.STOPPED, "stopped");
        }
        Snapshot snap = snapshot;
        // A round asked for before this VM was added might not see it: ask again.
        if (snap.askedNanos() < m.startedNanos() || System.nanoTime() - snap.askedNanos() > SNAPSHOT_MAX_AGE_NANOS) {
            snap = fresh();
        }
        SimVmStatus s = snap.statuses().get(vm.name());
        if (s == null) {
            return VmStatus.of(ObservedState.FAILED, "the Lua runtime does not hold VM " + vm.name() + " though it was started");
        }
        return LuaStatus.of(s);
    }

    private Snapshot fresh() throws BackendException {
        long asked = System.nanoTime();
        try {
            Snapshot s = new Snapshot(runtime.statusAll().get(STATUS_TIMEOUT_MS, TimeUnit.MILLISECONDS), asked);
            snapshot = s;
            return s;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException("interrupted while reading the Lua runtime's status");
        } catch (Exception e) {
            throw new BackendException("the Lua runtime did not answer a status round within " + STATUS_TIMEOUT_MS
                    + " ms (" + e + "); its tick loop may be stuck: see the node's log for 'shard' errors");
        }
    }

    @Override
    public List<String> list() {
        return List.copyOf(machines.keySet());
    }
}
