package dev.flotilla.statemachine;

import dev.flotilla.proto.DnsRecord;
import dev.flotilla.proto.VmRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

/** Properties the registry holds after every command, whatever the command was. */
final class Invariants {
    private Invariants() {}

    /** Returns the broken properties (empty when all hold). */
    static List<String> check(RegistryStore store, long index) {
        List<String> broken = new ArrayList<>();
        List<VmRecord> vms = store.listVms("");
        Set<String> ids = new HashSet<>();
        Set<String> ips = new HashSet<>();
        for (VmRecord vm : vms) {
            ids.add(vm.getId());
            if (!ips.add(vm.getIp())) {
                broken.add("address " + vm.getIp() + " is held by two VMs (one is " + vm.getId() + ")");
            }
            if (store.subnet().offsetOf(vm.getIp()).isEmpty()) {
                broken.add("VM " + vm.getId() + " has address " + vm.getIp() + " outside " + store.subnet());
            }
            if (!Subnet.macFor(vm.getIp()).equals(vm.getMac())) {
                broken.add("VM " + vm.getId() + " has MAC " + vm.getMac() + " not derived from " + vm.getIp());
            }
            if (vm.getVersion() > index || vm.getVersion() <= 0) {
                broken.add("VM " + vm.getId() + " has version " + vm.getVersion() + " outside 1.." + index);
            }
            if (!vm.getSpecHash().equals(SpecHash.of(vm.getSpec()))) {
                broken.add("VM " + vm.getId() + " has a stale spec hash");
            }
        }
        // The in-memory mirrors the agent, the simulated network and the controller read by must answer
        // what a scan of every VM answers.
        for (String node : List.of("n0", "n1", "n2")) {
            List<VmRecord> scanned = vms.stream().filter(v -> v.getNode().equals(node)).toList();
            if (!store.listVms("", node).equals(scanned)) broken.add("the VMs listed on " + node + " are not the VMs placed there");
        }
        if (!store.listVms("", "", "lua").equals(vms.stream().filter(v -> v.getSpec().getRuntime().equals("lua")).toList())) {
            broken.add("the lua VMs listed are not the lua VMs in the registry");
        }
        if (!store.listVms("", "", "", true).equals(vms.stream().filter(RegistryStore::controlled).toList())) {
            broken.add("the controlled VMs listed are not those a scan finds");
        }
        SortedMap<String, String> addresses = store.addressHolders();
        if (addresses.size() != vms.size()) {
            broken.add(addresses.size() + " addresses are held for " + vms.size() + " VMs: " + addresses);
        }
        for (Map.Entry<String, String> a : addresses.entrySet()) {
            if (store.vm(a.getValue()).map(v -> !v.getIp().equals(a.getKey())).orElse(true)) {
                broken.add("address " + a.getKey() + " is held for " + a.getValue() + ", which does not have it");
            }
        }
        for (DnsRecord r : store.listDns()) {
            if (!ids.contains(r.getVmId())) {
                broken.add("DNS " + r.getType() + " " + r.getName() + " belongs to missing VM " + r.getVmId());
            }
        }
        int expectedDns = vms.stream().mapToInt(v -> v.getSpec().getDnsName().isEmpty() ? 0
                : 2 + v.getSpec().getAliasesCount()).sum();
        if (store.listDns().size() != expectedDns) {
            broken.add(store.listDns().size() + " DNS records held, VMs need " + expectedDns + ": " + store.listDns());
        }
        int expectedPorts = vms.stream().mapToInt(v -> v.getSpec().getPortsCount()).sum();
        if (store.portHolders().size() != expectedPorts) {
            broken.add(store.portHolders().size() + " host ports held, VMs forward " + expectedPorts);
        }
        for (String owner : store.fileOwners()) {
            if (!ids.contains(owner)) {
                broken.add("files belong to missing VM " + owner);
            }
        }
        return broken;
    }
}
