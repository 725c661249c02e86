#!/usr/bin/env bash
# tests/fresh/fresh-debian.sh [--branch B] [--repo DIR] [--keep] [--reuse WORKDIR]
#                              [--root-only | --user-only] [CMD...]
#
# The README, followed on a new machine: bootstrap a minimal Debian 12 root
# (mmdebstrap --variant=minbase bookworm, plus make, git and ca-certificates),
# put a clean clone of BRANCH of the repository in it (default: the current
# branch of the repository this script lives in; only committed work
# counts), enter it with its own mount and pid namespaces and pivot_root
# (not chroot: a chrooted process may not create user namespaces, and every
# test needs one), and run each CMD (default: "make demo", then "make
# test", the README's quick start) first as root in /root/ringscan, then as
# an ordinary user "dev" (created with useradd, uid FRESH_UID, default 4242,
# PATH without /usr/sbin) in /home/dev/ringscan. Root goes first so that
# scripts/deps.sh can install the packages; the user cannot. (The kernel
# counts io_uring's locked memory per uid across the whole machine, other
# containers included: an uncommon uid keeps other users' rings out of
# dev's RLIMIT_MEMLOCK.)
#
# Needs root on the host (mmdebstrap, mount) and network access to a Debian
# mirror: the host's apt mirror is reused (FRESH_MIRROR overrides it).
# Took 16 minutes on 2 cores (the root 1 minute; make demo 20 s as root,
# installing; make test 7 1/2 minutes as root, 7 as the user). Not part of make test; run
# by `make fresh-check`. Logs and timings: WORKDIR/*.log, WORKDIR/summary
# (WORKDIR is printed; removed at the end unless --keep). --reuse WORKDIR
# runs in a kept WORKDIR again, without bootstrapping or cloning anew.
# Exit status 0 if every CMD passed every time.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
branch=
keep=0
root_only=0
user_only=0
reuse=
cmds=()
while [ $# -gt 0 ]; do
	case $1 in
	--branch) branch=$2 && shift ;;
	--repo) repo=$2 && shift ;;
	--keep) keep=1 ;;
	--root-only) root_only=1 ;;
	--user-only) user_only=1 ;;
	--reuse) reuse=$2 keep=1 && shift ;;
	-h | --help)
		sed -n '2,/^set /s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	-*)
		echo "fresh-debian.sh: unknown option $1" >&2
		exit 2
		;;
	*) cmds+=("$1") ;;
	esac
	shift
