/* io.c - small I/O helpers shared by the library's writers (db.c, key.c,
 * passwd.c) and its users (wl_mkparents, wl_path_sibling, wl_fsync_dir_of,
 * wl_write_atomic).
 * Stateless; any thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "wl.h"

int io_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

bool wl_path_below(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(dir, path, n) && (path[n] == '\0' || path[n] == '/');
}

int wl_mkparents(const char *path, mode_t mode, char *failed)
{
	char dir[PATH_MAX];
	size_t len = strlen(path), i;

	if (len >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, len + 1);
	while (len > 0 && dir[len - 1] != '/')
		len--;
	dir[len] = '\0'; /* "a/b/" of "a/b/file"; "" when path has no '/' */
	for (i = 1; i <= len; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, mode) < 0 && errno != EEXIST) {
			if (failed)
				memcpy(failed, dir, i + 1);
			return -errno;
		}
		if (i < len)
			dir[i] = '/';
	}
	return 0;
}

int wl_path_sibling(const char *path, const char *name, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		return -EINVAL;
	n = snprintf(out, len, "%.*s/%s", (int)(slash - path), path, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int wl_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, ret = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path),
	                  path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int wl_write_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp); /* left by a crash; O_EXCL below */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* The exact mode, whatever the umask took away. */
	ret = fchmod(fd, mode) < 0 ? -errno : io_write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	/* The new file is in place; only its name's durability is at stake. */
	(void)wl_fsync_dir_of(path);
	return 0;
}
