# shellcheck shell=bash
# Worlds behind an emulated link (docs/link-emulator.md), for tests and
# benchmarks. Source it after lib.sh, inside the namespace (ns_reexec):
#
#   link_ns_up                   # this namespace is S (the scanner's), T is made
#   link_world_up DIR            # a worldgen world inside T, listener in T
#   link_up --delay 50ms --loss 1 ...   # linkemu between S and T
#   ... scan 127.60.0.0/15 ...
#   link_down                    # counters in $LINK_DIR/stats
#   link_cleanup                 # on EXIT
#
# S holds 127.0.0.1/32 on lo and routes 127.60.0.0/15 into the TUN lea
# (127.1.0.1); T holds 127.60.0.0/15 as local addresses and routes the
# answers back into leb. Only 127/8 addresses, on both sides.

LINK_TPID='' LINK_EP='' LINK_LPID=''

# inT CMD...: run CMD in the targets' namespace T.
inT() { nsenter --net="$LINK_TNS" "$@"; }

# link_ns_up: make this namespace S and start T. Skips (77) where TUN,
# nsenter or route_localnet are missing.
link_ns_up() {
	command -v nsenter >/dev/null || rs_skip "nsenter(1) not found"
	[ -c /dev/net/tun ] || rs_skip "no /dev/net/tun"
	[ -x "$RS_TOOLS/linkemu" ] || rs_fail "no $RS_TOOLS/linkemu (run make)"
	LINK_DIR=$RS_TMP/link
	mkdir -p "$LINK_DIR"
	ip link set lo up
	ip addr del 127.0.0.1/8 dev lo
	ip addr add 127.0.0.1/32 dev lo
	sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 || rs_skip "cannot set route_localnet"
	unshare -n sleep 3600 &
	LINK_TPID=$!
	for _ in $(seq 50); do
		[ "$(readlink "/proc/$LINK_TPID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.1
	done
	LINK_TNS=/proc/$LINK_TPID/ns/net
	inT sh -ec 'ip link set lo up; ip addr del 127.0.0.1/8 dev lo
		ip addr add 127.0.0.1/32 dev lo; ip route add local 127.60.0.0/15 dev lo
		sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.core.somaxconn=65535 \
			net.ipv4.tcp_max_syn_backlog=65535'
}

# link_world_up DIR: load the worldgen world in DIR into T and start its
# listener there (bounded wait).
link_world_up() {
	local dir=$1 f
	inT nft -f "$dir/world.nft" || rs_fail "nft -f $dir/world.nft (in T)"
	for f in "$dir"/world-elements-*.nft; do
		[ -e "$f" ] || continue
		inT nft -f "$f" || rs_fail "nft -f $f (in T)"
	done
	rm -f "$dir/listener.ready"
	inT "$RS_TOOLS/listener" --ports-file "$dir/listen.txt" --ready "$dir/listener.ready" \
		2>"$dir/listener.log" &
	LINK_LPID=$!
	for _ in $(seq 100); do
		[ -e "$dir/listener.ready" ] && return 0
		sleep 0.1
	done
	rs_fail "listener in T not ready: $(cat "$dir/listener.log")"
}

# link_up LINKEMU-ARGS...: start linkemu (for at most $LINK_DURATION s,
# default 600) and configure its two TUNs and the routes through them.
link_up() {
	rm -f "$LINK_DIR/ready" "$LINK_DIR/stats"
	"$RS_TOOLS/linkemu" --ns-b "$LINK_TNS" --ready "$LINK_DIR/ready" --stats "$LINK_DIR/stats" \
		--duration "${LINK_DURATION:-600}" "$@" 2>"$LINK_DIR/emu.err" &
	LINK_EP=$!
	for _ in $(seq 50); do [ -e "$LINK_DIR/ready" ] && break; sleep 0.1; done
	if [ ! -e "$LINK_DIR/ready" ]; then
		if grep -q '^linkemu: TUN ' "$LINK_DIR/emu.err"; then
			rs_skip "linkemu could not open its TUNs: $(cat "$LINK_DIR/emu.err")"
		fi
		rs_fail "linkemu did not start: $(cat "$LINK_DIR/emu.err")"
	fi
	sysctl -qw net.ipv4.conf.lea.route_localnet=1 net.ipv4.conf.lea.rp_filter=0 \
		net.ipv6.conf.lea.disable_ipv6=1
	ip link set lea txqueuelen 10000
	ip addr add 127.1.0.1/32 dev lea
	ip route add 127.60.0.0/15 dev lea src 127.1.0.1
	inT sh -ec 'sysctl -qw net.ipv4.conf.leb.route_localnet=1 \
		net.ipv4.conf.leb.rp_filter=0 net.ipv6.conf.leb.disable_ipv6=1
		ip link set leb txqueuelen 10000; ip route add 127.1.0.0/16 dev leb'
}

# link_down: stop linkemu; its counters are then in $LINK_DIR/stats.
link_down() {
	kill -TERM "$LINK_EP"
	wait "$LINK_EP" || rs_fail "linkemu exited $?: $(cat "$LINK_DIR/emu.err")"
	LINK_EP=''
	[ -s "$LINK_DIR/stats" ] || rs_fail "linkemu wrote no counters"
}

# link_ctr DIR KEY: one counter of the last link (after link_down).
link_ctr() { sed -n "s/^$1 .*\b$2=\([0-9]*\).*/\1/p" "$LINK_DIR/stats"; }

link_cleanup() {
	local p
	for p in "$LINK_LPID" "$LINK_EP" "$LINK_TPID"; do
		[ -z "$p" ] || kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
