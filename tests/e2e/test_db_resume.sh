#!/usr/bin/env bash
# test_db_resume: --db keeps the exactly-once promise of the output under
# --resume (DESIGN.md invariant 5, docs/inventory.md).
#  1. A 49,152-probe mixed world scanned with --all --resume --db while the
#     coordinator (or its whole process group) is killed with SIGKILL at 5
#     random moments, each time resumed with the same command line: every
#     resume finds in the database every answer its checkpoint counts
#     (it refuses otherwise), and at the end the database holds every pair
#     once, equal to the ground truth and to the JSON lines output; one
#     scans row, complete, with the truth's counts.
#  2. Open only: one kill -9, then the resume: the open pairs, once each.
#  3. SIGINT: exit 130, the scan's row says interrupted and incomplete;
#     the resume completes it.
#  4. Refusals (exit 2, nothing changed, no packet): resuming a --db scan
#     without --db or with another database, and a scan begun without --db
#     with one.
# Usage: test_db_resume.sh BUILD_DIR
# engines: split (each engine once, plain or ASan: 28-31 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 480 "$0" "$@"
need_scanner "${1:-}"
RSX=$RS_BIN # subcommands must come first; RS may be the engine wrapper
need_tools
command -v sqlite3 >/dev/null || rs_skip "sqlite3 (the command-line shell) not found"
trap world_down EXIT
T=$RS_TMP
W=$T/w
# 2,048 addresses x 24 ports: 1% open, 2% filtered, 1% unreachable.
world_gen "$W" --seed 31 --addrs 127.21.0.0/21 --ports 7000-7023 --open 1 --filtered 2 --unreachable 1
world_up "$W"
N=$(wc -l <"$W/truth.txt")
[ "$N" = 49152 ] || rs_fail "world: $N pairs"
ARGS=(--all -q -t 1000 --retries 1 --seed 31 127.21.0.0/21 -p 7000-7023)
q() { sqlite3 -batch -cmd '.timeout 5000' "$@"; }
db_states() { q -separator ' ' "$1" "SELECT ip, port, state FROM results" | sort; }

# await_start PID FILE: until PID has a worker and FILE is not empty (30 s).
await_start() {
	for _ in $(seq 1 300); do
		pgrep -P "$1" >/dev/null && [ -s "$2" ] && return 0
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
}

# kill_run K OUT CK DB ARGS...: start a resumable scan, SIGKILL it (K odd:
# the coordinator; even: the process group) after a random moment.
kill_run() {
	local k=$1 out=$2 ck=$3 db=$4 ms pid
	shift 4
	# Odd: checkpoints every 250 ms; even: every 5 s, so that batches are
	# committed after the last checkpoint, which the resume must delete.
	local iv=$((k % 2 ? 250 : 5000))
	ms=$((k % 2 ? 200 + RANDOM % 1500 : 1000 + RANDOM % 1000))
	setsid "$RS" "$@" -w $((k % 2 ? 4 : 2)) -r 10000 --resume "$ck" --checkpoint-interval $iv \
		-o "$out" --db "$db" 2>"$T/k$k.err" &
	pid=$!
	await_start "$pid" "$ck"
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	if [ $((k % 2)) = 1 ]; then
		kill -KILL "$pid" 2>/dev/null || { cat "$T/k$k.err" >&2; rs_fail "kill $k: the scan had already ended"; }
	else
		kill -KILL -- "-$pid" 2>/dev/null || { cat "$T/k$k.err" >&2; rs_fail "kill $k: the scan had already ended"; }
	fi
	wait "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		pgrep -f -- "--resume $ck" >/dev/null || break
		sleep 0.1
	done
	pgrep -f -- "--resume $ck" >/dev/null && rs_fail "kill $k: processes left behind"
	[ -s "$ck" ] || rs_fail "kill $k: no checkpoint after ${ms} ms"
	grep -q '^db [1-9]' "$ck" || rs_fail "kill $k: the checkpoint names no scan of the database"
	local rows counted
	rows=$(q "$db" 'SELECT count(*) FROM results')
	counted=$(ck_answered "$ck")
	[ "$1" != --all ] || [ "$rows" -ge "$counted" ] ||
		rs_fail "kill $k: the database holds $rows rows, fewer than the $counted the checkpoint counts"
	[ "$rows" -le "$counted" ] || AHEAD=$((AHEAD + 1))
	rs_say "kill $k after ${ms} ms: the checkpoint counts $counted answers;" \
		"the database holds $rows rows"
}
AHEAD=0 # kills after which the database held answers the checkpoint did not count

# finish OUT CK DB ARGS...: resume to the end (exit 0).
finish() {
	local out=$1 ck=$2 db=$3
	shift 3
	run_scan 180 "$@" -w 2 -r 20000 --resume "$ck" -o "$out" --db "$db" ||
		rs_fail "the final resume failed"
}

# 1. Five kills -9 with --all.
out=$T/k.jsonl ck=$T/k.ck db=$T/k.db
seed=$(($(date +%s%N) % 32768))
RANDOM=$seed
rs_say "kill times drawn with RANDOM=$seed"
for k in 1 2 3 4 5; do
	kill_run $k "$out" "$ck" "$db" "${ARGS[@]}"
