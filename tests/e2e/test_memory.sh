#!/usr/bin/env bash
# test_memory: constant memory (invariant 4), at a scale CI can afford.
#
# 1. Peak RSS (ru_maxrss = VmHWM, in KiB) of `ringscan --dry-run` over
#    127.0.0.0/12 x 1 port (1,048,576 lines, to /dev/null) and over
#    127.0.0.0/24 x 1 port: they must differ by less than 1 MiB. (The /12
#    run's line count is checked separately.)
# 2. A dry run of 127.0.0.0/8 x 1 port minus an exclusion file of 20,000
#    ranges inside it (addresses, a-b ranges and CIDRs, with comments),
#    stopped after its first 2,000,000 lines by `head`: peak RSS under
#    64 MiB.
# 3. Real scans (all RST) of 127.0.0.0/16 and 127.0.0.0/15 x 1 port with
#    one worker: the sum of the coordinator's and the worker's peak RSS must
#    differ by less than 1 MiB and stay under 64 MiB. (Both scans answer
#    more probes than a worker's result ring holds, so every page of the
#    shared rings is touched in both: the ring size is a constant, not N.)
# The measured numbers are printed. Everything runs in the namespace.
# Usage: test_memory.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 180 "$0" "$@"
need_scanner "${1:-}"
command -v python3 >/dev/null || rs_skip "python3 not found (peak_rss needs it)"
net_up
T=$RS_TMP
peak_rss "$T/rss" true
read -r _ rc _ <"$T/rss"
[ "$rc" = 0 ] || rs_skip "cannot measure peak RSS: ptrace is not permitted here"

# rss LABEL CMD...: run CMD (output to /dev/null), set KIB to its peak RSS
# in KiB and say it; a check fails unless CMD exited 0.
rss() {
	local label=$1 rc
	shift
	peak_rss "$T/rss" "$@" >/dev/null 2>"$T/rss.err" </dev/null
	read -r KIB rc max nproc <"$T/rss"
	if [ "$nproc" = 1 ]; then
		rs_say "  $label: peak RSS $KIB KiB (exit $rc)"
	else
		rs_say "  $label: peak RSS $KIB KiB summed over $nproc processes (largest $max KiB; exit $rc)"
	fi
	if [ "$rc" = 0 ] && [ "$KIB" -gt 0 ]; then rs_pass; else
		rs_nok "$label: exit $rc"
		sed 's/^/    stderr: /' "$T/rss.err" | tail -5 >&2
	fi
}

rs_say "dry runs, 1 port:"
rss "127.0.0.0/24 (256 lines)" "$RS" --dry-run --seed 1 -p 22 127.0.0.0/24 -o /dev/null
small=$KIB
rss "127.0.0.0/12 (1,048,576 lines)" "$RS" --dry-run --seed 1 -p 22 127.0.0.0/12 -o /dev/null
big=$KIB
diff=$((big > small ? big - small : small - big))
if [ "$diff" -lt 1024 ]; then rs_pass; else
	rs_nok "the /12 dry run peaked at $big KiB, the /24 one at $small KiB: $diff KiB apart (limit 1024)"
fi
n=$(timeout -k 5 60 "$RS" --dry-run --seed 1 -p 22 127.0.0.0/12 2>"$T/count.err" | wc -l)
if [ "$n" = 1048576 ]; then rs_pass; else rs_nok "the /12 dry run printed $n lines, want 1048576"; fi

