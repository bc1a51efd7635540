# tests/guest/guest.sh - host side of the real Debian 12 guest (systemd as
# PID 1, the project's .deb installed), sourced by tests/guest/run.sh.
# Needs: top (repo root). Uses tests/vm/vm.sh for Debian's kernel (the same
# cache, build/vm-cache). Owns $GUEST_CACHE (default build/guest-cache):
#   root-KEY.tar     debootstrap --variant=minbase of bookworm with the
#                    packages below; KEY hashes suite, mirror and package list
#   image-KEY.cpio   that root with the .deb installed, the user operator,
#                    the test runner and its unit; KEY hashes the root's key,
#                    the .deb's SHA-256 and the guest files (runner, unit), so
#                    a new .deb re-installs without re-debootstrapping
# Failures print one "FAIL: guest-NAME: why" line and return 1: a missing
# download or a failed boot is never a skip.
# shellcheck shell=bash disable=SC2154 # top is set by the caller
# shellcheck source=tests/vm/vm.sh
. "$top/tests/vm/vm.sh"
GUEST_CACHE=${HMILOCK_GUEST_CACHE:-$top/build/guest-cache}
GUEST_SUITE=bookworm
GUEST_MIRROR=${HMILOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
GUEST_PACKAGES="systemd systemd-sysv udev dbus python3 util-linux auditd procps nodejs"
GUEST_IMAGE=
GUEST_ROOT=
GUEST_TMP=

# guest_deb_depends DEB: the packages DEB's Depends names (first alternative).
guest_deb_depends() {
	dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*//' -e 's/[[:space:]]//g' |
		grep -v '^$'
}

# guest_root DEB: set GUEST_ROOT to the cached root tarball for DEB's
# Depends plus GUEST_PACKAGES, making it with debootstrap when missing.
guest_root() {
	local deb=$1 inc key tarball tmp log
	inc=$( (guest_deb_depends "$deb"; tr ' ' '\n' <<<"$GUEST_PACKAGES") | sort -u | paste -sd, -)
	key=$(printf '%s %s minbase %s\n' "$GUEST_SUITE" "$GUEST_MIRROR" "$inc" | sha256sum | cut -c1-12)
	tarball=$GUEST_CACHE/root-$key.tar
	GUEST_ROOT=$tarball
	[ -f "$tarball" ] && return 0
	mkdir -p "$GUEST_CACHE" || { echo "FAIL: guest-root: cannot create $GUEST_CACHE"; return 1; }
	log=$GUEST_CACHE/root-$key.log
	tmp=$(mktemp -d "$GUEST_CACHE/root.XXXXXX") || return 1
	GUEST_TMP=$tmp
	echo "guest: debootstrap $GUEST_SUITE (+$inc) from $GUEST_MIRROR, log $log" >&2
	if ! debootstrap --variant=minbase --include="$inc" "$GUEST_SUITE" "$tmp" "$GUEST_MIRROR" \
		>"$log" 2>&1; then
		guest_cleanup
		echo "FAIL: guest-root: debootstrap of $GUEST_SUITE from $GUEST_MIRROR failed: $(grep -E '^(E:|W: Failure|W: Couldn)' "$log" | tail -1)"
		tail -10 "$log" | sed 's/^/    /'
		return 1
	fi
	guest_umount_below "$tmp"
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
	if ! tar -C "$tmp" -cf "$tarball.tmp" . || ! mv "$tarball.tmp" "$tarball"; then
		guest_cleanup
		rm -f "$tarball.tmp"
		echo "FAIL: guest-root: cannot write $tarball"
		return 1
	fi
	guest_cleanup
	# roots made for another package list are not used any more
	find "$GUEST_CACHE" -maxdepth 1 -name 'root-*.tar' ! -name "$(basename "$tarball")" -delete
}

# guest_umount_below DIR: unmount whatever is mounted at or below DIR
# (deepest first); debootstrap and dpkg may leave proc or sys there.
guest_umount_below() {
	local m
	awk -v d="$(readlink -f "$1")" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
		sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}

# guest_image DEB FILES_DIR: set GUEST_IMAGE to the cached initramfs (an
# uncompressed newc cpio) of the root with DEB installed and FILES_DIR's
# runner and unit in place, building it when missing.
guest_image() {
	local deb=$1 files=$2 tarball key tmp log rc
	GUEST_TMP=
	guest_root "$deb" || return 1
	tarball=$GUEST_ROOT
	key=$( (basename "$tarball"; sha256sum <"$deb"; cat "$files/runner.sh" "$files/hmilock-guest-test.service" \
		"$top/tests/guest/guest.sh") | sha256sum | cut -c1-12)
	GUEST_IMAGE=$GUEST_CACHE/image-$key.cpio
	[ -s "$GUEST_IMAGE" ] && return 0
	log=$GUEST_CACHE/image-$key.log
	tmp=$(mktemp -d "$GUEST_CACHE/image.XXXXXX") || return 1
	GUEST_TMP=$tmp
	_guest_image_build "$deb" "$files" "$tarball" "$tmp" "$log" "$key"
	rc=$?
	guest_cleanup
	return $rc
}

# guest_cleanup: remove the image being built, unmounting what is mounted in
# it first (run.sh calls it from its EXIT trap too).
guest_cleanup() {
	[ -n "${GUEST_TMP:-}" ] && [ -d "$GUEST_TMP" ] || return 0
	guest_umount_below "$GUEST_TMP"
	rm -rf --one-file-system "$GUEST_TMP"
	[ -n "$GUEST_IMAGE" ] && rm -f "$GUEST_IMAGE.tmp"
	GUEST_TMP=
}

_guest_image_build() {
	local deb=$1 files=$2 tarball=$3 tmp=$4 log=$5 key=$6 rc
	if ! tar -C "$tmp" -xf "$tarball"; then
		echo "FAIL: guest-image: cannot unpack $tarball"
		return 1
	fi
	cp "$deb" "$tmp/tmp/hmilock.deb"
	# A proc instance of its own only while dpkg runs (the postinst calls
	# systemd-tmpfiles); nothing of the host is bound in.
	mount -t proc -o nosuid,nodev,noexec hmilock-guest-proc "$tmp/proc" || return 1
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$tmp" dpkg -i /tmp/hmilock.deb >"$log" 2>&1
	rc=$?
	umount "$tmp/proc" || umount -l "$tmp/proc"
	if [ $rc -ne 0 ]; then
		echo "FAIL: guest-image: dpkg -i of $(basename "$deb") in the guest root failed ($rc):"
		tail -10 "$log" | sed 's/^/    /'
		return 1
	fi
	rm -f "$tmp/tmp/hmilock.deb"
	if ! chroot "$tmp" useradd -m -N -g users -s /bin/bash operator >>"$log" 2>&1; then
		echo "FAIL: guest-image: useradd operator failed: $(tail -1 "$log")"
		return 1
	fi
	if ! mkdir -p "$tmp/usr/local/lib/hmilock-guest" "$tmp/etc/systemd/system/multi-user.target.wants" ||
		! install -m 0755 "$files/runner.sh" "$tmp/usr/local/lib/hmilock-guest/runner.sh" ||
		! install -m 0644 "$files/hmilock-guest-test.service" "$tmp/etc/systemd/system/" ||
		! ln -sf /etc/systemd/system/hmilock-guest-test.service \
			"$tmp/etc/systemd/system/multi-user.target.wants/hmilock-guest-test.service"; then
		echo "FAIL: guest-image: cannot install the test runner and its unit"
		return 1
	fi
	# (Debian has a system group "operator": the user goes in "users".)
	# A box of its own: hostname, machine-id made at first boot, no root
	# password prompt needed (nothing logs in), no fstab entries.
	echo hmilock-guest >"$tmp/etc/hostname"
	: >"$tmp/etc/machine-id"
	: >"$tmp/etc/fstab"
	# The kernel gives the initramfs root the mode of the archive's "."
	# (mktemp made it 0700: no user but root could reach anything).
	chmod 0755 "$tmp"
	# Uncompressed: the kernel unpacks it into the initramfs root faster.
	if ! (cd "$tmp" && find . -xdev | LC_ALL=C sort | cpio --quiet -o -H newc) >"$GUEST_IMAGE.tmp" ||
		! mv "$GUEST_IMAGE.tmp" "$GUEST_IMAGE"; then
		rm -f "$GUEST_IMAGE.tmp"
		echo "FAIL: guest-image: packing the cpio failed"
		return 1
	fi
	find "$GUEST_CACHE" -maxdepth 1 -name 'image-*.cpio' ! -name "$(basename "$GUEST_IMAGE")" -delete
	find "$GUEST_CACHE" -maxdepth 1 -name 'image-*.log' ! -name "image-$key.log" -delete
	return 0
}

# guest_boot IMAGE CONSOLE REPORT TIMEOUT: boot Debian's kernel with IMAGE
# as the initramfs root and systemd as PID 1; the console goes to CONSOLE,
# the second serial port (the test's report, /dev/ttyS1 in the guest) to
# REPORT. Returns once qemu exits, or kills it (its own PID) TIMEOUT seconds
# after the start, or 30 s after the report says RESULT: DONE (a shutdown
# that hangs is not the test's result). Fails when no RESULT line came.
guest_boot() {
	local image=$1 console=$2 report=$3 t=$4 accel=${HMILOCK_VM_ACCEL:--accel tcg -cpu max} qpid i done_at=
	command -v qemu-system-x86_64 >/dev/null || {
		echo "FAIL: guest-boot: qemu-system-x86_64 not installed (tools/bootstrap.sh --deps-only)"
		return 1
	}
	: >"$console"
	: >"$report"
	# shellcheck disable=SC2086
	qemu-system-x86_64 $accel -m 3072 -smp 2 -display none -monitor none -no-reboot -nic none \
		-serial "file:$console" -serial "file:$report" \
		-kernel "$VM_KERNEL" -initrd "$image" \
		-append "console=ttyS0 rdinit=/sbin/init panic=-1 quiet ${GUEST_APPEND_EXTRA:-}" \
		</dev/null >>"$console.qemu" 2>&1 &
	qpid=$!
	# stopped by tests/integration/lib.sh's exit trap should the caller die
	declare -F track_pid >/dev/null && track_pid "$qpid"
	for ((i = 0; i < t; i++)); do
		kill -0 "$qpid" 2>/dev/null || break
		if [ -z "$done_at" ] && grep -q '^RESULT: DONE' "$report" 2>/dev/null; then
			done_at=$i
		fi
		if [ -n "$done_at" ] && [ $((i - done_at)) -ge 30 ]; then
			echo "guest: the guest reported but did not power off within 30 s; stopping qemu"
			break
		fi
		sleep 1
	done
	if kill -0 "$qpid" 2>/dev/null; then
		kill -TERM "$qpid" 2>/dev/null
		sleep 2
		kill -KILL "$qpid" 2>/dev/null
	fi
	wait "$qpid" 2>/dev/null
	tr -d '\r' <"$report" >"$report.tmp" && mv "$report.tmp" "$report"
	if ! grep -q '^RESULT: DONE' "$report"; then
		echo "FAIL: guest-boot: the guest sent no RESULT: DONE within ${t}s (boot failure, hang or a runner that died); last console lines:"
		tr -d '\r' <"$console" | tail -15 | sed 's/^/    /'
		return 1
	fi
}
