#!/bin/bash
# Invariant 2: local resource trouble is backed off and retried, never a
# port state. Compat mode under a 64-fd limit, with 40 fds already held by
# the shell, runs into real EMFILE from socket(2): the scan must count the
# backoffs and still give the exact answers (16 filtered, 240 closed), for
# one and for two workers. --fixed-rate: all probes at once, so that the
# limit is met (the default gentle start may open too few sockets at once).
# On the engine under test (RS_ENGINE, from tests/run.sh --engines) in its
# plain-descriptor mode: compat for io_uring (direct descriptors are not
# what socket(2) runs out of), epoll itself.
set -eu
PATH=$PATH:/usr/sbin:/sbin # nft, for users whose PATH lacks them (as lib.sh does)
B=${1:-build}
RS=$(realpath "$B/ringscan")
case ${RS_ENGINE:-} in
'' | auto | uring | compat) E=compat ;;
*) E=$RS_ENGINE ;;
esac
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cat >"$T/body.sh" <<'BODY'
set -eu
RS=$1 T=$2 W=$3 E=$4
ip link set lo up
nft add table inet rsle
nft add chain inet rsle in '{ type filter hook input priority 0; }'
nft add rule inet rsle in ip daddr 127.9.0.0/28 tcp dport 80 drop
for i in $(seq 10 49); do eval "exec $i</dev/null"; done
prlimit --nofile=64 "$RS" -q --all -w "$W" -t 300 --retries 0 --fixed-rate --seed 3 \
	--engine "$E" 127.9.0.0/24 -p 80 -o "$T/out.jsonl" --stats "$T/stats.json"
BODY

for w in 1 2; do
	timeout 120 unshare -rn bash "$T/body.sh" "$RS" "$T" "$w" "$E" 2>"$T/err" || {
		echo "FAIL: scan exited non-zero (w=$w, --engine $E)"; cat "$T/err"; exit 1; }
	sed -E 's/^\{"ip":"([^"]+)","port":([0-9]+),"proto":"tcp","state":"([a-z]+)".*/\1 \2 \3/' \
		"$T/out.jsonl" | LC_ALL=C sort >"$T/got"
	for i in $(seq 0 255); do
		if [ "$i" -lt 16 ]; then s=filtered; else s=closed; fi
		echo "127.9.0.$i 80 $s"
	done | LC_ALL=C sort >"$T/want"
	if ! diff -q "$T/want" "$T/got" >/dev/null; then
		echo "FAIL: answers differ from ground truth (w=$w)"
		diff "$T/want" "$T/got" | head -20
		exit 1
	fi
	backoffs=$(sed -E 's/.*"local_errors":([0-9]+).*/\1/' "$T/stats.json")
	if [ "$backoffs" -eq 0 ]; then
		echo "FAIL: no local-error backoff happened (w=$w): the test did not test"
		cat "$T/stats.json"; exit 1
	fi
	echo "ok: w=$w --engine $E: exact answers after $backoffs EMFILE backoffs"
done
