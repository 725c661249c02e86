#!/usr/bin/env bash
# test_inputs: where targets come from, checked with dry runs.
#
# -i FILE (comments, blank lines, whitespace, duplicates, overlaps, IPv6)
# gives exactly the expected pairs; -i targets and command-line targets add
# up; `-i -` reads stdin; a bad line exits 2 naming FILE:LINE (stdin too);
# a missing file or a directory exits 2 naming it. Overlapping targets are
# merged. Names resolve to every record, each once (`localhost`, and a name
# with three records, from an /etc/hosts private to the test); an
# unresolvable name exits 2 naming it. Reserved ranges (0.0.0.0/8,
# 224.0.0.0/4, 255.255.255.255) are refused with exit 2, naming the range
# and suggesting --exclude or --allow-reserved; with --allow-reserved, or
# with the reserved part excluded, they are accepted (dry runs only). A
# space above 2^63 pairs exits 2. The dry-run formats: jsonl, list, csv,
# and -o. An nft counter on the output hook proves that none of this sent a
# packet (and a guard drops anything not for 127.0.0.0/8 or ::1).
# engine-independent: dry runs and refusals only, nothing scans.
# Usage: test_inputs.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
net_up
guard_up
T=$RS_TMP

# want LABEL EXPECTED-FILE ARGS...: the dry run of ARGS lists exactly the
# "IP PORT" lines of EXPECTED-FILE.
want() {
	local label=$1 exp=$2
	shift 2
	if dry_run "$T/got" --seed 1 "$@"; then
		dry_pairs "$T/got" >"$T/got.pairs"
		rs_check "$label" same_set "$label" "$exp" "$T/got.pairs"
	else
		rs_nok "$label: dry run failed"
	fi
}

# A targets file with everything a hand-written one may have.
cat >"$T/targets.txt" <<'EOF'
# targets for ringscan
127.0.0.1
   127.0.0.2	   
127.0.0.0/30   # trailing comment

127.0.0.2-127.0.0.5
127.0.0.1
	# indented comment
127.0.1.0/31#comment without a space
::1
0:0::1
EOF
{
	ip4_seq 127.0.0.0 127.0.0.5
	ip4_seq 127.0.1.0 127.0.1.1
	echo ::1
} | cross 22 80 >"$T/file.want"
want "-i FILE" "$T/file.want" -i "$T/targets.txt" -p 22,80
{
	cat "$T/file.want"
	echo 127.0.2.7 | cross 22 80
} >"$T/file+arg.want"
want "-i FILE plus a command-line target" "$T/file+arg.want" -i "$T/targets.txt" 127.0.2.7 -p 22,80
want "-i FILE plus command-line targets it already holds" "$T/file.want" 127.0.0.3 -i "$T/targets.txt" ::1 -p 22,80
if dry_run "$T/stdin" --seed 1 -i - -p 22,80 <"$T/targets.txt"; then
	dry_pairs "$T/stdin" >"$T/stdin.pairs"
	rs_check "-i - (stdin)" same_set "-i -" "$T/file.want" "$T/stdin.pairs"
else
	rs_nok "-i - (stdin): dry run failed"
fi
printf '# only comments\n\n   \n' >"$T/empty.txt"
rs_check "-i FILE with no target at all" refused 'empty|target' -- --dry-run --seed 1 -i "$T/empty.txt" -p 22
want "-i FILE with no target, plus a command-line target" <(echo '127.0.0.9 22') -i "$T/empty.txt" 127.0.0.9 -p 22

# Bad files.
printf '127.0.0.1\n# comment\n\n127.0.0.300\n127.0.0.2\n' >"$T/bad.txt"
rs_check "bad line in -i FILE" refused 'bad\.txt:4' -- --dry-run --seed 1 -i "$T/bad.txt" -p 22
printf '127.0.0.1\n127.0.0.0/33\n' >"$T/bad2.txt"
rs_check "bad CIDR in -i FILE" refused 'bad2\.txt:2' '127\.0\.0\.0/33' -- --dry-run --seed 1 -i "$T/bad2.txt" -p 22
printf '127.0.0.1\n127.0.0.9-127.0.0.3\n' >"$T/bad3.txt"
rs_check "reversed range in -i FILE" refused 'bad3\.txt:2' -- --dry-run --seed 1 -i "$T/bad3.txt" -p 22
rs_check "bad line on stdin" refused ':2([^0-9]|$)' -- --dry-run --seed 1 -i - -p 22 < <(printf '127.0.0.1\n127.0.0.1.5\n')
rs_check "missing -i FILE" refused 'no-such-file\.txt' -- --dry-run --seed 1 -i "$T/no-such-file.txt" -p 22
mkdir -p "$T/a-directory"
rs_check "-i DIRECTORY" refused 'a-directory' -- --dry-run --seed 1 -i "$T/a-directory" -p 22

