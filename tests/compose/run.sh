#!/usr/bin/env bash
# tests/compose/run.sh: docker-compose.yml for real, on the local engine and local images.
#   1. the file parses with no variable set, and the tunnel profile is inert;
#   2. Traefik's flags in it are the ones scripts/edge.sh gives `make run`;
#   3. the Dockerfile builds (from the local debian:bookworm-slim stand-in);
#   4. with Compose v2 and with Debian 12's docker-compose 1.29: `up -d` starts Traefik, the
#      controller and the apiserver (as uid 10001, healthy); a site created through the API answers
#      through Traefik; the controller isolated both networks from the host (iptables); `down`
#      leaves nothing of LaunchPad behind but the data dir (no container, network or rule).
# Bounded: every wait has a deadline. Prints one line per check; exits non-zero on the first
# failure, after removing what it started.
set -euo pipefail

cd "$(dirname "$0")/../.."
here=$PWD
export DOCKER_HOST=unix://${LAUNCHPAD_DOCKER_SOCKET:-/var/run/docker.sock}
IMAGE=${LAUNCHPAD_TEST_LAUNCHPAD_IMAGE:-launchpad-test/launchpad:compose}
BASE_IMAGE=${LAUNCHPAD_TEST_BASE_IMAGE:-launchpad-test/debian:local}
NODE_IMAGE=${LAUNCHPAD_TEST_BUILD_IMAGE:-launchpad-test/node:local}
work=$(mktemp -d /tmp/lp-compose.XXXXXX)
checks=0
current_down=""

say() { echo "compose-test: $*"; }
fail() {
	echo "compose-test: FAILED: $*" >&2
	exit 1
}
ok() {
	checks=$((checks + 1))
	say "ok $checks - $*"
}
cleanup() {
	local rc=$?
	if [ -n "$current_down" ]; then
		[ $rc = 0 ] || $current_down logs --no-color --tail 40 >&2 2>&1 || true
		$current_down down -v >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		ss -ltn "sport = :$p" | grep -q LISTEN || { echo $p; return 0; }
	done
	fail "no free port"
}

# Wait up to $2 s for command $1 (a string) to succeed.
wait_for() {
	local deadline=$((SECONDS + $2))
	until eval "$1" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.5
	done
}

# 1. parses bare (no `${VAR:?}` trap); the tunnel profile is inert unless asked for.
compose_v2=$(scripts/go-tools.sh path compose)
(
	unset "${!LAUNCHPAD_@}" CLOUDFLARE_TUNNEL_TOKEN
	docker-compose -f docker-compose.yml config -q 2>"$work/bare.err" &&
		"$compose_v2" -f docker-compose.yml config --services >"$work/services" 2>>"$work/bare.err" &&
		"$compose_v2" -f docker-compose.yml --profile tunnel config --services >"$work/tunnel"
) || fail "compose config with no variables set: $(cat "$work/bare.err")"
[ "$(sort "$work/services" | tr '\n' ' ')" = "apiserver controller traefik " ] ||
	fail "services without a profile: $(cat "$work/services")"
grep -qx cloudflared "$work/tunnel" || fail "--profile tunnel does not add cloudflared"
ok "docker-compose.yml parses with no variable set (1.29 and v2); cloudflared only with --profile tunnel"

# 2. Traefik's flags: compose's list equals edge.sh's, defaults substituted.
sed -n '/^  traefik:/,/^    ports:/p' docker-compose.yml | sed -n 's/^      - \(--.*\)$/\1/p' |
	sed -e 's/\${LAUNCHPAD_SITES_NETWORK:-\([^}]*\)}/\1/g' -e 's/\${LAUNCHPAD_INSTANCE:-\([^}]*\)}/\1/g' \
		-e 's/\${LAUNCHPAD_EDGE_LOG_LEVEL:-\([^}]*\)}/\1/g' \
	>"$work/compose.flags"
LAUNCHPAD_INSTANCE=default LAUNCHPAD_SITES_NETWORK= scripts/edge.sh flags >"$work/edge.flags"
diff -u "$work/edge.flags" "$work/compose.flags" >&2 ||
	fail "Traefik's flags differ between scripts/edge.sh and docker-compose.yml"
ok "Traefik's flags in docker-compose.yml are scripts/edge.sh's ($(wc -l <"$work/edge.flags") flags)"

# 3. the Dockerfile, for real.
t0=$SECONDS
DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" \
	--build-arg "NODE_IMAGE=$NODE_IMAGE" -t "$IMAGE" . \
	>"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; fail "docker build"; }
docker run --rm --entrypoint sh "$IMAGE" -c \
	'launchpad-apiserver --help >/dev/null && launchpad-controller --help >/dev/null && launchpad --help >/dev/null' ||
	fail "the image does not run both daemons and the CLI"
docker run --rm --entrypoint sh "$IMAGE" -c 'test ! -e /src && ! ls -a / | grep -q "^\.git$"' ||
	fail "the image carries build sources"
ok "Dockerfile builds from $BASE_IMAGE and $NODE_IMAGE in $((SECONDS - t0)) s; the image runs both daemons"

