#!/usr/bin/env bash
# test_exact: the exactness matrix. For 3 small mixed worlds (open, closed
# by kernel and by nft, filtered, unreachable), and every combination of
# workers 1/2/4 and concurrency 1/64/8192, `ringscan --all` must answer
# exactly the world's ground truth: every pair once, in the right state.
# The engine's other modes (lib.sh rs_engine_extra: compat, io_uring with
# plain descriptors; none for epoll) on world 1 at concurrency 1/64/8192
# likewise.
# Then one run with --retries 1: filtered pairs took 2 attempts, all others
# 1; and one with the default retries: 2 to 10 for filtered pairs (as many
# as the scan's size and the loss seen call for), 1 for the others. And one run without --all, to stdout: the open pairs only.
# Usage: test_exact.sh BUILD_DIR
# engines: split (each engine once, plain or ASan: 33-47 s a run; test_exact_loaded
# runs on both engines in both builds)
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 300 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT

NET=127.1.0.0/26
pass=0 fail=0
failed=()

one() { # LABEL TRUTH OUT ARGS...
	local label=$1 truth=$2 out=$3
	shift 3
	if run_scan 120 "$@" -o "$out" && check_scan "$truth" "$out" "$label"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed+=("$label")
	fi
}

for seed in 1 2 3; do
	W=$RS_TMP/w$seed
	lo=$((1000 + 100 * seed))
	hi=$((lo + 7))
	# 512 pairs: ~134 open, 8 filtered (8 x 300 ms at -c 1), 51 unreachable;
	# one port without listener.
	world_gen "$W" --seed "$seed" --addrs $NET --ports $lo-$hi --open 30 --filtered 1.5 --unreachable 10 \
		--closed-port $((lo + seed))
	world_is_mixed "$W"
	world_up "$W"
	# The same ports, spelled three ways.
	case $seed in
	1) ports=$lo-$hi ;;
	2) ports=$lo,$((lo + 1))-$((lo + 4)),$((lo + 5)),$((lo + 6))-$hi ;;
	3) ports=$(seq -s, $hi -1 $lo) ;;
	esac
	for w in 1 2 4; do
		for c in 1 64 8192; do
			args=(--all -q -w "$w" -c "$c" -t 300 --retries 0 --seed $((seed * 10 + w)) "$NET" -p "$ports")
			one "world $seed: ringscan ${args[*]}" "$W/truth.txt" "$RS_TMP/s$seed-w$w-c$c.jsonl" "${args[@]}"
		done
	done
	if [ $seed = 1 ]; then
		# The compat mode (plain fds, sockopt syscalls) must agree too.
		for eng in $(rs_engine_extra); do
			for c in 1 64 8192; do
				args=(--all -q -w 2 -c "$c" -t 300 --retries 0 --engine "$eng" --seed 7 "$NET" -p "$ports")
				one "world 1: ringscan ${args[*]}" "$W/truth.txt" "$RS_TMP/$eng-c$c.jsonl" "${args[@]}"
			done
		done
		# --retries 1: one extra attempt for the filtered pairs only; the
		# defaults (no loss on loopback): 2 to 10 for them, 1 for the rest.
		for r in "--retries 1:2:2" ":2:10"; do
			IFS=: read -r ropt lo hi <<<"$r"
			# shellcheck disable=SC2206
			args=(--all -q -w 2 -c 64 -t 300 $ropt --seed 99 "$NET" -p "$ports")
			out=$RS_TMP/retries.jsonl
			one "world 1: ringscan ${args[*]}" "$W/truth.txt" "$out" "${args[@]}"
			if sed -n 's/.*"state":"\([a-z]*\)".*"attempts":\([0-9]*\).*/\1 \2/p' "$out" |
				awk -v lo="$lo" -v hi="$hi" '($1 == "filtered" && ($2 < lo || $2 > hi)) ||
					($1 != "filtered" && $2 != 1) { n[$0]++ }
				     END { for (k in n) { print "  " n[k] " lines with state/attempts " k; bad = 1 }; exit bad }' \
					>"$RS_TMP/attempts.bad"; then
				pass=$((pass + 1))
			else
				rs_say "WRONG ATTEMPTS (want filtered $lo-$hi, others 1): ringscan ${args[*]}"
				cat "$RS_TMP/attempts.bad" >&2
				fail=$((fail + 1))
				failed+=("attempts with ${ropt:-default retries}")
			fi
			# A timed-out attempt waited its whole -t (its rtt_us), not less.
			short=$(sed -n 's/.*"state":"filtered".*"rtt_us":\([0-9]*\).*/\1/p' "$out" |
				awk '$1 < 300000' | wc -l)
			if [ "$short" = 0 ]; then
				pass=$((pass + 1))
			else
				rs_say "SHORT TIMEOUTS: $short filtered lines with rtt_us < 300000 at -t 300"
				fail=$((fail + 1))
				failed+=("filtered rtt_us below -t with ${ropt:-default retries}")
			fi
		done
		# Without --all, to stdout: the open pairs only.
		grep ' open$' "$W/truth.txt" >"$RS_TMP/open-truth.txt"
		args=(-q -w 2 -c 64 -t 300 --retries 0 --seed 98 "$NET" -p "$ports")
		out=$RS_TMP/open-only.jsonl
		if run_scan 60 "${args[@]}" >"$out" &&
			check_scan "$RS_TMP/open-truth.txt" "$out" "world 1 (open only): ringscan ${args[*]}"; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			failed+=("world 1 (open only): ringscan ${args[*]}")
		fi
	fi
	world_down
done

rs_say "exact: $pass checks passed, $fail failed"
if [ $fail != 0 ]; then
	printf '  failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
