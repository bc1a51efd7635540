#!/bin/bash
# tests/guest/run.sh - the guest suite: a real Debian 12 system (systemd as
# PID 1, the project's .deb installed with dpkg -i, a user "operator")
# booted under qemu with Debian 12's kernel (6.1) and Debian 13's (6.12),
# and once more for the Ansible role (tests/guest/ansible.sh),
# where tests/guest/runner.sh
# follows the operator's workflow of docs/operations.md and reports on a
# second serial port. Run through tests/run.sh (as
# tests/integration/80-guest-workflow.sh; `make guest-test` alone) or as
# HMILOCK_BUILD=build/test tests/guest/run.sh.
# Builds the .deb when the sources changed (pkg_deb), the root with
# debootstrap and the image with the package once (cached in
# build/guest-cache, see guest.sh), the kernel as tests/vm does (cached in
# build/vm-cache). A failed download, build or boot, or a guest that does not
# report within HMILOCK_GUEST_TIMEOUT seconds (default 1200: two boots), is a FAIL line,
# never a skip.
# HMILOCK_VM_ARCH=arm64 (tests/integration/85-guest-arm64.sh): the same
# suite in an arm64 Debian 12 guest (make deb ARCH=arm64, the root made
# with debootstrap --foreign and finished in the guest, qemu-system-aarch64)
# on Debian 12's bookworm-backports arm64 kernel (6.12: arm64 attaches BPF
# LSM programs from 6.4 on), without the Ansible boot.
top=${HMILOCK_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
# shellcheck source=tests/integration/pkg.sh
. "$top/tests/integration/pkg.sh"
# shellcheck source=tests/guest/guest.sh
. "$top/tests/guest/guest.sh"
need_root
on_exit guest_cleanup
start=$(date +%s)
work=$BIN/guest
if [ "$GUEST_ARCH" != amd64 ]; then
	PKG_DEB_DIR=$BIN/guest-deb-$GUEST_ARCH
	PKG_DEB_ARGS="ARCH=$GUEST_ARCH"
	work=$BIN/guest-$GUEST_ARCH
fi
mkdir -p "$work"
for t in debootstrap cpio mkfs.ext4 busybox "$VM_QEMU" dpkg-buildpackage apt-get; do
	if ! command -v "$t" >/dev/null 2>&1; then
		fail "guest-tools: $t is not installed (tools/bootstrap.sh --deps-only installs it)"
		finish
	fi
done
if ! pkg_deb; then
	fail "guest-deb: make deb failed"
	finish
fi
t0=$(date +%s)
guest_image "$DEB" "$top/tests/guest" || finish
echo "guest: disk image $GUEST_IMAGE ready in $(($(date +%s) - t0)) s ($(($(stat -c %s "$GUEST_IMAGE") >> 20)) MiB)"

# guest_run NAME [SUITE]: boot the image on Debian SUITE's kernel (default:
# the machine's own, Debian 12) and report its lines tagged with NAME.
guest_run() {
	local name=$1 suite=${2:-} dir=$work/$1 t0
	# (another architecture's kernel: from its private apt state)
	[ "$GUEST_ARCH" != amd64 ] && [ -z "$suite" ] && suite=$VM_KERNEL_SUITE
	mkdir -p "$dir"
	vm_kernel $suite || { fail "guest-$name: no kernel"; return 1; }
	guest_initrd "$suite" || { fail "guest-$name: no initramfs for $(basename "$VM_KERNEL")"; return 1; }
	t0=$(date +%s)
	echo "guest[$name]: booting $(basename "$VM_KERNEL")"
	if ! guest_boot "$GUEST_IMAGE" "$GUEST_INITRD" "$dir/console.log" "$dir/report.log" \
		"${HMILOCK_GUEST_TIMEOUT:-1200}"; then
		_failed=1
		return 1
	fi
	sed -E -n "s/^(PASS|FAIL|SKIP): guest: /\1: guest[$name]: /p" "$dir/report.log"
	if ! grep -q '^PASS: ' "$dir/report.log"; then
		fail "guest-$name-report: the guest reported no passing check"
	fi
	if grep -q '^FAIL: ' "$dir/report.log"; then
		_failed=1
		echo "    guest console: $dir/console.log"
		tail -20 "$dir/console.log" | sed 's/^/    /'
	fi
	echo "guest[$name]: boot and run $(($(date +%s) - t0)) s"
}

# Debian 12's kernel (6.1) and Debian 13's (6.12, through a private apt
# state: tests/vm/vm.sh vm_apt), then a boot of its own (on 6.1) for the
# Ansible role (tests/guest/ansible.sh). HMILOCK_GUEST_KERNELS picks a
# subset of the kernels. HMILOCK_GUEST_ONLY (a quicker turn while working on
# one part, never in CI): workflow leaves phase 1's attacks and the Ansible
# boot out (a SKIP line); kernels leaves only the Ansible boot out; ansible
# boots only for the role.
runs="${HMILOCK_GUEST_KERNELS:-6.1 6.12} ansible"
case ${HMILOCK_GUEST_ONLY:-} in
'') ;;
workflow)
	GUEST_APPEND_EXTRA="${GUEST_APPEND_EXTRA:-} hmilock.guest=workflow"
	runs=${HMILOCK_GUEST_KERNELS:-6.1 6.12}
	skip "guest-ansible: left out (HMILOCK_GUEST_ONLY=workflow)"
	;;
kernels)
	runs=${HMILOCK_GUEST_KERNELS:-6.1 6.12}
	skip "guest-ansible: left out (HMILOCK_GUEST_ONLY=kernels)"
	;;
ansible) runs=ansible ;;
*) fail "guest-only: unknown HMILOCK_GUEST_ONLY '$HMILOCK_GUEST_ONLY' (workflow, kernels, ansible)" ;;
esac
# arm64: the suite on Debian 12's backports kernel (6.12), then a boot on
# its own 6.1, where the helper cannot attach (tests/guest/fallback.sh);
# HMILOCK_GUEST_KERNELS picks among the two here too.
if [ "$GUEST_ARCH" != amd64 ]; then
	runs=
	for k in ${HMILOCK_GUEST_KERNELS:-6.12 6.1}; do runs+=" arm64-$k"; done
fi
for k in $runs; do
	case $k in
	6.1) guest_run 6.1 ;;
	6.12) guest_run 6.12 trixie ;;
	arm64-6.12) guest_run arm64-6.12 ;;
	arm64-6.1) GUEST_APPEND_EXTRA="${GUEST_APPEND_EXTRA:-} hmilock.guest=fallback" guest_run arm64-6.1 bookworm ;;
	ansible) GUEST_APPEND_EXTRA="${GUEST_APPEND_EXTRA:-} hmilock.guest=ansible" guest_run ansible ;;
	*) fail "guest-kernels: unknown kernel '$k' in HMILOCK_GUEST_KERNELS (6.1, 6.12)" ;;
	esac
done
echo "guest: whole run $(($(date +%s) - start)) s"
finish
