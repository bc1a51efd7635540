/* io.h - small I/O helpers internal to libwhitelist (not part of wl.h). */
#ifndef HMILOCK_WL_IO_H
#define HMILOCK_WL_IO_H

#include <stddef.h>

/* write(2) all of buf, retrying on EINTR and short writes: 0 or -errno
 * (-EIO when write returns 0). */
int io_write_all(int fd, const void *buf, size_t len);

#endif /* HMILOCK_WL_IO_H */
