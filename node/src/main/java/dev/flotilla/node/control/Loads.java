package dev.flotilla.node.control;

import dev.flotilla.proto.VmRecord;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What every node carries, tallied once per controller pass and kept current as the pass places VMs,
 * so placing U VMs among N costs O(N + U) rather than a scan of all N for each of the U.
 */
final class Loads {

    /** One node's running totals; per tenant counts only VMs that belong to a tenant (not warm ones). */
    private static final class Tally {
        long vcpu;
        long memMb;
        long lua;
        final Map<String, Long> byTenant = new HashMap<>();
    }

    private final Map<String, Tally> byNode = new HashMap<>();

    private Loads() {}

    /** The loads of the given assignments. */
    static Loads of(List<VmRecord> vms) {
        Loads loads = new Loads();
        for (VmRecord vm : vms) loads.add(vm);
        return loads;
    }

    /** Counts {@code vm} on its node, if it holds capacity there. */
    void add(VmRecord vm) {
        change(vm, 1);
    }

    /** Stops counting {@code vm} on its node (it is moving, or gone). */
    void remove(VmRecord vm) {
        change(vm, -1);
    }

    /** What {@code nodeId} carries as seen by {@code vm}: the VM's own share, if it is there already, left out. */
    NodeLoad on(String nodeId, VmRecord vm) {
        Tally t = byNode.get(nodeId);
        if (t == null) return new NodeLoad(0, 0, 0);
        long vcpu = t.vcpu, mem = t.memMb, ofTenant = t.byTenant.getOrDefault(vm.getTenant(), 0L);
        if (vm.getNode().equals(nodeId) && NodeLoad.holdsCapacity(vm)) {
            if (NodeLoad.reservesCapacity(vm.getSpec())) {
                vcpu -= vm.getSpec().getResources().getVcpu();
                mem -= vm.getSpec().getResources().getMemMb();
            }
            if (!vm.getWarm()) ofTenant--;
        }
        return new NodeLoad(vcpu, mem, ofTenant);
    }

    /** Lua VMs (of every tenant) holding room on {@code nodeId}, {@code vm} itself left out. */
    long luaOn(String nodeId, VmRecord vm) {
        Tally t = byNode.get(nodeId);
        if (t == null) return 0;
        boolean self = vm.getNode().equals(nodeId) && NodeLoad.holdsCapacity(vm) && "lua".equals(vm.getSpec().getRuntime());
        return t.lua - (self ? 1 : 0);
    }

    private void change(VmRecord vm, int sign) {
        if (!NodeLoad.holdsCapacity(vm)) return;
        Tally t = byNode.computeIfAbsent(vm.getNode(), n -> new Tally());
        if (NodeLoad.reservesCapacity(vm.getSpec())) {
            t.vcpu += sign * vm.getSpec().getResources().getVcpu();
            t.memMb += sign * vm.getSpec().getResources().getMemMb();
        } else {
            t.lua += sign;
        }
        // Warm VMs belong to no tenant yet; they must not push a tenant's own VMs around.
        if (!vm.getWarm()) t.byTenant.merge(vm.getTenant(), (long) sign, Long::sum);
    }
}
