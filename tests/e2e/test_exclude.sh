#!/usr/bin/env bash
# test_exclude: excluded means untouched (invariant 6).
#
# A mixed world on 127.6.0.0/26 x 3000-3003; 20 of its 64 addresses are
# excluded, with --exclude (an address, a CIDR, a range, and ::1, which is
# not a target) and --exclude-file (comments, blank lines, whitespace). An
# nft counter on the output hook counts every packet to the excluded
# addresses. Scans with several option sets (--all with 2 workers, the
# plain-descriptor mode at -c 1 with retries (lib.sh rs_plain_engine:
# compat for io_uring, else the engine itself), two shards, open-only to
# stdout) must leave that counter at 0, never name an excluded address,
# and answer every other pair exactly as the world's truth says. A dry run
# lists exactly the non-excluded pairs. Excluding everything exits 2
# ("empty"); a bad --exclude-file line exits 2 naming FILE:LINE; a missing
# file exits 2 naming it. Positive control at the end: the same scan of
# one excluded address without the exclusion moves the counter.
# Usage: test_exclude.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 180 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT
T=$RS_TMP

NET=127.6.0.0/26
PORTS=3000-3003
W=$T/world
world_gen "$W" --seed 6 --addrs $NET --ports $PORTS --open 30 --filtered 2 --unreachable 10 --closed-port 3002
world_is_mixed "$W"
world_up "$W"

EXCL=127.6.0.5,127.6.0.16/29,127.6.0.40-127.6.0.43,::1
cat >"$T/excl.txt" <<'EOF'
# never touch these
127.6.0.60
   127.6.0.32/30   # trailing comment

	127.6.0.50-127.6.0.51	
EOF
{
	echo 127.6.0.5
	ip4_seq 127.6.0.16 127.6.0.23
	ip4_seq 127.6.0.40 127.6.0.43
	echo 127.6.0.60
	ip4_seq 127.6.0.32 127.6.0.35
	ip4_seq 127.6.0.50 127.6.0.51
} | sort -u >"$T/excluded.txt"
[ "$(wc -l <"$T/excluded.txt")" = 20 ] || rs_fail "test bug: want 20 excluded addresses"

