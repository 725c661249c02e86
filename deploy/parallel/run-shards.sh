#!/usr/bin/env bash
# run-shards.sh — run one ringscan scan as N shards with GNU parallel, on
# this machine or on the hosts listed in an ssh login file.
#
#   run-shards.sh [--sshloginfile FILE] N OUTDIR -- RINGSCAN-ARGS...
#
# RINGSCAN-ARGS (targets, ports, --seed, exclusions, timeouts...) are the
# same for every shard and must include --seed: ringscan refuses --shard
# without it. Shard I runs `ringscan RINGSCAN-ARGS --shard I/N`; its JSON
# lines land in OUTDIR/shard-I.jsonl and its summary (stderr) in
# OUTDIR/shard-I.jsonl.err, on this machine, wherever the shard ran.
# When the script exits 0, merge with:
#
#   cat OUTDIR/shard-*.jsonl > scan.jsonl
#
# If shards failed (exit status = how many), run the same command again:
# the job log OUTDIR/joblog makes only the failed shards run again, and each
# rerun replaces that shard's output.
#
# Example — CHANGE the targets: scan only targets you are authorised to
# scan (192.0.2.0/24 and 198.51.100.0/24 are documentation placeholders):
#
#   deploy/parallel/run-shards.sh 8 out -- --seed 20261125 -p 22,80,443 \
#       --exclude-file exclude.txt 192.0.2.0/24 198.51.100.0/24
#   deploy/parallel/run-shards.sh --sshloginfile hosts.txt 8 out -- ...
#
# hosts.txt: one ssh login per line (e.g. "scan@scan1.example.org"; ":" is
# this machine). Each host runs one shard at a time (JOBS=k for k), since
# one ringscan already uses every core; ringscan must be installed, at the
# same version, on every host. On one machine all N shards run at once
# (JOBS=k for fewer): give each fewer workers (-w) so that they share the
# cores. RINGSCAN names the binary (default: ringscan on PATH).
set -eu

usage() {
	echo "usage: ${0##*/} [--sshloginfile FILE] N OUTDIR -- RINGSCAN-ARGS..." >&2
	exit 2
}

remote=()
if [ "${1:-}" = --sshloginfile ]; then
	[ $# -ge 2 ] || usage
	remote=(--sshloginfile "$2")
	shift 2
fi
if [ $# -lt 3 ] || [ "$3" != -- ]; then usage; fi
n=$1 out=$2
shift 3
case $n in '' | *[!0-9]* | 0*) usage ;; esac
case " $* " in *" --seed "* | *" --seed="*) ;; *)
	echo "run-shards.sh: RINGSCAN-ARGS need --seed N (the same on every shard)" >&2
	exit 2
	;;
esac

mkdir -p "$out"
# The job log only makes sense for the same scan: refuse another one.
printf '%s\n' "$n" "$@" >"$out/.command.new"
if [ -e "$out/command" ] && ! cmp -s "$out/command" "$out/.command.new"; then
	echo "run-shards.sh: $out holds the shards of another scan ($out/command); use another OUTDIR" >&2
	rm -f "$out/.command.new"
	exit 2
fi
mv "$out/.command.new" "$out/command"

jobs=${JOBS:-$n} # all at once here; with --sshloginfile: per host
[ ${#remote[@]} = 0 ] || jobs=${JOBS:-1}
exec parallel --will-cite -q "${remote[@]}" -j "$jobs" \
	--joblog "$out/joblog" --resume-failed --results "$out/shard-{}.jsonl" \
	"${RINGSCAN:-ringscan}" "$@" --shard "{}/$n" ::: $(seq 0 $((n - 1)))
