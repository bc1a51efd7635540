/* test_export.c - unit tests for whitelist/export.c: a list exported with
 * odd paths parses back field for field and verifies with the signer's
 * public key (and is refused with another key, or once changed); a table
 * of malformed files (every kind of bad line, bad %HH escapes, truncated
 * or missing signature) is refused with a message naming the line; every
 * prefix of a good file is refused. Every input is parsed from a heap
 * buffer of exactly its length, so AddressSanitizer catches a read past
 * it, and LeakSanitizer anything a refusal does not free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "wl.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
/* A signature line of the right form (the parser does not check it). */
#define HEX64 "0000000000000000000000000000000000000000000000000000000000000000"
#define SIG_LINE "signature ed25519 " HEX64 " " HEX64 HEX64 "\n"

static const uint8_t seed_a[32] = "export-test-signing-key-00000001";
static const uint8_t seed_b[32] = "export-test-signing-key-00000002";

/* wl_export_parse of a heap copy of exactly len bytes. */
static int parse_exact(const char *text, size_t len, struct wl_export *x, struct wl_err *err)
{
	char *buf = malloc(len ? len : 1);
	int rc;

	assert_non_null(buf);
	memcpy(buf, text, len);
	rc = wl_export_parse(buf, len, x, err);
	free(buf);
	return rc;
}

static struct wl_sign_key *key_of(const uint8_t seed[32], bool private_key)
{
	struct wl_sign_key *k, *pub;
	uint8_t raw[WL_SIG_PUBLEN];

	assert_int_equal(wl_sign_key_raw(seed, true, &k, NULL), 0);
	if (private_key)
		return k;
	assert_int_equal(wl_sign_key_public(k, raw, NULL), 0);
	wl_sign_key_free(k);
	assert_int_equal(wl_sign_key_raw(raw, false, &pub, NULL), 0);
	return pub;
}

static void put(struct wl_set *s, const char *path, uint8_t h, const char *interp,
                enum wl_type type, uint32_t mode)
{
	struct wl_entry e = {0};

	e.path = strdup(path);
	e.interp = interp ? strdup(interp) : NULL;
	memset(e.sha256, h, sizeof(e.sha256));
	e.type = type;
	e.size = 1000u * h;
	e.mode = 0100000 | mode;
	e.uid = h;
	e.gid = 4000000000u;
	e.ino = 77; /* identity: never exported */
	assert_int_equal(wl_set_put(s, &e), 0);
}

/* Paths and interpreters the %HH form must carry. */
static const struct {
	const char *path, *interp;
} odd[] = {
    {"/bin/sh", "/lib64/ld-linux-x86-64.so.2"},
    {"/opt/odd name %41\t\n\x01\x7f\xff", NULL},
    {"/opt/\xc3\xa9t\xc3\xa9", "-"},
    {"/opt/script", "/usr/bin/env"},
};
#define NODD (sizeof(odd) / sizeof(odd[0]))

