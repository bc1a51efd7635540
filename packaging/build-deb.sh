#!/bin/sh
# packaging/build-deb.sh OUTDIR - build the hmilock .deb (`make deb`).
# Owned by packaging/ (helper F). Copies the source tree (without build/,
# .git and any debian/) into a temporary directory, puts packaging/debian
# there as debian/, runs dpkg-buildpackage -us -uc -b in it and moves the
# results (.deb, .ddeb, .changes, .buildinfo, build log) to OUTDIR. The
# checkout itself is never written to (except OUTDIR).
set -eu

die() {
	echo "build-deb: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: packaging/build-deb.sh OUTDIR"
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
for tool in dpkg-buildpackage dpkg-parsechangelog dh; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool not found: apt-get install debhelper dpkg-dev devscripts fakeroot (or run tools/bootstrap.sh)"
done
[ -f "$top/packaging/debian/control" ] || die "$top/packaging/debian/control missing"

version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
upstream=${version%-*}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hmilock-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
src=$work/hmilock-$upstream

mkdir "$src"
# The tree as it is now, committed or not; build output and VCS data stay out.
(cd "$top" && tar -cf - --exclude=./build --exclude=./.git --exclude=./debian \
	--exclude='./*.deb' .) | tar -C "$src" -xf -
cp -R "$top/packaging/debian" "$src/debian"

log=$out/build.log
echo "  DEB     hmilock $version (log: $log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -30 "$log" >&2
	die "dpkg-buildpackage failed; full log in $log"
fi

rm -f "$out"/hmilock_*.deb "$out"/hmilock-dbgsym_*.*deb "$out"/hmilock_*.changes \
	"$out"/hmilock_*.buildinfo
for f in "$work"/*.deb "$work"/*.ddeb "$work"/*.changes "$work"/*.buildinfo; do
	[ -e "$f" ] && mv "$f" "$out/"
done
ls "$out"/hmilock_"$version"_*.deb
