#!/usr/bin/env bash
# Installs every Debian package LaunchPad's build and tests need (Debian 12).
# Idempotent: asks dpkg which are missing and touches apt only then, so a second run is fast and
# works offline. Needs root when something is missing.
set -euo pipefail

PACKAGES=(
	# build
	build-essential pkg-config git clang-format
	libyaml-dev libsqlite3-dev libcurl4-openssl-dev libcjson-dev libgit2-dev libarchive-dev
	libssl-dev libmicrohttpd-dev zlib1g-dev
	# the fuzz harnesses (make fuzz, fuzz-smoke): clang, and libFuzzer in its compiler-rt
	# (only a Recommends of clang in Debian 12, so named)
	clang libclang-rt-14-dev
	# tests
	check sqlite3 valgrind wrk curl ca-certificates zip unzip libarchive-tools
	# the test environment: a Docker engine and the tools that build the test images
	docker.io docker-compose debootstrap
	# the controller's host isolation (iptables, iptables-restore)
	iptables
	# the dashboard and its browser tests
	nodejs npm chromium
)

# A package counts as present when dpkg has it installed, or (for npm) when another installed
# package already provides the command: NodeSource's nodejs ships npm and conflicts with Debian's.
installed() {
	local pkg=$1
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] && return 0
	case $pkg in
	npm) command -v npm >/dev/null ;;
	*) return 1 ;;
	esac
}

missing=()
for pkg in "${PACKAGES[@]}"; do
	installed "$pkg" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: error: installing packages needs root; run as root:" >&2
	echo "    sudo $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# needrestart would otherwise offer to restart services such as a running dockerd.
export NEEDRESTART_SUSPEND=1
apt-get update -q
apt-get install -y -q "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
	installed "$pkg" || still+=("$pkg")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "install-deps: error: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
echo "install-deps: installed ${missing[*]}"
