#!/usr/bin/env bash
# The seed's v1 pipeline, as its README put it: "stop and remove the old container, copy the
# files, start a new one". bench/bench_edge_load.c runs it beside LaunchPad's redeploys under the
# same load through the same Traefik, and counts the requests each loses.
#   scripts/bench/seed-v1.sh NAME SRC_DIR HTML_DIR IMAGE NETWORK [LABEL=VALUE ...]
# NAME: the container; SRC_DIR: the new files; HTML_DIR: what the container serves (bind-mounted
# read-only at nginx's default root); the labels route it (Traefik's) and own it (launchpad.*).
set -euo pipefail

name=${1:?usage: $0 NAME SRC_DIR HTML_DIR IMAGE NETWORK [LABEL ...]}
src=${2:?} html=${3:?} image=${4:?} network=${5:?}
shift 5
labels=()
for l in "$@"; do labels+=(--label "$l"); done

docker stop "$name" >/dev/null 2>&1 || true
docker rm "$name" >/dev/null 2>&1 || true
rm -rf "$html"
mkdir -p "$html"
cp -r "$src"/. "$html"/
docker run -d --name "$name" --network "$network" "${labels[@]}" \
	-v "$html:/usr/share/nginx/html:ro" "$image" >/dev/null
