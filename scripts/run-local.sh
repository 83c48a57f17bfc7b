#!/usr/bin/env bash
# `make run`: runs LaunchPad on this machine against the local Docker engine.
# Today that means the controller's preflight (Docker reachable, images present, data dir
# writable); once the controller loop and the apiserver exist, this starts both.
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
if [ ! -x "$controller" ]; then
	echo "run-local: $controller has not been built yet: the controller (controller/main.c) is" >&2
	echo "run-local: still being written. Everything else is ready: data dir $LAUNCHPAD_DATA_DIR," >&2
	echo "run-local: serve image $LAUNCHPAD_SERVE_IMAGE, build image $LAUNCHPAD_BUILD_IMAGE." >&2
	exit 1
fi

echo "run-local: data dir $LAUNCHPAD_DATA_DIR"
echo "run-local: serve image $LAUNCHPAD_SERVE_IMAGE, build image $LAUNCHPAD_BUILD_IMAGE"
exec "$controller" --preflight
