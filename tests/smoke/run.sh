#!/usr/bin/env bash
# Smoke test of the test environment: the two test images work the way LaunchPad uses them.
#  1. serve: nginx from LAUNCHPAD_TEST_SERVE_IMAGE, run like a production serve container (as
#     uid 101:101 with no capability, read-only rootfs, one tmpfs on /tmp, no-new-privileges,
#     a whole configuration bound over /etc/nginx/nginx.conf, port 8080), serves a bind-mounted
#     file with random content over the default bridge network.
#  2. build: LAUNCHPAD_TEST_BUILD_IMAGE runs as the non-root user `node` and has node, npm, git.
# Every container it creates carries the label launchpad-test=smoke and is removed on exit.
set -uo pipefail

SOCK=${LAUNCHPAD_DOCKER_SOCKET:-/var/run/docker.sock}
here=$(cd "$(dirname "$0")" && pwd)
SERVE_IMAGE=${LAUNCHPAD_TEST_SERVE_IMAGE:-launchpad-test/nginx:local}
BUILD_IMAGE=${LAUNCHPAD_TEST_BUILD_IMAGE:-launchpad-test/node:local}
export DOCKER_HOST=unix://$SOCK

passed=0
failed=0
containers=()
tmp=$(mktemp -d /tmp/launchpad-smoke.XXXXXX)
cleanup() {
	local c
	for c in "${containers[@]}"; do
		docker rm -f "$c" >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() {
	echo "smoke: PASS $*"
	passed=$((passed + 1))
}
fail() {
	echo "smoke: FAIL $1: ${*:2}" >&2
	failed=$((failed + 1))
}

if [ "$(curl -s -m 5 --unix-socket "$SOCK" http://x/_ping 2>/dev/null)" != OK ]; then
	echo "smoke: error: Docker does not answer at $SOCK; start it with: scripts/test-env.sh up" >&2
	echo "smoke: 0 passed, 1 failed"
	exit 1
fi

test_serve() {
	local name content ip got i
	docker image inspect "$SERVE_IMAGE" >/dev/null 2>&1 || {
		fail serve "image $SERVE_IMAGE missing (scripts/test-env.sh up builds it)"
		return
	}
	name=launchpad-smoke-serve-$$-$RANDOM
	content=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	mkdir -p "$tmp/html"
	printf '%s\n' "$content" >"$tmp/html/smoke.txt"
	chmod -R a+rX "$tmp"
	containers+=("$name")
	if ! docker run -d --name "$name" --label launchpad-test=smoke \
		--user 101:101 --cap-drop ALL --read-only --tmpfs /tmp \
		--security-opt no-new-privileges --memory 64m \
		-v "$here/../../scripts/images/nginx/unprivileged.conf:/etc/nginx/nginx.conf:ro" \
		-v "$tmp/html:/usr/share/nginx/html:ro" "$SERVE_IMAGE" >/dev/null; then
		fail serve "docker run failed"
		return
	fi
	ip=$(docker inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' "$name")
	if [ -z "$ip" ] || [ "$ip" = "<no value>" ]; then
		fail serve "container has no IP on the default bridge"
		return
	fi
	got=
	for ((i = 0; i < 20; i++)); do
		got=$(curl -fsS -m 2 "http://$ip:8080/smoke.txt" 2>/dev/null) && break
		if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
			fail serve "nginx exited: $(docker logs --tail 20 "$name" 2>&1)"
			return
		fi
		sleep 0.5
	done
	if [ "$got" = "$content" ]; then
		pass "serve: nginx (uid 101, no capability, read-only rootfs) served the bind-mounted" \
			"file at http://$ip:8080/"
	else
		fail serve "expected '$content' from http://$ip:8080/smoke.txt, got '$got'" \
			"(logs: $(docker logs --tail 20 "$name" 2>&1))"
	fi
}

test_build() {
	local name out uid
	docker image inspect "$BUILD_IMAGE" >/dev/null 2>&1 || {
		fail build "image $BUILD_IMAGE missing (scripts/test-env.sh up builds it)"
		return
	}
	name=launchpad-smoke-build-$$-$RANDOM
	containers+=("$name")
	if ! out=$(docker run --name "$name" --label launchpad-test=smoke --user node \
		--security-opt no-new-privileges --cap-drop ALL "$BUILD_IMAGE" \
		sh -c 'id -u; node --version && npm --version && git --version && echo ok' 2>&1); then
		fail build "tools failed in $BUILD_IMAGE: $out"
		return
	fi
	uid=$(printf '%s\n' "$out" | head -n1)
	if [ "$uid" = 0 ] || ! [[ $uid =~ ^[0-9]+$ ]]; then
		fail build "user node has uid '$uid', want non-root"
	elif [ "$(printf '%s\n' "$out" | tail -n1)" != ok ]; then
		fail build "unexpected output: $out"
	else
		pass "build: user node (uid $uid); $(printf '%s' "$out" | sed -n '2p;4p' | tr '\n' ' ')" \
			"npm $(printf '%s\n' "$out" | sed -n 3p)"
	fi
}

test_serve
test_build
echo "smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