done
[ "$AHEAD" -gt 0 ] || rs_fail "no kill left answers committed after the last checkpoint (the resume's cut is untested)"
n=$(ck_answered "$ck")
if [ "$n" -le 0 ] || [ "$n" -ge "$N" ]; then rs_fail "the kills did not land mid-scan ($n answers)"; fi
finish "$out" "$ck" "$db" "${ARGS[@]}"
check_scan "$W/truth.txt" "$out" "the output after 5 kills" || rs_fail "the output is not the truth"
db_states "$db" >"$T/k.states"
compare "$W/truth.txt" "$T/k.states" || rs_fail "the database after 5 kills is not the ground truth"
"$RSX" export --db "$db" -o "$T/k.export" || rs_fail "export"
same_set "the database (exported) vs the output" "$out" "$T/k.export" ||
	rs_fail "the database is not the JSON lines output"
row=$(q "$db" 'SELECT count(*), sum(complete), sum(n_open + n_closed + n_filtered + n_unreachable + n_error), min(interrupted) FROM scans')
[ "$row" = "1|1|$N|0" ] || rs_fail "scans: '$row', want one complete scan of $N"
rs_say "ok: 5 kills -9 + resume: the database holds the $N answers once, equal to the truth and to the output"

# 2. Open only.
out=$T/o.jsonl ck=$T/o.ck db=$T/o.db
kill_run 1 "$out" "$ck" "$db" "${ARGS[@]:1}"
finish "$out" "$ck" "$db" "${ARGS[@]:1}"
grep ' open$' "$W/truth.txt" >"$T/truth.open"
db_states "$db" >"$T/o.states"
compare "$T/truth.open" "$T/o.states" || rs_fail "open only: the database is not the open pairs"
"$RSX" export --db "$db" -o "$T/o.export" || rs_fail "export (open only)"
same_set "open only: export vs output" "$out" "$T/o.export" || rs_fail "open only: the database is not the output"
rs_say "ok: open only, kill -9 + resume: the $(wc -l <"$T/truth.open") open pairs, once each"

# 3. SIGINT, then resume.
out=$T/i.jsonl ck=$T/i.ck db=$T/i.db
"$RS" "${ARGS[@]}" -w 2 -r 10000 --resume "$ck" -o "$out" --db "$db" 2>"$T/i.err" &
pid=$!
await_start "$pid" "$ck"
sleep 1
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || { cat "$T/i.err" >&2; rs_fail "SIGINT: exit $rc, want 130"; }
row=$(q "$db" 'SELECT complete, interrupted, ended IS NOT NULL, n_open + n_closed + n_filtered + n_unreachable + n_error FROM scans')
[ "$row" = "0|2|1|$(ck_answered "$ck")" ] || rs_fail "SIGINT: the scan's row: '$row'"
[ "$(q "$db" 'SELECT count(*) FROM results')" = "$(ck_answered "$ck")" ] ||
	rs_fail "SIGINT: the database does not hold what the checkpoint counts"
finish "$out" "$ck" "$db" "${ARGS[@]}"
db_states "$db" >"$T/i.states"
compare "$W/truth.txt" "$T/i.states" || rs_fail "SIGINT + resume: the database is not the truth"
[ "$(q "$db" 'SELECT complete, interrupted FROM scans')" = "1|0" ] || rs_fail "SIGINT + resume: the row is not complete"
rs_say "ok: SIGINT: exit 130, the row says interrupted; the resume completes the scan"

# 4. Refusals on unfinished checkpoints: one of a --db scan, one of a scan
# begun without --db (both killed -9).
out=$T/u.jsonl ck=$T/u.ck db=$T/u.db
kill_run 1 "$out" "$ck" "$db" "${ARGS[@]}"
"$RS" "${ARGS[@]}" -w 2 -r 10000 --resume "$T/n.ck" -o "$T/n.jsonl" 2>/dev/null &
pid=$!
await_start "$pid" "$T/n.ck"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
for _ in $(seq 1 50); do
	pgrep -f -- "--resume $T/n.ck" >/dev/null || break
	sleep 0.1
done
sums=$(md5sum "$out" "$ck" "$db" "$T/n.ck" | awk '{print $1}' | tr '\n' ' ')
syns=$(nft_syns)
refused "--resume:.*records a scan kept in an inventory.*--db" -- "${ARGS[@]}" --resume "$ck" -o "$out"
refused "--db:.*other.db.*does not exist" -- "${ARGS[@]}" --resume "$ck" -o "$out" --db "$T/other.db"
[ ! -e "$T/other.db" ] || rs_fail "a refused resume created its --db"
refused "--db:.*i.db.*holds no scan" -- "${ARGS[@]}" --resume "$ck" -o "$out" --db "$T/i.db"
refused "--db:.*begun without --db" -- "${ARGS[@]}" --resume "$T/n.ck" -o "$T/n.jsonl" --db "$T/n.db"
[ ! -e "$T/n.db" ] || rs_fail "a refused resume created its --db"
[ "$(md5sum "$out" "$ck" "$db" "$T/n.ck" | awk '{print $1}' | tr '\n' ' ')" = "$sums" ] || rs_fail "a refusal changed a file"
[ "$(nft_syns)" = "$syns" ] || rs_fail "the refusals sent $(($(nft_syns) - syns)) SYNs"
rs_say "ok: refusals: without --db, another database, --db for a scan begun without it"
rs_say "test_db_resume: all checks passed"
