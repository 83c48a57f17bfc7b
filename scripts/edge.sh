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
# HTTPS (docs/domains.md), off unless LAUNCHPAD_HTTPS=true (the controller reads the same
# variable and gives every site an HTTPS router): a websecure entrypoint published on
# LAUNCHPAD_EDGE_HTTPS (127.0.0.1:${LAUNCHPAD_HTTPS_PORT:-443}; a port of 0 picks a free one), with
#   - a certificate file: LAUNCHPAD_TLS_CERT and LAUNCHPAD_TLS_KEY (PEM), Traefik's default
#     certificate (LANs, tests); or
#   - an ACME resolver: LAUNCHPAD_CERT_RESOLVER (its name; the controller puts it on the routers),
#     LAUNCHPAD_ACME_EMAIL, LAUNCHPAD_ACME_CHALLENGE (tls, the default, or http), optionally
#     LAUNCHPAD_ACME_CA_SERVER (e.g. Let's Encrypt's staging directory).
# Both keep their files in LAUNCHPAD_EDGE_STATE_DIR (~/.local/state/launchpad/edge-<instance>),
# mounted into Traefik; `up` then prints https=ADDR too.
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
HTTPS_ON=false
case ${LAUNCHPAD_HTTPS:-false} in 1 | true | yes | on) HTTPS_ON=true ;; esac
HTTPS=${LAUNCHPAD_EDGE_HTTPS:-127.0.0.1:${LAUNCHPAD_HTTPS_PORT:-443}}
STATE=${LAUNCHPAD_EDGE_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/launchpad/edge-$INSTANCE}
# Where Traefik sees STATE.
TLS_DIR=/etc/traefik/launchpad
RESOLVER=${LAUNCHPAD_CERT_RESOLVER:-}

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
	[ "$HTTPS_ON" = true ] || return 0
	echo "--entrypoints.websecure.address=:443"
	if [ -n "${LAUNCHPAD_TLS_CERT:-}" ]; then
		echo "--providers.file.filename=$TLS_DIR/tls.yml"
	fi
	if [ -n "$RESOLVER" ]; then
		echo "--certificatesresolvers.$RESOLVER.acme.email=${LAUNCHPAD_ACME_EMAIL:-}"
		echo "--certificatesresolvers.$RESOLVER.acme.storage=$TLS_DIR/acme.json"
		if [ "${LAUNCHPAD_ACME_CHALLENGE:-tls}" = http ]; then
			echo "--certificatesresolvers.$RESOLVER.acme.httpchallenge.entrypoint=web"
		else
			echo "--certificatesresolvers.$RESOLVER.acme.tlschallenge=true"
		fi
		if [ -n "${LAUNCHPAD_ACME_CA_SERVER:-}" ]; then
			echo "--certificatesresolvers.$RESOLVER.acme.caServer=$LAUNCHPAD_ACME_CA_SERVER"
		fi
	fi
}

# The files HTTPS needs, in STATE: a copy of the certificate and key with the dynamic
# configuration that makes them Traefik's default certificate, and the ACME store.
prepare_tls() {
	[ "$HTTPS_ON" = true ] || return 0
	[ -n "${LAUNCHPAD_TLS_CERT:-}" ] || [ -n "$RESOLVER" ] ||
		say "warning: HTTPS without LAUNCHPAD_TLS_CERT or LAUNCHPAD_CERT_RESOLVER: Traefik answers with its own self-signed certificate"
	mkdir -p "$STATE" && chmod 700 "$STATE" || die "cannot make $STATE"
	if [ -n "${LAUNCHPAD_TLS_CERT:-}" ]; then
		[ -r "$LAUNCHPAD_TLS_CERT" ] || die "LAUNCHPAD_TLS_CERT=$LAUNCHPAD_TLS_CERT is not readable"
		[ -r "${LAUNCHPAD_TLS_KEY:-}" ] || die "LAUNCHPAD_TLS_KEY=${LAUNCHPAD_TLS_KEY:-} is not readable"
		install -m 0644 "$LAUNCHPAD_TLS_CERT" "$STATE/cert.pem"
		install -m 0600 "$LAUNCHPAD_TLS_KEY" "$STATE/key.pem"
		cat >"$STATE/tls.yml.tmp" <<EOF
tls:
  stores:
    default:
      defaultCertificate:
        certFile: $TLS_DIR/cert.pem
        keyFile: $TLS_DIR/key.pem
EOF
		mv "$STATE/tls.yml.tmp" "$STATE/tls.yml"
	fi
	if [ -n "$RESOLVER" ]; then
		[ -n "${LAUNCHPAD_ACME_EMAIL:-}" ] || die "LAUNCHPAD_CERT_RESOLVER needs LAUNCHPAD_ACME_EMAIL"
		[ -e "$STATE/acme.json" ] || install -m 0600 /dev/null "$STATE/acme.json"
	fi
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
	local image http api https="" i
	local -a tls_opts=()
	image=$(pick_image)
	ensure_network
	prepare_tls
	if [ "$HTTPS_ON" = true ]; then
		tls_opts=(-p "$HTTPS:443" -v "$STATE:$TLS_DIR")
	fi
	docker rm -f "$NAME" >/dev/null 2>&1 || true
	mapfile -t args < <(flags)
	# Published ports need a non-internal network: start on the default bridge, then join the
	# sites network (internal: serve containers have no egress).
	docker create --name "$NAME" \
		--label "launchpad.instance=$INSTANCE" --label launchpad.role=edge \
		--restart unless-stopped --read-only --security-opt no-new-privileges \
		--cap-drop ALL --cap-add NET_BIND_SERVICE --memory 256m --pids-limit 256 \
		-v "$SOCK:/var/run/docker.sock:ro" \
		-p "$HTTP:80" -p "$API:8080" "${tls_opts[@]}" \
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
	if [ "$HTTPS_ON" = true ]; then
		https=$(published 443)
		say "Traefik ($image) routes instance $INSTANCE on http://$http and https://$https (API http://$api)"
		echo "http=$http api=$api https=$https"
	else
		say "Traefik ($image) routes instance $INSTANCE on http://$http (API http://$api)"
		echo "http=$http api=$api"
	fi
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
