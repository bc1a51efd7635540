/* fixture.h - the temporary directory of a unit test, shared by every
 * tests/unit/test_*.c that touches files: fx_mkdir makes /tmp/NAME.XXXXXX,
 * fx_rmtree removes it with everything below it (through directory fds, so
 * trees deeper than PATH_MAX go too; never across a mount point, never
 * following a symlink), fx_setup/fx_teardown do both for cmocka with a
 * struct fx_dir as the test's state. Header only: one test binary is one
 * file. The directory belongs to the test that made it. */
#ifndef HMILOCK_TEST_FIXTURE_H
#define HMILOCK_TEST_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FX_DIR_LEN 64 /* "/tmp/" + a test name + ".XXXXXX" */
#define FX_PATH (FX_DIR_LEN + 256) /* a file in it */

struct fx_dir {
	char dir[FX_DIR_LEN];
};

/* The first len - 1 bytes of path into buf, NUL-terminated: how many, or -1. */
static inline ssize_t fx_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* dir gets a new, empty /tmp/NAME.XXXXXX (mode 0700): 0 or -1. */
static inline int fx_mkdir(char dir[FX_DIR_LEN], const char *name)
{
	if (snprintf(dir, FX_DIR_LEN, "/tmp/%s.XXXXXX", name) >= FX_DIR_LEN)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

/* Remove name (in directory dfd) and what is below it; dev is the device of
 * the tree: a directory on another one (a mount point) is left and fails. */
static inline int fx_rm_at(int dfd, const char *name, dev_t dev)
{
	struct dirent *de;
	struct stat st;
	int fd, rc = 0;
	DIR *d;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0);
	if (st.st_dev != dev)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rc |= fx_rm_at(dirfd(d), de->d_name, dev);
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR) | rc;
}

/* Remove dir and everything below it on its own filesystem: 0 or -1. */
static inline int fx_rmtree(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return fx_rm_at(AT_FDCWD, dir, st.st_dev);
}

/* out = dir/name (FX_PATH bytes); fails the test when it does not fit. */
static inline void fx_path(char out[FX_PATH], const char *dir, const char *name)
{
	if (snprintf(out, FX_PATH, "%s/%s", dir, name) >= FX_PATH)
		abort();
}

/* cmocka setup/teardown: *state is a struct fx_dir, named after the test
 * binary. */
static inline int fx_setup(void **state)
{
	struct fx_dir *t = calloc(1, sizeof(*t));

	if (!t || fx_mkdir(t->dir, program_invocation_short_name) < 0) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx_dir *t = *state;
	int rc = fx_rmtree(t->dir);

	free(t);
	return rc;
}

#endif /* HMILOCK_TEST_FIXTURE_H */
