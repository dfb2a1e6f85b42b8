# Declarations of the NixOS options that nix/module.nix defines or reads, with their types kept
# lenient (attrsOf anything) where NixOS has deep submodules. Enough to merge several modules'
# definitions the way NixOS would and read the result back.
{ lib, pkgs, ... }:
let inherit (lib) mkOption types; in
{
  options = {
    assertions = mkOption { type = types.listOf types.anything; default = [ ]; };
    warnings = mkOption { type = types.listOf types.str; default = [ ]; };
    users.users = mkOption { type = types.attrsOf types.anything; default = { }; };
    users.groups = mkOption { type = types.attrsOf types.anything; default = { }; };
    systemd.package = mkOption { type = types.package; default = pkgs.systemd; };
    systemd.services = mkOption { type = types.attrsOf types.anything; default = { }; };
    systemd.tmpfiles.rules = mkOption { type = types.listOf types.str; default = [ ]; };
    networking.firewall.allowedTCPPorts = mkOption { type = types.listOf types.port; default = [ ]; };
    networking.firewall.allowedUDPPorts = mkOption { type = types.listOf types.port; default = [ ]; };
    security.polkit.enable = mkOption { type = types.bool; default = false; };
    security.polkit.extraConfig = mkOption { type = types.lines; default = ""; };
    environment.etc = mkOption { type = types.attrsOf types.anything; default = { }; };
    environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; };
    networking.hostName = mkOption { type = types.str; default = "nixos"; };
    nix.registry = mkOption { type = types.attrsOf types.anything; default = { }; };
  };
}
