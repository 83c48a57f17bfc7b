#!/usr/bin/env bash
# `make bench`: run the benchmarks against the real engine and Traefik and print the one table
#   figure | goal | floor | measured (min / median / max of n) | ok
# Each benchmark prints its rows as "row|FIGURE|GOAL|FLOOR|MEASURED|OK" among its own detail
# (tests/lib/bench.h); this script keeps every benchmark's full output under a log directory,
# shows it as it runs (stderr), and prints the table once all have run (stdout).
#   scripts/bench-table.sh BUILD_DIR
# Settings: LAUNCHPAD_BENCH_SITES (1000: sites of the controller benchmark),
# LAUNCHPAD_BENCH_KILLS (20: self-heals), LAUNCHPAD_BENCH_TIMEOUT (900: seconds per benchmark).
set -uo pipefail

build=${1:?usage: $0 BUILD_DIR}
bin=$build/bench
sites=${LAUNCHPAD_BENCH_SITES:-1000}
limit=${LAUNCHPAD_BENCH_TIMEOUT:-900}
log=$(mktemp -d /tmp/lp-bench.XXXXXX)
start=$(date +%s)

run() {
	local name=$1 rc
	shift
	echo "== $name $*" >&2
	timeout "$limit" "$@" 2>&1 | tee "$log/$name.out" >&2
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "row|$name|-|-|failed (exit $rc): $log/$name.out|NO" >>"$log/$name.out"
	fi
}

run bench_api "$bin/bench_api"
run bench_edge "$bin/bench_edge"
LAUNCHPAD_BENCH_KILLS=${LAUNCHPAD_BENCH_KILLS:-20} run bench_controller "$bin/bench_controller" "$sites"

echo
echo "LaunchPad bench, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $(($(date +%s) - start)) s; logs in $log"
echo
cat "$log"/bench_api.out "$log"/bench_edge.out "$log"/bench_controller.out | awk -F'|' '
	BEGIN { print "| figure | goal | floor | measured (min / median / max) | ok |"; print "|---|---|---|---|---|" }
	$1 == "row" { printf "| %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6; if ($6 == "NO") bad++ }
	END { if (bad) printf "\n%d figure(s) miss their goal.\n", bad }'
