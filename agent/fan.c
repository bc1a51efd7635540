/* fan.c - the fanotify group (fan_fd), its reader thread, the responses and
 * the marks: the kernel interface of the exec gate, and nothing of its
 * policy (exec.c decides; the reader hands each event to fan_ops). fan_fd
 * is opened and closed by the main thread; the reader reads it; every
 * thread writes responses to it and calls fanotify_mark() on it (single
 * syscalls the kernel serialises). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <syslog.h>
#include <unistd.h>

#include "decide.h"
#include "fan.h"
#include "log.h"
#include "notify.h"
#include "stats.h"

static int fan_fd = -1;
static int fan_stop_fd = -1;
static bool fan_audit;
static pthread_t fan_thread;
static bool fan_running;
static atomic_uint_least64_t fan_heartbeat;
static struct fan_ops fan_ops;

#define FAN_BASE_FLAGS                                                                             \
	(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS)
#define FAN_EVENT_FLAGS (O_RDONLY | O_LARGEFILE | O_CLOEXEC)

int fan_init(void)
{
	fan_fd = fanotify_init(FAN_BASE_FLAGS | FAN_ENABLE_AUDIT, FAN_EVENT_FLAGS);
	fan_audit = fan_fd >= 0;
	/* FAN_ENABLE_AUDIT: EINVAL on kernels without it, EPERM without
	 * CAP_AUDIT_WRITE. Denies are still logged through log.c. */
	if (fan_fd < 0 && (errno == EINVAL || errno == EPERM))
		fan_fd = fanotify_init(FAN_BASE_FLAGS, FAN_EVENT_FLAGS);
	if (fan_fd < 0)
		return -errno;
	fan_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fan_stop_fd < 0)
		goto close_group;
	if (!fan_audit)
		log_msg(LOG_WARNING, "fanotify group without FAN_ENABLE_AUDIT: responses carry no"
		                     " FAN_AUDIT; denies are logged by hmilockd only");
	return 0;
close_group:
	close(fan_fd);
	fan_fd = -1;
	return -errno;
}

bool fan_audit_supported(void)
{
	return fan_audit;
}

uint64_t fan_reader_heartbeat(void)
{
	return atomic_load_explicit(&fan_heartbeat, memory_order_relaxed);
}

int fan_mark_mount(const char *path)
{
	if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_MOUNT | FAN_MARK_DONT_FOLLOW,
	                  FAN_OPEN_EXEC_PERM, AT_FDCWD, path) < 0)
		return -errno;
	return 0;
}

int fan_mark_fs(const char *path, const char **kind)
{
	if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM | FAN_MARK_DONT_FOLLOW,
	                  FAN_OPEN_EXEC_PERM, AT_FDCWD, path) == 0) {
		*kind = "filesystem";
		return 0;
	}
	/* Refused for this superblock (no fsid, idmapped or special mount,
	 * older kernel): the mount alone is still worth having. */
	if (errno != EINVAL && errno != EXDEV && errno != ENODEV && errno != EOPNOTSUPP)
		return -errno;
	*kind = "mount";
	return fan_mark_mount(path);
}

int fan_flush_ignores(void)
{
	/* FAN_MARK_FLUSH flushes one mark type; without MOUNT/FILESYSTEM it
	 * is the inode marks: ignore masks and close-write watches only. */
	if (fanotify_mark(fan_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL) < 0)
		return -errno;
	return 0;
}

/* Path of an event fd. 0 and *resolved true when it names a live file. */
int fan_fd_path(int fd, const struct stat *st, char *path, size_t len, bool *resolved)
{
	static const char del[] = " (deleted)";
	char proc[64];
	ssize_t n;
	size_t dl = sizeof(del) - 1;
	struct stat lst;

	*resolved = false;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, path, len - 1);
	if (n < 0) {
		path[0] = 0;
		return -errno;
	}
	path[n] = 0;
	if ((size_t)n == len - 1 || path[0] != '/')
		return 0; /* truncated, or not a path (memfd, anon inode) */
	if ((size_t)n > dl && !strcmp(path + n - dl, del)) {
		/* Unlinked - or a file really named "... (deleted)". Only the
		 * worker (st given) may look, with lstat, which it is. */
		if (!st || st->st_nlink == 0 || lstat(path, &lst) < 0 || lst.st_dev != st->st_dev ||
		    lst.st_ino != st->st_ino)
			return 0;
	}
	*resolved = true;
	return 0;
}

static uint32_t fan_response(enum hmd_verdict v)
{
	switch (v) {
	case HMD_V_DENY:
		return FAN_DENY | (fan_audit ? FAN_AUDIT : 0);
	case HMD_V_WOULD_DENY:
		return FAN_ALLOW | (fan_audit ? FAN_AUDIT : 0);
	case HMD_V_ALLOW:
	default:
		return FAN_ALLOW;
	}
}

