# shellcheck shell=bash
# tests/vm/vm.sh - host side of the qemu guest, sourced by tests/vm/run.sh and
# the guest benchmarks tests/bench/40-helper-overhead.sh and 41-daemon-vm.sh:
# fetch Debian's kernel (cached), pack an initramfs, boot it, read the serial
# log. Failures print one "FAIL: name: why" line and return 1: a missing
# kernel or a failed boot is never a skip.
# Needs: top (repo root). Owns $VM_CACHE (default build/vm-cache).
# HMILOCK_VM_ARCH (a Debian architecture) picks the guest: amd64 (default:
# qemu-system-x86_64, the machine's apt sources, its own busybox) or arm64
# (qemu-system-aarch64 -M virt, Debian 12's arm64 kernel and busybox-static
# through a private apt state, the cross build's sysroot for libraries).
VM_CACHE=${HMILOCK_VM_CACHE:-$top/build/vm-cache}
VM_KERNEL=
VM_ARCH=${HMILOCK_VM_ARCH:-amd64}
# VM_BUSYBOX: the guest's static busybox (vm_busybox sets it off amd64).
VM_BUSYBOX=/bin/busybox
case $VM_ARCH in
amd64)
	VM_QEMU=qemu-system-x86_64 VM_QEMU_PKG=qemu-system-x86 VM_CONSOLE=ttyS0
	VM_MACHINE='' VM_CPU=max VM_TRIPLET=x86_64-linux-gnu
	VM_TIMEOUT_FACTOR=1
	;;
arm64)
	# -cpu max with the implementation-defined pointer authentication
	# algorithm: the architected one (QARMA) is very slow under emulation.
	VM_QEMU=qemu-system-aarch64 VM_QEMU_PKG=qemu-system-arm VM_CONSOLE=ttyAMA0
	VM_MACHINE="-M virt" VM_CPU=max,pauth-impdef=on VM_TRIPLET=aarch64-linux-gnu
	# AArch64 emulated on x86-64 (measured on the 2-core build machine, with
	# another guest running: the suite's boot 51 s, amd64's 52 s; the arm64
	# kernel is 6.12, amd64's 6.1): twice the amd64 limits, for a foreign
	# instruction set's emulation on a loaded machine.
	VM_TIMEOUT_FACTOR=2
	;;
*)
	echo "FAIL: vm-arch: HMILOCK_VM_ARCH=$VM_ARCH is not supported (amd64, arm64)"
	return 1 # sourced: the caller stops
	;;
esac
# The suite of the private apt state used where the machine's own sources
# cannot serve (another architecture): the sysroot's (tools/cross-sysroot.sh).
VM_SUITE=${HMILOCK_CROSS_SUITE:-bookworm}
# The kernel's suite there. Debian 12's own arm64 kernel (6.1) loads BPF LSM
# programs but cannot attach them: arm64 attaches BPF trampolines to kernel
# functions through ftrace direct calls, which it has from Linux 6.4 on
# (before, the attach fails with ENOTSUPP, 524). So the arm64 guest boots
# Debian 12's backports kernel (6.12), the one a Debian 12 arm64 box takes
# for the helper; HMILOCK_VM_KERNEL_SUITE=bookworm shows the failure.
VM_KERNEL_SUITE=${HMILOCK_VM_KERNEL_SUITE:-$VM_SUITE-backports}
VM_SYSROOT=${HMILOCK_VM_SYSROOT:-$top/build/sysroot-$VM_ARCH}

# vm_build_dirs BUILD: VM_MK, the make command that builds the guest
# programs for VM_ARCH (a cross build under BUILD/vm-ARCH for another
# architecture), and VM_WORK, where the guest's files go.
# shellcheck disable=SC2034 # VM_MK and VM_WORK are the callers'
vm_build_dirs() {
	if [ "$VM_ARCH" = amd64 ]; then
		VM_MK=(make -C "$top" -s BUILD="$1")
		VM_WORK=$1/vm
	else
		VM_MK=(make -C "$top" -s ARCH="$VM_ARCH" SYSROOT="$VM_SYSROOT" BUILD="$1/vm-$VM_ARCH")
		VM_WORK=$1/vm-$VM_ARCH/vm
	fi
}

