#!/usr/bin/env bash
# soak.sh BUILD_DIR [KILLS]: make soak (not CI). Scans a 1,048,576-probe
# mixed world with --resume while killing, with SIGKILL, at random moments,
# KILLS times (default 20) in all: a random worker (the coordinator hands
# its work over and goes on), the coordinator alone (its workers follow by
# PDEATHSIG), or the whole process group; after each death of the
# coordinator the same command line resumes. The final output must equal
# the ground truth with no pair twice, and --stats must count every probe.
# Prints one line per kill and the totals; exit 0 only if nothing was lost.
set -eu
. "$(dirname "$0")/../e2e/lib.sh"
ns_reexec 1800 "$0" "$@"
need_scanner "${1:-}"
need_tools
KILLS=${2:-20}
trap world_down EXIT
W=$RS_TMP/w
# 65,536 addresses x 16 ports: 1% open, 2% filtered, 1% unreachable, the
# rest closed, plus a dark /24 (every port filtered).
world_gen "$W" --seed 31 --addrs 127.30.0.0/16 --ports 7100-7115 --open 1 --filtered 2 \
	--unreachable 1 --dark 127.30.77.0/24
world_up "$W"
total=$(wc -l <"$W/truth.txt")
[ "$total" = 1048576 ] || rs_fail "world: $total pairs"
out=$RS_TMP/soak.jsonl ck=$RS_TMP/soak.ck
ARGS=(--all -q -w 2 -t 300 --retries 1 --seed 31 127.30.0.0/16 -p 7100-7115
	--resume "$ck" --checkpoint-interval 500 -o "$out")
seed=$(($(date +%s%N) % 32768))
RANDOM=$seed
rs_say "soak: $total probes, $KILLS kills (RANDOM=$seed)"

kills=0 runs=0 workers_killed=0 coordinators_killed=0 t_start=$(date +%s)
while [ $kills -lt "$KILLS" ]; do
	runs=$((runs + 1))
	setsid "$RS" "${ARGS[@]}" -r 25000 --stats "$RS_TMP/run$runs.stats" 2>"$RS_TMP/run$runs.err" &
	pid=$!
	while [ $kills -lt "$KILLS" ]; do
		ms=$((200 + RANDOM % 1800))
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		if ! kill -0 "$pid" 2>/dev/null; then
			# Finished before the kill: every later run would be a
			# no-op, so the kills could never all land.
			[ "$(ck_answered "$ck")" = "$total" ] &&
				rs_fail "the scan finished after only $kills kills (too fast for -r)"
			break
		fi
		kills=$((kills + 1))
		case $((RANDOM % 3)) in
		0)
			victim=$(pgrep -P "$pid" | sed -n "$((RANDOM % 2 + 1))p;1p" | tail -1)
			[ -n "$victim" ] || continue
			kill -KILL "$victim"
			workers_killed=$((workers_killed + 1))
			rs_say "kill $kills: worker $victim after ${ms} ms (run $runs goes on)"
			;;
		1 | 2)
			if [ $((RANDOM % 2)) = 0 ]; then
				kill -KILL "$pid"
				what=coordinator
			else
				kill -KILL -- "-$pid"
				what="process group"
			fi
			coordinators_killed=$((coordinators_killed + 1))
			wait "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				pgrep -f -- "--resume $ck" >/dev/null || break
				sleep 0.1
			done
			rs_say "kill $kills: $what after ${ms} ms; the checkpoint records $(ck_answered "$ck") answers"
			break
			;;
		esac
	done
	wait "$pid" 2>/dev/null || true
done
rc=0
timeout -k 5 600 "$RS" "${ARGS[@]}" --stats "$RS_TMP/final.stats" 2>"$RS_TMP/final.err" || rc=$?
[ $rc = 0 ] || { cat "$RS_TMP/final.err" >&2; rs_fail "final resume: exit $rc"; }
grep -q "\"answered\":$total," "$RS_TMP/final.stats" || rs_fail "final --stats: $(cat "$RS_TMP/final.stats")"
check_scan "$W/truth.txt" "$out" "soak" || rs_fail "soak: the output is not the ground truth"
rs_say "soak: ok: $kills kills ($workers_killed workers, $coordinators_killed coordinators or groups)" \
	"over $((runs + 1)) runs in $(($(date +%s) - t_start)) s; $total answers, each once," \
	"equal to the ground truth; nothing lost"
