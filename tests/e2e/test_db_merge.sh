#!/usr/bin/env bash
# test_db_merge: ringscan merge combines the databases of --shard runs into
# one scan exactly.
#  1. A mixed world scanned as 3 shards (--shard i/3, --all, each its own
#     --db): merged, the one scan equals the ground truth and the answer set
#     of the unsharded scan, each pair once; its row is complete, shards
#     "0,1,2/3", the counts summed; export gives the union of the shards'
#     outputs.
#  2. Two shards of three: merged, but incomplete.
#  3. Refused (exit 2, OUT not left behind): the same shard twice (a copy,
#     or one file given twice), shards
#     of another seed or other ports, an existing OUT, an input that is no
#     inventory.
# engines: uring (what it checks is the coordinator's: sinks, the inventory, the
# Python wrapper; the engine only answers. test_db and test_db_resume run on
# both engines, and every other test shows the engines answer alike)
# Usage: test_db_merge.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
RSX=$RS_BIN # subcommands must come first; RS may be the engine wrapper
need_tools
command -v sqlite3 >/dev/null || rs_skip "sqlite3 (the command-line shell) not found"
trap world_down EXIT
T=$RS_TMP
W=$T/w
world_gen "$W" --seed 8 --addrs 127.3.0.0/25 --ports 3000-3011 --open 20 --filtered 1 --unreachable 5 \
	--closed-port 3002
world_is_mixed "$W"
world_up "$W"
ARGS=(--all -q -w 2 -t 300 --retries 1 --seed 77 127.3.0.0/25 -p 3000-3011)
q() { sqlite3 -batch "$@"; }
db_states() { q -separator ' ' "$1" "SELECT ip, port, state FROM results" | sort; }

# 1. Three shards, merged; and the unsharded scan.
for i in 0 1 2; do
	run_scan 120 "${ARGS[@]}" --shard $i/3 -o "$T/s$i.jsonl" --db "$T/s$i.db" || rs_fail "shard $i/3"
done
run_scan 120 "${ARGS[@]}" -o "$T/all.jsonl" --db "$T/all.db" || rs_fail "the unsharded scan"
"$RSX" merge "$T/m.db" "$T/s2.db" "$T/s0.db" "$T/s1.db" 2>"$T/m.err" || { cat "$T/m.err" >&2; rs_fail "merge"; }
grep -q "merged 3 shards into scan 1" "$T/m.err" || rs_fail "merge said: $(cat "$T/m.err")"
db_states "$T/m.db" >"$T/m.states"
compare "$W/truth.txt" "$T/m.states" || rs_fail "the merged scan is not the ground truth"
db_states "$T/all.db" >"$T/all.states"
cmp -s "$T/all.states" "$T/m.states" || rs_fail "the merged scan differs from the unsharded one"
row=$(q "$T/m.db" 'SELECT count(*), complete, shard_index, shard_count, shards, positions, n_open + n_closed + n_filtered + n_unreachable + n_error, seed FROM scans')
N=$(wc -l <"$W/truth.txt")
[ "$row" = "1|1|0|1|2,0,1/3|$N|$N|77" ] || rs_fail "the merged row: '$row'"
q "$T/m.db" 'SELECT cmdline FROM scans' | grep -q "merge $T/m.db $T/s2.db" || rs_fail "the merged row's command line"
"$RSX" export --db "$T/m.db" -o "$T/m.jsonl" || rs_fail "export of the merged scan"
cat "$T/s0.jsonl" "$T/s1.jsonl" "$T/s2.jsonl" >"$T/shards.jsonl"
same_set "export of the merged scan vs the shards' outputs" "$T/shards.jsonl" "$T/m.jsonl" ||
	rs_fail "the merged export is not the shards' outputs"
rs_say "ok: 3 shards merged: $N answers, each once, equal to the truth and to the unsharded scan ($row)"

# 2. Two of three: incomplete.
"$RSX" merge "$T/p.db" "$T/s0.db" "$T/s1.db" 2>/dev/null || rs_fail "merge of 2 of 3 shards"
[ "$(q "$T/p.db" 'SELECT complete, shards FROM scans')" = "0|0,1/3" ] || rs_fail "2 of 3: $(q "$T/p.db" 'SELECT complete, shards FROM scans')"
[ "$(q "$T/p.db" 'SELECT count(*) FROM results')" = "$(cat "$T/s0.jsonl" "$T/s1.jsonl" | wc -l)" ] || rs_fail "2 of 3: rows"
"$RSX" export --db "$T/p.db" -o /dev/null 2>"$T/p.err" || rs_fail "export of 2 of 3"
grep -q "incomplete" "$T/p.err" || rs_fail "export of an incomplete merge says nothing"
rs_say "ok: 2 of 3 shards merged: incomplete, and export says so"

# 3. Refusals.
run_scan 120 "${ARGS[@]/77/78}" --shard 1/3 -o "$T/o.jsonl" --db "$T/seed78.db" || rs_fail "shard of seed 78"
run_scan 120 "${ARGS[@]/3000-3011/3000-3010}" --shard 1/3 -o "$T/o.jsonl" --db "$T/ports.db" || rs_fail "shard of other ports"
printf 'junk junk junk junk junk junk junk junk junk junk junk junk junk junk junk junk\n' >"$T/junk.db"
cp "$T/s0.db" "$T/s0copy.db"
RS=$RSX refused "merge: inputs 1 and 2 are both shard 0/3" -- merge "$T/x.db" "$T/s0.db" "$T/s0copy.db"
RS=$RSX refused "merge: .*s0.db.*given twice" -- merge "$T/x.db" "$T/s0.db" "$T/s0.db"
RS=$RSX refused "merge: input 2 is not a shard of input 1's scan: the seed differs" -- merge "$T/x.db" "$T/s0.db" "$T/seed78.db"
RS=$RSX refused "merge: input 2 is not a shard of input 1's scan: the ports differ" -- merge "$T/x.db" "$T/s0.db" "$T/ports.db"
RS=$RSX refused "merge: input 2 is not a shard of input 1's scan: the shard counts differ" -- merge "$T/x.db" "$T/s0.db" "$T/all.db"
RS=$RSX refused "merge: .*junk.db" -- merge "$T/x.db" "$T/s0.db" "$T/junk.db"
RS=$RSX refused "merge: OUT.db: .*m.db.*exists" -- merge "$T/m.db" "$T/s0.db"
RS=$RSX refused "merge: input 1 is a merged scan already" -- merge "$T/x.db" "$T/m.db"
[ ! -e "$T/x.db" ] || rs_fail "a refused merge left its OUT behind"
rs_say "ok: merge refusals: exit 2, one line, OUT not left behind"
rs_say "test_db_merge: all checks passed"
