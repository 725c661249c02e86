#!/usr/bin/env bash
# test_wan: exact answers at the defaults across emulated real links
# (tests/e2e/linkworld.sh, docs/link-emulator.md). One world of 4,096
# addresses x 4 ports (127.60.0.0/20: ~2% open, ~2% filtered, the rest
# closed) behind each of these links, scanned with no timing option at all:
#   1. RTT 100 ms +- 10 ms, 1% loss each way (2% round trip);
#   2. a 10 Mbit/s bottleneck with a 100-packet queue, RTT 40 ms;
#   3. near and far: 127.60.8.0/21 at RTT 300 ms, the rest at 20 ms, 2%
#      loss each way, 50 Mbit/s with a 500-packet queue; also checks that
#      each answer's rtt_us is its own round trip (docs/output-schema.md);
#   4. one /24 whose SYNs are limited to 300 per second (an nft limit, as
#      rate-limiting hosts do), RTT 40 ms.
# Every scan must give the ground truth exactly; the link's counters and
# the scan's --stats are shown. A run behind an emulator that fell behind
# (its lag p99 over 5 ms) is measured again, at most 3 times (scan below).
# Usage: test_wan.sh BUILD_DIR
# engines: split (each engine once, plain or ASan: 40-45 s a run)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 400 "$0" "$@"
need_scanner "${1:-build}"
need_tools
. "$(dirname "$0")/linkworld.sh"
command -v python3 >/dev/null || rs_skip "python3 not found"
trap link_cleanup EXIT

NET=127.60.0.0/20
link_ns_up
W=$RS_TMP/w
world_gen "$W" --seed 11 --addrs $NET --ports 7000-7003 --open 2 --filtered 2
link_world_up "$W"

# scan NAME LINK_ARGS...: behind a link made with LINK_ARGS, scan the world
# at the defaults; exact, or fail. A run that is not exact while the
# emulator itself fell behind (lag p99 over 5 ms, both ways together) was
# not behind the link asked for: a clean-clone CI with both suites side by
# side once had the emulator 22-33 ms late at p99, and a third of the
# first attempts timed out where 7% do. Such a run is measured again, at
# most 3 times in all; one that is not exact behind a timely emulator
# fails at once.
scan() {
	local name=$1 try lag
	shift
	for try in 1 2 3; do
		link_up "$@"
		scan_once "$name" && { link_down; rs_say "  link: $(tr '\n' ' ' <"$LINK_DIR/stats")"; return 0; }
		link_down
		rs_say "  link: $(tr '\n' ' ' <"$LINK_DIR/stats")"
		lag=$(($(link_ctr a2b lag_p99_us) + $(link_ctr b2a lag_p99_us)))
		[ "$lag" -gt 5000 ] || rs_fail "$name: not exact behind a timely emulator (lag p99 $lag us)"
		[ "$try" != 3 ] || rs_fail "$name: not exact in 3 runs (the emulator lagged in each; last $lag us at p99)"
		rs_say "  ($name: not exact, but the emulator lagged $lag us at p99: measured again)"
	done
}

# scan_once NAME: one scan of the world behind the link that is up.
scan_once() {
	local out=$RS_TMP/$1.jsonl t0
	t0=$(date +%s%N)
	run_scan 120 --all -q --stats "$RS_TMP/$1.stats" $NET -p 7000-7003 -o "$out" ||
		rs_fail "$1: ringscan failed"
	local ms=$((($(date +%s%N) - t0) / 1000000))
	python3 - "$RS_TMP/$1.stats" "$1" "$ms" <<'EOF' >&2
import json, sys
d = json.load(open(sys.argv[1]))
s = d["sending"]
print("  %s: %d probes in %s ms, %d retries; peak %d/s, %d cuts, %.1f%% first attempts timed "
      "out, timeout %.0f ms, up to %d attempts" % (sys.argv[2], d["targets"], sys.argv[3],
      d["retries"], s["rate_peak"], s["cuts"], 100 * s["first_timeouts"], s["timeout_ms"],
      s["attempts_max"]))
EOF
	check_scan "$W/truth.txt" "$out" "$1: ringscan at the defaults"
}

rs_say "1. RTT 100 ms +- 10 ms, 1% loss each way"
scan lossy --seed 1 --delay 50ms --jitter 5ms --loss 1

rs_say "2. 10 Mbit/s, 100-packet queue, RTT 40 ms"
scan bottleneck --seed 2 --delay 20ms --rate 10mbit --queue 100
[ "$(link_ctr a2b qdrop)" -gt 0 ] || rs_say "  (the queue never overflowed)"

rs_say "3. near (RTT 20 ms) and far (127.60.8.0/21, RTT 300 ms), 2% loss each way, 50 Mbit/s, 500 packets"
scan nearfar --seed 3 --delay 10ms --delay 127.60.8.0/21=150ms --jitter 1ms --loss 2 \
	--rate 50mbit --queue 500