nft -f - <<EOF
table inet rsexcl {
	counter excl {
	}
	set excluded {
		type ipv4_addr
		flags interval
		elements = { $(paste -sd, "$T/excluded.txt") }
	}
	chain output {
		type filter hook output priority 0; policy accept;
		ip daddr @excluded counter name excl
	}
}
EOF
excl_packets() { nft list counter inet rsexcl excl | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

# The truth without the excluded addresses; the pairs a dry run must list.
awk 'NR == FNR { x[$1] = 1; next } !($1 in x)' "$T/excluded.txt" "$W/truth.txt" >"$T/truth.txt"
[ "$(wc -l <"$T/truth.txt")" = 176 ] || rs_fail "test bug: want 176 non-excluded pairs"
cut -d' ' -f1,2 "$T/truth.txt" | sort >"$T/pairs.txt"
grep ' open$' "$T/truth.txt" >"$T/open-truth.txt" || true

# no_excluded FILE: FILE names no excluded address.
no_excluded() {
	local hits
	hits=$(grep -oE '"ip":"[^"]*"' "$1" | cut -d'"' -f4 | sort -u | comm -12 - "$T/excluded.txt" | head -5)
	[ -z "$hits" ] && return 0
	rs_say "$1 names excluded addresses: $hits"
	return 1
}

# scan LABEL TRUTH OUT ARGS...: a real scan with the exclusions; its
# answers must equal TRUTH and name no excluded address.
scan() {
	local label=$1 truth=$2 out=$3
	shift 3
	if run_scan 60 "$@" --exclude "$EXCL" --exclude-file "$T/excl.txt" -o "$out" &&
		check_scan "$truth" "$out" "$label" && no_excluded "$out"; then
		rs_pass
	else
		rs_nok "$label: ringscan $* --exclude $EXCL --exclude-file excl.txt"
	fi
}

scan "--all, 2 workers" "$T/truth.txt" "$T/all.jsonl" --all -q -w 2 -c 64 -t 300 --retries 0 --seed 3 $NET -p $PORTS
plain=$(rs_plain_engine)
scan "$plain engine, -c 1, 1 retry" "$T/truth.txt" "$T/$plain.jsonl" \
	--all -q -w 1 -c 1 -t 200 --retries 1 --engine "$plain" --seed 4 $NET -p $PORTS
# Two shards, merged.
for i in 0 1; do
	run_scan 60 --all -q -w 1 -c 64 -t 300 --retries 0 --seed 5 --shard $i/2 $NET -p $PORTS \
		--exclude "$EXCL" --exclude-file "$T/excl.txt" -o "$T/shard$i.jsonl" || rs_nok "shard $i/2 with exclusions"
done
cat "$T/shard0.jsonl" "$T/shard1.jsonl" >"$T/shards.jsonl"
if check_scan "$T/truth.txt" "$T/shards.jsonl" "2 shards with exclusions" && no_excluded "$T/shards.jsonl"; then
	rs_pass
else
	rs_nok "2 shards with exclusions"
fi
# Open only, to stdout; the exclusions in the other order, the targets as
# a range.
if run_scan 60 -q -w 2 -c 64 -t 300 --retries 0 --seed 6 --exclude-file "$T/excl.txt" --exclude "$EXCL" \
	127.6.0.0-127.6.0.63 -p $PORTS >"$T/open.jsonl" &&
	check_scan "$T/open-truth.txt" "$T/open.jsonl" "open only, to stdout" && no_excluded "$T/open.jsonl"; then
	rs_pass
else
	rs_nok "open only, to stdout, with exclusions"
fi

before=$(excl_packets)
if [ "$before" = 0 ]; then rs_pass; else rs_nok "$before packets were sent to excluded addresses"; fi

# Dry runs list exactly the non-excluded pairs.
if dry_run "$T/dry" --seed 1 $NET -p $PORTS --exclude "$EXCL" --exclude-file "$T/excl.txt"; then
	dry_pairs "$T/dry" >"$T/dry.pairs"
	rs_check "dry run with exclusions: the non-excluded pairs" same_set "dry run with exclusions" "$T/pairs.txt" "$T/dry.pairs"
else
	rs_nok "dry run with exclusions"
fi
# Excluding all but one address, with a range that overhangs the targets.
if dry_run "$T/dry1" --seed 1 $NET -p 3000 --exclude 127.6.0.0-127.6.0.62,127.6.0.64/26; then
	echo '127.6.0.63 3000' >"$T/one.pairs"
	dry_pairs "$T/dry1" >"$T/dry1.pairs"
	rs_check "dry run excluding all but 127.6.0.63" same_set "all but one excluded" "$T/one.pairs" "$T/dry1.pairs"
else
	rs_nok "dry run excluding all but one address"
fi

# Refusals.
printf '127.6.0.0/27\n# the rest\n127.6.0.32-127.6.0.63\n' >"$T/all.txt"
rs_check "excluding everything (--exclude)" refused 'empty' -- --dry-run --seed 1 $NET -p $PORTS --exclude 127.0.0.0/8
rs_check "excluding everything (--exclude-file)" refused 'empty' -- --all -q $NET -p $PORTS --exclude-file "$T/all.txt"
printf '# exclusions\n127.6.0.1\n127.6.0.0/33\n' >"$T/excl-bad.txt"
rs_check "bad --exclude-file line" refused 'excl-bad\.txt:3' -- --dry-run --seed 1 $NET -p $PORTS --exclude-file "$T/excl-bad.txt"
rs_check "missing --exclude-file" refused 'no-such-file\.txt' -- --dry-run --seed 1 $NET -p $PORTS --exclude-file "$T/no-such-file.txt"
rs_check "bad --exclude item" refused '127\.6\.0\.300' -- --dry-run --seed 1 $NET -p $PORTS --exclude 127.6.0.1,127.6.0.300

n=$(($(excl_packets) - before))
if [ "$n" = 0 ]; then rs_pass; else rs_nok "$n packets were sent to excluded addresses by dry runs or refused runs"; fi

# Positive control: the counter counts.
run_scan 30 --all -q -t 300 --retries 0 --seed 1 127.6.0.5 -p $PORTS -o "$T/control.jsonl" || true
n=$(excl_packets)
[ "$n" -gt 0 ] || rs_fail "a scan of 127.6.0.5 without exclusions did not move the counter: the checks above prove nothing"
rs_say "positive control: a scan of 127.6.0.5 without exclusions sent $n packets to it"
world_down

rs_summary exclude
