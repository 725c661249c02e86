# shellcheck shell=bash
# Helpers for ringscan's end-to-end tests. Source it from a test:
#
#   . "$(dirname "$0")/lib.sh"
#   ns_reexec 120 "$0" "$@"   # from here on we are inside a private netns
#   world_gen "$RS_TMP/w" --seed 1 --addrs 127.1.0.0/26 --ports 20-27 ...
#   world_up "$RS_TMP/w"
#   ...
#
# Safety: every test body runs inside `unshare -rn` (a private network
# namespace whose only interface is lo), under a hard `timeout`. Nothing in
# here may target an address outside 127.0.0.0/8.

RS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RS_TOOLS=${RS_TOOLS:-$RS_ROOT/build/tools}
PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

rs_say() { printf '%s\n' "$*" >&2; }
rs_fail() {
	rs_say "FAIL: $*"
	exit 1
}
rs_skip() {
	rs_say "SKIP: $*"
	exit 77
}

# ns_run LIMIT CMD...: run CMD inside a fresh private network and mount
# namespace (lo down; use net_up or world_up in there) and, where the system allows,
# a private pid namespace, so that nothing CMD starts can outlive it; killed
# after LIMIT seconds (status 124 then). RS_IN_NS=1 is set for CMD.
# Status 77 if no namespace can be made.
ns_run() {
	local limit=$1
	shift
	local -a ns=(unshare -rnm)
	if unshare -rnm -pf --kill-child --mount-proc true 2>/dev/null; then
		ns=(unshare -rnm -pf --kill-child --mount-proc)
	elif ! unshare -rnm true 2>/dev/null; then
		rs_say "cannot create a network namespace (unshare -rnm)"
		return 77
	fi
	timeout -k 5 "$limit" "${ns[@]}" env RS_IN_NS=1 "$@"
}

# ns_reexec LIMIT SCRIPT ARGS...
# Outside the namespace: run the test script again, with ns_run, exporting
# RS_TMP, a scratch directory removed afterwards, and exit with its status
# (a timeout is a failure). Inside the namespace: return at once.
ns_reexec() {
	local limit=$1 rc=0
	shift
	if [ "${RS_IN_NS:-}" = 1 ]; then
		return 0
	fi
	command -v unshare >/dev/null || rs_skip "unshare(1) not found"
	command -v nft >/dev/null || rs_skip "nft(8) not found"
	RS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringscan-e2e.XXXXXX")
	export RS_TMP
	ns_run "$limit" bash "$@" || rc=$?
	rm -rf "$RS_TMP"
	case $rc in
	77) rs_say "SKIP: $(basename "$1")" ;;
	124 | 137)
		rs_say "FAIL: $(basename "$1") did not finish within ${limit}s"
		rc=1
		;;
	esac
	exit "$rc"
}

