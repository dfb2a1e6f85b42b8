# NixOS module `services.flotilla`: one Flotilla node per host.
#
# The node reads one YAML file (docs/configuration.md). JSON is valid YAML, so the file is rendered
# with builtins.toJSON: the keys generated from the options below, with `settings` merged over them.
#
# With the `microvm` backend the node drives microvm.nix's host module by process calls
# (`microvm -c NAME -f FLAKE`, `systemctl start|stop microvm@NAME.service`, QMP sockets in the
# microvm state dir). How it is allowed to do that while staying unprivileged is explained next to
# `microvmOn` below.
{ config, lib, pkgs, options, ... }:

let
  inherit (lib) mkOption mkEnableOption mkIf mkMerge types optional optionals;

  cfg = config.services.flotilla;

  # docs/configuration.md: node ids are [a-z0-9-]{1,32}.
  nodeIdPattern = "[a-z0-9-]{1,32}";

  # A member of the group; its ports default to this host's, the common case of equal hosts.
  peerModule = {
    options = {
      id = mkOption {
        type = types.strMatching nodeIdPattern;
        description = "The peer's node id (its `nodeId`).";
      };
      address = mkOption {
        type = types.str;
        description = "Host name or IP address at which the other nodes reach this peer.";
      };
      apiPort = mkOption {
        type = types.port;
        default = cfg.apiPort;
        description = "The peer's HTTP API port.";
      };
      raftPort = mkOption {
        type = types.port;
        default = cfg.raftPort;
        description = "The peer's Raft (gRPC) port.";
      };
      transportPort = mkOption {
        type = types.port;
        default = cfg.transportPort;
        description = "The peer's inter-node packet transport port.";
      };
    };
  };

  self' = lib.findFirst (p: p.id == cfg.nodeId) null cfg.peers;

  # Bind on the address the others use to reach us; 0.0.0.0 when this node is not in `peers`.
  listenAddress =
    if cfg.listenAddress != null then cfg.listenAddress
    else if self' != null then self'.address
    else "0.0.0.0";

  hostPort = host: port: "${host}:${toString port}";

  microvmOn = lib.elem "microvm" cfg.backends;
  libvirtOn = lib.elem "libvirt" cfg.backends;

  # microvm.nix's host module: present when its options are declared in this system.
  microvmHostImported = options ? microvm && options.microvm ? stateDir;

  generated = {
    node_id = cfg.nodeId;
    data_dir = cfg.stateDir;
    api_address = hostPort listenAddress cfg.apiPort;
    raft_address = hostPort listenAddress cfg.raftPort;
    transport_address = hostPort listenAddress cfg.transportPort;
    peers = map
      (p: {
        inherit (p) id;
        api = hostPort p.address p.apiPort;
        raft = hostPort p.address p.raftPort;
        transport = hostPort p.address p.transportPort;
      })
      cfg.peers;
    join = cfg.join;
    subnet = cfg.subnet;
    backends = cfg.backends;
  } // lib.optionalAttrs microvmOn {
    microvm = {
      state_dir = cfg.microvm.stateDir;
      microvm_command = cfg.microvm.command;
      systemctl_command = "${config.systemd.package}/bin/systemctl";
    };
  };

  # `settings` wins over the generated keys, key by key (lists are replaced, not appended).
  nodeConfig = lib.recursiveUpdate generated cfg.settings;
  nodeConfigText = builtins.toJSON nodeConfig;
  nodeConfigFile = pkgs.writeText "flotilla-node.yaml" nodeConfigText;

  # Privilege for the microvm backend: a polkit rule, not root.
  #
  # The node runs as the unprivileged `flotilla` user. It needs three things from microvm.nix:
  #  1. `systemctl start|stop|restart microvm@NAME.service`: allowed by the polkit rule below, for
  #     units named microvm@NAME.service only and those three verbs only. systemd pulls in the
  #     microvm-tap-interfaces@/-virtiofsd@/... units of the same transaction itself, so they need
  #     no rule of their own. The alternative, running the node as root (or with CAP_SYS_ADMIN
  #     plus a sudo rule), would hand every VM spec and every Lua program the whole host.
  #  2. `microvm -c NAME -f FLAKE` writes into the state dir (owned microvm:kvm, group-writable,
  #     set up by microvm.nix) and `chown :kvm`s what it made there: membership of the `kvm` group
  #     covers both. It builds through the nix daemon (unprivileged clients may), and it links a
  #     GC root in /nix/var/nix/gcroots/microvm, which tmpfiles hands to the flotilla user.
  #  3. QMP sockets in the state dir: the microvm@ units get UMask 0007 so the sockets qemu creates
  #     there are group-writable, hence connectable by the kvm group.
  polkitRule = ''
    // Flotilla (services.flotilla, microvm backend): the flotilla user may start, stop and
    // restart microvm@NAME.service units, and no other unit.
    polkit.addRule(function (action, subject) {
      if (action.id == "org.freedesktop.systemd1.manage-units" && subject.user == "flotilla") {
        var unit = action.lookup("unit");
        var verb = action.lookup("verb");
        if (unit && /^microvm@[A-Za-z0-9_.-]+\.service$/.test(unit) &&
            (verb == "start" || verb == "stop" || verb == "restart")) {
          return polkit.Result.YES;
        }
      }
    });
  '';

  gcRootDir = "/nix/var/nix/gcroots/microvm";
