package dev.flotilla.statemachine;

/**
 * How a node runs its registry: the subnet VMs get addresses from, and whether every applied batch is
 * fsynced (on in production; tests may turn it off for speed).
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
