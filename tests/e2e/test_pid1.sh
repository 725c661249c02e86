#!/usr/bin/env bash
# test_pid1: ringscan works as PID 1 (a container entrypoint, a Kubernetes
# Job). Its workers must not mistake their parent for init and quit.
# Usage: test_pid1.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 120 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT
W=$RS_TMP/w
world_gen "$W" --seed 5 --addrs 127.6.0.0/28 --ports 3000-3003 --open 30 --filtered 5 --unreachable 10
world_up "$W"
# A nested pid namespace makes the scanner its PID 1.
unshare -pf --mount-proc "$RS" --all -q -w 2 -t 300 --retries 0 --seed 5 \
	127.6.0.0/28 -p 3000-3003 -o "$RS_TMP/out.jsonl" 2>"$RS_TMP/err" ||
	{ cat "$RS_TMP/err" >&2; rs_fail "ringscan as PID 1 exited non-zero"; }
check_scan "$W/truth.txt" "$RS_TMP/out.jsonl" "ringscan as PID 1" || exit 1
rs_say "ok: exact answers with ringscan as PID 1"