static void fan_write_response(int fd, uint32_t resp)
{
	struct fanotify_response r = {.fd = fd, .response = resp};
	ssize_t n;

	do
		n = write(fan_fd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	/* ENOENT: the waiting task was killed, the event is gone already. */
	if (n != (ssize_t)sizeof(r) && !(n < 0 && errno == ENOENT)) {
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR, "fanotify response for fd %d failed: %s", fd,
		        n < 0 ? strerror(errno) : "short write");
	}
}

void fan_respond(int fd, enum hmd_verdict v)
{
	fan_write_response(fd, fan_response(v));
}

/* Place a close-write watch, then the ignore mark, on the fd's inode. */
int fan_ignore_add(int fd)
{
	if (fanotify_mark(fan_fd, FAN_MARK_ADD, FAN_CLOSE_WRITE, fd, NULL) < 0 ||
	    fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM, fd,
	                  NULL) < 0)
		return -errno;
	return 0;
}

void fan_ignore_remove(int fd)
{
	/* ENOENT when a write() already cleared it: fine. */
	fanotify_mark(fan_fd, FAN_MARK_REMOVE | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM, fd,
	              NULL);
}

static void fan_events(const char *buf, ssize_t len)
{
	const struct fanotify_event_metadata *m = (const void *)buf;

	for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
		if (m->vers != FANOTIFY_METADATA_VERSION) {
			/* Cannot happen with a kernel that accepted our flags;
			 * do not guess at a layout we do not know. */
			log_msg(LOG_CRIT, "fanotify metadata version %u, expected %u", m->vers,
			        FANOTIFY_METADATA_VERSION);
			return;
		}
		if (m->mask & FAN_Q_OVERFLOW) {
			atomic_fetch_add(&hmd_stats.errors, 1);
			log_msg(LOG_ERR, "fanotify queue overflow (notification events lost)");
			continue;
		}
		if (m->fd < 0)
			continue;
		if (m->mask & FAN_OPEN_EXEC_PERM) {
			atomic_fetch_add_explicit(&hmd_stats.events, 1, memory_order_relaxed);
			fan_ops.perm(m->fd, m->pid); /* the fd is the handler's now */
			continue;
		}
		if (m->mask & FAN_CLOSE_WRITE)
			fan_ops.close_write(m->fd);
		close(m->fd);
	}
}

static void fan_read(void)
{
	char buf[8192] __attribute__((aligned(8)));
	ssize_t len;

	len = read(fan_fd, buf, sizeof(buf));
	if (len > 0) {
		fan_events(buf, len);
		return;
	}
	if (len < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EMFILE/ENFILE: the kernel has denied the events it could not give
	 * us an fd for. Count and say so loudly. */
	atomic_fetch_add(&hmd_stats.errors, 1);
	log_msg(LOG_ERR, "reading fanotify events: %s", len < 0 ? strerror(errno) : "EOF");
	if (len < 0 && (errno == EMFILE || errno == ENFILE))
		usleep(1000);
}

static void *fan_reader(void *arg)
{
	struct pollfd pfd[2] = {{.fd = fan_fd, .events = POLLIN},
	                        {.fd = fan_stop_fd, .events = POLLIN}};

	(void)arg;
	pthread_setname_np(pthread_self(), "hmilockd-fan");
	for (;;) {
		atomic_store_explicit(&fan_heartbeat, stats_now_ns(), memory_order_relaxed);
		notify_watchdog();
		/* The timeout keeps the watchdog fed when no exec happens. */
		if (poll(pfd, 2, 1000) < 0) {
			if (errno != EINTR)
				log_msg(LOG_ERR, "fanotify reader poll: %s", strerror(errno));
			continue;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN)
			fan_read();
	}
	return NULL;
}

int fan_start(const struct fan_ops *ops)
{
	fan_ops = *ops;
	int rc = pthread_create(&fan_thread, NULL, fan_reader, NULL);

	if (rc)
		return -rc;
	fan_running = true;
	return 0;
}

void fan_stop(void)
{
	uint64_t one = 1;

	if (!fan_running)
		return;
	if (write(fan_stop_fd, &one, sizeof(one)) != sizeof(one))
		log_msg(LOG_ERR, "cannot stop the fanotify reader: %s", strerror(errno));
	pthread_join(fan_thread, NULL);
	fan_running = false;
}

void fan_fini(void)
{
	/* Closing the group answers every event still pending in the kernel
	 * with allow: the fanotify-only failure mode, also after SIGKILL. */
	if (fan_fd >= 0)
		close(fan_fd);
	if (fan_stop_fd >= 0)
		close(fan_stop_fd);
	fan_fd = fan_stop_fd = -1;
}
