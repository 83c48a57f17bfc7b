#!/usr/bin/env bash
# The README's quick start, run as written, so it cannot drift from the product (issue 13.17).
#
# Its first block must still be `make run` and `make test`: `make run` is started for real (in
# its own process group, as a second instance beside anything else on the engine), and every
# later ```sh block of the section runs in order, in a fresh shell each, from the repository
# root. The only rewrites make it run beside another install: the data dir (.data/), the API's
# address (127.0.0.1:8080) and the edge's port (http://<name>.localhost/ gets :PORT). A block
# passes when it exits 0; then what it promised is checked: both example sites answer through
# Traefik with their own pages, under two different slugs. Everything it started is removed.
set -uo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
README=$ROOT/README.md
INSTANCE=${LAUNCHPAD_DOCS_INSTANCE:-readme}
SOCK=${LAUNCHPAD_DOCKER_SOCKET:-/var/run/docker.sock}
START_MAX_S=600 # a first `make run` may build the dashboard and the images
LIVE_MAX_S=60

tmp=$(mktemp -d /tmp/launchpad-readme.XXXXXX)
run_pid=
passed=0
failed=0

pass() {
	echo "readme: PASS $*"
	passed=$((passed + 1))
}
fail() {
	echo "readme: FAIL $1: ${*:2}" >&2
	failed=$((failed + 1))
}
finish() {
	echo "readme: $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

cleanup() {
	if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
		# Ctrl-C, as a user would: run-local.sh stops the controller and Traefik.
		kill -INT -- "-$run_pid" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$run_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$run_pid" 2>/dev/null
	fi
	LAUNCHPAD_INSTANCE=$INSTANCE LAUNCHPAD_DATA_DIR=$tmp/data scripts/run-local.sh stop \
		>/dev/null 2>&1 || true
	rm -rf "$tmp" /tmp/hello-http /tmp/hello-http.zip
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nothing listens on (bash's /dev/tcp: connection refused means free).
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# The ```sh blocks of the "## Quick start" section, NUL-separated, in order.
quick_start_blocks() {
	awk '
		/^## / { in_qs = ($0 == "## Quick start") ; next }
		!in_qs { next }
		/^```sh$/ { in_block = 1; block = ""; next }
		/^```$/ && in_block { in_block = 0; printf "%s%c", block, 0; next }
		in_block { block = block $0 "\n" }
	' "$README"
}

if [ "$(curl -s -m 5 --unix-socket "$SOCK" http://x/_ping 2>/dev/null)" != OK ]; then
	fail docker "Docker does not answer at $SOCK (scripts/test-env.sh up)"
	finish
fi

blocks=()
while IFS= read -r -d '' b; do
	blocks+=("$b")
done < <(quick_start_blocks)
if [ "${#blocks[@]}" -lt 2 ]; then
	fail sections "README.md has ${#blocks[@]} sh block(s) under \"## Quick start\", want 2 or more"
	finish
fi
first=$(printf '%s' "${blocks[0]}" | sed -e 's/#.*//' -e 's/[[:space:]]*$//' | grep -v '^$')
if [ "$first" != $'make run\nmake test' ]; then
	fail first-block "the quick start's first block is no longer \`make run\` and \`make test\`;" \
		"update tests/docs/readme.sh with it: $(printf '%q' "$first")"
	finish
fi
pass "the quick start is two commands: make run, make test"

API_PORT=$(free_port) && HTTP_PORT=$(free_port) && EDGE_API_PORT=$(free_port) || {
	fail ports "no free TCP port found"
	finish
}
mkdir -p "$tmp/data" "$tmp/home"

# The platform, as `make run` starts it, in its own process group so Ctrl-C reaches all of it.
echo "readme: make run (instance $INSTANCE; API :$API_PORT, edge :$HTTP_PORT)"
setsid env LAUNCHPAD_INSTANCE="$INSTANCE" LAUNCHPAD_DATA_DIR="$tmp/data" \
	LAUNCHPAD_LISTEN="127.0.0.1:$API_PORT" LAUNCHPAD_HTTP_PORT="$HTTP_PORT" \
	LAUNCHPAD_EDGE_API="127.0.0.1:$EDGE_API_PORT" make --no-print-directory run \
	>"$tmp/make-run.log" 2>&1 &
run_pid=$!
up=0
for _ in $(seq 1 $((START_MAX_S * 5))); do
	kill -0 "$run_pid" 2>/dev/null || break
	if curl -fs -m 2 "http://127.0.0.1:$API_PORT/healthz" >/dev/null 2>&1 &&
		[ -s "$tmp/data/admin.token" ]; then
		up=1
		break
	fi
	sleep 0.2
done
if [ "$up" != 1 ]; then
	fail "make run" "the API did not answer within ${START_MAX_S} s; its output:"
	tail -n 40 "$tmp/make-run.log" >&2
	finish
fi
pass "make run: the API answers on :$API_PORT"

rewrite() {
	sed -e "s#\.data/#$tmp/data/#g" \
		-e "s#127\.0\.0\.1:8080#127.0.0.1:$API_PORT#g" \
		-e "s#\(http://[a-z0-9-]*\.localhost\)/#\1:$HTTP_PORT/#g"
}

for i in $(seq 1 $((${#blocks[@]} - 1))); do
	script=$(printf '%s' "${blocks[$i]}" | rewrite)
	if (cd "$ROOT" && HOME=$tmp/home bash -euo pipefail -c "$script") \
		>"$tmp/block-$i.out" 2>&1; then
		pass "block $((i + 1)) ($(printf '%s' "${blocks[$i]}" | head -n 1 | cut -c1-60)...)"
	else
		fail "block $((i + 1))" "exited non-zero; it ran:"
		printf '%s\n' "$script" | sed 's/^/    /' >&2
		sed 's/^/  | /' "$tmp/block-$i.out" >&2
	fi
done

# What the blocks promised. The CLI's example: hello, live, its page through the edge.
expect_page() { # name, text, what
	local body=""
	for _ in $(seq 1 $((LIVE_MAX_S * 5))); do
		body=$(curl -s -m 2 "http://$1.localhost:$HTTP_PORT/" 2>/dev/null)
		case $body in *"$2"*) pass "$3: http://$1.localhost answers with its page"; return ;; esac
		sleep 0.2
	done
	fail "$3" "http://$1.localhost:$HTTP_PORT/ did not serve \"$2\" in ${LIVE_MAX_S} s (got: ${body:0:200})"
}
grep -q "Hello from LaunchPad" "$tmp"/block-*.out &&
	pass "the README's own \`curl http://hello.localhost/\` printed the page" ||
	fail curl "no block printed the hello page"
expect_page hello "Hello from LaunchPad" "the CLI example"

# The HTTP example: a second site beside hello, under a slug the API drew.
token=$(cat "$tmp/data/admin.token")
list=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$API_PORT/api/deployments")
slugs=$(printf '%s' "$list" | grep -o '"slug":"[a-z0-9-]*"' | cut -d'"' -f4 | sort)
other=$(printf '%s\n' "$slugs" | grep -vx hello | head -n 1)
if [ "$(printf '%s\n' "$slugs" | wc -l)" = 2 ] && printf '%s\n' "$slugs" | grep -qx hello &&
	[ -n "$other" ]; then
	pass "two sites side by side: hello and $other"
	expect_page "$other" "hello over HTTP" "the HTTP example"
else
	fail collision "want two sites, hello and a drawn slug; the API lists: $slugs"
fi
finish
