/* fan.c - the fanotify group (fan_fd), its reader thread, the responses and
 * the marks. fan_fd is opened and closed by the main thread; the reader
 * reads it; every thread writes responses to it and calls fanotify_mark()
 * on it (single syscalls the kernel serialises). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "decide.h"
#include "cache.h"
#include "fan.h"
#include "helper.h"
#include "list.h"
#include "log.h"
#include "notify.h"
#include "state.h"
#include "stats.h"
#include "update.h"
#include "workers.h"

/*
 * Who owns an event fd, and who may answer or close it (after fapolicyd's
 * notify.c):
 *
 *  - Each event read from fan_fd carries a new fd of the file. The reader
 *    thread owns it until it hands it on; it answers and closes it itself
 *    when the event is its own pid's, the file is not regular, fstat fails,
 *    the cache hits, or the work queue is full.
 *  - Otherwise workers_submit() moves the fd into a work item: from then on
 *    the reader must not touch it. The ONE response for it is written by
 *    whoever wins workers_claim() on the item - the worker (normal case) or
 *    the main thread's watchdog (workers_expire(): decision stuck longer
 *    than HMD_DECIDE_TIMEOUT_NS), which writes but never closes. The worker
 *    closes the fd, always, after returning the item to the pool under the
 *    pool lock, so the watchdog can never answer through a reused number.
 *  - Close-write notifications need no response: the reader drops the
 *    cache entry and the ignore mark, then closes the fd.
 *  - No one logs an event before its response has been written: the logger
 *    (or whatever it talks to) may itself be waiting on that very event.
 *  - The reader never does file I/O beyond fstat() and readlink() of
 *    /proc/self/fd/N; hashing and lookups happen on the workers.
 */

static int fan_fd = -1;
static int fan_stop_fd = -1;
static bool fan_audit;
static const struct hmd_config *fan_cfg;
static pid_t fan_self;
static pthread_t fan_thread;
static bool fan_running;
static atomic_uint_least64_t fan_heartbeat;

#define FAN_BASE_FLAGS                                                                             \
	(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS)
#define FAN_EVENT_FLAGS (O_RDONLY | O_LARGEFILE | O_CLOEXEC)

