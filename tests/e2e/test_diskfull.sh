#!/usr/bin/env bash
# test_diskfull: an output that becomes unwritable mid-scan (a full disk:
# a 1 MiB tmpfs) stops the scan with a clear error, exit 1, and leaves a
# checkpoint that resumes correctly once there is room (the tmpfs grown):
# the final output equals the ground truth, no pair twice. Then the same
# for the checkpoint's own disk filling up: the previous checkpoint must
# hold.
# Usage: test_diskfull.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
# tmpfs needs a mount namespace of our own (ns_run may not have made one).
if [ -z "${RS_IN_MNTNS:-}" ]; then
	RS_IN_MNTNS=1 exec unshare -m bash "$0" "$@"
fi
trap 'world_down; umount "$RS_TMP/small" 2>/dev/null || true' EXIT
W=$RS_TMP/w
# 65,536 pairs, about 9 MB of JSON lines: 1 MiB fills within the first 10%.
world_gen "$W" --seed 29 --addrs 127.21.0.0/18 --ports 6100-6103 --open 2 --filtered 1 \
	--unreachable 1
world_up "$W"
mkdir -p "$RS_TMP/small"
ARGS=(--all -q -w 2 -t 300 --retries 0 --seed 29 127.21.0.0/18 -p 6100-6103)

# full WHERE: WHERE (output or checkpoint) is on a 1 MiB tmpfs that fills
# mid-scan: by the output's own lines, or, for the checkpoint, by a filler
# file written while the scan runs. Either way: exit 1 with a clear error,
# a checkpoint that holds, and after room is made an exact resume.
full() {
	local where=$1 out ck rc n len
	mount -t tmpfs -o size=1m tmpfs "$RS_TMP/small" || rs_skip "cannot mount a tmpfs"
	if [ "$where" = output ]; then
		out=$RS_TMP/small/out.jsonl ck=$RS_TMP/scan.ck
	else
		out=$RS_TMP/out.jsonl ck=$RS_TMP/small/scan.ck
	fi
	rm -f "$ck" "$out"
	rc=0
	"$RS" "${ARGS[@]}" -r 10000 --resume "$ck" --checkpoint-interval 100 -o "$out" \
		2>"$RS_TMP/full.err" &
	pid=$!
	if [ "$where" = checkpoint ]; then
		sleep 0.5
		dd if=/dev/zero of="$RS_TMP/small/filler" bs=64k 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	cat "$RS_TMP/full.err" >&2
	[ $rc = 1 ] || rs_fail "$where: full disk: exit $rc, want 1"
	if [ "$where" = output ]; then
		# The drain's write or a checkpoint's flush, whichever meets the
		# full disk first (a loaded machine: the checkpoint, at times).
		grep -Eq "writing output: No space left on device; (stopping|'$ck' still resumes the scan)" \
			"$RS_TMP/full.err" ||
			rs_fail "$where: no clear error about the full disk"
	else
		grep -q "cannot write '$ck': No space left on device" "$RS_TMP/full.err" ||
			rs_fail "$where: no clear error about the full disk"
	fi
	grep -q "INCOMPLETE" "$RS_TMP/full.err" || rs_fail "$where: the summary does not say INCOMPLETE"
	[ -s "$ck" ] || rs_fail "$where: no checkpoint"
	n=$(ck_answered "$ck")
	len=$(sed -n 's/^length //p' "$ck")
	rs_say "$where: stopped with $(wc -c <"$out") bytes written; the checkpoint records $n answers in $len bytes"
	[ "$n" -lt 65536 ] || rs_fail "$where: the disk did not fill mid-scan"
	# Room again: the same command line finishes the scan.
	rm -f "$RS_TMP/small/filler"
	# (Name the source: for a non-root caller the kernel shows the tmpfs
	# with uid=/gid= options that this namespace cannot map, and mount(8),
	# given only the directory, passes them back and is refused.)
	mount -o remount,size=64m tmpfs "$RS_TMP/small" || rs_fail "cannot grow the tmpfs again"
	rc=0
	timeout -k 5 120 "$RS" "${ARGS[@]}" --resume "$ck" -o "$out" 2>"$RS_TMP/resume.err" || rc=$?
	[ $rc = 0 ] || { cat "$RS_TMP/resume.err" >&2; rs_fail "$where: resume: exit $rc"; }
	check_scan "$W/truth.txt" "$out" "$where: resumed after a full disk" || exit 1
	rs_say "ok: $where on a full disk -> exit 1 with a checkpoint; resumed: the exact ground truth"
	umount "$RS_TMP/small"
}
full output
full checkpoint
