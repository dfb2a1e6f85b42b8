# Evaluation tests of nix/module.nix, nix/package.nix and nix/example-host.nix against the stubs
# in this folder (no nixpkgs needed). Run by scripts/check-nix.sh, one check at a time:
#   nix-instantiate --eval --strict nix/tests/eval.nix -A names
#   nix-instantiate --eval --strict nix/tests/eval.nix -A checks.<name>.ok
# Each check is { ok; detail; }: `detail` says what was expected and what came out.
# `launcherInstallScript` serves the script's run of the package's installPhase.
let
  lib = import ./stub-lib.nix;
  pkgs = import ./stub-pkgs.nix { inherit lib; };
  inherit (builtins) toJSON fromJSON filter map;

  evalSystem = modules:
    (lib.evalModules {
      specialArgs = { inherit pkgs; };
      modules = [ ./stub-nixos.nix ] ++ modules;
    }).config;

  failedAssertions = config: map (a: a.message) (filter (a: !a.assertion) config.assertions);

  flotillaPkg = pkgs.callPackage ../package.nix { src = "/src/flotilla"; };

  # The sample: host1 of three, microvm backend on, firewall open, a peer with its own API port,
  # settings that add keys and override one generated key's neighbour.
  sample = evalSystem [
    ./stub-microvm-host.nix
    ../module.nix
    {
      services.flotilla = {
        enable = true;
        package = flotillaPkg;
        nodeId = "host1";
        peers = [
          { id = "host1"; address = "192.168.50.11"; }
          { id = "host2"; address = "192.168.50.12"; apiPort = 8090; }
          { id = "host3"; address = "192.168.50.13"; }
        ];
        backends = [ "microvm" "process" "lua" ];
        openFirewall = true;
        subnet = "10.20.0.0/16";
        microvm.command = "/nix/store/00000000000000000000000000000000-microvm/bin/microvm";
        jvmOptions = [ "-Xmx2g" "-XX:+ExitOnOutOfMemoryError" ];
        settings = {
          capacity = { vcpu = 16; mem_mb = 65536; };
          raft.snapshot_every = 20000;
          log_format = "json";
        };
      };
    }
  ];
  sampleUnit = sample.systemd.services.flotilla;

  # Defaults only: process + lua, no microvm.nix, no firewall.
  minimal = evalSystem [
    ../module.nix
    {
      services.flotilla = {
        enable = true;
        package = flotillaPkg;
        nodeId = "n1";
        peers = [ { id = "n1"; address = "10.1.0.1"; } ];
      };
    }
  ];

  withFlotilla = extra: evalSystem ([
    ../module.nix
    { services.flotilla = { enable = true; package = flotillaPkg; } // extra; }
  ]);

  stubFlake = name: extra: { outPath = "/nix/store/00000000000000000000000000000000-${name}-source"; } // extra;
  stubMicrovmFlake = stubFlake "microvm" {
    packages.x86_64-linux.microvm = pkgs.writeText "microvm" "";
  };
  exampleHost2 = evalSystem [
    ./stub-microvm-host.nix
    ../module.nix
    { services.flotilla.package = flotillaPkg; }
    (import ../example-host.nix {
      name = "host2";
      peers = [
        { id = "host1"; address = "192.168.50.11"; }
        { id = "host2"; address = "192.168.50.12"; }
        { id = "host3"; address = "192.168.50.13"; }
      ];
      microvm = stubMicrovmFlake;
      nixpkgs = stubFlake "nixpkgs" { };
    })
  ];

  configOf = system: fromJSON system.environment.etc."flotilla/node.yaml".text;

  # On attribute sets, `detail` names only the keys that differ.
  expectEqual = got: want: {
    ok = got == want;
    detail =
      if builtins.isAttrs got && builtins.isAttrs want then
        builtins.concatStringsSep "; " (map
          (k: "${k}: expected ${toJSON (want.${k} or null)}, got ${toJSON (got.${k} or null)}")
          (filter (k: (got.${k} or null) != (want.${k} or null))
            (lib.unique (builtins.attrNames want ++ builtins.attrNames got))))
      else "expected ${toJSON want}, got ${toJSON got}";
  };
  expectTrue = cond: what: { ok = cond; detail = what; };

  # Whether evaluating `value` fully fails (a throw from the module system or an assertion).
  evalFails = value: !(builtins.tryEval (builtins.deepSeq value value)).success;

  # packaging/systemd/flotilla.service as { Key = "value"; } (the last assignment of a key wins).
  plainUnit =
    let
      lines = filter builtins.isString (builtins.split "\n" (builtins.readFile ../../packaging/systemd/flotilla.service));
      parsed = map (l: builtins.match "([A-Za-z]+)=(.*)" l) lines;
    in builtins.listToAttrs (map (m: { name = builtins.elemAt m 0; value = builtins.elemAt m 1; })
      (filter (m: m != null) parsed));

  # A module serviceConfig value as it appears in a unit file.
  unitValue = v:
    if builtins.isBool v then (if v then "true" else "false")
    else if builtins.isList v then builtins.concatStringsSep " " v
    else toString v;

  # Keys on which the plain unit must say what the NixOS module says.
  sharedUnitKeys = [
    "User" "Restart" "RestartSec" "TimeoutStopSec" "LimitNOFILE" "UMask"
    "NoNewPrivileges" "ProtectSystem" "ProtectHome" "PrivateTmp" "PrivateDevices"
    "ProtectKernelTunables" "ProtectKernelModules" "ProtectKernelLogs" "ProtectControlGroups"
    "ProtectClock" "ProtectHostname" "RestrictSUIDSGID" "RestrictRealtime" "RestrictNamespaces"
    "LockPersonality" "CapabilityBoundingSet" "AmbientCapabilities" "RestrictAddressFamilies"
    "SystemCallArchitectures" "SystemCallFilter"
  ];

  checks = {
    execstart_runs_the_node_with_the_rendered_config = expectEqual sampleUnit.serviceConfig.ExecStart
      "${flotillaPkg}/bin/flotilla node --config /nix/store/00000000000000000000000000000000-flotilla-node.yaml";

    config_file_is_generated_keys_with_settings_merged_over = expectEqual (configOf sample) {
      node_id = "host1";
      data_dir = "/var/lib/flotilla";
      api_address = "192.168.50.11:8088";
      raft_address = "192.168.50.11:9088";
      transport_address = "192.168.50.11:7088";
      peers = [
        { id = "host1"; api = "192.168.50.11:8088"; raft = "192.168.50.11:9088"; transport = "192.168.50.11:7088"; }
        { id = "host2"; api = "192.168.50.12:8090"; raft = "192.168.50.12:9088"; transport = "192.168.50.12:7088"; }
        { id = "host3"; api = "192.168.50.13:8088"; raft = "192.168.50.13:9088"; transport = "192.168.50.13:7088"; }
      ];
      join = false;
      subnet = "10.20.0.0/16";
      backends = [ "microvm" "process" "lua" ];
      microvm = {
        state_dir = "/var/lib/microvms";
        microvm_command = "/nix/store/00000000000000000000000000000000-microvm/bin/microvm";
        systemctl_command = "/nix/store/00000000000000000000000000000000-systemd/bin/systemctl";
      };
      capacity = { vcpu = 16; mem_mb = 65536; };
      raft = { snapshot_every = 20000; };
      log_format = "json";
    };

    config_file_in_etc_is_the_one_execstart_reads = expectEqual
      sample.environment.etc."flotilla/node.yaml".text
      sample.services.flotilla.configFile.text or "(the stub's writeText keeps its text)";

    firewall_opens_api_raft_and_transport_ports = expectEqual
      sample.networking.firewall.allowedTCPPorts [ 8088 9088 7088 ];

    firewall_stays_closed_by_default = expectEqual minimal.networking.firewall.allowedTCPPorts [ ];

    unit_restarts_on_failure = expectEqual
      { inherit (sampleUnit.serviceConfig) Restart RestartSec; }
      { Restart = "on-failure"; RestartSec = "5s"; };

    unit_runs_unprivileged_and_hardened = expectEqual
      {
        inherit (sampleUnit.serviceConfig) User NoNewPrivileges ProtectSystem ProtectHome PrivateTmp
          CapabilityBoundingSet ReadWritePaths SupplementaryGroups;
      }
      {
        User = "flotilla";
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        CapabilityBoundingSet = "";
        ReadWritePaths = [ "/var/lib/flotilla" "/var/lib/microvms" "-/nix/var/nix/gcroots/microvm" ];
        SupplementaryGroups = [ "kvm" ];
      };

    unit_keeps_the_jit_working = expectTrue
      (!(sampleUnit.serviceConfig ? MemoryDenyWriteExecute))
      "MemoryDenyWriteExecute must stay unset: the JVM's JIT needs writable+executable pages";

    jvm_options_reach_the_launcher = expectEqual sampleUnit.environment.FLOTILLA_JAVA_OPTS
      "-Xmx2g -XX:+ExitOnOutOfMemoryError";

    flakes_enabled_for_microvm_builds = expectEqual sampleUnit.environment.NIX_CONFIG
      "experimental-features = nix-command flakes";

    polkit_allows_only_microvm_units_and_three_verbs = expectTrue
      (sample.security.polkit.enable
        && lib.hasInfix "subject.user == \"flotilla\"" sample.security.polkit.extraConfig
        && lib.hasInfix "/^microvm@[A-Za-z0-9_.-]+\\.service$/" sample.security.polkit.extraConfig
        && lib.hasInfix "verb == \"start\" || verb == \"stop\" || verb == \"restart\"" sample.security.polkit.extraConfig)
      "the polkit rule names the flotilla user, microvm@NAME.service units and start/stop/restart; got: ${sample.security.polkit.extraConfig}";

    composes_with_the_microvm_host_template_unit = expectEqual
      sample.systemd.services."microvm@".serviceConfig
      {
        User = "microvm";
        Group = "kvm";
        WorkingDirectory = "/var/lib/microvms/%i";
        ExecStart = "/var/lib/microvms/%i/current/bin/microvm-run";
        Restart = "always";
        UMask = "0007";
      };

    gc_root_dir_and_state_dir_prepared = expectEqual sample.systemd.tmpfiles.rules [
      "d /var/lib/flotilla 0750 flotilla flotilla - -"
      "d /nix/var/nix/gcroots/microvm 0755 flotilla kvm - -"
    ];

    no_microvm_privileges_without_the_microvm_backend = expectEqual
      {
        polkit = minimal.security.polkit.enable;
        groups = minimal.systemd.services.flotilla.serviceConfig.SupplementaryGroups;
        env = builtins.attrNames minimal.systemd.services.flotilla.environment;
        backends = (configOf minimal).backends;
        microvmSection = (configOf minimal) ? microvm;
      }
      {
        polkit = false;
        groups = [ ];
        env = [ "FLOTILLA_JAVA_OPTS" "HOME" ];
        backends = [ "process" "lua" ];
        microvmSection = false;
      };

    sample_passes_all_assertions = expectEqual (failedAssertions sample ++ sample.warnings) [ ];

    node_missing_from_peers_is_refused = expectEqual
      (failedAssertions (withFlotilla {
        nodeId = "host4";
        peers = [ { id = "host1"; address = "a"; } ];
      }))
      [ "services.flotilla: nodeId \"host4\" is not in services.flotilla.peers; list every member of the initial group, this node included, or set join = true for a node added later." ];

    joining_node_may_be_missing_from_peers = expectEqual
      (failedAssertions (withFlotilla {
        nodeId = "host4";
        join = true;
        listenAddress = "192.168.50.14";
        peers = [ { id = "host1"; address = "192.168.50.11"; } ];
      }))
      [ ];

    duplicate_peer_ids_are_refused = expectEqual
      (builtins.length (failedAssertions (withFlotilla {
        nodeId = "a";
        peers = [ { id = "a"; address = "x"; } { id = "a"; address = "y"; } ];
      })))
      1;

    microvm_backend_without_microvm_host_module_is_refused = expectTrue
      (lib.any (m: lib.hasInfix "microvm.nixosModules.host" m)
        (failedAssertions (withFlotilla {
          nodeId = "a";
          peers = [ { id = "a"; address = "x"; } ];
          backends = [ "microvm" ];
        })))
      "an assertion names microvm.nixosModules.host when the backend is on without it";

    invalid_node_id_is_a_type_error = expectTrue
      (evalFails (withFlotilla {
        nodeId = "Host_1";
        peers = [ ];
      }).systemd.services.flotilla)
      "nodeId \"Host_1\" must be rejected: ids match [a-z0-9-]{1,32}";

    disabled_module_adds_nothing = expectEqual
      (let s = evalSystem [ ../module.nix { services.flotilla.nodeId = "n1"; } ]; in {
        services = s.systemd.services;
        users = s.users.users;
        ports = s.networking.firewall.allowedTCPPorts;
      })
      { services = { }; users = { }; ports = [ ]; };

    example_host_pins_the_microvm_command_and_lists_three_peers = expectEqual
      (let c = configOf exampleHost2; in {
        inherit (c) node_id backends api_address;
        peers = map (p: p.id) c.peers;
        command = c.microvm.microvm_command;
        registry = builtins.attrNames exampleHost2.nix.registry;
        failed = failedAssertions exampleHost2;
      })
      {
        node_id = "host2";
        backends = [ "microvm" "process" "lua" ];
        api_address = "192.168.50.12:8088";
        peers = [ "host1" "host2" "host3" ];
        command = "/nix/store/00000000000000000000000000000000-microvm/bin/microvm";
        registry = [ "microvm" "nixpkgs" ];
        failed = [ ];
      };

    package_uses_a_placeholder_mvnhash_until_a_real_build = expectEqual
      flotillaPkg.buildArgs.mvnHash lib.fakeHash;

    package_builds_the_node_module_without_tests = expectEqual
      flotillaPkg.buildArgs.mvnParameters "-pl node -am -DskipTests";

    package_launcher_runs_the_cli_main_class = expectTrue
      (let p = flotillaPkg.buildArgs.installPhase; in
        lib.hasInfix "node/target/flotilla-node.jar" p
        && lib.hasInfix "cp -r node/target/lib" p
        && lib.hasInfix "-cp \"$share/flotilla-node.jar:$share/lib/*\" dev.flotilla.node.cli.Flotilla \"\\$@\"" p
        && lib.hasInfix "\\$FLOTILLA_JAVA_OPTS" p)
      "installPhase copies the jar and lib/ and writes a launcher running dev.flotilla.node.cli.Flotilla";

    plain_unit_has_the_modules_restart_and_hardening = expectEqual
      (lib.genAttrs sharedUnitKeys (k: plainUnit.${k} or "(missing)"))
      (lib.genAttrs sharedUnitKeys (k: unitValue minimal.systemd.services.flotilla.serviceConfig.${k}));

    plain_unit_runs_the_node_with_etc_config = expectTrue
      (lib.hasInfix "dev.flotilla.node.cli.Flotilla node --config /etc/flotilla/node.yaml" plainUnit.ExecStart
        && lib.hasInfix "-cp \"/opt/flotilla/flotilla-node.jar:/opt/flotilla/lib/*\"" plainUnit.ExecStart
        && lib.hasInfix "$FLOTILLA_JAVA_OPTS" plainUnit.ExecStart
        && plainUnit.StateDirectory == "flotilla")
      "ExecStart runs java with $FLOTILLA_JAVA_OPTS, the /opt/flotilla classpath, the CLI main class and /etc/flotilla/node.yaml; got: ${plainUnit.ExecStart or "(no ExecStart)"}";

    stub_module_system_rejects_unknown_options = expectTrue
      (evalFails (evalSystem [ ../module.nix { services.flotilla.nodeID = "typo"; } ]).services)
      "a misspelt option must be an error, or these tests could pass on typos";
  };
in
{
  names = builtins.attrNames checks;
  inherit checks;

  # The package's installPhase as a file, with /bin/sh as the launcher's shell and `jre` as the
  # JRE: scripts/check-nix.sh runs it for real against a fake build tree (needs --read-write-mode,
  # into the script's throwaway store).
  launcherInstallScript = jre: builtins.toFile "flotilla-install-phase.sh"
    (pkgs.callPackage ../package.nix {
      src = "/src/flotilla";
      runtimeShell = "/bin/sh";
      jre_headless = { outPath = jre; };
    }).buildArgs.installPhase;
}
