#!/usr/bin/env bash
# `make run`: runs LaunchPad on this machine against the local Docker engine.
# It runs the controller's preflight (Docker reachable, images present), then the controller
# (reconcile loop) in the background and the apiserver in the foreground; Ctrl-C stops both.
# Data lives in $LAUNCHPAD_DATA_DIR (default ./.data). When nginx:alpine / node:20-alpine are
# not present locally, the local test images stand in for them (no registry pull needed).
set -euo pipefail

cd "$(dirname "$0")/.."
SOCK=${LAUNCHPAD_DOCKER_SOCKET:-/var/run/docker.sock}
export DOCKER_HOST=unix://$SOCK

docker_answers() {
	[ "$(curl -s -m 5 --unix-socket "$SOCK" http://x/_ping 2>/dev/null)" = OK ]
}

if [ "$(id -u)" = 0 ]; then
	# Starts dockerd if needed and builds the local images (cached after the first time).
	scripts/test-env.sh up
elif ! docker_answers; then
	echo "run-local: error: Docker does not answer at $SOCK; run as root, or start Docker" >&2
	exit 1
fi

export LAUNCHPAD_DATA_DIR=${LAUNCHPAD_DATA_DIR:-$PWD/.data}
mkdir -p "$LAUNCHPAD_DATA_DIR"
LAUNCHPAD_DATA_DIR=$(cd "$LAUNCHPAD_DATA_DIR" && pwd)

# Use the real images when they are here, the local stand-ins otherwise.
pick_image() {
	local wanted=$1 fallback=$2
	if docker image inspect "$wanted" >/dev/null 2>&1; then
		echo "$wanted"
	else
		echo "$fallback"
	fi
}
export LAUNCHPAD_SERVE_IMAGE=${LAUNCHPAD_SERVE_IMAGE:-$(pick_image nginx:alpine \
	"${LAUNCHPAD_TEST_SERVE_IMAGE:-launchpad-test/nginx:local}")}
export LAUNCHPAD_BUILD_IMAGE=${LAUNCHPAD_BUILD_IMAGE:-$(pick_image node:20-alpine \
	"${LAUNCHPAD_TEST_BUILD_IMAGE:-launchpad-test/node:local}")}
export LAUNCHPAD_DOCKER_SOCKET=$SOCK

controller=build/bin/launchpad-controller
apiserver=build/bin/launchpad-apiserver
for bin in "$controller" "$apiserver"; do
	[ -x "$bin" ] || { echo "run-local: $bin is missing: run \`make all\` first" >&2; exit 1; }
done

echo "run-local: data dir $LAUNCHPAD_DATA_DIR"
echo "run-local: serve image $LAUNCHPAD_SERVE_IMAGE, build image $LAUNCHPAD_BUILD_IMAGE"
"$controller" --preflight

# The controller reconciles in the background; the apiserver runs in the foreground. Ctrl-C
# (or SIGTERM) stops both: the controller gets SIGTERM and its build grace period.
"$controller" &
ctl_pid=$!
trap 'kill -TERM "$ctl_pid" 2>/dev/null; wait "$ctl_pid" 2>/dev/null' EXIT INT TERM
echo "run-local: controller pid $ctl_pid; API on ${LAUNCHPAD_LISTEN:-127.0.0.1:8080}"
echo "run-local: admin token in $LAUNCHPAD_DATA_DIR/admin.token"
"$apiserver"
