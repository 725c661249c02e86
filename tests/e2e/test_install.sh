#!/usr/bin/env bash
# test_install: make install / make uninstall, staged in a DESTDIR.
# - make install DESTDIR=D (PREFIX /usr/local) writes exactly the binary
#   (0755, the build's own), the man page (0644, @DOCDIR@ replaced by the
#   installed docs' directory), the bash completion and the docs (README.md,
#   docs/*.md), and no other file or directory;
# - the installed binary says its version, `man -M D/... ringscan` shows the
#   page, the installed completion registers _ringscan, and the binary
#   scans a small 127/8 test world (every state) exactly;
# - PREFIX=/opt/rs and BINDIR are honoured likewise;
# - make uninstall DESTDIR=D leaves no file and nothing named ringscan,
#   only the shared directories; a second uninstall is a no-op; one that
#   finds a stranger's file in the docs' directory keeps it and fails.
# The build directory must be up to date (the test never builds).
# engine-independent: an install test; the one scan uses the default engine.
# Usage: test_install.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
ns_reexec 180 "$0" "$@"
need_scanner "${1:-}"
need_tools
trap world_down EXIT
BIN=$(cd "$1" && pwd)/ringscan # the binary itself, even when RS is an engine wrapper
B=$(realpath --relative-to="$RS_ROOT" "$(dirname "$BIN")")
case $B in ../*) rs_fail "build directory $B is not inside $RS_ROOT" ;; esac
# The sanitizer build is the same Makefile with SAN=1 (make asan).
san=0
ldd "$BIN" | grep -q libasan && san=1
V=$(cat "$RS_ROOT/VERSION")

# mk TARGET ARGS...: make TARGET ARGS... in the source tree, for this build
# directory; its output in $RS_TMP/make.log. Fails if make built anything.
mk() {
	local rc=0
	make -C "$RS_ROOT" --no-print-directory B="$B" SAN=$san "$@" >"$RS_TMP/make.log" 2>&1 || rc=$?
	if grep -Eq '^  (CC|LD|AR) ' "$RS_TMP/make.log"; then
		rs_fail "make $* rebuilt $B (run make first; this test never builds)"
	fi
	return $rc
}

# tree DIR: every path under DIR, relative, with its type and mode.
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %P\n' | sort -k3)
}

# expected PREFIX BINDIR: the tree make install should write, as tree prints.
expected() {
	local p=${1#/} bin=${2#/} d
	{
		d=
		for c in ${bin//\// }; do
			d=${d:+$d/}$c
			echo "d 755 $d"
		done
		d=
		for c in ${p//\// } share share/man share/man/man1 share/bash-completion \
			share/bash-completion/completions share/doc share/doc/ringscan share/doc/ringscan/docs; do
			case $c in share*) d=$p/$c ;; *) d=${d:+$d/}$c ;; esac
			echo "d 755 $d"
		done
		echo "f 755 $bin/ringscan"
		echo "f 644 $p/share/man/man1/ringscan.1"
		echo "f 644 $p/share/bash-completion/completions/ringscan"
		echo "f 644 $p/share/doc/ringscan/README.md"
		for f in "$RS_ROOT"/docs/*.md; do
			echo "f 644 $p/share/doc/ringscan/docs/$(basename "$f")"
		done
	} | sort -u -k3
}

# same WHAT WANT GOT: two files equal, else the difference.
same() {
	if cmp -s "$2" "$3"; then
		rs_pass
	else
		rs_nok "$1 (< wanted only, > found only):"
		diff "$2" "$3" | grep '^[<>]' | head -20 | sed 's/^/    /' >&2
	fi
}

# 1. The tree under /usr/local.
umask 022
D=$RS_TMP/stage
mk install DESTDIR="$D" || { cat "$RS_TMP/make.log" >&2; rs_fail "make install DESTDIR=$D"; }
tree "$D" >"$RS_TMP/tree"
expected /usr/local /usr/local/bin >"$RS_TMP/tree.want"
same "make install DESTDIR: the tree" "$RS_TMP/tree.want" "$RS_TMP/tree"
P=$D/usr/local
rs_check "installed binary is the build's" cmp -s "$BIN" "$P/bin/ringscan"
got=$("$P/bin/ringscan" --version 2>&1 || true)
[ "$got" = "ringscan $V" ] && rs_pass || rs_nok "installed ringscan --version: '$got', want 'ringscan $V'"
for f in "$RS_ROOT"/docs/*.md; do
	rs_check "docs/$(basename "$f") installed as is" cmp -s "$f" "$P/share/doc/ringscan/docs/$(basename "$f")"
done
rs_check "README.md installed as is" cmp -s "$RS_ROOT/README.md" "$P/share/doc/ringscan/README.md"
rs_check "completion installed as is" cmp -s "$RS_ROOT/completions/ringscan.bash" \
	"$P/share/bash-completion/completions/ringscan"
M=$P/share/man/man1/ringscan.1
sed 's|@DOCDIR@|/usr/local/share/doc/ringscan|g' "$RS_ROOT/docs/ringscan.1" >"$RS_TMP/man.want"
rs_check "man page: @DOCDIR@ is /usr/local/share/doc/ringscan, nothing else changed" \
	cmp -s "$RS_TMP/man.want" "$M"
rs_check "man page names the installed output-schema.md" \
	grep -q '^\.Pa /usr/local/share/doc/ringscan/docs/output-schema\.md' "$M"
if command -v man >/dev/null; then
	LC_ALL=C.UTF-8 MANWIDTH=80 man -M "$P/share/man" ringscan >"$RS_TMP/man.txt" 2>&1 || true
	rs_check "man -M PREFIX/share/man ringscan shows the page" grep -q 'TCP connect scanner on io_uring' "$RS_TMP/man.txt"
fi
rs_check "the installed completion registers _ringscan" bash --norc -c \
	". '$P/share/bash-completion/completions/ringscan' && [ \"\$(complete -p ringscan)\" = 'complete -F _ringscan ringscan' ]"

# 2. The installed binary scans a small world exactly.
W=$RS_TMP/w
world_gen "$W" --seed 5 --addrs 127.1.0.0/28 --ports 20-23 --open 30 --filtered 5 --unreachable 10 --closed-port 23
world_is_mixed "$W"
world_up "$W"
RS=$P/bin/ringscan
if run_scan 60 --all -q -w 2 -t 300 --retries 0 -p 20-23 127.1.0.0/28 -o "$RS_TMP/scan.jsonl" &&
	check_scan "$W/truth.txt" "$RS_TMP/scan.jsonl" "installed ringscan on the world"; then
	rs_pass
else
	rs_nok "the installed ringscan's scan"
fi
world_down

# 3. Uninstall: nothing of ours is left, only the shared directories.
mk uninstall DESTDIR="$D" || { cat "$RS_TMP/make.log" >&2; rs_nok "make uninstall DESTDIR=$D"; }
tree "$D" >"$RS_TMP/left"
grep -v ' usr/local/share/doc/ringscan' "$RS_TMP/tree.want" | grep '^d ' >"$RS_TMP/left.want"
same "make uninstall: what is left (the shared directories only)" "$RS_TMP/left.want" "$RS_TMP/left"
rs_check "a second make uninstall is a no-op" mk uninstall DESTDIR="$D"

# 4. Another PREFIX and BINDIR; an uninstall that finds a stranger's file.
D2=$RS_TMP/stage2
mk install DESTDIR="$D2" PREFIX=/opt/rs BINDIR=/opt/rs/sbin || rs_fail "make install PREFIX=/opt/rs"
tree "$D2" >"$RS_TMP/tree2"
expected /opt/rs /opt/rs/sbin >"$RS_TMP/tree2.want"
same "make install PREFIX=/opt/rs BINDIR=/opt/rs/sbin: the tree" "$RS_TMP/tree2.want" "$RS_TMP/tree2"
rs_check "PREFIX=/opt/rs: the man page names /opt/rs/share/doc/ringscan" \
	grep -q '^\.Pa /opt/rs/share/doc/ringscan/docs/output-schema\.md' "$D2/opt/rs/share/man/man1/ringscan.1"
echo mine >"$D2/opt/rs/share/doc/ringscan/NOTES"
if mk uninstall DESTDIR="$D2" PREFIX=/opt/rs BINDIR=/opt/rs/sbin; then
	rs_nok "make uninstall removed a directory holding a file it did not install"
else
	rs_pass
fi
[ "$(cat "$D2/opt/rs/share/doc/ringscan/NOTES" 2>/dev/null)" = mine ] && rs_pass ||
	rs_nok "make uninstall touched a file it did not install"
[ ! -e "$D2/opt/rs/sbin/ringscan" ] && [ ! -e "$D2/opt/rs/share/doc/ringscan/README.md" ] && rs_pass ||
	rs_nok "make uninstall PREFIX=/opt/rs left its own files"

rs_summary test_install
