/* test_util.c - cmocka tests of tools/util.c: one-line path escaping (text
 * and JSON forms) from a table of inputs, and the progress bar's line.
 * Owns only the temporary files it makes; stderr is restored after use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hmilock.h"

static const struct {
	const char *in, *text; /* util_print_path form */
	bool utf8; /* valid UTF-8: JSON keeps it as is */
} util_cases[] = {
    {"/usr/bin/true", "/usr/bin/true", true},
    {"/a b/c", "/a b/c", true},
    {"/new\nline", "/new\\nline", true},
    {"/tab\there", "/tab\\there", true},
    {"/back\\slash", "/back\\\\slash", true},
    {"/ctl\x01\x1f\x7f", "/ctl\\x01\\x1f\\x7f", true},
    {"/\xc3\xbcn\xc3\xaf"
     "c",
     "/\xc3\xbcn\xc3\xaf"
     "c",
     true}, /* ünïc */
    {"/\xe2\x82\xac", "/\xe2\x82\xac", true}, /* € */
    {"/\xf0\x9f\x98\x80", "/\xf0\x9f\x98\x80", true}, /* U+1F600 */
    {"/\xff\xfe-latin1", "/\\xff\\xfe-latin1", false}, /* never UTF-8 */
    {"/\xe9t\xe9", "/\\xe9t\\xe9", false}, /* Latin-1 été */
    {"/\xc0\xaf", "/\\xc0\\xaf", false}, /* overlong / */
    {"/\xe0\x80\xaf", "/\\xe0\\x80\\xaf", false}, /* overlong */
    {"/\xed\xa0\x80", "/\\xed\\xa0\\x80", false}, /* surrogate */
    {"/\xf4\x90\x80\x80", "/\\xf4\\x90\\x80\\x80", false}, /* > U+10FFFF */
    {"/\xe2\x82", "/\\xe2\\x82", false}, /* cut short */
    {"/\xe2\x82/x", "/\\xe2\\x82/x", false}, /* cut by '/' */
    {"/\x80", "/\\x80", false}, /* lone continuation */
    {"/mix\n\xff\\", "/mix\\n\\xff\\\\", false},
    {"", "", true},
};

static char *util_capture_path(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	util_print_path(f, in);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_print_path_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(util_cases) / sizeof(util_cases[0]); i++) {
		char *out = util_capture_path(util_cases[i].in);
		if (strcmp(out, util_cases[i].text) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out, util_cases[i].text);
		assert_null(strchr(out, '\n'));
		free(out);
	}
}

static void test_json_path_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(util_cases) / sizeof(util_cases[0]); i++) {
		bool esc = !util_cases[i].utf8;
		char *out = util_json_path(util_cases[i].in, &esc);
		const char *want = util_cases[i].utf8 ? util_cases[i].in : util_cases[i].text;

		assert_non_null(out);
		if (esc == util_cases[i].utf8 || strcmp(out, want) != 0)
			fail_msg("case %zu: got '%s' escaped=%d", i, out, esc);
		free(out);
	}
}

/* A path longer than the on-stack buffer takes the malloc branch. */
static void test_print_path_long(void **state)
{
	char in[4097], want[8193], *out;
	size_t i;

	(void)state;
	for (i = 0; i < 4096; i++)
		in[i] = i % 2 ? '\n' : 'a';
	in[4096] = '\0';
	for (i = 0; i < 2048; i++)
		memcpy(want + 3 * i, "a\\n", 3);
	want[3 * 2048] = '\0';
	out = util_capture_path(in);
	assert_string_equal(out, want);
	free(out);
}

/* Run fn with stderr going to a temporary file; returns what it wrote. */
static char *util_capture_stderr(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *buf = calloc(1, 4096);

	assert_non_null(tmp);
	assert_non_null(buf);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	assert_true(fread(buf, 1, 4095, tmp) > 0);
	fclose(tmp);
	return buf;
}

static void util_draw_half(void)
{
	/* 3 of 10 files, 50 of 100 MB after 2 s: 25 MB/s, 2 s left. */
	util_bar(3, 10, 50000000, 100000000, 2.0);
	util_bar_end();
}

static void util_draw_zero(void)
{
	util_bar(0, 0, 0, 0, 0);
	util_err("after the bar %d", 7);
}

static void test_bar(void **state)
{
	char *out;

	(void)state;
	out = util_capture_stderr(util_draw_half);
	assert_non_null(strstr(out, "3/10 files"));
	assert_non_null(strstr(out, "25.0 MB/s"));
	assert_non_null(strstr(out, "ETA 00:02"));
	assert_non_null(strstr(out, " 50%"));
	assert_int_equal(out[0], '\r');
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);
	/* Nothing known yet: no division by zero, ETA unknown; an error
	 * message ends the bar's line first. */
	out = util_capture_stderr(util_draw_zero);
	assert_non_null(strstr(out, "0/0 files"));
	assert_non_null(strstr(out, "ETA --:--"));
	assert_non_null(strstr(out, "\nhmilock: after the bar 7\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_print_path_table),
	    cmocka_unit_test(test_json_path_table),
	    cmocka_unit_test(test_print_path_long),
	    cmocka_unit_test(test_bar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
