#!/usr/bin/env bash
# fuzz.sh: runs the libFuzzer harnesses built into build/fuzz/bin (docs/fuzzing.md).
#   scripts/fuzz.sh smoke          each harness over its seed corpus once (seconds)
#   scripts/fuzz.sh run SECONDS    each harness for SECONDS, one after the other, then a table of
#                                  executions, exec/s, cov and ft (libFuzzer's final figures)
# FUZZ_ONLY=spec,rules runs only those. One process at a time under nice, 2 GiB RSS cap: the
# machine stays usable. New inputs go to build/fuzz/corpus/<name>, crashes to
# build/fuzz/artifacts/<name>/, the output to build/fuzz/logs/<name>.log (<name>.smoke.log).
set -uo pipefail

B=${FUZZ_DIR:-build/fuzz} # another build of the harnesses: FUZZ_DIR=build/fuzz-x
mode=${1:-}
secs=${2:-600}
case $mode in
smoke | run) ;;
*)
	echo "usage: $0 smoke | run SECONDS" >&2
	exit 2
	;;
esac

names=()
for bin in "$B"/bin/fuzz_*; do
	[ -x "$bin" ] || continue
	n=${bin##*/fuzz_}
	if [ -n "${FUZZ_ONLY:-}" ] && [[ ",$FUZZ_ONLY," != *",$n,"* ]]; then
		continue
	fi
	names+=("$n")
done
if [ ${#names[@]} -eq 0 ]; then
	echo "fuzz: no harness in $B/bin (make fuzz-build)" >&2
	exit 1
fi

# The seeds of one harness: the committed corpus (hand seeds and every input that once crashed),
# the tests' own inputs, and what fuzz-seeds generates with the tests' archive builders.
seed() {
	local n=$1 d=$B/seeds/$1
	rm -rf "$d" && mkdir -p "$d" || return 1
	if [ -d "fuzz/corpus/$n" ]; then cp fuzz/corpus/"$n"/* "$d"/ 2>/dev/null; fi
	case $n in
	spec)
		for f in tests/unit/manifests/*/* examples/*.yaml; do
			cp "$f" "$d/$(echo "$f" | tr / _)"
		done
		;;
	esac
	"$B"/bin/fuzz-seeds "$n" "$d" || return 1
	[ -n "$(ls -A "$d")" ] || { echo "fuzz: $n has no seeds" >&2; return 1; }
}

# Per-harness libFuzzer options: inputs as large as their formats need.
opts() {
	case $1 in
	archive | multipart) echo "-max_len=65536" ;;
	nginx | rules) echo "-max_len=16384" ;;
	*) echo "-max_len=8192" ;;
	esac
}

# The apiserver harnesses run the server's threads beside the fuzzer: a per-input leak check
# stops the world each time one of them still holds memory (6x slower). They fuzz without it;
# then their whole corpus runs once with it, which finds the leak of any path the run covered.
leak_pass() {
	case $1 in
	multipart | webhook) return 0 ;;
	*) return 1 ;;
	esac
}

mkdir -p "$B/logs"
# The harnesses' scratch directories (fuzz/lib/fuzzlib.h): in memory when /dev/shm exists, and
# removed here, since a crashed harness cannot remove its own.
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
export FUZZ_SCRATCH
FUZZ_SCRATCH=$(mktemp -d "$shm/lp-fuzz-run-XXXXXX") || exit 1
trap 'rm -rf "$FUZZ_SCRATCH"' EXIT
failed=0
rows=()
for n in "${names[@]}"; do
	seed "$n" || { failed=1; continue; }
	log=$B/logs/$n.log
	mkdir -p "$B/artifacts/$n"
	common=(-rss_limit_mb=2048 -timeout=30 -artifact_prefix="$B/artifacts/$n/" $(opts "$n"))
	# the tokens of the input's format (fuzz/dict/<name>.dict): mutations that parse further
	if [ -f "fuzz/dict/$n.dict" ]; then common+=(-dict="fuzz/dict/$n.dict"); fi
	if [ "$mode" = smoke ]; then
		log=$B/logs/$n.smoke.log
		if "$B/bin/fuzz_$n" "${common[@]}" -runs=0 "$B/seeds/$n" >"$log" 2>&1; then
			echo "fuzz-smoke: $n: $(ls "$B/seeds/$n" | wc -l) seeds ok"
		else
			echo "!! fuzz-smoke: $n FAILED (see $log)"
			tail -n 30 "$log"
			failed=1
		fi
		continue
	fi
	mkdir -p "$B/corpus/$n"
	echo "== fuzz: $n for ${secs}s (log: $log)"
	leaks=()
	if leak_pass "$n"; then leaks=(-detect_leaks=0); fi
	nice -n 10 "$B/bin/fuzz_$n" "${common[@]}" "${leaks[@]}" -max_total_time="$secs" \
		-print_final_stats=1 "$B/corpus/$n" "$B/seeds/$n" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && leak_pass "$n"; then
		echo "== fuzz: $n: its corpus once more, with the leak check (log: $log.leaks)"
		nice -n 10 "$B/bin/fuzz_$n" "${common[@]}" -runs=0 "$B/corpus/$n" "$B/seeds/$n" \
			>"$log.leaks" 2>&1
		rc=$?
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
	verdict=ok
	if [ $rc -ne 0 ]; then
		verdict="CRASH (rc $rc, $(ls "$B/artifacts/$n" | head -n 1))"
		failed=1
	fi
	rows+=("$(printf '%-10s %12s %8s %7s %7s %12s  %s' "$n" "${execs:-?}" "${eps:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$verdict")")
	echo "${rows[-1]}"
done

if [ "$mode" = run ]; then
	{
		echo "fuzz: ${secs}s per harness"
		printf '%-10s %12s %8s %7s %7s %12s  %s\n' harness execs exec/s cov ft corpus result
		printf '%s\n' "${rows[@]}"
	} | tee "$B/fuzz-summary.txt"
fi
exit $failed
