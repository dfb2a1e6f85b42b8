package dev.flotilla.statemachine;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.Assign;
import dev.flotilla.proto.ClaimWarm;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DeleteVm;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.DnsRecord;
import dev.flotilla.proto.ErrorCode;
import dev.flotilla.proto.FileChange;
import dev.flotilla.proto.FsDelta;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.PortForward;
import dev.flotilla.proto.RegisterNode;
import dev.flotilla.proto.Rejection;
import dev.flotilla.proto.ReportStatus;
import dev.flotilla.proto.SetNodeState;
import dev.flotilla.proto.UpsertVm;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The registry's rules: a pure function from (state, command, log index) to a result and the writes
 * that produce it. No clock, no randomness, no unordered iteration: every replica computes the same.
 * Business errors come back as rejections, never as exceptions.
 */
public final class Rules {
    /**
     * How many log indexes a client request id is remembered for. Clients retry within seconds; at the
     * goal of 2,000 commits/s this window is still well over a minute. Pruning is driven by the log index
     * (never by time), a few ids per applied command, so every replica forgets the same ids at the same entry.
     */
    public static final long DEDUPE_WINDOW = 200_000;
    /** How many expired request ids one command may prune; the rest go with later commands. */
    static final int PRUNE_PER_COMMAND = 8;
    /** File quota of a Lua VM whose spec does not set fs.quota_bytes. */
    public static final long DEFAULT_FS_QUOTA = 1L << 20;
    static final int MAX_PATH_LENGTH = 1024;

    private Rules() {}

    /** Applies one command at a log index. The state is not changed; the returned changes do that. */
    public static Outcome apply(RegistryState state, Command command, long index) {
        String requestId = command.getRequestId();
        if (!requestId.isEmpty()) {
            Optional<CommandResult> first = state.request(requestId);
            if (first.isPresent()) {
                return new Outcome(first.get().toBuilder().setDuplicate(true).build(), List.of());
            }
        }
        List<Change> changes = new ArrayList<>();
        CommandResult body = precheck(command)
                .map(Reject::result)
                .orElseGet(() -> dispatch(state, command, index, changes));
        CommandResult result = body.toBuilder().setIndex(index).build();
        if (!requestId.isEmpty()) {
            changes.add(new Change.RememberRequest(requestId, index, result));
        }
        for (RegistryState.RequestMark old : state.requestsUpTo(index - DEDUPE_WINDOW, PRUNE_PER_COMMAND)) {
            changes.add(new Change.ForgetRequest(old.requestId(), old.index()));
        }
        return new Outcome(result, changes);
    }

    /**
     * The checks that need no state: ids and spec shape. The leader runs them before an entry enters the
     * log; apply runs them again, so a bad entry is rejected alike everywhere.
     */
    public static Optional<Rejection> precheck(Command command) {
        switch (command.getKindCase()) {
            case UPSERT_VM: {
                UpsertVm u = command.getUpsertVm();
                return first(Ids.validateJobId(u.getJobId()),
                        u.getTenant().isEmpty() ? Optional.empty() : Ids.validateTenant(u.getTenant()),
                        SpecRules.validate(u.getSpec()));
            }
            case CLAIM_WARM: {
                ClaimWarm c = command.getClaimWarm();
                return first(Ids.validateJobId(c.getJobId()),
                        c.getTenant().isEmpty() ? Optional.empty() : Ids.validateTenant(c.getTenant()),
                        SpecRules.validate(c.getSpec()),
                        Ids.validate("warm_vm_id", "warm VM id", c.getWarmVmId()));
            }
            case START_VM:
                return Ids.validateJobId(command.getStartVm().getJobId());
            case STOP_VM:
                return Ids.validateJobId(command.getStopVm().getJobId());
            case DELETE_VM:
                return Ids.validateJobId(command.getDeleteVm().getJobId());
            case REGISTER_NODE:
                return Ids.validate("node.id", "node id", command.getRegisterNode().getNode().getId());
            case ASSIGN:
                return first(Ids.validateJobId(command.getAssign().getJobId()),
                        Ids.validateNodeId(command.getAssign().getNodeId()));
            case BATCH:
                return Batch.precheck(command.getBatch());
            case KIND_NOT_SET:
                return Optional.of(Reject.invalid("kind", "the command carries no operation; set one of upsert_vm,"
                        + " start_vm, stop_vm, delete_vm, register_node, set_node_state, assign, report_status,"
                        + " claim_warm, fs_delta, remove_node, batch"));
            default:
                return Optional.empty();
        }
    }

