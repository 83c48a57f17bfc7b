#!/usr/bin/env bash
# Builds one test image's root filesystem with debootstrap and writes it as a tarball.
#   build-rootfs.sh KIND OUT.tar MIRROR
# KIND is a folder next to this script (nginx, node) holding `packages` (Debian packages,
# installed with apt inside the new rootfs) and `setup.sh` (run with the rootfs path; lays the
# image out).
# The tarball is written to a temp name and renamed, so an interrupted build never leaves a
# half-written cache entry behind.
set -euo pipefail

kind=${1:?kind}
out=${2:?output tarball}
mirror=${3:?mirror}
suite=${LAUNCHPAD_TEST_SUITE:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
recipe=$here/$kind

[ -f "$recipe/packages" ] || { echo "build-rootfs: unknown image kind '$kind'" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-rootfs: must run as root (debootstrap)" >&2; exit 2; }
command -v debootstrap >/dev/null || {
	echo "build-rootfs: debootstrap missing; run scripts/install-deps.sh" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/launchpad-rootfs-$kind.XXXXXX")
root=$work/rootfs
cleanup() {
	# A failed debootstrap can leave /proc mounted inside the rootfs; never rm -rf through it.
	for m in proc sys dev/pts dev; do
		if mountpoint -q "$root/$m" 2>/dev/null; then umount -l "$root/$m" || true; fi
	done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

packages=$({ grep -v '^\s*#' "$recipe/packages" || true; } | tr -s ' \n' ' ')
echo "build-rootfs[$kind]: debootstrap $suite minbase from $mirror"
if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
	echo "build-rootfs[$kind]: debootstrap failed; last lines of its log:" >&2
	tail -n 40 "$work/debootstrap.log" >&2
	[ -f "$root/debootstrap/debootstrap.log" ] && tail -n 40 "$root/debootstrap/debootstrap.log" >&2
	exit 1
fi

# The image's packages come from apt inside the chroot: debootstrap's own resolver cannot
# handle npm's tree of virtual packages. policy-rc.d keeps postinst scripts from starting
# daemons (nginx would bind the host's port 80).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
if [ -n "${packages// /}" ]; then
	echo "build-rootfs[$kind]: apt-get install $packages"
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	if ! chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
		"apt-get update -q && apt-get install -y -q --no-install-recommends $packages" \
		>"$work/apt.log" 2>&1; then
		echo "build-rootfs[$kind]: apt-get install failed; last lines of its log:" >&2
		tail -n 40 "$work/apt.log" >&2
		exit 1
	fi
fi
rm -f "$root/usr/sbin/policy-rc.d"

echo "build-rootfs[$kind]: customising"
# setup.sh's sanity checks need /proc too (node; /dev/stderr -> /proc/self/fd/2).
LAUNCHPAD_IMAGE_RECIPE=$recipe bash "$recipe/setup.sh" "$root"
umount "$root/proc"

# Nothing may still be mounted below the rootfs (debootstrap bind-mounts devices when it runs
# inside a container): the trimming below must never reach the host.
if awk -v r="$root/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
	echo "build-rootfs[$kind]: something is still mounted under $root; not trimming" >&2
	exit 1
fi

# Trim what a container never reads: package lists and caches, docs, man pages, locales.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
	"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
	"$root"/usr/share/lintian "$root"/usr/share/linda "$root"/debootstrap \
	"$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' \
	-exec rm -rf {} + 2>/dev/null || true
# Docker provides these per container.
rm -rf --one-file-system "${root:?}"/dev/* "${root:?}"/proc/* "${root:?}"/sys/*
: >"$root/etc/hostname"
rm -f "$root/etc/resolv.conf"

tar -C "$root" --numeric-owner --xattrs -cf "$out.tmp.$$" .
mv -f "$out.tmp.$$" "$out"
echo "build-rootfs[$kind]: wrote $out ($(du -h "$out" | cut -f1))"
