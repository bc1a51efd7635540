/* test_journal.c - agent/journal.c: journal_parse_line() from a table of
 * lines (good ones, bad ops, missing slash, raw bytes, and escapes cut by a
 * power loss: "W /a%4", "W /a%", "D /%0"), each handed over in a buffer of
 * exactly its length so AddressSanitizer sees any read past it; and the
 * file round trip: create, append odd paths, close, load (a cut last line
 * is skipped and counted), with each change's writer uid (" uid=N",
 * " uid=?", none: unknown; anything else refused). Each file test works in its own mkdtemp
 * directory under /tmp. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "journal.h"
#include "wl.h"

/* ---- the line parser ------------------------------------------------------ */

struct parse_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	int rc;
	char op;
	const char *path;
	uint32_t uid;
};

static void check_case(const struct parse_case *t)
{
	size_t len = t->len ? t->len : strlen(t->in);
	char *buf = malloc(len ? len : 1), path[PATH_MAX], op = 0;
	uint32_t uid = 7;
	int rc;

	assert_non_null(buf);
	memcpy(buf, t->in, len); /* exactly len bytes: no NUL after them */
	memset(path, 'x', sizeof(path));
	rc = journal_parse_line(buf, len, &op, path, sizeof(path), &uid);
	if (rc != t->rc)
		fail_msg("line \"%s\" (%zu bytes): rc %d, want %d", t->in, len, rc, t->rc);
	if (rc == 0) {
		assert_int_equal(op, t->op);
		assert_string_equal(path, t->path);
		assert_int_equal(uid, t->uid);
	}
	free(buf);
}