# Overlaps and duplicates on the command line.
ip4_seq 127.0.0.0 127.0.0.3 | cross 22 >"$T/four.want"
want "overlapping targets" "$T/four.want" 127.0.0.1 127.0.0.0/30 127.0.0.2-127.0.0.3 -p 22
ip4_seq 127.0.0.0 127.0.0.3 | cross 20 21 22 >"$T/four3.want"
want "overlapping ports" "$T/four3.want" 127.0.0.0/30 -p 22,22,20-22,21-21
want "overlapping targets and ports" "$T/four.want" 127.0.0.0/30 127.0.0.0/31 -p 22,22
ip4_seq 127.0.0.0 127.0.0.255 | cross 1 >"$T/c24.want"
want "a /24 as CIDR, range and pieces" "$T/c24.want" 127.0.0.0/25 127.0.0.128-127.0.0.255 127.0.0.0/24 127.0.0.77 -p 1

# Hostnames, from an /etc/hosts of this namespace's own (there may be none
# on the system): localhost, and a name with three records, all of which
# count, each once.
if own_hosts "127.0.0.1 localhost" "::1 localhost" \
	"127.0.0.7 rs-multi.test" "127.0.0.9 rs-multi.test" "::1 rs-multi.test"; then
	printf '%s\n' "127.0.0.1 22" "::1 22" >"$T/lh.want"
	want "localhost" "$T/lh.want" localhost -p 22
	printf '%s\n' "127.0.0.7 22" "127.0.0.9 22" "::1 22" "127.0.0.7 23" "127.0.0.9 23" "::1 23" >"$T/multi.want"
	want "a name with three records" "$T/multi.want" rs-multi.test -p 22,23
	want "a name next to one of its addresses" "$T/multi.want" 127.0.0.9 rs-multi.test ::1 -p 22-23
elif getent hosts localhost >/dev/null; then
	rs_say "note: checking localhost with the system's /etc/hosts instead"
	if dry_run "$T/lh" --seed 1 localhost -p 22; then
		dry_pairs "$T/lh" | sort >"$T/lh.pairs"
		if [ -s "$T/lh.pairs" ] && ! grep -vqxE '(127\.0\.0\.1|::1) 22' "$T/lh.pairs" &&
			[ -z "$(uniq -d "$T/lh.pairs")" ]; then
			rs_pass
		else
			rs_nok "localhost resolved to: $(tr '\n' ';' <"$T/lh.pairs") (want 127.0.0.1 and/or ::1, once each)"
		fi
	else
		rs_nok "dry run of localhost"
	fi
else
	names_untested="no name resolves here and no private /etc/hosts can be mounted"
	rs_say "note: names untested: $names_untested"
fi
rs_check "unresolvable name" refused 'no-such-host\.invalid' -- --dry-run --seed 1 no-such-host.invalid -p 22
printf '127.0.0.1\nno-such-host.invalid\n' >"$T/names.txt"
rs_check "unresolvable name in -i FILE" refused 'no-such-host\.invalid' -- --dry-run --seed 1 -i "$T/names.txt" -p 22

