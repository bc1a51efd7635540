#!/bin/bash
# 85-guest-arm64.sh - the guest suite (tests/guest/run.sh) in an arm64
# Debian 12 guest: the arm64 .deb (make deb ARCH=arm64) installed in a root
# made with debootstrap --foreign and finished in the guest itself, booted
# with systemd as PID 1 under qemu-system-aarch64 (software emulation) on
# Debian 12's bookworm-backports arm64 kernel (6.12), locked as
# docs/operations.md says, attacked by an unprivileged user, with the
# overlayfs, container, btrfs and FUSE cases of tests/guest/platforms.sh.
HMILOCK_VM_ARCH=arm64 exec bash "$(dirname "$0")/../guest/run.sh"
