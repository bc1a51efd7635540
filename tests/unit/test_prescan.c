/* test_prescan.c - unit tests for whitelist/prescan.c and the prescan in
 * wl_scan: SHA-256 blocklists (formats, bad lines, directories), ClamAV
 * hash and body signatures written here in libclamav's own text formats
 * (.hsb "sha256:size:name", .ndb "name:0:*:hex") for files made here,
 * databases that do not load, the scan's refusals and the list flags. The
 * integration tests (81, 82) build their databases with ClamAV's sigtool.
 * Owns its temp directory. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "wl.h"

#define MARKER "HMILOCK-UNIT-PRESCAN-SAMPLE"

static void tp_write(const char *dir, const char *name, const char *text, mode_t mode)
{
	char p[FX_PATH];
	int fd;

	fx_path(p, dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void tp_sha(const char *text, uint8_t out[WL_SHA256_LEN])
{
	char p[] = "/tmp/tp_sha.XXXXXX";
	int fd = mkstemp(p);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(wl_hash_fd(fd, out, NULL, NULL), 0);
	close(fd);
	unlink(p);
}

/* Load one blocklist file holding text; rc and the message. */
static int tp_load_bl(const char *dir, const char *text, struct wl_prescan **ps, struct wl_err *err)
{
	char p[FX_PATH];
	const char *bl[1] = {p};

	tp_write(dir, "bl.txt", text, 0644);
	fx_path(p, dir, "bl.txt");
	return wl_prescan_load(NULL, 0, bl, 1, ps, err);
}

static void test_blocklist_formats(void **state)
{
	const struct fx_dir *d = *state;
	uint8_t a[WL_SHA256_LEN], b[WL_SHA256_LEN], c[WL_SHA256_LEN];
	char text[1024], ha[WL_HEX_LEN], hb[WL_HEX_LEN], sig[WL_PRESCAN_SIG_LEN];
	struct wl_prescan *ps = NULL;
	struct wl_err err = {0};
	size_t i;

	tp_sha("alpha", a);
	tp_sha("beta", b);
	tp_sha("gamma", c);
	wl_hex(a, ha);
	wl_hex(b, hb);
	for (i = 0; i < 64; i++) /* upper case works too */
		hb[i] = (char)(hb[i] >= 'a' ? hb[i] - 32 : hb[i]);
	snprintf(text, sizeof(text),
	         "# feed of 2026-12-01\n\n%s  Trojan.Linux.Alpha\n  %s *dropper.bin\r\n", ha, hb);
	assert_int_equal(tp_load_bl(d->dir, text, &ps, &err), 0);
	assert_non_null(strstr(wl_prescan_describe(ps), "2 SHA-256 from 1 blocklist"));
	assert_int_equal(wl_prescan_hash(ps, a, sig, sizeof(sig)), WL_PRESCAN_BAD);
	assert_string_equal(sig, "Trojan.Linux.Alpha (blocklist)");
	assert_int_equal(wl_prescan_hash(ps, b, sig, sizeof(sig)), WL_PRESCAN_BAD);
	assert_string_equal(sig, "dropper.bin (blocklist)");
	assert_int_equal(wl_prescan_hash(ps, c, sig, sizeof(sig)), WL_PRESCAN_CLEAN);
	wl_prescan_free(ps);

	snprintf(text, sizeof(text), "%s\n", ha); /* no name */
	assert_int_equal(tp_load_bl(d->dir, text, &ps, &err), 0);
	assert_int_equal(wl_prescan_hash(ps, a, sig, sizeof(sig)), WL_PRESCAN_BAD);
	assert_string_equal(sig, "blocklisted (blocklist)");
	wl_prescan_free(ps);
	assert_int_equal(wl_prescan_hash(NULL, a, sig, sizeof(sig)), WL_PRESCAN_CLEAN);
}