/* A list of the odd entries at generation 7, exported with seed_a. */
static void make_export(const char *dir, char **text, size_t *len)
{
	struct wl_sign_key *k = key_of(seed_a, true);
	uint8_t key[WL_KEY_LEN] = "export-test-list-key-0123456789";
	struct wl_set *s = wl_set_new();
	struct wl_err err = {0};
	struct wl_db_lock *lk;
	struct wl_db *db;
	char path[FX_PATH];
	size_t i;

	assert_non_null(s);
	for (i = 0; i < NODD; i++)
		put(s, odd[i].path, (uint8_t)(i + 1), odd[i].interp, (enum wl_type)(i % WL_T__MAX),
		    0755 - (unsigned)i);
	fx_path(path, dir, "approved.db");
	assert_int_equal(wl_db_lock(path, 0, &lk, &err), 0);
	if (wl_db_write(lk, s, 7, 0, key, &err))
		fail_msg("%s", err.msg);
	wl_db_unlock(lk);
	assert_int_equal(wl_db_open(path, key, &db, &err), 0);
	if (wl_export_build(db, k, text, len, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(strlen(*text), *len);
	wl_db_close(db);
	wl_set_free(s);
	wl_sign_key_free(k);
}

static void test_round_trip(void **state)
{
	struct fx_dir *t = *state;
	struct wl_sign_key *pub_a = key_of(seed_a, false), *pub_b = key_of(seed_b, false);
	const struct wl_export_entry *e;
	struct wl_err err = {0};
	struct wl_export x;
	char *text, hex[2 * WL_SIG_PUBLEN + 1];
	size_t len, i, j;

	make_export(t->dir, &text, &len);
	if (parse_exact(text, len, &x, &err))
		fail_msg("%s\n%s", err.msg, text);
	assert_int_equal(x.generation, 7);
	assert_int_equal(x.n, NODD);
	assert_null(memmem(text, x.body_len, " 77 ", 4)); /* no identity field */
	for (i = 0; i < x.n; i++) {
		e = &x.v[i];
		for (j = 0; j < NODD && strcmp(odd[j].path, e->path); j++)
			;
		assert_true(j < NODD);
		if (i)
			assert_true(strcmp(x.v[i - 1].path, e->path) < 0);
		if (odd[j].interp)
			assert_string_equal(e->interp, odd[j].interp);
		else
			assert_null(e->interp);
		assert_int_equal(e->sha256[0], j + 1);
		assert_int_equal(e->type, (enum wl_type)(j % WL_T__MAX));
		assert_int_equal(e->size, 1000u * (j + 1));
		assert_int_equal(e->mode, 0755 - j);
		assert_int_equal(e->uid, j + 1);
		assert_int_equal(e->gid, 4000000000u);
	}
	assert_int_equal(wl_export_verify(text, &x, pub_a, &err), 0);
	/* another box's key: named by the key id in the file */
	assert_int_equal(wl_export_verify(text, &x, pub_b, &err), -EBADMSG);
	assert_int_equal(err.kind, WL_E_MAC);
	wl_hex_n(x.pub, sizeof(x.pub), hex);
	assert_non_null(strstr(err.msg, "signed with another key"));
	assert_non_null(strstr(err.msg, hex));
	wl_export_free(&x);
	/* one hash digit changed: still parses, no longer verifies */
	text[strlen("hmilock-export 1\ngeneration 7\nentries 4\n")] ^= 1;
	assert_int_equal(parse_exact(text, len, &x, &err), 0);
	assert_int_equal(wl_export_verify(text, &x, pub_a, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "does not verify"));
	wl_export_free(&x);
	free(text);
	wl_sign_key_free(pub_a);
	wl_sign_key_free(pub_b);
}

/* Every prefix of a good file is refused, and frees what it parsed. */
static void test_every_prefix(void **state)
{
	struct fx_dir *t = *state;
	struct wl_err err = {0};
	struct wl_export x;
	char *text;
	size_t len, cut;

	make_export(t->dir, &text, &len);
	for (cut = 0; cut < len; cut++) {
		if (parse_exact(text, cut, &x, &err) == 0)
			fail_msg("a file cut to %zu of %zu bytes parsed", cut, len);
		assert_int_equal(x.n, 0);
		assert_null(x.v);
	}
	assert_int_equal(parse_exact(text, len, &x, &err), 0);
	wl_export_free(&x);
	free(text);
}

struct bad {
	const char *text; /* the whole file */
	size_t len; /* 0: strlen(text) */
	enum wl_ekind kind;
	const char *msg; /* a substring of the message */
};

#define HDR(n) "hmilock-export 1\ngeneration 5\nentries " #n "\n"
#define REC(path, interp) SHA_A " exec 10 0755 0 0 " path " " interp "\n"

static const struct bad bads[] = {
    /* the frame */
    {"", 0, WL_E_EMPTY, "empty"},
    {"hello\n", 0, WL_E_MAGIC, "not an hmilock export"},
    {"hmilock-expor", 0, WL_E_MAGIC, "not an hmilock export"},
    {"hmilock-export 9\n" SIG_LINE, 0, WL_E_VERSION, "'hmilock-export 9' is not the one"},
    {"hmilock-export 1 \n" SIG_LINE, 0, WL_E_VERSION, "is not the one"},
    {"hmilock-export \x01\n", 0, WL_E_VERSION, "'hmilock-export \\x01'"},
    {HDR(0), 0, WL_E_TRUNCATED, "line 3) is not a signature line"},
    {HDR(0) "signature ed25519 00", 0, WL_E_TRUNCATED, "does not end with a signature line"},
    {HDR(0) "signature ed25519 0000\n", 0, WL_E_TRUNCATED, "line 4) is not a signature line"},
    {HDR(0) "signature ed25519 " HEX64 " " HEX64
            "000000000000000000000000000000000000000000000000000000000000000\n",
     0, WL_E_TRUNCATED, "not a signature line"}, /* signature one digit short */
    {HDR(0) "signature ed25519 "
            "000000000000000000000000000000000000000000000000000000000000000g " HEX64 HEX64 "\n",
     0, WL_E_TRUNCATED, "not a signature line"}, /* not hex */
    {HDR(1) REC("/a", "-"), 0, WL_E_TRUNCATED, "line 4) is not a signature line"},
    {SIG_LINE, 0, WL_E_MAGIC, "not an hmilock export"},
    /* the header */
    {"hmilock-export 1\n" SIG_LINE, 0, WL_E_CORRUPT, "line 2: want 'generation N'"},
    {"hmilock-export 1\ngeneration x\nentries 0\n" SIG_LINE, 0, WL_E_CORRUPT, "line 2"},
    {"hmilock-export 1\ngeneration -1\nentries 0\n" SIG_LINE, 0, WL_E_CORRUPT, "line 2"},
    {"hmilock-export 1\ngeneration 5\n" SIG_LINE, 0, WL_E_CORRUPT, "line 3: want 'entries N'"},
    {"hmilock-export 1\ngeneration 5\nentries 20000001\n" SIG_LINE, 0, WL_E_CORRUPT, "line 3"},
    {"hmilock-export 1\ngeneration 5\nentries  1\n" SIG_LINE, 0, WL_E_CORRUPT, "line 3"},
#define WITH_NUL HDR(1) "\0" REC("/a", "-") SIG_LINE
    {WITH_NUL, sizeof(WITH_NUL) - 1, WL_E_CORRUPT, "line 4: a NUL byte"},
    /* record counts */
    {HDR(2) REC("/a", "-") SIG_LINE, 0, WL_E_TRUNCATED, "1 entries where line 3 says 2"},
    {HDR(1) REC("/a", "-") REC("/b", "-") SIG_LINE, 0, WL_E_CORRUPT,
     "line 5: more entries than line 3 says (1)"},
    /* fields */
    {HDR(1) SHA_A " exec 10 0755 0 0 /a\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: want 8 fields"},
    {HDR(1) SHA_A " exec 10 0755 0 0 /a - x\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: want 8 fields"},
    {HDR(1) SHA_A "  exec 10 0755 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: want 8 fields"},
    {HDR(1) SHA_A " exec 10 0755 0 0 /a -\x20\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: want 8"},
    {HDR(1) "\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: want 8 fields"},
    {HDR(1) "aaaa exec 10 0755 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: bad sha256"},
    {HDR(1) "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaz exec 10 0755 0 0 /a "
            "-\n" SIG_LINE,
     0, WL_E_CORRUPT, "line 4: bad sha256"},
    {HDR(1) SHA_A " binary 10 0755 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: unknown type"},
    {HDR(1) SHA_A " executable-and-more 10 0755 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT,
     "line 4: unknown type"},
    {HDR(1) SHA_A " exec -1 0755 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: bad size"},
    {HDR(1) SHA_A " exec 1x 0755 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: bad size"},
    {HDR(1) SHA_A " exec 18446744073709551616 0755 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT,
     "line 4: bad size"},
    {HDR(1) SHA_A " exec 10 0999 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: bad mode"},
    {HDR(1) SHA_A " exec 10 10000 0 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: bad mode"},
    {HDR(1) SHA_A " exec 10 0755 4294967296 0 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: bad uid"},
    {HDR(1) SHA_A " exec 10 0755 0 +1 /a -\n" SIG_LINE, 0, WL_E_CORRUPT, "line 4: bad gid"},
    /* paths, interpreters and their escapes */
    {HDR(1) REC("usr/bin/a", "-") SIG_LINE, 0, WL_E_CORRUPT, "line 4: the path is not absolute"},
    {HDR(1) REC("-", "-") SIG_LINE, 0, WL_E_CORRUPT, "line 4: the path is not absolute"},
    {HDR(1) REC("/a%4", "-") SIG_LINE, 0, WL_E_CORRUPT,
     "line 4: bad %HH escape in the path at byte 3"},
    {HDR(1) REC("/a%", "-") SIG_LINE, 0, WL_E_CORRUPT, "in the path at byte 3"},
    {HDR(1) REC("%0", "-") SIG_LINE, 0, WL_E_CORRUPT, "in the path at byte 1"},
    {HDR(1) REC("/a%zz", "-") SIG_LINE, 0, WL_E_CORRUPT, "in the path at byte 3"},
    {HDR(1) REC("/a%00b", "-") SIG_LINE, 0, WL_E_CORRUPT, "in the path at byte 3"},
    {HDR(1) REC("/a", "/lib/ld%2") SIG_LINE, 0, WL_E_CORRUPT,
     "line 4: bad %HH escape in the interpreter at byte 8"},
    {HDR(1) REC("/a", "%") SIG_LINE, 0, WL_E_CORRUPT, "in the interpreter at byte 1"},
    {HDR(2) REC("/b", "-") REC("/a", "-") SIG_LINE, 0, WL_E_CORRUPT,
     "line 5: the path does not sort after"},
    {HDR(2) REC("/a", "-") REC("/a", "-") SIG_LINE, 0, WL_E_CORRUPT, "line 5: the path does not"},
    {HDR(2) REC("/a", "-") REC("/%61", "-") SIG_LINE, 0, WL_E_CORRUPT, "line 5: the path does not"},
};

static void test_malformed(void **state)
{
	struct wl_err err = {0};
	struct wl_export x;
	size_t i, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		len = bads[i].len ? bads[i].len : strlen(bads[i].text);
		memset(&err, 0, sizeof(err));
		rc = parse_exact(bads[i].text, len, &x, &err);
		if (rc >= 0)
			fail_msg("case %zu parsed: %s", i, bads[i].text);
		if (err.kind != bads[i].kind || !strstr(err.msg, bads[i].msg))
			fail_msg("case %zu: kind %s, message '%s'; want %s, '%s'", i,
			         wl_ekind_name(err.kind), err.msg, wl_ekind_name(bads[i].kind),
			         bads[i].msg);
		assert_int_equal(rc, err.code);
		assert_int_equal(x.n, 0);
		assert_null(x.v);
	}
}

/* Hand-made files that must parse: no entries, no interpreter, escapes. */
static void test_good_by_hand(void **state)
{
	static const char one[] =
	    HDR(2) REC("/a%20b", "%2D") REC("/c", "/usr/bin/python3") SIG_LINE;
	static const char none[] = HDR(0) SIG_LINE;
	struct wl_err err = {0};
	struct wl_export x;

	(void)state;
	assert_int_equal(parse_exact(none, strlen(none), &x, &err), 0);
	assert_int_equal(x.n, 0);
	assert_int_equal(x.generation, 5);
	assert_int_equal(x.body_len, strlen(HDR(0)));
	wl_export_free(&x);
	if (parse_exact(one, strlen(one), &x, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.v[0].path, "/a b");
	assert_string_equal(x.v[0].interp, "-");
	assert_string_equal(x.v[1].interp, "/usr/bin/python3");
	assert_int_equal(x.v[0].mode, 0755);
	assert_int_equal(x.v[0].size, 10);
	assert_int_equal(x.v[0].type, WL_T_EXEC);
	wl_export_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_every_prefix, fx_setup, fx_teardown),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_good_by_hand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
