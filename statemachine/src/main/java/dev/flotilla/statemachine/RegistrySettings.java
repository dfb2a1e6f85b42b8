package dev.flotilla.statemachine;

/**
 * How a node runs its registry: the subnet VMs get addresses from, and whether every applied batch is
 * fsynced (on by default; tests may turn it off for speed).
 *
 * <p>With {@code sync} off the registry is still crash safe, only slower to recover: the Raft log is the
 * durable record, RocksDB recovers a consistent prefix (each batch holds its changes and its applied
 * index together), the log is purged only up to a durable snapshot, and a store found behind the newest
 * snapshot is replaced by it at start. So at worst the tail of the log is applied again. Measured on the
 * 2-core dev machine: about 300 applies/s with sync on, about 3,000/s with it off (see StoreApplyBench).
 */
public record RegistrySettings(String subnetCidr, boolean sync) {
    public static final String DEFAULT_SUBNET = "10.0.0.0/16";

    public RegistrySettings {
        Subnet.parse(subnetCidr); // fail at configuration time, with the message saying the expected form
    }

    public static RegistrySettings defaults() {
        return new RegistrySettings(DEFAULT_SUBNET, true);
    }

    public Subnet subnet() {
        return Subnet.parse(subnetCidr);
    }
}
