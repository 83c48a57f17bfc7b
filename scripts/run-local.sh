#!/usr/bin/env bash
# `make run`: runs LaunchPad on this machine against the local Docker engine, so the URL it prints
# for a site is the URL that answers:
#   Traefik (the edge) on 127.0.0.1:$LAUNCHPAD_HTTP_PORT (default 80), its API on 127.0.0.1:8081;
#   the controller (reconcile loop) in the background; the apiserver (and the dashboard) on
#   127.0.0.1:8080 in the foreground. Ctrl-C stops all three; the sites' containers stay (they
#   are served again by the next `make run`) until `make stop` removes them.
#   scripts/run-local.sh         run the platform
#   scripts/run-local.sh stop    remove this instance's containers and networks (not the data)
# Data lives in $LAUNCHPAD_DATA_DIR (default ./.data). When nginx:alpine / node:20-alpine are not
# present locally, the local test images stand in for them (no registry pull needed).
set -euo pipefail

cd "$(dirname "$0")/.."
SOCK=${LAUNCHPAD_DOCKER_SOCKET:-/var/run/docker.sock}
export DOCKER_HOST=unix://$SOCK
export LAUNCHPAD_INSTANCE=${LAUNCHPAD_INSTANCE:-default}
export LAUNCHPAD_HTTP_PORT=${LAUNCHPAD_HTTP_PORT:-80}
EDGE_API=${LAUNCHPAD_EDGE_API:-127.0.0.1:8081}

docker_answers() {
	[ "$(curl -s -m 5 --unix-socket "$SOCK" http://x/_ping 2>/dev/null)" = OK ]
}

stop_instance() {
	local ids nets
	ids=$(docker ps -aq --filter "label=launchpad.instance=$LAUNCHPAD_INSTANCE")
	[ -z "$ids" ] || docker rm -f $ids >/dev/null
	nets=$(docker network ls -q --filter "label=launchpad.instance=$LAUNCHPAD_INSTANCE")
	[ -z "$nets" ] || docker network rm $nets >/dev/null
	# The controller's host isolation rules: its INPUT jumps (they name the instance), its chain.
	if [ "$(id -u)" = 0 ] && command -v iptables >/dev/null; then
		iptables -w 5 -S INPUT | grep -F -- "--comment \"launchpad:$LAUNCHPAD_INSTANCE\"" |
			sed 's/^-A /-D /' | while read -r r; do
			eval "iptables -w 5 $r"
			c=${r##* }
			{ iptables -w 5 -F "$c" && iptables -w 5 -X "$c"; } 2>/dev/null || true
		done
	fi
	echo "run-local: removed $(echo $ids | wc -w) container(s) and $(echo $nets | wc -w)" \
		"network(s) of instance $LAUNCHPAD_INSTANCE; the data dir stays"
}

export LAUNCHPAD_DATA_DIR=${LAUNCHPAD_DATA_DIR:-$PWD/.data}
mkdir -p "$LAUNCHPAD_DATA_DIR"
LAUNCHPAD_DATA_DIR=$(cd "$LAUNCHPAD_DATA_DIR" && pwd)
# Held while the platform runs: `stop` must not race a controller that heals what it removes.
exec 7>"$LAUNCHPAD_DATA_DIR/.run-local.lock"

if [ "${1:-}" = stop ]; then
	flock -n 7 || { echo "run-local: \`make run\` is still running: stop it first (Ctrl-C)" >&2; exit 1; }
	docker_answers || { echo "run-local: Docker does not answer at $SOCK" >&2; exit 1; }
	stop_instance
	exit 0
fi
flock -n 7 || { echo "run-local: another \`make run\` uses $LAUNCHPAD_DATA_DIR" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
	# Starts dockerd if needed and builds the local images (cached after the first time).
	scripts/test-env.sh up
elif ! docker_answers; then
	echo "run-local: error: Docker does not answer at $SOCK; run as root, or start Docker" >&2
	exit 1
else
	# Isolating the networks from this host takes iptables, which takes root.
	export LAUNCHPAD_HOST_ISOLATION=${LAUNCHPAD_HOST_ISOLATION:-false}
	[ "$LAUNCHPAD_HOST_ISOLATION" = false ] &&
		echo "run-local: not root: builds and sites can reach this host's services" \
			"(run as root to isolate them)"
fi

[ -d dashboard/dist ] && export LAUNCHPAD_DASHBOARD_DIR=${LAUNCHPAD_DASHBOARD_DIR:-$PWD/dashboard/dist}

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

# The edge first: the sites network it joins is the one the controller then adopts.
edge=$(LAUNCHPAD_EDGE_HTTP=127.0.0.1:$LAUNCHPAD_HTTP_PORT LAUNCHPAD_EDGE_API=$EDGE_API \
	scripts/edge.sh up)
export LAUNCHPAD_TRAEFIK_API=http://${edge##*api=}

ctl_pid=
cleanup() {
	[ -z "$ctl_pid" ] || { kill -TERM "$ctl_pid" 2>/dev/null; wait "$ctl_pid" 2>/dev/null; }
	scripts/edge.sh down || true
	echo "run-local: stopped; the sites' containers stay until \`make stop\`"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The controller reconciles in the background; the apiserver runs in the foreground. Ctrl-C
# (or SIGTERM) stops both: the controller gets SIGTERM and its build grace period.
"$controller" &
ctl_pid=$!
port=""
[ "$LAUNCHPAD_HTTP_PORT" = 80 ] || port=":$LAUNCHPAD_HTTP_PORT"
echo "run-local: controller pid $ctl_pid; API and dashboard on http://${LAUNCHPAD_LISTEN:-127.0.0.1:8080}"
echo "run-local: sites answer at http://<name>.${LAUNCHPAD_BASE_DOMAIN:-localhost}$port" \
	"(Traefik; its API on http://$EDGE_API)"
echo "run-local: admin token in $LAUNCHPAD_DATA_DIR/admin.token; Ctrl-C stops, \`make stop\`" \
	"removes the sites' containers"
"$apiserver"