static void test_parse_table(void **state)
{
	static const struct parse_case t[] = {
	    /* good lines */
	    {"W /usr/bin/ls", 0, 0, 'W', "/usr/bin/ls", JOURNAL_UID_NONE},
	    {"D /opt/app/old\n", 0, 0, 'D', "/opt/app/old", JOURNAL_UID_NONE},
	    {"T /opt/app", 0, 0, 'T', "/opt/app", JOURNAL_UID_NONE},
	    {"W /", 0, 0, 'W', "/", JOURNAL_UID_NONE},
	    /* the writer */
	    {"W /usr/bin/ls uid=0", 0, 0, 'W', "/usr/bin/ls", 0},
	    {"W /a%20b uid=1000\n", 0, 0, 'W', "/a b", 1000},
	    {"W /a uid=4294967294", 0, 0, 'W', "/a", 4294967294u},
	    {"W /a uid=?", 0, 0, 'W', "/a", JOURNAL_UID_NONE},
	    {"W /a uid=4294967295", 0, -EINVAL, 0, NULL, 0},
	    {"W /a uid=99999999999", 0, -EINVAL, 0, NULL, 0},
	    {"W /a uid=", 0, -EINVAL, 0, NULL, 0},
	    {"W /a uid=-1", 0, -EINVAL, 0, NULL, 0},
	    {"W /a uid=1 ", 0, -EINVAL, 0, NULL, 0},
	    {"W /a uid=1x", 0, -EINVAL, 0, NULL, 0},
	    {"W /a gid=1", 0, -EINVAL, 0, NULL, 0},
	    {"W /a ", 0, -EINVAL, 0, NULL, 0},
	    {"W /a b", 0, -EINVAL, 0, NULL, 0},
	    {"W /a uid=1 uid=2", 0, -EINVAL, 0, NULL, 0},
	    {"W /a%20b", 0, 0, 'W', "/a b", JOURNAL_UID_NONE},
	    {"W /100%25", 0, 0, 'W', "/100%", JOURNAL_UID_NONE},
	    {"W /new%0Aline%09tab", 0, 0, 'W', "/new\nline\ttab", JOURNAL_UID_NONE},
	    {"W /del%7F", 0, 0, 'W', "/del\x7f", JOURNAL_UID_NONE},
	    {"W /caf%C3%A9", 0, 0, 'W', "/caf\xc3\xa9", JOURNAL_UID_NONE},
	    {"W /caf%c3%a9", 0, 0, 'W', "/caf\xc3\xa9", JOURNAL_UID_NONE}, /* lower-case hex too */
	    {"W /caf\xc3\xa9", 0, 0, 'W', "/caf\xc3\xa9",
	     JOURNAL_UID_NONE}, /* raw >= 0x80: older journals */
	    {"W /a%2Fb", 0, 0, 'W', "/a/b", JOURNAL_UID_NONE},
	    /* comments (the header) */
	    {"# kind=maintenance start=1 timeout=60", 0, 1, 0, NULL, 0},
	    {"#", 0, 1, 0, NULL, 0},
	    {"#\n", 0, 1, 0, NULL, 0},
	    /* escapes cut by a power loss: the parser must stop at len */
	    {"W /a%4", 0, -EINVAL, 0, NULL, 0},
	    {"W /a%", 0, -EINVAL, 0, NULL, 0},
	    {"D /%0", 0, -EINVAL, 0, NULL, 0},
	    {"W /a%4\n", 0, -EINVAL, 0, NULL, 0},
	    {"W /a%41", 5, -EINVAL, 0, NULL, 0}, /* "W /a%" of a longer buffer */
	    {"W /a%41", 6, -EINVAL, 0, NULL, 0}, /* "W /a%4" of a longer buffer */
	    {"W /a%41", 7, 0, 'W', "/aA", JOURNAL_UID_NONE},
	    /* bad escapes */
	    {"W /a%00b", 0, -EINVAL, 0, NULL, 0},
	    {"W /a%G1", 0, -EINVAL, 0, NULL, 0},
	    {"W /a%1G", 0, -EINVAL, 0, NULL, 0},
	    {"W /a% 1", 0, -EINVAL, 0, NULL, 0},
	    {"W /a%%41", 0, -EINVAL, 0, NULL, 0},
	    /* raw bytes the encoder never leaves */
	    {"W /a b", 0, -EINVAL, 0, NULL, 0},
	    {"W /a\tb", 0, -EINVAL, 0, NULL, 0},
	    {"W /a\x7f", 0, -EINVAL, 0, NULL, 0},
	    {"W /a\0b", 6, -EINVAL, 0, NULL, 0},
	    {"W /a\n\n", 0, -EINVAL, 0, NULL, 0},
	    {"W /a\r", 0, -EINVAL, 0, NULL, 0},
	    /* bad ops and shapes */
	    {"X /a", 0, -EINVAL, 0, NULL, 0},
	    {"w /a", 0, -EINVAL, 0, NULL, 0},
	    {"WD /a", 0, -EINVAL, 0, NULL, 0},
	    {"W  /a", 0, -EINVAL, 0, NULL, 0},
	    {"W/a", 0, -EINVAL, 0, NULL, 0},
	    {"W", 0, -EINVAL, 0, NULL, 0},
	    {"W ", 0, -EINVAL, 0, NULL, 0},
	    {"\n", 0, -EINVAL, 0, NULL, 0},
	    {JOURNAL_MAGIC, 0, -EINVAL, 0, NULL, 0},
	    /* missing slash */
	    {"W a/b", 0, -EINVAL, 0, NULL, 0},
	    {"D %2Fa", 0, -EINVAL, 0, NULL, 0},
	    {"T relative", 0, -EINVAL, 0, NULL, 0},
	};
	size_t i;
	char op = 0, path[8];
	uint32_t uid;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		check_case(&t[i]);
	/* an empty buffer */
	assert_int_equal(journal_parse_line("", 0, &op, path, sizeof(path), &uid), -EINVAL);
	/* the decoded path must fit, NUL included */
	assert_int_equal(journal_parse_line("W /abcdef", 9, &op, path, 7, &uid), -ENAMETOOLONG);
	assert_int_equal(journal_parse_line("W /abcdef", 9, &op, path, 8, &uid), 0);
	assert_string_equal(path, "/abcdef");
	assert_int_equal(journal_parse_line("W /ab%20", 8, &op, path, 4, &uid), -ENAMETOOLONG);
	assert_int_equal(journal_parse_line("W /ab%20", 8, &op, path, 5, &uid), 0);
	assert_string_equal(path, "/ab ");
}

/* ---- the file ------------------------------------------------------------ */