static void test_blocklist_bad(void **state)
{
	const struct fx_dir *d = *state;
	static const char *const bad[] = {
	    "abc\n",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0 x\n",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefname\n",
	};
	struct wl_prescan *ps = (struct wl_prescan *)1;
	struct wl_err err = {0};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# ok\n%s", bad[i]);
		assert_int_equal(tp_load_bl(d->dir, text, &ps, &err), -EINVAL);
		assert_null(ps);
		if (!strstr(err.msg, "bl.txt line 2: expected a SHA-256"))
			fail_msg("case %zu: %s", i, err.msg);
	}
	assert_int_equal(tp_load_bl(d->dir, "# nothing\n\n", &ps, &err), -ENODATA);
	assert_non_null(strstr(err.msg, "has no SHA-256 in it"));
	{
		const char *missing[1] = {"/nonexistent/feed.txt"};
		assert_int_equal(wl_prescan_load(NULL, 0, missing, 1, &ps, &err), -ENOENT);
		assert_non_null(strstr(err.msg, "cannot read blocklist /nonexistent/feed.txt"));
	}
	assert_int_equal(wl_prescan_load(NULL, 0, NULL, 0, &ps, &err), -EINVAL);
}

/* A directory of blocklists: each regular file, dot files left out. */
static void test_blocklist_dir(void **state)
{
	const struct fx_dir *d = *state;
	uint8_t a[WL_SHA256_LEN], b[WL_SHA256_LEN];
	char sub[FX_PATH], ha[WL_HEX_LEN + 8], hb[WL_HEX_LEN + 8], sig[WL_PRESCAN_SIG_LEN];
	const char *bl[1] = {sub};
	struct wl_prescan *ps = NULL;
	struct wl_err err = {0};

	fx_path(sub, d->dir, "feeds");
	assert_int_equal(mkdir(sub, 0755), 0);
	tp_sha("one", a);
	tp_sha("two", b);
	wl_hex(a, ha);
	wl_hex(b, hb);
	strcat(ha, " one\n");
	strcat(hb, " two\n");
	tp_write(d->dir, "feeds/a.sha256", ha, 0644);
	tp_write(d->dir, "feeds/b.sha256", hb, 0644);
	tp_write(d->dir, "feeds/.partial", "garbage\n", 0644);
	assert_int_equal(wl_prescan_load(NULL, 0, bl, 1, &ps, &err), 0);
	assert_int_equal(wl_prescan_hash(ps, a, sig, sizeof(sig)), WL_PRESCAN_BAD);
	assert_int_equal(wl_prescan_hash(ps, b, sig, sizeof(sig)), WL_PRESCAN_BAD);
	wl_prescan_free(ps);
}

static char tp_hex_marker[2 * sizeof(MARKER) + 1];

/* dir/sigs/: an .hsb naming hashed.bin by its SHA-256 and an .ndb naming
 * MARKER anywhere in a file. */
