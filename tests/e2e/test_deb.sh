#!/usr/bin/env bash
# test_deb: the Debian package (make deb), built, linted, installed, used
# and removed, without changing this machine.
# 1. make deb builds build/ringscan_VERSION_ARCH.deb from a copy of the
#    tree (scripts/mkdeb.sh); lintian finds no error in it (its tags are
#    printed); dpkg -c lists the binary, the man page, the completion and
#    the docs; its Depends names the package of every shared library the
#    binary needs (liburing2, libpcre2-8-0, libc6: ${shlibs:Depends}).
# 2. In private mount, network and pid namespaces where /usr, /var and /etc
#    are overlays whose changes go to a tmpfs (so nothing dpkg does reaches
#    the machine, even if the test is killed): dpkg -i installs it; man -w
#    finds /usr/share/man/man1/ringscan.1.gz and man renders it;
#    bash-completion loads the completion on demand; /usr/bin/ringscan
#    scans a small 127/8 world (every state) exactly; dpkg -r removes it
#    and every file it had.
# Needs root (dpkg; CI runs as root) and the "deb" profile of
# scripts/deps.sh (dpkg-dev, debhelper, lintian); skips, saying so,
# otherwise, or when BUILD_DIR is the ASan build (the package is built from
# the tree, once). About 60 s on 2 cores, half of it the package build.
# engine-independent: a packaging test; the one scan uses the default engine.
# Usage: test_deb.sh BUILD_DIR (for its test tools: worldgen, listener)
set -eu
. "$(dirname "$0")/lib.sh"
V=$(cat "$RS_ROOT/VERSION")

# Phase 2, inside the namespaces (see the end of phase 1).
in_overlay() {
	local deb=$1 d fs
	need_tools
	# Every change under /usr, /var and /etc goes to a tmpfs upper layer.
	mkdir -p "$RS_TMP/ov"
	mount -t tmpfs tmpfs "$RS_TMP/ov" || rs_fail "mount tmpfs"
	for d in usr var etc; do
		mkdir -p "$RS_TMP/ov/$d.up" "$RS_TMP/ov/$d.work"
		mount -t overlay overlay \
			-o "lowerdir=/$d,upperdir=$RS_TMP/ov/$d.up,workdir=$RS_TMP/ov/$d.work" "/$d" ||
			rs_fail "cannot mount an overlay on /$d"
	done
	for d in /usr /var /etc /var/lib/dpkg /usr/bin; do
		fs=$(findmnt -n -o FSTYPE --target "$d" | head -1)
		[ "$fs" = overlay ] || rs_fail "$d is on $fs, not the overlay: not installing"
	done

	if ! dpkg -i "$deb" >"$RS_TMP/dpkg-i.log" 2>&1; then
		cat "$RS_TMP/dpkg-i.log" >&2
		rs_fail "dpkg -i $deb"
	fi
	rs_check "dpkg -s: ringscan $V installed" \
		test "$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' ringscan)" = "ii $V"
	got=$(/usr/bin/ringscan --version 2>&1 || true)
	[ "$got" = "ringscan $V" ] && rs_pass || rs_nok "/usr/bin/ringscan --version: '$got'"
	if command -v man >/dev/null; then
		rs_check "man -w ringscan finds the package's page" \
			test "$(man -w ringscan 2>/dev/null)" = /usr/share/man/man1/ringscan.1.gz
		LC_ALL=C.UTF-8 MANWIDTH=80 man ringscan >"$RS_TMP/man.txt" 2>&1 || true
		rs_check "man ringscan renders the page" grep -q 'TCP connect scanner on io_uring' "$RS_TMP/man.txt"
		rs_check "man ringscan names /usr/share/doc/ringscan/docs/output-schema.md" \
			grep -q '/usr/share/doc/ringscan/docs/output-schema.md' "$RS_TMP/man.txt"
	fi
	if [ -r /usr/share/bash-completion/bash_completion ]; then
		# shellcheck disable=SC2016 # expanded by that bash
		rs_check "bash-completion loads the completion on demand" bash --norc -c '
			. /usr/share/bash-completion/bash_completion
			__load_completion ringscan &&
			[ "$(complete -p ringscan)" = "complete -F _ringscan ringscan" ]'
	fi

	W=$RS_TMP/w
	world_gen "$W" --seed 6 --addrs 127.1.0.0/28 --ports 30-33 --open 30 --filtered 5 \
		--unreachable 10 --closed-port 33
	world_is_mixed "$W"
	world_up "$W"
	# shellcheck disable=SC2034 # run_scan's scanner
	RS=/usr/bin/ringscan
	if run_scan 60 --all -q -w 2 -t 300 --retries 0 -p 30-33 127.1.0.0/28 -o "$RS_TMP/scan.jsonl" &&
		check_scan "$W/truth.txt" "$RS_TMP/scan.jsonl" "the package's ringscan on the world"; then
		rs_pass
	else
		rs_nok "the package's /usr/bin/ringscan did not scan the world exactly"
	fi
	world_down

	dpkg-query -L ringscan | while read -r f; do [ -f "$f" ] && echo "$f"; done >"$RS_TMP/files"
	[ "$(wc -l <"$RS_TMP/files")" -ge 10 ] || rs_nok "dpkg -L ringscan: only $(wc -l <"$RS_TMP/files") files"
	if ! dpkg -r ringscan >"$RS_TMP/dpkg-r.log" 2>&1; then
		cat "$RS_TMP/dpkg-r.log" >&2
		rs_fail "dpkg -r ringscan"
	fi
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' ringscan 2>/dev/null || true)
	case $st in ii* | iU* | iF*) rs_nok "after dpkg -r the status is '$st'" ;; *) rs_pass ;; esac
	left=$(while read -r f; do [ ! -e "$f" ] || echo "$f"; done <"$RS_TMP/files")
	[ -z "$left" ] && rs_pass || rs_nok "dpkg -r left: $left"
	rs_summary "test_deb (installed in an overlay)"
}

