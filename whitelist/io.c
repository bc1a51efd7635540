/* io.c - small I/O helpers shared by the library's writers (db.c, key.c).
 * Stateless; any thread. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "io.h"

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