# Each answer's rtt_us is its own round trip: near 20 ms, far 300 ms (+- 2
# ms of jitter), plus the emulator's own lag and the worker's reaping delay:
# at the median at most the bound of docs/output-schema.md (2 ms); at the
# 99th percentile 5 ms, for the scheduling delay of a machine whose two
# cores run the emulator, the scanner and ASan (a CI run saw 2.5 ms).
# At a modest rate (-r 2000), so that the emulator keeps its time.
# rtt_check FILE LAG: the answers' rtt_us against the link's.
rtt_check() {
	python3 - "$1" "$2" <<'EOF'
import ipaddress, json, sys
lag = int(sys.argv[2])
near, far = [], []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["state"] not in ("open", "closed") or r["attempts"] != 1:
        continue
    far_host = ipaddress.ip_address(r["ip"]) in ipaddress.ip_network("127.60.8.0/21")
    (far if far_host else near).append(r["rtt_us"])
ok = len(near) > 1000 and len(far) > 1000
for name, v, rtt in (("near", near, 20000), ("far", far, 300000)):
    v.sort()
    lo, med, p99 = v[0], v[len(v) // 2], v[int(len(v) * 0.99)]
    good = lo >= rtt - 2000 and med <= rtt + 2000 + lag and p99 <= rtt + 2000 + 5000 + lag
    print("  rtt_us %s: %d answers, min %d, median %d, p99 %d, max %d (link %d us, lag p99 %d us)%s"
          % (name, len(v), lo, med, p99, v[-1], rtt, lag, "" if good else "   <-- wrong"),
          file=sys.stderr)
    ok = ok and good
sys.exit(0 if ok else 1)
EOF
}
# A run in which the emulator itself fell behind (its lag p99, both ways,
# over 5 ms: the machine was busy with something else) is judged with the
# lag added and, if still out of bounds, measured again, at most 3 times:
# a late emulator's clock cannot show a wrong rtt_us. So is a run in which
# tasks waited for a CPU more than a quarter of the time (the kernel's
# pressure stall information, /proc/pressure/cpu "some"): the bound is for
# a worker that gets a core when its answer arrives (docs/output-schema.md),
# and a fresh Debian root's make test, with other jobs beside it, once saw
# 1% of the far answers reaped 600 ms late on a timely link. A run out of
# bounds on a timely link and an uncontended machine is measured again too:
# a clean-clone CI with both suites side by side once saw 21 of 2,003 far
# answers 9-16 ms late with the emulator timely (lag p99 2.3 ms) and less
# than a quarter of the run contended over its 8 s, a stall the averages
# do not show; the same binary was within bounds in the runs after it. So
# the check fails when none of 3 runs is within bounds and at least one of
# them was timely and uncontended (a wrong rtt_us is wrong every time); if
# all three were disturbed (a late emulator or a starved scanner), it says
# so and is not judged.
# cpu_some: microseconds some task has waited for a CPU since boot (0: no PSI).
cpu_some() { sed -n 's/^some .*total=\([0-9]*\)$/\1/p' /proc/pressure/cpu 2>/dev/null || echo 0; }
judged=0
for try in 1 2 3; do
	link_up --seed 5 --delay 10ms --delay 127.60.8.0/21=150ms --jitter 1ms
	p0=$(cpu_some) t0=$(date +%s%N)
	run_scan 60 --all -q -r 2000 $NET -p 7000 -o "$RS_TMP/rtt.jsonl" || rs_fail "rtt scan failed"
	p1=$(cpu_some) t1=$(date +%s%N)
	link_down
	lag=$(($(link_ctr a2b lag_p99_us) + $(link_ctr b2a lag_p99_us)))
	busy=$(((${p1:-0} - ${p0:-0}) * 100000 / (t1 - t0 + 1))) # percent of the run
	rtt_check "$RS_TMP/rtt.jsonl" "$lag" && break
	if [ "$lag" -le 5000 ] && [ "$busy" -le 25 ]; then
		judged=$((judged + 1))
		why="out of bounds on a timely link (lag p99 $lag us, $busy% contended)"
	else
		why="the emulator lagged $lag us at p99, tasks waited for a CPU $busy% of the run"
	fi
	if [ "$try" != 3 ]; then
		rs_say "  ($why: measured again)"
	elif [ $judged -gt 0 ]; then
		rs_fail "rtt_us is not each probe's round trip (no run of 3 within bounds; $judged on a timely link and an uncontended machine)"
	else
		rs_say "  (not judged: in each of 3 runs the emulator lagged over 5 ms or tasks waited for a CPU over 25% of it; last: $lag us, $busy%)"
	fi
done

rs_say "4. one /24 limited to 300 SYNs/s, RTT 40 ms"
inT nft -f - <<'EOF'
table inet ratelimit {
	chain input {
		type filter hook input priority -10;
		ip daddr 127.60.5.0/24 tcp flags & (syn | ack) == syn limit rate over 300/second burst 20 packets drop
	}
}
EOF
scan ratelimited --seed 4 --delay 20ms
rs_say "ok: exact at the defaults on every link"
