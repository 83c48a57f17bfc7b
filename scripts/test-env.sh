#!/usr/bin/env bash
# The test environment: a reachable Docker engine and the two local test images.
#   scripts/test-env.sh up       start dockerd if nothing answers; build missing images
#   scripts/test-env.sh down     stop dockerd, but only if `up` started it
#   scripts/test-env.sh status   show what is up
#
# Images (names overridable):
#   LAUNCHPAD_TEST_SERVE_IMAGE  launchpad-test/nginx:local   Debian nginx laid out like nginx:alpine
#   LAUNCHPAD_TEST_BUILD_IMAGE  launchpad-test/node:local    node, npm, git, user node (uid 1000)
#   LAUNCHPAD_TEST_BASE_IMAGE   launchpad-test/debian:local  plain bookworm (debian:bookworm-slim's
#                               stand-in: the Dockerfile's base in the compose test)
#   LAUNCHPAD_TEST_TRAEFIK_IMAGE launchpad-test/traefik:local  Traefik built from source
#                               (scripts/go-tools.sh)
# They are built with debootstrap from the Debian mirror this machine's apt uses (override with
# LAUNCHPAD_TEST_MIRROR), never pulled from a registry. The root filesystems are cached as
# tarballs in LAUNCHPAD_TEST_CACHE_DIR (default /var/cache/launchpad-test), keyed by a hash of the
# recipe in scripts/images/, so rebuilding after `docker rmi` takes seconds.
# When nothing answers at LAUNCHPAD_DOCKER_SOCKET, `up` starts dockerd (extra flags from
# LAUNCHPAD_TEST_DOCKERD_ARGS) and records it in LAUNCHPAD_TEST_STATE_DIR (/run/launchpad-test).
# A second engine beside a running one needs its own --data-root, --exec-root, --pidfile and
# --bridge=<own bridge>: never --bridge=none, with which dockerd deletes the host's docker0.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
SOCK=${LAUNCHPAD_DOCKER_SOCKET:-/var/run/docker.sock}
STATE_DIR=${LAUNCHPAD_TEST_STATE_DIR:-/run/launchpad-test}
CACHE_DIR=${LAUNCHPAD_TEST_CACHE_DIR:-/var/cache/launchpad-test}
SERVE_IMAGE=${LAUNCHPAD_TEST_SERVE_IMAGE:-launchpad-test/nginx:local}
BUILD_IMAGE=${LAUNCHPAD_TEST_BUILD_IMAGE:-launchpad-test/node:local}
BASE_IMAGE=${LAUNCHPAD_TEST_BASE_IMAGE:-launchpad-test/debian:local}
SUITE=${LAUNCHPAD_TEST_SUITE:-bookworm}
DOCKERD_TIMEOUT=60
PIDFILE=$STATE_DIR/dockerd.pid
DOCKERD_LOG=$STATE_DIR/dockerd.log
export DOCKER_HOST=unix://$SOCK

say() { echo "test-env: $*"; }
die() {
	echo "test-env: error: $*" >&2
	exit 1
}

docker_answers() {
	[ -S "$SOCK" ] && [ "$(curl -s -m 5 --unix-socket "$SOCK" http://x/_ping 2>/dev/null)" = OK ]
}

# The pid in the state file, if that process is still a dockerd.
our_dockerd_pid() {
	local pid
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
	echo "$pid"
}

start_dockerd() {
	local pid i
	command -v dockerd >/dev/null || die "dockerd not found; run scripts/install-deps.sh (as root)"
	[ "$(id -u)" = 0 ] || die "Docker at $SOCK does not answer and starting dockerd needs root"
	mkdir -p "$STATE_DIR"
	say "Docker at $SOCK does not answer; starting dockerd (log: $DOCKERD_LOG)"
	# setsid: dockerd must outlive this script and not get the terminal's signals.
	# LAUNCHPAD_TEST_DOCKERD_ARGS: extra flags, e.g. a separate --data-root for a second engine.
	# shellcheck disable=SC2086 # word splitting of the extra flags is intended
	setsid dockerd --host "unix://$SOCK" ${LAUNCHPAD_TEST_DOCKERD_ARGS:-} >>"$DOCKERD_LOG" 2>&1 \
		</dev/null &
	pid=$!
	echo "$pid" >"$PIDFILE"
	for ((i = 0; i < DOCKERD_TIMEOUT * 2; i++)); do
		docker_answers && {
			say "dockerd up (pid $pid)"
			return 0
		}
		kill -0 "$pid" 2>/dev/null || {
			rm -f "$PIDFILE"
			tail -n 30 "$DOCKERD_LOG" >&2
			die "dockerd exited during start-up (log above, full log: $DOCKERD_LOG)"
		}
		sleep 0.5
	done
	tail -n 30 "$DOCKERD_LOG" >&2
	die "dockerd did not answer on $SOCK within ${DOCKERD_TIMEOUT}s (log: $DOCKERD_LOG)"
}

