#!/usr/bin/env bash
# test_cli_fuzz: a hostile pass over the command line. tests/tools/cli_fuzz.py
# draws random argument lists from a grammar of every option (valid, invalid
# and unsettled values, abbreviations, combined short options, options given
# twice, unknown ones, missing values, '--', targets good and malformed, -i
# files and stdin with garbage) and runs each with --dry-run, judging it
# against what it knows the list means: no crash, hang or sanitizer report;
# a refusal is exit 2 with one clean line naming an offending argument; an
# accepted list prints exactly the pairs it names; nonsense is never
# accepted. See the script's header for the rules.
#
# Everything runs in a private network namespace, and nft counters on both
# hooks for 127.0.0.0/8 and ::1 must still read 0 afterwards: a dry run
# sends nothing (a connect at the end proves the counters count).
# Every valid target is in 127.0.0.0/8 or is ::1.
#
# engine-independent: dry runs only, nothing scans.
# Usage: test_cli_fuzz.sh BUILD_DIR
# RS_FUZZ_SEED=N replays a run; RS_FUZZ_COUNT (400) and RS_FUZZ_SECONDS (45)
# bound it; RS_FUZZ_ONLY=N replays one case (make fuzz-cli runs longer).
set -eu
. "$(dirname "$0")/lib.sh"
limit=$((${RS_FUZZ_SECONDS:-45} + 75))
ns_reexec "$limit" "$0" "$@"
need_scanner "${1:-}"
command -v python3 >/dev/null || rs_skip "python3 not found (the fuzzer is a python script)"
net_up
packet_counter_up # packets: what went to 127.0.0.0/8 or ::1 since

rc=0
python3 "$RS_ROOT/tests/tools/cli_fuzz.py" "$RS" "$RS_TMP" || rc=$?

n=$(packets)
[ "$n" = 0 ] || rs_fail "the dry runs sent $n packets to loopback"
# The counters count: one connect to a closed port is at least 2 packets.
(exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null || true
n=$(packets)
[ "$n" -ge 2 ] || rs_fail "the packet counters do not count ($n after a connect)"
[ $rc = 0 ] || rs_fail "cli_fuzz found defects (see above)"
echo "PASS: test_cli_fuzz"
