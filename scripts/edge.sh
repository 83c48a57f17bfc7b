#!/usr/bin/env bash
# The edge of one LaunchPad instance: a Traefik container that routes <name>.<base-domain> to the
# instance's serve containers (and nothing else: a provider constraint on launchpad.instance).
#   scripts/edge.sh up     start it (replacing one left from before); prints "http=ADDR api=ADDR"
#   scripts/edge.sh down   remove it
#   scripts/edge.sh flags  print Traefik's static configuration (its command line), one per line
# Settings (variables): LAUNCHPAD_INSTANCE (default), LAUNCHPAD_SITES_NETWORK (derived from the
# instance like the controller does), LAUNCHPAD_EDGE_HTTP (127.0.0.1:${LAUNCHPAD_HTTP_PORT:-80};
# a port of 0 picks a free one), LAUNCHPAD_EDGE_API (127.0.0.1:8081), LAUNCHPAD_TRAEFIK_IMAGE
# (traefik:v3.6 when the engine has it, else the image scripts/go-tools.sh builds from source).
#
# This script owns Traefik's static configuration for `make run` and the tests; docker-compose.yml
# carries the same flags (tests/compose/run.sh checks that the two agree).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SOCK=${LAUNCHPAD_DOCKER_SOCKET:-/var/run/docker.sock}
export DOCKER_HOST=unix://$SOCK
INSTANCE=${LAUNCHPAD_INSTANCE:-default}

say() { echo "edge: $*" >&2; }
die() {
	echo "edge: error: $*" >&2
	exit 1
}

# The controller's naming rule (controller/names.c): default instance unprefixed.
prefixed() {
	if [ "$INSTANCE" = default ]; then echo "$1"; else echo "$INSTANCE-$1"; fi
}
NETWORK=${LAUNCHPAD_SITES_NETWORK:-$(prefixed launchpad-sites)}
NAME=$(prefixed launchpad-traefik)
HTTP=${LAUNCHPAD_EDGE_HTTP:-127.0.0.1:${LAUNCHPAD_HTTP_PORT:-80}}
API=${LAUNCHPAD_EDGE_API:-127.0.0.1:8081}

# Traefik's static configuration, one flag per line.
flags() {
	cat <<EOF
--global.checkNewVersion=false
--global.sendAnonymousUsage=false
--log.level=${LAUNCHPAD_EDGE_LOG_LEVEL:-INFO}
--entrypoints.web.address=:80
--api=true
--api.insecure=true
--ping=true
--metrics.prometheus=true
--metrics.prometheus.addServicesLabels=true
--metrics.prometheus.buckets=0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5
--serversTransport.forwardingTimeouts.dialTimeout=500ms
--serversTransport.maxIdleConnsPerHost=-1
--providers.providersThrottleDuration=200ms
--providers.docker=true
--providers.docker.endpoint=unix:///var/run/docker.sock
--providers.docker.exposedByDefault=false
--providers.docker.network=$NETWORK
--providers.docker.constraints=Label(\`launchpad.instance\`,\`$INSTANCE\`)
EOF
}

pick_image() {
	if [ -n "${LAUNCHPAD_TRAEFIK_IMAGE:-}" ]; then
		echo "$LAUNCHPAD_TRAEFIK_IMAGE"
	elif docker image inspect traefik:v3.6 >/dev/null 2>&1; then
		echo traefik:v3.6
	else
		"$here/go-tools.sh" image traefik >&2
		echo "${LAUNCHPAD_TEST_TRAEFIK_IMAGE:-launchpad-test/traefik:local}"
	fi
}

# The sites network must exist before Traefik joins it; the controller adopts it (same options).
ensure_network() {
	docker network inspect "$NETWORK" >/dev/null 2>&1 && return 0
	docker network create --driver bridge --internal --label "launchpad.instance=$INSTANCE" \
		"$NETWORK" >/dev/null 2>&1 ||
		docker network inspect "$NETWORK" >/dev/null 2>&1 ||
		die "cannot create network $NETWORK"
}

published() {
	docker port "$NAME" "$1/tcp" 2>/dev/null | head -n 1
}

cmd_up() {
	local image http api i
	image=$(pick_image)
	ensure_network
	docker rm -f "$NAME" >/dev/null 2>&1 || true
	mapfile -t args < <(flags)
	# Published ports need a non-internal network: start on the default bridge, then join the
	# sites network (internal: serve containers have no egress).
	docker create --name "$NAME" \
		--label "launchpad.instance=$INSTANCE" --label launchpad.role=edge \
		--restart unless-stopped --read-only --security-opt no-new-privileges \
		--cap-drop ALL --cap-add NET_BIND_SERVICE --memory 256m --pids-limit 256 \
		-v "$SOCK:/var/run/docker.sock:ro" \
		-p "$HTTP:80" -p "$API:8080" \
		"$image" "${args[@]}" >/dev/null || die "cannot create $NAME from $image"
	docker network connect "$NETWORK" "$NAME" || die "cannot connect $NAME to $NETWORK"
	docker start "$NAME" >/dev/null || die "cannot start $NAME (is $HTTP or $API taken?)"
	http=$(published 80)
	api=$(published 8080)
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -s -m 2 "http://$api/ping" 2>/dev/null)" = OK ] && break
		sleep 0.1
	done
	[ $i -lt 100 ] || die "Traefik ($NAME) did not answer http://$api/ping; docker logs $NAME"
	say "Traefik ($image) routes instance $INSTANCE on http://$http (API http://$api)"
	echo "http=$http api=$api"
}

cmd_down() {
	docker rm -f "$NAME" >/dev/null 2>&1 || true
	say "removed $NAME"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
flags) flags ;;
*)
	echo "usage: $0 up|down|flags" >&2
	exit 2
	;;
esac
