#!/bin/bash
# 80-guest-workflow.sh - the guest suite (tests/guest/run.sh): a real
# Debian 12 guest with systemd as PID 1 and the project's .deb, booted under
# qemu with Debian 12's kernel (6.1) and Debian 13's (6.12), locked as
# docs/operations.md says and
# attacked by an unprivileged user.
exec bash "$(dirname "$0")/../guest/run.sh"
