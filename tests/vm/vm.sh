# tests/vm/vm.sh - host side of the qemu guest, sourced by tests/vm/run.sh and
# tests/bench/40-helper-overhead.sh: fetch Debian's kernel (cached), pack an
# initramfs, boot it, read the serial log. Failures print one "FAIL: name:
# why" line and return 1: a missing kernel or a failed boot is never a skip.
# Needs: top (repo root). Owns $VM_CACHE (default build/vm-cache).
VM_CACHE=${HMILOCK_VM_CACHE:-$top/build/vm-cache}
VM_KERNEL=

# shellcheck source=tools/apt-private.sh
. "$top/tools/apt-private.sh"

# vm_apt SUITE ARGS...: apt-get/apt-cache (ARGS[0]) with a private amd64 apt
# state for Debian SUITE under $VM_CACHE/apt-SUITE (tools/apt-private.sh).
vm_apt() {
	local suite=$1
	shift
	apt_private "$VM_CACHE/apt-$suite" amd64 "$@"
}

# vm_apt_update SUITE: write SUITE's private sources list and fetch its
# package lists (once a day: the kernel ABI moves with security updates).
vm_apt_update() {
	apt_private_update "$VM_CACHE/apt-$1" "$1" amd64
}

# vm_kernel [SUITE]: set VM_KERNEL to Debian's current amd64 kernel image,
# downloading the package once (only vmlinuz is kept). Without SUITE the
# machine's own apt sources (Debian 12); with one (e.g. trixie, Debian 13's
# 6.12) a private apt state, see vm_apt.
vm_kernel() {
	local suite=${1:-} abi deb apt=()
	if [ -n "$suite" ]; then
		if ! vm_apt_update "$suite"; then
			echo "FAIL: vm-kernel: apt-get update of the private $suite sources failed: $(grep -E '^(E|Err|W)' "$VM_CACHE/apt-$suite/update.log" | tail -1)"
			return 1
		fi
		apt=(vm_apt "$suite")
	fi
	abi=$("${apt[@]}" apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: linux-image-//p' | head -1)
	if [ -z "$abi" ]; then
		echo "FAIL: vm-kernel: apt-cache knows no linux-image-amd64${suite:+ in $suite} (run apt-get update)"
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
	ldd "$@" 2>/dev/null | sed -n -e 's|.*=> \(/[^ ]*\) .*|\1|p' -e 's|^[[:space:]]*\(/[^ ]*\) (.*|\1|p' |
		sort -u | while read -r lib; do echo "$(readlink -f "$lib"):${lib#/}"; done
}

# vm_initramfs OUT INIT [SRC:DST]...: busybox, INIT as /init, each SRC
# copied (symlinks followed) to DST inside, packed as a gzip'd newc cpio.
vm_initramfs() {
	local out=$1 init=$2 root spec
	shift 2
	root=$(mktemp -d /tmp/hmilock-vmroot.XXXXXX) || return 1
	if ! mkdir -p "$root"/{bin,proc,sys,dev,tmp,t,w} || ! cp /bin/busybox "$root/bin/busybox" ||
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
	local initrd=$1 log=$2 t=$3 accel=${HMILOCK_VM_ACCEL:--accel tcg -cpu max}
	command -v qemu-system-x86_64 >/dev/null || {
		echo "FAIL: vm-boot: qemu-system-x86_64 not installed (tools/bootstrap.sh --deps-only)"
		return 1
	}
	# shellcheck disable=SC2086
	timeout -k 5 "$t" qemu-system-x86_64 $accel -m 1024 -smp 2 -nographic -no-reboot \
		-kernel "$VM_KERNEL" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet ${VM_APPEND_EXTRA:-}" </dev/null 2>&1 | tr -d '\r' >"$log"
	if ! grep -q '^RESULT: ' "$log"; then
		echo "FAIL: vm-boot: the guest printed no RESULT line within ${t}s (boot failure, panic or hang); last lines:"
		tail -15 "$log" | sed 's/^/    /'
		return 1
	fi
}
