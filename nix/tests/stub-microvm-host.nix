# A stand-in for microvm.nix's host module (microvm.nixosModules.host): the options Flotilla reads
# and the part of its config Flotilla composes with (the microvm user, the microvm@ template unit
# running as microvm:kvm). Only the shape matters here; the real module is used by the VM test.
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.microvm = {
    host.enable = mkOption { type = types.bool; default = true; };
    stateDir = mkOption { type = types.str; default = "/var/lib/microvms"; };
    vms = mkOption { type = types.attrsOf types.anything; default = { }; };
  };
  config = {
    users.users.microvm = { isSystemUser = true; group = "kvm"; };
    systemd.services."microvm@" = {
      description = "MicroVM '%i'";
      serviceConfig = {
        User = "microvm";
        Group = "kvm";
        WorkingDirectory = "/var/lib/microvms/%i";
        ExecStart = "/var/lib/microvms/%i/current/bin/microvm-run";
        Restart = "always";
      };
    };
  };
}
