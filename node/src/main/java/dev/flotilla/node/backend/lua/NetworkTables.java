package dev.flotilla.node.backend.lua;

import dev.flotilla.node.net.Ipv4;
import dev.flotilla.node.net.NetworkTable;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.VmRecord;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The router's table and the transport's peers, derived from the replicated registry: every placed
 * lua VM's address routes to its node; its {@code dns_name} is an A record (and PTR), its aliases
 * CNAMEs to it; every other registered node with a {@code transport_address} is a packet peer. Pure.
 */
public final class NetworkTables {
    private NetworkTables() {}

    /** What one node needs: the table for its router and its peers' transport addresses by node id. */
    public record Derived(NetworkTable table, Map<String, String> peers) {}

    public static Derived derive(String selfNode, List<VmRecord> vms, List<NodeRecord> nodes) {
        Map<String, String> hosts = new TreeMap<>();
        Map<String, String> a = new TreeMap<>();
        Map<String, String> cname = new TreeMap<>();
        Map<String, String> ptr = new TreeMap<>();
        for (VmRecord vm : vms) {
            if (!"lua".equals(vm.getSpec().getRuntime()) || vm.getIp().isEmpty() || Ipv4.parse(vm.getIp()).isEmpty()) {
                continue;
            }
            if (!vm.getNode().isEmpty()) {
                hosts.put(vm.getIp(), vm.getNode());
            }
            String name = vm.getDnsName();
            if (!name.isEmpty()) {
                a.put(name, vm.getIp());
                ptr.put(vm.getIp(), name);
                for (String alias : vm.getSpec().getAliasesList()) {
                    cname.put(alias, name);
                }
            }
        }
        Map<String, String> peers = new TreeMap<>();
        for (NodeRecord n : nodes) {
            if (!n.getId().equals(selfNode) && !n.getTransportAddress().isEmpty()) {
                peers.put(n.getId(), n.getTransportAddress());
            }
        }
        return new Derived(new NetworkTable(hosts, a, cname, ptr, List.of()), peers);
    }
}
