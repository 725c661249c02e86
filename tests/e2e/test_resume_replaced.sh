#!/usr/bin/env bash
# test_resume_replaced: a resumed scan refuses an output that is not the one
# its checkpoint describes (issue 10, defect 8).
#
# A 3,072-probe world is scanned with --resume and stopped by SIGTERM once a
# checkpoint records answers, resumed and stopped again (so the checkpoint
# used below was written by a resumed run, whose output checksum went on
# from the first run's). Then:
#  1. The output replaced by other content of the same length (its own
#     lines in reverse order: the same set of lines, the same byte count),
#     by a copy with one byte changed inside the checkpointed prefix and
#     junk lines added after it, and by a longer file of junk lines: each
#     resume must exit 2 with one line naming -o/--output and --resume,
#     and leave the output and the checkpoint untouched, sending nothing.
#  2. Positive control: the untouched output, with a partial junk line
#     appended after what the checkpoint records (an answer cut short by a
#     crash; the resume truncates it away), resumes with exit 0 and the
#     final output equals the ground truth exactly, each pair once.
# Usage: test_resume_replaced.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 180 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT
W=$RS_TMP/w
# 256 addresses x 12 ports = 3,072 pairs: 5% open, 1% filtered, 1%
# unreachable, the rest closed. At -r 1000 a whole scan takes about 3 s.
world_gen "$W" --seed 8 --addrs 127.21.0.0/24 --ports 7000-7011 --open 5 --filtered 1 \
	--unreachable 1
world_up "$W"
N=3072
[ "$(wc -l <"$W/truth.txt")" = $N ] || rs_fail "world: $(wc -l <"$W/truth.txt") pairs"
ARGS=(--all -q -w 2 -t 300 --retries 0 --seed 8 127.21.0.0/24 -p 7000-7011)
out=$RS_TMP/out.jsonl ck=$RS_TMP/scan.ck

# ck_length CHECKPOINT: the output length it records (empty while there is none).
ck_length() { sed -n 's/^length //p' "$1" 2>/dev/null || true; }

# interrupt LABEL ABOVE: a --resume run at -r 1000, stopped by SIGTERM once
# its checkpoint records more than ABOVE output bytes; it must exit 143
# mid-scan, with the output holding exactly what the checkpoint records.
interrupt() {
	local label=$1 above=$2 rc=0 len
	"$RS" "${ARGS[@]}" -r 1000 --checkpoint-interval 200 --resume "$ck" -o "$out" \
		2>"$RS_TMP/$label.err" &
	local pid=$!
	for _ in $(seq 1 200); do # 20 s at most
		len=$(ck_length "$ck")
		[ -n "$len" ] && [ "$len" -gt "$above" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || rs_fail "$label: the scan ended before a checkpoint recorded answers"
	wait "$pid" || rc=$?
	[ $rc = 143 ] || { cat "$RS_TMP/$label.err" >&2; rs_fail "$label: exit $rc, want 143"; }
	local n
	n=$(ck_answered "$ck")
	[ "$n" -gt 0 ] && [ "$n" -lt $N ] || rs_fail "$label: $n answers recorded: not mid-scan"
	[ "$(ck_length "$ck")" = "$(wc -c <"$out")" ] ||
		rs_fail "$label: the checkpoint records $(ck_length "$ck") bytes, the output has $(wc -c <"$out")"
	rs_say "$label: SIGTERM after $n answers, $(wc -c <"$out") bytes"
}

interrupt first 0
interrupt resumed "$(ck_length "$ck")"
len=$(ck_length "$ck")
cp "$out" "$RS_TMP/good.jsonl"
ck_sum=$(md5sum <"$ck")
syns=$(nft_syns)

# 1. Replaced outputs: refused, nothing changed, nothing sent.
# replaced LABEL: the output now in $out must be refused as it is.
replaced() {
	local label=$1 sum
	sum=$(md5sum <"$out")
	cmp -s "$out" "$RS_TMP/good.jsonl" && rs_fail "$label: the output is not replaced"
	[ "$(wc -c <"$out")" -ge "$len" ] || rs_fail "$label: shorter than the checkpoint"
	refused "--resume: -o/--output '.*out\.jsonl' is not the output '.*scan\.ck' records" \
		"first $len bytes differ" -- "${ARGS[@]}" --resume "$ck" -o "$out" ||
		rs_fail "$label: the replaced output was not refused"
	[ "$(wc -l <"$RS_TMP/refused.err")" = 1 ] || rs_fail "$label: more than one line on stderr"
	[ "$(md5sum <"$out")" = "$sum" ] || rs_fail "$label: the refused output was changed"
	[ "$(md5sum <"$ck")" = "$ck_sum" ] || rs_fail "$label: the checkpoint was changed"
	rs_say "ok: $label: refused, output and checkpoint untouched"
}

tac "$RS_TMP/good.jsonl" >"$out"
[ "$(wc -c <"$out")" = "$len" ] || rs_fail "the reversed output is not of the same length"
replaced "same lines in another order, same length"

# One byte inside the prefix: the middle line's opening brace.
mid=$(($(wc -l <"$RS_TMP/good.jsonl") / 2))
{
	sed "${mid}s/^{/[/" "$RS_TMP/good.jsonl"
	for i in $(seq 1 2000); do
		printf '{"ip":"127.21.9.%d","port":9,"proto":"tcp","state":"open"}\n' $((i % 256))
	done
} >"$out"
replaced "one byte changed in the prefix, junk lines after it"

for i in $(seq 1 $((len / 50 + 2000))); do
	printf '{"ip":"127.21.9.%d","port":%d,"proto":"tcp","state":"open"}\n' $((i % 256)) \
		$((i % 60000))
done >"$out"
replaced "a longer file of junk lines"
[ "$(nft_syns)" = "$syns" ] || rs_fail "the refusals sent $(($(nft_syns) - syns)) SYNs"

# 2. Positive control: the output the checkpoint describes, plus a partial
# line after it, resumes and completes exactly.
{
	cat "$RS_TMP/good.jsonl"
	printf '{"ip":"127.21.'
} >"$out"
rc=0
timeout -k 5 60 "$RS" "${ARGS[@]}" -r 5000 --resume "$ck" -o "$out" 2>"$RS_TMP/final.err" || rc=$?
[ $rc = 0 ] || { cat "$RS_TMP/final.err" >&2; rs_fail "the untouched output: resume exit $rc"; }
cmp -s <(head -c "$len" "$out") "$RS_TMP/good.jsonl" || rs_fail "the resumed output's prefix changed"
check_scan "$W/truth.txt" "$out" "resume" || rs_fail "the resumed output is not the ground truth"
[ "$(wc -l <"$out")" = $N ] || rs_fail "the resumed output has $(wc -l <"$out") lines, want $N"
[ "$(sed -n 's/^low //p' "$ck")" = $N ] || rs_fail "the final checkpoint is not finished"
rs_say "ok: the untouched output resumed: $N answers, each once, equal to the ground truth"
rs_say "PASS: test_resume_replaced"
