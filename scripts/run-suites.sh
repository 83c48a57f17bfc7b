#!/usr/bin/env bash
# run-suites.sh: run each Check test binary, keep going after a failure, and print one total.
#
# LP_SUITE_RETRIES=N (default 0) runs a failed suite up to N more times. The suites against the
# real engine and Traefik (make integration) use 1: on a loaded machine a health check can time
# out. A suite that fails every time still fails; one that passes on a rerun is named as flaky in
# the total, so the flake is seen, not hidden.
set -u
kind=$1; shift
retries=${LP_SUITE_RETRIES:-0}
failed=0; ran=0; flaky=()
for t in "$@"; do
	name=$(basename "$t")
	echo "== $kind: $name"
	ran=$((ran + 1))
	if "$t"; then
		continue
	fi
	ok=0
	for ((i = 1; i <= retries; i++)); do
		echo "?? $kind: $name failed; running it again ($i of $retries)"
		if "$t"; then
			ok=1
			break
		fi
	done
	if [ "$ok" = 1 ]; then
		echo "?? $kind: $name FLAKY: failed, then passed"
		flaky+=("$name")
	else
		echo "!! $kind: $name FAILED"
		failed=$((failed + 1))
	fi
done
echo "$kind: $ran suites, $failed failed${flaky:+, ${#flaky[@]} flaky (failed once, then passed: ${flaky[*]})}"
[ "$ran" -gt 0 ] || { echo "$kind: no test suites found" >&2; exit 1; }
[ "$failed" -eq 0 ]
