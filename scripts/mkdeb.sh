#!/usr/bin/env bash
# scripts/mkdeb.sh (make deb): build the Debian package of this tree into
# build/ringscan_VERSION_ARCH.deb.
#
# dpkg-buildpackage writes beside the source (debian/ringscan/, debian/
# .debhelper, build/) and its results into the source's parent directory,
# so it runs on a copy: the tree's files (git's tracked and untracked ones
# that are not ignored; everything but build/ and .git outside git) are
# copied to build/deb/ringscan-VERSION/, `dpkg-buildpackage -b -us -uc`
# runs there (binary only, unsigned), and its .deb is copied to build/.
# Nothing is written outside build/. Left in build/deb/: the log
# (build.log), the .changes and .buildinfo, and the -dbgsym package.
#
# Needs the "deb" profile of scripts/deps.sh (dpkg-dev, debhelper; lintian
# for make test-deb) and the build one. VERSION must equal
# debian/changelog's version: a new VERSION needs a changelog entry
# (dch -v VERSION, or by hand).
set -euo pipefail
cd "$(dirname "$0")/.."

for t in dpkg-buildpackage:dpkg-dev dh:debhelper; do
	command -v "${t%%:*}" >/dev/null 2>&1 || {
		echo "mkdeb: no ${t%%:*} (${t#*:}): run 'scripts/deps.sh deb' as root" >&2
		exit 1
	}
done
v=$(cat VERSION)
cv=$(dpkg-parsechangelog -S Version)
if [ "$v" != "$cv" ]; then
	echo "mkdeb: VERSION is $v but debian/changelog's last entry is $cv: add an entry for $v" >&2
	exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
out=build/deb
src=$out/ringscan-$v
rm -rf "$out"
mkdir -p "$src"

# The tree's files, NUL-separated.
files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -e "$f" ] && printf '%s\0' "$f" # not deleted since
			done
	else
		find . -path ./build -prune -o -path ./.git -prune -o -type f -printf '%P\0'
	fi
}
files | tar --null -T - -cf - | tar -xf - -C "$src"

echo "mkdeb: dpkg-buildpackage -b -us -uc in $src (log: $out/build.log)" >&2
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -30 "$out/build.log" >&2
	echo "mkdeb: dpkg-buildpackage failed (log above, full log: $out/build.log)" >&2
	exit 1
fi
deb=ringscan_${v}_$arch.deb
cp "$out/$deb" "build/$deb"
echo "build/$deb"