done
[ ${#cmds[@]} -gt 0 ] || cmds=("make demo" "make test")
[ -n "$branch" ] || branch=$(git -C "$repo" rev-parse --abbrev-ref HEAD)

say() { printf '== %s\n' "$*"; }
die() {
	printf 'fresh-debian.sh: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, mount, pivot_root); try: sudo $0"
command -v mmdebstrap >/dev/null ||
	die "mmdebstrap not found; apt-get install -y mmdebstrap"
command -v unshare >/dev/null && command -v pivot_root >/dev/null ||
	die "unshare/pivot_root not found (util-linux)"

# host_uri PATTERN: the first apt source URI on the host whose URI
# matches PATTERN (one-line and deb822 formats), or nothing.
host_uri() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
		2>/dev/null | awk -v pat="$1" '
		/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i ~ pat) { print $i; exit } break } }
		/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ pat) { print $i; exit } }' || true
}
mirror=${FRESH_MIRROR:-$(host_uri '/debian/?$')}
mirror=${mirror:-http://deb.debian.org/debian}
security=${FRESH_SECURITY_MIRROR:-$(host_uri 'debian-security/?$')}
security=${security:-http://deb.debian.org/debian-security}

if [ -n "$reuse" ]; then
	W=$(cd "$reuse" && pwd)
else
	W=$(mktemp -d "${FRESH_WORKDIR:-/var/tmp}/ringscan-fresh.XXXXXX")
fi
R=$W/root
cleanup() {
	if [ $keep = 1 ]; then
		say "kept $W"
	else
		rm -rf --one-file-system "$W"
	fi
}
trap cleanup EXIT
say "work directory $W; branch $branch of $repo; mirror $mirror"

t0=$(date +%s)
if [ -z "$reuse" ]; then
	say "mmdebstrap --variant=minbase bookworm (+ make git ca-certificates)"
	mmdebstrap --variant=minbase --include=make,git,ca-certificates bookworm "$R" \
		"deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
		"deb $security bookworm-security main" >"$W/mmdebstrap.log" 2>&1 ||
		{
			tail -20 "$W/mmdebstrap.log"
			die "mmdebstrap failed"
		}
	cp -L /etc/resolv.conf "$R/etc/resolv.conf"
	[ -e "$R/etc/hosts" ] && say "note: the root has an /etc/hosts" ||
		say "the root has no /etc/hosts (as minbase makes it)"
	say "root ready in $(($(date +%s) - t0)) s, $(du -sm --one-file-system "$R" | cut -f1) MB"

	# The clean clones: one per user, so that neither sees the other's build.
	git clone -q --branch "$branch" "file://$repo" "$R/root/ringscan"
fi
say "commit $(git -C "$R/root/ringscan" log -1 --format='%h %s')"

# enter USER-COMMAND...: run a shell command inside the root, in new mount
# and pid namespaces, after pivot_root; /proc, /dev, /sys and /tmp mounted.
enter() {
	unshare -m -p -f --propagation private -- bash -c '
		set -e
		R=$1
		shift
		mount --bind "$R" "$R"
		mount -t proc proc "$R/proc"
		mount --rbind /dev "$R/dev"
		mount --rbind /sys "$R/sys"
		mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
		mkdir -p "$R/.oldroot"
		cd "$R"
		pivot_root . .oldroot
		umount -l /.oldroot
		rmdir /.oldroot
		cd /
		exec env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			/bin/bash -c "$@"' _ "$R" "$@"
}

# run LABEL LOG COMMAND: run COMMAND inside, timed, output to LOG; append
# the time, exit status and the test counts to WORKDIR/summary.
run() {
	local label=$1 log=$2 rc=0 t
	shift 2
	t=$(date +%s)
	say "$label: $* (log $log)"
	enter "$@" >"$log" 2>&1 || rc=$?
	t=$(($(date +%s) - t))
	{
		printf '%s: exit %s in %d s' "$label" "$rc" "$t"
		grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tr '\n' ';' | sed 's/;$//; s/^/; /'
		grep -q 'RESULT: MATCH' "$log" && printf '; demo: MATCH'
		echo
		grep -E '^(FAIL|SKIP) ' "$log" | sed 's/^/    /' | head -40
	} | tee -a "$W/summary"
	[ $rc = 0 ] || tail -30 "$log" | sed 's/^/    | /'
	return $rc
}

ok=0 i=0
[ $user_only = 1 ] || for c in "${cmds[@]}"; do
	i=$((i + 1))
	run "root: $c" "$W/root-$i.log" "cd /root/ringscan && $c" || ok=1
done
if [ $root_only = 0 ]; then
	if [ ! -d "$R/home/dev/ringscan" ]; then
		enter "useradd -m -u ${FRESH_UID:-4242} -s /bin/bash dev"
		git clone -q --branch "$branch" "file://$repo" "$R/home/dev/ringscan"
		enter "chown -R dev:dev /home/dev/ringscan"
	fi
	i=0
	for c in "${cmds[@]}"; do
		i=$((i + 1))
		run "user: $c" "$W/user-$i.log" "runuser -l dev -c 'cd ringscan && echo PATH=\$PATH && $c'" ||
			ok=1
	done
fi
say "total $(($(date +%s) - t0)) s"
cat "$W/summary"
[ $keep = 1 ] && cp "$W/summary" "$W/summary.txt"
exit $ok
