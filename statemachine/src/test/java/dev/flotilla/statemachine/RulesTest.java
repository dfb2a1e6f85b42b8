package dev.flotilla.statemachine;

import static dev.flotilla.statemachine.Commands.NOW;
import static dev.flotilla.statemachine.Commands.assign;
import static dev.flotilla.statemachine.Commands.delete;
import static dev.flotilla.statemachine.Commands.process;
import static dev.flotilla.statemachine.Commands.registerNode;
import static dev.flotilla.statemachine.Commands.start;
import static dev.flotilla.statemachine.Commands.stop;
import static dev.flotilla.statemachine.Commands.upsert;
import static dev.flotilla.statemachine.Commands.withEnv;
import static dev.flotilla.statemachine.Commands.withRequestId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.ClaimWarm;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.ErrorCode;
import dev.flotilla.proto.FileChange;
import dev.flotilla.proto.FsDelta;
import dev.flotilla.proto.FsSpec;
import dev.flotilla.proto.LuaProgram;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.PortForward;
import dev.flotilla.proto.RemovePeerRecord;
import dev.flotilla.proto.ReportStatus;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.SetNodeState;
import dev.flotilla.proto.StartVm;
import dev.flotilla.proto.UpsertVm;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RulesTest {
    @TempDir Path dir;
    StoreFixture reg;

    @BeforeEach
    void open() throws IOException {
        reg = new StoreFixture(dir.resolve("db"));
    }

    @AfterEach
    void close() {
        reg.close();
    }

    static void assertRejected(CommandResult r, ErrorCode code, String field, String messagePart) {
        assertTrue(r.hasRejection(), () -> "expected a " + code + " rejection, got " + r);
        assertEquals(code, r.getRejection().getCode(), () -> "wrong code in " + r.getRejection());
        assertEquals(field, r.getRejection().getField(), () -> "wrong field in " + r.getRejection());
        assertTrue(r.getRejection().getMessage().contains(messagePart),
                () -> "message '" + r.getRejection().getMessage() + "' should mention '" + messagePart + "'");
    }

    static VmSpec named(VmSpec spec, String dnsName, String... aliases) {
        return spec.toBuilder().setDnsName(dnsName).addAllAliases(List.of(aliases)).build();
    }

    static VmSpec port(VmSpec spec, int host, String proto) {
        return spec.toBuilder().addPorts(PortForward.newBuilder().setHost(host).setGuest(80).setProto(proto)).build();
    }

    static VmSpec lua(long quota) {
        return VmSpec.newBuilder().setRuntime("lua")
                .addPrograms(LuaProgram.newBuilder().setName("main").setSource("return {}"))
                .setFs(FsSpec.newBuilder().setQuotaBytes(quota)).build();
    }

    // ------------------------------------------------------------------ upsert

    @Test
    void newJobGetsRecordWithDefaultsAddressAndMac() throws IOException {
        CommandResult r = reg.apply(upsert("web-1", process()));
        assertFalse(r.hasRejection(), r::toString);
        VmRecord vm = r.getVm();
        assertTrue(r.getCreated());
        assertEquals(1, r.getIndex());
        assertEquals("web-1", vm.getId());
        assertEquals("web-1", vm.getVmId());
        assertEquals("web-1", vm.getTenant(), "tenant defaults to the job id");
        assertEquals(DesiredState.DESIRED_RUNNING, vm.getDesired());
        assertEquals(ObservedState.PENDING, vm.getObserved());
        assertEquals("10.0.0.2", vm.getIp(), "lowest address after network and gateway");
        assertEquals("02:00:0a:00:00:02", vm.getMac());
        assertEquals(NOW, vm.getCreatedMs());
        assertEquals(NOW, vm.getUpdatedMs());
        assertEquals(1, vm.getVersion());
        assertEquals(SpecHash.of(process()), vm.getSpecHash());
        assertEquals(1, vm.getSpec().getResources().getVcpu());
        assertEquals(256, vm.getSpec().getResources().getMemMb());
        assertEquals("service", vm.getSpec().getLifecycle());
        assertEquals(vm, reg.store.vm("web-1").orElseThrow(), "the record is stored as returned");
    }

    @Test
    void addressesAreLowestFreeAndReturnOnDelete() throws IOException {
        assertEquals("10.0.0.2", reg.apply(upsert("a", process())).getVm().getIp());
        assertEquals("10.0.0.3", reg.apply(upsert("b", process())).getVm().getIp());
        assertEquals("10.0.0.4", reg.apply(upsert("c", process())).getVm().getIp());
        assertFalse(reg.apply(delete("b")).hasRejection());
        VmRecord d = reg.apply(upsert("d", process())).getVm();
        assertEquals("10.0.0.3", d.getIp(), "the freed address is reused first");
        assertEquals("02:00:0a:00:00:03", d.getMac());
    }

    @Test
    void fullSubnetIsRejectedWithClearMessage() throws IOException {
        reg.close();
        reg = new StoreFixture(dir.resolve("small"), "192.168.7.0/30");
        assertEquals("192.168.7.2", reg.apply(upsert("a", process())).getVm().getIp());
        assertRejected(reg.apply(upsert("b", process())), ErrorCode.CONFLICT, "ip", "no free address");
        reg.apply(delete("a"));
        assertEquals("192.168.7.2", reg.apply(upsert("b", process())).getVm().getIp());
    }

    @Test
    void upsertReplacesSpecKeepsDesiredAndAddress() throws IOException {
        reg.apply(upsert("web", withEnv(process(), "A", "1")));
        reg.apply(stop("web"));
        CommandResult r = reg.apply(upsert("web", process("/bin/true")));
        assertFalse(r.getCreated());
        VmRecord vm = r.getVm();
        assertEquals(0, vm.getSpec().getEnvCount(), "spec is replaced, not merged");
        assertEquals(List.of("/bin/true"), vm.getSpec().getCmdList());
        assertEquals(DesiredState.DESIRED_STOPPED, vm.getDesired(), "desired state is unchanged by an upsert");
        assertEquals("10.0.0.2", vm.getIp());
        assertEquals(3, vm.getVersion());
        assertEquals(SpecHash.of(process("/bin/true")), vm.getSpecHash());
    }

    @Test
    void upsertCanSetTheDesiredStateAndOtherwiseKeepsIt() throws IOException {
        Command stopped = upsert("web", process());
        stopped = stopped.toBuilder().setUpsertVm(stopped.getUpsertVm().toBuilder().setDesired(DesiredState.DESIRED_STOPPED)).build();
        assertEquals(DesiredState.DESIRED_STOPPED, reg.apply(stopped).getVm().getDesired(), "created stopped");
        assertEquals(DesiredState.DESIRED_STOPPED, reg.apply(upsert("web", process("/bin/true"))).getVm().getDesired(),
                "an upsert without desired keeps it");
        Command running = upsert("web", process());
        running = running.toBuilder().setUpsertVm(running.getUpsertVm().toBuilder().setDesired(DesiredState.DESIRED_RUNNING)).build();
        assertEquals(DesiredState.DESIRED_RUNNING, reg.apply(running).getVm().getDesired());
        Command bad = running.toBuilder().setUpsertVm(running.getUpsertVm().toBuilder().setDesiredValue(42)).build();
        assertRejected(reg.apply(bad), ErrorCode.INVALID, "desired", "running or stopped");
    }

    @Test
    void expectedVersionIsCompareAndSet() throws IOException {
        assertRejected(reg.apply(upsert("web", process(), 7)), ErrorCode.CONFLICT, "expected_version", "does not exist");
        assertFalse(reg.apply(upsert("web", process(), 0)).hasRejection(), "0 means: must not exist yet");
        long version = reg.store.vm("web").orElseThrow().getVersion();
        assertRejected(reg.apply(upsert("web", process(), 0)), ErrorCode.CONFLICT, "expected_version", "must not exist");
        assertRejected(reg.apply(upsert("web", process(), version + 5)), ErrorCode.CONFLICT, "expected_version",
                "is at version " + version + ", but expected_version is " + (version + 5));
        assertFalse(reg.apply(upsert("web", process("/bin/true"), version)).hasRejection());
        long now = reg.store.vm("web").orElseThrow().getVersion();
        assertRejected(reg.apply(delete("web", version)), ErrorCode.CONFLICT, "expected_version", "at version " + now);
        Command startOld = Command.newBuilder().setStartVm(StartVm.newBuilder().setJobId("web")
                .setHasExpectedVersion(true).setExpectedVersion(version)).build();
        assertRejected(reg.apply(startOld), ErrorCode.CONFLICT, "expected_version", "at version " + now);
        assertFalse(reg.apply(delete("web", now)).hasRejection());
    }

    @Test
    void createOnlyRefusesExistingJob() throws IOException {
        reg.apply(upsert("web", process()));
        Command c = Command.newBuilder().setUpsertVm(UpsertVm.newBuilder().setJobId("web").setSpec(process())
                .setCreateOnly(true)).build();
        assertRejected(reg.apply(c), ErrorCode.CONFLICT, "job_id", "already exists");
    }

    @Test
    void tenantCannotChange() throws IOException {
        reg.apply(Command.newBuilder().setUpsertVm(UpsertVm.newBuilder().setJobId("web").setTenant("acme")
                .setSpec(process())).build());
        assertRejected(reg.apply(Command.newBuilder().setUpsertVm(UpsertVm.newBuilder().setJobId("web")
                .setTenant("other").setSpec(process())).build()), ErrorCode.CONFLICT, "tenant", "acme");
        CommandResult keep = reg.apply(upsert("web", process("/bin/true")));
        assertEquals("acme", keep.getVm().getTenant(), "an upsert without tenant keeps the VM's tenant");
        assertEquals(1, reg.store.listVms("acme").size());
        assertEquals(0, reg.store.listVms("other").size());
    }

    @Test
    void invalidSpecAndIdsAreRejectedWithField() throws IOException {
        VmSpec tooBig = process().toBuilder().setResources(Resources.newBuilder().setVcpu(65)).build();
        assertRejected(reg.apply(upsert("web", tooBig)), ErrorCode.INVALID, "spec.resources.vcpu", "1..64");
        assertRejected(reg.apply(upsert("../etc", process())), ErrorCode.INVALID, "job_id", "not allowed");
        assertRejected(reg.apply(upsert("x".repeat(64), process())), ErrorCode.INVALID, "job_id", "at most 63");
        assertRejected(reg.apply(Command.getDefaultInstance()), ErrorCode.INVALID, "kind", "no operation");
        assertTrue(reg.store.listVms("").isEmpty());
    }

    // ------------------------------------------------------------------ DNS and ports

    @Test
    void dnsNameGetsARecordPtrAndCnames() throws IOException {
        reg.apply(upsert("web", named(process(), "web.internal", "www.internal")));
        assertEquals("10.0.0.2", reg.store.dns("A", "web.internal").orElseThrow().getValue());
        assertEquals("web.internal", reg.store.dns("PTR", "2.0.0.10.in-addr.arpa").orElseThrow().getValue());
        assertEquals("web.internal", reg.store.dns("CNAME", "www.internal").orElseThrow().getValue());
        assertEquals("web", reg.store.dns("A", "web.internal").orElseThrow().getVmId());
        assertEquals("web.internal", reg.store.vm("web").orElseThrow().getDnsName());

        reg.apply(upsert("web", named(process(), "site.internal")));
        assertTrue(reg.store.dns("A", "web.internal").isEmpty(), "the old name is dropped on upsert");
        assertTrue(reg.store.dns("CNAME", "www.internal").isEmpty());
        assertEquals("10.0.0.2", reg.store.dns("A", "site.internal").orElseThrow().getValue());

        reg.apply(delete("web"));
        assertTrue(reg.store.listDns().isEmpty(), () -> "delete frees every record: " + reg.store.listDns());
    }

    @Test
    void dnsNameHeldByAnotherVmIsConflictNamingHolder() throws IOException {
        reg.apply(upsert("one", named(process(), "web.internal", "www.internal")));
        assertRejected(reg.apply(upsert("two", named(process(), "web.internal"))), ErrorCode.CONFLICT,
                "spec.dns_name", "'one'");
        assertRejected(reg.apply(upsert("two", named(process(), "www.internal"))), ErrorCode.CONFLICT,
                "spec.dns_name", "'one'");
        assertRejected(reg.apply(upsert("two", named(process(), "two.internal", "web.internal"))),
                ErrorCode.CONFLICT, "spec.aliases[0]", "'one'");
        assertTrue(reg.store.vm("two").isEmpty());
        reg.apply(delete("one"));
        assertFalse(reg.apply(upsert("two", named(process(), "web.internal"))).hasRejection());
    }

    @Test
    void hostPortsAreUniqueClusterWide() throws IOException {
        reg.apply(upsert("one", port(process(), 8080, "tcp")));
        assertRejected(reg.apply(upsert("two", port(process(), 8080, "tcp"))), ErrorCode.CONFLICT,
                "spec.ports[0].host", "held by VM 'one'");
        assertFalse(reg.apply(upsert("two", port(process(), 8080, "udp"))).hasRejection(), "udp is another port");
        assertFalse(reg.apply(upsert("one", port(process(), 8080, "tcp"))).hasRejection(), "a VM keeps its own port");
        reg.apply(delete("one"));
        assertFalse(reg.apply(upsert("three", port(process(), 8080, "tcp"))).hasRejection(), "freed on delete");
    }

    // ------------------------------------------------------------------ lifecycle

    @Test
    void startStopTransitions() throws IOException {
        reg.apply(upsert("web", process()));
        assertRejected(reg.apply(start("web")), ErrorCode.ILLEGAL_TRANSITION, "desired", "already started");
        CommandResult stopped = reg.apply(stop("web"));
        assertEquals(DesiredState.DESIRED_STOPPED, stopped.getVm().getDesired());
        assertEquals(stopped.getIndex(), stopped.getVm().getVersion());
        assertRejected(reg.apply(stop("web")), ErrorCode.ILLEGAL_TRANSITION, "desired", "already stopped");
        assertEquals(DesiredState.DESIRED_RUNNING, reg.apply(start("web")).getVm().getDesired());
    }

    @Test
    void unknownVmIsNotFound() throws IOException {
        assertRejected(reg.apply(start("ghost")), ErrorCode.NOT_FOUND, "job_id", "ghost");
        assertRejected(reg.apply(stop("ghost")), ErrorCode.NOT_FOUND, "job_id", "ghost");
        assertRejected(reg.apply(delete("ghost")), ErrorCode.NOT_FOUND, "job_id", "ghost");
        assertRejected(reg.apply(assign("ghost", "n1")), ErrorCode.NOT_FOUND, "job_id", "ghost");
    }

    @Test
    void deleteReturnsTheRecordAndFreesEverything() throws IOException {
        reg.apply(upsert("web", port(named(process(), "web.internal"), 80, "tcp")));
        StateDigest empty;
        try (StoreFixture other = new StoreFixture(dir.resolve("empty"))) {
            empty = other.store.digest();
        }
        CommandResult r = reg.apply(delete("web"));
        assertEquals("web", r.getVm().getId());
        assertTrue(reg.store.vm("web").isEmpty());
        assertEquals(empty.digest(), reg.store.digest().digest(), "nothing of the VM is left");
    }

    // ------------------------------------------------------------------ request ids

    @Test
    void repeatedRequestIdReturnsFirstResultAndChangesNothing() throws IOException {
        CommandResult first = reg.apply(withRequestId(upsert("web", process()), "req-1"));
        String before = reg.store.digest().digest();
        CommandResult again = reg.apply(withRequestId(upsert("web", process("/bin/other")), "req-1"));
        assertTrue(again.getDuplicate());
        assertEquals(first.toBuilder().setDuplicate(true).build(), again);
        assertEquals(before, reg.store.digest().digest(), "a duplicate writes nothing but the applied index");
        CommandResult rejected = reg.apply(withRequestId(start("web"), "req-2"));
        assertTrue(rejected.hasRejection());
        reg.apply(stop("web"));
        CommandResult replay = reg.apply(withRequestId(start("web"), "req-2"));
        assertTrue(replay.getDuplicate() && replay.hasRejection(), "a rejection is remembered as the first result too");
    }

    @Test
    void requestIdsAreForgottenAfterTheWindow() throws IOException {
        reg.apply(withRequestId(upsert("web", process()), "req-1"));
        assertTrue(reg.store.request("req-1").isPresent());
        reg.index = Rules.DEDUPE_WINDOW + 1;
        reg.apply(stop("web")); // index WINDOW + 2: prunes ids applied at or below index 2
        assertTrue(reg.store.request("req-1").isEmpty(), "an id older than the window is dropped");
        assertTrue(reg.store.requestsUpTo(Long.MAX_VALUE, 10).isEmpty());
    }

    // ------------------------------------------------------------------ nodes and dispatch

    @Test
    void nodesRegisterChangeStateAndLeave() throws IOException {
        CommandResult r = reg.apply(registerNode("n1"));
        assertEquals(NodeState.NODE_UP, r.getNode().getState());
        assertEquals(NOW, r.getNode().getRegisteredMs());
        Command down = Command.newBuilder().setStampedMs(NOW + 5).setSetNodeState(SetNodeState.newBuilder()
                .setNodeId("n1").setState(NodeState.NODE_DOWN).setSetDrained(true).setDrained(true)).build();
        CommandResult d = reg.apply(down);
        assertEquals(NodeState.NODE_DOWN, d.getNode().getState());
        assertTrue(d.getNode().getDrained());
        assertEquals(NOW, d.getNode().getRegisteredMs());
        assertEquals(NOW + 5, d.getNode().getUpdatedMs());
        CommandResult again = reg.apply(registerNode("n1"));
        assertEquals(NodeState.NODE_UP, again.getNode().getState());
        assertTrue(again.getNode().getDrained(), "registering again at start must keep the operator's drain");
        assertEquals(1, reg.store.listNodes().size());
        Command remove = Command.newBuilder().setRemoveNode(RemovePeerRecord.newBuilder().setNodeId("n1")).build();
        assertTrue(reg.apply(remove).getDone());
        assertRejected(reg.apply(remove), ErrorCode.NOT_FOUND, "node_id", "n1");
        assertRejected(reg.apply(down), ErrorCode.NOT_FOUND, "node_id", "n1");
    }

    @Test
    void assignSetsEpochAndReportsAreFenced() throws IOException {
        reg.apply(upsert("web", process()));
        assertRejected(reg.apply(assign("web", "n1")), ErrorCode.NOT_FOUND, "node_id", "n1");
        reg.apply(registerNode("n1"));
        reg.apply(registerNode("n2"));
        CommandResult first = reg.apply(assign("web", "n1"));
        long epoch1 = first.getIndex();
        assertEquals(epoch1, first.getVm().getEpoch(), "the epoch is the Assign's own index");
        assertEquals("n1", first.getVm().getNode());
        assertEquals("assigned to n1", first.getVm().getObservedReason());
        assertEquals(ObservedState.PENDING, first.getVm().getObserved());

        CommandResult running = reg.apply(report("web", epoch1, ObservedState.RUNNING, "started"));
        assertEquals(ObservedState.RUNNING, running.getVm().getObserved());
        assertEquals("started", running.getVm().getObservedReason());

        long epoch2 = reg.apply(assign("web", "n2")).getIndex();
        assertRejected(reg.apply(report("web", epoch1, ObservedState.FAILED, "late")), ErrorCode.STALE_EPOCH,
                "epoch", "superseded");
        assertEquals(ObservedState.PENDING, reg.store.vm("web").orElseThrow().getObserved());
        CommandResult exited = reg.apply(Command.newBuilder().setReportStatus(ReportStatus.newBuilder()
                .setJobId("web").setEpoch(epoch2).setObserved(ObservedState.EXITED).setExitCode(3)).build());
        assertEquals(3, exited.getVm().getExitCode());
        assertRejected(reg.apply(report("web", epoch2 + 100, ObservedState.RUNNING, "")), ErrorCode.STALE_EPOCH,
                "epoch", "newest Assign");
    }

    static Command report(String jobId, long epoch, ObservedState observed, String reason) {
        return Command.newBuilder().setStampedMs(NOW).setReportStatus(ReportStatus.newBuilder().setJobId(jobId)
                .setEpoch(epoch).setObserved(observed).setReason(reason)).build();
    }

    // ------------------------------------------------------------------ warm pools

    @Test
    void claimWarmMovesTheMachineToTheNewJob() throws IOException {
        reg.apply(registerNode("n1"));
        Command createWarm = upsert("warm-1", process());
        CommandResult created = reg.apply(createWarm.toBuilder()
                .setUpsertVm(createWarm.getUpsertVm().toBuilder().setWarm(true)).build());
        assertTrue(created.getVm().getWarm(), "an upsert with warm=true creates an unclaimed warm VM");
        long epoch = reg.apply(assign("warm-1", "n1")).getIndex();
        reg.apply(report("warm-1", epoch, ObservedState.RUNNING, "warm"));
        VmRecord warm = reg.store.vm("warm-1").orElseThrow();
        assertTrue(warm.getWarm());
        reg.apply(upsert("cold", process()));
        assertEquals(List.of(warm), reg.store.listWarmVms(), "the in-memory warm list holds the warm VM, not the cold one");

        Command claim = Command.newBuilder().setStampedMs(NOW + 1).setClaimWarm(ClaimWarm.newBuilder()
                .setJobId("job-7").setTenant("acme").setSpec(named(process(), "job7.internal")).setWarmVmId("warm-1")).build();
        CommandResult r = reg.apply(claim);
        assertFalse(r.hasRejection(), r::toString);
        assertTrue(r.getCreated());
        VmRecord vm = r.getVm();
        assertEquals("job-7", vm.getId());
        assertEquals("warm-1", vm.getVmId(), "the machine keeps its name on the host");
        assertEquals("acme", vm.getTenant());
        assertEquals("n1", vm.getNode());
        assertEquals(epoch, vm.getEpoch());
        assertEquals(warm.getIp(), vm.getIp());
        assertEquals(warm.getMac(), vm.getMac());
        assertEquals(ObservedState.RUNNING, vm.getObserved());
        assertFalse(vm.getWarm());
        assertTrue(reg.store.vm("warm-1").isEmpty());
        assertEquals(warm.getIp(), reg.store.dns("A", "job7.internal").orElseThrow().getValue());
        assertRejected(reg.apply(claim), ErrorCode.NOT_FOUND, "warm_vm_id", "warm-1");
        assertEquals(List.of(), reg.store.listWarmVms(), "a claimed warm VM leaves the warm list");
    }

    @Test
    void theWarmListIsRebuiltWhenTheStoreOpens() throws IOException {
        Command createWarm = upsert("warm-2", process());
        reg.apply(createWarm.toBuilder().setUpsertVm(createWarm.getUpsertVm().toBuilder().setWarm(true)).build());
        reg.apply(upsert("cold", process()));
        reg.close();
        reg = new StoreFixture(dir.resolve("db"));
        assertEquals(List.of("warm-2"), reg.store.listWarmVms().stream().map(VmRecord::getId).toList());
        reg.apply(delete("warm-2"));
        assertEquals(List.of(), reg.store.listWarmVms());
    }

    @Test
    void claimNeedsAWarmVmOfTheSameShape() throws IOException {
        reg.apply(upsert("cold", process()));
        Command claim = Command.newBuilder().setClaimWarm(ClaimWarm.newBuilder().setJobId("job")
                .setSpec(process()).setWarmVmId("cold")).build();
        assertRejected(reg.apply(claim), ErrorCode.CONFLICT, "warm_vm_id", "not an unclaimed warm VM");
        VmRecord warm = reg.store.vm("cold").orElseThrow().toBuilder().setWarm(true).build();
        reg.store.commit(1, ++reg.index, List.of(new Change.PutVm(warm)));
        Command other = claim.toBuilder().setClaimWarm(claim.getClaimWarm().toBuilder().setSpec(process("/bin/x"))).build();
        assertRejected(reg.apply(other), ErrorCode.CONFLICT, "spec", "different spec");
    }

    // ------------------------------------------------------------------ files

    @Test
    void fsDeltaKeepsFilesWithinQuotaAndDeleteDropsThem() throws IOException {
        reg.apply(registerNode("n1"));
        reg.apply(upsert("sim", lua(10)));
        long epoch = reg.apply(assign("sim", "n1")).getIndex();
        CommandResult ok = reg.apply(fs("sim", epoch, put("/a", "12345"), put("/b", "123")));
        assertTrue(ok.getDone(), ok::toString);
        assertEquals(2, reg.store.files("sim").size());
        assertRejected(reg.apply(fs("sim", epoch, put("/c", "123"))), ErrorCode.INVALID, "fs.quota_bytes", "11 bytes");
        assertTrue(reg.apply(fs("sim", epoch, removed("/a"), put("/c", "123"))).getDone(), "a removal makes room");
        assertEquals(List.of("/b", "/c"), List.copyOf(reg.store.files("sim").keySet()));
        assertRejected(reg.apply(fs("sim", epoch - 1, put("/d", "1"))), ErrorCode.STALE_EPOCH, "epoch", "superseded");
        reg.apply(delete("sim"));
        assertTrue(reg.store.files("sim").isEmpty());
    }

    @Test
    void fsDeltaDefaultQuotaIsOneMebibyteAndOnlyForLua() throws IOException {
        reg.apply(upsert("sim", lua(0)));
        byte[] big = new byte[(1 << 20) + 1];
        assertRejected(reg.apply(Command.newBuilder().setFsDelta(FsDelta.newBuilder().setJobId("sim")
                .addChanges(FileChange.newBuilder().setPath("/big").setData(ByteString.copyFrom(big)))).build()),
                ErrorCode.INVALID, "fs.quota_bytes", "1048576");
        reg.apply(upsert("proc", process()));
        assertRejected(reg.apply(fs("proc", 0, put("/a", "1"))), ErrorCode.INVALID, "spec.runtime", "only lua");
    }

    static FileChange put(String path, String data) {
        return FileChange.newBuilder().setPath(path).setData(ByteString.copyFromUtf8(data)).build();
    }

    static FileChange removed(String path) {
        return FileChange.newBuilder().setPath(path).setRemoved(true).build();
    }

    static Command fs(String jobId, long epoch, FileChange... changes) {
        return Command.newBuilder().setFsDelta(FsDelta.newBuilder().setJobId(jobId).setEpoch(epoch)
                .addAllChanges(List.of(changes))).build();
    }

    // ------------------------------------------------------------------ store

    @Test
    void replayedIndexesAreSkipped() throws IOException {
        reg.apply(upsert("web", process()));
        String digest = reg.store.digest().digest();
        assertTrue(reg.store.apply(1, 1, delete("web")).isEmpty(), "index 1 is already applied");
        assertEquals(digest, reg.store.digest().digest());
        assertTrue(reg.store.vm("web").isPresent());
    }

    @Test
    void claimRefusesTakenJobIdsNamesAndPorts() throws IOException {
        reg.apply(upsert("warm-1", process()));
        reg.apply(upsert("taken", port(named(process(), "busy.internal"), 9000, "tcp")));
        VmRecord warm = reg.store.vm("warm-1").orElseThrow().toBuilder().setWarm(true).build();
        reg.store.commit(1, ++reg.index, List.of(new Change.PutVm(warm)));
        Command.Builder claim = Command.newBuilder().setClaimWarm(ClaimWarm.newBuilder().setJobId("taken")
                .setSpec(process()).setWarmVmId("warm-1"));
        assertRejected(reg.apply(claim.build()), ErrorCode.CONFLICT, "job_id", "already exists");
        claim.getClaimWarmBuilder().setJobId("new").setSpec(named(process(), "busy.internal"));
        assertRejected(reg.apply(claim.build()), ErrorCode.CONFLICT, "spec.dns_name", "'taken'");
        claim.getClaimWarmBuilder().setSpec(port(process(), 9000, "tcp"));
        assertRejected(reg.apply(claim.build()), ErrorCode.CONFLICT, "spec.ports[0].host", "'taken'");
        claim.getClaimWarmBuilder().setJobId("../x");
        assertRejected(reg.apply(claim.build()), ErrorCode.INVALID, "job_id", "not allowed");
        assertTrue(reg.store.vm("warm-1").orElseThrow().getWarm(), "a refused claim leaves the warm VM alone");
    }

    @Test
    void fsDeltaChecksVmAndPaths() throws IOException {
        assertRejected(reg.apply(fs("ghost", 0, put("/a", "1"))), ErrorCode.NOT_FOUND, "job_id", "ghost");
        reg.apply(upsert("sim", lua(0)));
        assertRejected(reg.apply(fs("sim", 0, put("", "1"))), ErrorCode.INVALID, "changes[0].path", "1..1024");
        assertRejected(reg.apply(fs("sim", 0, put("/ok", "1"), put("/a\u0000b", "1"))), ErrorCode.INVALID,
                "changes[1].path", "NUL");
        assertTrue(reg.store.files("sim").isEmpty(), "a rejected delta writes none of its files");
    }

    @Test
    void createOnlyCreatesWhenAbsent() throws IOException {
        Command c = Command.newBuilder().setUpsertVm(UpsertVm.newBuilder().setJobId("web").setSpec(process())
                .setCreateOnly(true)).build();
        CommandResult r = reg.apply(c);
        assertTrue(r.getCreated(), r::toString);
    }

    @Test
    void reportNeedsAnObservedState() throws IOException {
        reg.apply(upsert("web", process()));
        assertRejected(reg.apply(report("web", 0, ObservedState.OBSERVED_UNSPECIFIED, "")), ErrorCode.INVALID,
                "observed", "RUNNING");
        assertRejected(reg.apply(report("ghost", 0, ObservedState.RUNNING, "")), ErrorCode.NOT_FOUND, "job_id", "ghost");
    }
}
