#!/usr/bin/env bash
# test_badinput: bad input is refused before the first packet (invariant 7).
# Each bad command line must exit 2, print nothing on stdout and exactly one
# line on stderr naming the offending argument, and send no packet: nft
# counters on the input and output hooks for 127.0.0.0/8 and ::1 must still
# read 0 afterwards (a connect at the end proves the counters count).
# -h and -V exit 0 with text on stdout.
# Usage: test_badinput.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
net_up
nft -f - <<'EOF'
table inet rsbad {
	counter pkts {
	}
	chain in {
		type filter hook input priority 0; policy accept;
		ip daddr 127.0.0.0/8 counter name pkts
		ip6 daddr ::1 counter name pkts
	}
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 127.0.0.0/8 counter name pkts
		ip6 daddr ::1 counter name pkts
	}
}
EOF
packets() { nft list counter inet rsbad pkts | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

T=$RS_TMP
printf '127.0.0.1\n# a comment\n127.0.0.999\n' >"$T/targets.txt"
pass=0 fail=0

# bad PATTERN... -- ARGS...: each PATTERN (extended regex, any case) must
# match the one line of stderr.
bad() {
	local -a pats=()
	local rc=0 why='' p
	while [ "$1" != -- ]; do
		pats+=("$1")
		shift
	done
	shift
	timeout -k 2 20 "$RS" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	if [ $rc != 2 ]; then
		why="exit $rc, want 2"
	elif [ -s "$T/out" ]; then
		why="stdout not empty: $(head -c 200 "$T/out")"
	elif [ "$(wc -l <"$T/err")" != 1 ]; then
		why="$(wc -l <"$T/err") lines on stderr, want 1"
	else
		for p in "${pats[@]}"; do
			grep -Eqi -e "$p" "$T/err" || why="stderr does not name the offending argument (/$p/)"
		done
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		rs_say "FAIL: ringscan $*: $why"
		sed 's/^/    stderr: /' "$T/err" | head -5 >&2
	fi
}

bad '127\.0\.0\.0/33' -- -p 22 127.0.0.0/33
bad '127\.0\.0\.300' -- -p 22 127.0.0.300
bad '70000' -- -p 70000 127.0.0.1
bad 'port|-p' "'0'|(^|[^0-9.'])0([^0-9.']|$)" -- -p 0 127.0.0.1
bad '90-80' -- -p 90-80 127.0.0.1
bad 'port|-p' -- -p '' 127.0.0.1
bad 'port|-p' '22,,23' -- -p 22,,23 127.0.0.1
bad '--bogus' -- --bogus 127.0.0.1
bad 'workers|-w' -- -w 0 127.0.0.1
bad 'concurrency|-c' -- -c 0 127.0.0.1
bad 'timeout|-t' -- -t 0 127.0.0.1
bad 'nosuch' -- -f nosuch 127.0.0.1
bad 'target' -- -p 22
bad 'retries' -- --retries x 127.0.0.1
bad 'seed' 'abc' -- --seed abc 127.0.0.1
bad 'rate|-r' -- -r -1 127.0.0.1
bad '-w' -- 127.0.0.1 -w
bad '127\.0\.0\.5-127\.0\.0\.1' -- 127.0.0.5-127.0.0.1
bad '2/2' -- --shard 2/2 127.0.0.1
bad '127\.0\.0\.0/40' -- --exclude 127.0.0.0/40 127.0.0.1
bad 'targets\.txt' -- -i "$T/targets.txt"
bad 'stats' 'nonexistent' -- --stats /nonexistent/dir/s.json 127.0.0.1
bad 'stats' 'Is a directory' -- --stats "$T" 127.0.0.1
bad 'output|-o' 'nonexistent' -- -o /nonexistent/dir/out.jsonl 127.0.0.1
# A refused command line leaves an existing output file as it was.
echo keep >"$T/keep.jsonl"
bad 'stats' -- -o "$T/keep.jsonl" --stats /nonexistent/dir/s.json 127.0.0.1
if [ "$(cat "$T/keep.jsonl")" = keep ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	rs_say "FAIL: a refused run truncated its -o file"
fi
# Good options, bad ones later on the line: still nothing sent.
bad '70000' -- --all -w 2 -c 64 127.0.0.0/24 -p 22,70000

for opt in -h --help -V --version; do
	rc=0
	timeout -k 2 20 "$RS" $opt >"$T/out" 2>"$T/err" </dev/null || rc=$?
	if [ $rc = 0 ] && [ -s "$T/out" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		rs_say "FAIL: ringscan $opt: exit $rc, $(wc -c <"$T/out") bytes on stdout (want 0 and some)"
	fi
done

n=$(packets)
if [ "$n" = 0 ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	rs_say "FAIL: $n packets to 127.0.0.0/8 or ::1 were seen during the bad-input runs"
fi
# Positive control: one refused connect must show up in the counters.
(exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null || true
[ "$(packets)" -gt 0 ] || rs_fail "the nft counters did not see a connect: the check above proves nothing"

rs_say "badinput: $pass checks passed, $fail failed"
[ $fail = 0 ]
