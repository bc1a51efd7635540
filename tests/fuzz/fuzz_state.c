/* fuzz_state.c - libFuzzer target for the run-time state file's parser
 * (state_parse in agent/state.c): the input is the whole file. Owns a copy
 * of the input for one run. Built and run by `make fuzz` (fuzz.mk).
 * Invariants (a failed one aborts): the result is 0 or -EINVAL; after an
 * error the message names the file and a line and is NUL-terminated; after
 * success the mode is enforce or audit (never maintenance: a window is not
 * a mode to come back to), the window one of the four, and `last` a
 * NUL-terminated line. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_stubs.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_file f = {.mode = HMD_MODE_ENFORCE};
	char msg[256];
	char *buf = malloc(size ? size : 1); /* exactly size bytes: ASan sees over-reads */
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(msg, 'x', sizeof(msg));
	rc = state_parse(buf, size, "/var/lib/hmilock/state", &f, msg, sizeof(msg));
	fuzz_check(rc == 0 || rc == -EINVAL);
	if (rc < 0) {
		fuzz_check(memchr(msg, '\0', sizeof(msg)) != NULL);
		fuzz_check(strncmp(msg, "state file /var/lib/hmilock/state:", 34) == 0);
	} else {
		fuzz_check(f.mode == HMD_MODE_ENFORCE || f.mode == HMD_MODE_AUDIT);
		fuzz_check(f.window <= STATE_W_PENDING);
		fuzz_check(memchr(f.last, '\0', sizeof(f.last)) != NULL);
		fuzz_check(strchr(f.last, '\n') == NULL);
	}
	free(buf);
	return 0;
}
