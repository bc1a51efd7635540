#!/bin/sh
# packaging/build-deb.sh OUTDIR - build the hmilock .deb (`make deb`).
# Owned by packaging/ (helper F). Copies the source tree (without build/,
# .git and any debian/) into a temporary directory, puts packaging/debian
# there as debian/, runs dpkg-buildpackage -us -uc -b in it and moves the
# results (.deb, .ddeb, .changes, .buildinfo, build log) to OUTDIR. The
# checkout itself is never written to (except OUTDIR).
# With HMILOCK_DEB_ARCH (make deb ARCH=arm64) the package is cross-built
# for that architecture against HMILOCK_SYSROOT (tools/cross-sysroot.sh).
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

# Cross build: -a ARCH, and -d because the Build-Depends cannot be checked
# here: their ARCH -dev packages are not installable on this machine (its
# dpkg has no foreign architecture, and gets none). tools/cross-sysroot.sh
# unpacks exactly those (read from debian/control) into the sysroot and fails
# naming any it cannot get; the build-machine tools are bootstrap.sh's.
cross=
if [ -n "${HMILOCK_DEB_ARCH:-}" ]; then
	[ -f "${HMILOCK_SYSROOT:-}/var/lib/dpkg/status" ] ||
		die "cross build for $HMILOCK_DEB_ARCH: no sysroot at '${HMILOCK_SYSROOT:-}' (run make deb ARCH=$HMILOCK_DEB_ARCH)"
	cross="-a$HMILOCK_DEB_ARCH -d"
	gnutype=$(dpkg-architecture -a"$HMILOCK_DEB_ARCH" -qDEB_HOST_GNU_TYPE 2>/dev/null)
	command -v "$gnutype-gcc" >/dev/null 2>&1 ||
		die "$gnutype-gcc not found: run tools/bootstrap.sh --deps-only"
	export CC="$gnutype-gcc" HMILOCK_SYSROOT
fi

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
# shellcheck disable=SC2086 # $cross: options or nothing
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b $cross) >"$log" 2>&1; then
	tail -30 "$log" >&2
	die "dpkg-buildpackage failed; full log in $log"
fi

rm -f "$out"/hmilock_*.deb "$out"/hmilock-dbgsym_*.*deb "$out"/hmilock_*.changes \
	"$out"/hmilock_*.buildinfo
for f in "$work"/*.deb "$work"/*.ddeb "$work"/*.changes "$work"/*.buildinfo; do
	[ -e "$f" ] && mv "$f" "$out/"
done
ls "$out"/hmilock_"$version"_*.deb
