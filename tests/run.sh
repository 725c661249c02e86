#!/usr/bin/env bash
# tests/run.sh [--unit-only] BUILD_DIR...
#
# For each build directory: every unit test binary BUILD_DIR/tests/test_*
# (60 s each), then, unless --unit-only, every end-to-end test
# tests/e2e/test_*.sh BUILD_DIR (600 s each). Each test's output goes to
# BUILD_DIR/test-logs/NAME.log and is shown when the test fails. Exit status
# 77 means skipped. Prints one "PASS|FAIL|SKIP name" line per test, then
# "N passed, N failed, N skipped"; exits 1 if anything failed.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)

unit_only=0
dirs=()
for a in "$@"; do
	case $a in
	--unit-only) unit_only=1 ;;
	-h | --help)
		sed -n '2,9s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	-*)
		echo "run.sh: unknown option $a" >&2
		exit 2
		;;
	*) dirs+=("${a%/}") ;;
	esac
done
if [ ${#dirs[@]} = 0 ]; then
	echo "usage: tests/run.sh [--unit-only] BUILD_DIR..." >&2
	exit 2
fi

passed=0 failed=0 skipped=0

# run NAME LOG LIMIT CMD...
run() {
	local name=$1 log=$2 limit=$3 rc=0 t0 secs
	shift 3
	t0=$(date +%s)
	timeout -k 10 "$limit" "$@" >"$log" 2>&1 </dev/null || rc=$?
	secs=$(($(date +%s) - t0))
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name ($(grep -m1 -i skip "$log" | cut -c1-100))"
		skipped=$((skipped + 1))
		;;
	*)
		[ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "  (killed after ${limit}s)" >>"$log"
		echo "FAIL $name (exit $rc, ${secs}s; log $log)"
		failed=$((failed + 1))
		sed 's/^/    | /' "$log" | tail -n 200
		;;
	esac
}

for d in "${dirs[@]}"; do
	if [ ! -d "$d" ]; then
		echo "FAIL $d (no such build directory)"
		failed=$((failed + 1))
		continue
	fi
	logs=$d/test-logs
	mkdir -p "$logs"
	for t in "$d"/tests/test_*; do
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then
			continue # the .d dependency files, a missing glob
		fi
		run "$t" "$logs/$(basename "$t").log" 60 "$t"
	done
	[ $unit_only = 1 ] && continue
	for t in "$here"/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		run "$n $d" "$logs/$n.log" 600 bash "$t" "$d"
	done
done

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
