# tests/guest/guest.sh - host side of the real Debian 12 guest (systemd as
# PID 1, the project's .deb installed), sourced by tests/guest/run.sh.
# Needs: top (repo root). Uses tests/vm/vm.sh for Debian's kernel (the same
# cache, build/vm-cache). Owns $GUEST_CACHE (default build/guest-cache):
#   root-KEY.tar     debootstrap --variant=minbase of bookworm with the
#                    packages below; KEY hashes suite, mirror and package list
#   image-KEY.ext4   that root with the .deb installed (apt-get install), the
#                    HMI stack (tests/guest/hmi, Node-RED), the user operator,
#                    the test runner and its unit, as an ext4 image (the
#                    guest's disk, /dev/vda; booted with snapshot=on, so the
#                    cache stays clean and a reboot inside one run keeps
#                    state); KEY hashes the root's key, the .deb's SHA-256
#                    and the guest files (runner, unit), so a new .deb
#                    re-installs without re-debootstrapping
#   initrd-ABI-KEY.cpio.gz  a busybox initramfs with the modules Debian's
#                    kernel ABI needs to mount that disk (virtio_blk, ext4:
#                    modules in Debian's kernels), which switch_roots to it
# Failures print one "FAIL: guest-NAME: why" line and return 1: a missing
# download or a failed boot is never a skip.
# shellcheck shell=bash disable=SC2154 # top is set by the caller
# shellcheck source=tests/vm/vm.sh
. "$top/tests/vm/vm.sh"
GUEST_CACHE=${HMILOCK_GUEST_CACHE:-$top/build/guest-cache}
GUEST_SUITE=bookworm
GUEST_MIRROR=${HMILOCK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# (mosquitto, python3-pymodbus and Node-RED on nodejs: the HMI stack of
# tests/guest/hmi, as docs/operations.md names it; pymodbus 3.0.0 imports
# python3-serial and python3-serial-asyncio, which Debian only recommends)
# (ansible-core: Debian's ansible-playbook, for the role of packaging/ansible
# in the boot with hmilock.guest=ansible, tests/guest/ansible.sh; its
# python3-cryptography needs python3-cffi-backend, which debootstrap does not
# find through the virtual package python3-cffi-backend-api-min)
GUEST_PACKAGES="systemd systemd-sysv udev dbus python3 util-linux auditd procps nodejs mosquitto mosquitto-clients python3-pymodbus python3-serial python3-serial-asyncio ansible-core python3-cffi-backend"
# Installed with apt-get in the debootstrapped root (debootstrap's own
# resolver fails to configure podman's golang-github-containers-common):
# podman, btrfs-progs and fuse2fs, the container, btrfs and FUSE cases of
# tests/guest/platforms.sh (podman's storage: overlayfs on the root's ext4).
GUEST_PACKAGES_APT="podman btrfs-progs fuse2fs"
# Node-RED is not packaged by Debian: npm installs it on the host (4.x, the
# last line that runs on Debian 12's node 18) into $GUEST_CACHE, once.
GUEST_NODE_RED=4.1.8
GUEST_IMAGE=
GUEST_INITRD=
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
	key=$(printf '%s %s minbase %s + %s\n' "$GUEST_SUITE" "$GUEST_MIRROR" "$inc" "$GUEST_PACKAGES_APT" |
		sha256sum | cut -c1-12)
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
	mount -t proc -o nosuid,nodev,noexec hmilock-guest-proc "$tmp/proc" || { guest_cleanup; return 1; }
	# shellcheck disable=SC2086 # a list of packages
	if ! LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$tmp" sh -c \
		"apt-get update && apt-get install -y --no-install-recommends $GUEST_PACKAGES_APT" >>"$log" 2>&1; then
		guest_cleanup
		echo "FAIL: guest-root: apt-get install of $GUEST_PACKAGES_APT in the root failed: $(grep -E '^(E:|Err)' "$log" | tail -1)"
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

# guest_node_red: set GUEST_NODE_RED_DIR to the cached npm install of
# Node-RED $GUEST_NODE_RED (pure JavaScript: no optional native modules),
# making it with the host's npm when missing.
guest_node_red() {
	local dir=$GUEST_CACHE/node-red-$GUEST_NODE_RED log=$GUEST_CACHE/node-red-$GUEST_NODE_RED.log
	GUEST_NODE_RED_DIR=$dir
	[ -f "$dir/node_modules/node-red/red.js" ] && return 0
	command -v npm >/dev/null || {
		echo "FAIL: guest-node-red: npm is not installed on the host (it fetches Node-RED $GUEST_NODE_RED)"
		return 1
	}
	mkdir -p "$GUEST_CACHE" && rm -rf "$dir.tmp" || return 1
	echo "guest: npm install node-red@$GUEST_NODE_RED, log $log" >&2
	if ! npm install --prefix "$dir.tmp" --omit=optional --no-audit --no-fund --no-update-notifier \
		"node-red@$GUEST_NODE_RED" >"$log" 2>&1 || [ ! -f "$dir.tmp/node_modules/node-red/red.js" ]; then
		rm -rf "$dir.tmp"
		echo "FAIL: guest-node-red: npm install node-red@$GUEST_NODE_RED failed: $(grep -i 'err' "$log" | tail -1)"
		return 1
	fi
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# guest_umount_below DIR: unmount whatever is mounted at or below DIR
# (deepest first); debootstrap and dpkg may leave proc or sys there.
guest_umount_below() {
	local m
	awk -v d="$(readlink -f "$1")" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
		sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
}

# guest_image DEB FILES_DIR: set GUEST_IMAGE to the cached ext4 disk image
# of the root with DEB installed and FILES_DIR's runner and unit in place,
# building it when missing.
guest_image() {
	local deb=$1 files=$2 tarball key tmp log rc
	GUEST_TMP=
	guest_root "$deb" || return 1
	guest_node_red || return 1
	tarball=$GUEST_ROOT
	key=$( (basename "$tarball"; sha256sum <"$deb"; echo "node-red $GUEST_NODE_RED"
		find "$files" "$top/packaging/ansible" -type f | LC_ALL=C sort | xargs cat
		cat "$top/tests/guest/guest.sh") |
		sha256sum | cut -c1-12)
	GUEST_IMAGE=$GUEST_CACHE/image-$key.ext4
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
	# A proc instance of its own only while apt runs (the postinst calls
	# systemd-tmpfiles); nothing of the host is bound in. apt-get install of
	# the file, as docs/operations.md step 1 says (its dependencies are in
	# the root: no download).
	mount -t proc -o nosuid,nodev,noexec hmilock-guest-proc "$tmp/proc" || return 1
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get install -y /tmp/hmilock.deb >"$log" 2>&1
	rc=$?
	umount "$tmp/proc" || umount -l "$tmp/proc"
	if [ $rc -ne 0 ]; then
		echo "FAIL: guest-image: apt-get install of $(basename "$deb") in the guest root failed ($rc):"
		tail -10 "$log" | sed 's/^/    /'
		return 1
	fi
	rm -f "$tmp/tmp/hmilock.deb"
	if ! chroot "$tmp" useradd -m -N -g users -s /bin/bash operator >>"$log" 2>&1; then
		echo "FAIL: guest-image: useradd operator failed: $(tail -1 "$log")"
		return 1
	fi
	# The HMI stack (tests/guest/hmi), installed before init as on a real
	# box; the runner enables its units. The .deb stays for the runner's
	# upgrade of hmilock while locked.
	if ! mkdir -p "$tmp/opt/hmi" "$tmp/var/lib/node-red" "$tmp/var/lib/hmilock-guest" ||
		! cp -a "$GUEST_NODE_RED_DIR" "$tmp/opt/node-red" || ! chown -R 0:0 "$tmp/opt/node-red" ||
		! install -m 0755 "$files/hmi/modbus-sim" "$files/hmi/modbus-poller" "$tmp/opt/hmi/" ||
		! install -m 0644 "$files"/hmi/*.service "$tmp/etc/systemd/system/" ||
		! install -m 0644 "$files/hmi/flows.json" "$tmp/var/lib/node-red/flows.json" ||
		! chroot "$tmp" chown -R operator:users /var/lib/node-red >>"$log" 2>&1 ||
		! cp "$deb" "$tmp/var/lib/hmilock-guest/hmilock.deb"; then
		echo "FAIL: guest-image: cannot install the HMI stack (tests/guest/hmi) and the .deb: $(tail -1 "$log")"
		return 1
	fi
	if ! mkdir -p "$tmp/usr/local/lib/hmilock-guest" "$tmp/etc/systemd/system/multi-user.target.wants" ||
		! install -m 0755 "$files/runner.sh" "$files/attacks.sh" "$files/after-reboot.sh" "$files/ansible.sh" \
			"$files/platforms.sh" "$tmp/usr/local/lib/hmilock-guest/" ||
		! _guest_ctr_rootfs "$tmp/usr/local/lib/hmilock-guest" ||
		! cp -r "$top/packaging/ansible" "$tmp/usr/local/lib/hmilock-guest/ansible" ||
		! chmod -R go-w "$tmp/usr/local/lib/hmilock-guest/ansible" ||
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
	# mkfs.ext4 -d gives the filesystem's root the mode of the directory's
	# (mktemp made it 0700: no user but root could reach anything).
	chmod 0755 "$tmp"
	# A sparse file: the root plus 2 GiB of room for the workflow's installs.
	if ! mkfs.ext4 -q -F -L hmilock-root -d "$tmp" "$GUEST_IMAGE.tmp" \
		$(($(du -sm --apparent-size "$tmp" | cut -f1) + 2048))M >>"$log" 2>&1 ||
		! mv "$GUEST_IMAGE.tmp" "$GUEST_IMAGE"; then
		rm -f "$GUEST_IMAGE.tmp"
		echo "FAIL: guest-image: mkfs.ext4 -d of the root failed: $(tail -1 "$log")"
		return 1
	fi
	find "$GUEST_CACHE" -maxdepth 1 -name 'image-*.ext4' ! -name "$(basename "$GUEST_IMAGE")" -delete
	find "$GUEST_CACHE" -maxdepth 1 -name 'image-*.log' ! -name "image-$key.log" -delete
	return 0
}

# _guest_ctr_rootfs DIR: the container image's root for platforms.sh, a
# static busybox (the host's /bin/busybox, as in the initramfs) as
# DIR/ctr-rootfs.tar, and the busybox itself as DIR/busybox.
_guest_ctr_rootfs() {
	local r rc
	r=$(mktemp -d) || return 1
	mkdir -p "$r/bin" && cp /bin/busybox "$r/bin/busybox" && cp /bin/busybox "$1/busybox" &&
		tar -C "$r" --owner=0 --group=0 -cf "$1/ctr-rootfs.tar" bin
	rc=$?
	rm -rf "$r"
	return $rc
}

# The initramfs's /init: load the modules named in /modules (in order),
# mount the guest's disk and hand it systemd. A failure says why on the
# console and powers off (the host then reports the console's last lines).
# shellcheck disable=SC2016 # expanded by the initramfs's shell
GUEST_INIT='#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
die() { echo "guest-initrd: $*"; poweroff -f; }
mount -t proc proc /proc && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev || die "cannot mount proc, sys, dev"
while read -r m; do insmod "/modules/$m" || die "insmod $m failed"; done </modules/order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] || die "no /dev/vda (the guest disk) after 10 s"
echo "guest-initrd: booting the guest disk"
mount -t ext4 -o rw /dev/vda /newroot || die "cannot mount /dev/vda (ext4)"
umount /proc /sys /dev
exec switch_root /newroot /sbin/init
die "switch_root failed"'
# The modules that mount the disk, and what they need (modinfo depends).
# (loop, overlay, btrfs, fuse: tests/guest/platforms.sh; loaded before the
# helper is, as a box's own filesystems are, so that the helper relocates
# against their types)
GUEST_MODULES="virtio_pci virtio_blk crc32c_generic ext4 loop overlay btrfs fuse"

# guest_initrd [SUITE]: set GUEST_INITRD to the cached initramfs for
# $VM_KERNEL (vm_kernel SUITE), downloading the kernel package of its ABI
# once more (from SUITE's private apt state, as vm_kernel) for the modules.
guest_initrd() {
	local suite=${1:-} abi key tmp log apt=() rc
	abi=${VM_KERNEL##*/vmlinuz-}
	key=$( (echo "$GUEST_INIT $GUEST_MODULES"; declare -f _guest_initrd_build; cat /bin/busybox) |
		sha256sum | cut -c1-12)
	GUEST_INITRD=$GUEST_CACHE/initrd-$abi-$key.cpio.gz
	[ -s "$GUEST_INITRD" ] && return 0
	[ -n "$suite" ] && apt=(vm_apt "$suite")
	mkdir -p "$GUEST_CACHE" || { echo "FAIL: guest-initrd: cannot create $GUEST_CACHE"; return 1; }
	log=$GUEST_CACHE/initrd-$abi.log
	tmp=$(mktemp -d "$GUEST_CACHE/initrd.XXXXXX") || return 1
	GUEST_TMP=$tmp
	_guest_initrd_build "$abi" "$tmp" "$log" "${apt[@]}"
	rc=$?
	guest_cleanup
	return $rc
}

_guest_initrd_build() {
	local abi=$1 tmp=$2 log=$3 deb root=$2/root mods todo m f d missing
	shift 3
	if ! (cd "$tmp" && "$@" apt-get download "linux-image-$abi") >"$log" 2>&1; then
		echo "FAIL: guest-initrd: apt-get download linux-image-$abi failed: $(grep -E '^(E|Err)' "$log" | tail -1)"
		return 1
	fi
	deb=$(find "$tmp" -maxdepth 1 -name "linux-image-${abi}_*.deb" | head -1)
	mkdir -p "$tmp/x" "$root"/{bin,proc,sys,dev,newroot,modules} || return 1
	# (Debian 13 ships them in /usr/lib/modules, Debian 12 in /lib/modules.)
	if ! dpkg-deb --fsys-tarfile "$deb" | tar -C "$tmp/x" -x --wildcards "*/modules/$abi/kernel/*" \
		"*/modules/$abi/modules.builtin" \
		>>"$log" 2>&1; then
		echo "FAIL: guest-initrd: cannot unpack the modules of $deb: $(tail -1 "$log")"
		return 1
	fi
	mods=$(find "$tmp/x" -type d -path "*/modules/$abi" | head -1)
	# (Debian 13 compresses its modules: busybox's insmod takes plain ones.)
	find "$mods" \( -name '*.ko.xz' -exec xz -d {} + \) -o \( -name '*.ko.zst' -exec zstd -q --rm -d {} + \) || return 1
	todo=$GUEST_MODULES
	: >"$root/modules/order"
	: >"$tmp/builtin"
	while [ -n "$todo" ]; do
		# shellcheck disable=SC2086 # a list of module names
		set -- $todo
		m=$1
		shift
		todo=$*
		grep -qx "$m.ko" "$root/modules/order" "$tmp/builtin" && continue
		f=$(find "$mods" -name "$m.ko" -o -name "${m//_/-}.ko" | head -1)
		# built into this kernel (virtio_pci in 6.12): nothing to load
		if [ -z "$f" ] && grep -q -E "/(${m}|${m//_/-})\.ko\$" "$mods/modules.builtin"; then
			echo "$m.ko" >>"$tmp/builtin"
			continue
		fi
		if [ -z "$f" ]; then
			echo "FAIL: guest-initrd: no module $m in linux-image-$abi"
			return 1
		fi
		# its dependencies first: put it back behind them unless all are in
		missing=
		# (the .modinfo section's depends=, as modinfo -F depends prints it)
		for d in $(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do
			grep -qx "$d.ko" "$root/modules/order" "$tmp/builtin" || missing="$missing $d"
		done
		if [ -n "$missing" ]; then
			todo="$missing $m $todo"
			continue
		fi
		cp "$f" "$root/modules/$m.ko" && echo "$m.ko" >>"$root/modules/order" || return 1
	done
	cp /bin/busybox "$root/bin/busybox" && printf '%s\n' "$GUEST_INIT" >"$root/init" && chmod 0755 "$root/init" || return 1
	if ! (cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc | gzip -1) >"$GUEST_INITRD.tmp" ||
		! mv "$GUEST_INITRD.tmp" "$GUEST_INITRD"; then
		rm -f "$GUEST_INITRD.tmp"
		echo "FAIL: guest-initrd: packing the initramfs failed"
		return 1
	fi
	echo "guest: initrd for $abi: $(paste -sd' ' "$root/modules/order")" >&2
	find "$GUEST_CACHE" -maxdepth 1 -name "initrd-$abi-*.cpio.gz" ! -name "$(basename "$GUEST_INITRD")" -delete
}

# guest_boot IMAGE INITRD CONSOLE REPORT TIMEOUT: boot Debian's kernel with
# INITRD, which mounts IMAGE (the guest's disk, written to a snapshot that
# lives as long as qemu: reboots keep state, the file stays clean) as the
# root, with systemd as PID 1; the console goes to CONSOLE, the second
# serial port (the test's report, /dev/ttyS1 in the guest) to REPORT. A
# reboot restarts the guest in the same qemu (the runner reboots once);
# a third boot is a failure (a panic loop). Returns once qemu exits, or
# kills it (its own PID) TIMEOUT seconds after the start, or 30 s after the
# report says RESULT: DONE (a shutdown that hangs is not the test's
# result). Fails when no RESULT line came.
guest_boot() {
	local image=$1 initrd=$2 console=$3 report=$4 t=$5 accel=${HMILOCK_VM_ACCEL:--accel tcg -cpu max} qpid i done_at=
	command -v qemu-system-x86_64 >/dev/null || {
		echo "FAIL: guest-boot: qemu-system-x86_64 not installed (tools/bootstrap.sh --deps-only)"
		return 1
	}
	: >"$console"
	: >"$report"
	# shellcheck disable=SC2086
	qemu-system-x86_64 $accel -m 3072 -smp 2 -display none -monitor none -nic none \
		-serial "file:$console" -serial "file:$report" \
		-drive "file=$image,if=virtio,format=raw,snapshot=on" \
		-kernel "$VM_KERNEL" -initrd "$initrd" \
		-append "console=ttyS0 rdinit=/init panic=-1 quiet ${GUEST_APPEND_EXTRA:-}" \
		</dev/null >>"$console.qemu" 2>&1 &
	qpid=$!
	# stopped by tests/integration/lib.sh's exit trap should the caller die
	declare -F track_pid >/dev/null && track_pid "$qpid"
	for ((i = 0; i < t; i++)); do
		kill -0 "$qpid" 2>/dev/null || break
		if [ -z "$done_at" ] && grep -q '^RESULT: DONE' "$report" 2>/dev/null; then
			done_at=$i
		fi
		if [ "$(grep -c 'guest-initrd: booting' "$console" 2>/dev/null)" -gt 2 ]; then
			echo "FAIL: guest-boot: the guest booted a third time (a panic or a reboot loop)"
			break
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
