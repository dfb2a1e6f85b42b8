#!/usr/bin/env bash
# Builds the test guest: Debian's cloud kernel plus a busybox initramfs whose init prints
# "flotilla-guest: up" on the serial console and powers off when the ACPI power button is pressed
# (QMP system_powerdown). Idempotent: an up-to-date initramfs is left alone.
#
# Usage: build-guest.sh [CACHE_DIR]     (default: $FLOTILLA_GUEST_CACHE or ~/.cache/flotilla/guest)
# Prints the directory that holds `kernel` and `initrd`.
set -euo pipefail

cache=${1:-${FLOTILLA_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla/guest}}
busybox=/bin/busybox
# The newest cloud kernel; sort -V only when there is a choice (every `microvm -c` runs this script).
kernels=(/boot/vmlinuz-*-cloud-amd64)
if [[ ${#kernels[@]} -gt 1 ]]; then
  kernel=$(printf '%s\n' "${kernels[@]}" | sort -V | tail -n 1)
else
  kernel=${kernels[0]}
fi

die() { echo "build-guest: $*" >&2; exit 1; }
[[ -r $kernel ]] || die "no readable /boot/vmlinuz-*-cloud-amd64; install it with: apt-get install linux-image-cloud-amd64 (scripts/install-deps.sh)"

version=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$version/kernel
# The power button reaches userspace only through these two modules (both are =m in Debian's config).
modules=("$moddir/drivers/acpi/button.ko" "$moddir/drivers/input/evdev.ko")
for m in "${modules[@]}"; do [[ -r $m ]] || die "kernel module $m is missing; reinstall linux-image-$version"; done

# The inputs as they are on disk (device:inode, size, change time), from one stat call: when they are
# what the last build or check saw, the image is current without hashing anything. The change time,
# not the modification time, because a package upgrade gives a file the packaged mtime.
inputs=$(stat -L -c '%d:%i %s %Z' "$kernel" "$busybox" "${modules[@]}" "${BASH_SOURCE[0]}" 2>/dev/null) || inputs=""
# They are kept with the stamp they were checked against, so an image rebuilt since by another copy of
# this script is checked again.
if [[ -n $inputs && -f $cache/initrd && -f $cache/kernel && -f $cache/stamp && -f $cache/inputs ]]; then
  IFS= read -r -d '' seen < "$cache/inputs" || true
  IFS= read -r built < "$cache/stamp" || true
  if [[ $seen == "$built"$'\n'"$inputs" ]]; then
    echo "$cache"
    exit 0
  fi
fi
remember_inputs() {
  [[ -n $inputs ]] || return 0
  printf '%s\n%s' "$stamp" "$inputs" > "$cache/inputs.$$"
  mv -f "$cache/inputs.$$" "$cache/inputs"
}

[[ -x $busybox ]] && file_is_static=$(ldd "$busybox" 2>&1 | grep -c 'not a dynamic') || true
[[ -x $busybox && ${file_is_static:-0} -ge 1 ]] || die "$busybox is missing or not static; install it with: apt-get install busybox-static"
command -v cpio >/dev/null || die "cpio is missing; install it with: apt-get install cpio"

script_self=$(readlink -f "${BASH_SOURCE[0]}")
# The stamp covers everything the image is made from, so a new kernel or a changed script rebuilds it.
stamp=$( { echo "$version"; sha256sum "$busybox" "${modules[@]}" "$script_self"; } | sha256sum | cut -c1-16)

mkdir -p "$cache"
if [[ -f $cache/initrd && -f $cache/stamp && $(cat "$cache/stamp") == "$stamp" && -f $cache/kernel ]]; then
  remember_inputs
  echo "$cache"
  exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,etc/acpi/PWRF,proc,sys,dev,tmp,run,var/run,var/log,lib/modules}
cp "$busybox" "$root/bin/busybox"
cp "${modules[@]}" "$root/lib/modules/"

cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /lib/modules/evdev.ko 2>/dev/null
insmod /lib/modules/button.ko 2>/dev/null
hostname "$(sed -n 's/.*flotilla.name=\([^ ]*\).*/\1/p' /proc/cmdline)"
# acpid turns the ACPI power button (QMP system_powerdown) into a clean poweroff.
acpid -c /etc/acpi -a /etc/acpid.conf
echo "flotilla-guest: up ($(hostname))"
# PID 1 must never exit; sleep in the foreground and let signals through.
while true; do sleep 3600; done
INIT
chmod 755 "$root/init"
echo "PWRF PWRF/00000080" > "$root/etc/acpid.conf"
cat > "$root/etc/acpi/PWRF/00000080" <<'PWRF'
#!/bin/sh
echo "flotilla-guest: power button, powering off" > /dev/console
sync
poweroff -f
PWRF
chmod 755 "$root/etc/acpi/PWRF/00000080"

(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet --reproducible | gzip -9n) > "$work/initrd"
cp "$kernel" "$work/kernel"
mv -f "$work/initrd" "$cache/initrd"
mv -f "$work/kernel" "$cache/kernel"
echo "$stamp" > "$cache/stamp"
remember_inputs
echo "$cache"
