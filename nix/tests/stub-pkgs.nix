# A stand-in for the few nixpkgs packages and builders that nix/module.nix and nix/package.nix
# touch. A "derivation" here is an attribute set with an outPath (so "${pkg}/bin/x" works) that
# also keeps its inputs, so the tests can look at what would have been built.
{ lib }:
let
  fakeDrv = name: extra: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  } // extra;
in
{
  inherit lib;
  system = "x86_64-linux";
  stdenv.hostPlatform.system = "x86_64-linux";
  runtimeShell = "/nix/store/00000000000000000000000000000000-bash/bin/bash";
  jre_headless = fakeDrv "openjdk-headless" { };
  libvirt = fakeDrv "libvirt" { };
  systemd = fakeDrv "systemd" { };
  writeText = name: text: fakeDrv name { inherit text; };
  maven = {
    # Keeps every argument, so the test can check mvnHash, mvnParameters and installPhase.
    buildMavenPackage = args: fakeDrv "${args.pname}-${args.version}" { buildArgs = args; };
  };
  # callPackage for nix/package.nix: fill the function's arguments from this set.
  callPackage = f: overrides:
    let
      fn = if builtins.isPath f then import f else f;
      wanted = builtins.functionArgs fn;
      self = import ./stub-pkgs.nix { inherit lib; };
      available = self // overrides;
    in fn (builtins.intersectAttrs wanted available);
}
