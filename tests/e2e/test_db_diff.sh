#!/usr/bin/env bash
# test_db_diff: ringscan diff reports exactly what changed between two
# scans of a world changed between them (real services, tests/tools/svcd,
# with --banner and ringscan's own recognisers only):
#   3001 the same SSH server both times: no line;
#   3002 an SSH server whose version changed: "service";
#   3003 a banner that changed (no service recognised): "banner";
#   3004 a service that went away (closed): "no-longer-open";
#   3005 a port that came up: "newly-open";
#   3006 closed, then dropped by nft (filtered): "state";
#   3007 closed both times: no line;
#   3008 the same banner of awkward bytes (a backslash, quotes, <, &, bytes
#        that are not UTF-8, a tab, a NUL) both times: no line.
# From the inventory (the last two complete scans, and scans given by id)
# and from the two JSON lines outputs: the same lines, exit status 1 and a
# summary with the counts; a scan against itself: nothing, exit 0. The
# same from nmap XML (export -f xml of each scan, and a live -f xml scan
# of the second world) on either side, XML against XML or against JSON
# lines: the same lines, and a JSON lines and an XML file of one world
# compare equal (banners too). nmap's own -sT -oX of the second world
# (200 ports of 2 addresses) against ringscan's open-only XML of it: no
# change. A truncated XML file exits 2 with one line naming file and line.
# Bad usage exits 2 naming the argument.
# engines: uring (what it checks is the coordinator's: sinks, the inventory, the
# Python wrapper; the engine only answers. test_db and test_db_resume run on
# both engines, and every other test shows the engines answer alike)
# Usage: test_db_diff.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
need_tools
RSX=$RS_BIN # subcommands must come first; RS may be the engine wrapper
T=$RS_TMP
net_up
: >"$T/empty.db" # no nmap rules: ringscan's own recognisers
ARGS=(-q --all --banner --read-timeout 1000 -t 300 --retries 0 --service-db "$T/empty.db" --seed 5
	127.70.0.1 -p 3001-3008)

AWKWARD='3008=banner:a\\b "q" '"'s'"' <t>&amp; \xff\xfe\tx\0z \xc3\xa9\r\n'
printf '%s\n' '3001=banner:SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' \
	'3002=banner:SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' '3003=banner:hello world\r\n' \
	'3004=banner:going away\r\n' "$AWKWARD" >"$T/spec1"
svcd_up one --bind 127.70.0.1 --spec-file "$T/spec1"
run_scan 60 "${ARGS[@]}" -o "$T/1.jsonl" --db "$T/d.db" || rs_fail "scan 1"
svcd_down one
printf '%s\n' '3001=banner:SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' \
	'3002=banner:SSH-2.0-OpenSSH_9.3p1 Debian-1\r\n' '3003=banner:hello there\r\n' \
	'3005=banner:new here\r\n' "$AWKWARD" >"$T/spec2"
svcd_up two --bind 127.70.0.1 --spec-file "$T/spec2"
nft -f - <<'NFT'
table inet t {
	chain input {
		type filter hook input priority 0;
		tcp dport 3006 drop
	}
}
NFT
run_scan 60 "${ARGS[@]}" -o "$T/2.jsonl" --db "$T/d.db" || rs_fail "scan 2"
run_scan 60 "${ARGS[@]}" -f xml -o "$T/2live.xml" || rs_fail "scan 2 as XML"
# nmap's own XML of the second world, and ringscan's open-only XML of it
# (2 addresses x 200 ports, 3006 dropped: nmap waits 300 ms for it).
NMAP=$(command -v nmap || true)
if [ -n "$NMAP" ]; then
	timeout 60 "$NMAP" -sT -Pn -n --max-retries 0 --max-rtt-timeout 300ms -p 3001-3200 \
		-oX "$T/nmap.xml" 127.70.0.1 127.70.0.2 >/dev/null || rs_fail "nmap -sT -oX"
	run_scan 60 -q -t 300 --retries 0 -p 3001-3200 -f xml -o "$T/open.xml" 127.70.0.1 127.70.0.2 ||
		rs_fail "the open-only XML scan"
