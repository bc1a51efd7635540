/* fuzz_export.c - libFuzzer target for the signed export's parser
 * (wl_export_parse in whitelist/export.c), the first code `hmilock import`
 * runs on a file from another box. The input is the whole file. Owns a copy
 * of the input and the parsed entries for one run. Built and run by
 * `make fuzz` (fuzz.mk). Invariants (a failed one aborts): the result is 0
 * or a negative errno with a message; on success the entries are in strictly
 * increasing path order, every path absolute and shorter than PATH_MAX, the
 * mode within 07777, and the signed body lies inside the input. The
 * signature itself is not checked here (wl_export_verify is libcrypto's). */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wl_export x = {0};
	struct wl_err err = {0};
	char *buf = malloc(size ? size : 1); /* exactly size bytes: ASan sees over-reads */
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = wl_export_parse(buf, size, &x, &err);
	fuzz_check(rc <= 0);
	if (rc < 0) {
		fuzz_check(err.msg[0] != '\0' && memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	} else {
		fuzz_check(x.body_len <= size);
		for (size_t i = 0; i < x.n; i++) {
			fuzz_check(x.v[i].path[0] == '/' && strlen(x.v[i].path) < PATH_MAX);
			fuzz_check(x.v[i].mode <= 07777);
			fuzz_check(i == 0 || strcmp(x.v[i - 1].path, x.v[i].path) < 0);
		}
	}
	wl_export_free(&x);
	free(buf);
	return 0;
}
