#!/usr/bin/env bash
# test_badinput: bad input is refused before the first packet (invariant 7).
# Each bad command line must exit 2, print nothing on stdout and exactly the
# expected line on stderr (naming the offending argument), and send no packet: nft
# counters on the input and output hooks for 127.0.0.0/8 and ::1 must still
# read 0 afterwards (a connect at the end proves the counters count).
# -h and -V exit 0 with text on stdout.
# engine-independent: nothing here scans (refusals, --help, --version).
# Usage: test_badinput.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
net_up
packet_counter_up # packets: what went to 127.0.0.0/8 or ::1 since

T=$RS_TMP
printf '127.0.0.1\n# a comment\n127.0.0.999\n' >"$T/targets.txt"
pass=0 fail=0

# bad 'EXACT LINE' -- ARGS...: stderr must be exactly that one line.
bad() {
	local want=$1 rc=0 why=''
	shift 2
	timeout -k 2 20 "$RS" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	if [ $rc != 2 ]; then
		why="exit $rc, want 2"
	elif [ -s "$T/out" ]; then
		why="stdout not empty: $(head -c 200 "$T/out")"
	elif [ "$(wc -l <"$T/err")" != 1 ]; then
		why="$(wc -l <"$T/err") lines on stderr, want 1"
	elif [ "$(cat "$T/err")" != "ringscan: $want" ]; then
		why="stderr is not the expected line"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		rs_say "FAIL: ringscan $*: $why"
		rs_say "    want: ringscan: $want"
		sed 's/^/    got:  /' "$T/err" | head -5 >&2
	fi
}

TGT="(expected an address, address/len, first-last or hostname)"
bad "target: invalid prefix length in '127.0.0.0/33' (0-32, no leading zeros)" -- -p 22 127.0.0.0/33
bad "target: invalid target '127.0.0.300' $TGT" -- -p 22 127.0.0.300
# Invisible characters are shown, or the refused target would look right.
bad "target: invalid target '127.0.0.1\\u200b' $TGT" -- -p 22 $'127.0.0.1\xe2\x80\x8b'
bad "target: invalid target '\\ufeff127.0.0.1\\u00a0' $TGT" -- -p 22 $'\xef\xbb\xbf127.0.0.1\xc2\xa0'
bad "-p/--ports: invalid port '70000' in '70000': out of range 1-65535" -- -p 70000 127.0.0.1
bad "-p/--ports: invalid port '0' in '0': port 0 is not scannable" -- -p 0 127.0.0.1
bad "-p/--ports: invalid port '90-80' in '90-80': reversed range" -- -p 90-80 127.0.0.1
bad "-p/--ports: empty port list" -- -p '' 127.0.0.1
bad "-p/--ports: invalid port '' in '22,,23': not a port or range" -- -p 22,,23 127.0.0.1
bad "-p/--ports: given twice; list every port in one -p" -- -p 22 -p 23 127.0.0.1
bad "--bogus: unknown option (see --help)" -- --bogus 127.0.0.1
bad "-w/--workers: invalid value '0' (expected 1-256)" -- -w 0 127.0.0.1
bad "-c/--concurrency: invalid value '0' (expected 1-1000000)" -- -c 0 127.0.0.1
bad "-t/--timeout: invalid value '0' (expected 1-3600000)" -- -t 0 127.0.0.1
bad "-f/--format: unknown format 'nosuch' (jsonl, csv, list)" -- -f nosuch 127.0.0.1
# nmap XML needs its records sorted by host: not for a scan, nor a dry run
# (ringscan export writes it from the inventory).
bad "-f/--format xml with --resume: give --db FILE too (the answers wait there between runs; the file is written from it at the end)" -- -f xml --resume "$T/xml.ck" 127.0.0.1
bad "-f/--format xml: not for --dry-run (use jsonl, csv or list)" -- --dry-run -f xml 127.0.0.1
bad "no targets given (see --help)" -- -p 22
bad "--retries: invalid value 'x' (expected 0-20)" -- --retries x 127.0.0.1
bad "--seed: invalid value 'abc' (expected 0-18446744073709551615)" -- --seed abc 127.0.0.1
bad "-r/--rate: invalid value '-1' (expected 0-1000000000)" -- -r -1 127.0.0.1
bad "-w: missing argument" -- 127.0.0.1 -w
bad "target: reversed range '127.0.0.5-127.0.0.1'" -- 127.0.0.5-127.0.0.1
bad "--shard: invalid '2/2' (expected I/N with 0 <= I < N)" -- --shard 2/2 127.0.0.1
bad "--shard needs --seed: every shard must use the same order" -- --shard 0/2 127.0.0.1
bad "--exclude: invalid prefix length in '127.0.0.0/40' (0-32, no leading zeros)" -- --exclude 127.0.0.0/40 127.0.0.1
bad "the target set is empty (everything is excluded)" -- --exclude 127.0.0.0/8 127.0.0.1
bad "-i/--input: $T/targets.txt:3: invalid target '127.0.0.999' $TGT" -- -i "$T/targets.txt"
bad "-i/--input: cannot read '$T/none.txt': No such file or directory" -- -i "$T/none.txt"
bad "--stats: cannot write '/nonexistent/dir/s.json': No such file or directory" -- \
	--stats /nonexistent/dir/s.json 127.0.0.1