# vm_build_daemon LOG: hmilockd and hmilock for the guest, in VM_WORK/rel: a
# release build of their own (the caller's build may be the sanitizer
# flavour, which needs more than a libc); make's output appended to LOG.
vm_build_daemon() {
	"${VM_MK[@]}" BUILD="$VM_WORK/rel" FLAVOR=rel "$VM_WORK/rel/hmilockd" "$VM_WORK/rel/hmilock" >>"$1" 2>&1
}

# vm_timeout SECONDS: SECONDS (the amd64 guest's time limit) scaled for
# VM_ARCH; HMILOCK_VM_TIMEOUT, when set, is taken as it is.
vm_timeout() {
	echo "${HMILOCK_VM_TIMEOUT:-$(($1 * VM_TIMEOUT_FACTOR))}"
}

# shellcheck source=tools/apt-private.sh
. "$top/tools/apt-private.sh"

# vm_aptdir SUITE: the private apt state's directory for SUITE and VM_ARCH
# ($VM_CACHE/apt-SUITE for amd64, $VM_CACHE/apt-SUITE-ARCH for the others).
vm_aptdir() {
	if [ "$VM_ARCH" = amd64 ]; then echo "$VM_CACHE/apt-$1"; else echo "$VM_CACHE/apt-$1-$VM_ARCH"; fi
}

# vm_apt SUITE ARGS...: apt-get/apt-cache (ARGS[0]) with a private VM_ARCH
# apt state for Debian SUITE (tools/apt-private.sh).
vm_apt() {
	local suite=$1
	shift
	apt_private "$(vm_aptdir "$suite")" "$VM_ARCH" "$@"
}

# vm_apt_update SUITE: write SUITE's private sources list and fetch its
# package lists (once a day: the kernel ABI moves with security updates).
vm_apt_update() {
	apt_private_update "$(vm_aptdir "$1")" "$1" "$VM_ARCH"
}

# vm_kernel [SUITE]: set VM_KERNEL to Debian's current VM_ARCH kernel image,
# downloading the package once (only vmlinuz is kept). Without SUITE the
# machine's own apt sources (Debian 12) for amd64, the private
# VM_KERNEL_SUITE state for another architecture; with one (e.g. trixie, Debian 13's 6.12)
# a private apt state, see vm_apt. arm64's vmlinuz is a gzip'd Image: qemu
# takes it as it is (hw/arm/boot.c unpacks it).
vm_kernel() {
	local suite=${1:-} abi deb apt=()
	# another architecture's packages come from a private apt state only
	[ "$VM_ARCH" != amd64 ] && [ -z "$suite" ] && suite=$VM_KERNEL_SUITE
	if [ -n "$suite" ]; then
		if ! vm_apt_update "$suite"; then
			echo "FAIL: vm-kernel: apt-get update of the private $suite $VM_ARCH sources failed: $(grep -E '^(E|Err|W)' "$(vm_aptdir "$suite")/update.log" | tail -1)"
			return 1
		fi
		apt=(vm_apt "$suite")
	fi
	abi=$("${apt[@]}" apt-cache depends "linux-image-$VM_ARCH" 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -1)
	if [ -z "$abi" ]; then
		echo "FAIL: vm-kernel: apt-cache knows no linux-image-$VM_ARCH${suite:+ in $suite} (run apt-get update)"
		return 1
	fi
	VM_KERNEL=$VM_CACHE/vmlinuz-$abi
	[ -s "$VM_KERNEL" ] && return 0
	mkdir -p "$VM_CACHE" || { echo "FAIL: vm-kernel: cannot create $VM_CACHE"; return 1; }
	# shellcheck disable=SC2012 # Debian package names have no odd characters
	deb=$(ls "$VM_CACHE"/linux-image-"${abi}"_*.deb 2>/dev/null | head -1)
	if [ -z "$deb" ]; then
		if ! (cd "$VM_CACHE" && "${apt[@]}" apt-get download "linux-image-$abi") >"$VM_CACHE/download.log" 2>&1; then
			echo "FAIL: vm-kernel: apt-get download linux-image-$abi${suite:+ ($suite)} failed: $(grep -E '^(E|Err)' "$VM_CACHE/download.log" | tail -1)"
			return 1
		fi
		# shellcheck disable=SC2012
		deb=$(ls "$VM_CACHE"/linux-image-"${abi}"_*.deb 2>/dev/null | head -1)
	fi
	if ! dpkg-deb --fsys-tarfile "$deb" | tar -x -O "./boot/vmlinuz-$abi" >"$VM_KERNEL.tmp" ||
		[ ! -s "$VM_KERNEL.tmp" ]; then
		rm -f "$VM_KERNEL.tmp"
		echo "FAIL: vm-kernel: no ./boot/vmlinuz-$abi in $deb"
		return 1
	fi
	mv "$VM_KERNEL.tmp" "$VM_KERNEL" && rm -f "$deb"
}

