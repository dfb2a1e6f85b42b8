#!/usr/bin/env bash
# Checks of the Nix files that run without nixpkgs and without network, with only Debian's
# nix-bin installed (nix-instantiate):
#   1. every .nix file in the repository parses (nix-instantiate --parse);
#   2. nix/tests/eval.nix evaluates the NixOS module, the package and the example host against the
#      stubs in nix/tests/ and compares the generated unit (ExecStart, hardening), the rendered
#      node config, the opened firewall ports, the polkit rule and the assertions with what they
#      must be. Each check is evaluated on its own, so one broken check cannot hide the others;
#   3. the package's installPhase runs (bash, fake build tree) and its launcher hands java the
#      right command line.
# The flake's real checks (a NixOS VM test of three hosts) need a Nix host with nixpkgs and KVM:
# see docs/operations.md.
#
# Usage: scripts/check-nix.sh        exit status 0 when every check passes, 1 otherwise, 2 when
#                                    the checks could not run at all.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if ! command -v nix-instantiate >/dev/null 2>&1; then
  echo "check-nix: nix-instantiate not found. Install Debian's nix-bin (apt-get install nix-bin," \
       "or scripts/install-deps.sh) and run again." >&2
  exit 2
fi

# A throwaway store and state dir: no daemon, nothing written under /nix, works as root on a fresh
# machine where no nixbld group exists.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-nix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export NIX_REMOTE=
export NIX_STORE_DIR=$tmp/store NIX_STATE_DIR=$tmp/state NIX_LOG_DIR=$tmp/log NIX_CONF_DIR=$tmp/conf
export XDG_CACHE_HOME=$tmp/cache
mkdir -p "$NIX_CONF_DIR"

nixi() { nix-instantiate --option build-users-group '' "$@"; }

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok    $1"; }
fail() {
  failed=$((failed + 1)); echo "FAIL  $1"
  [[ -n ${2:-} ]] && sed 's/^/      /' <<<"$2"
}

# 1. Parse.
mapfile -t files < <(find . -name '*.nix' -not -path './.git/*' -not -path '*/target/*' | sort)
if ((${#files[@]} == 0)); then
  echo "check-nix: no .nix files found under $root" >&2
  exit 2
fi
for f in "${files[@]}"; do
  if out=$(nixi --parse "$f" 2>&1 >/dev/null); then
    pass "parse ${f#./}"
  else
    fail "parse ${f#./}" "$out"
  fi
done

# 2. Evaluate the module against the stubs.
eval_file=nix/tests/eval.nix
if ! names_json=$(nixi --eval --strict --json "$eval_file" -A names 2>&1); then
  fail "evaluate $eval_file (the list of checks)" "$names_json"
else
  names=$(tr -d '[]"' <<<"$names_json" | tr ',' ' ')
  for n in $names; do
    if ! ok=$(nixi --eval --strict "$eval_file" -A "checks.$n.ok" 2>&1); then
      fail "eval $n" "evaluation failed: $ok"
    elif [[ $ok == true ]]; then
      pass "eval $n"
    else
      detail=$(nixi --eval --strict --json "$eval_file" -A "checks.$n.detail" 2>&1)
      fail "eval $n" "$detail"
    fi
  done
fi

# 3. The package's installPhase, run for real with bash in a fake build tree, and the launcher it
#    writes, run with a fake java that prints its arguments: java must get the JVM options, the
#    node jar + lib/* classpath (unexpanded: java expands it), the main class and the arguments.
check_launcher() {
  local work=$tmp/launcher script got want
  mkdir -p "$work/build/node/target/lib" "$work/jre/bin"
  : >"$work/build/node/target/flotilla-node.jar"
  : >"$work/build/node/target/lib/dep-1.0.jar"
  printf '#!/bin/sh\nfor a in "$@"; do printf "%%s\\n" "$a"; done\n' >"$work/jre/bin/java"
  chmod +x "$work/jre/bin/java"
  if ! script=$(nixi --read-write-mode --eval \
      -E "(import $root/$eval_file).launcherInstallScript \"$work/jre\"" 2>&1); then
    fail "package installPhase writes a working launcher" "evaluation failed: $script"; return
  fi
  script=${script//\"/}
  if ! got=$(cd "$work/build" && out=$work/out bash -c 'runHook() { :; }; set -e; . "$1"' _ "$script" 2>&1); then
    fail "package installPhase writes a working launcher" "installPhase failed: $got"; return
  fi
  if [[ ! -f $work/out/share/flotilla/lib/dep-1.0.jar ]]; then
    fail "package installPhase writes a working launcher" "lib/ was not copied to share/flotilla/lib"; return
  fi
  got=$(FLOTILLA_JAVA_OPTS="-Xmx64m -Dflotilla.test=1" "$work/out/bin/flotilla" node --config /etc/flotilla/node.yaml 2>&1)
  want=$(printf '%s\n' -Xmx64m -Dflotilla.test=1 -cp \
    "$work/out/share/flotilla/flotilla-node.jar:$work/out/share/flotilla/lib/*" \
    dev.flotilla.node.cli.Flotilla node --config /etc/flotilla/node.yaml)
  if [[ $got == "$want" ]]; then
    pass "package installPhase writes a working launcher"
  else
    fail "package installPhase writes a working launcher" "java got:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"
  fi
}
check_launcher

echo "$passed passed, $failed failed"
((failed == 0))