bad "--stats: cannot write '$T': Is a directory" -- --stats "$T" 127.0.0.1
bad "-o/--output: cannot open '/nonexistent/dir/out.jsonl': No such file or directory" -- \
	-o /nonexistent/dir/out.jsonl 127.0.0.1
bad "--read-timeout: only with --banner or --service" -- --read-timeout 500 127.0.0.1
bad "--read-timeout: invalid value '5' (expected 10-600000)" -- --banner --read-timeout 5 127.0.0.1
# --resume and its companions.
bad "--resume needs -o FILE: a resumed scan truncates its output back to what the checkpoint records, which stdout cannot be" -- \
	--resume "$T/ck" 127.0.0.1
bad "--resume: a --dry-run sends nothing, so there is nothing to resume" -- \
	--resume "$T/ck" --dry-run -o "$T/o" 127.0.0.1
bad "--resume: '$T/ck' is the same file as -o/--output '$T/ck'; each output needs a file of its own" -- \
	--resume "$T/ck" -o "$T/ck" 127.0.0.1
bad "--resume: '$T/ck' is the same file as -o/--output '$T/./ck'; each output needs a file of its own" -- \
	--resume "$T/ck" -o "$T/./ck" 127.0.0.1
bad "--resume (its temporary file): '$T/ck.tmp' is the same file as -o/--output '$T/ck.tmp'; each output needs a file of its own" -- \
	--resume "$T/ck" -o "$T/ck.tmp" 127.0.0.1
mkfifo "$T/fifo.ck"
bad "--resume: $T/fifo.ck: not a regular file of at most 1 GiB" -- \
	--resume "$T/fifo.ck" -o "$T/o" 127.0.0.1
bad "--checkpoint-interval: only with --resume FILE" -- --checkpoint-interval 100 127.0.0.1
bad "--checkpoint-interval: invalid value '5' (expected 10-3600000)" -- \
	--checkpoint-interval 5 --resume "$T/ck" -o "$T/o" 127.0.0.1
bad "--resume: cannot write '/nonexistent/dir/ck.tmp': No such file or directory" -- \
	--resume /nonexistent/dir/ck -o "$T/o" 127.0.0.1
bad "-o/--output: '/dev/null' is not a regular file, which --resume needs" -- \
	--resume "$T/ck" -o /dev/null 127.0.0.1
printf 'ringscan-checkpoint 2\nseed x\n' >"$T/bad.ck"
bad "--resume: $T/bad.ck:2: bad number for 'seed'" -- --resume "$T/bad.ck" -o "$T/o" 127.0.0.1
bad "--resume: $T: not a regular file of at most 1 GiB" -- --resume "$T" -o "$T/o" 127.0.0.1
# Defect 1 of issue 10: no two outputs, and no output over an input, may
# name one file (by inode where it exists, by resolved path where not).
OWN="each output needs a file of its own"
bad "--stats: '$T/same.out' is the same file as -o/--output '$T/same.out'; $OWN" -- \
	--all -p 22,80 127.82.0.0/28 -o "$T/same.out" --stats "$T/same.out"