# vm_libs BIN...: SRC:DST pairs for the shared libraries (and the loader)
# the dynamically linked BINs need, at the same paths in the guest.
vm_libs() {
	if [ "$VM_ARCH" != amd64 ]; then
		vm_libs_cross "$@"
		return
	fi
	ldd "$@" 2>/dev/null | sed -n -e 's|.*=> \(/[^ ]*\) .*|\1|p' -e 's|^[[:space:]]*\(/[^ ]*\) (.*|\1|p' |
		sort -u | while read -r lib; do echo "$(readlink -f "$lib"):${lib#/}"; done
}

# vm_libs_cross BIN...: vm_libs for another architecture, whose programs the
# build machine's ldd cannot read: PT_INTERP and DT_NEEDED (the cross
# readelf), recursively, found in the sysroot's multiarch directories and
# put in the guest's /lib/TRIPLET (where the target's loader looks first,
# with no ld.so.cache; as the amd64 guest gets them from ldd, so that
# daemon.sh's list of /lib covers them). A library not found there is
# printed as a SRC that does not exist: vm_initramfs fails naming it.
vm_libs_cross() {
	local readelf=$VM_TRIPLET-readelf todo=("$@") seen=" " f lib d found
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		# the loader: its own path in the guest, where the kernel looks
		lib=$("$readelf" -lW "$f" 2>/dev/null | sed -n 's|.*Requesting program interpreter: \(/[^]]*\)\]|\1|p')
		if [ -n "$lib" ] && [[ $seen != *" $lib "* ]]; then
			seen="$seen$lib "
			echo "$(readlink -f "$VM_SYSROOT$lib"):${lib#/}"
		fi
		for lib in $("$readelf" -dW "$f" 2>/dev/null | sed -n 's|.*(NEEDED).*\[\(.*\)\]|\1|p'); do
			[[ $seen == *" $lib "* ]] && continue
			seen="$seen$lib "
			found=
			for d in "lib/$VM_TRIPLET" "usr/lib/$VM_TRIPLET"; do
				if [ -e "$VM_SYSROOT/$d/$lib" ]; then
					found=$VM_SYSROOT/$d/$lib
					echo "$(readlink -f "$found"):lib/$VM_TRIPLET/$lib"
					todo+=("$found")
					break
				fi
			done
			[ -n "$found" ] || echo "$VM_SYSROOT/lib/$VM_TRIPLET/$lib(not-in-sysroot):lib/$VM_TRIPLET/$lib"
		done
	done
}

