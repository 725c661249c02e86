#!/usr/bin/env bash
# test_cpulimit: the default worker count follows the cgroup's CPU quota
# (a container's limit), not the machine's cores.
#   Outside the namespace, as root: a new cgroup (v2 cpu.max, or v1
#   cpu.cfs_quota_us where the cpu controller is on v1) with a quota of
#   half a CPU; the test moves itself into it and runs the rest inside.
#   1. Without -w: one worker, --stats "cpu_limit":0.50, the summary says
#      "1 worker (cgroup CPU quota 0.50)", and the answers are exact.
#   2. With -w 2: two workers, "cpu_limit":null, exact answers.
# Skips as an ordinary user or where no cgroup with a CPU quota can be made.
# Usage: test_cpulimit.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"

# make_cgroup: a cgroup with half a CPU holding this shell; sets CG, CGUP.
make_cgroup() {
	local base=/sys/fs/cgroup
	[ "$(id -u)" = 0 ] || rs_skip "making a cgroup needs root"
	if [ -f $base/cgroup.controllers ] && grep -qw cpu $base/cgroup.controllers; then
		grep -qw cpu $base/cgroup.subtree_control 2>/dev/null ||
			rs_skip "the cpu controller is not enabled for $base's children (not changed here)"
		CG=$base/ringscan-test-$$ CGUP=$base/cgroup.procs
		mkdir "$CG" || rs_skip "cannot make $CG"
		echo "50000 100000" >"$CG/cpu.max"
		echo $$ >"$CG/cgroup.procs"
	elif [ -f $base/cpu/cpu.cfs_quota_us ]; then
		CG=$base/cpu/ringscan-test-$$ CGUP=$base/cpu/tasks
		mkdir "$CG" || rs_skip "cannot make $CG"
		echo 50000 >"$CG/cpu.cfs_quota_us"
		echo $$ >"$CG/tasks"
	else
		rs_skip "no cgroup cpu controller under $base"
	fi
}

if [ "${RS_IN_NS:-}" != 1 ]; then
	CG=
	trap '[ -z "$CG" ] || { echo $$ >"$CGUP"; rmdir "$CG"; }' EXIT
	make_cgroup
	rs_say "in $CG (half a CPU)"
fi
ns_reexec 240 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT

W=$RS_TMP/w
world_gen "$W" --seed 31 --addrs 127.1.0.0/26 --ports 3000-3003 --open 20 --filtered 2
world_up "$W"
# scan NAME ARGS...: a scan of the world, checked against its truth.
scan() {
	local name=$1
	shift
	"$RS" --all -t 300 --retries 0 --seed 5 --stats "$RS_TMP/$name.json" "$@" \
		127.1.0.0/26 -p 3000-3003 -o "$RS_TMP/$name.jsonl" 2>"$RS_TMP/$name.err" ||
		{ cat "$RS_TMP/$name.err" >&2; rs_fail "$name: ringscan $* failed"; }
	check_scan "$W/truth.txt" "$RS_TMP/$name.jsonl" "$name" || rs_fail "$name: answers differ"
}
nworkers() { grep -o '"pid":' "$RS_TMP/$1.json" | wc -l; }

scan default
[ "$(nworkers default)" = 1 ] || rs_fail "default: $(nworkers default) workers under half a CPU"
grep -q '"cpu_limit":0.50' "$RS_TMP/default.json" || rs_fail "default: no cpu_limit 0.50 in --stats"
grep -q '1 worker (cgroup CPU quota 0.50) x' "$RS_TMP/default.err" ||
	rs_fail "default: the summary does not name the quota: $(cat "$RS_TMP/default.err")"
scan chosen -w 2
[ "$(nworkers chosen)" = 2 ] || rs_fail "-w 2: $(nworkers chosen) workers"
grep -q '"cpu_limit":null' "$RS_TMP/chosen.json" || rs_fail "-w 2: cpu_limit not null"
rs_say "test_cpulimit: 1 worker under half a CPU, 2 with -w 2, answers exact"