# The first bookworm mirror in apt's sources (deb822 .sources and one-line .list) that answers.
find_mirror() {
	local f uri candidates=()
	if [ -n "${LAUNCHPAD_TEST_MIRROR:-}" ]; then
		echo "$LAUNCHPAD_TEST_MIRROR"
		return 0
	fi
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# One stanza per paragraph: print its URIs when its Suites include the suite itself.
		while read -r uri; do candidates+=("$uri"); done < <(awk -v suite="$SUITE" '
			function flush() {
				if (ok && !off) for (i = 1; i <= n; i++) print u[i]
				n = 0; ok = 0; off = 0
			}
			/^[ \t]*$/ { flush(); next }
			/^URIs:/ { for (i = 2; i <= NF; i++) u[++n] = $i }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
			/^Enabled:[ \t]*[Nn]o/ { off = 1 }
			END { flush() }' "$f")
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		while read -r uri; do candidates+=("$uri"); done < <(awk -v suite="$SUITE" '
			$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == suite) print $i }' "$f")
	done
	candidates+=(http://deb.debian.org/debian)
	for uri in "${candidates[@]}"; do
		uri=${uri%/}
		if curl -fsI -m 10 "$uri/dists/$SUITE/Release" >/dev/null 2>&1; then
			echo "$uri"
			return 0
		fi
	done
	return 1
}

# A recipe's cache key: everything under scripts/images/<kind> plus the shared builder.
recipe_key() {
	local kind=$1
	(cd "$here/images" && find build-rootfs.sh "$kind" -type f | LC_ALL=C sort |
		xargs sha256sum && echo "suite=$SUITE" &&
		{ [ "$kind" != node ] || echo "host-node=$(node --version 2>/dev/null)" \
			"npm=$(npm --version 2>/dev/null)" \
			"ca=$(sha256sum /etc/ssl/certs/ca-certificates.crt 2>/dev/null | cut -c1-16)"; }) |
		sha256sum | cut -c1-16
}

image_key() {
	docker image inspect -f '{{index .Config.Labels "launchpad-test.recipe"}}' "$1" 2>/dev/null
}

# Whether the image is missing, or is one of ours built from an older recipe.
image_needed() {
	local image=$1 key=$2 have
	docker image inspect "$image" >/dev/null 2>&1 || return 0
	have=$(image_key "$image")
	[ -n "$have" ] && [ "$have" != "<no value>" ] && [ "$have" != "$key" ]
}

import_image() {
	local kind=$1 image=$2 key=$3 tarball=$4 tmp_tag out old
	old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
	local -a changes
	case $kind in
	nginx) changes=(--change 'CMD ["nginx","-g","daemon off;"]' --change 'EXPOSE 80') ;;
	node) changes=(--change 'CMD ["node"]' --change 'WORKDIR /'
		--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt') ;;
	debian) changes=(--change 'CMD ["bash"]') ;;
	esac
	changes+=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
		--change "LABEL org.opencontainers.image.description=\"LaunchPad test image ($kind)\"")
	# `docker import` cannot set STOPSIGNAL (nginx stops gracefully on SIGQUIT), so a one-line
	# build on top of the imported layer adds it, and the recipe label, without any pull.
	tmp_tag=launchpad-test/import-$kind:$key
	docker import "${changes[@]}" "$tarball" "$tmp_tag" >/dev/null ||
		die "docker import of $tarball failed"
	if ! out=$({
		echo "FROM $tmp_tag"
		[ "$kind" = nginx ] && echo "STOPSIGNAL SIGQUIT"
		echo "LABEL launchpad-test.recipe=$key"
	} | DOCKER_BUILDKIT=0 docker build -q -t "$image" - 2>&1); then
		docker rmi "$tmp_tag" >/dev/null 2>&1 || true
		die "finishing $image failed: $out"
	fi
	docker rmi "$tmp_tag" >/dev/null
	# The image this replaces (older recipe) goes too, unless a container still uses it.
	[ -z "$old" ] || docker rmi "$old" >/dev/null 2>&1 || true
	say "imported $image ($(docker image inspect -f '{{.Size}}' "$image" |
		awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

