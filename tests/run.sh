#!/usr/bin/env bash
# tests/run.sh [--unit-only] [--split K] [--engines LIST] BUILD_DIR... [--engines LIST BUILD_DIR...]...
#
# For each build directory: every unit test binary BUILD_DIR/tests/test_*
# (60 s each), then, unless --unit-only, every end-to-end test
# tests/e2e/test_*.sh BUILD_DIR (600 s each). Each test's output goes to
# BUILD_DIR/test-logs/NAME.log and is shown when the test fails. Exit status
# 77 means skipped. Prints one "PASS|FAIL|SKIP name" line per test, then
# "N passed, N failed, N skipped"; exits 1 if anything failed.
#
# --engines uring,epoll: the engine matrix for the build directories that
# follow it (up to the next --engines). Each end-to-end test runs once per
# engine, in the order given, with RS_ENGINE=ENGINE (tests/e2e/lib.sh's
# need_scanner then runs the scanner with --engine ENGINE), as "NAME BUILD
# [ENGINE]" with its log in NAME.ENGINE.log. A test with a line
# "# engine-independent" (or "# engine-independent: WHY"; it never scans,
# or picks its engines itself) runs once, without RS_ENGINE; one with
# "# engines: A,B [WHY]" runs only on those of the matrix's engines
# (skipped, saying so, if none); one with "# engines: split [WHY]" runs on
# one engine of the matrix, the (K + h)-th (modulo its size; h from the
# test's name, --split K, default 0): make test gives its two suites (plain
# and ASan) different K, so that such a test, long and checking what every
# engine must do alike, runs on each engine once, in one suite or the
# other; h spreads the split tests' ASan runs over the engines. Unit tests
# run once per build. Without --engines (build directories before the
# first one): one run per test, RS_ENGINE unset, markers ignored.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)

unit_only=0
split=0    # --split K
dirs=()    # the build directories, in order
dir_eng=() # for each, its matrix's engines, space-separated ('' = none)
engines=() # the engines of the last --engines
pending='' # an --engines not yet followed by a build directory
# set_engines LIST: the matrix's engines, comma- or space-separated, for the
# build directories that follow.
set_engines() {
	local e
	engines=()
	pending=$1
	for e in ${1//,/ }; do
		case $e in
		'' | *[!a-z]*)
			echo "run.sh: --engines: bad engine name '$e'" >&2
			exit 2
			;;
		esac
		case " ${engines[*]-} " in
		*" $e "*)
			echo "run.sh: --engines: $e given twice" >&2
			exit 2
			;;
		esac
		engines+=("$e")
	done
	if [ ${#engines[@]} = 0 ]; then
		echo "run.sh: --engines: no engine named" >&2
		exit 2
	fi
}
while [ $# -gt 0 ]; do
	case $1 in
	--unit-only) unit_only=1 ;;
	--split)
		case ${2-} in
		'' | *[!0-9]*)
			echo "run.sh: --split: want a number, got '${2-}'" >&2
			exit 2
			;;
		esac
		split=$2
		shift
		;;
	--engines)
		[ $# -ge 2 ] || {
			echo "run.sh: --engines: missing list (e.g. uring,epoll)" >&2
			exit 2
		}
		set_engines "$2"
		shift
		;;
	--engines=*) set_engines "${1#--engines=}" ;;
	-h | --help)
		sed -n '2,26s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	-*)
		echo "run.sh: unknown option $1" >&2
		exit 2
		;;
	*)
		dirs+=("${1%/}")
		dir_eng+=("${engines[*]-}")
		pending=''
		;;
	esac
	shift
done
if [ ${#dirs[@]} = 0 ] || [ -n "$pending" ]; then
	[ -z "$pending" ] || echo "run.sh: --engines $pending: no build directory after it" >&2
	echo "usage: tests/run.sh [--unit-only] [--split K] [--engines LIST] BUILD_DIR... [--engines LIST BUILD_DIR...]..." >&2
	exit 2
fi
unset RS_ENGINE # only the matrix sets it, test by test

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

# engines_line TEST: the engine list of TEST's "# engines: A,B [WHY]" line
# (A,B), empty if it has none.
engines_line() {
	sed -n 's/^# engines: *\([a-z,]*\).*/\1/p' "$1" | head -1
}

independent() { grep -Eq '^# engine-independent([:.( ].*)?$' "$1"; }

# test_engines TEST: the matrix's engines TEST runs on, in order: those
# also named on its "# engines: A,B" line, else all; for "# engines:
# split", one: the --split-th counted from a place the test's name picks.
test_engines() {
	local want e
	want=$(engines_line "$1")
	if [ -z "$want" ]; then
		echo "${engines[*]}"
		return
	fi
	if [ "$want" = split ]; then
		local h
		h=$(basename "$1" | cksum)
		echo "${engines[$(((split + ${h%% *}) % ${#engines[@]}))]}"
		return
	fi
	want=" ${want//,/ } "
	for e in "${engines[@]}"; do
		case $want in *" $e "*) echo "$e" ;; esac
	done
}

for i in "${!dirs[@]}"; do
	d=${dirs[$i]}
	read -ra engines <<<"${dir_eng[$i]}"
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
		# Without a matrix, and for tests that never scan (or pick
		# their engines themselves): once, with no RS_ENGINE, so that
		# "$RS" is the binary itself (cli_fuzz.py reads it to tell an
		# ASan build, whose shadow memory needs no RLIMIT_AS).
		if [ ${#engines[@]} = 0 ] || independent "$t"; then
			run "$n $d" "$logs/$n.log" 600 bash "$t" "$d"
			continue
		fi
		on=$(test_engines "$t")
		if [ -z "$on" ]; then
			echo "SKIP $n $d (for engines $(engines_line "$t") only; not in --engines ${engines[*]})"
			skipped=$((skipped + 1))
			continue
		fi
		for e in $on; do
			run "$n $d [$e]" "$logs/$n.$e.log" 600 env RS_ENGINE="$e" bash "$t" "$d"
		done
	done
done

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
