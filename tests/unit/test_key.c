/* test_key.c - unit tests for whitelist/key.c: create (mode, parents, random,
 * EEXIST) and load with every refusal (missing, size, mode, owner, type);
 * and wl_mkparents (io.c), which creation uses.
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

struct tdir {
	char dir[FX_DIR_LEN];
	char key[128];
};

static int setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	if (fx_mkdir(t->dir, "test_key") < 0) {
		free(t);
		return -1;
	}
	snprintf(t->key, sizeof(t->key), "%s/etc/list.key", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tdir *t = *state;
	int rc = fx_rmtree(t->dir);

	free(t);
	return rc;
}

static void write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_create_load(void **state)
{
	struct tdir *t = *state;
	uint8_t key[WL_KEY_LEN], raw[WL_KEY_LEN + 1], zero[WL_KEY_LEN] = {0};
	struct wl_err err = {0};
	char parent[128];
	struct stat st;
	int fd;

	/* The parent directory does not exist yet: created 0700. */
	assert_int_equal(wl_key_create(t->key, &err), 0);
	snprintf(parent, sizeof(parent), "%s/etc", t->dir);
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(lstat(t->key, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, WL_KEY_LEN);
	assert_int_equal(st.st_uid, geteuid());

	assert_int_equal(wl_key_load(t->key, key, &err), 0);
	fd = open(t->key, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, raw, sizeof(raw)), WL_KEY_LEN);
	close(fd);
	assert_memory_equal(key, raw, WL_KEY_LEN);
	assert_memory_not_equal(key, zero, WL_KEY_LEN);
}

static void test_create_exists(void **state)
{
	struct tdir *t = *state;
	uint8_t k1[WL_KEY_LEN], k2[WL_KEY_LEN];
	struct wl_err err = {0};

	assert_int_equal(wl_key_create(t->key, &err), 0);
	assert_int_equal(wl_key_load(t->key, k1, &err), 0);
	assert_int_equal(wl_key_create(t->key, &err), -EEXIST);
	assert_non_null(strstr(err.msg, t->key));
	assert_non_null(strstr(err.msg, "already exists"));
	/* The existing key is untouched. */
	assert_int_equal(wl_key_load(t->key, k2, &err), 0);
	assert_memory_equal(k1, k2, WL_KEY_LEN);
	/* A symlink at the path is not followed (O_EXCL|O_NOFOLLOW). */
	assert_int_equal(unlink(t->key), 0);
	assert_int_equal(symlink("/nonexistent/hmilock-key", t->key), 0);
	assert_int_equal(wl_key_create(t->key, &err), -EEXIST);
	assert_int_equal(access("/nonexistent/hmilock-key", F_OK), -1);
}

static void test_random(void **state)
{
	struct tdir *t = *state;
	uint8_t k1[WL_KEY_LEN], k2[WL_KEY_LEN];
	struct wl_err err = {0};
	char other[160];

	snprintf(other, sizeof(other), "%s/other.key", t->dir);
	assert_int_equal(wl_key_create(t->key, &err), 0);
	assert_int_equal(wl_key_create(other, &err), 0);
	assert_int_equal(wl_key_load(t->key, k1, &err), 0);
	assert_int_equal(wl_key_load(other, k2, &err), 0);
	assert_memory_not_equal(k1, k2, WL_KEY_LEN);
}

static void test_load_missing(void **state)
{
	struct tdir *t = *state;
	uint8_t key[WL_KEY_LEN];
	struct wl_err err = {0};

	assert_int_equal(wl_key_load(t->key, key, &err), -ENOENT);
	assert_int_equal(err.kind, WL_E_KEY);
	assert_int_equal(err.code, -ENOENT);
	assert_non_null(strstr(err.msg, t->key));
	assert_non_null(strstr(err.msg, "hmilock init"));
	assert_int_equal(wl_key_load("", key, &err), -EINVAL);
	assert_int_equal(wl_key_load(NULL, key, NULL), -EINVAL);
}

/* Table: key files that must be refused, and what the message must say. */
static const struct {
	size_t size;
	mode_t mode;
	const char *says;
} bad_files[] = {
    {0, 0600, "is 0 bytes"},    {31, 0600, "is 31 bytes"}, {33, 0600, "is 33 bytes"},
    {4096, 0600, "4096 bytes"}, {32, 0640, "chmod 600"},   {32, 0604, "chmod 600"},
    {32, 0660, "chmod 600"},    {32, 0602, "chmod 600"},   {32, 0610, "chmod 600"},
    {32, 0644, "mode 0644"},
};

static void test_load_bad_files(void **state)
{
	struct tdir *t = *state;
	uint8_t buf[4096] = {1}, key[WL_KEY_LEN];
	struct wl_err err;
	char path[160];
	size_t i;

	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/bad%zu.key", t->dir, i);
		write_file(path, buf, bad_files[i].size, bad_files[i].mode);
		memset(&err, 0, sizeof(err));
		memset(key, 0xaa, sizeof(key));
		assert_true(wl_key_load(path, key, &err) < 0);
		assert_int_equal(err.kind, WL_E_KEY);
		if (!strstr(err.msg, bad_files[i].says) || !strstr(err.msg, path))
			fail_msg("case %zu: message \"%s\" lacks \"%s\" or the path", i, err.msg,
			         bad_files[i].says);
		/* Nothing of a refused key is handed out. */
		assert_memory_equal(key, (uint8_t[WL_KEY_LEN]){0}, WL_KEY_LEN);
	}
}

