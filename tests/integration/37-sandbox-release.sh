#!/bin/bash
# 37-sandbox-release: 35-sandbox's whole run-time workload against the
# release hmilockd, whose seccomp filter has none of the sanitizer build's
# extra syscalls: what the product ships must survive its own filter.
# `make test` builds the release flavour too and passes its directory.
. "$(dirname "$0")/lib.sh"
need_root
rel=${HMILOCK_REL_BUILD:-}
if [ -z "$rel" ] || [ ! -x "$rel/hmilockd" ]; then
	skip "sandbox (release): no release build given (HMILOCK_REL_BUILD; make test sets it)"
	finish
fi
HMILOCK_BUILD=$rel SANDBOX_LABEL=" (release)" exec bash "$(dirname "$0")/35-sandbox.sh"