    @SafeVarargs
    private static Optional<Rejection> first(Optional<Rejection>... checks) {
        for (Optional<Rejection> c : checks) {
            if (c.isPresent()) {
                return c;
            }
        }
        return Optional.empty();
    }

    private static CommandResult dispatch(RegistryState s, Command c, long index, List<Change> changes) {
        long now = c.getStampedMs();
        switch (c.getKindCase()) {
            case UPSERT_VM:
                return upsert(s, c.getUpsertVm(), index, now, changes);
            case START_VM:
                return setDesired(s, c.getStartVm().getJobId(), c.getStartVm().getHasExpectedVersion(),
                        c.getStartVm().getExpectedVersion(), DesiredState.DESIRED_RUNNING, index, now, changes);
            case STOP_VM:
                return setDesired(s, c.getStopVm().getJobId(), c.getStopVm().getHasExpectedVersion(),
                        c.getStopVm().getExpectedVersion(), DesiredState.DESIRED_STOPPED, index, now, changes);
            case DELETE_VM:
                return delete(s, c.getDeleteVm(), changes);
            case REGISTER_NODE:
                return registerNode(s, c.getRegisterNode(), now, changes);
            case SET_NODE_STATE:
                return setNodeState(s, c.getSetNodeState(), now, changes);
            case REMOVE_NODE:
                return removeNode(s, c.getRemoveNode().getNodeId(), changes);
            case ASSIGN:
                return assign(s, c.getAssign(), index, now, changes);
            case REPORT_STATUS:
                return report(s, c.getReportStatus(), index, now, changes);
            case CLAIM_WARM:
                return claim(s, c.getClaimWarm(), index, now, changes);
            case FS_DELTA:
                return fsDelta(s, c.getFsDelta(), changes);
            default:
                return Reject.result(ErrorCode.INVALID, "kind", "unknown command kind " + c.getKindCase());
        }
    }

    // ------------------------------------------------------------------ VMs

    private static CommandResult upsert(RegistryState s, UpsertVm u, long index, long now, List<Change> changes) {
        String jobId = u.getJobId();
        VmSpec spec = SpecRules.normalize(u.getSpec());
        Optional<VmRecord> existing = s.vm(jobId);
        Optional<Rejection> version = checkVersion(jobId, existing, u.getHasExpectedVersion(), u.getExpectedVersion());
        if (version.isPresent()) {
            return Reject.result(version.get());
        }
        if (u.getCreateOnly() && existing.isPresent()) {
            return Reject.result(ErrorCode.CONFLICT, "job_id", "job '" + jobId + "' already exists (version "
                    + existing.get().getVersion() + "); create_only forbids replacing it: pick another job id or drop create_only");
        }
        if (u.getDesired() != DesiredState.DESIRED_UNSPECIFIED && u.getDesired() != DesiredState.DESIRED_RUNNING
                && u.getDesired() != DesiredState.DESIRED_STOPPED) {
            return Reject.result(ErrorCode.INVALID, "desired", "desired must be running or stopped, not " + u.getDesiredValue());
        }
        String tenant = u.getTenant().isEmpty() ? existing.map(VmRecord::getTenant).orElse(jobId) : u.getTenant();
        if (existing.isPresent() && !existing.get().getTenant().equals(tenant)) {
            return Reject.result(ErrorCode.CONFLICT, "tenant", "job '" + jobId + "' belongs to tenant '"
                    + existing.get().getTenant() + "', not '" + tenant + "'; a VM cannot move between tenants");
        }
        Optional<Rejection> taken = namesAndPortsTaken(s, jobId, spec, "");
        if (taken.isPresent()) {
            return Reject.result(taken.get());
        }
        String ip;
        if (existing.isPresent()) {
            ip = existing.get().getIp();
        } else {
            Optional<String> free = s.lowestFreeAddress();
            if (free.isEmpty()) {
                Subnet subnet = s.subnet();
                return Reject.result(ErrorCode.CONFLICT, "ip", "subnet " + subnet + " has no free address (all "
                        + subnet.assignableCount() + " are held by VMs); delete VMs or configure a larger subnet");
            }
            ip = free.get();
        }
        VmRecord.Builder record = existing.map(VmRecord::toBuilder).orElseGet(() -> VmRecord.newBuilder()
                .setId(jobId)
                .setVmId(jobId)
                .setTenant(tenant)
                .setDesired(DesiredState.DESIRED_RUNNING)
                .setObserved(ObservedState.PENDING)
                .setIp(ip)
                .setMac(Subnet.macFor(ip))
                .setWarm(u.getWarm())
                .setCreatedMs(now));
        if (u.getDesired() != DesiredState.DESIRED_UNSPECIFIED) record.setDesired(u.getDesired());
        record.setSpec(spec)
                .setDnsName(spec.getDnsName())
                .setSpecHash(SpecHash.of(spec))
                .setVersion(index)
                .setUpdatedMs(now);
        existing.ifPresent(old -> release(old, changes, false));
        if (existing.isEmpty()) {
            changes.add(new Change.TakeAddress(ip, jobId));
        }
        VmRecord vm = record.build();
        hold(vm, changes);
        changes.add(new Change.PutVm(vm));
        return CommandResult.newBuilder().setVm(vm).setCreated(existing.isEmpty()).build();
    }

