#!/usr/bin/env bash
# The local stand-in for debian:bookworm-slim: minbase as debootstrap left it, plus the same
# dpkg excludes the slim image has, so `apt-get install` inside `docker build` stays small.
set -euo pipefail
root=${1:?rootfs}
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