static int setup(void **state)
{
	char *dir = strdup("/tmp/test_journal.XXXXXX");
	char path[PATH_MAX], key[PATH_MAX];

	if (!dir || !mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/maintenance.journal", dir);
	snprintf(key, sizeof(key), "%s/list.key", dir); /* none yet: not authenticated */
	if (journal_init(path, key) < 0)
		return -1;
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	char cmd[64];

	journal_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	free(*state);
	return system(cmd) == 0 ? 0 : -1;
}

struct loaded {
	size_t n;
	char op[8];
	uint32_t uid[8];
	char path[8][PATH_MAX];
};

static void collect(void *arg, char op, const char *path, uint32_t uid)
{
	struct loaded *l = arg;

	assert_true(l->n < 8);
	l->op[l->n] = op;
	l->uid[l->n] = uid;
	snprintf(l->path[l->n], PATH_MAX, "%s", path);
	l->n++;
}

static void test_round_trip(void **state)
{
	static const char *const paths[] = {
	    "/plain", "/a b\tc", "/new\nline", "/100%", "/del\x7f", "/caf\xc3\xa9",
	};
	static const char hdr[] = JOURNAL_MAGIC "\n# kind=maintenance start=";
	struct loaded l = {0};
	char buf[4096];
	size_t i, bad = 99;

	(void)state;
	assert_int_equal(journal_append('W', "/x", 0), -EBADF); /* not open */
	assert_int_equal(journal_create("maintenance", 60, 7, "enforce"), 0);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(journal_append(i % 2 ? 'D' : 'W', paths[i],
		                                i == 2 ? JOURNAL_UID_NONE : (uint32_t)i * 1000),
		                 0);
	journal_close();
	assert_int_equal(journal_append('W', "/x", 0), -EBADF); /* closed */
	assert_true(fx_read(journal_path(), buf, sizeof(buf)) >= 0);
	/* every byte <= 0x20, >= 0x7f and '%' is %HH, so each change is one line */
	assert_non_null(strstr(buf, "\nW /plain uid=0\n"));
	assert_non_null(strstr(buf, "\nD /a%20b%09c uid=1000\n"));
	assert_non_null(strstr(buf, "\nW /new%0Aline uid=?\n"));
	assert_non_null(strstr(buf, "\nD /100%25 uid=3000\n"));
	assert_non_null(strstr(buf, "\nW /del%7F uid=4000\n"));
	assert_non_null(strstr(buf, "\nD /caf%C3%A9 uid=5000\n"));
	assert_int_equal(strncmp(buf, hdr, strlen(hdr)), 0);
	assert_int_equal(journal_load(collect, &l, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(l.n, sizeof(paths) / sizeof(paths[0]));
	for (i = 0; i < l.n; i++) {
		assert_int_equal(l.op[i], i % 2 ? 'D' : 'W');
		assert_string_equal(l.path[i], paths[i]);
		assert_int_equal(l.uid[i], i == 2 ? JOURNAL_UID_NONE : (uint32_t)i * 1000);
	}
}

/* A power loss cuts the last line inside an escape: it is skipped and
 * counted, the lines before it are kept. */
static void test_load_cut_line(void **state)
{
	struct loaded l = {0};
	size_t bad = 0;
	FILE *f;

	(void)state;
	f = fopen(journal_path(), "w");
	assert_non_null(f);
	fputs(JOURNAL_MAGIC "\n# kind=update\nW /ok\nX /bad-op\nW no-slash\nW /a%4", f);
	fclose(f);
	assert_int_equal(journal_load(collect, &l, &bad), 0);
	assert_int_equal(bad, 3);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.path[0], "/ok");

	f = fopen(journal_path(), "w");
	assert_non_null(f);
	fputs("HMILOCK-JOURNAL 2\nW /ok\n", f);
	fclose(f);
	l.n = 0;
	assert_int_equal(journal_load(collect, &l, &bad), -EINVAL);
	assert_int_equal(l.n, 0);

	unlink(journal_path());
	assert_int_equal(journal_load(collect, &l, &bad), -ENOENT);
}

/* With a list key every change line carries the MAC of the chain: the
 * journal replays as written; from an edited line (or one added by hand)
 * on, nothing is replayed; a line cut at the end costs only itself. */
static void test_authenticated(void **state)
{
	struct loaded l = {0};
	struct wl_err err = {0};
	char key[PATH_MAX], buf[4096], *p;
	size_t bad = 99;
	FILE *f;

	snprintf(key, sizeof(key), "%s/list.key", (char *)*state);
	assert_int_equal(wl_key_create(key, &err), 0);
	assert_int_equal(journal_create("update", 60, 3, "enforce"), 0);
	assert_int_equal(journal_append('W', "/opt/a", 0), 0);
	assert_int_equal(journal_append('W', "/opt/b", 0), 0);
	assert_int_equal(journal_append('D', "/opt/c", 1000), 0);
	journal_close();
	assert_true(fx_read(journal_path(), buf, sizeof(buf)) >= 0);
	assert_non_null(strstr(buf, "\nW /opt/a uid=0 mac="));
	assert_int_equal(journal_load(collect, &l, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(l.n, 3);
	/* root edits the second line: it and the third are not replayed */
	p = strstr(buf, "W /opt/b uid=0");
	assert_non_null(p);
	memcpy(p, "W /tmp/x uid=0", 14);
	f = fopen(journal_path(), "w");
	assert_non_null(f);
	fputs(buf, f);
	fclose(f);
	l.n = 0;
	assert_int_equal(journal_load(collect, &l, &bad), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.path[0], "/opt/a");
	assert_int_equal(bad, 2);
	/* a line without a MAC, added by hand at the end */
	assert_int_equal(journal_create("update", 60, 3, "enforce"), 0);
	assert_int_equal(journal_append('W', "/opt/a", 0), 0);
	journal_close();
	f = fopen(journal_path(), "a");
	assert_non_null(f);
	fputs("W /tmp/evil uid=0\n", f);
	fclose(f);
	l.n = 0;
	assert_int_equal(journal_load(collect, &l, &bad), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(bad, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_cut_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_authenticated, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
