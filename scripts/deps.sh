#!/bin/sh
# scripts/deps.sh [PROFILE]: make sure the Debian/Ubuntu packages a task
# needs are installed. Packages are checked as packages (dpkg-query), not by
# looking for commands on the caller's PATH. Run as root, installs the
# missing ones with apt-get (saying which first); otherwise names them and
# how to install them, and exits 1. PROFILE:
#   build  build/ringscan and build/tools (make): a C compiler, make, liburing,
#          libpcre2 (nmap's service probe regexes), libsqlite3 (the --db
#          inventory)
#   install  build + what the installed tool is read and typed with: man-db
#          (man ringscan) and bash-completion (which loads its completion in
#          new shells); a desktop or server install has both, a minimal
#          root (a container, mmdebstrap's minbase) neither
#   demo   build + the test world of make demo: nftables, iproute2, util-linux
#   test   demo + everything make test uses (the default; make deps):
#          cmocka, procps, python3, GNU parallel, cppcheck, clang-format,
#          clang and its fuzzer runtime, and the real daemons of the
#          service tests (tests/e2e/svcworld.sh): openssh-server,
#          dropbear-bin, inetutils-telnetd, socat, openssl; nmap for
#          its service database (nmap-service-probes) and its DTD
#          (nmap.dtd, which -f xml's files are validated against);
#          libxml2-utils (xmllint), ndiff and python3-libnmap, the tools
#          that read -f xml's files in tests/e2e/test_xml_tools.sh;
#          mandoc (mandoc -Tlint on the man page: test_manpage.sh), man-db
#          (man ringscan in test_install.sh, test_deb.sh), bash-completion
#          (its _init_completion and _filedir drive the completion in
#          test_completion.sh); sqlite3, the command-line shell the
#          inventory tests query the database with (test_db*.sh); the
#          deb profile (test_deb.sh); python3-pytest, python3-pip,
#          python3-setuptools, python3-wheel for the Python package's
#          tests (tests/e2e/test_python.sh: pytest, and pip installing
#          python/ offline)
#   slurm  build + demo's world + Debian's Slurm (slurm-wlm: slurmctld,
#          slurmd, the client commands) and munge, used only by make
#          test-slurm (tests/slurm/test_slurm.sh: a one-node cluster in a
#          private namespace runs deploy/slurm/ringscan-array.sbatch)
#   deb    build + what make deb and make test-deb need: dpkg-dev
#          (dpkg-buildpackage), build-essential (which it checks for),
#          debhelper (dh, compat 13), lintian
# Installing never starts a daemon: unless the system has its own
# /usr/sbin/policy-rc.d, a temporary one that refuses every start (exit
# 101, see invoke-rc.d(8)) is in place during apt-get install. The tests
# start the daemons they need themselves, in private namespaces. (On a
# systemd machine openssh-server still enables ssh.service for the next
# boot, as its package does; deps.sh says so.)
set -eu

build="gcc libc6-dev make liburing-dev libpcre2-dev libsqlite3-dev"
install="$build man-db bash-completion"
demo="$build nftables iproute2 util-linux"
test="$demo libcmocka-dev procps python3 parallel cppcheck clang-format clang libclang-rt-14-dev"
test="$test openssh-server dropbear-bin inetutils-telnetd socat openssl nmap"
test="$test libxml2-utils ndiff python3-libnmap sqlite3"
# The man page, the completion and the Debian package (see the top).
deb="$build build-essential dpkg-dev debhelper lintian"
test="$test mandoc man-db bash-completion build-essential dpkg-dev debhelper lintian"
test="$test python3-pytest python3-pip python3-setuptools python3-wheel"

slurm="$demo slurm-wlm munge"

profile=${1:-test}
case $profile in
build) want=$build ;;
install) want=$install ;;
demo) want=$demo ;;
test) want=$test ;;
deb) want=$deb ;;
slurm) want=$slurm ;;
-h | --help)
	sed -n '2,/^set /s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	echo "deps: unknown profile '$profile' (build, install, demo, test, deb or slurm)" >&2
	exit 2
	;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: no dpkg-query (not Debian/Ubuntu?); install the equivalents of: $want" >&2
	exit 1
fi
missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps ($profile): missing packages:$missing" >&2
	echo "deps: run this as root (scripts/deps.sh $profile), or: sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "deps ($profile): installing with apt-get:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp "${TMPDIR:-/tmp}/ringscan-deps.XXXXXX")

# No daemon may start while installing (see the top): our own
# policy-rc.d if there is none, removed however we leave.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ] && [ ! -L "$policy" ]; then
	printf '#!/bin/sh\n# scripts/deps.sh (ringscan): no daemon starts during its apt-get install\nexit 101\n' \
		>"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
fi
# shellcheck disable=SC2086
if apt-get update -qq >"$log" 2>&1 &&
	apt-get install -y -qq --no-install-recommends $missing >>"$log" 2>&1; then
	rm -f "$log"
	echo "deps ($profile): installed:$missing" >&2
	case " $missing " in
	*" openssh-server "*)
		if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
			echo "deps: note: openssh-server enabled ssh.service for the next boot (not started);" \
				"'systemctl disable ssh' if this machine should not run sshd" >&2
		fi
		;;
	esac
	exit 0
fi
tail -20 "$log" >&2
echo "deps ($profile): apt-get failed (log above, full log: $log)" >&2
exit 1
