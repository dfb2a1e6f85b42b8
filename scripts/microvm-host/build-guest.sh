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
kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1 || true)

die() { echo "build-guest: $*" >&2; exit 1; }
[[ -n $kernel && -r $kernel ]] || die "no readable /boot/vmlinuz-*-cloud-amd64; install it with: apt-get install linux-image-cloud-amd64 (scripts/install-deps.sh)"
[[ -x $busybox ]] && file_is_static=$(ldd "$busybox" 2>&1 | grep -c 'not a dynamic') || true
[[ -x $busybox && ${file_is_static:-0} -ge 1 ]] || die "$busybox is missing or not static; install it with: apt-get install busybox-static"
command -v cpio >/dev/null || die "cpio is missing; install it with: apt-get install cpio"

version=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$version/kernel
# The power button reaches userspace only through these two modules (both are =m in Debian's config).
modules=("$moddir/drivers/acpi/button.ko" "$moddir/drivers/input/evdev.ko")
for m in "${modules[@]}"; do [[ -r $m ]] || die "kernel module $m is missing; reinstall linux-image-$version"; done

script_self=$(readlink -f "${BASH_SOURCE[0]}")
# The stamp covers everything the image is made from, so a new kernel or a changed script rebuilds it.
stamp=$( { echo "$version"; sha256sum "$busybox" "${modules[@]}" "$script_self"; } | sha256sum | cut -c1-16)

mkdir -p "$cache"
if [[ -f $cache/initrd && -f $cache/stamp && $(cat "$cache/stamp") == "$stamp" && -f $cache/kernel ]]; then
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
echo "$cache"
