#!/usr/bin/env bash
# Installs what Flotilla's build, tests and test hosts need, from Debian's packages. Idempotent:
# a package already present is not touched, and nothing is fetched when all are present.
set -euo pipefail

packages=(
  maven                     # the build
  qemu-system-x86           # the microvm test host boots a real guest under software emulation
  qemu-utils
  busybox-static            # the guest's initramfs
  cpio
  linux-image-cloud-amd64   # the guest's kernel
  libvirt0                  # libvirt's test:///default driver runs in-process
  libvirt-clients
  iproute2                  # network namespaces for chaos runs
  iptables
  faketime                  # clock faults
  lua5.4                    # side-by-side Lua benchmarks
  luajit
  nix-bin                   # nix-instantiate for the NixOS module checks
  curl
  jq
  etcd-server               # the peer in scripts/bench-commit.sh
  etcd-client
  socat                     # the microvm test host's shutdown talks QMP through it, as microvm.nix does
  procps
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
