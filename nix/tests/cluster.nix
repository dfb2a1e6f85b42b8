# NixOS VM test (flake `checks.x86_64-linux.cluster`): three hosts with microvm.nix's host module
# and services.flotilla boot, elect a leader, agree on the membership, give the flotilla user
# exactly the systemctl rights it needs, create a VM through the HTTP API and see it run on the
# host it was placed on, and survive the loss of the leader.
#
# Needs a real Nix host with KVM: `nix build ./nix#checks.x86_64-linux.cluster -L`.
# It does not run in this repository's CI machine (no nixpkgs, no network there); that machine runs
# scripts/check-nix.sh instead.
#
# The VM created here uses the `process` runtime: a microVM inside a test VM would need its own
# closure built offline inside the guest. The microvm-specific parts that can be checked without
# one (the polkit rule, the kvm group, the unit drop-in) are checked directly.
{ self, microvm, nixpkgs }:
{
  name = "flotilla-three-hosts";

  nodes =
    let
      hostNames = [ "host1" "host2" "host3" ];
      testHost = name: { nodes, pkgs, ... }: {
        imports = [
          microvm.nixosModules.host
          self.nixosModules.default
          (import ../example-host.nix {
            inherit name microvm nixpkgs;
            peers = map (n: { id = n; address = nodes.${n}.networking.primaryIPAddress; }) hostNames;
          })
        ];
        virtualisation.memorySize = 2048;
        virtualisation.cores = 2;
        environment.systemPackages = [ pkgs.curl pkgs.jq pkgs.procps ];
      };
    in
    nixpkgs.lib.genAttrs hostNames testHost;

  testScript = ''
    import json

    hosts = [host1, host2, host3]
    by_name = {h.name: h for h in hosts}

    def get_json(machine, path, target="127.0.0.1"):
        return json.loads(machine.succeed(f"curl -sf http://{target}:8088{path}"))

    start_all()
    for h in hosts:
        h.wait_for_unit("flotilla.service")
        h.wait_for_open_port(8088)

    def one_leader(hosts):
        leaders = set()
        for h in hosts:
            status, out = h.execute("curl -sf http://127.0.0.1:8088/health")
            if status != 0:
                return None
            leaders.add(json.loads(out).get("leader"))
        return leaders.pop() if len(leaders) == 1 and None not in leaders else None

    with subtest("the three nodes elect one leader and agree on it"):
        retry(lambda _: one_leader(hosts) is not None)
        cluster = get_json(host1, "/cluster")
        members = cluster.get("members", [])
        assert len(members) == 3, f"expected 3 members in GET /cluster, got {members}"
        # Across hosts, by the names the test network resolves.
        get_json(host1, "/health", target="host2")
        host1.succeed("flotilla cluster status --server host2:8088")

    with subtest("the flotilla user may start microvm@ units and nothing else"):
        for h in hosts:
            h.succeed("id -nG flotilla | grep -qw kvm")
            h.succeed("systemctl cat microvm@.service | grep -q 'UMask=0007'")
            # The unit's condition (a built VM) fails, so it is skipped, but only after polkit
            # allowed the start.
            h.succeed("runuser -u flotilla -- systemctl start microvm@probe.service")
            h.fail("runuser -u flotilla -- systemctl restart nix-daemon.service")
            h.fail("runuser -u flotilla -- systemctl stop sshd.service")

    with subtest("a VM created through the API runs on the host it was placed on"):
        body = json.dumps({"spec": {
            "runtime": "process",
            "cmd": ["/run/current-system/sw/bin/sleep", "3600"],
            "lifecycle": "service",
            "resources": {"vcpu": 1, "mem_mb": 64},
        }})
        created = json.loads(host2.succeed(
            f"curl -sf -X POST -H 'Content-Type: application/json' -d '{body}' http://127.0.0.1:8088/vms"))
        vm_id = created["id"]

        def running(_):
            rec = get_json(host3, f"/vms/{vm_id}")
            return str(rec.get("observed", "")).lower() == "running" and rec.get("node")
        retry(running)
        placed_on = get_json(host1, f"/vms/{vm_id}")["node"]
        by_name[placed_on].succeed("pgrep -u flotilla -f 'sleep 3600'")

    with subtest("losing the leader: the other two elect a new one and keep serving"):
        leader = by_name[one_leader(hosts)]
        leader.succeed("systemctl stop flotilla.service")
        rest = [h for h in hosts if h is not leader]
        retry(lambda _: one_leader(rest) not in (None, leader.name))
        get_json(rest[0], f"/vms/{vm_id}")
        leader.succeed("systemctl start flotilla.service")
        leader.wait_for_open_port(8088)
        retry(lambda _: one_leader(hosts) is not None)
  '';
}