if [ "${RS_IN_NS:-}" = 1 ]; then
	in_overlay "$2"
	exit
fi

# Phase 1, outside.
[ "$(id -u)" = 0 ] || rs_skip "dpkg -i needs root (CI runs as root)"
for t in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian unshare:util-linux; do
	command -v "${t%%:*}" >/dev/null || rs_skip "no ${t%%:*} (Debian's ${t#*:}: scripts/deps.sh deb)"
done
B=${1:?build dir expected as \$1}
case $B in /*) ;; *) B=$PWD/$B ;; esac
# make test runs the plain and ASan suites at once (tests/both.sh): the
# package (built from the tree, not from B) is built and tested once.
if ldd "$B/ringscan" 2>/dev/null | grep -q libasan; then
	rs_skip "the package is built and tested once, by the plain build's run"
fi
RS_TOOLS=$B/tools

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$RS_ROOT/build/ringscan_${V}_$arch.deb
rm -f "$deb"
T=$(mktemp -d "${TMPDIR:-/tmp}/ringscan-deb.XXXXXX")
trap 'rm -rf "$T"' EXIT
t0=$(date +%s)
make -C "$RS_ROOT" --no-print-directory deb >"$T/make.log" 2>&1 || {
	cat "$T/make.log" >&2
	rs_fail "make deb"
}
rs_say "make deb: $(($(date +%s) - t0)) s"
[ -f "$deb" ] || rs_fail "make deb made no $deb"

# lintian: no error; every tag shown.
rc=0
lintian --fail-on error --display-info --info "$deb" >"$T/lintian" 2>&1 || rc=$?
grep -v '^N: ' "$T/lintian" | grep -v 'running with root privileges' | sed 's/^/  lintian: /' >&2 || true
[ $rc = 0 ] && rs_pass || rs_nok "lintian found errors (exit $rc)"

# dpkg -c: what the package holds.
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./||' >"$T/contents"
for f in usr/bin/ringscan usr/share/man/man1/ringscan.1.gz usr/share/bash-completion/completions/ringscan \
	usr/share/doc/ringscan/README.md usr/share/doc/ringscan/copyright \
	$(cd "$RS_ROOT" && printf 'usr/share/doc/ringscan/%s\n' docs/*.md); do
	rs_check "dpkg -c lists $f" grep -qx "$f" "$T/contents"
done
bad=$(grep -v -e '^usr/bin/' -e '^usr/share/' -e '/$' "$T/contents" || true)
[ -z "$bad" ] && rs_pass || rs_nok "files outside usr/bin, usr/share: $bad"

# Depends: the package of each library the binary needs.
mkdir "$T/x"
dpkg-deb -x "$deb" "$T/x"
depends=$(dpkg-deb -f "$deb" Depends)
rs_say "Depends: $depends"
for so in $(objdump -p "$T/x/usr/bin/ringscan" | awk '$1 == "NEEDED" { print $2 }'); do
	path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -1 | cut -d: -f1 || true)
	[ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1 || true)
	case ", $depends," in
	*", $pkg "* | *", $pkg,"*) rs_pass ;;
	*) rs_nok "$so (package '$pkg') is not in Depends: $depends" ;;
	esac
done
rs_check "Depends names liburing2" grep -q 'liburing2' <<<"$depends"
rs_check "the man page in the package names /usr/share/doc/ringscan" \
	sh -c "zcat '$T/x/usr/share/man/man1/ringscan.1.gz' | grep -q '^\.Pa /usr/share/doc/ringscan/docs/output-schema\.md'"
rs_summary "test_deb (built)" || exit 1

# Phase 2: real root (dpkg wants the real owners of /usr, /var, /etc) in
# new mount, network and pid namespaces; mounts stay private to them.
RS_TMP=$T
rc=0
timeout -k 5 240 unshare -nm -pf --kill-child --mount-proc \
	env RS_IN_NS=1 RS_TMP="$T" RS_TOOLS="$RS_TOOLS" bash "$0" "$B" "$deb" || rc=$?
[ $rc = 124 ] && rs_fail "the install phase did not finish within 240 s"
exit $rc