# vm_busybox: set VM_BUSYBOX to a static busybox for VM_ARCH: the build
# machine's for amd64; otherwise Debian's busybox-static of that
# architecture, from the private VM_SUITE apt state (cached in $VM_CACHE).
vm_busybox() {
	local dir=$VM_CACHE/busybox-$VM_ARCH deb
	[ "$VM_ARCH" = amd64 ] && return 0
	VM_BUSYBOX=$dir/bin/busybox
	[ -x "$VM_BUSYBOX" ] && return 0
	if ! vm_apt_update "$VM_SUITE"; then
		echo "FAIL: vm-busybox: apt-get update of the private $VM_SUITE $VM_ARCH sources failed: $(grep -E '^(E|Err|W)' "$(vm_aptdir "$VM_SUITE")/update.log" | tail -1)"
		return 1
	fi
	if ! rm -rf "$dir" || ! mkdir -p "$dir"; then
		echo "FAIL: vm-busybox: cannot create $dir"
		return 1
	fi
	if ! (cd "$dir" && vm_apt "$VM_SUITE" apt-get download "busybox-static:$VM_ARCH") >"$dir/download.log" 2>&1; then
		echo "FAIL: vm-busybox: apt-get download busybox-static ($VM_SUITE $VM_ARCH) failed: $(grep -E '^(E|Err)' "$dir/download.log" | tail -1)"
		return 1
	fi
	deb=$(find "$dir" -maxdepth 1 -name 'busybox-static_*.deb' | head -1)
	if [ -z "$deb" ] || ! dpkg-deb -x "$deb" "$dir" || [ ! -x "$VM_BUSYBOX" ]; then
		echo "FAIL: vm-busybox: no bin/busybox in ${deb:-the busybox-static package}"
		return 1
	fi
	rm -f "$deb"
}

# vm_initramfs OUT INIT [SRC:DST]...: VM_BUSYBOX, INIT as /init (it sources
# /t/guest-mounts.sh, put there too), each SRC copied (symlinks followed)
# to DST inside, packed as a gzip'd newc cpio.
vm_initramfs() {
	local out=$1 init=$2 root spec
	shift 2
	set -- "$top/tests/vm/guest-mounts.sh:t/guest-mounts.sh" "$@"
	root=$(mktemp -d /tmp/hmilock-vmroot.XXXXXX) || return 1
	if ! mkdir -p "$root"/{bin,proc,sys,dev,tmp,t,w} || ! cp "$VM_BUSYBOX" "$root/bin/busybox" ||
		! install -m 0755 "$init" "$root/init"; then
		rm -rf "$root"
		return 1
	fi
	for spec in "$@"; do
		if ! mkdir -p "$root/$(dirname "${spec#*:}")" || ! cp -L "${spec%%:*}" "$root/${spec#*:}"; then
			echo "vm_initramfs: cannot copy ${spec%%:*}" >&2
			rm -rf "$root"
			return 1
		fi
	done
	(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
	local rc=$?
	rm -rf "$root"
	return $rc
}

# vm_boot INITRD LOG TIMEOUT: boot the kernel with INITRD, serial console to
# LOG (carriage returns removed); fails unless the guest printed a RESULT line.
# VM_APPEND_EXTRA is added to the kernel command line (the guest's /init
# reads its own parameters from /proc/cmdline).
vm_boot() {
	# Software emulation by default: /dev/kvm exists on the build machine
	# but nested KVM there fails or hangs. HMILOCK_VM_ACCEL="-accel kvm
	# -cpu host" opts in where it works.
	local initrd=$1 log=$2 t=$3 accel=${HMILOCK_VM_ACCEL:--accel tcg -cpu $VM_CPU}
	command -v "$VM_QEMU" >/dev/null || {
		echo "FAIL: vm-boot: $VM_QEMU not installed (package $VM_QEMU_PKG: tools/bootstrap.sh --deps-only)"
		return 1
	}
	# shellcheck disable=SC2086
	timeout -k 5 "$t" "$VM_QEMU" $VM_MACHINE $accel -m 1024 -smp 2 -nographic -no-reboot \
		-kernel "$VM_KERNEL" -initrd "$initrd" \
		-append "console=$VM_CONSOLE panic=-1 quiet ${VM_APPEND_EXTRA:-}" </dev/null 2>&1 | tr -d '\r' >"$log"
	if ! grep -q '^RESULT: ' "$log"; then
		echo "FAIL: vm-boot: the guest printed no RESULT line within ${t}s (boot failure, panic or hang); last lines:"
		tail -15 "$log" | sed 's/^/    /'
		return 1
	fi
}