bad "--resume: '$T/same.ck' is the same file as --stats '$T/same.ck'; $OWN" -- \
	--resume "$T/same.ck" --stats "$T/same.ck" -o "$T/o" 127.0.0.1
echo data >"$T/exists.out"
ln -s "$T/exists.out" "$T/link.out"
bad "--stats: '$T/link.out' is the same file as -o/--output '$T/exists.out'; $OWN" -- \
	-o "$T/exists.out" --stats "$T/link.out" 127.0.0.1
bad "--stats: '$T/../$(basename "$T")/exists.out' is the same file as -o/--output '$T/exists.out'; $OWN" -- \
	-o "$T/exists.out" --stats "$T/../$(basename "$T")/exists.out" 127.0.0.1
printf '127.0.0.1\n' >"$T/in.txt"
bad "-o/--output: '$T/in.txt' is an input file (-i/--exclude-file); it would be overwritten" -- \
	-i "$T/in.txt" -o "$T/in.txt"
bad "--stats: '$T/in.txt' is an input file (-i/--exclude-file); it would be overwritten" -- \
	--exclude-file "$T/in.txt" --stats "$T/in.txt" 127.0.0.2
[ "$(cat "$T/in.txt")" = 127.0.0.1 ] && [ "$(cat "$T/exists.out")" = data ] ||
	rs_fail "a refused collision changed a file"
# bad() sends stdout to $T/out: --stats there would overwrite the results.
bad "--stats: '$T/out' is the standard output, where the results go without -o; $OWN" -- \
	--stats "$T/out" 127.0.0.1
# Defects 5 and 6: the offending option itself, control characters escaped.
bad "-z: unknown option (see --help)" -- -zq 127.0.0.1
bad "-1: unknown option (see --help)" -- -p 22 -127.0.0.1
bad "-z: unknown option (see --help)" -- --all -qz 127.0.0.1
bad "--all: takes no argument" -- --all=1 127.0.0.1
bad "--qui: takes no argument" -- --qui=1 127.0.0.1
bad "--ex: ambiguous option (--exclude, --exclude-file)" -- --ex 127.0.0.2 127.0.0.1
bad "--ports: missing argument" -- 127.0.0.1 --ports
bad "-w: missing argument" -- 127.0.0.1 -qw
bad "-f/--format: unknown format 'list\\n' (jsonl, csv, list)" -- --dry-run -f $'list\n' 127.0.0.1
bad "-i/--input: cannot read '$T/a\\eb\\tc': No such file or directory" -- -i "$T/a"$'\e'b$'\t'c
bad "--engine: unknown mode 'x\\r\\x01' (auto, uring, epoll, compat)" -- --engine $'x\r\x01' 127.0.0.1
bad "target: invalid prefix length in '127.0.0.1/08' (0-32, no leading zeros)" -- 127.0.0.1/08
# A refused command line leaves an existing output file as it was.
echo keep >"$T/keep.jsonl"
bad "--stats: cannot write '/nonexistent/dir/s.json': No such file or directory" -- \
	-o "$T/keep.jsonl" --stats /nonexistent/dir/s.json 127.0.0.1
bad "--resume: $T/bad.ck:2: bad number for 'seed'" -- -o "$T/keep.jsonl" --resume "$T/bad.ck" 127.0.0.1
if [ "$(cat "$T/keep.jsonl")" = keep ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	rs_say "FAIL: a refused run truncated its -o file"
fi
# Good options, bad ones later on the line: still nothing sent.
bad "-p/--ports: invalid port '70000' in '22,70000': out of range 1-65535" -- \
	--all -w 2 -c 64 127.0.0.0/24 -p 22,70000

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