static void tp_make_db(const char *dir, char sigdir[FX_PATH])
{
	char line[256], hex[WL_HEX_LEN], p[FX_PATH];
	uint8_t h[WL_SHA256_LEN];
	struct stat st;
	int fd;

	fx_path(sigdir, dir, "sigs");
	assert_int_equal(mkdir(sigdir, 0755), 0);
	tp_write(dir, "hashed.bin", "\177ELF this one is named by its hash\n", 0755);
	fx_path(p, dir, "hashed.bin");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_int_equal(wl_hash_fd(fd, h, NULL, NULL), 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	wl_hex(h, hex);
	snprintf(line, sizeof(line), "%s:%lld:Unit.Hashed\n", hex, (long long)st.st_size);
	tp_write(dir, "sigs/unit.hsb", line, 0644);
	wl_hex_n((const uint8_t *)MARKER, strlen(MARKER), tp_hex_marker);
	snprintf(line, sizeof(line), "Unit.Body:0:*:%s\n", tp_hex_marker);
	tp_write(dir, "sigs/unit.ndb", line, 0644);
}

static int tp_check(const struct wl_prescan *ps, const char *dir, const char *name, char *sig)
{
	uint8_t h[WL_SHA256_LEN];
	struct wl_err err = {0};
	char p[FX_PATH];
	struct stat st;
	int fd, rc;

	fx_path(p, dir, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(wl_hash_fd(fd, h, NULL, NULL), 0);
	assert_int_equal(fstat(fd, &st), 0);
	rc = wl_prescan_fd(ps, fd, p, h, (uint64_t)st.st_size, sig, WL_PRESCAN_SIG_LEN, &err);
	close(fd);
	return rc;
}

static void test_clamav_signatures(void **state)
{
	const struct fx_dir *d = *state;
	char sigdir[FX_PATH], sig[WL_PRESCAN_SIG_LEN], body[256];
	const char *db[1] = {sigdir};
	struct wl_prescan *ps = NULL;
	struct wl_err err = {0};

	tp_make_db(d->dir, sigdir);
	snprintf(body, sizeof(body), "#!/bin/sh\n# %s\necho hi\n", MARKER);
	tp_write(d->dir, "body.sh", body, 0755);
	tp_write(d->dir, "clean.sh", "#!/bin/sh\necho clean\n", 0755);
	if (wl_prescan_load(db, 1, NULL, 0, &ps, &err) < 0)
		fail_msg("load: %s", err.msg);
	assert_non_null(strstr(wl_prescan_describe(ps), "libclamav"));
	assert_non_null(strstr(wl_prescan_describe(ps), "2 signatures from 1 database"));
	assert_int_equal(tp_check(ps, d->dir, "hashed.bin", sig), WL_PRESCAN_BAD);
	assert_non_null(strstr(sig, "Unit.Hashed"));
	assert_int_equal(tp_check(ps, d->dir, "body.sh", sig), WL_PRESCAN_BAD);
	assert_non_null(strstr(sig, "Unit.Body"));
	assert_int_equal(tp_check(ps, d->dir, "clean.sh", sig), WL_PRESCAN_CLEAN);
	{
		/* bytes other than the ones hashed (the file changed since):
		 * not scanned, not approved */
		static const uint8_t other[WL_SHA256_LEN] = {1};
		char p[FX_PATH];
		int fd;

		fx_path(p, d->dir, "clean.sh");
		fd = open(p, O_RDONLY | O_CLOEXEC);
		assert_int_equal(wl_prescan_fd(ps, fd, p, other, strlen("#!/bin/sh\necho clean\n"),
		                               sig, sizeof(sig), &err),
		                 -ESTALE);
		assert_non_null(strstr(err.msg, "changed since it was hashed"));
		close(fd);
	}
	wl_prescan_free(ps);
}

static void test_clamav_bad_databases(void **state)
{
	const struct fx_dir *d = *state;
	char p[FX_PATH];
	const char *db[1] = {p};
	struct wl_prescan *ps = (struct wl_prescan *)1;
	struct wl_err err = {0};

	tp_write(d->dir, "broken.ndb", "Unit.Broken:0:*:zz\n", 0644);
	fx_path(p, d->dir, "broken.ndb");
	assert_true(wl_prescan_load(db, 1, NULL, 0, &ps, &err) < 0);
	assert_null(ps);
	if (!strstr(err.msg, "signature database ") || !strstr(err.msg, "broken.ndb does not load"))
		fail_msg("%s", err.msg);
	tp_write(d->dir, "empty.hsb", "", 0644);
	fx_path(p, d->dir, "empty.hsb");
	assert_true(wl_prescan_load(db, 1, NULL, 0, &ps, &err) < 0);
	assert_non_null(strstr(err.msg, "empty.hsb"));
	tp_write(d->dir, "notes.txt", "not a database\n", 0644);
	fx_path(p, d->dir, "notes.txt");
	assert_true(wl_prescan_load(db, 1, NULL, 0, &ps, &err) < 0);
	assert_non_null(strstr(err.msg, "notes.txt"));
	fx_path(p, d->dir, "none.hdb");
	assert_int_equal(wl_prescan_load(db, 1, NULL, 0, &ps, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "none.hdb"));
}

struct tp_seen {
	int n;
	char last[FX_PATH], sig[WL_PRESCAN_SIG_LEN];
};

static void tp_known_bad(const char *path, const char *sig, void *arg)
{
	struct tp_seen *s = arg;

	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", path);
	snprintf(s->sig, sizeof(s->sig), "%s", sig);
}

/* wl_scan with a prescan: the named file is not in the set, counted as
 * known-bad and reported; the rest is approved. */
static void test_scan_refuses(void **state)
{
	const struct fx_dir *d = *state;
	char sigdir[FX_PATH], tree[FX_PATH], body[256];
	const char *db[1] = {sigdir}, *roots[1] = {tree};
	struct wl_scan_opts opts = {0};
	struct wl_scan_stats st;
	struct tp_seen seen = {0};
	struct wl_prescan *ps = NULL;
	struct wl_err err = {0};
	struct wl_set *set = wl_set_new();

	tp_make_db(d->dir, sigdir);
	fx_path(tree, d->dir, "tree");
	assert_int_equal(mkdir(tree, 0755), 0);
	snprintf(body, sizeof(body), "#!/bin/sh\n# %s\n", MARKER);
	tp_write(d->dir, "tree/evil", body, 0755);
	tp_write(d->dir, "tree/good", "#!/bin/sh\necho good\n", 0755);
	tp_write(d->dir, "tree/data.txt", MARKER, 0644); /* not qualifying: never scanned */
	assert_int_equal(wl_prescan_load(db, 1, NULL, 0, &ps, &err), 0);
	opts.prescan = ps;
	opts.known_bad = tp_known_bad;
	opts.known_bad_arg = &seen;
	opts.workers = 2;
	assert_int_equal(wl_scan(roots, 1, &opts, set, &st, &err), 0);
	assert_int_equal(st.approved, 1);
	assert_int_equal(st.skipped[WL_SKIP_KNOWN_BAD], 1);
	assert_int_equal(st.skipped[WL_SKIP_PRESCAN_FAILED], 0);
	assert_int_equal(seen.n, 1);
	assert_non_null(strstr(seen.last, "/tree/evil"));
	assert_non_null(strstr(seen.sig, "Unit.Body"));
	assert_string_equal(wl_skip_name(WL_SKIP_KNOWN_BAD), "known-bad");
	assert_int_equal(wl_set_count(set), 1);
	assert_non_null(strstr(wl_set_at(set, 0)->path, "/tree/good"));
	wl_set_free(set);
	wl_prescan_free(ps);
}

static void test_flags(void **state)
{
	(void)state;
	assert_int_equal(wl_db_flags_after(WL_DB_F_PRESCANNED, true, false), WL_DB_F_PRESCANNED);
	assert_int_equal(wl_db_flags_after(WL_DB_F_PRESCANNED, false, false), 0);
	assert_int_equal(wl_db_flags_after(0, true, false), 0); /* once unscanned, stays so */
	assert_int_equal(wl_db_flags_after(WL_DB_F_PRESCANNED, false, true), WL_DB_F_NO_PRESCAN);
	assert_int_equal(wl_db_flags_after(WL_DB_F_NO_PRESCAN, true, false), WL_DB_F_NO_PRESCAN);
	assert_non_null(
	    strstr(wl_db_flags_provenance(WL_DB_F_PRESCANNED), "every entry prescanned"));
	assert_non_null(strstr(wl_db_flags_provenance(WL_DB_F_NO_PRESCAN), "--no-prescan"));
	assert_non_null(strstr(wl_db_flags_provenance(0), "not prescanned"));
}

/* The flags of a set are written into the list and read back. */
static void test_flags_roundtrip(void **state)
{
	const struct fx_dir *d = *state;
	uint8_t key[WL_KEY_LEN] = {1, 2, 3};
	char p[FX_PATH];
	struct wl_set *s = wl_set_new(), *s2 = wl_set_new();
	struct wl_db_lock *lk = NULL;
	struct wl_err err = {0};
	struct wl_db *db = NULL;

	fx_path(p, d->dir, "list.db");
	wl_set_set_flags(s, WL_DB_F_PRESCANNED);
	assert_int_equal(wl_db_lock(p, 0, &lk, &err), 0);
	assert_int_equal(wl_db_write(lk, s, 1, 0, key, &err), 0);
	wl_db_unlock(lk);
	assert_int_equal(wl_db_open(p, key, &db, &err), 0);
	assert_int_equal(wl_db_flags(db), WL_DB_F_PRESCANNED);
	assert_int_equal(wl_db_to_set(db, s2, &err), 0);
	assert_int_equal(wl_set_flags(s2), WL_DB_F_PRESCANNED);
	wl_db_close(db);
	wl_set_free(s);
	wl_set_free(s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_blocklist_formats, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_blocklist_bad, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_blocklist_dir, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_clamav_signatures, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_clamav_bad_databases, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_scan_refuses, fx_setup, fx_teardown),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test_setup_teardown(test_flags_roundtrip, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
