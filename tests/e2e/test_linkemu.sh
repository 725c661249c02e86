#!/usr/bin/env bash
# test_linkemu: the link emulator (build/tools/linkemu) itself, on a world
# of two namespaces: S (the scanner's: this test's own) and T (the
# targets', a nested `unshare -n`), joined by TUN devices lea (in S,
# 127.1.0.1) and leb (in T) through one linkemu process. T holds
# 127.60.0.0/15 as local addresses, a listener on port 7000, an nft reset on
# 7001, nothing on 7002 and an nft drop on 7003. Checks:
#   1. a fixed 50 ms each way: every TCP connect from S takes >= 100 ms
#      (and not much more);
#   2. per-subnet delays: 127.61/16 at 80 ms, the rest at 10 ms; jitter;
#   3. 100% loss: nothing gets through and the counters say so; 30% loss
#      over 4,000 datagrams: the counters say 25% to 34% lost;
#   4. a 2 Mbit/s bottleneck with a 50-packet queue, flooded at ~4x:
#      drops by queue, forwards near 2 Mbit/s (the emulator's counters);
#   5. a smoke scan across a 20 ms link: build/ringscan --all gives the
#      exact state of every pair.
# engine-independent: a test tool's test. Its one scan (5.) only shows that
# TCP crosses the emulated link; scans across links on every engine are
# test_wan's.
# Usage: test_linkemu.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 60 "$0" "$@"
need_scanner "${1:-build}"
need_tools
command -v python3 >/dev/null || rs_skip "python3 not found"
. "$(dirname "$0")/linkworld.sh"
T=$RS_TMP
trap link_cleanup EXIT

# S (this namespace) and T, the target side: 127.60.0.0/15 local there, a
# listener on 7000, an nft reset on 7001, nothing on 7002, a drop on 7003.
link_ns_up
inT nft -f - <<'EOF'
table inet linkemu {
	chain input {
		type filter hook input priority 0;
		tcp dport 7001 reject with tcp reset
		tcp dport 7003 drop
	}
}
EOF
echo 7000 >"$T/ports"
inT "$RS_TOOLS/listener" --ports-file "$T/ports" --ready "$T/lready" 2>/dev/null &
LINK_LPID=$!
for _ in $(seq 50); do [ -e "$T/lready" ] && break; sleep 0.1; done
[ -e "$T/lready" ] || rs_fail "listener not ready"

# emu_start ARGS...: linkemu with ARGS (seed 7); emu_stop: its counters.
emu_start() { link_up --seed 7 "$@"; }
emu_stop() {
	link_down
	rs_say "  $(tr '\n' ' ' <"$LINK_DIR/stats")"
}
ctr() { link_ctr "$@"; }

