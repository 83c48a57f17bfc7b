#!/usr/bin/env bash
# check-layers.sh: a layer includes only the layers below it. Run by `make lint`.
#   scripts/check-layers.sh [--root DIR]   check the tree (default: the repository)
#   scripts/check-layers.sh --self-test    prove the checker fails on planted violations
#
# The layers, lowest first (docs/conventions.md):
#   core                      base utilities (errors, buffers, config, files, layout, names)
#   store, docker, spec       the SQLite store, the Docker Engine client, the Site resource
#   pipeline                  sources -> build -> publish (uses docker and spec)
#   controller, apiserver, cli  the programs; the apiserver never includes the Docker client,
#                             the CLI talks to the API over HTTP (core and spec only)
# A file's layer is its folder; include/launchpad/<x>.h belongs to store, docker or spec for
# store.h, docker.h and spec.h, to core otherwise. tests/, bench/ and fuzz/ may include anything.
set -euo pipefail

declare -A allowed=(
	[core]="core"
	[store]="core store"
	[docker]="core docker"
	[spec]="core spec"
	[pipeline]="core docker spec pipeline"
	[controller]="core store docker spec pipeline controller"
	[apiserver]="core store spec pipeline apiserver"
	[cli]="core spec cli"
)

# The layer a path (relative to the root, or as written in an #include) belongs to; "" if none.
layer_of() {
	local p=${1#include/}
	case $p in
	launchpad/store.h) echo store ;;
	launchpad/docker.h) echo docker ;;
	launchpad/spec.h) echo spec ;;
	launchpad/*) echo core ;;
	*/*)
		local d=${p%%/*}
		[ -n "${allowed[$d]:-}" ] && echo "$d" || echo ""
		;;
	*) echo "" ;;
	esac
}

check_tree() {
	local root=$1 f rel own line inc target bad=0 n=0
	while IFS= read -r f; do
		rel=${f#"$root"/}
		own=$(layer_of "$rel")
		[ -n "$own" ] || continue
		n=$((n + 1))
		while IFS= read -r line; do
			inc=${line#*:}
			inc=${inc#*\"}
			inc=${inc%%\"*}
			target=$(layer_of "$inc")
			[ -n "$target" ] || continue
			case " ${allowed[$own]} " in
			*" $target "*) ;;
			*)
				echo "check-layers: $rel:${line%%:*}: includes \"$inc\" (layer $target);" \
					"layer $own may include only: ${allowed[$own]}" >&2
				bad=$((bad + 1))
				;;
			esac
		done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" || true)
	done < <(find "$root/include/launchpad" "${@/#/$root/}" -name '*.[ch]' 2>/dev/null | sort)
	if [ $bad -gt 0 ]; then
		echo "check-layers: $bad include(s) break the layering" >&2
		return 1
	fi
	echo "check-layers: $n files, every include goes down the layers"
}

self_test() {
	local t rc
	t=$(mktemp -d)
	trap 'rm -rf "$t"' RETURN
	mkdir -p "$t/include/launchpad" "$t/core" "$t/controller" "$t/apiserver"
	echo '#include "launchpad/error.h"' >"$t/core/ok.c"
	echo '#include "launchpad/docker.h"' >"$t/controller/ok.c"
	check_tree "$t" core controller apiserver >/dev/null ||
		{ echo "check-layers: self-test: a good tree was refused" >&2; return 1; }
	echo '#include "controller/controller.h"' >"$t/core/up.c"
	rc=0
	check_tree "$t" core controller apiserver >/dev/null 2>&1 || rc=$?
	[ $rc -ne 0 ] || { echo "check-layers: self-test: an upward include passed" >&2; return 1; }
	rm "$t/core/up.c"
	echo '#include "launchpad/docker.h"' >"$t/apiserver/docker.c"
	rc=0
	check_tree "$t" core controller apiserver >/dev/null 2>&1 || rc=$?
	[ $rc -ne 0 ] ||
		{ echo "check-layers: self-test: the apiserver reached the Docker client" >&2; return 1; }
	echo "check-layers: self-test: planted violations are caught"
}

root=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in
--self-test) self_test ;;
--root) check_tree "${2:?--root DIR}" "${!allowed[@]}" ;;
"") check_tree "$root" "${!allowed[@]}" ;;
*)
	echo "usage: $0 [--root DIR | --self-test]" >&2
	exit 2
	;;
esac
