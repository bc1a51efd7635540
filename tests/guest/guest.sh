# tests/guest/guest.sh - host side of the real Debian 12 guest (systemd as
# PID 1, the project's .deb installed), sourced by tests/guest/run.sh.
# Needs: top (repo root). Uses tests/vm/vm.sh for Debian's kernel (the same
# cache, build/vm-cache). Owns $GUEST_CACHE (default build/guest-cache):
#   root-ARCH-KEY.tar  debootstrap --variant=minbase of bookworm with the
#                    packages below for ARCH (GUEST_ARCH); KEY hashes
#                    architecture, suite, mirror and package list
#   image-ARCH-KEY.ext4  that root with the .deb installed (apt-get install), the
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
# The guest's architecture is tests/vm/vm.sh's (HMILOCK_VM_ARCH): amd64, or
# arm64 (qemu-system-aarch64 -M virt, Debian 12's arm64 packages). The
# build machine cannot run arm64 programs in a chroot (no binfmt_misc
# handler, and none is registered for it: that would change the machine),
# so for arm64 every step that runs the root's own programs (debootstrap's
# second stage, apt-get, useradd) runs in the guest kernel, booted on that
# root (guest_chroot; apt-get reaches the mirror through qemu's user-mode
# network there). arm64 leaves the Ansible role's packages out (that boot
# is amd64's).
GUEST_ARCH=$VM_ARCH
[ "$GUEST_ARCH" = amd64 ] || GUEST_PACKAGES=${GUEST_PACKAGES/ ansible-core python3-cffi-backend/}
# The runner's report: amd64's second serial port; the virt board has one
# UART (the console), so arm64's goes through a virtio serial port (named,
# udev's link; a virtio console would get a getty).
GUEST_REPORT_DEV=/dev/ttyS1
[ "$GUEST_ARCH" = amd64 ] || GUEST_REPORT_DEV=/dev/virtio-ports/hmilock.report
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
	local deb=$1 inc key tarball tmp log foreign second
	inc=$( (guest_deb_depends "$deb"; tr ' ' '\n' <<<"$GUEST_PACKAGES") | sort -u | paste -sd, -)
	key=$(printf '%s %s %s minbase %s + %s\n' "$GUEST_ARCH" "$GUEST_SUITE" "$GUEST_MIRROR" "$inc" \
		"$GUEST_PACKAGES_APT" | sha256sum | cut -c1-12)
	tarball=$GUEST_CACHE/root-$GUEST_ARCH-$key.tar
	GUEST_ROOT=$tarball
	[ -f "$tarball" ] && return 0
	mkdir -p "$GUEST_CACHE" || { echo "FAIL: guest-root: cannot create $GUEST_CACHE"; return 1; }
	log=$GUEST_CACHE/root-$GUEST_ARCH-$key.log
	tmp=$(mktemp -d "$GUEST_CACHE/root.XXXXXX") || return 1
	GUEST_TMP=$tmp
	echo "guest: debootstrap $GUEST_SUITE $GUEST_ARCH (+$inc) from $GUEST_MIRROR, log $log" >&2
	foreign=()
	[ "$GUEST_ARCH" = amd64 ] || foreign=(--foreign --arch="$GUEST_ARCH")
	if ! debootstrap "${foreign[@]}" --variant=minbase --include="$inc" "$GUEST_SUITE" "$tmp" \
		"$GUEST_MIRROR" >"$log" 2>&1; then
		guest_cleanup
		echo "FAIL: guest-root: debootstrap of $GUEST_SUITE from $GUEST_MIRROR failed: $(grep -E '^(E:|W: Failure|W: Couldn)' "$log" | tail -1)"
		tail -10 "$log" | sed 's/^/    /'
		return 1
	fi
	# (another architecture: debootstrap's second stage in the guest first)
	second=
	[ ${#foreign[@]} -eq 0 ] || second="/debootstrap/debootstrap --second-stage && "
	if ! guest_chroot "$tmp" "$log" \
		"${second}apt-get update && apt-get install -y --no-install-recommends $GUEST_PACKAGES_APT"; then
		guest_cleanup
		echo "FAIL: guest-root: ${second:+debootstrap --second-stage and }apt-get install of $GUEST_PACKAGES_APT in the $GUEST_ARCH root failed: $(grep -E '^(E:|Err|W: Failure|dpkg: error)' "$log" | tail -1)"
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
	find "$GUEST_CACHE" -maxdepth 1 -name "root-$GUEST_ARCH-*.tar" ! -name "$(basename "$tarball")" -delete
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

# guest_chroot DIR LOG SCRIPT: run the shell commands SCRIPT as root in the
# root tree DIR (LC_ALL=C.UTF-8, no debconf questions), their output
# appended to LOG. amd64: chroot on the build machine, with a proc instance
# of its own while SCRIPT runs (postinsts call systemd-tmpfiles); nothing of
# the host is bound in. Another architecture: in the guest (_guest_chroot_vm).
guest_chroot() {
	local dir=$1 log=$2 script=$3 rc
	if [ "$GUEST_ARCH" != amd64 ]; then
		_guest_chroot_vm "$@"
		return
	fi
	mount -t proc -o nosuid,nodev,noexec hmilock-guest-proc "$dir/proc" || return 1
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$dir" sh -c "$script" >>"$log" 2>&1
	rc=$?
	umount "$dir/proc" || umount -l "$dir/proc"
	return $rc
}

# _guest_chroot_vm DIR LOG SCRIPT: guest_chroot in the guest kernel: DIR as
# an ext4 image (DIR.img, 1 GiB of room), booted with the initramfs in its
# chroot mode (GUEST_INIT, hmilock.chroot: proc, sys and dev mounted in the
# root, SCRIPT run there, its exit code on the console, power off), then
# the image's tree copied back into DIR. No host directory is shared; the
# network is qemu's user mode (NAT through the build machine's sockets:
# the mirror apt-get uses; qemu's DNS forwarder in resolv.conf meanwhile).
# HMILOCK_GUEST_CHROOT_TIMEOUT seconds (default 2400) for the boot. Needs
# VM_KERNEL and GUEST_INITRD (guest_image sets them first).
_guest_chroot_vm() {
	local dir=$1 log=$2 script=$3 img=$1.img mnt=$1.mnt con=$2.console rc
	printf '#!/bin/sh\nexec >/tmp/hmilock-chroot.log 2>&1\nexport LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin\nset -e\n%s\n' \
		"$script" >"$dir/tmp/hmilock-chroot.sh" || return 1
	if ! mkfs.ext4 -q -F -d "$dir" "$img" $(($(du -sm --apparent-size "$dir" | cut -f1) + 1024))M >>"$log" 2>&1; then
		rm -f "$img"
		echo "guest_chroot: mkfs.ext4 -d of $dir failed" >>"$log"
		return 1
	fi
	echo "guest: running in the $GUEST_ARCH guest ($(basename "$VM_KERNEL")): $script" >&2
	GUEST_NIC="-nic user,model=virtio-net-pci" guest_qemu "$img" "$GUEST_INITRD" "$con" /dev/null "" hmilock.chroot
	guest_wait "${HMILOCK_GUEST_CHROOT_TIMEOUT:-2400}" "$con" "$con" 'guest-chroot: rc='
	rc=$(sed -n 's/^guest-chroot: rc=\([0-9]*\).*/\1/p' "$con" | tail -1)
	if ! mkdir -p "$mnt" || ! mount -o loop,ro "$img" "$mnt"; then
		rm -f "$img"
		return 1
	fi
	cat "$mnt/tmp/hmilock-chroot.log" >>"$log" 2>/dev/null
	if [ "$rc" = 0 ]; then
		# (the tree as the guest left it: rm and copy, keeping DIR's mode)
		find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} + &&
			cp -a "$mnt/." "$dir/" && rm -rf "$dir/lost+found" "$dir"/tmp/hmilock-chroot.* || rc=1
	else
		echo "guest_chroot: the $GUEST_ARCH guest's script exited ${rc:-without a result}; console:" >>"$log"
		tr -d '\r' <"$con" | tail -20 >>"$log"
	fi
	umount "$mnt" || umount -l "$mnt"
	rmdir "$mnt"
	rm -f "$img"
	[ "$rc" = 0 ]
}

# guest_image DEB FILES_DIR: set GUEST_IMAGE to the cached ext4 disk image
# of the root with DEB installed and FILES_DIR's runner and unit in place,
# building it when missing.
guest_image() {
	local deb=$1 files=$2 tarball key tmp log rc
	GUEST_TMP=
	# (another architecture's root is made in its guest: kernel and
	# initramfs first)
	if [ "$GUEST_ARCH" != amd64 ]; then
		vm_kernel "$VM_KERNEL_SUITE" || return 1
		guest_initrd "$VM_KERNEL_SUITE" || return 1
	fi
	guest_root "$deb" || return 1
	guest_node_red || return 1
	tarball=$GUEST_ROOT
	key=$( (basename "$tarball"; sha256sum <"$deb"; echo "node-red $GUEST_NODE_RED"
		find "$files" "$top/packaging/ansible" -type f | LC_ALL=C sort | xargs cat
		cat "$top/tests/guest/guest.sh") |
		sha256sum | cut -c1-12)
	GUEST_IMAGE=$GUEST_CACHE/image-$GUEST_ARCH-$key.ext4
	[ -s "$GUEST_IMAGE" ] && return 0
	log=$GUEST_CACHE/image-$GUEST_ARCH-$key.log
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
	# (guest_chroot's image of it, for another architecture)
	if [ -d "$GUEST_TMP.mnt" ]; then
		guest_umount_below "$GUEST_TMP.mnt"
		rmdir "$GUEST_TMP.mnt"
	fi
	rm -f "$GUEST_TMP.img"
	rm -rf --one-file-system "$GUEST_TMP"
	[ -n "$GUEST_IMAGE" ] && rm -f "$GUEST_IMAGE.tmp"
	GUEST_TMP=
}

_guest_image_build() {
	local deb=$1 files=$2 tarball=$3 tmp=$4 log=$5 key=$6 uid
	if ! tar -C "$tmp" -xf "$tarball"; then
		echo "FAIL: guest-image: cannot unpack $tarball"
		return 1
	fi
	cp "$deb" "$tmp/tmp/hmilock.deb"
	# apt-get install of the file, as docs/operations.md step 1 says (its
	# dependencies are in the root: no download); the user operator; the
	# HMI stack's data is theirs.
	: >"$log"
	if ! guest_chroot "$tmp" "$log" "apt-get install -y /tmp/hmilock.deb && rm -f /tmp/hmilock.deb &&
		useradd -m -N -g users -s /bin/bash operator &&
		mkdir -p /var/lib/node-red && chown -R operator:users /var/lib/node-red"; then
		echo "FAIL: guest-image: apt-get install of $(basename "$deb") and useradd operator in the guest root failed:"
		tail -10 "$log" | sed 's/^/    /'
		return 1
	fi
	# The HMI stack (tests/guest/hmi), installed before init as on a real
	# box; the runner enables its units. The .deb stays for the runner's
	# upgrade of hmilock while locked.
	uid=$(awk -F: '$1 == "operator" { print $3 ":" $4 }' "$tmp/etc/passwd")
	if [ -z "$uid" ] || ! mkdir -p "$tmp/opt/hmi" "$tmp/var/lib/hmilock-guest" ||
		! cp -a "$GUEST_NODE_RED_DIR" "$tmp/opt/node-red" || ! chown -R 0:0 "$tmp/opt/node-red" ||
		! install -m 0755 "$files/hmi/modbus-sim" "$files/hmi/modbus-poller" "$tmp/opt/hmi/" ||
		! install -m 0644 "$files"/hmi/*.service "$tmp/etc/systemd/system/" ||
		! install -m 0644 -o "${uid%:*}" -g "${uid#*:}" "$files/hmi/flows.json" "$tmp/var/lib/node-red/flows.json" ||
		! cp "$deb" "$tmp/var/lib/hmilock-guest/hmilock.deb"; then
		echo "FAIL: guest-image: cannot install the HMI stack (tests/guest/hmi) and the .deb (operator ${uid:-missing})"
		return 1
	fi
	if ! mkdir -p "$tmp/usr/local/lib/hmilock-guest" "$tmp/etc/systemd/system/multi-user.target.wants" ||
		! install -m 0755 "$files/runner.sh" "$files/attacks.sh" "$files/after-reboot.sh" "$files/ansible.sh" \
			"$files/platforms.sh" "$files/plat-lib.sh" "$files/fallback.sh" "$tmp/usr/local/lib/hmilock-guest/" ||
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
	find "$GUEST_CACHE" -maxdepth 1 -name "image-$GUEST_ARCH-*.ext4" ! -name "$(basename "$GUEST_IMAGE")" -delete
	find "$GUEST_CACHE" -maxdepth 1 -name "image-$GUEST_ARCH-*.log" ! -name "image-$GUEST_ARCH-$key.log" -delete
	return 0
}

# _guest_ctr_rootfs DIR: the container image's root for platforms.sh, a
# static busybox (the initramfs's, VM_BUSYBOX: the guest's architecture) as
# DIR/ctr-rootfs.tar, and the busybox itself as DIR/busybox.
_guest_ctr_rootfs() {
	local r rc
	r=$(mktemp -d) || return 1
	mkdir -p "$r/bin" && cp "$VM_BUSYBOX" "$r/bin/busybox" && cp "$VM_BUSYBOX" "$1/busybox" &&
		tar -C "$r" --owner=0 --group=0 -cf "$1/ctr-rootfs.tar" bin
	rc=$?
	rm -rf "$r"
	return $rc
}

# The initramfs's /init: load the modules named in /modules (in order),
# mount the guest's disk and hand it systemd. A failure says why on the
# console and powers off (the host then reports the console's last lines).
# With hmilock.chroot on the command line (guest_chroot): run the disk's
# /tmp/hmilock-chroot.sh chrooted in it instead, print its exit code and
# power off.
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
if grep -q -w hmilock.chroot /proc/cmdline; then
	for d in proc sys dev; do mount --bind /$d /newroot/$d || die "cannot bind /$d in the root"; done
	if ip link set eth0 up 2>/dev/null; then
		ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 || die "cannot set up eth0"
		cp /newroot/etc/resolv.conf /resolv.conf 2>/dev/null
		echo "nameserver 10.0.2.3" >/newroot/etc/resolv.conf
	fi
	chroot /newroot /bin/sh /tmp/hmilock-chroot.sh
	echo "guest-chroot: rc=$?"
	[ -f /resolv.conf ] && cp /resolv.conf /newroot/etc/resolv.conf
	umount /newroot/proc /newroot/sys /newroot/dev 2>/dev/null
	umount /newroot || mount -o remount,ro /newroot
	sync
	poweroff -f
fi
umount /proc /sys /dev
exec switch_root /newroot /sbin/init
die "switch_root failed"'
# The modules that mount the disk, and what they need (modinfo depends).
# (loop, overlay, btrfs, fuse: tests/guest/platforms.sh; loaded before the
# helper is, as a box's own filesystems are, so that the helper relocates
# against their types)
# (arm64: virtio_console for the report's virtio serial port, virtio_net for
# apt-get in guest_chroot.)
GUEST_MODULES="virtio_pci virtio_blk crc32c_generic ext4 loop overlay btrfs fuse"
[ "$GUEST_ARCH" = amd64 ] || GUEST_MODULES="$GUEST_MODULES virtio_console virtio_net"

# guest_initrd [SUITE]: set GUEST_INITRD to the cached initramfs for
# $VM_KERNEL (vm_kernel SUITE), downloading the kernel package of its ABI
# once more (from SUITE's private apt state, as vm_kernel) for the modules.
guest_initrd() {
	local suite=${1:-} abi key tmp log apt=() rc
	abi=${VM_KERNEL##*/vmlinuz-}
	vm_busybox || return 1
	key=$( (echo "$GUEST_INIT $GUEST_MODULES"; declare -f _guest_initrd_build; cat "$VM_BUSYBOX") |
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
	cp "$VM_BUSYBOX" "$root/bin/busybox" && printf '%s\n' "$GUEST_INIT" >"$root/init" && chmod 0755 "$root/init" || return 1
	if ! (cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc | gzip -1) >"$GUEST_INITRD.tmp" ||
		! mv "$GUEST_INITRD.tmp" "$GUEST_INITRD"; then
		rm -f "$GUEST_INITRD.tmp"
		echo "FAIL: guest-initrd: packing the initramfs failed"
		return 1
	fi
	echo "guest: initrd for $abi: $(paste -sd' ' "$root/modules/order")" >&2
	find "$GUEST_CACHE" -maxdepth 1 -name "initrd-$abi-*.cpio.gz" ! -name "$(basename "$GUEST_INITRD")" -delete
}

# guest_qemu IMAGE INITRD CONSOLE REPORT DRIVE_OPTS APPEND: start qemu (in
# the background, GUEST_QPID) on Debian's VM_ARCH kernel with INITRD and
# IMAGE as the virtio disk (/dev/vda; DRIVE_OPTS such as ,snapshot=on); the
# console goes to CONSOLE, the runner's report (GUEST_REPORT_DEV in the
# guest: amd64's second serial port, arm64's virtio serial port) to REPORT;
# APPEND is added to the kernel command line.
guest_qemu() {
	local accel=${HMILOCK_VM_ACCEL:--accel tcg -cpu $VM_CPU} rep
	if [ "$GUEST_ARCH" = amd64 ]; then
		rep=(-serial "file:$4")
	else
		# shellcheck disable=SC2054 # qemu's options are comma lists
		rep=(-device virtio-serial-pci -chardev "file,id=report,path=$4"
			-device virtserialport,chardev=report,name=hmilock.report)
	fi
	: >"$3"
	: >"$4"
	# shellcheck disable=SC2086 # option lists
	"$VM_QEMU" $VM_MACHINE $accel -m 3072 -smp 2 -display none -monitor none ${GUEST_NIC:--nic none} \
		-serial "file:$3" "${rep[@]}" -drive "file=$1,if=virtio,format=raw$5" \
		-kernel "$VM_KERNEL" -initrd "$2" \
		-append "console=$VM_CONSOLE rdinit=/init panic=-1 quiet hmilock.report=$GUEST_REPORT_DEV $6" \
		</dev/null >>"$3.qemu" 2>&1 &
	GUEST_QPID=$!
	# stopped by tests/integration/lib.sh's exit trap should the caller die
	declare -F track_pid >/dev/null && track_pid "$GUEST_QPID"
}

# guest_wait TIMEOUT CONSOLE FILE PATTERN: wait for the qemu of guest_qemu
# to exit; stop it (its own PID) TIMEOUT seconds after the start, 30 s
# after a line of FILE matched PATTERN (a shutdown that hangs is not the
# guest's result), or when the guest boots a third time (a panic or reboot
# loop: the runner reboots once).
guest_wait() {
	local t=$1 console=$2 file=$3 pat=$4 i done_at=
	for ((i = 0; i < t; i++)); do
		kill -0 "$GUEST_QPID" 2>/dev/null || break
		if [ -z "$done_at" ] && grep -q "^$pat" "$file" 2>/dev/null; then
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
	if kill -0 "$GUEST_QPID" 2>/dev/null; then
		kill -TERM "$GUEST_QPID" 2>/dev/null
		sleep 2
		kill -KILL "$GUEST_QPID" 2>/dev/null
	fi
	wait "$GUEST_QPID" 2>/dev/null
	tr -d '\r' <"$console" >"$console.tmp" && mv "$console.tmp" "$console"
}

# guest_boot IMAGE INITRD CONSOLE REPORT TIMEOUT: boot Debian's kernel with
# INITRD, which mounts IMAGE (the guest's disk, written to a snapshot that
# lives as long as qemu: reboots keep state, the file stays clean) as the
# root, with systemd as PID 1 (guest_qemu, guest_wait). A reboot restarts
# the guest in the same qemu. Returns once qemu exits or guest_wait stops
# it; fails when the report has no RESULT line.
guest_boot() {
	local image=$1 initrd=$2 console=$3 report=$4 t=$5
	command -v "$VM_QEMU" >/dev/null || {
		echo "FAIL: guest-boot: $VM_QEMU not installed (package $VM_QEMU_PKG: tools/bootstrap.sh --deps-only)"
		return 1
	}
	guest_qemu "$image" "$initrd" "$console" "$report" ,snapshot=on "${GUEST_APPEND_EXTRA:-}"
	guest_wait "$t" "$console" "$report" 'RESULT: DONE'
	tr -d '\r' <"$report" >"$report.tmp" && mv "$report.tmp" "$report"
	if ! grep -q '^RESULT: DONE' "$report"; then
		echo "FAIL: guest-boot: the guest sent no RESULT: DONE within ${t}s (boot failure, hang or a runner that died); last console lines:"
		tail -15 "$console" | sed 's/^/    /'
		return 1
	fi
}
