/* fuzz_ctl.c - libFuzzer target for the control-protocol validator
 * (hmc_check/hmc_parse in include/hmilock_ctl.h), the first code hmilockd
 * runs on bytes from a control-socket peer. Owns nothing.
 *
 * Build and run (from the top of the tree):
 *   clang -g -O1 -D_GNU_SOURCE -Iinclude -fsanitize=fuzzer,address,undefined \
 *         -o /tmp/fuzz_ctl tests/fuzz/fuzz_ctl.c
 *   mkdir -p /tmp/fuzz_ctl.corpus && /tmp/fuzz_ctl -max_len=70000 -max_total_time=60 \
 *         /tmp/fuzz_ctl.corpus
 * A crash, a sanitizer report or a failed invariant (abort) is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmilock_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hmc_msg fuzz_out;

/* What an accepted message must satisfy, whatever the bytes were. */
static void fuzz_invariants(const uint8_t *data, size_t size, enum hmc_dir dir)
{
	long body = hmc_body_size(fuzz_out.h.type, dir);
	uint32_t i;

	if (body < 0 || size != sizeof(struct hmc_hdr) + (size_t)body)
		abort();
	if (fuzz_out.h.magic != HMC_MAGIC || fuzz_out.h.version != HMC_VERSION ||
	    fuzz_out.h.length != size || memcmp(&fuzz_out, data, size) != 0)
		abort();
	if (dir == HMC_REQUEST && fuzz_out.h.type == HMC_REQ_SET_MODE &&
	    fuzz_out.u.set_mode.mode >= HMC_MODE__MAX)
		abort();
	if (dir == HMC_REPLY && fuzz_out.h.type == HMC_REP_EVENTS) {
		if (fuzz_out.u.events.n > HMC_EVENTS_PER_MSG)
			abort();
		for (i = 0; i < fuzz_out.u.events.n; i++)
			if (strlen(fuzz_out.u.events.ev[i].path) >= HMC_PATH_LEN)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	int rc;

	for (int d = HMC_REQUEST; d <= HMC_REPLY; d++) {
		rc = hmc_parse(data, size, (enum hmc_dir)d, &fuzz_out, &why);
		if (rc == 0)
			fuzz_invariants(data, size, (enum hmc_dir)d);
		else if (!why || (rc != -EBADMSG && rc != -EPROTONOSUPPORT))
			abort();
	}
	return 0;
}
