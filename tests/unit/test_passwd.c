/* test_passwd.c - unit tests for whitelist/passwd.c: set/verify/wrong/none,
 * the file (one line, mode 0600, a fresh salt each time), remove, and the
 * refusals (empty or long password, unsafe mode, not a file, garbage and
 * out-of-range parameters). Each test works in its own temporary directory (fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "wl.h"

struct tdir {
	char dir[FX_DIR_LEN], pw[128];
};

static int setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	if (fx_mkdir(t->dir, "test_passwd") < 0) {
		free(t);
		return -1;
	}
	snprintf(t->pw, sizeof(t->pw), "%s/admin.pass", t->dir);
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

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, (int)len, f));
	fclose(f);
}

static void write_line(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_set_verify(void **state)
{
	struct tdir *t = *state;
	struct wl_err err = {0};
	char l1[512], l2[512];
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(wl_passwd_exists(t->pw, &err), -ENOENT);
	assert_int_equal(wl_passwd_verify(t->pw, "x", &err), -ENOENT);
	assert_int_equal(wl_passwd_set(t->pw, "s3cret pass", &err), 0);
	umask(old);
	assert_int_equal(stat(t->pw, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(wl_passwd_exists(t->pw, &err), 0);
	assert_int_equal(wl_passwd_verify(t->pw, "s3cret pass", &err), 0);
	assert_int_equal(wl_passwd_verify(t->pw, "s3cret pas", &err), -EACCES);
	assert_int_equal(wl_passwd_verify(t->pw, "s3cret pass ", &err), -EACCES);
	assert_int_equal(wl_passwd_verify(t->pw, "", &err), -EACCES);
	assert_non_null(strstr(err.msg, "wrong"));
	/* one line, scrypt$N$r$p$salt$hash; the password is not in it */
	read_line(t->pw, l1, sizeof(l1));
	assert_int_equal(strncmp(l1, "scrypt$", 7), 0);
	assert_null(strstr(l1, "s3cret"));
	assert_int_equal(l1[strlen(l1) - 1], '\n');
	/* same password again: a fresh salt, so another line, still verifies */
	assert_int_equal(wl_passwd_set(t->pw, "s3cret pass", &err), 0);
	read_line(t->pw, l2, sizeof(l2));
	assert_string_not_equal(l1, l2);
	assert_int_equal(wl_passwd_verify(t->pw, "s3cret pass", &err), 0);
	/* bound to one inode (agent/anchor.c): a file put in its place, or
	 * mounted over it, with a password root knows is refused */
	assert_int_equal(stat(t->pw, &st), 0);
	assert_int_equal(wl_passwd_verify_id(t->pw, st.st_dev, st.st_ino, "s3cret pass", &err), 0);
	assert_int_equal(wl_passwd_verify_id(t->pw, st.st_dev, st.st_ino, "wrong", &err), -EACCES);
	assert_int_equal(wl_passwd_set(t->pw, "root knows", &err), 0); /* a new inode */
	assert_int_equal(wl_passwd_verify_id(t->pw, st.st_dev, st.st_ino, "root knows", &err),
	                 -ESTALE);
	assert_non_null(strstr(err.msg, "not the one hmilock was locked with"));
	/* change, remove */
	assert_int_equal(wl_passwd_set(t->pw, "other", &err), 0);
	assert_int_equal(wl_passwd_verify(t->pw, "s3cret pass", &err), -EACCES);
	assert_int_equal(wl_passwd_verify(t->pw, "other", &err), 0);
	assert_int_equal(wl_passwd_remove(t->pw, &err), 0);
	assert_int_equal(wl_passwd_verify(t->pw, "other", &err), -ENOENT);
	assert_int_equal(wl_passwd_remove(t->pw, &err), -ENOENT);
}

static void test_bad_passwords(void **state)
{
	struct tdir *t = *state;
	struct wl_err err = {0};
	char longpw[WL_PASSWD_MAX + 2];

	assert_int_equal(wl_passwd_set(t->pw, "", &err), -EINVAL);
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(wl_passwd_set(t->pw, longpw, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "longer"));
	assert_int_equal(wl_passwd_exists(t->pw, &err), -ENOENT); /* nothing written */
	longpw[WL_PASSWD_MAX] = '\0';
	assert_int_equal(wl_passwd_set(t->pw, longpw, &err), 0);
	assert_int_equal(wl_passwd_verify(t->pw, longpw, &err), 0);
}

