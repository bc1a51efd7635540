# tests/integration/pkg.sh - helpers for the packaging tests 50-59 (helper
# F). Source after lib.sh. Builds the .deb once per source change, keeps a
# Debian 12 root made with debootstrap as a cached tarball, and parses man
# pages and help texts (pkg_manparse.py).
#   HMILOCK_DEB_DIR        where `make deb` puts the package (default $BIN/deb)
#   PKG_DEB_ARGS           more arguments for `make deb` (ARCH=arm64: the
#                          arm64 package, tests/guest/run.sh)
#   HMILOCK_CACHE          cache directory (default $TOP/build/cache)
#   HMILOCK_DEBIAN_MIRROR  default http://deb.debian.org/debian

PKG_DEB_DIR=${HMILOCK_DEB_DIR:-$BIN/deb}
PKG_CACHE=${HMILOCK_CACHE:-$TOP/build/cache}
PKG_MIRROR=${HMILOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKG_SUITE=bookworm
PKG_MANPARSE=$TOP/tests/integration/pkg_manparse.py
# The man pages the package must ship.
PKG_MANPAGES="hmilock.8 hmilockd.8 hmilock.conf.5"

# pkg_need TOOL...: skip the whole script when a tool is missing.
pkg_need() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			skip "$(basename "$0" .sh): $t not installed (tools/bootstrap.sh installs it)"
			exit 0
		fi
	done
}

# pkg_deb: set DEB to the package built from the current tree, running
# `make deb` only when a source file is newer than the last .deb.
# Returns 1 (build log on stdout) when the build fails.
pkg_deb() {
	local newer log=$T/make-deb.log
	mkdir -p "$PKG_DEB_DIR"
	DEB=$(ls -t "$PKG_DEB_DIR"/hmilock_*.deb 2>/dev/null | head -1)
	if [ -n "$DEB" ]; then
		newer=$(find "$TOP" \( -path "$TOP/build" -o -path "$TOP/.git" -o -path "$TOP/tests" \) -prune \
			-o -type f -newer "$DEB" -print -quit)
		[ -z "$newer" ] && return 0
	fi
	DEB=
	# shellcheck disable=SC2086 # a list of make arguments
	if ! make -C "$TOP" deb DEB_OUT="$PKG_DEB_DIR" ${PKG_DEB_ARGS:-} >"$log" 2>&1; then
		tail -40 "$log"
		return 1
	fi
	DEB=$(ls -t "$PKG_DEB_DIR"/hmilock_*.deb 2>/dev/null | head -1)
	[ -n "$DEB" ]
}

# pkg_deb_depends DEB: the packages its Depends names (first alternative).
pkg_deb_depends() {
	dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*//' -e 's/[[:space:]]//g' |
		grep -v '^$' | sort -u
}

# pkg_root DIR DEB: a fresh Debian 12 minbase root in DIR with what DEB
# depends on and systemd (an HMI box runs it) already installed; the
# debootstrap result is cached as a tarball keyed by that package list.
# Returns 2 when the mirror cannot be reached, 1 on other failures.
pkg_root() {
	local dir=$1 deb=$2 inc key tarball tmp log
	inc=$( (pkg_deb_depends "$deb"; echo systemd) | sort -u | paste -sd, -)
	key=$(printf '%s %s %s\n' "$PKG_SUITE" minbase "$inc" | md5sum | cut -c1-12)
	tarball=$PKG_CACHE/debootstrap/$PKG_SUITE-minbase-$key.tar
	mkdir -p "$PKG_CACHE/debootstrap"
	if [ ! -f "$tarball" ]; then
		tmp=$(mktemp -d "$PKG_CACHE/debootstrap/root.XXXXXX")
		log=$PKG_CACHE/debootstrap/$PKG_SUITE-minbase-$key.log
		echo "pkg_root: debootstrap $PKG_SUITE (+$inc) from $PKG_MIRROR, log $log"
		if ! debootstrap --variant=minbase --include="$inc" "$PKG_SUITE" "$tmp" "$PKG_MIRROR" \
			>"$log" 2>&1; then
			rm -rf "$tmp"
			tail -15 "$log"
			if grep -q -e 'Failed getting release file' -e 'Temporary failure resolving' \
				-e 'Could not resolve' -e "Couldn't download" "$log"; then
				return 2
			fi
			return 1
		fi
		# Keep the cached root small and free of this run's traces.
		rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
		tar -C "$tmp" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
		rm -rf "$tmp"
		# roots made for an older package list are not used any more
		find "$PKG_CACHE/debootstrap" -maxdepth 1 -name "$PKG_SUITE-minbase-*.tar" \
			! -name "$(basename "$tarball")" -delete
	fi
	on_exit "mountpoint -q '$dir/proc' && umount -l '$dir/proc'"
	mkdir -p "$dir" && tar -C "$dir" -xf "$tarball"
}

# pkg_in ROOT CMD...: run CMD inside ROOT (no /dev or /sys mounted: nothing
# of the host is exposed, and removing ROOT cannot reach the host).
pkg_in() {
	local root=$1
	shift
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"
}

# pkg_dpkg ROOT ARGS...: dpkg ARGS inside ROOT with a fresh proc instance
# mounted on ROOT/proc for the call only (systemd-tmpfiles in the postinst
# needs it, as on a real box); unmounted before it returns and, should the
# script die, by the EXIT trap pkg_root set before ROOT is removed.
pkg_dpkg() {
	local root=$1 rc
	shift
	mount -t proc -o nosuid,nodev,noexec hmilock-chroot-proc "$root/proc" || return 1
	pkg_in "$root" dpkg "$@"
	rc=$?
	umount "$root/proc" || umount -l "$root/proc"
	return $rc
}

# pkg_unit_value FILE SECTION KEY: the values of KEY in [SECTION] of a unit
# file, one per line, in order (an empty assignment resets, as systemd does).
pkg_unit_value() {
	awk -v sec="$2" -v key="$3" '
		/^[[:space:]]*[#;]/ { next }
		/^[[:space:]]*\[/ { cur = $0; gsub(/[][[:space:]]/, "", cur); next }
		cur == sec {
			line = $0
			k = line; sub(/=.*/, "", k); gsub(/[[:space:]]/, "", k)
			if (k != key) next
			v = line; sub(/^[^=]*=[[:space:]]*/, "", v); sub(/[[:space:]]+$/, "", v)
			if (v == "") { n = 0; next }
			vals[++n] = v
		}
		END { for (i = 1; i <= n; i++) print vals[i] }' "$1"
}
