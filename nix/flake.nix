{
  description = "Flotilla: a replicated control plane for virtual machines";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
    microvm = {
      url = "github:astro/microvm.nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs = { self, nixpkgs, microvm }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      lib = nixpkgs.lib;

      # The flake lives in nix/; the Maven reactor is the repository root. Only what the build
      # reads goes into the source, so docs or scripts edits do not rebuild the package.
      src = lib.fileset.toSource {
        root = ../.;
        fileset = lib.fileset.unions [ ../pom.xml ../proto ../statemachine ../node ];
      };
    in
    {
      packages.${system}.default = pkgs.callPackage ./package.nix { inherit src; };

      # The module, with the package defaulting to this flake's build for the host's system.
      nixosModules.default = { lib, pkgs, ... }: {
        imports = [ ./module.nix ];
        services.flotilla.package =
          lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      };

      # Three hosts with microvm.nix's host module: nixos-rebuild switch --flake ./nix#host1
      nixosConfigurations = import ./hosts.nix { inherit self nixpkgs microvm; };

      # Needs a Nix host with KVM; see docs/operations.md. Not run by this repository's CI.
      checks.${system}.cluster =
        pkgs.testers.runNixOSTest (import ./tests/cluster.nix { inherit self microvm nixpkgs; });
    };
}
