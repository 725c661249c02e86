#!/usr/bin/env bash
# tests/both.sh RUN-ARGS... -- RUN-ARGS...: two tests/run.sh at once, each
# line of output prefixed with its first build directory's name; exits 1 if
# either failed. make test runs the plain and the ASan suites this way:
# most of an end-to-end test's time is spent waiting (timeouts, kills,
# emulated round trips), so two suites on 2 cores take about the time of
# the longer one (the tests hold their exact answers under load: see
# test_exact_loaded).
set -u
here=$(cd "$(dirname "$0")" && pwd)
a=() b=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=("$1"); shift; done
[ $# -gt 0 ] && shift
b=("$@")
if [ ${#a[@]} = 0 ] || [ ${#b[@]} = 0 ]; then
	echo "usage: tests/both.sh RUN-ARGS... -- RUN-ARGS..." >&2
	exit 2
fi
# name ARGS...: the first argument that is not an option, for the prefix.
name() {
	local x
	for x in "$@"; do
		case $x in -* | *,*) ;; *) [ -d "$x" ] && { basename "$x"; return; } ;; esac
	done
	echo run
}
run() {
	local tag
	tag=$(name "$@")
	set -o pipefail
	"$here/run.sh" "$@" 2>&1 | sed -u "s/^/[$tag] /"
}
run "${a[@]}" &
pa=$!
run "${b[@]}" &
pb=$!
rc=0
wait $pa || rc=1
wait $pb || rc=1
exit $rc