    /**
     * Host ports are unique cluster-wide per (port, proto), though only a clash on one node would
     * really collide: placement happens after the upsert, so a per-node rule could only fail later,
     * at dispatch, where no client waits for the answer. Cluster-wide, the clash is seen at upsert time.
     */
    private static Optional<Rejection> namesAndPortsTaken(RegistryState s, String jobId, VmSpec spec, String alsoFree) {
        List<String> names = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        if (!spec.getDnsName().isEmpty()) {
            names.add(spec.getDnsName());
            fields.add("spec.dns_name");
        }
        for (int i = 0; i < spec.getAliasesCount(); i++) {
            names.add(spec.getAliases(i));
            fields.add("spec.aliases[" + i + "]");
        }
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            for (String type : List.of("A", "CNAME")) {
                Optional<DnsRecord> held = s.dns(type, name);
                if (held.isPresent() && !held.get().getVmId().equals(jobId) && !held.get().getVmId().equals(alsoFree)) {
                    return Optional.of(Reject.conflict(fields.get(i), "DNS name '" + name + "' is held by VM '"
                            + held.get().getVmId() + "'; choose another name or delete that VM first"));
                }
            }
        }
        for (int i = 0; i < spec.getPortsCount(); i++) {
            PortForward p = spec.getPorts(i);
            Optional<String> holder = s.portHolder(p.getHost(), p.getProto());
            if (holder.isPresent() && !holder.get().equals(jobId) && !holder.get().equals(alsoFree)) {
                return Optional.of(Reject.conflict("spec.ports[" + i + "].host", "host port " + p.getHost() + "/"
                        + p.getProto() + " is held by VM '" + holder.get() + "'; host ports are unique across the cluster,"
                        + " choose another port"));
            }
        }
        return Optional.empty();
    }

    /** Adds the DNS records and host ports a VM holds. */
    private static void hold(VmRecord vm, List<Change> changes) {
        VmSpec spec = vm.getSpec();
        if (!spec.getDnsName().isEmpty()) {
            changes.add(new Change.PutDns(dns(spec.getDnsName(), "A", vm.getIp(), vm.getId())));
            changes.add(new Change.PutDns(dns(Subnet.reverseName(vm.getIp()), "PTR", spec.getDnsName(), vm.getId())));
            for (String alias : spec.getAliasesList()) {
                changes.add(new Change.PutDns(dns(alias, "CNAME", spec.getDnsName(), vm.getId())));
            }
        }
        for (PortForward p : spec.getPortsList()) {
            changes.add(new Change.TakePort(p.getHost(), p.getProto(), vm.getId()));
        }
    }

    /** Drops the DNS records and host ports a VM holds, and its address when it leaves for good. */
    private static void release(VmRecord vm, List<Change> changes, boolean address) {
        VmSpec spec = vm.getSpec();
        if (!spec.getDnsName().isEmpty()) {
            changes.add(new Change.RemoveDns("A", spec.getDnsName()));
            changes.add(new Change.RemoveDns("PTR", Subnet.reverseName(vm.getIp())));
            for (String alias : spec.getAliasesList()) {
                changes.add(new Change.RemoveDns("CNAME", alias));
            }
        }
        for (PortForward p : spec.getPortsList()) {
            changes.add(new Change.FreePort(p.getHost(), p.getProto()));
        }
        if (address) {
            changes.add(new Change.FreeAddress(vm.getIp()));
        }
    }

    private static DnsRecord dns(String name, String type, String value, String owner) {
        return DnsRecord.newBuilder().setName(name).setType(type).setValue(value).setVmId(owner).build();
    }

    private static Optional<Rejection> checkVersion(String jobId, Optional<VmRecord> current, boolean has, long expected) {
        if (!has) {
            return Optional.empty();
        }
        long actual = current.map(VmRecord::getVersion).orElse(0L);
        if (actual == expected) {
            return Optional.empty();
        }
        String message;
        if (expected == 0) {
            message = "job '" + jobId + "' already exists at version " + actual
                    + "; expected_version 0 means it must not exist";
        } else if (current.isEmpty()) {
            message = "job '" + jobId + "' does not exist (version 0), but expected_version is " + expected;
        } else {
            message = "job '" + jobId + "' is at version " + actual + ", but expected_version is " + expected
                    + "; read the VM again and retry with its current version";
        }
        return Optional.of(Reject.conflict("expected_version", message));
    }

    private static CommandResult setDesired(RegistryState s, String jobId, boolean hasExpected, long expected,
            DesiredState target, long index, long now, List<Change> changes) {
        Optional<VmRecord> vm = s.vm(jobId);
        if (vm.isEmpty()) {
            return unknownVm(jobId);
        }
        Optional<Rejection> version = checkVersion(jobId, vm, hasExpected, expected);
        if (version.isPresent()) {
            return Reject.result(version.get());
        }
        boolean running = vm.get().getDesired() == DesiredState.DESIRED_RUNNING;
        if (target == DesiredState.DESIRED_RUNNING && running) {
            return Reject.result(ErrorCode.ILLEGAL_TRANSITION, "desired", "VM '" + jobId
                    + "' is already started (desired RUNNING); stop it first to start it again");
        }
        if (target == DesiredState.DESIRED_STOPPED && !running) {
            return Reject.result(ErrorCode.ILLEGAL_TRANSITION, "desired", "VM '" + jobId
                    + "' is already stopped (desired STOPPED); start it first to stop it again");
        }
        VmRecord updated = vm.get().toBuilder().setDesired(target).setVersion(index).setUpdatedMs(now).build();
        changes.add(new Change.PutVm(updated));
        return CommandResult.newBuilder().setVm(updated).build();
    }

    private static CommandResult delete(RegistryState s, DeleteVm d, List<Change> changes) {
        Optional<VmRecord> vm = s.vm(d.getJobId());
        if (vm.isEmpty()) {
            return unknownVm(d.getJobId());
        }
        Optional<Rejection> version = checkVersion(d.getJobId(), vm, d.getHasExpectedVersion(), d.getExpectedVersion());
        if (version.isPresent()) {
            return Reject.result(version.get());
        }
        release(vm.get(), changes, true);
        for (String path : s.files(d.getJobId()).keySet()) {
            changes.add(new Change.RemoveFile(d.getJobId(), path));
        }
        changes.add(new Change.RemoveVm(d.getJobId()));
        // The deleted record goes back so the hosting node's agent knows what to tear down.
        return CommandResult.newBuilder().setVm(vm.get()).build();
    }

    private static CommandResult unknownVm(String jobId) {
        return Reject.result(ErrorCode.NOT_FOUND, "job_id", "no VM with job id '" + jobId + "'; list VMs to see the ids");
    }

    // ------------------------------------------------------------------ nodes

    private static CommandResult registerNode(RegistryState s, RegisterNode r, long now, List<Change> changes) {
        NodeRecord given = r.getNode();
        Optional<NodeRecord> existing = s.node(given.getId());
        // A node registers again at every start; an operator's drain outlives that.
        NodeRecord node = given.toBuilder()
                .setState(NodeState.NODE_UP)
                .setDrained(existing.map(NodeRecord::getDrained).orElse(given.getDrained()))
                .setRegisteredMs(existing.map(NodeRecord::getRegisteredMs).orElse(now))
                .setUpdatedMs(now)
                .build();
        changes.add(new Change.PutNode(node));
        return CommandResult.newBuilder().setNode(node).build();
    }

    private static CommandResult setNodeState(RegistryState s, SetNodeState c, long now, List<Change> changes) {
        Optional<NodeRecord> node = s.node(c.getNodeId());
        if (node.isEmpty()) {
            return unknownNode(c.getNodeId());
        }
        NodeRecord.Builder b = node.get().toBuilder().setUpdatedMs(now);
        if (c.getState() != NodeState.NODE_STATE_UNSPECIFIED) {
            b.setState(c.getState());
        }
        if (c.getSetDrained()) {
            b.setDrained(c.getDrained());
        }
        NodeRecord updated = b.build();
        changes.add(new Change.PutNode(updated));
        return CommandResult.newBuilder().setNode(updated).build();
    }

    private static CommandResult removeNode(RegistryState s, String nodeId, List<Change> changes) {
        if (s.node(nodeId).isEmpty()) {
            return unknownNode(nodeId);
        }
        changes.add(new Change.RemoveNode(nodeId));
        return CommandResult.newBuilder().setDone(true).build();
    }

    private static CommandResult unknownNode(String nodeId) {
        return Reject.result(ErrorCode.NOT_FOUND, "node_id", "no node with id '" + nodeId
                + "'; a node appears once it has registered");
    }

    // ------------------------------------------------------------------ dispatch

    private static CommandResult assign(RegistryState s, Assign a, long index, long now, List<Change> changes) {
        Optional<VmRecord> vm = s.vm(a.getJobId());
        if (vm.isEmpty()) {
            return unknownVm(a.getJobId());
        }
        if (s.node(a.getNodeId()).isEmpty()) {
            return unknownNode(a.getNodeId());
        }
        VmRecord updated = vm.get().toBuilder()
                .setNode(a.getNodeId())
                .setEpoch(index)
                .setObserved(ObservedState.PENDING)
                .setObservedReason("assigned to " + a.getNodeId())
                .setExitCode(0)
                .setVersion(index)
                .setUpdatedMs(now)
                .build();
        changes.add(new Change.PutVm(updated));
        return CommandResult.newBuilder().setVm(updated).build();
    }

    private static Optional<Rejection> checkEpoch(VmRecord vm, long epoch) {
        if (epoch == vm.getEpoch()) {
            return Optional.empty();
        }
        String why = epoch < vm.getEpoch()
                ? "a newer Assign (epoch " + vm.getEpoch() + ") superseded it"
                : "the VM's newest Assign is epoch " + vm.getEpoch();
        return Optional.of(Reject.of(ErrorCode.STALE_EPOCH, "epoch", "report for VM '" + vm.getId() + "' carries epoch "
                + epoch + ", but " + why + "; the report is ignored"));
    }

    private static CommandResult report(RegistryState s, ReportStatus r, long index, long now, List<Change> changes) {
        Optional<VmRecord> vm = s.vm(r.getJobId());
        if (vm.isEmpty()) {
            return unknownVm(r.getJobId());
        }
        Optional<Rejection> stale = checkEpoch(vm.get(), r.getEpoch());
        if (stale.isPresent()) {
            return Reject.result(stale.get());
        }
        if (r.getObserved() == ObservedState.OBSERVED_UNSPECIFIED || r.getObserved() == ObservedState.UNRECOGNIZED) {
            return Reject.result(ErrorCode.INVALID, "observed", "a status report needs an observed state, e.g. RUNNING");
        }
        VmRecord updated = vm.get().toBuilder()
                .setObserved(r.getObserved())
                .setObservedReason(r.getReason())
                .setExitCode(r.getExitCode())
                .setVersion(index)
                .setUpdatedMs(now)
                .build();
        changes.add(new Change.PutVm(updated));
        return CommandResult.newBuilder().setVm(updated).build();
    }

    private static CommandResult claim(RegistryState s, ClaimWarm c, long index, long now, List<Change> changes) {
        String jobId = c.getJobId();
        Optional<VmRecord> found = s.vm(c.getWarmVmId());
        if (found.isEmpty()) {
            return Reject.result(ErrorCode.NOT_FOUND, "warm_vm_id", "no VM with id '" + c.getWarmVmId()
                    + "' to claim; it may have been claimed or deleted, fall back to a cold create");
        }
        VmRecord warm = found.get();
        if (!warm.getWarm()) {
            return Reject.result(ErrorCode.CONFLICT, "warm_vm_id", "VM '" + warm.getId()
                    + "' is not an unclaimed warm VM; fall back to a cold create");
        }
        VmSpec spec = SpecRules.normalize(c.getSpec());
        String hash = SpecHash.of(spec);
        if (!hash.equals(warm.getSpecHash())) {
            return Reject.result(ErrorCode.CONFLICT, "spec", "warm VM '" + warm.getId()
                    + "' was built from a different spec (hash " + warm.getSpecHash() + ", the claim's is " + hash
                    + "); claim a warm VM of the same shape or create cold");
        }
        if (s.vm(jobId).isPresent()) {
            return Reject.result(ErrorCode.CONFLICT, "job_id", "job '" + jobId
                    + "' already exists; a warm VM can only be claimed by a new job id");
        }
        Optional<Rejection> taken = namesAndPortsTaken(s, jobId, spec, warm.getId());
        if (taken.isPresent()) {
            return Reject.result(taken.get());
        }
        String tenant = c.getTenant().isEmpty() ? jobId : c.getTenant();
        VmRecord claimed = warm.toBuilder()
                .setId(jobId)
                .setTenant(tenant)
                .setSpec(spec)
                .setDnsName(spec.getDnsName())
                .setSpecHash(hash)
                .setWarm(false)
                .setDesired(DesiredState.DESIRED_RUNNING)
                .setVersion(index)
                .setCreatedMs(now)
                .setUpdatedMs(now)
                .build();
        release(warm, changes, false);
        SortedMap<String, ByteString> files = s.files(warm.getId());
        for (var f : files.entrySet()) {
            changes.add(new Change.RemoveFile(warm.getId(), f.getKey()));
            changes.add(new Change.PutFile(jobId, f.getKey(), f.getValue()));
        }
        changes.add(new Change.RemoveVm(warm.getId()));
        changes.add(new Change.TakeAddress(claimed.getIp(), jobId));
        hold(claimed, changes);
        changes.add(new Change.PutVm(claimed));
        return CommandResult.newBuilder().setVm(claimed).setCreated(true).build();
    }

    private static CommandResult fsDelta(RegistryState s, FsDelta d, List<Change> changes) {
        Optional<VmRecord> found = s.vm(d.getJobId());
        if (found.isEmpty()) {
            return unknownVm(d.getJobId());
        }
        VmRecord vm = found.get();
        Optional<Rejection> stale = checkEpoch(vm, d.getEpoch());
        if (stale.isPresent()) {
            return Reject.result(stale.get());
        }
        if (!vm.getSpec().getRuntime().equals("lua")) {
            return Reject.result(ErrorCode.INVALID, "spec.runtime", "VM '" + vm.getId() + "' runs '"
                    + vm.getSpec().getRuntime() + "'; only lua VMs keep files in the registry");
        }
        TreeMap<String, ByteString> files = new TreeMap<>(s.files(vm.getId()));
        for (int i = 0; i < d.getChangesCount(); i++) {
            FileChange f = d.getChanges(i);
            String path = f.getPath();
            if (path.isEmpty() || path.length() > MAX_PATH_LENGTH || path.indexOf('\0') >= 0) {
                return Reject.result(ErrorCode.INVALID, "changes[" + i + "].path", "file path must be 1.."
                        + MAX_PATH_LENGTH + " characters without NUL");
            }
            if (f.getRemoved()) {
                files.remove(path);
            } else {
                files.put(path, f.getData());
            }
        }
        long quota = vm.getSpec().getFs().getQuotaBytes() == 0 ? DEFAULT_FS_QUOTA : vm.getSpec().getFs().getQuotaBytes();
        long total = files.values().stream().mapToLong(ByteString::size).sum();
        if (Long.compareUnsigned(total, quota) > 0) {
            return Reject.result(ErrorCode.INVALID, "fs.quota_bytes", "files of VM '" + vm.getId() + "' would total "
                    + total + " bytes, over the quota of " + Long.toUnsignedString(quota)
                    + " bytes (spec.fs.quota_bytes); remove files or raise the quota");
        }
        for (FileChange f : d.getChangesList()) {
            changes.add(f.getRemoved()
                    ? new Change.RemoveFile(vm.getId(), f.getPath())
                    : new Change.PutFile(vm.getId(), f.getPath(), f.getData()));
        }
        return CommandResult.newBuilder().setDone(true).build();
    }
}