# 4. up, a site through Traefik, down: with each Compose.
compose_round() {
	local label=$1 project=$2 data
	shift 2
	local -a compose=("$@")
	data=$work/$project-data
	mkdir -p "$data"
	export LAUNCHPAD_INSTANCE=$project LAUNCHPAD_SITES_NETWORK=$project-sites
	export LAUNCHPAD_DATA_DIR=$data LAUNCHPAD_IMAGE=$IMAGE LAUNCHPAD_BASE_IMAGE=$BASE_IMAGE
	export LAUNCHPAD_TRAEFIK_IMAGE=${LAUNCHPAD_TEST_TRAEFIK_IMAGE:-launchpad-test/traefik:local}
	export LAUNCHPAD_SERVE_IMAGE=${LAUNCHPAD_TEST_SERVE_IMAGE:-launchpad-test/nginx:local}
	export LAUNCHPAD_BUILD_IMAGE=${LAUNCHPAD_TEST_BUILD_IMAGE:-launchpad-test/node:local}
	export LAUNCHPAD_HTTP_PORT LAUNCHPAD_API_PORT LAUNCHPAD_TRAEFIK_API_PORT
	LAUNCHPAD_HTTP_PORT=$(free_port)
	LAUNCHPAD_API_PORT=$(free_port)
	LAUNCHPAD_TRAEFIK_API_PORT=$(free_port)
	local c="${compose[*]} -p $project -f $here/docker-compose.yml"
	current_down=$c
	t0=$SECONDS
	$c up -d >"$work/$project-up.log" 2>&1 || { cat "$work/$project-up.log" >&2; fail "$label up -d"; }
	local api=http://127.0.0.1:$LAUNCHPAD_API_PORT
	wait_for "curl -fs $api/healthz" 90 || fail "$label: the apiserver never answered /healthz"
	ok "$label: up -d on a fresh engine, apiserver healthy in $((SECONDS - t0)) s"

	local pid uid
	pid=$(docker inspect -f '{{.State.Pid}}' "$($c ps -q apiserver)")
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	[ "$uid" = 10001 ] || fail "$label: the apiserver runs as uid $uid, not 10001"
	ok "$label: the apiserver runs as uid 10001 (no Docker socket)"
	docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$($c ps -q apiserver)" |
		grep -q docker.sock && fail "$label: the apiserver has the Docker socket"

	local token slug body
	token=$(cat "$data/admin.token")
	mkdir -p "$work/site" && printf '<h1>compose %s</h1>\n' "$label" >"$work/site/index.html"
	(cd "$work/site" && rm -f ../site.zip && zip -q ../site.zip index.html)
	body=$(curl -fs -H "Authorization: Bearer $token" -F name=compose -F source_type=zip \
		-F "file=@$work/site.zip" "$api/api/deployments") || fail "$label: create"
	slug=$(echo "$body" | sed -n 's/.*"slug":"\([^"]*\)".*/\1/p')
	[ -n "$slug" ] || fail "$label: no slug in $body"
	wait_for "curl -fs -H 'Authorization: Bearer $token' $api/api/deployments/$slug | grep -q '\"status\":\"live\"'" 90 ||
		fail "$label: $slug never went live: $(curl -s -H "Authorization: Bearer $token" "$api/api/deployments/$slug")"
	wait_for "curl -fs -H 'Host: $slug.localhost' http://127.0.0.1:$LAUNCHPAD_HTTP_PORT/ | grep -q 'compose $label'" 20 ||
		fail "$label: http://$slug.localhost:$LAUNCHPAD_HTTP_PORT/ does not serve the page through Traefik"
	ok "$label: a site created through the API answers through Traefik (Host: $slug.localhost)"
	# The controller, in the host's network namespace, isolated both networks from the host.
	[ "$(iptables -w 5 -S INPUT | grep -cF -- "--comment \"launchpad:$project\"")" = 2 ] ||
		fail "$label: the controller did not isolate its two networks from the host:" \
			"$(iptables -w 5 -S INPUT | grep -F launchpad)"
	ok "$label: the controller isolated both networks from the host (iptables INPUT jumps)"
	curl -fs "$api/" | grep -q '<div id="root">' ||
		fail "$label: the apiserver does not serve the dashboard at /"
	ok "$label: the dashboard answers at http://127.0.0.1:$LAUNCHPAD_API_PORT/"

	$c down >"$work/$project-down.log" 2>&1 || { cat "$work/$project-down.log" >&2; fail "$label down"; }
	current_down=""
	local left nets
	left=$(docker ps -aq --filter "label=launchpad.instance=$project" | wc -l)
	nets=$(docker network ls -q --filter "name=$project" | wc -l)
	[ "$left" = 0 ] || fail "$label: down left $left container(s) of $project"
	[ "$nets" = 0 ] || fail "$label: down left $nets network(s) of $project"
	[ "$(iptables -w 5 -S | grep -cF "launchpad:$project\"")" = 0 ] ||
		fail "$label: down left the controller's iptables rules of $project"
	[ -f "$data/db/launchpad.db" ] || fail "$label: down removed the data dir"
	ok "$label: down leaves no container, network or firewall rule of $project behind; the data dir stays"
	unset LAUNCHPAD_INSTANCE LAUNCHPAD_SITES_NETWORK LAUNCHPAD_DATA_DIR
}

compose_round "compose v2 ($("$compose_v2" version --short 2>/dev/null))" "lpc$$v2" "$compose_v2"
compose_round "docker-compose $(docker-compose version --short 2>/dev/null)" "lpc$$v1" docker-compose
say "$checks checks passed"
