package dev.flotilla.statemachine;

import dev.flotilla.proto.Assign;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.DeleteVm;
import dev.flotilla.proto.EnvVar;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.RegisterNode;
import dev.flotilla.proto.StartVm;
import dev.flotilla.proto.StopVm;
import dev.flotilla.proto.UpsertVm;
import dev.flotilla.proto.VmSpec;

/** Short builders for the commands the tests send. */
final class Commands {
    static final long NOW = 1_700_000_000_000L;

    private Commands() {}

    static VmSpec process(String... cmd) {
        return VmSpec.newBuilder().setRuntime("process").addAllCmd(java.util.List.of(cmd.length == 0
                ? new String[] {"/bin/sleep", "1000"} : cmd)).build();
    }

    static VmSpec withEnv(VmSpec spec, String name, String value) {
        return spec.toBuilder().addEnv(EnvVar.newBuilder().setName(name).setValue(value)).build();
    }

    static Command upsert(String jobId, VmSpec spec) {
        return Command.newBuilder().setStampedMs(NOW)
                .setUpsertVm(UpsertVm.newBuilder().setJobId(jobId).setSpec(spec)).build();
    }

    static Command upsert(String jobId, VmSpec spec, long expectedVersion) {
        return Command.newBuilder().setStampedMs(NOW)
                .setUpsertVm(UpsertVm.newBuilder().setJobId(jobId).setSpec(spec)
                        .setHasExpectedVersion(true).setExpectedVersion(expectedVersion)).build();
    }

    static Command start(String jobId) {
        return Command.newBuilder().setStampedMs(NOW).setStartVm(StartVm.newBuilder().setJobId(jobId)).build();
    }

    static Command stop(String jobId) {
        return Command.newBuilder().setStampedMs(NOW).setStopVm(StopVm.newBuilder().setJobId(jobId)).build();
    }

    static Command delete(String jobId) {
        return Command.newBuilder().setStampedMs(NOW).setDeleteVm(DeleteVm.newBuilder().setJobId(jobId)).build();
    }

    static Command delete(String jobId, long expectedVersion) {
        return Command.newBuilder().setStampedMs(NOW).setDeleteVm(DeleteVm.newBuilder().setJobId(jobId)
                .setHasExpectedVersion(true).setExpectedVersion(expectedVersion)).build();
    }

    static Command registerNode(String nodeId) {
        return Command.newBuilder().setStampedMs(NOW).setRegisterNode(RegisterNode.newBuilder()
                .setNode(NodeRecord.newBuilder().setId(nodeId).setApiAddress("127.0.0.1:8088"))).build();
    }

    static Command assign(String jobId, String nodeId) {
        return Command.newBuilder().setStampedMs(NOW)
                .setAssign(Assign.newBuilder().setJobId(jobId).setNodeId(nodeId)).build();
    }

    static Command withRequestId(Command c, String requestId) {
        return c.toBuilder().setRequestId(requestId).build();
    }
}
