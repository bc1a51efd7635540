/* test_io.c - unit tests for whitelist/io.c: wl_write_atomic (content,
 * exact mode whatever the umask, replace, stale tmp, failures leave no tmp)
 * and wl_fsync_dir_of. wl_mkparents is tested with key creation (test_key).
 * Each test works in its own temporary directory (fixture.h). */
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
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "wl.h"

static void test_write_atomic(void **state)
{
	const char *dir = ((struct fx_dir *)*state)->dir;
	char path[128], tmp[140], buf[64];
	struct stat st;
	mode_t old = umask(077);

	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(wl_write_atomic(path, "one\n", 4, 0644), 0);
	assert_true(fx_read(path, buf, sizeof(buf)) >= 0);
	assert_string_equal(buf, "one\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* not 0600: the umask is undone */

	/* A stale tmp from a crash does not stop the next write. */
	assert_int_equal(wl_write_atomic(tmp, "stale", 5, 0600), 0);
	assert_int_equal(wl_write_atomic(path, "two\n", 4, 0600), 0);
	assert_true(fx_read(path, buf, sizeof(buf)) >= 0);
	assert_string_equal(buf, "two\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(access(tmp, F_OK), -1);
	umask(old);
}

static void test_write_atomic_fails(void **state)
{
	const char *dir = ((struct fx_dir *)*state)->dir;
	char path[128], big[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s/missing/f", dir);
	assert_int_equal(wl_write_atomic(path, "x", 1, 0600), -ENOENT);
	/* Renaming over a directory fails; the old one stays, no tmp is left. */
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(wl_write_atomic(path, "x", 1, 0600), -EISDIR);
	snprintf(path, sizeof(path), "%s/d.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(wl_write_atomic(big, "x", 1, 0600), -ENAMETOOLONG);
}

static void test_fsync_dir_of(void **state)
{
	const char *dir = ((struct fx_dir *)*state)->dir;
	char path[128];

	snprintf(path, sizeof(path), "%s/anything", dir);
	assert_int_equal(wl_fsync_dir_of(path), 0);
	assert_int_equal(wl_fsync_dir_of("/etc"), 0); /* the directory "/" */
	snprintf(path, sizeof(path), "%s/missing/x", dir);
	assert_int_equal(wl_fsync_dir_of(path), -ENOENT);
}

static void test_path_sibling(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(wl_path_sibling("/var/lib/hmilock/approved.db", "state", out, sizeof(out)),
	                 -ENAMETOOLONG);
	assert_int_equal(wl_path_sibling("/a/b/db", "state", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b/state");
	assert_int_equal(wl_path_sibling("/db", "state", out, sizeof(out)), 0);
	assert_string_equal(out, "/state");
	assert_int_equal(wl_path_sibling("db", "state", out, sizeof(out)), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_write_atomic),
	    T(test_write_atomic_fails),
	    T(test_fsync_dir_of),
	    cmocka_unit_test(test_path_sibling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
