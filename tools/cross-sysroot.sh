#!/bin/bash
# tools/cross-sysroot.sh ARCH SYSROOT - the target's libraries for a cross
# build (make ARCH=arm64). Owns SYSROOT and its apt state under
# build/cache/apt-SUITE-ARCH; run by the Makefile, which reads SYSROOT's
# stamp (.hmilock-sysroot) as a makefile.
#
# Downloads, with a private apt configuration (tools/apt-private.sh: own
# sources list, lists, cache and an empty dpkg status; the machine's own
# sources and architectures are never touched), Debian SUITE's (bookworm)
# ARCH packages of libc6-dev and every -dev package of
# packaging/debian/control's Build-Depends, with their whole dependency
# closure, and unpacks them with dpkg -x into SYSROOT. Absolute symlinks
# (libfoo.so -> /lib/<triplet>/libfoo.so.1) are made relative so that they
# resolve inside SYSROOT. SYSROOT/var/lib/dpkg is a dpkg database of those
# packages, with their file lists under SYSROOT's absolute path and their
# symbols and shlibs files: dpkg-shlibdeps --admindir reads it to compute an
# ARCH package's Depends (packaging/debian/rules).
#
# Kept while the package list, the suite, SYSROOT's path and this script
# stay the same; the package lists are fetched again once a day. A package
# that cannot be resolved or downloaded stops the script with an error
# naming it.
set -euo pipefail

die() {
	echo "cross-sysroot: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: tools/cross-sysroot.sh ARCH SYSROOT"
arch=$1
case $arch in
arm64) triplet=aarch64-linux-gnu ;;
*) die "unsupported ARCH '$arch' (supported: arm64)" ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/apt-private.sh
. "$top/tools/apt-private.sh"
suite=${HMILOCK_CROSS_SUITE:-bookworm}
mkdir -p "$2"
root=$(cd "$2" && pwd)
stamp=$root/.hmilock-sysroot
aptdir=$top/build/cache/apt-$suite-$arch

for tool in apt-get dpkg-deb md5sum realpath; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (run tools/bootstrap.sh --deps-only)"
done

# The -dev packages the package build needs (one list: debian/control).
control=$top/packaging/debian/control
pkgs=$(sed -n '/^Build-Depends:/,/^[^[:space:]B]/p' "$control" | sed -e 's/^Build-Depends://' |
	tr ',' '\n' | sed -e 's/(.*//' -e 's/[[:space:]]//g' | grep -e '-dev$' | sort -u | paste -sd' ' -)
[ -n "$pkgs" ] || die "no -dev package in the Build-Depends of $control"
# HMILOCK_CROSS_EXTRA: more packages (test 83 asks for one that does not exist).
pkgs="libc6-dev $pkgs${HMILOCK_CROSS_EXTRA:+ $HMILOCK_CROSS_EXTRA}"
key=$( (printf '%s\n' "$suite" "$arch" "$root" "$pkgs"; cat "$0") | md5sum | cut -c1-16)
if [ -f "$stamp" ] && grep -qx "# key $key" "$stamp"; then
	touch "$stamp" # newer than what make compares it with
	exit 0
fi

echo "  SYSROOT $root (Debian $suite $arch: $pkgs)"
apt_private_update "$aptdir" "$suite" "$arch" ||
	die "apt-get update of the private $suite $arch sources failed: $(grep -E '^(E|Err|W)' "$aptdir/update.log" | tail -1) (log: $aptdir/update.log)"
: >"$aptdir/status"
apt=(apt_private "$aptdir" "$arch" apt-get -o Dir::State::status="$aptdir/status"
	-o Dir::State::extended_states="$aptdir/extended_states" -o Dir::Etc::preferences=/dev/null
	-o Dir::Etc::preferencesparts=- -o Debug::NoLocking=1 -y --no-install-recommends)

