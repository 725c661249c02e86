#!/usr/bin/env bash
# What --db costs a scan, measured the way a loaded machine allows: runs
# without and with --db alternated side by side (A B A B ...), each --db
# run into a new database, the median of each and their ratio. Worlds as
# bench/run.sh's: "open" 127.41.0.0/16 x 8080, every answer open (so
# written), and "closed" 127.40.0.0/16 x 4 ports, --all (every answer a
# row). Other builds' --db (before/after a change) join the alternation
# when their build directories are given.
#
# Usage: bench/inv_ab.sh RUNS WORLD [BUILD...]   (WORLD: open or closed;
# BUILD defaults to build/, the first is also the one run without --db)
set -eu
. "$(dirname "$0")/../tests/e2e/lib.sh"
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
ns_reexec 1800 "$0" "$@"
RUNS=${1:-9}
WORLD=${2:-open}
shift 2 || true
[ $# -gt 0 ] || set -- "$RS_ROOT/build"
need_tools
T=$RS_TMP
trap world_down EXIT
case $WORLD in
open)
	world_gen "$T/w" --seed 5 --addrs 127.41.0.0/16 --ports 8080-8080 --open 100
	world_up "$T/w"
	ARGS=(127.41.0.0/16 -p 8080)
	;;
closed)
	net_up
	ARGS=(127.40.0.0/16 -p '7,9,11,13')
	;;
*) rs_fail "WORLD: open or closed" ;;
esac

# one NAME CMD...: run CMD, append its wall seconds to $T/NAME and its
# CPU seconds (user + system) to $T/NAME.cpu.
one() {
	local name=$1 wall user sys
	shift
	[ -n "${KEEP_DB:-}" ] || rm -f "$T/db" "$T/db-wal" "$T/db-shm"
	/usr/bin/time -f '%e %U %S' -o "$T/time" "$@" -q --all --seed 1 "${ARGS[@]}" -o "$T/out" \
		2>"$T/err" || { cat "$T/err" >&2; rs_fail "$*"; }
	read -r wall user sys <"$T/time"
	echo "$wall" >>"$T/$name"
	echo "$user + $sys" | bc >>"$T/$name.cpu"
}

"$1/ringscan" -q --all --seed 1 "${ARGS[@]}" -o /dev/null 2>/dev/null # warm up
for _ in $(seq 1 "$RUNS"); do
	one plain "$1/ringscan"
	i=0
	for b in "$@"; do
		one "db$i" "$b/ringscan" --db "$T/db"
		i=$((i + 1))
	done
done
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
base=$(median "$T/plain") cbase=$(median "$T/plain.cpu")
printf '%s, %s runs alternated: without --db %.3f s, CPU %.3f s (%s)\n' "$WORLD" "$RUNS" \
	"$base" "$cbase" "$(tr '\n' ' ' <"$T/plain")"
i=0
for b in "$@"; do
	m=$(median "$T/db$i") c=$(median "$T/db$i.cpu")
	printf '  --db %s: %.3f s, %.3fx; CPU %.3f s, %.3fx (%s)\n' "$b" "$m" \
		"$(echo "scale=4; $m / $base" | bc)" "$c" "$(echo "scale=4; $c / $cbase" | bc)" \
		"$(tr '\n' ' ' <"$T/db$i")"
	i=$((i + 1))
done