in
{
  options.services.flotilla = {
    enable = mkEnableOption "the Flotilla node, a member of a replicated VM control plane";

    package = mkOption {
      type = types.package;
      description = "The Flotilla package (the flake sets its own `packages.<system>.default`).";
    };

    nodeId = mkOption {
      type = types.strMatching nodeIdPattern;
      example = "host1";
      description = "This node's id, unique in the cluster (`node_id`).";
    };

    peers = mkOption {
      type = types.listOf (types.submodule peerModule);
      default = [ ];
      description = ''
        Every member of the initial group, this node included (`peers`). A node that joins a
        running cluster (`join = true`) lists the current members and itself.
      '';
    };

    join = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Start with an empty Raft group and wait to be added with `flotilla cluster add-peer`
        (`join`). For a host added to a running cluster.
      '';
    };

    listenAddress = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = ''
        Address the API, Raft and transport listeners bind to. Null: this node's `address` in
        `peers`, or 0.0.0.0 when it is not listed there.
      '';
    };

    apiPort = mkOption {
      type = types.port;
      default = 8088;
      description = "HTTP API port (`/health`, `/metrics`, `/vms`, `/cluster`).";
    };

    raftPort = mkOption {
      type = types.port;
      default = 9088;
      description = "Raft (gRPC) port.";
    };

    transportPort = mkOption {
      type = types.port;
      default = 7088;
      description = "Inter-node packet transport port (simulated VMs' traffic between nodes).";
    };

    stateDir = mkOption {
      type = types.str;
      default = "/var/lib/flotilla";
      description = ''
        The node's data dir (`data_dir`): Raft log and snapshots under `raft/`, the RocksDB
        registry, per-VM state. Back this up from a stopped node (docs/operations.md).
      '';
    };

    subnet = mkOption {
      type = types.str;
      default = "10.0.0.0/16";
      description = "IPAM range for VM addresses (`subnet`); the same on every node.";
    };

    backends = mkOption {
      type = types.listOf (types.enum [ "microvm" "libvirt" "process" "lua" ]);
      default = [ "process" "lua" ];
      description = ''
        Runtimes this node offers (`backends`). `microvm` needs microvm.nix's host module
        (microvm.nixosModules.host) imported on this host.
      '';
    };

    microvm = {
      stateDir = mkOption {
        type = types.str;
        default = if microvmHostImported then config.microvm.stateDir else "/var/lib/microvms";
        description = "microvm.nix's state dir (its `microvm.stateDir`).";
      };
      command = mkOption {
        type = types.str;
        default = "/run/current-system/sw/bin/microvm";
        example = lib.literalExpression ''"''${microvm.packages.x86_64-linux.microvm}/bin/microvm"'';
        description = ''
          Path to microvm.nix's `microvm` command. The host module puts it in
          environment.systemPackages, hence the default; pin it to the flake's package to be sure.
        '';
      };
    };

    settings = mkOption {
      type = types.attrsOf types.anything;
      default = { };
      example = {
        capacity = { vcpu = 16; mem_mb = 65536; };
        labels = { zone = "a"; };
        raft.snapshot_every = 20000;
      };
      description = ''
        Further keys of the node's config file (docs/configuration.md), merged over the keys
        generated from the other options.
      '';
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open the API, Raft and transport ports (TCP) in the firewall.";
    };

    jvmOptions = mkOption {
      type = types.listOf types.str;
      default = [ "-Xms256m" "-Xmx1g" "-XX:+UseSerialGC" "-XX:+ExitOnOutOfMemoryError" ];
      description = ''
        JVM flags (FLOTILLA_JAVA_OPTS for the launcher). The serial collector is the one the
        simulated-VM tick is measured with (docs/decisions.md); ExitOnOutOfMemoryError lets systemd
        restart a node that ran out of heap instead of leaving it half alive.
      '';
    };

    configFile = mkOption {
      type = types.path;
      readOnly = true;
      default = nodeConfigFile;
      description = "The rendered node config file (read only).";
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = cfg.join || self' != null;
          message = "services.flotilla: nodeId \"${cfg.nodeId}\" is not in services.flotilla.peers; list every member of the initial group, this node included, or set join = true for a node added later.";
        }
        {
          assertion = lib.length (lib.unique (map (p: p.id) cfg.peers)) == lib.length cfg.peers;
          message = "services.flotilla: peer ids must be unique; got ${lib.concatMapStringsSep ", " (p: p.id) cfg.peers}.";
        }
        {
          assertion = !microvmOn || microvmHostImported;
          message = "services.flotilla: the microvm backend needs microvm.nix's host module; add microvm.nixosModules.host to this host's modules, or drop \"microvm\" from services.flotilla.backends.";
        }
      ];

      users.users.flotilla = {
        isSystemUser = true;
        group = "flotilla";
        home = cfg.stateDir;
        description = "Flotilla node";
      };
      users.groups.flotilla = { };

      environment.systemPackages = [ cfg.package ];
      environment.etc."flotilla/node.yaml".text = nodeConfigText;

      systemd.tmpfiles.rules = [ "d ${cfg.stateDir} 0750 flotilla flotilla - -" ];

      networking.firewall.allowedTCPPorts = optionals cfg.openFirewall [
        cfg.apiPort
        cfg.raftPort
        cfg.transportPort
      ];

      systemd.services.flotilla = {
        description = "Flotilla node ${cfg.nodeId}";
        wantedBy = [ "multi-user.target" ];
        wants = [ "network-online.target" ];
        after = [ "network-online.target" ] ++ optional microvmOn "nix-daemon.socket";
        environment = {
          FLOTILLA_JAVA_OPTS = lib.concatStringsSep " " cfg.jvmOptions;
          # The nix client run by `microvm -c` keeps its cache under $HOME.
          HOME = cfg.stateDir;
        } // lib.optionalAttrs microvmOn {
          # microvm -c builds a flake; enable flakes for this service only.
          NIX_CONFIG = "experimental-features = nix-command flakes";
        };
        serviceConfig = {
          Type = "simple";
          User = "flotilla";
          Group = "flotilla";
          SupplementaryGroups = optional microvmOn "kvm" ++ optional libvirtOn "libvirtd";
          # The store path of the config: a changed config changes the unit, so a switch restarts it.
          ExecStart = "${cfg.package}/bin/flotilla node --config ${nodeConfigFile}";
          WorkingDirectory = cfg.stateDir;
          Restart = "on-failure";
          RestartSec = "5s";
          TimeoutStopSec = "60s";
          LimitNOFILE = 65536;
          UMask = "0027";

          # Hardening. Not MemoryDenyWriteExecute: the JVM's JIT writes and runs code pages.
          # Not PrivateUsers: it would hide the kvm group the microvm backend relies on.
          NoNewPrivileges = true;
          ProtectSystem = "strict";
          ProtectHome = true;
          PrivateTmp = true;
          PrivateDevices = true;
          ProtectKernelTunables = true;
          ProtectKernelModules = true;
          ProtectKernelLogs = true;
          ProtectControlGroups = true;
          ProtectClock = true;
          ProtectHostname = true;
          RestrictSUIDSGID = true;
          RestrictRealtime = true;
          RestrictNamespaces = true;
          LockPersonality = true;
          CapabilityBoundingSet = "";
          AmbientCapabilities = "";
          # AF_UNIX: D-Bus for systemctl, the nix daemon, QMP sockets. AF_NETLINK: the JVM lists
          # network interfaces.
          RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" "AF_NETLINK" ];
          SystemCallArchitectures = "native";
          SystemCallFilter = [ "@system-service" ];
          ReadWritePaths = [ cfg.stateDir ]
            ++ optionals microvmOn [ cfg.microvm.stateDir "-${gcRootDir}" ];
        };
      };
    }

    (mkIf microvmOn {
      warnings = optional (cfg.microvm.stateDir != "/var/lib/microvms")
        "services.flotilla: microvm.stateDir is ${cfg.microvm.stateDir}, but microvm.nix's `microvm` command always creates VMs in /var/lib/microvms.";

      security.polkit.enable = true;
      security.polkit.extraConfig = polkitRule;

      systemd.tmpfiles.rules = [ "d ${gcRootDir} 0755 flotilla kvm - -" ];

      # See 3. above: group-writable QMP sockets. A drop-in on microvm.nix's template unit.
      systemd.services."microvm@".serviceConfig.UMask = "0007";
    })
  ]);
}
