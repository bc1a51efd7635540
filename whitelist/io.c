/* io.c - small I/O helpers shared by the library's writers (db.c, key.c)
 * and its users (wl_mkparents). Stateless; any thread. */
#include <errno.h>
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
