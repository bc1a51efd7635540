#!/bin/sh
# Set-up for a fresh Debian 12 machine: install every build and test
# dependency with apt-get, then build. Run as root.
#   tools/bootstrap.sh            install and build
#   tools/bootstrap.sh --deps-only  install only
set -eu
cd "$(dirname "$0")/.."

# libclang-rt-14-dev: clang's libFuzzer and sanitizer runtimes (make fuzz);
# clang-14 only recommends it. prometheus-node-exporter: test 75 scrapes
# hmilockd's metrics file with it (policy-rc.d keeps it from starting).
# dunst, xvfb, imagemagick: test 78 runs hmilock-notify against a real
# notification daemon on a virtual display and takes a screenshot.
# rsyslog, iproute2: test 79 forwards denials to a second rsyslog in a
# network namespace. ansible-core: test 57 checks the Ansible role
# (packaging/ansible) before the guest runs it. clamav: its sigtool makes
# the prescan tests' signature databases from the tests' own samples.
# gcc-aarch64-linux-gnu, binutils-aarch64-linux-gnu, qemu-user,
# debian-archive-keyring: the arm64 cross build (make ARCH=arm64; its
# libraries come from tools/cross-sysroot.sh, not from here), and test 83
# runs its programs under qemu-aarch64. qemu-system-arm: test 84 boots the
# arm64 VM suite under qemu-system-aarch64 (its kernel and busybox come
# from a private apt state, tests/vm/vm.sh).
PKGS="build-essential pkg-config clang libclang-rt-14-dev clang-format llvm bpftool
libelf-dev zlib1g-dev libssl-dev openssl libjson-c-dev libinih-dev libseccomp-dev
libaudit-dev libsystemd-dev libbpf-dev libcap-ng-dev libclamav-dev clamav libcmocka-dev
auditd debootstrap util-linux coreutils findutils python3 git
qemu-system-x86 busybox-static xz-utils cpio
debhelper devscripts lintian fakeroot man-db groff-base systemd
prometheus-node-exporter dunst xvfb imagemagick rsyslog iproute2 ansible-core
gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user debian-archive-keyring qemu-system-arm"

if [ "$(id -u)" -ne 0 ]; then
	echo "bootstrap.sh: must run as root (apt-get install)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $PKGS

[ "${1:-}" = "--deps-only" ] && exit 0
make -j"$(nproc)"
