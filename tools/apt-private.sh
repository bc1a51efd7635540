# shellcheck shell=bash
# tools/apt-private.sh - apt-get/apt-cache with a private apt state: its own
# sources list, package lists, cache and architecture, all under one
# directory. Sourced by tests/vm/vm.sh (Debian's kernels) and
# tools/cross-sysroot.sh (the target's libraries of a cross build). The
# machine's own sources, lists and dpkg architectures are never touched.

# apt_private DIR ARCH CMD ARGS...: CMD (apt-get or apt-cache) with the apt
# state under DIR, for Debian architecture ARCH only.
apt_private() {
	local d=$1 arch=$2 cmd=$3
	shift 3
	"$cmd" -o Dir::Etc::sourcelist="$d/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
		-o APT::Architecture="$arch" -o APT::Architectures::="$arch" "$@"
}

# apt_private_update DIR SUITE ARCH: write DIR's sources list for Debian
# SUITE and fetch its package lists for ARCH (once a day: security updates
# move versions; older ones leave the mirror). The log is DIR/update.log.
apt_private_update() {
	local d=$1 suite=$2 arch=$3 mirror=${HMILOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" || return 1
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
		>"$d/sources.list" || return 1
	if [ -n "$(find "$d/lists" -maxdepth 1 -name '*_Packages' -mmin -1440 2>/dev/null)" ]; then
		return 0
	fi
	apt_private "$d" "$arch" apt-get update >"$d/update.log" 2>&1
}
