# One Flotilla host of the three-host example: microvm.nix's host module plus services.flotilla.
# Used by the flake's nixosConfigurations (real addresses) and by the VM test (test host names).
#
#   name:    this host's node id (host1, host2, host3)
#   peers:   [ { id; address; } ]  every member of the initial group
#   microvm: the microvm.nix flake (for its `microvm` command and the registry pin)
#   nixpkgs: the nixpkgs flake (registry pin for the VM flakes that the microvm backend writes)
{ name, peers, microvm, nixpkgs }:
{ config, lib, pkgs, ... }:
{
  networking.hostName = name;

  microvm.host.enable = true;

  services.flotilla = {
    enable = true;
    nodeId = name;
    inherit peers;
    openFirewall = true;
    backends = [ "microvm" "process" "lua" ];
    # Pinned to the flake's command rather than whatever is on the system PATH.
    microvm.command = "${microvm.packages.${pkgs.stdenv.hostPlatform.system}.microvm}/bin/microvm";
    settings = {
      capacity = { vcpu = 8; mem_mb = 16384; };
      labels = { rack = name; };
    };
  };

  # The microvm backend writes a small flake per VM that names `nixpkgs` and `microvm` as inputs;
  # pinning both in the registry lets `microvm -c` resolve them to the versions this host runs,
  # without fetching.
  nix.registry.nixpkgs.flake = nixpkgs;
  nix.registry.microvm.flake = microvm;
}