# The closure as apt resolves it against the empty status: "Inst NAME (VERSION ...[ARCH])".
# shellcheck disable=SC2086 # a list of package names
if ! "${apt[@]}" -s install $pkgs >"$aptdir/resolve.log" 2>&1; then
	die "apt cannot resolve the $arch packages: $(grep -E '^(E:|  )' "$aptdir/resolve.log" | paste -sd' ' -) (log: $aptdir/resolve.log)"
fi
closure=$(sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p' "$aptdir/resolve.log")
[ -n "$closure" ] || die "apt resolved no package for $pkgs (log: $aptdir/resolve.log)"
# shellcheck disable=SC2086
if ! "${apt[@]}" install --download-only $pkgs >"$aptdir/download.log" 2>&1; then
	die "downloading the $arch packages failed: $(grep -E '^(E|Err)' "$aptdir/download.log" | paste -sd' ' -) (log: $aptdir/download.log)"
fi
debs=()
missing=
while read -r name version; do
	# apt names an epoch's colon %3a in the file name; Architecture: all too.
	f=
	for c in "$aptdir/cache/archives/${name}_${version/:/%3a}_"{"$arch",all}.deb; do
		[ -f "$c" ] && f=$c
	done
	if [ -z "$f" ]; then
		missing="$missing $name=$version"
	else
		debs+=("$f")
	fi
done <<<"$closure"
[ -z "$missing" ] || die "not downloaded:$missing (log: $aptdir/download.log)"

tmp=$root.tmp
rm -rf "$tmp"
mkdir -p "$tmp/var/lib/dpkg/info" "$tmp/var/lib/dpkg/updates"
admin=$tmp/var/lib/dpkg
printf '%s\n' "$(dpkg --print-architecture)" "$arch" | sort -u >"$admin/arch"
# The multiarch layout of info/ (PKG:ARCH.list for Multi-Arch: same).
echo 1 >"$admin/info/format"
: >"$admin/status"
for f in "${debs[@]}"; do
	dpkg-deb -x "$f" "$tmp" || die "dpkg-deb -x $f failed"
	name=$(dpkg-deb -f "$f" Package)
	# dpkg's info files carry :ARCH for Multi-Arch: same packages only.
	[ "$(dpkg-deb -f "$f" Multi-Arch)" = same ] && name=$name:$arch
	dpkg-deb -f "$f" | grep -v '^Status:' >"$admin/status.tmp"
	# The stanza with the Status line after Package, then a blank line.
	sed '1a Status: install ok installed' "$admin/status.tmp" >>"$admin/status"
	echo >>"$admin/status"
	dpkg-deb --fsys-tarfile "$f" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' -e '/^$/d' |
		sed "s|^/|$root/|" >"$admin/info/$name.list"
	rm -rf "$tmp/.ctl" && mkdir "$tmp/.ctl" && dpkg-deb -e "$f" "$tmp/.ctl"
	for c in symbols shlibs; do
		[ -f "$tmp/.ctl/$c" ] && cp "$tmp/.ctl/$c" "$admin/info/$name.$c"
	done
done
rm -rf "$tmp/.ctl" "$admin/status.tmp"

# Absolute symlinks point into the build machine's root: make them relative.
while IFS= read -r link; do
	target=$(readlink "$link")
	case $target in
	/*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$tmp$target")" "$link" ;;
	esac
done < <(find "$tmp" -type l)
for f in "usr/lib/$triplet/libc.so" "usr/include/$triplet/gnu/stubs.h"; do
	[ -e "$tmp/$f" ] || die "the sysroot lacks $f after unpacking"
done

{
	echo "# tools/cross-sysroot.sh: Debian $suite $arch, $(date -u +%F)"
	echo "# packages: $pkgs"
	echo "# key $key"
} >"$tmp/.hmilock-sysroot"
rm -rf "$root"
mv "$tmp" "$root"
echo "  SYSROOT ${#debs[@]} packages, $(du -sh "$root" | cut -f1)"
