package dev.flotilla.node.control;

import dev.flotilla.proto.Constraints;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.Label;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;
import dev.flotilla.proto.WarmPoolSpec;

import java.util.List;

/** Small builders for the records the control functions read, so each test states only what matters. */
final class Fixtures {

    private Fixtures() {}

    static NodeRecord node(String id, int vcpu, int memMb, String... backends) {
        return NodeRecord.newBuilder().setId(id).setState(NodeState.NODE_UP)
                .setCapacity(Resources.newBuilder().setVcpu(vcpu).setMemMb(memMb))
                .addAllBackends(backends.length == 0 ? List.of("process") : List.of(backends))
                .build();
    }

    static NodeRecord withLabel(NodeRecord n, String key, String value) {
        return n.toBuilder().addLabels(Label.newBuilder().setKey(key).setValue(value)).build();
    }

    static VmSpec spec(int vcpu, int memMb) {
        return VmSpec.newBuilder().setRuntime("process").setLifecycle("service")
                .setResources(Resources.newBuilder().setVcpu(vcpu).setMemMb(memMb)).build();
    }

    static VmRecord vm(String id, String tenant, VmSpec spec) {
        return VmRecord.newBuilder().setId(id).setVmId(id).setTenant(tenant).setSpec(spec)
                .setDesired(DesiredState.DESIRED_RUNNING).setObserved(ObservedState.PENDING).build();
    }

    static VmRecord on(VmRecord vm, String node) {
        return vm.toBuilder().setNode(node).setObserved(ObservedState.RUNNING).build();
    }

    static VmSpec constrainedTo(VmSpec spec, String node) {
        return spec.toBuilder().setConstraints(Constraints.newBuilder().setNode(node)).build();
    }

    static VmSpec needingLabel(VmSpec spec, String key, String value) {
        return spec.toBuilder().setConstraints(spec.getConstraints().toBuilder()
                .addLabels(Label.newBuilder().setKey(key).setValue(value))).build();
    }

    static VmSpec pooled(VmSpec spec, int min, int max) {
        return spec.toBuilder().setWarmPool(WarmPoolSpec.newBuilder().setMin(min).setMax(max)).build();
    }

    static VmRecord warm(String id, String hash, ObservedState observed, long createdMs) {
        return VmRecord.newBuilder().setId(id).setVmId(id).setWarm(true).setSpecHash(hash)
                .setSpec(spec(1, 256)).setDesired(DesiredState.DESIRED_RUNNING).setObserved(observed)
                .setNode(observed == ObservedState.PENDING ? "" : "n1").setCreatedMs(createdMs).build();
    }
}
