#!/usr/bin/env bash
# run-suites.sh: run each Check test binary, keep going after a failure, and print one total.
set -u
kind=$1; shift
failed=0; ran=0
for t in "$@"; do
	echo "== $kind: $(basename "$t")"
	ran=$((ran + 1))
	if ! "$t"; then
		echo "!! $kind: $(basename "$t") FAILED"
		failed=$((failed + 1))
	fi
done
echo "$kind: $ran suites, $failed failed"
[ "$ran" -gt 0 ] || { echo "$kind: no test suites found" >&2; exit 1; }
[ "$failed" -eq 0 ]
