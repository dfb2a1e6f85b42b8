# The three-host example: `nixos-rebuild switch --flake ./nix#host1` (and host2, host3).
# The addresses are an example LAN; replace them, and add each machine's own
# hardware-configuration.nix (file systems, boot loader) in place of the placeholders below.
{ self, nixpkgs, microvm }:
let
  system = "x86_64-linux";

  peers = [
    { id = "host1"; address = "192.168.50.11"; }
    { id = "host2"; address = "192.168.50.12"; }
    { id = "host3"; address = "192.168.50.13"; }
  ];

  host = name: nixpkgs.lib.nixosSystem {
    inherit system;
    modules = [
      microvm.nixosModules.host
      self.nixosModules.default
      (import ./example-host.nix { inherit name peers microvm nixpkgs; })
      {
        # Placeholders so the example evaluates; a real host imports its hardware configuration.
        fileSystems."/" = { device = "/dev/disk/by-label/nixos"; fsType = "ext4"; };
        boot.loader.grub.device = "/dev/sda";
        system.stateVersion = "24.11";
      }
    ];
  };
in
nixpkgs.lib.genAttrs [ "host1" "host2" "host3" ] host