int fan_init(const struct hmd_config *cfg)
{
	fan_cfg = cfg;
	fan_self = getpid();
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
static int fan_fd_path(int fd, const struct stat *st, char *path, size_t len, bool *resolved)
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

/* Write the response, then count it. Never logs. */
static void fan_reply(int fd, const struct decide_out *out, uint64_t t0_ns)
{
	fan_write_response(fd, fan_response(out->verdict));
	stats_latency_add(stats_now_ns() - t0_ns);
	if (out->verdict == HMD_V_DENY)
		atomic_fetch_add_explicit(&hmd_stats.denied, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&hmd_stats.allowed, 1, memory_order_relaxed);
	if (out->verdict == HMD_V_WOULD_DENY)
		atomic_fetch_add_explicit(&hmd_stats.would_deny, 1, memory_order_relaxed);
	if (out->reason == HMD_R_ERROR || out->reason == HMD_R_QUEUE_FULL)
		atomic_fetch_add_explicit(&hmd_stats.on_error, 1, memory_order_relaxed);
	if (out->reason == HMD_R_QUEUE_FULL)
		atomic_fetch_add_explicit(&hmd_stats.queue_full, 1, memory_order_relaxed);
	if (out->reason == HMD_R_ERROR)
		atomic_fetch_add_explicit(&hmd_stats.errors, 1, memory_order_relaxed);
}

/* The subject's executable, read while it still waits in execve for our
 * answer (afterwards a denied child has usually exited and the logger
 * finds nothing). procfs only, no disk: done on the worker's deny path. */
static void fan_subject_exe(pid_t pid, char *out, size_t len)
{
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* After the reply only. path may be NULL: resolved through fd then; exe
 * may be NULL or "": the logger then looks it up (best effort). */
static void fan_log(int fd, pid_t pid, const struct decide_out *out, const char *path,
                    const uint8_t *sha256, const char *exe)
{
	struct hmd_event ev;
	struct timespec ts;
	bool resolved;

	memset(&ev, 0, sizeof(ev));
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ev.pid = pid;
	ev.verdict = (uint8_t)out->verdict;
	ev.reason = (uint8_t)out->reason;
	snprintf(ev.op, sizeof(ev.op), "exec");
	if (sha256) {
		ev.has_hash = 1;
		memcpy(ev.sha256, sha256, WL_SHA256_LEN);
	}
	if (path)
		snprintf(ev.path, sizeof(ev.path), "%s", path);
	else
		fan_fd_path(fd, NULL, ev.path, sizeof(ev.path), &resolved);
	if (exe)
		snprintf(ev.exe, sizeof(ev.exe), "%s", exe);
	log_event(&ev);
}

void fan_answer_error(int fd, pid_t pid, enum hmd_reason reason, uint64_t t0_ns)
{
	struct decide_out out;

	decide_verdict(state_mode(), fan_cfg->on_error, reason, &out);
	fan_reply(fd, &out, t0_ns);
	fan_log(fd, pid, &out, NULL, NULL, NULL);
}

/* ---- worker side ---------------------------------------------------------- */

/* The kernel helper checks the same exec right after our allow: a listed
 * file it does not know yet (a copy under match = hash, a file changed back)
 * must be approved there first. A no-op while the helper is inactive. */
static void fan_helper_approve(int fd, const struct decide_out *out)
{
	int rc;

	if (out->verdict != HMD_V_ALLOW || out->reason != HMD_R_LISTED)
		return;
	rc = helper_approve_fd(fd);
	if (rc < 0) {
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR, "kernel helper: cannot approve a listed file: %s", strerror(-rc));
	}
}

static bool fan_same_content_id(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Ignore mark after allowing a listed file: the kernel stops asking about
 * this inode until the file is modified. Placed without
 * FAN_MARK_IGNORED_SURV_MODIFY, so the kernel clears it on the first
 * FS_MODIFY: write(), pwrite(), copy_file_range() into it, and truncate/
 * ftruncate (notify_change with ATTR_SIZE sends FS_MODIFY too; test 28
 * checks truncate(2) by path, which opens nothing).
 *
 * Where the kernel does NOT clear it: stores through a shared writable
 * mapping (mmap MAP_SHARED + PROT_WRITE) send no fsnotify event at all.
 * What covers it here: a FAN_CLOSE_WRITE watch on the same inode, placed
 * first. A writer has to open the file for writing to map it so; when that
 * fd is closed the reader drops the cache entry and the ignore mark, and
 * the next exec is hashed again. Still open: stores through a mapping
 * that outlives the close of its fd - closed only by the kernel helper's
 * write protection of approved files (issue 4).
 *
 * An ignore mark belongs to the inode, not to a path: under match =
 * path+hash a file with a second link gets none (decide.c), but a link or
 * rename made *after* the mark keeps it, so the approved content then runs
 * from the new path too. Content, not path, is what it vouches for; the
 * kernel helper's protection of approved files closes this as well.
 *
 * A write that lands between our hash and the mark leaves no event that
 * could clear the mark, so the identity is read again after placing it and
 * the mark removed when anything moved (timestamps are fine-grained once
 * queried, so even a same-tick write shows).
 */
static void fan_ignore(int fd, const struct stat *hashed, uint64_t serial)
{
	struct stat now;

	/* Only for the list in force: a reload's flush must not miss us. */
	if (!list_hold_current(serial))
		return;
	if (fanotify_mark(fan_fd, FAN_MARK_ADD, FAN_CLOSE_WRITE, fd, NULL) < 0 ||
	    fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM, fd,
	                  NULL) < 0) {
		log_msg(LOG_WARNING, "cannot place ignore mark (next exec is checked again): %s",
		        strerror(errno));
		goto unhold;
	}
	if (fstat(fd, &now) < 0 || !fan_same_content_id(&now, hashed)) {
		fanotify_mark(fan_fd, FAN_MARK_REMOVE | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM,
		              fd, NULL);
		cache_drop_inode(hashed->st_dev, hashed->st_ino);
		goto unhold;
	}
	atomic_fetch_add_explicit(&hmd_stats.ignore_marks, 1, memory_order_relaxed);
unhold:
	list_unhold();
}

/* A trusted update (update.c) runs what it just installed: a refusal of a
 * file that the open session wrote, exec'd from inside its cgroup, becomes
 * an allow (still logged, with the reason). Only asked when refusing. */
static void fan_update_override(pid_t pid, const struct stat *st, struct decide_out *out)
{
	if (out->verdict != HMD_V_DENY || out->reason == HMD_R_ERROR ||
	    out->reason == HMD_R_QUEUE_FULL || !update_exec_allowed(pid, st))
		return;
	out->verdict = HMD_V_ALLOW;
	out->log = true;
}

/* Look the hashed file up; fills the list part of in. */
static void fan_lookup(const struct wl_db *db, const char *path, const uint8_t sha[WL_SHA256_LEN],
                       struct decide_in *in)
{
	struct wl_rec rec;

	if (in->resolved && wl_db_find_path(db, path, &rec) == 0) {
		in->path_listed = true;
		in->path_hash_eq = !memcmp(rec.sha256, sha, WL_SHA256_LEN);
	}
	if (in->match == HMD_MATCH_HASH && wl_db_find_hash(db, sha, &rec) == 0)
		in->hash_listed = true;
}

void fan_work(struct hmd_work *w)
{
	struct decide_in in = {.mode = state_mode(),
	                       .match = fan_cfg->match,
	                       .on_error = fan_cfg->on_error,
	                       .regular = true};
	struct decide_out out;
	struct hmd_list *l;
	struct wl_err err = {0};
	struct stat st = w->st;
	uint8_t sha[WL_SHA256_LEN];
	char path[PATH_MAX], exe[sizeof(((struct hmd_event *)0)->exe)] = "";
	bool answered;
	int rc;

	if (atomic_load(&w->answered))
		return; /* expired while queued */
	l = list_get();
	fan_fd_path(w->fd, &w->st, path, sizeof(path), &in.resolved);
	/* Through the event's own fd: the very file the kernel will run. */
	rc = wl_hash_fd_stable(w->fd, path, sha, &st, &err);
	in.error = rc < 0;
	in.multi_link = st.st_nlink > 1;
	if (rc == 0)
		fan_lookup(list_db(l), path, sha, &in);
	decide(&in, &out);
	fan_update_override(w->pid, &st, &out);
	fan_helper_approve(w->fd, &out);
	if (out.log)
		fan_subject_exe(w->pid, exe, sizeof(exe));
	answered = workers_claim(w);
	if (answered)
		fan_reply(w->fd, &out, w->t0_ns);
	if (rc == 0 && out.cache) {
		struct cache_key k;
		struct cache_val v = {.reason = (uint8_t)out.reason};
		uint64_t ph =
		    in.multi_link && in.match == HMD_MATCH_PATH_HASH ? cache_path_hash(path) : 0;

		cache_key_from_stat(&k, &st, list_serial(l), ph);
		cache_insert(&k, &v);
	}
	if (rc == 0 && out.ignore)
		fan_ignore(w->fd, &st, list_serial(l));
	list_put(l);
	if (rc < 0)
		log_msg(LOG_ERR, "cannot hash %s for pid %d: %s", path, (int)w->pid, err.msg);
	if (answered && out.log)
		fan_log(w->fd, w->pid, &out, path, rc == 0 ? sha : NULL, exe);
}

/* ---- reader side ---------------------------------------------------------- */

/* Answer from the cache. true when it hit (answered and logged). */
static bool fan_try_cache(int fd, pid_t pid, const struct stat *st, uint64_t t0)
{
	struct cache_key k;
	struct cache_val v;
	struct decide_out out;
	char path[PATH_MAX];
	bool resolved, have_path = false;
	uint64_t ph = 0;

	/* A multiply linked inode under path+hash: the path is in the key. */
	if (st->st_nlink > 1 && fan_cfg->match == HMD_MATCH_PATH_HASH) {
		fan_fd_path(fd, NULL, path, sizeof(path), &resolved);
		ph = cache_path_hash(path);
		have_path = true;
	}
	cache_key_from_stat(&k, st, list_current_serial(), ph);
	if (!cache_lookup(&k, &v)) {
		atomic_fetch_add_explicit(&hmd_stats.cache_misses, 1, memory_order_relaxed);
		return false;
	}
	atomic_fetch_add_explicit(&hmd_stats.cache_hits, 1, memory_order_relaxed);
	decide_verdict(state_mode(), fan_cfg->on_error, v.reason, &out);
	fan_update_override(pid, st, &out);
	fan_helper_approve(fd, &out);
	fan_reply(fd, &out, t0);
	if (out.log)
		fan_log(fd, pid, &out, have_path ? path : NULL, NULL, NULL);
	return true;
}

static void fan_perm(const struct fanotify_event_metadata *m)
{
	uint64_t t0 = stats_now_ns();
	struct decide_out out;
	struct stat st;
	int fd = m->fd;

	atomic_fetch_add_explicit(&hmd_stats.events, 1, memory_order_relaxed);
	if (m->pid == fan_self) {
		/* We never exec; whatever this is, we must not wait on it. */
		fan_write_response(fd, FAN_ALLOW);
		atomic_fetch_add_explicit(&hmd_stats.self_allowed, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&hmd_stats.allowed, 1, memory_order_relaxed);
		goto close_fd;
	}
	/* During a trusted update, note whether the exec'ing process is in
	 * the update cgroup while it is alive and blocked: its writes can be
	 * placed even when read after it was reaped (update.c). One read of
	 * /proc/<pid>/cgroup, only while a session is open. */
	if (update_active())
		(void)update_pid_member(m->pid);
	if (fstat(fd, &st) < 0) {
		fan_answer_error(fd, m->pid, HMD_R_ERROR, t0);
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		struct decide_in in = {
		    .mode = state_mode(), .match = fan_cfg->match, .on_error = fan_cfg->on_error};

		decide(&in, &out);
		fan_reply(fd, &out, t0);
		fan_log(fd, m->pid, &out, NULL, NULL, NULL);
		goto close_fd;
	}
	if (fan_try_cache(fd, m->pid, &st, t0))
		goto close_fd;
	if (workers_submit(fd, m->pid, &st, t0) == 0)
		return; /* the fd is the worker's now */
	fan_answer_error(fd, m->pid, HMD_R_QUEUE_FULL, t0);
close_fd:
	close(fd);
}

/* A listed file we allowed was closed after being open for writing. */
static void fan_close_write(int fd)
{
	struct stat st;
	char path[PATH_MAX];
	bool resolved;

	if (fstat(fd, &st) == 0) {
		cache_drop_inode(st.st_dev, st.st_ino);
		helper_forget(st.st_dev, st.st_ino);
	}
	/* ENOENT when a write() already cleared it: fine. */
	fanotify_mark(fan_fd, FAN_MARK_REMOVE | FAN_MARK_IGNORED_MASK, FAN_OPEN_EXEC_PERM, fd,
	              NULL);
	fan_fd_path(fd, NULL, path, sizeof(path), &resolved);
	log_msg(LOG_NOTICE, "approved file written: %s (its next exec is checked again)", path);
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
			fan_perm(m);
			continue;
		}
		if (m->mask & FAN_CLOSE_WRITE)
			fan_close_write(m->fd);
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

int fan_start(void)
{
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
