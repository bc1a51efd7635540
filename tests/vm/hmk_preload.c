/* hmk_preload.c - a shared object for the guest tests: when loaded with
 * HMK_MARK set in the environment, its constructor creates that file, so a
 * test can tell whether LD_PRELOAD or dlopen really mapped it. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void hmk_preload_mark(void)
{
	const char *m = getenv("HMK_MARK");
	int fd;

	if (!m)
		return;
	fd = open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

int hmk_preload_value(void);
int hmk_preload_value(void)
{
	return 42;
}