/* wl_passwd_read_file: the first line of an owner-only regular file; what
 * else it is given is refused, naming the file. */
static void test_read_file(void **state)
{
	struct tdir *t = *state;
	struct wl_err err = {0};
	char buf[WL_PASSWD_MAX + 1], longline[300];

	write_line(t->pw, "s3cret pass\r\nsecond line\n", 0600);
	assert_int_equal(wl_passwd_read_file(t->pw, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "s3cret pass");
	write_line(t->pw, "no newline", 0600);
	assert_int_equal(wl_passwd_read_file(t->pw, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "no newline");
	write_line(t->pw, "s3cret\n", 0640);
	assert_int_equal(wl_passwd_read_file(t->pw, buf, sizeof(buf), &err), -EPERM);
	assert_non_null(strstr(err.msg, "only its owner may read"));
	assert_non_null(strstr(err.msg, t->pw));
	write_line(t->pw, "\nsecond line\n", 0600);
	assert_int_equal(wl_passwd_read_file(t->pw, buf, sizeof(buf), &err), -ENODATA);
	assert_non_null(strstr(err.msg, "empty"));
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	write_line(t->pw, longline, 0600);
	assert_int_equal(wl_passwd_read_file(t->pw, buf, sizeof(buf), &err), -EMSGSIZE);
	assert_non_null(strstr(err.msg, "longer than 127 bytes"));
	/* exactly 127 bytes fit */
	longline[WL_PASSWD_MAX] = '\0';
	write_line(t->pw, longline, 0600);
	assert_int_equal(wl_passwd_read_file(t->pw, buf, sizeof(buf), &err), 0);
	assert_int_equal(strlen(buf), WL_PASSWD_MAX);
	unlink(t->pw);
	assert_int_equal(wl_passwd_read_file(t->pw, buf, sizeof(buf), &err), -ENOENT);
	assert_non_null(strstr(err.msg, t->pw));
}

/* A file that does not parse or is unsafe is an error, never a match. */
static void test_bad_files(void **state)
{
	static const struct {
		const char *line;
		int want;
	} cases[] = {
	    {"", -EINVAL},
	    {"garbage\n", -EINVAL},
	    {"pbkdf2$1$2$3$00$00\n", -EINVAL},
	    {"scrypt$1000$8$1$00112233445566778899aabbccddeeff$", -EINVAL}, /* N not 2^k */
	    {"scrypt$512$8$1$00112233445566778899aabbccddeeff$", -EINVAL}, /* N too small */
	    {"scrypt$16384$0$1$00112233445566778899aabbccddeeff$", -EINVAL},
	    {"scrypt$16384$8$1$0011$0011\n", -EINVAL}, /* short salt */
	    {"scrypt$16384$8$1$00112233445566778899aabbccddeeff$zz\n", -EINVAL},
	    {"scrypt$16384$8$1$00112233445566778899aabbccddeeff$"
	     "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
	     -EACCES}, /* well-formed, just not this password */
	};
	struct tdir *t = *state;
	struct wl_err err = {0};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu\n", i);
		write_line(t->pw, cases[i].line, 0600);
		assert_int_equal(wl_passwd_verify(t->pw, "pw", &err), cases[i].want);
		if (cases[i].want == -EINVAL) {
			assert_int_equal(err.kind, WL_E_CORRUPT);
			assert_non_null(strstr(err.msg, t->pw));
		}
	}
	/* group- or world-writable: refused even with the right password */
	assert_int_equal(wl_passwd_set(t->pw, "pw", &err), 0);
	assert_int_equal(chmod(t->pw, 0620), 0);
	assert_int_equal(wl_passwd_verify(t->pw, "pw", &err), -EPERM);
	assert_int_equal(err.kind, WL_E_KEY);
	assert_int_equal(chmod(t->pw, 0600), 0);
	assert_int_equal(wl_passwd_verify(t->pw, "pw", &err), 0);
	/* a symlink or a directory is not a password file */
	assert_int_equal(unlink(t->pw), 0);
	assert_int_equal(symlink("/etc/hostname", t->pw), 0);
	assert_true(wl_passwd_verify(t->pw, "pw", &err) < 0);
	assert_int_not_equal(wl_passwd_verify(t->pw, "pw", &err), -ENOENT);
	assert_int_equal(unlink(t->pw), 0);
	assert_int_equal(mkdir(t->pw, 0700), 0);
	assert_int_equal(wl_passwd_verify(t->pw, "pw", &err), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_set_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_passwords, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
