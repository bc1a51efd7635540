/* proc.c - reads of /proc/<pid> for other processes: their uids (the exec
 * gate's subject, the recorder's writer) and start times (the updater of a
 * trusted update). Any thread; no state. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

/* /proc/<pid>/<name> into buf (NUL-terminated): 0 or -errno. */
static int proc_read(pid_t pid, const char *name, char *buf, size_t len)
{
	char file[48];
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "/proc/%d/%s", (int)pid, name);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return 0;
}

int proc_uids(pid_t pid, uint32_t uids[PROC_UIDS])
{
	char buf[2048], *p;
	unsigned long u[PROC_UIDS];
	int i, rc = proc_read(pid, "status", buf, sizeof(buf));

	if (rc)
		return rc;
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != PROC_UIDS)
		return -EBADMSG;
	for (i = 0; i < PROC_UIDS; i++)
		uids[i] = (uint32_t)u[i];
	return 0;
}

int proc_start_time(pid_t pid, uint64_t *start)
{
	char buf[1024], *p;
	unsigned long long t;
	int rc = proc_read(pid, "stat", buf, sizeof(buf));

	if (rc)
		return rc;
	/* the name (field 2) may hold anything but ends at the last ')'; then
	 * state is field 3 and starttime field 22 */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
	                 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
	                 "%*d %*d %*d %llu",
	                 &t) != 1)
		return -EBADMSG;
	*start = t;
	return 0;
}
