/* fuzz_journal.c - libFuzzer target for the maintenance journal's line
 * parser (journal_parse_line in agent/journal.c), the code that replays a
 * journal cut by a power loss. The input is one line (a newline inside it
 * is just a byte). Owns a copy of the input for one run. Built and run by
 * `make fuzz` (fuzz.mk). Invariants (a failed one aborts): the result is
 * 0, 1 (comment), -EINVAL or -ENAMETOOLONG; on 0 the op is W, D or T, the
 * path is absolute and NUL-terminated inside its buffer (a decoded path may
 * hold a newline: file names can), and encoding it again gives a line with
 * no raw byte <= 0x20 that parses to the same path. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_stubs.h"
#include "journal.h"
#include "wl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[PATH_MAX], fuzz_again[PATH_MAX];
static char fuzz_line[JOURNAL_LINE_MAX + 2];

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

/* The path must survive the writer's encoding and this parser again. */
static void fuzz_round_trip(char op, const char *path, uint32_t uid)
{
	uint32_t uid2;
	size_t n = wl_pct_encode(path, strlen(path), fuzz_line + 2, sizeof(fuzz_line) - 2);
	char op2;

	fuzz_check(n < sizeof(fuzz_line) - 2);
	for (size_t i = 2; i < n + 2; i++)
		fuzz_check((unsigned char)fuzz_line[i] > 0x20);
	fuzz_line[0] = op;
	fuzz_line[1] = ' ';
	n += 2;
	if (uid != JOURNAL_UID_NONE)
		n += (size_t)snprintf(fuzz_line + n, sizeof(fuzz_line) - n, " uid=%u", uid);
	fuzz_check(journal_parse_line(fuzz_line, n, &op2, fuzz_again, sizeof(fuzz_again), &uid2) ==
	           0);
	fuzz_check(op2 == op && strcmp(fuzz_again, path) == 0 && uid2 == uid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size ? size : 1); /* exactly size bytes: ASan sees over-reads */
	char op = 0;
	uint32_t uid = 0;
	int rc;

	if (!line)
		return 0;
	memcpy(line, data, size);
	rc = journal_parse_line(line, size, &op, fuzz_path, sizeof(fuzz_path), &uid);
	fuzz_check(rc == 0 || rc == 1 || rc == -EINVAL || rc == -ENAMETOOLONG);
	if (rc == 0) {
		fuzz_check(op == 'W' || op == 'D' || op == 'T');
		fuzz_check(memchr(fuzz_path, '\0', sizeof(fuzz_path)) != NULL);
		fuzz_check(fuzz_path[0] == '/');
		fuzz_round_trip(op, fuzz_path, uid);
	}
	free(line);
	return 0;
}