fi
svcd_down two
grep -q '"port":3002,.*"software":"OpenSSH_9.3p1"' "$T/2.jsonl" || rs_fail "scan 2 did not see the new sshd version"
grep -q '"port":3008,.*"banner":"a\\\\b \\"q\\" '"'s'"' <t>&amp; \\udcff\\udcfe\\tx\\u0000z é\\r\\n"' "$T/2.jsonl" ||
	rs_fail "scan 2 did not read 3008's banner: $(grep 3008 "$T/2.jsonl")"
grep -q '<script id="banner" output="a\\\\b &quot;q&quot; '"'s'"' &lt;t&gt;&amp;amp; \\xFF\\xFE\\x09x\\x00z é\\x0D\\x0A"/>' "$T/2live.xml" ||
	rs_fail "the XML scan did not write 3008's banner: $(grep 3008 "$T/2live.xml")"
for i in 1 2; do
	"$RSX" export --db "$T/d.db" --scan $i -f xml -o "$T/$i.xml" || rs_fail "export scan $i as XML"
done

cat >"$T/want" <<'WANT'
127.70.0.1 3002 service
127.70.0.1 3003 banner
127.70.0.1 3004 no-longer-open
127.70.0.1 3005 newly-open
127.70.0.1 3006 state
WANT
changes() { sed -n 's/^{"ip":"\([^"]*\)","port":\([0-9]*\),"change":"\([a-z-]*\)".*/\1 \2 \3/p' "$1"; }
# diff_ok WANT_RC LABEL ARGS...: ringscan diff ARGS exits WANT_RC, its
# lines are the expected changes (or none), its summary counts them.
diff_ok() {
	local want_rc=$1 label=$2 rc=0
	shift 2
	"$RSX" diff "$@" >"$T/d.out" 2>"$T/d.err" || rc=$?
	[ "$rc" = "$want_rc" ] || { cat "$T/d.err" >&2; rs_fail "$label: exit $rc, want $want_rc"; }
	[ "$(wc -l <"$T/d.err")" = 1 ] || { cat "$T/d.err" >&2; rs_fail "$label: want one summary line"; }
	if [ "$want_rc" = 1 ]; then
		changes "$T/d.out" >"$T/got"
		cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" >&2; rs_fail "$label: wrong changes"; }
		[ "$(wc -l <"$T/d.out")" = 5 ] || rs_fail "$label: lines that are not changes: $(cat "$T/d.out")"
		grep -q ': 1 newly open, 1 no longer open, 1 state changed, 1 service changed, 1 banner changed (8 answers -> 8)$' "$T/d.err" ||
			rs_fail "$label: summary: $(cat "$T/d.err")"
	else
		[ ! -s "$T/d.out" ] || rs_fail "$label: changes reported: $(cat "$T/d.out")"
	fi
	rs_say "ok: $label: $(cat "$T/d.err")"
}
diff_ok 1 "diff --db (the last two complete scans)" --db "$T/d.db"
diff_ok 1 "diff --db 1 2" --db "$T/d.db" 1 2
diff_ok 1 "diff of the two JSON lines outputs" "$T/1.jsonl" "$T/2.jsonl"
diff_ok 0 "diff --db 2 2" --db "$T/d.db" 2 2
diff_ok 0 "diff of a file with itself" "$T/2.jsonl" "$T/2.jsonl"
diff_ok 1 "diff of the two exported XML files" "$T/1.xml" "$T/2.xml"
diff_ok 1 "diff of XML against JSON lines" "$T/1.xml" "$T/2.jsonl"
diff_ok 1 "diff of JSON lines against XML" "$T/1.jsonl" "$T/2.xml"
diff_ok 1 "diff of JSON lines against a live XML scan" "$T/1.jsonl" "$T/2live.xml"
diff_ok 0 "diff of a scan's JSON lines and its exported XML" "$T/2.jsonl" "$T/2.xml"
diff_ok 0 "diff of JSON lines and a live XML scan of the same world" "$T/2live.xml" "$T/2.jsonl"
"$RSX" diff "$T/1.xml" "$T/2live.xml" >"$T/x.out" 2>/dev/null || true
"$RSX" diff "$T/1.jsonl" "$T/2.jsonl" >"$T/j.out" 2>/dev/null || true
cmp -s "$T/x.out" "$T/j.out" || { diff "$T/j.out" "$T/x.out" >&2; rs_fail "XML and JSON lines give other lines"; }
if [ -n "$NMAP" ]; then
	grep -q 'portid="3006"><state state="filtered"' "$T/nmap.xml" || rs_fail "nmap did not see 3006 filtered"
	diff_ok 0 "diff of nmap -sT -oX and ringscan's open-only XML of one world" "$T/nmap.xml" "$T/open.xml"
	"$RSX" diff "$T/1.jsonl" "$T/nmap.xml" >"$T/d.out" 2>/dev/null || true
	changes "$T/d.out" >"$T/got"
	# nmap's file has no service stage (its port-table guesses are not
	# detections), lists 3004 closed and 3006 filtered: against scan 1
	printf '127.70.0.1 %s\n' '3001 service' '3002 service' '3003 banner' '3004 no-longer-open' \
		'3005 newly-open' '3006 state' '3008 banner' >"$T/want_nmap"
	cmp -s "$T/want_nmap" "$T/got" || { diff "$T/want_nmap" "$T/got" >&2; rs_fail "scan 1 -> nmap: wrong changes"; }
	rs_say "ok: diff of scan 1 against nmap's XML: $(tr '\n' ' ' <"$T/got")"
