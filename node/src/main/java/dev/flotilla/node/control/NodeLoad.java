package dev.flotilla.node.control;

import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;

import java.util.List;

/** What a node already carries: the vcpu and memory held by the VMs assigned to it, and per tenant. */
public record NodeLoad(long vcpu, long memMb, long vmsOfTenant) {

    /** The load of a node over all tenants (vmsOfTenant then counts every VM holding capacity there). */
    public static NodeLoad onNode(String nodeId, List<VmRecord> vms) {
        long vcpu = 0, mem = 0, count = 0;
        for (VmRecord vm : vms) {
            if (!vm.getNode().equals(nodeId) || !holdsCapacity(vm)) continue;
            count++;
            if (!reservesCapacity(vm.getSpec())) continue;
            vcpu += vm.getSpec().getResources().getVcpu();
            mem += vm.getSpec().getResources().getMemMb();
        }
        return new NodeLoad(vcpu, mem, count);
    }

    /**
     * Whether a VM of this spec reserves vcpu and memory on its node. A lua VM does not: it is a few
     * handler tables in the node's tick loop, not a machine.
     */
    static boolean reservesCapacity(VmSpec spec) {
        return !"lua".equals(spec.getRuntime());
    }

    /**
     * A VM holds its node's capacity while it is meant to run and has not finished: a VM desired
     * stopped, or a job that ended, gives its room back even though its record still names the node.
     * A crashed service still holds it, because the agent is about to restart it there.
     */
    static boolean holdsCapacity(VmRecord vm) {
        if (vm.getNode().isEmpty() || vm.getDesired() == DesiredState.DESIRED_STOPPED) {
            return false;
        }
        ObservedState o = vm.getObserved();
        boolean ended = o == ObservedState.EXITED || o == ObservedState.FAILED;
        return !(ended && Lifecycle.isJob(vm.getSpec().getLifecycle()));
    }
}