build_images() {
	local -a kinds=() images=() keys=() pids=()
	local kind image key tarball mirror i rc=0 t0
	for kind in nginx node debian; do
		case $kind in
		nginx) image=$SERVE_IMAGE ;;
		node) image=$BUILD_IMAGE ;;
		debian) image=$BASE_IMAGE ;;
		esac
		key=$(recipe_key "$kind")
		if image_needed "$image" "$key"; then
			kinds+=("$kind")
			images+=("$image")
			keys+=("$key")
		fi
	done
	[ ${#kinds[@]} -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || die "images ${images[*]} are missing; building them needs root"
	mkdir -p "$CACHE_DIR"
	t0=$SECONDS
	# Cold builds run in parallel: each is mostly download and dpkg time.
	for i in "${!kinds[@]}"; do
		tarball=$CACHE_DIR/${kinds[$i]}-$SUITE-${keys[$i]}.tar
		if [ -f "$tarball" ]; then
			say "${images[$i]}: using cached rootfs $tarball"
			pids+=("")
			continue
		fi
		if [ -z "${mirror:-}" ]; then
			mirror=$(find_mirror) || die "no reachable Debian mirror for $SUITE in apt's" \
				"sources; set LAUNCHPAD_TEST_MIRROR"
		fi
		say "${images[$i]}: building rootfs with debootstrap (a few minutes, cached after)"
		"$here/images/build-rootfs.sh" "${kinds[$i]}" "$tarball" "$mirror" &
		pids+=("$!")
	done
	for i in "${!kinds[@]}"; do
		[ -n "${pids[$i]}" ] || continue
		wait "${pids[$i]}" || rc=1
	done
	[ $rc = 0 ] || die "building a test image's rootfs failed (see above)"
	for i in "${!kinds[@]}"; do
		import_image "${kinds[$i]}" "${images[$i]}" "${keys[$i]}" \
			"$CACHE_DIR/${kinds[$i]}-$SUITE-${keys[$i]}.tar"
	done
	# Drop cache entries of older recipes so the cache does not grow without bound.
	for i in "${!kinds[@]}"; do
		find "$CACHE_DIR" -maxdepth 1 -name "${kinds[$i]}-$SUITE-*.tar" \
			! -name "*-${keys[$i]}.tar" -delete
	done
	say "images ready in $((SECONDS - t0))s"
}

cmd_up() {
	if ! docker_answers; then
		start_dockerd
	fi
	command -v docker >/dev/null || die "docker CLI not found; run scripts/install-deps.sh"
	# Concurrent `up`s (make test in two shells) must not build the same image twice.
	mkdir -p "$STATE_DIR"
	exec 9>"$STATE_DIR/up.lock"
	flock 9
	build_images
	# Traefik (the edge) is built from the Go module proxy at its pinned version, once.
	"$here/go-tools.sh" image traefik
	flock -u 9
	say "ready: docker at $SOCK, images $SERVE_IMAGE $BUILD_IMAGE ${LAUNCHPAD_TEST_TRAEFIK_IMAGE:-launchpad-test/traefik:local}"
}

cmd_down() {
	local pid i
	if ! pid=$(our_dockerd_pid); then
		rm -f "$PIDFILE"
		say "nothing to stop (dockerd was not started by test-env.sh)"
		return 0
	fi
	say "stopping dockerd (pid $pid)"
	kill -TERM "$pid"
	for ((i = 0; i < 60; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -0 "$pid" 2>/dev/null && die "dockerd (pid $pid) did not stop within 30s"
	rm -f "$PIDFILE"
	say "dockerd stopped"
}

cmd_status() {
	local image pid rc=0
	if docker_answers; then
		if pid=$(our_dockerd_pid); then
			echo "docker:  up at $SOCK (started by test-env.sh, pid $pid)"
		else
			echo "docker:  up at $SOCK (not started by test-env.sh)"
		fi
		for image in "$SERVE_IMAGE" "$BUILD_IMAGE" "$BASE_IMAGE"; do
			if docker image inspect "$image" >/dev/null 2>&1; then
				echo "image:   $image present"
			else
				echo "image:   $image missing"
				rc=1
			fi
		done
	else
		echo "docker:  not answering at $SOCK"
		rc=1
	fi
	echo "cache:   $CACHE_DIR $(du -sh "$CACHE_DIR" 2>/dev/null | cut -f1 || echo empty)"
	return $rc
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac
