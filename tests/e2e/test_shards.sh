#!/usr/bin/env bash
# test_shards: --shard I/N splits the permuted target space into N
# contiguous blocks of positions, [floor(I*T/N), floor((I+1)*T/N)).
#
# Dry runs, for several (targets, ports, seed, exclusions) and N in
# 1,2,3,4,7,16 (T from 3 to ~3,100 pairs, ragged ones included): every shard
# exits 0 with exactly its block's size (non-empty when T >= N); the shards
# in order, concatenated, are the unsharded dry run line for line (so as a
# set they cover it exactly once: same count, `sort | uniq -d` empty);
# shards differ; the same command twice prints the same bytes; another seed
# gives the same set in another order; no address is probed more than 5
# times in a row; with 4 shards of a /24 x 1 port, every shard touches both
# halves of the /24.
#
# Real scans: a mixed world scanned unsharded (--all), then as 4 shards
# run by GNU parallel (each with its own -o and --stats, fewer workers than
# the unsharded run), then through deploy/parallel/run-shards.sh: each merge
# (`cat`) must equal the unsharded answers and the world's truth exactly,
# and each shard's --stats must say "shard":"I/4".
#
# Bad --shard values (no --seed, 4/4, 1/0, x/2, -1/2, ...) exit 2.
# Skips (77) if GNU parallel is not installed.
# Usage: test_shards.sh BUILD_DIR
# engines: uring (what it checks is the coordinator's: the shards' blocks of
# positions, their files merged; every other test shows the engines answer alike)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
command -v parallel >/dev/null || rs_skip "GNU parallel is not installed (scripts/deps.sh installs it)"
trap world_down EXIT
net_up
T=$RS_TMP
export PARALLEL_HOME=$T/parallel-home # not ~/.parallel
ncase=0

# max_run FILE: the longest run of consecutive dry-run lines with the same
# address.
max_run() {
	dry_pairs "$1" | awk '{ r = ($1 == prev) ? r + 1 : 1; prev = $1; if (r > m) m = r } END { print m + 0 }'
}

# shard_case SEED "N..." ARGS...: the dry-run checks for targets/ports ARGS.
shard_case() {
	local seed=$1 ns=$2 base total n i lo hi want got
	shift 2
	ncase=$((ncase + 1))
	base=$T/case$ncase
	local what="--seed $seed $*"
	if ! dry_run "$base.all" --seed "$seed" "$@"; then
		rs_nok "unsharded dry run: $what"
		return
	fi
	total=$(wc -l <"$base.all")
	[ "$total" -gt 0 ] || rs_nok "unsharded dry run of $what is empty"
	if [ -z "$(dry_pairs "$base.all" | sort | uniq -d | head -1)" ]; then rs_pass; else
		rs_nok "unsharded dry run of $what lists a pair twice"
	fi
	if dry_run "$base.again" --seed "$seed" "$@" && cmp -s "$base.all" "$base.again"; then rs_pass; else
		rs_nok "two identical dry runs differ: $what"
	fi
	for n in $ns; do
		: >"$base.cat"
		for ((i = 0; i < n; i++)); do
			if ! dry_run "$base.$n.$i" --seed "$seed" --shard "$i/$n" "$@"; then
				rs_nok "dry run of shard $i/$n: $what"
				continue
			fi
			cat "$base.$n.$i" >>"$base.cat"
			lo=$((i * total / n))
			hi=$(((i + 1) * total / n))
			want=$((hi - lo))
			got=$(wc -l <"$base.$n.$i")
			if [ "$got" = "$want" ]; then rs_pass; else
				rs_nok "shard $i/$n of $what: $got pairs, want $want (positions [$lo, $hi) of $total)"
			fi
			if [ "$total" -ge "$n" ] && [ "$got" = 0 ]; then
				rs_nok "shard $i/$n of $what is empty although T=$total >= N=$n"
			fi
		done
		# As a set: the shards cover the unsharded run exactly once.
		if same_set "union of $n shards of $what vs unsharded" "$base.all" "$base.cat"; then rs_pass; else
			rs_nok "the $n shards of $what do not cover the unsharded dry run exactly once"
		fi
		# In order: shard I is block I of the unsharded order.
		if cmp -s "$base.all" "$base.cat"; then rs_pass; else
			rs_nok "shards 0..$((n - 1)) of $what, concatenated, are not the unsharded order (first difference: $(cmp "$base.all" "$base.cat" 2>&1 | head -1))"
		fi
		if [ "$n" -ge 2 ] && [ "$total" -ge "$n" ]; then
			if cmp -s "$base.$n.0" "$base.$n.1"; then
				rs_nok "shards 0/$n and 1/$n of $what are identical"
			else
				rs_pass
			fi
		fi
	done
}

# Ragged: 32 x 97 = 3104 pairs, not a multiple of 3, 7 or 16.
shard_case 5 "1 2 3 7 16" -p 1-97 127.0.0.0/27
# Another seed: the same pairs in another order.
if dry_run "$T/seed6" --seed 6 -p 1-97 127.0.0.0/27; then
	if same_set "seed 6 vs seed 5" "$T/case1.all" "$T/seed6" && ! cmp -s "$T/case1.all" "$T/seed6"; then rs_pass; else
		rs_nok "--seed 5 and --seed 6 must give the same pairs in different orders"
	fi
else
	rs_nok "dry run with --seed 6"
fi
# No host sees a burst: with 97 ports per address, a random order repeats
# an address 3 times in a row about 3 times in 3104 and 6 times with
# probability ~1e-4; address-major order would repeat it 97 times.
r=$(max_run "$T/case1.all")
if [ "$r" -le 5 ]; then rs_pass; else rs_nok "seed 5: an address is probed $r times in a row"; fi

