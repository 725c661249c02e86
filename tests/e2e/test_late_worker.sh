#!/usr/bin/env bash
# test_late_worker: a worker that gets no CPU while its answers arrive must
# not time them out. io_uring's timeouts run in the kernel and the connect
# completes meanwhile; the epoll backend's timers are its own, so when it
# runs again every timer is overdue while the answers wait unread, more of
# them than one epoll batch (256) holds.
#
# Behind an emulated link of RTT 800 ms (tests/e2e/linkworld.sh), 2,048
# open ports are probed at once (-w 1 -c 2048 --fixed-rate -t 1000
# --retries 0). As soon as the targets' side has seen every SYN, the
# worker is stopped (SIGSTOP) and continued 1.6 s later: the SYN-ACKs came
# and every timer fell due meanwhile. The SYN-ACKs take 400 ms back: the
# time this script has to stop the worker once it has counted the SYNs
# (at RTT 400 ms, a clean-clone CI with both suites at once and a busy
# machine stopped it too late: 1,659 of 2,048 read after 1 s). Then every port must read open, and
# (the proof that the stop came before the answers were read) nearly every
# answer's rtt_us must exceed the 1 s timeout. Before the late-timer check
# in engine_epoll.c, the epoll engine read most of them filtered.
# Usage: test_late_worker.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/linkworld.sh"
ns_reexec 180 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap 'link_cleanup; world_down' EXIT
RS_NPASS=0 RS_NFAIL=0
link_ns_up
W=$RS_TMP/w
world_gen "$W" --seed 41 --addrs 127.60.0.0/24 --ports 7000-7007 --open 100
[ "$(grep -c ' open$' "$W/truth.txt")" = 2048 ] || rs_fail "world: not 2,048 open ports"
link_world_up "$W"
inT nft -f - <<'EOF'
table inet syns {
	chain in {
		type filter hook input priority -300;
		tcp flags & (syn | ack) == syn counter
	}
}
EOF
syns() { inT nft list chain inet syns in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
link_up --seed 7 --delay 400ms

out=$RS_TMP/late.jsonl
"$RS" --all -q -w 1 -c 2048 --fixed-rate -r 100000 -t 1000 --retries 0 \
	127.60.0.0/24 -p 7000-7007 -o "$out" 2>"$RS_TMP/late.err" &
pid=$!
worker=
for _ in $(seq 1 1500); do # every SYN at the targets, within 30 s
	[ -n "$worker" ] || worker=$(pgrep -P $pid | head -n 1 || true)
	[ -n "$worker" ] && [ "$(syns)" -ge 2048 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.02
done
[ -n "$worker" ] && kill -STOP "$worker" || rs_fail "no worker to stop (scan ended early?)"
sent=$(syns)
sleep 1.6
kill -CONT "$worker"
rc=0
timeout 60 tail --pid=$pid -f /dev/null || rc=$?
wait $pid || rc=$?
link_down
rs_say "stopped the worker when the targets had seen $sent SYNs"
[ $rc = 0 ] || { cat "$RS_TMP/late.err" >&2; rs_fail "scan exit $rc"; }
check_scan "$W/truth.txt" "$out" "a worker stopped while its answers came" && rs_pass ||
	rs_nok "answers that waited for the worker were not all open"
late=$(grep -c '"rtt_us":[0-9]\{7,\}' "$out" || true) # >= 1 s
rs_check "the stop came before the answers were read ($late of 2048 read after 1 s)" \
	[ "$late" -ge 1900 ]
rs_summary late_worker