# own_hosts LINE...: inside the namespace, make /etc/hosts hold exactly
# LINEs, for this namespace only, so that a test's names resolve on systems
# without /etc/hosts (minimal roots, containers): a bind mount over it, or,
# when there is none, an overlay of /etc that adds one. Status 1, saying
# why, if neither can be mounted.
own_hosts() {
	local d=$RS_TMP/own-hosts err=$RS_TMP/own-hosts.err
	mkdir -p "$d" || return 1
	if [ -e /etc/hosts ]; then
		printf '%s\n' "$@" >"$d/hosts" && mount --bind "$d/hosts" /etc/hosts 2>"$err" && return 0
	else
		{ mount -t tmpfs tmpfs "$d" && mkdir "$d/up" "$d/work" &&
			printf '%s\n' "$@" >"$d/up/hosts" &&
			mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d/up,workdir=$d/work" /etc; } \
			2>"$err" && return 0
	fi
	rs_say "cannot mount a private /etc/hosts: $(tr '\n' ' ' <"$err")"
	return 1
}

# need_scanner BUILD_DIR: sets RS to the scanner binary. When RS_ENGINE is
# set (tests/run.sh --engines runs each test once per engine that way), RS
# is instead a wrapper in $RS_TMP that execs the binary with --engine
# "$RS_ENGINE" as its first argument: a test's own later --engine wins
# (an option given twice keeps its last value). exec keeps the pid, so
# "$RS" ... & / $! / pgrep -P work as with the binary itself.
need_scanner() {
	RS=${1:?build dir expected as \$1}/ringscan
	case $RS in /*) ;; *) RS=$PWD/$RS ;; esac
	[ -x "$RS" ] || rs_fail "no scanner at $RS (run make)"
	RS_BIN=$RS # the binary itself: subcommands (export...) must come first
	[ -n "${RS_ENGINE:-}" ] || return 0
	case $RS_ENGINE in
	*[!a-z]*) rs_fail "RS_ENGINE='$RS_ENGINE': want an engine name such as uring or epoll" ;;
	esac
	[ -n "${RS_TMP:-}" ] || rs_fail "need_scanner: RS_ENGINE needs \$RS_TMP (call ns_reexec first)"
	local w=$RS_TMP/engine-$RS_ENGINE q
	q=$(printf '%s' "$RS" | sed "s/'/'\\\\''/g") # the path, single-quoted for sh
	if ! { mkdir -p "$w" &&
		printf '#!/bin/sh\n# ringscan --engine %s (tests/e2e/lib.sh need_scanner), unless the\n# test names an engine itself\nfor a; do case $a in --engine | --engine=*) exec %s "$@" ;; esac; done\nexec %s --engine %s "$@"\n' \
			"$RS_ENGINE" "'$q'" "'$q'" "$RS_ENGINE" >"$w/ringscan" && chmod +x "$w/ringscan"; }; then
		rs_fail "cannot write the engine wrapper $w/ringscan"
	fi
	RS=$w/ringscan
}

# rs_engine_extra: the other modes of the engine under test, which tests
# that cover "every engine" also run: compat (io_uring with plain
# descriptors) when that engine is io_uring (RS_ENGINE uring or auto, or
# unset: auto on a machine with io_uring); nothing for epoll (plain
# descriptors only) or compat itself.
rs_engine_extra() {
	case ${RS_ENGINE:-} in
	'' | auto | uring) echo compat ;;
	esac
}

# rs_engines: the --engine values a test that covers every engine loops
# over: the engine under test (auto when RS_ENGINE is unset) and its other
# modes. Unset: "auto compat", as before the engine matrix.
rs_engines() {
	local x
	x=$(rs_engine_extra)
	echo "${RS_ENGINE:-auto}${x:+ $x}"
}

# rs_plain_engine: the engine under test in its plain-descriptor mode, for
# runs about file descriptors (EMFILE under a small RLIMIT_NOFILE): compat
# for io_uring, else the engine itself.
rs_plain_engine() {
	local e
	e=$(rs_engine_extra)
	echo "${e:-${RS_ENGINE:-auto}}"
}

need_tools() {
	local t
	for t in worldgen listener svcd; do
		[ -x "$RS_TOOLS/$t" ] || rs_fail "no $RS_TOOLS/$t (run make)"
	done
}

# net_up: inside the namespace, bring lo up and make listen backlogs large
# enough that a burst of handshakes never overflows them (an overflow would
# make open ports look filtered). Failures to raise the sysctls are ignored.
net_up() {
	ip link set lo up
	echo 65535 >/proc/sys/net/core/somaxconn 2>/dev/null || true
	echo 65535 >/proc/sys/net/ipv4/tcp_max_syn_backlog 2>/dev/null || true
}

# world_gen DIR WORLDGEN-ARGS...: generate a world into DIR.
world_gen() {
	local dir=$1
	shift
	"$RS_TOOLS/worldgen" "$@" --out "$dir" 2>"$dir.gen.log" || {
		cat "$dir.gen.log" >&2
		rs_fail "worldgen $*"
	}
}

# world_is_mixed DIR: the world in DIR has pairs in every state, and closed
# pairs of both kinds (nft reset on a listened port, kernel RST elsewhere).
world_is_mixed() {
	local s
	for s in open closed filtered unreachable; do
		grep -q " $s\$" "$1/truth.txt" || rs_fail "world $1 has no $s pair"
	done
	awk 'NR == FNR { l[$1] = 1; next } $3 == "closed" { if ($2 in l) nft++; else kern++ }
	     END { exit !(nft > 0 && kern > 0) }' "$1/listen.txt" "$1/truth.txt" ||
		rs_fail "world $1 lacks closed pairs of both kinds (listened and unlistened ports)"
}

# world_load DIR: load DIR's nft rules and sets (one transaction per file).
world_load() {
	local f
	nft -f "$1/world.nft" || rs_fail "nft -f $1/world.nft"
	for f in "$1"/world-elements-*.nft; do
		[ -e "$f" ] || continue
		nft -f "$f" || rs_fail "nft -f $f"
	done
}

# world_up DIR: inside the namespace, bring up the world generated in DIR:
# lo, sysctls, nft rules, and a listener on every port of DIR/listen.txt.
# Waits (bounded) until the listener is ready. Sets RS_LISTENER_PID.
world_up() {
	local dir=$1
	net_up
	world_load "$dir"
	rm -f "$dir/listener.ready" "$dir/listener.stats"
	"$RS_TOOLS/listener" --ports-file "$dir/listen.txt" --ready "$dir/listener.ready" \
		--stats "$dir/listener.stats" 2>"$dir/listener.log" &
	RS_LISTENER_PID=$!
	RS_WORLD_DIR=$dir
	for _ in $(seq 1 100); do
		[ -e "$dir/listener.ready" ] && return 0
		if ! kill -0 "$RS_LISTENER_PID" 2>/dev/null; then
			cat "$dir/listener.log" >&2
			rs_fail "listener died while starting"
		fi
		sleep 0.1
	done
	rs_fail "listener not ready after 10 s"
}

# world_down: stop the listener (its accepted count lands in
# $RS_WORLD_DIR/listener.stats) and remove the nft table. Idempotent.
world_down() {
	if [ -n "${RS_LISTENER_PID:-}" ]; then
		kill -TERM "$RS_LISTENER_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$RS_LISTENER_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$RS_LISTENER_PID" 2>/dev/null || true
		wait "$RS_LISTENER_PID" 2>/dev/null || true
		RS_LISTENER_PID=
	fi
	nft delete table inet rsworld 2>/dev/null || true
}

# listener_accepted: connections accepted by the last world's listener
# (valid after world_down).
listener_accepted() {
	cat "$RS_WORLD_DIR/listener.stats" 2>/dev/null || echo "?"
}

# nft_syns: SYNs to 127.0.0.0/8 seen by the world's input chain so far.
nft_syns() {
	nft list counter inet rsworld syns | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# The exact shape of one JSON line (keys in the contract's order).
RS_JSON_RE='^\{"ip":"[0-9a-f.:]+","port":[0-9]+,"proto":"tcp","state":"(open|closed|filtered|unreachable|error)","reason":"[^"\\]*","rtt_us":[0-9]+,"attempts":[0-9]+,"ts":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"(,"banner":"([^"\\]|\\.)*")?\}$'

# scan_states FILE: ringscan JSON lines -> sorted "IP PORT STATE" lines.
scan_states() {
	sed -n 's/^{"ip":"\([^"]*\)","port":\([0-9]*\),"proto":"tcp","state":"\([a-z]*\)".*/\1 \2 \3/p' "$1" | sort
}

# json_bad_lines FILE: print (up to 5) lines that are not well-formed
# ringscan JSON lines; status 0 if there are none.
json_bad_lines() {
	local bad
	bad=$(grep -Ecv "$RS_JSON_RE" "$1" || true)
	[ "$bad" = 0 ] && return 0
	rs_say "$bad malformed JSON line(s) in $1, e.g.:"
	grep -Ev "$RS_JSON_RE" "$1" | head -5 >&2
	return 1
}

# compare TRUTH GOT: both sorted "IP PORT STATE" files. Prints a short report
# (counts per state expected vs got, duplicates, first differing lines);
# status 1 on any difference.
compare() {
	local truth=$1 got=$2 s e g ok=0 dups ndiff
	rs_say "  state          expected        got"
	for s in open closed filtered unreachable error; do
		e=$(grep -c " $s\$" "$truth" || true)
		g=$(grep -c " $s\$" "$got" || true)
		[ "$e" = 0 ] && [ "$g" = 0 ] && continue
		printf '  %-12s %10s %10s%s\n' "$s" "$e" "$g" "$([ "$e" = "$g" ] || echo '   <--')" >&2
	done
	printf '  %-12s %10s %10s\n' total "$(wc -l <"$truth")" "$(wc -l <"$got")" >&2
	dups=$(cut -d' ' -f1,2 "$got" | uniq -d | head -5)
	if [ -n "$dups" ]; then
		rs_say "  pairs answered more than once (first 5):"
		printf '%s\n' "$dups" | sed 's/^/    /' >&2
		ok=1
	fi
	ndiff=$(comm -3 "$truth" "$got" | wc -l)
	if [ "$ndiff" != 0 ]; then
		rs_say "  $ndiff differing lines; first ones (- expected only, + got only):"
		diff "$truth" "$got" | sed -n 's/^< /    - /p; s/^> /    + /p' | head -20 >&2
		ok=1
	fi
	return $ok
}

# check_scan TRUTH JSONL [LABEL]: well-formed JSON lines whose states equal
# the truth exactly. Prints the report on failure; status 1 then.
check_scan() {
	local truth=$1 out=$2 label=${3:-scan} ok=0
	json_bad_lines "$out" || ok=1
	scan_states "$out" >"$out.states"
	if ! compare "$truth" "$out.states" 2>"$out.report"; then
		ok=1
	fi
	if [ $ok = 0 ]; then
		return 0
	fi
	rs_say "MISMATCH: $label"
	cat "$out.report" >&2
	return 1
}

# ck_answered CHECKPOINT: the number of answers a --resume checkpoint
# records (the sum of its per-state counts; 0 if it cannot be read).
ck_answered() {
	awk '$1 ~ /^(open|closed|filtered|unreachable|error)$/ { n += $2 } END { print n + 0 }' "$1" 2>/dev/null || echo 0
}

# run_scan LIMIT ARGS...: run the scanner under a hard timeout; stderr goes
# to $RS_TMP/scan.err (shown on failure). Status: the scanner's.
run_scan() {
	local limit=$1 rc=0
	shift
	timeout -k 5 "$limit" "$RS" "$@" 2>"$RS_TMP/scan.err" || rc=$?
	if [ $rc != 0 ]; then
		rs_say "ringscan $* -> exit $rc"
		tail -20 "$RS_TMP/scan.err" >&2
	fi
	return $rc
}

# ---------------------------------------------------------------------------
# Helpers for the target-space tests (shards, exclusions, inputs, IPv6,
# memory).

# Check counters for tests that make many checks: rs_pass, rs_nok WHAT,
# rs_check WHAT CMD... (runs CMD, counts its status), then rs_summary NAME
# prints the counts and fails if any check failed.
RS_NPASS=0
RS_NFAIL=0
rs_pass() { RS_NPASS=$((RS_NPASS + 1)); }
rs_nok() {
	RS_NFAIL=$((RS_NFAIL + 1))
	rs_say "FAIL: $*"
}
rs_check() {
	local what=$1
	shift
	if "$@"; then rs_pass; else rs_nok "$what"; fi
}
rs_summary() {
	rs_say "$1: $RS_NPASS checks passed, $RS_NFAIL failed"
	[ "$RS_NFAIL" = 0 ]
}

# The exact shape of one --dry-run JSON line.
RS_DRY_RE='^\{"ip":"[0-9a-f.:]+","port":[0-9]+\}$'

# dry_run OUT ARGS...: `ringscan --dry-run ARGS -o OUT` (stdin: the
# caller's) under a hard timeout, stderr in OUT.err. Status 0 if the
# scanner exited 0 and every line of OUT is a well-formed dry-run JSON
# line; otherwise says why, 1.
dry_run() {
	local out=$1 rc=0 bad
	shift
	timeout -k 5 60 "$RS" --dry-run "$@" -o "$out" 2>"$out.err" || rc=$?
	if [ $rc != 0 ]; then
		rs_say "ringscan --dry-run $* -o $out -> exit $rc, want 0"
		sed 's/^/    stderr: /' "$out.err" | tail -5 >&2
		return 1
	fi
	bad=$(grep -Ecv "$RS_DRY_RE" "$out" || true)
	if [ "$bad" != 0 ]; then
		rs_say "ringscan --dry-run $*: $bad malformed line(s), e.g.:"
		grep -Ev "$RS_DRY_RE" "$out" | head -3 >&2
		return 1
	fi
}

# dry_pairs FILE: dry-run JSON lines -> "IP PORT" lines, in file order.
dry_pairs() {
	sed -n 's/^{"ip":"\([^"]*\)","port":\([0-9]*\)}$/\1 \2/p' "$1"
}

# ip4_seq FIRST LAST: the IPv4 addresses FIRST..LAST, one per line.
ip4_seq() {
	awk -v a="$1" -v b="$2" '
	function num(s, q) { split(s, q, "."); return ((q[1] * 256 + q[2]) * 256 + q[3]) * 256 + q[4] }
	BEGIN {
		for (i = num(a); i <= num(b); i++)
			printf "%d.%d.%d.%d\n", int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256
	}'
}

# cross PORT...: the addresses on stdin (one per line) x PORTs, as sorted
# "IP PORT" lines.
cross() {
	awk -v ports="$*" 'BEGIN { n = split(ports, p, " ") } NF { for (i = 1; i <= n; i++) print $1, p[i] }' | sort
}

# same_set WHAT EXPECTED GOT: both files of lines; status 0 if GOT holds
# exactly the lines of EXPECTED, each once (order aside). Otherwise prints
# the counts, duplicates and first differences; status 1.
same_set() {
	local what=$1 ws=$RS_TMP/same_set.want gs=$RS_TMP/same_set.got dups
	sort "$2" >"$ws"
	sort "$3" >"$gs"
	dups=$(uniq -d "$gs" | head -3)
	if [ -z "$dups" ] && cmp -s "$ws" "$gs"; then
		return 0
	fi
	rs_say "SET MISMATCH: $what: want $(wc -l <"$ws") lines, got $(wc -l <"$gs")"
	[ -z "$dups" ] || printf '%s\n' "$dups" | sed 's/^/    twice: /' >&2
	diff "$ws" "$gs" | sed -n 's/^< /    - /p; s/^> /    + /p' | head -10 >&2
	return 1
}

# refused PATTERN... -- ARGS...: `ringscan ARGS` (stdin: the caller's) must
# exit 2, print nothing on stdout and match every PATTERN (extended regex,
# any case) on stderr. Status 0 if so; otherwise says why, 1.
refused() {
	local -a pats=()
	local rc=0 why='' p out=$RS_TMP/refused.out err=$RS_TMP/refused.err
	while [ "$1" != -- ]; do
		pats+=("$1")
		shift
	done
	shift
	timeout -k 2 30 "$RS" "$@" >"$out" 2>"$err" || rc=$?
	if [ $rc != 2 ]; then
		why="exit $rc, want 2"
	elif [ -s "$out" ]; then
		why="stdout not empty: $(head -c 200 "$out")"
	else
		for p in "${pats[@]}"; do
			grep -Eqi -e "$p" "$err" || why="stderr does not match /$p/"
		done
	fi
	[ -z "$why" ] && return 0
	rs_say "ringscan $*: $why"
	sed 's/^/    stderr: /' "$err" | head -5 >&2
	return 1
}

# peak_rss OUT CMD...: run CMD (stdin, stdout and stderr as given) under
# ptrace, following its forks, and write "KIB STATUS MAXKIB NPROC" to OUT:
# the sum over CMD and every process it forked of each one's peak resident
# set size (VmHWM, read at its exit, while its memory is still there), in
# KiB; CMD's exit status (negative: killed by that signal); the largest
# single VmHWM; the number of processes. Pages shared between processes
# count once per process, so KIB is an upper bound of the peak in use at any
# one time. (getrusage's ru_maxrss would be no good: it keeps the RSS of
# the forking process across execve.) LeakSanitizer cannot run under ptrace,
# so ASan builds run with detect_leaks=0.
peak_rss() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 python3 -c '
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
TRACEME, CONT, SETOPTIONS = 0, 7, 0x4200
OPTS = 0x02 | 0x04 | 0x40 | 0x100000  # TRACEFORK, TRACEVFORK, TRACEEXIT, EXITKILL
EV_EXIT, WALL = 6, 0x40000000
out, argv = sys.argv[1], sys.argv[2:]
root = os.fork()
if root == 0:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if libc.ptrace(TRACEME, 0, None, None) == 0:
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            print("peak_rss: %s: %s" % (argv[0], e), file=sys.stderr)
    os._exit(127)
hwm, seen, rc = {}, {root}, 127
_, st = os.waitpid(root, 0)
if os.WIFSTOPPED(st):
    libc.ptrace(SETOPTIONS, root, None, ctypes.c_void_p(OPTS))
    libc.ptrace(CONT, root, None, None)
    while True:
        try:
            pid, st = os.waitpid(-1, WALL)
        except ChildProcessError:
            break
        if not os.WIFSTOPPED(st):
            if pid == root:
                rc = os.waitstatus_to_exitcode(st)
            continue
        sig, event = os.WSTOPSIG(st), st >> 16
        if pid not in seen:  # a new child: its first stop is a SIGSTOP
            seen.add(pid)
            if sig == signal.SIGSTOP:
                sig = 0
        if event == EV_EXIT:
            with open("/proc/%d/status" % pid) as f:
                for l in f:
                    if l.startswith("VmHWM:"):
                        hwm[pid] = int(l.split()[1])
        if sig == signal.SIGTRAP:
            sig = 0
        libc.ptrace(CONT, pid, None, ctypes.c_void_p(sig))
else:
    rc = os.waitstatus_to_exitcode(st)
with open(out, "w") as f:
    f.write("%d %d %d %d\n" % (sum(hwm.values()) or -1, rc, max(hwm.values(), default=-1), len(hwm)))
' "$@"
}