# rtts ADDR N: N sequential connects to ADDR:7000, one time in ms per line
# (a failure prints "fail").
rtts() {
	python3 - "$1" "$2" <<'EOF'
import socket, sys, time
for _ in range(int(sys.argv[2])):
    s = socket.socket()
    s.settimeout(2)
    t = time.monotonic()
    try:
        s.connect((sys.argv[1], 7000))
        print(int((time.monotonic() - t) * 1000))
    except OSError:
        print("fail")
    s.close()
EOF
}
# udp_send COUNT SIZE PPS: COUNT datagrams of SIZE bytes to 127.60.0.1:9,
# paced at PPS (bursts of 10); prints the seconds it took.
udp_send() {
	python3 - "$@" <<'EOF'
import socket, sys, time
n, size, pps = (int(a) for a in sys.argv[1:4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
for i in range(n):
    if i % 10 == 0:
        d = t0 + i / pps - time.monotonic()
        if d > 0:
            time.sleep(d)
    try:
        s.sendto(b"x" * size, ("127.60.0.1", 9))
    except OSError:
        pass
print("%.3f" % (time.monotonic() - t0))
EOF
}
# in_range V LO HI: LO <= V <= HI (integers).
in_range() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

# connects_within LO HI TIMES...: every connect succeeded, in LO..HI ms.
connects_within() {
	local lo=$1 hi=$2 v
	shift 2
	for v in "$@"; do
		[ "$v" != fail ] || rs_fail "a connect failed across the link"
		in_range "$v" "$lo" "$hi" || rs_fail "connect took $v ms, want $lo..$hi"
	done
}

# 1. A fixed delay of 50 ms each way.
emu_start --delay 50ms
got=$(rtts 127.60.0.1 3 | tr '\n' ' ')
emu_stop
rs_say "delay 50ms each way: connect times (ms) $got"
connects_within 100 400 $got

# 2. Per-subnet delays.
emu_start --delay 10ms --delay 127.61.0.0/16=80ms
near=$(rtts 127.60.0.1 3 | sort -n | head -1)
far=$(rtts 127.61.0.1 3 | sort -n | head -1)
emu_stop
rs_say "per-subnet: near (10 ms) $near ms, far (80 ms) $far ms"
if [ "$near" = fail ] || [ "$far" = fail ]; then rs_fail "a connect failed"; fi
in_range "$near" 20 150 || rs_fail "near RTT $near ms, want 20..150"
in_range "$far" 160 400 || rs_fail "far RTT $far ms, want 160..400"
[ $((far - near)) -ge 100 ] || rs_fail "far - near = $((far - near)) ms, want >= 100"

# 2b. Jitter: 30 +- 20 ms each way; no connect faster than 20 ms, and the
# times differ.
emu_start --delay 30ms --jitter 20ms
got=$(rtts 127.60.0.1 6 | sort -n | tr '\n' ' ')
emu_stop
rs_say "jitter 30 +- 20 ms each way: connect times (ms) $got"
connects_within 20 400 $got
read -r -a j <<<"$got"
[ $((j[5] - j[0])) -ge 3 ] || rs_fail "jitter: connect times within 3 ms of each other"

# 3. Loss: 100%, then 30% one way.
emu_start --loss 100
udp_send 500 64 20000 >/dev/null
got=$(rtts 127.60.0.1 1)
emu_stop
[ "$got" = fail ] || rs_fail "a connect went through a 100% loss link"
rx=$(ctr a2b rx) lost=$(ctr a2b lost) fwd=$(ctr a2b fwd)
rs_say "loss 100%: a2b rx=$rx lost=$lost fwd=$fwd"
if [ "$fwd" != 0 ] || [ "$lost" != "$rx" ]; then rs_fail "100% loss: counters do not add up"; fi
in_range "$rx" 400 520 || rs_fail "100% loss: rx=$rx, want ~500"

emu_start --loss a2b:30
udp_send 4000 64 10000 >/dev/null
emu_stop
rx=$(ctr a2b rx) lost=$(ctr a2b lost) fwd=$(ctr a2b fwd)
rs_say "loss 30%: a2b rx=$rx lost=$lost fwd=$fwd"
# (a starved emulator may let the TUN's queue drop some: ratio over >= 2000)
in_range "$rx" 2000 4100 || rs_fail "30% loss: rx=$rx, want ~4000"
[ $((lost + fwd)) = "$rx" ] || rs_fail "30% loss: lost + fwd != rx"
[ "$(ctr b2a lost)" = 0 ] || rs_fail "a2b:30 loss dropped b2a packets too"
in_range $((lost * 100 / rx)) 25 34 || rs_fail "30% loss: lost $lost of $rx"

# 4. A 2 Mbit/s bottleneck with a 50-packet queue, flooded at ~4x for 2 s
# (1,028-byte IP packets: 243 per second fit).
emu_start --rate a2b:2mbit --queue a2b:50
secs=$(udp_send 2000 1000 1000)
emu_stop
fwd=$(ctr a2b fwd) qdrop=$(ctr a2b qdrop) rx=$(ctr a2b rx) held=$(ctr a2b held)
# Packets still in the queue at the stop have been through the link's rate.
fwd=$((fwd + held))
want=$(python3 -c "print(int($secs * 2e6 / 8 / 1028 + 50))")
rs_say "bottleneck 2 Mbit/s, queue 50: sent for ${secs}s, rx=$rx fwd=$fwd (expected ~$want) qdrop=$qdrop"
[ "$qdrop" -gt 0 ] || rs_fail "bottleneck: no queue drops under a 4x flood"
[ $((fwd + qdrop)) = "$rx" ] || rs_fail "bottleneck: fwd + qdrop != rx"
in_range "$fwd" $((want * 80 / 100)) $((want * 112 / 100)) ||
	rs_fail "bottleneck: forwarded $fwd, want ~$want"

# 5. A smoke scan across a 20 ms link: exact states.
emu_start --delay 20ms
run_scan 20 --all -q -w 1 -p 7000-7003 127.60.0.0/30 127.61.0.1 -o "$T/scan.jsonl" ||
	rs_fail "ringscan exited $?: $(cat "$RS_TMP/scan.err")"
emu_stop
for a in 127.60.0.0 127.60.0.1 127.60.0.2 127.60.0.3 127.61.0.1; do
	printf '%s 7000 open\n%s 7001 closed\n%s 7002 closed\n%s 7003 filtered\n' "$a" "$a" "$a" "$a"
done | sort >"$T/truth"
check_scan "$T/truth" "$T/scan.jsonl" "scan across a 20 ms link" || rs_fail "scan not exact"
rs_say "PASS: test_linkemu"