static void test_load_not_regular(void **state)
{
	struct tdir *t = *state;
	uint8_t key[WL_KEY_LEN];
	struct wl_err err = {0};
	char path[160];

	snprintf(path, sizeof(path), "%s/dir.key", t->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(wl_key_load(path, key, &err) < 0);
	assert_int_equal(err.kind, WL_E_KEY);
	assert_non_null(strstr(err.msg, "not a regular file"));

	/* A FIFO must be refused, not block the caller. */
	snprintf(path, sizeof(path), "%s/fifo.key", t->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_true(wl_key_load(path, key, &err) < 0);
	assert_int_equal(err.kind, WL_E_KEY);

	/* A symlink, even to a good key, is refused. */
	assert_int_equal(wl_key_create(t->key, &err), 0);
	snprintf(path, sizeof(path), "%s/link.key", t->dir);
	assert_int_equal(symlink(t->key, path), 0);
	assert_int_equal(wl_key_load(path, key, &err), -ELOOP);
	assert_int_equal(err.kind, WL_E_KEY);
	assert_non_null(strstr(err.msg, "symlink"));
}

static void test_load_owner(void **state)
{
	struct tdir *t = *state;
	uint8_t key[WL_KEY_LEN];
	struct wl_err err = {0};

	if (geteuid() != 0)
		skip(); /* only root can give a file away */
	assert_int_equal(wl_key_create(t->key, &err), 0);
	assert_int_equal(chown(t->key, 4242, 4242), 0);
	assert_int_equal(wl_key_load(t->key, key, &err), -EPERM);
	assert_int_equal(err.kind, WL_E_KEY);
	assert_non_null(strstr(err.msg, "chown root"));
	assert_int_equal(chown(t->key, 0, 4242), 0);
	assert_int_equal(wl_key_load(t->key, key, &err), 0);
}

static void test_create_bad_parent(void **state)
{
	struct tdir *t = *state;
	struct wl_err err = {0};
	char path[200];

	/* A regular file where the parent directory should be. */
	snprintf(path, sizeof(path), "%s/file", t->dir);
	write_file(path, "x", 1, 0600);
	snprintf(path, sizeof(path), "%s/file/list.key", t->dir);
	assert_true(wl_key_create(path, &err) < 0);
	assert_int_equal(err.kind, WL_E_IO);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(wl_key_create("", &err), -EINVAL);
}

/* wl_mkparents (io.c), which key creation uses: every missing level made
 * with the mode, existing ones kept, the failing directory named. */
static void test_mkparents(void **state)
{
	struct tdir *t = *state;
	char path[200], dir[200], failed[PATH_MAX] = "", big[PATH_MAX + 8];
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/c/file", t->dir);
	assert_int_equal(wl_mkparents(path, 0700, NULL), 0);
	snprintf(dir, sizeof(dir), "%s/a/b/c", t->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(wl_mkparents(path, 0700, NULL), 0); /* all there: fine */
	assert_int_equal(access(path, F_OK), -1); /* the file itself: never */
	assert_int_equal(wl_mkparents("file-without-dir", 0700, NULL), 0);

	snprintf(path, sizeof(path), "%s/plain", t->dir);
	write_file(path, "x", 1, 0600);
	snprintf(path, sizeof(path), "%s/plain/x/y/file", t->dir);
	assert_int_equal(wl_mkparents(path, 0700, failed), -ENOTDIR);
	snprintf(dir, sizeof(dir), "%s/plain/x", t->dir);
	assert_string_equal(failed, dir);

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(wl_mkparents(big, 0700, NULL), -ENAMETOOLONG);
}

/* wl_mac_hex: HMAC-SHA256, lower-case hex (Python's hmac gives the same);
 * the check takes only that exact string. */
static void test_mac_hex(void **state)
{
	static const char want[] =
	    "8e45fbef26c393dde705d3993fbe9abcc367faac2ec5c20c6a71692dcab0579f";
	uint8_t key[WL_KEY_LEN];
	char hex[65], bad[65];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	assert_int_equal(wl_mac_hex(key, "mode=audit\n", 11, hex), 0);
	assert_string_equal(hex, want);
	assert_int_equal(wl_mac_hex_check(key, "mode=audit\n", 11, want), 0);
	assert_int_equal(wl_mac_hex_check(key, "mode=enforce\n", 13, want), -EBADMSG);
	memcpy(bad, want, sizeof(bad));
	bad[0] = '9';
	assert_int_equal(wl_mac_hex_check(key, "mode=audit\n", 11, bad), -EBADMSG);
	assert_int_equal(wl_mac_hex_check(key, "mode=audit\n", 11, ""), -EBADMSG);
	key[0] ^= 1;
	assert_int_equal(wl_mac_hex_check(key, "mode=audit\n", 11, want), -EBADMSG);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_create_load),    T(test_create_exists),
	    T(test_random),         T(test_load_missing),
	    T(test_load_bad_files), T(test_load_not_regular),
	    T(test_load_owner),     T(test_create_bad_parent),
	    T(test_mkparents),      cmocka_unit_test(test_mac_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