# Reserved ranges: refused unless allowed or excluded. Dry runs only.
rs_check "224.0.0.1 refused" refused '224\.0\.0\.' 'exclude|allow-reserved' -- --dry-run --seed 1 224.0.0.1 -p 22
rs_check "0.0.0.0/8 refused" refused '0\.0\.0\.0' 'exclude|allow-reserved' -- --dry-run --seed 1 0.0.0.0/8 -p 22
rs_check "255.255.255.255 refused" refused '255\.255\.255\.255' 'exclude|allow-reserved' -- --dry-run --seed 1 255.255.255.255 -p 22
rs_check "a range reaching into 224.0.0.0/4 refused" refused '224\.0\.0\.' -- --dry-run --seed 1 223.255.255.255-224.0.0.1 -p 22
rs_check "127.0.0.1 with 224.0.0.1 refused" refused '224\.0\.0\.' -- --dry-run --seed 1 127.0.0.1 224.0.0.1 -p 22
printf '127.0.0.1\n224.0.0.1\n' >"$T/reserved.txt"
rs_check "224.0.0.1 in -i FILE refused" refused '224\.0\.0\.' -- --dry-run --seed 1 -i "$T/reserved.txt" -p 22
rs_check "reserved refused in a real scan too" refused '224\.0\.0\.' -- --all -q -t 100 224.0.0.1 -p 22
want "224.0.0.1 with --allow-reserved" <(echo '224.0.0.1 22') --allow-reserved 224.0.0.1 -p 22
want "0.0.0.0/30 with --allow-reserved" <(ip4_seq 0.0.0.0 0.0.0.3 | cross 22) --allow-reserved 0.0.0.0/30 -p 22
want "255.255.255.255 with --allow-reserved" <(echo '255.255.255.255 22') --allow-reserved 255.255.255.255 -p 22
want "224.0.0.1 excluded" <(echo '127.0.0.1 22') 127.0.0.1 224.0.0.1 --exclude 224.0.0.0/4 -p 22

# Sizes: above 2^63 pairs is refused; output to /dev/null in case it is not.
rs_check "2^65 pairs" refused '2\^63|too (big|large)|space' -- --dry-run --seed 1 ::/64 -p 1,2 -o /dev/null
rs_check "2^64 pairs" refused '2\^63|too (big|large)|space' -- --dry-run --seed 1 ::/64 -p 1 -o /dev/null
# Exactly 2^63 is allowed (::/65 holds the IPv4-mapped ::ffff:0:0/96, so
# it needs --allow-reserved); the first lines of a dry run, and of its last
# shard.
for sh in '' '--shard 3/4'; do
	# shellcheck disable=SC2086
	timeout -k 5 30 "$RS" --dry-run --allow-reserved --seed 1 $sh ::/65 -p 1 2>"$T/big.err" | head -n 3 >"$T/big.out" || true
	if [ "$(grep -cE "$RS_DRY_RE" "$T/big.out")" = 3 ]; then rs_pass; else
		rs_nok "--dry-run --allow-reserved $sh ::/65 -p 1 (2^63 pairs): want 3 lines from head, got: $(head -c 300 "$T/big.out") $(head -c 300 "$T/big.err")"
	fi
done

# Dry-run formats and -o.
printf '127.0.0.1:22\n127.0.0.1:80\n[::1]:22\n[::1]:80\n' >"$T/list.want"
timeout -k 5 30 "$RS" --dry-run --seed 1 -f list -p 22,80 127.0.0.1 ::1 >"$T/list.got" 2>"$T/list.err" || true
rs_check "dry run -f list" same_set "-f list" "$T/list.want" "$T/list.got"
timeout -k 5 30 "$RS" --dry-run --seed 1 -f csv -p 22,80 127.0.0.1 ::1 -o "$T/csv.got" 2>"$T/csv.err" || true
printf '127.0.0.1,22\n127.0.0.1,80\n::1,22\n::1,80\n' >"$T/csv.want"
if [ "$(head -1 "$T/csv.got" 2>/dev/null)" = ip,port ] && tail -n +2 "$T/csv.got" >"$T/csv.body" &&
	same_set "-f csv -o FILE" "$T/csv.want" "$T/csv.body"; then
	rs_pass
else
	rs_nok "dry run -f csv -o FILE: want the header ip,port, then 127.0.0.1,22 ..."
fi
if dry_run "$T/o.jsonl" --seed 1 -p 22 127.0.0.1 && [ "$(cat "$T/o.jsonl")" = '{"ip":"127.0.0.1","port":22}' ]; then
	rs_pass
else
	rs_nok "dry run -o FILE (jsonl): $(head -c 200 "$T/o.jsonl")"
fi

n=$(guard_count out)
if [ "$n" = 0 ]; then rs_pass; else
	rs_nok "$n packets were sent by dry runs and refused runs ($(guard_count stray) to addresses outside 127.0.0.0/8 and ::1)"
fi
# Positive control: the counter counts.
(exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null || true
[ "$(guard_count out)" -gt 0 ] || rs_fail "the output counter did not see a connect: the check above proves nothing"

rs_summary inputs
[ -z "${names_untested:-}" ] || rs_skip "every other check passed, but names untested: $names_untested"