# 20,000 disjoint ranges spread over 127.0.0.0/8, every 800 addresses from
# 127.0.3.232 (1000): an address, an a-b range of 2..50, a /28, a /30.
# Also "LO HI" (as numbers) per range in excl.num.
awk -v num="$T/excl.num" 'BEGIN {
	base = 127 * 16777216
	for (i = 0; i < 20000; i++) {
		if (i % 1000 == 0) print "# block " i / 1000
		a = base + 1000 + i * 800
		k = i % 4
		if (k == 2) a -= a % 16
		if (k == 3) a -= a % 4
		s = sprintf("%d.%d.%d.%d", int(a / 16777216), int(a / 65536) % 256, int(a / 256) % 256, a % 256)
		if (k == 0) { print s; b = a }
		else if (k == 1) { b = a + 1 + i % 49; printf "%s-%d.%d.%d.%d  # range\n", s, int(b / 16777216), int(b / 65536) % 256, int(b / 256) % 256, b % 256 }
		else if (k == 2) { print s "/28"; b = a + 15 }
		else { print "  " s "/30"; b = a + 3 }
		print a, b >num
	}
}' >"$T/excl.txt"
[ "$(grep -c '^ *[0-9]' "$T/excl.txt")" = 20000 ] || rs_fail "test bug: the exclusion file is short"
# The exclusions work: within 127.0.0.0/16, a dry run lists exactly the
# addresses outside the ranges.
if dry_run "$T/x16" --seed 3 -p 80 127.0.0.0/16 --exclude-file "$T/excl.txt"; then
	ip4_seq 127.0.0.0 127.0.255.255 | awk -v num="$T/excl.num" '
		BEGIN {
			n = 0
			while ((getline l < num) > 0) {
				split(l, r, " ")
				if (r[1] + 0 < 2130706432 + 65536) { lo[n] = r[1] + 0; hi[n] = r[2] + 0; n++ }
			}
		}
		{ split($1, q, "."); a = ((q[1] * 256 + q[2]) * 256 + q[3]) * 256 + q[4]
		  for (i = 0; i < n; i++) if (a >= lo[i] && a <= hi[i]) next
		  print $1, 80 }' >"$T/x16.want"
	dry_pairs "$T/x16" >"$T/x16.got"
	rs_check "127.0.0.0/16 minus the exclusion file" same_set "127.0.0.0/16 minus the exclusion file" "$T/x16.want" "$T/x16.got"
else
	rs_nok "dry run of 127.0.0.0/16 with the exclusion file"
fi

rs_say "dry run of 127.0.0.0/8 minus $(grep -c '^ *[0-9]' "$T/excl.txt") ranges, first 2,000,000 lines:"
peak_rss "$T/rss" "$RS" --dry-run --seed 2 -p 80 127.0.0.0/8 --exclude-file "$T/excl.txt" 2>"$T/excl.err" </dev/null |
	head -n 2000000 | wc -l >"$T/excl.count"
read -r kib rc _ <"$T/rss"
rs_say "  peak RSS $kib KiB (exit $rc; head stopped it)"
case $rc in
0 | 1 | -13) rs_pass ;; # done, EPIPE, SIGPIPE
*) rs_nok "the dry run with 20,000 exclusions: exit $rc" ;;
esac
if [ "$(cat "$T/excl.count")" = 2000000 ]; then rs_pass; else
	rs_nok "the dry run with 20,000 exclusions printed $(cat "$T/excl.count") lines before head stopped it, want 2000000"
	sed 's/^/    stderr: /' "$T/excl.err" | head -5 >&2
fi
if [ "$kib" -lt 65536 ]; then rs_pass; else
	rs_nok "the dry run with 20,000 exclusions peaked at $kib KiB (limit 65536)"
fi

rs_say "real scans, 1 port, all closed, 1 worker:"
rss "127.0.0.0/16 (65,536 probes)" "$RS" --all -q -w 1 -t 1000 --seed 4 -p 1 127.0.0.0/16 -o /dev/null
small=$KIB
rss "127.0.0.0/15 (131,072 probes)" "$RS" --all -q -w 1 -t 1000 --seed 4 -p 1 127.0.0.0/15 -o /dev/null
big=$KIB
diff=$((big > small ? big - small : small - big))
if [ "$diff" -lt 1024 ]; then rs_pass; else
	rs_nok "the /15 scan peaked at $big KiB, the /16 one at $small KiB: $diff KiB apart (limit 1024)"
fi
if [ "$big" -lt 65536 ]; then rs_pass; else rs_nok "the /15 scan peaked at $big KiB (limit 65536)"; fi

rs_summary memory
