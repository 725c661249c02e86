#!/bin/sh
# Install what building and testing ringscan needs, when it is missing.
# Debian/Ubuntu (apt-get); needs root only when something is missing.
set -eu

missing=""
need() { # need PACKAGE TEST...
	pkg=$1; shift
	if ! "$@" >/dev/null 2>&1; then missing="$missing $pkg"; fi
}
need gcc          command -v cc
need make         command -v make
need liburing-dev test -f /usr/include/liburing.h
need libcmocka-dev test -f /usr/include/cmocka.h
need nftables     command -v nft
need iproute2     command -v ip
need util-linux   command -v unshare
need procps       command -v pgrep
need python3      command -v python3
need parallel     command -v parallel
need cppcheck     command -v cppcheck
need clang-format command -v clang-format
need clang        command -v clang
need libclang-rt-14-dev test -f /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a

[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run as root, or: sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