# guard_up: inside the namespace, an nft table "rsguard" whose output hook
# counts every packet the namespace sends (counter "out") and counts and
# drops every packet to an address outside 127.0.0.0/8 and ::1 (counter
# "stray"), so that a test that goes wrong cannot send anything elsewhere
# (the namespace has no route out anyway). guard_count NAME: its value.
guard_up() {
	nft -f - <<'NFT' || rs_fail "nft: cannot load the guard table"
table inet rsguard
delete table inet rsguard
table inet rsguard {
	counter out {
	}
	counter stray {
	}
	chain output {
		type filter hook output priority -10; policy accept;
		counter name out
		meta nfproto ipv4 ip daddr != 127.0.0.0/8 counter name stray drop
		meta nfproto ipv6 ip6 daddr != ::1 counter name stray drop
	}
}
NFT
}
guard_count() {
	nft list counter inet rsguard "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# packet_counter_up: count every packet to 127.0.0.0/8 or ::1 (both
# hooks), for tests that must prove nothing was sent; `packets` reads it.
packet_counter_up() {
	nft -f - <<'EOF'
table inet rspkts {
	counter pkts {
	}
	chain in {
		type filter hook input priority 0; policy accept;
		ip daddr 127.0.0.0/8 counter name pkts
		ip6 daddr ::1 counter name pkts
	}
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 127.0.0.0/8 counter name pkts
		ip6 daddr ::1 counter name pkts
	}
}
EOF
}
packets() { nft list counter inet rspkts pkts | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

# fails_in_one_line WHAT RC OUT ERR WORD...: a run that must end at once
# with exit 1, exactly one line on stderr ERR holding every WORD, and no
# answer in OUT (io_uring blocked, a limit that can never be met).
fails_in_one_line() {
	local what=$1 rc=$2 out=$3 err=$4 word
	shift 4
	[ "$rc" != 124 ] && [ "$rc" != 137 ] || rs_fail "$what: still running at its hang guard"
	[ "$rc" = 1 ] || { cat "$err" >&2; rs_fail "$what: exit $rc, want 1"; }
	[ "$(wc -l <"$err")" = 1 ] || { cat "$err" >&2; rs_fail "$what: want exactly one line on stderr"; }
	for word in "$@"; do
		grep -q -- "$word" "$err" ||
			{ cat "$err" >&2; rs_fail "$what: the message does not say '$word'"; }
	done
	[ ! -s "$out" ] || rs_fail "$what: answers were written"
	rs_say "ok: $what: exit 1 at once: $(cat "$err")"
}

# svcd_up NAME ARGS...: start tests/tools/svcd, the service world's server
# (ready file $RS_TMP/NAME.ready, stats $RS_TMP/NAME.stats, log
# $RS_TMP/NAME.log) and wait (bounded) until it listens.
svcd_up() {
	local name=$1 pid
	shift
	"$RS_TOOLS/svcd" --ready "$RS_TMP/$name.ready" --stats "$RS_TMP/$name.stats" "$@" 2>"$RS_TMP/$name.log" &
	pid=$!
	for _ in $(seq 1 100); do
		[ -e "$RS_TMP/$name.ready" ] && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$RS_TMP/$name.log" >&2; rs_fail "svcd $name died while starting"; }
		sleep 0.1
	done
	rs_fail "svcd $name not ready after 10 s"
}

# svcd_wait NAME: wait (bounded) for svcd NAME's exit; it must exit 0 with
# its counters in NAME.stats. svcd_down NAME: SIGTERM, then svcd_wait.
svcd_wait() {
	local pid rc=0
	pid=$(cat "$RS_TMP/$1.ready")
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		rs_fail "svcd $1 still running 5 s after SIGTERM"
	fi
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || { cat "$RS_TMP/$1.log" >&2; rs_fail "svcd $1 exited $rc"; }
	[ -s "$RS_TMP/$1.stats" ] || rs_fail "svcd $1 wrote no stats"
}
svcd_down() {
	kill -TERM "$(cat "$RS_TMP/$1.ready")"
	svcd_wait "$1"
}
