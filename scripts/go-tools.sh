#!/usr/bin/env bash
# Test dependencies that exist nowhere on this machine but as Go source on the module proxy,
# built at pinned versions and cached by version, so later runs are offline:
#   scripts/go-tools.sh path NAME     build NAME if needed; print the binary's path
#   scripts/go-tools.sh image traefik make sure $LAUNCHPAD_TEST_TRAEFIK_IMAGE exists
#   scripts/go-tools.sh versions      print the pins
# NAME: traefik (the edge), compose (Docker Compose v2, run as a standalone docker-compose).
# LaunchPad itself is C: Go is only the build tool for these.
#
# Cache: $LAUNCHPAD_TEST_CACHE_DIR/tools/<name>-<version>/ (default /var/cache/launchpad-test).
# `go install` refuses both modules (their go.mod has replace directives), so each is built from
# a writable copy of its module directory, where the main module's replaces apply.
set -euo pipefail

# The pins: one place.
TRAEFIK_VERSION=v3.6.12
COMPOSE_VERSION=v2.40.3

CACHE_DIR=${LAUNCHPAD_TEST_CACHE_DIR:-/var/cache/launchpad-test}
TRAEFIK_IMAGE=${LAUNCHPAD_TEST_TRAEFIK_IMAGE:-launchpad-test/traefik:local}
export DOCKER_HOST=${DOCKER_HOST:-unix://${LAUNCHPAD_DOCKER_SOCKET:-/var/run/docker.sock}}

# The machine's Go (polyglot machines have it in /usr/local/go even when PATH lacks it).
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

say() { echo "go-tools: $*" >&2; }
die() {
	echo "go-tools: error: $*" >&2
	exit 1
}

# module version package ldflags binary-name
spec_of() {
	case $1 in
	traefik)
		echo "github.com/traefik/traefik/v3 $TRAEFIK_VERSION ./cmd/traefik" \
			"-X=github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION traefik"
		;;
	compose)
		echo "github.com/docker/compose/v2 $COMPOSE_VERSION ./cmd" \
			"-X=github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION docker-compose"
		;;
	*) die "unknown tool '$1' (traefik, compose)" ;;
	esac
}

# Build (or find) one tool; prints its path on stdout.
tool_path() {
	local name=$1 module version pkg ldflags bin dir out work src t0
	read -r module version pkg ldflags bin < <(spec_of "$name")
	dir=$CACHE_DIR/tools/$name-$version
	out=$dir/$bin
	if [ -x "$out" ]; then
		echo "$out"
		return 0
	fi
	[ -x "$GO" ] || die "go is not installed (needed once to build $name $version)"
	mkdir -p "$dir"
	# One builder at a time per tool: parallel test runs must not race on the cache entry.
	exec 8>"$dir/.lock"
	flock 8
	if [ -x "$out" ]; then
		echo "$out"
		return 0
	fi
	t0=$SECONDS
	say "building $name $version from the Go module proxy (once; cached in $dir)"
	src=$(GOFLAGS=-mod=mod "$GO" mod download -json "$module@$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$src" ] && [ -d "$src" ] || die "go mod download $module@$version failed"
	work=$(mktemp -d "${TMPDIR:-/var/tmp}/launchpad-$name.XXXXXX")
	# shellcheck disable=SC2064 # expand now: the trap must remove this build's own dir
	trap "rm -rf '$work'" EXIT
	cp -r "$src" "$work/src"
	chmod -R u+w "$work/src"
	(cd "$work/src" && CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" build -trimpath \
		-ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg") ||
		die "building $name $version failed"
	mv -f "$out.tmp" "$out"
	rm -rf "$work"
	trap - EXIT
	say "built $name $version in $((SECONDS - t0))s: $out"
	echo "$out"
}

# The Traefik image for compose and the tests: from scratch, the static binary plus CA roots.
traefik_image() {
	local bin work
	if docker image inspect "$TRAEFIK_IMAGE" >/dev/null 2>&1 &&
		[ "$(docker image inspect -f '{{index .Config.Labels "launchpad-test.version"}}' \
			"$TRAEFIK_IMAGE" 2>/dev/null)" = "$TRAEFIK_VERSION" ]; then
		return 0
	fi
	bin=$(tool_path traefik)
	work=$(mktemp -d "${TMPDIR:-/var/tmp}/launchpad-traefik-image.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" EXIT
	mkdir -p "$work/root/usr/local/bin" "$work/root/etc/ssl/certs" "$work/root/tmp"
	chmod 1777 "$work/root/tmp"
	install -m 0755 "$bin" "$work/root/usr/local/bin/traefik"
	[ -f /etc/ssl/certs/ca-certificates.crt ] &&
		install -m 0644 /etc/ssl/certs/ca-certificates.crt "$work/root/etc/ssl/certs/"
	tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
	docker import \
		--change 'ENV PATH=/usr/local/bin' \
		--change 'ENTRYPOINT ["/usr/local/bin/traefik"]' \
		--change 'EXPOSE 80 8080' \
		--change "LABEL launchpad-test.version=$TRAEFIK_VERSION" \
		--change "LABEL org.opencontainers.image.description=\"LaunchPad test image (Traefik $TRAEFIK_VERSION from source)\"" \
		"$work/rootfs.tar" "$TRAEFIK_IMAGE" >/dev/null || die "docker import of Traefik failed"
	rm -rf "$work"
	trap - EXIT
	say "imported $TRAEFIK_IMAGE (Traefik $TRAEFIK_VERSION)"
}

case ${1:-} in
path)
	tool_path "${2:?usage: $0 path traefik|compose}"
	;;
image)
	[ "${2:-}" = traefik ] || die "usage: $0 image traefik"
	traefik_image
	;;
versions)
	echo "traefik $TRAEFIK_VERSION"
	echo "compose $COMPOSE_VERSION"
	;;
*)
	echo "usage: $0 path traefik|compose | image traefik | versions" >&2
	exit 2
	;;
esac
