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
#   3007 closed both times: no line.
# From the inventory (the last two complete scans, and scans given by id)
# and from the two JSON lines outputs: the same lines, exit status 1 and a
# summary with the counts; a scan against itself: nothing, exit 0. Bad
# usage exits 2 naming the argument.
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
	127.70.0.1 -p 3001-3007)

printf '%s\n' '3001=banner:SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' \
	'3002=banner:SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' '3003=banner:hello world\r\n' \
	'3004=banner:going away\r\n' >"$T/spec1"
svcd_up one --bind 127.70.0.1 --spec-file "$T/spec1"
run_scan 60 "${ARGS[@]}" -o "$T/1.jsonl" --db "$T/d.db" || rs_fail "scan 1"
svcd_down one
printf '%s\n' '3001=banner:SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' \
	'3002=banner:SSH-2.0-OpenSSH_9.3p1 Debian-1\r\n' '3003=banner:hello there\r\n' \
	'3005=banner:new here\r\n' >"$T/spec2"
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
svcd_down two
grep -q '"port":3002,.*"software":"OpenSSH_9.3p1"' "$T/2.jsonl" || rs_fail "scan 2 did not see the new sshd version"

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
		grep -q ': 1 newly open, 1 no longer open, 1 state changed, 1 service changed, 1 banner changed (7 answers -> 7)$' "$T/d.err" ||
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
run_scan 60 -q 127.70.0.1 -p 3001 --db "$T/one.db" -o /dev/null || rs_fail "a scan into one.db"
RS=$RSX refused "diff: --db: .*one.db.* fewer than two complete scans" -- diff --db "$T/one.db"
"$RSX" diff --help | grep -q '^Usage: ringscan diff --db FILE \[A B\]' || rs_fail "diff --help"
rs_say "ok: diff refusals"
rs_say "test_db_diff: all checks passed"
