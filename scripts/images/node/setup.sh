#!/usr/bin/env bash
# Adds what the official node images have beyond the packages: a non-root user `node`
# (uid/gid 1000, home /home/node, shell /bin/sh) that build containers run as.
set -euo pipefail
root=${1:?rootfs}

if ! grep -q '^node:' "$root/etc/passwd"; then
	chroot "$root" groupadd --gid 1000 node
	chroot "$root" useradd --uid 1000 --gid node --create-home --home-dir /home/node \
		--shell /bin/sh node
fi
# Sanity check: the tools a build command relies on must run.
chroot "$root" /bin/sh -c 'node --version && npm --version && git --version' >/dev/null
