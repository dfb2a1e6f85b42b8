package dev.flotilla.node.net;

import java.util.List;
import java.util.Map;

/**
 * Who owns which address and which name means which address, as the router needs it. The lead fills it
 * from the replicated IPAM and DNS records; the router never reads the store itself.
 *
 * @param hosts    VM address (a.b.c.d) to the id of the node hosting that VM
 * @param a        DNS A records: name to address
 * @param cname    DNS CNAME records: alias to canonical name
 * @param ptr      DNS PTR records: address to name
 * @param gateways one NAT gateway per node that masquerades its VMs' outbound traffic (may be empty)
 */
public record NetworkTable(Map<String, String> hosts, Map<String, String> a, Map<String, String> cname,
                           Map<String, String> ptr, List<NatGateway> gateways) {

    public NetworkTable {
        hosts = Map.copyOf(hosts);
        a = Map.copyOf(a);
        cname = Map.copyOf(cname);
        ptr = Map.copyOf(ptr);
        gateways = List.copyOf(gateways);
    }

    /** A table with no names and no gateways. */
    public static NetworkTable ofHosts(Map<String, String> hosts) {
        return new NetworkTable(hosts, Map.of(), Map.of(), Map.of(), List.of());
    }

    /**
     * A node's NAT gateway: traffic from a VM inside {@code insideCidr} on {@code node} to an address
     * outside it leaves with source {@code gatewayIp} and a port the gateway picks; replies to that
     * address and port find their way back. See docs/decisions.md, "NAT for simulated VMs".
     */
    public record NatGateway(String node, String gatewayIp, String insideCidr) {
    }
}