fi
"$RSX" diff --db "$T/d.db" >"$T/d.out" 2>/dev/null || true
grep -q '"port":3002,"change":"service","old":{"state":"open","service":"ssh","product":"OpenSSH","version":"9.2p1"},"new":{"state":"open","service":"ssh","product":"OpenSSH","version":"9.3p1"}}' \
	"$T/d.out" || rs_fail "the service change does not show the versions: $(grep 3002 "$T/d.out")"
grep -q '"port":3006,"change":"state","old":{"state":"closed"},"new":{"state":"filtered"}}' \
	"$T/d.out" || rs_fail "the state change: $(grep 3006 "$T/d.out")"

# Bad usage: exit 2, one line naming the argument.
printf 'not json\n' >"$T/bad.jsonl"
RS=$RSX refused "diff: two files to compare" -- diff "$T/1.jsonl"
RS=$RSX refused "diff: --db takes two scan ids or none, not 1" -- diff --db "$T/d.db" 1
RS=$RSX refused "diff: '0': not a scan id" -- diff --db "$T/d.db" 0 1
RS=$RSX refused "diff: .*holds no scan 7" -- diff --db "$T/d.db" 1 7
RS=$RSX refused "diff: .*bad.jsonl.* line 1: not a ringscan JSON line" -- diff "$T/1.jsonl" "$T/bad.jsonl"
RS=$RSX refused "diff: cannot read .*none.jsonl" -- diff "$T/1.jsonl" "$T/none.jsonl"
RS=$RSX refused "diff: --bogus: unknown option" -- diff --bogus a b
head -c 1200 "$T/2.xml" >"$T/cut.xml"
RS=$RSX refused "^ringscan: diff: '.*cut.xml' line [0-9]+: the input ends inside .*cut short" -- diff "$T/1.jsonl" "$T/cut.xml"
[ "$(wc -l <"$T/refused.err")" = 1 ] || rs_fail "a cut XML file: more than one line: $(cat "$T/refused.err")"
sed 's,</ports>,</port>,' "$T/2.xml" >"$T/bad.xml"
RS=$RSX refused "diff: '.*bad.xml' line [0-9]+: </port> closes <ports>" -- diff "$T/bad.xml" "$T/1.jsonl"
printf '<?xml version="1.0"?>\n<svg/>\n' >"$T/svg.xml"
RS=$RSX refused "diff: '.*svg.xml' line 2: not nmap XML" -- diff "$T/svg.xml" "$T/1.jsonl"
run_scan 60 -q 127.70.0.1 -p 3001 --db "$T/one.db" -o /dev/null || rs_fail "a scan into one.db"
RS=$RSX refused "diff: --db: .*one.db.* fewer than two complete scans" -- diff --db "$T/one.db"
"$RSX" diff --help | grep -q '^Usage: ringscan diff --db FILE \[A B\]' || rs_fail "diff --help"
rs_say "ok: diff refusals"
[ -n "$NMAP" ] || rs_skip "nmap is not installed: the nmap -oX case was not run (every other check passed)"
rs_say "test_db_diff: all checks passed"