# One port, a /24: each of 4 shards spreads over the whole range.
shard_case 11 "2 4 16" -p 22 127.0.0.0/24
for i in 0 1 2 3; do
	halves=$(dry_pairs "$T/case2.4.$i" | awk '{ split($1, q, "."); h[q[4] < 128]++ } END { print (0 in h) + (1 in h) }')
	if [ "$halves" = 2 ]; then rs_pass; else
		rs_nok "shard $i/4 of 127.0.0.0/24 x 22 touches only one half of the /24"
	fi
done

# A CIDR plus a range, a port list: (64 + 5) x 12 = 828 pairs.
shard_case 123 "3 7" -p 20-30,8080 127.1.0.0/26 127.2.0.5-127.2.0.9
# With exclusions: (64 - 8 - 1) x 40 = 2200 pairs.
shard_case 77 "3 5" -p 1-40 --exclude 127.0.0.8/29,127.0.0.33 127.0.0.0/26
# IPv4 and IPv6 together: 17 x 50 = 850 pairs.
shard_case 9 "2 7" -p 1-50 127.0.0.0/28 ::1
# Fewer pairs than shards: some shards are empty (and exit 0).
shard_case 1 "7" -p 22,23,24 127.0.0.1
# A big seed.
shard_case 18446744073709551615 "4" -p 80,443 127.3.0.0/25

# --shard 0/1 is the whole space.
if dry_run "$T/one" --seed 5 --shard 0/1 -p 1-97 127.0.0.0/27 && cmp -s "$T/one" "$T/case1.all"; then rs_pass; else
	rs_nok "--shard 0/1 differs from the unsharded dry run"
fi

# Bad --shard values are refused.
rs_check "--shard without --seed" refused 'shard' 'seed' -- --dry-run --shard 0/2 -p 22 127.0.0.1
rs_check "--shard without --seed (real scan)" refused 'shard' 'seed' -- --shard 1/2 -p 22 127.0.0.1
for s in 4/4 1/0 0/0 x/2 -1/2 1 /2 1/ 1/2/3 '' 1/2x; do
	rs_check "--shard '$s'" refused 'shard' -- --dry-run --seed 1 --shard "$s" -p 22 127.0.0.1
done

# Real scans: unsharded, then 4 shards through GNU parallel.
W=$T/world
NET=127.4.0.0/26
PORTS=2100-2107
world_gen "$W" --seed 4 --addrs $NET --ports $PORTS --open 30 --filtered 1.5 --unreachable 10 --closed-port 2103
world_is_mixed "$W"
world_up "$W"
common=(--all -q -c 64 -t 300 --retries 0 --seed 77 "$NET" -p "$PORTS")
if run_scan 60 "${common[@]}" -w 2 -o "$T/whole.jsonl" && check_scan "$W/truth.txt" "$T/whole.jsonl" "unsharded scan"; then
	rs_pass
else
	rs_nok "unsharded scan: ringscan ${common[*]} -w 2"
fi

rc=0
timeout -k 5 120 parallel --will-cite -q -j4 --halt now,fail=1 \
	"$RS" "${common[@]}" -w 1 --shard {}/4 -o "$T/shard{}.jsonl" --stats "$T/shard{}.stats" \
	::: 0 1 2 3 2>"$T/parallel.err" || rc=$?
if [ $rc = 0 ]; then
	cat "$T"/shard0.jsonl "$T"/shard1.jsonl "$T"/shard2.jsonl "$T"/shard3.jsonl >"$T/merged.jsonl"
	if check_scan "$W/truth.txt" "$T/merged.jsonl" "4 shards (GNU parallel), merged with cat"; then rs_pass; else
		rs_nok "4 shards through GNU parallel: the merged answers differ from the truth"
	fi
	if [ -f "$T/whole.jsonl.states" ] && cmp -s "$T/whole.jsonl.states" "$T/merged.jsonl.states"; then rs_pass; else
		rs_nok "4 shards through GNU parallel: the merged answers differ from the unsharded scan's"
	fi
	for i in 0 1 2 3; do
		if grep -q "\"shard\":\"$i/4\"" "$T/shard$i.stats" && grep -q '"targets":128,' "$T/shard$i.stats"; then
			rs_pass
		else
			rs_nok "--stats of shard $i/4 lacks \"shard\":\"$i/4\" or \"targets\":128: $(cat "$T/shard$i.stats")"
		fi
	done
else
	rs_nok "parallel ... ringscan ${common[*]} -w 1 --shard {}/4 ::: 0 1 2 3 -> exit $rc"
	tail -20 "$T/parallel.err" >&2
fi

# The same through the deploy script (local mode), output on stdout.
rc=0
RINGSCAN=$RS timeout -k 5 120 "$RS_ROOT/deploy/parallel/run-shards.sh" 4 "$T/deploy" -- \
	"${common[@]}" -w 1 >"$T/deploy.log" 2>&1 || rc=$?
if [ $rc = 0 ]; then
	cat "$T"/deploy/shard-*.jsonl >"$T/deploy.jsonl"
	if check_scan "$W/truth.txt" "$T/deploy.jsonl" "4 shards (deploy/parallel/run-shards.sh)"; then rs_pass; else
		rs_nok "deploy/parallel/run-shards.sh: the merged answers differ from the truth"
	fi
else
	rs_nok "deploy/parallel/run-shards.sh 4 $T/deploy -- ${common[*]} -w 1 -> exit $rc"
	tail -20 "$T/deploy.log" >&2
fi
world_down

rs_summary shards
