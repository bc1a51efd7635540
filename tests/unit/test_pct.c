/* test_pct.c - unit tests for whitelist/pct.c, the %HH codec of the
 * maintenance journal and the export file: a table of inputs and the
 * expected decoding or refusal (truncated escapes such as "a%4" included),
 * every input handed over in a heap buffer of exactly its length so that
 * AddressSanitizer catches any read past it; encode/decode round trips of
 * every byte; encoding cut to a short buffer. Owns only its buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

struct pct_case {
	const char *in; /* len = strlen(in) unless inlen */
	size_t inlen;
	int rc; /* 0 or -EINVAL */
	const char *out; /* decoded (rc 0) */
	size_t outlen;
	size_t bad; /* offset of the refused byte (rc < 0) */
};

static const struct pct_case pct_cases[] = {
    {"", 0, 0, "", 0, 0},
    {"/usr/bin/ls", 0, 0, "/usr/bin/ls", 11, 0},
    {"a%20b", 0, 0, "a b", 3, 0},
    {"%25%25", 0, 0, "%%", 2, 0},
    {"%0a%0A", 0, 0, "\n\n", 2, 0},
    {"%ff%C3%A9", 0, 0, "\xff\xc3\xa9", 3, 0},
    {"\xc3\xa9raw", 0, 0, "\xc3\xa9raw", 5, 0}, /* raw high bytes: old journals */
    {"%41", 0, 0, "A", 1, 0},
    /* truncated escapes: a line cut by a power loss */
    {"a%4", 0, -EINVAL, NULL, 0, 1},
    {"a%", 0, -EINVAL, NULL, 0, 1},
    {"%0", 0, -EINVAL, NULL, 0, 0},
    {"%", 0, -EINVAL, NULL, 0, 0},
    {"/x%2", 0, -EINVAL, NULL, 0, 2},
    /* len cuts an escape that the bytes after it would complete */
    {"a%41", 3, -EINVAL, NULL, 0, 1},
    {"a%41", 2, -EINVAL, NULL, 0, 1},
    {"a%41", 1, 0, "a", 1, 0},
    /* not hex, NUL */
    {"%4g", 0, -EINVAL, NULL, 0, 0},
    {"%g4", 0, -EINVAL, NULL, 0, 0},
    {"% 4", 0, -EINVAL, NULL, 0, 0}, /* sscanf("%2x") would take " 4" */
    {"%-1", 0, -EINVAL, NULL, 0, 0},
    {"%+1", 0, -EINVAL, NULL, 0, 0},
    {"ab%00", 0, -EINVAL, NULL, 0, 2},
    {"ab\0cd", 5, -EINVAL, NULL, 0, 2},
};

/* A heap copy of exactly len bytes, no terminator. */
static char *pct_exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static void test_decode_table(void **state)
{
	const struct pct_case *c;
	size_t i, len, outlen, bad;
	char *in, *out;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(pct_cases) / sizeof(pct_cases[0]); i++) {
		c = &pct_cases[i];
		len = c->inlen ? c->inlen : strlen(c->in);
		in = pct_exact(c->in, len);
		out = malloc(len + 1);
		assert_non_null(out);
		outlen = bad = 9999;
		rc = wl_pct_decode(in, len, out, &outlen, &bad);
		if (rc != c->rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, c->in, rc, c->rc);
		if (rc == 0 && (outlen != c->outlen || memcmp(out, c->out, outlen) != 0 ||
		                out[outlen] != '\0'))
			fail_msg("case %zu '%s': decoded %zu bytes '%s'", i, c->in, outlen, out);
		if (rc < 0 && bad != c->bad)
			fail_msg("case %zu '%s': bad offset %zu, want %zu", i, c->in, bad, c->bad);
		free(in);
		free(out);
	}
}

static void test_decode_in_place(void **state)
{
	char s[] = "/a%20b%25c";

	(void)state;
	assert_int_equal(wl_pct_decode(s, strlen(s), s, NULL, NULL), 0);
	assert_string_equal(s, "/a b%c");
}

/* Every byte 1..255 encodes to printable, blank-free ASCII and back. */
static void test_round_trip_every_byte(void **state)
{
	char in[255], enc[3 * 255 + 1], dec[sizeof(enc)];
	size_t i, n, outlen;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(i + 1);
	n = wl_pct_encode(in, sizeof(in), enc, sizeof(enc));
	assert_int_equal(n, strlen(enc));
	for (i = 0; i < n; i++)
		if (enc[i] <= 0x20 || enc[i] >= 0x7f)
			fail_msg("encoded byte %zu is 0x%02x", i, (unsigned char)enc[i]);
	assert_int_equal(wl_pct_decode(enc, n, dec, &outlen, NULL), 0);
	assert_int_equal(outlen, sizeof(in));
	assert_memory_equal(dec, in, sizeof(in));
}

static void test_encode_forms(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(wl_pct_encode("/a b%\x7f\n", 7, out, sizeof(out)), 15);
	assert_string_equal(out, "/a%20b%25%7F%0A");
	assert_int_equal(wl_pct_encode("\xc3\xa9", 2, out, sizeof(out)), 6);
	assert_string_equal(out, "%C3%A9");
	/* measuring only */
	assert_int_equal(wl_pct_encode("a b", 3, NULL, 0), 5);
	/* cut: never inside an escape, always terminated */
	assert_int_equal(wl_pct_encode("ab cd", 5, out, 4), 7);
	assert_string_equal(out, "ab");
	assert_int_equal(wl_pct_encode("ab cd", 5, out, 6), 7);
	assert_string_equal(out, "ab%20");
	assert_int_equal(wl_pct_encode("abc", 3, out, 1), 3);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_table),
	    cmocka_unit_test(test_decode_in_place),
	    cmocka_unit_test(test_round_trip_every_byte),
	    cmocka_unit_test(test_encode_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
