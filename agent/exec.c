/* exec.c - the decision for one exec, in one place: what the fanotify
 * reader does with a permission event (its own pid, a non-regular file, a
 * cache hit, or hand-off to the pool), how a worker triages a miss (listed
 * and unchanged: now; too large to be listed: refused unhashed; else the
 * slow lane, under the subject's uid - see workers.c), what it does with
 * it (hash through the event's fd, look up, decide(), approve in the
 * kernel, reply, remember, ignore mark), the watchdog's on_error answer,
 * and the reaction to a list reload. The rule itself is decide()
 * (whitelist/decide.c); this file owns no fd and no state but the
 * configuration pointer, its own pid and fs.protected_hardlinks as read at
 * start: event fds are lent to it by fan.c and the pool. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "decide.h"
#include "exec.h"
#include "fan.h"
#include "helper.h"
#include "list.h"
#include "log.h"
#include "proc.h"
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

static const struct hmd_config *exec_cfg;
static pid_t exec_self;
static bool exec_protected_hardlinks; /* fs.protected_hardlinks = 1 at start */

/* Write the response, then count it. Never logs. */
static void exec_reply(int fd, const struct decide_out *out, uint64_t t0_ns)
{
	fan_respond(fd, out->verdict);
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
static void exec_subject_exe(pid_t pid, char *out, size_t len)
{
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* The real uid of a process; -1 when it cannot be read (the process is
 * gone: it waits on us, so rarely). */
static uid_t exec_subject_uid(pid_t pid)
{
	uint32_t u[PROC_UIDS];

	return proc_uids(pid, u) ? (uid_t)-1 : (uid_t)u[PROC_UID_REAL];
}

/* Who asked, read while it still waits for our answer: once answered it
 * may be gone at once (a refused exec fails fast), and /proc with it. */
struct exec_subject {
	char exe[sizeof(((struct hmd_event *)0)->exe)];
	uint32_t uid;
	bool has_uid;
};

static void exec_subject_read(pid_t pid, struct exec_subject *s)
{
	uid_t u = exec_subject_uid(pid);

	exec_subject_exe(pid, s->exe, sizeof(s->exe));
	s->has_uid = u != (uid_t)-1;
	s->uid = s->has_uid ? (uint32_t)u : 0;
}

/* After the reply only. path may be NULL: resolved through fd then; who:
 * read before the reply (exec_subject_read; an exe of "" is looked up by
 * the logger, best effort). */
static void exec_log(int fd, pid_t pid, const struct decide_out *out, const char *path,
                     const uint8_t *sha256, const struct exec_subject *who)
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
	ev.uid = who->uid;
	ev.has_uid = who->has_uid;
	snprintf(ev.op, sizeof(ev.op), "exec");
	if (sha256) {
		ev.has_hash = 1;
		memcpy(ev.sha256, sha256, WL_SHA256_LEN);
	}
	if (path)
		snprintf(ev.path, sizeof(ev.path), "%s", path);
	else
		fan_fd_path(fd, NULL, ev.path, sizeof(ev.path), &resolved);
	snprintf(ev.exe, sizeof(ev.exe), "%s", who->exe);
	log_event(&ev);
}

static void exec_answer_error(int fd, pid_t pid, enum hmd_reason reason, uint64_t t0_ns)
{
	struct exec_subject who;
	struct decide_out out;

	decide_verdict(state_mode(), exec_cfg->on_error, reason, &out);
	exec_reply(fd, &out, t0_ns);
	/* after the answer: this is the overloaded path (queue full), where
	 * the reader must not wait on /proc; best effort */
	exec_subject_read(pid, &who);
	exec_log(fd, pid, &out, NULL, NULL, &who);
}

/* ---- worker side ---------------------------------------------------------- */

/* decide() says when the kernel helper must know the inode before our
 * allow (it checks the same exec right after). A no-op while inactive. */
static void exec_helper_approve(int fd, const struct decide_out *out)
{
	int rc;

	if (!out->approve)
		return;
	rc = helper_approve_fd(fd);
	if (rc < 0) {
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR, "kernel helper: cannot approve a listed file: %s", strerror(-rc));
	}
}

static bool exec_same_content_id(const struct stat *a, const struct stat *b)
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
 * path+hash a file with a second link gets none unless every link is
 * listed and only root can add one (exec_links_listed), but a link (by
 * root) or a rename made *after* the mark keeps it, so the approved content
 * then runs from the new path too. Content, not path, is what it vouches
 * for; the kernel helper's protection of approved files closes this as
 * well.
 *
 * A write that lands between our hash and the mark leaves no event that
 * could clear the mark, so the identity is read again after placing it and
 * the mark removed when anything moved (timestamps are fine-grained once
 * queried, so even a same-tick write shows).
 */
static void exec_ignore(int fd, const struct stat *hashed, uint64_t serial)
{
	struct stat now;
	int rc;

	/* Only for the list in force: a reload's flush must not miss us. */
	if (!list_hold_current(serial))
		return;
	rc = fan_ignore_add(fd);
	if (rc < 0) {
		log_msg(LOG_WARNING, "cannot place ignore mark (next exec is checked again): %s",
		        strerror(-rc));
		goto unhold;
	}
	if (fstat(fd, &now) < 0 || !exec_same_content_id(&now, hashed)) {
		fan_ignore_remove(fd);
		cache_drop_inode(hashed->st_dev, hashed->st_ino);
		goto unhold;
	}
	atomic_fetch_add_explicit(&hmd_stats.ignore_marks, 1, memory_order_relaxed);
unhold:
	list_unhold();
}

/*
 * Is the file open for writing by anyone (a write fd, or a shared writable
 * mapping, which holds one)? A read lease is refused with EAGAIN exactly
 * then (fs/locks.c, check_conflicting_open), so one is taken and dropped at
 * once. At this point of an exec the kernel has not denied write access
 * yet (that follows our answer), so a writer's fd is still counted: a user
 * who opens a copy of a listed program for writing and execs it would have
 * it approved and then rewrite it through that fd. 1: writers, 0: none,
 * -errno: cannot tell (no leases on this filesystem).
 */
static int exec_writers(int fd)
{
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		fcntl(fd, F_SETLEASE, F_UNLCK);
		return 0;
	}
	return errno == EAGAIN ? 1 : -errno;
}

/* A listed file with a writer runs (the kernel then refuses the exec with
 * ETXTBSY anyway) but is not approved in the helper, cached or given an
 * ignore mark: what was hashed may not be what runs next. */
static void exec_refuse_trust(int fd, const char *path, pid_t pid, struct decide_out *out)
{
	if (out->reason != HMD_R_LISTED || exec_writers(fd) <= 0)
		return;
	out->approve = out->cache = out->ignore = false;
	log_msg(LOG_WARNING,
	        "%s (exec by pid %d) is open for writing: not approved, not cached (what was "
	        "hashed may not be what runs)",
	        path, (int)pid);
}

/* Is the file hmilockd reaches at path (in its own mount namespace) another
 * inode than st? A path that does not resolve here counts as another. */
static bool exec_path_elsewhere(const char *path, const struct stat *st)
{
	struct stat here;

	if (stat(path, &here) < 0)
		return true;
	return here.st_dev != st->st_dev || here.st_ino != st->st_ino;
}

/*
 * May a multiply linked inode get an ignore mark under match = path+hash?
 * The mark is per inode: once it is placed, an exec through ANY link of
 * the inode runs without asking us. That is right only when every path
 * that leads to the inode is one the list approves for this very content,
 * now and later:
 *  1. every existing link is a listed path with this hash: the entries
 *     recorded with this inode (list_links) whose path still leads to it
 *     (lstat: same device and inode) and whose hash is this one number
 *     exactly st_nlink - there is no link the list does not approve;
 *  2. no one but root can add a link after the mark (a link does not clear
 *     the mark: it changes the inode's ctime, which sends no FS_MODIFY):
 *     fs.protected_hardlinks = 1 lets only the owner, or a user who may
 *     both read and write the file, link it, and the file is owned by root
 *     and writable by neither group nor others (CAP_FOWNER inside a user
 *     namespace does not count: root's uid is not mapped there). Root is
 *     trusted with the box anyway (it could as well list the new path).
 * Anything else - a user's own file, a writable one, protected_hardlinks
 * off, a link the list does not name (an unlisted link a user cannot make
 * but root made), an entry recorded before the file was replaced - keeps
 * the old rule: no mark, every exec asks, and the path is part of the
 * cache key, so a link at an unlisted path is refused there (test 44).
 * Cost: one binary search and st_nlink lstat()s, on a cold decision only.
 */
static bool exec_links_listed(const struct hmd_list *l, const uint8_t *sha, const struct stat *st)
{
	size_t first, n, i, found = 0;
	struct stat lst;
	struct wl_rec r;

	if (!exec_protected_hardlinks || st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)))
		return false;
	n = list_links(l, st->st_dev, st->st_ino, &first);
	if (n < st->st_nlink)
		return false;
	for (i = 0; i < n; i++) {
		list_link_at(l, first + i, &r);
		if (!memcmp(r.sha256, sha, WL_SHA256_LEN) && lstat(r.path, &lst) == 0 &&
		    S_ISREG(lst.st_mode) && lst.st_dev == st->st_dev && lst.st_ino == st->st_ino)
			found++;
	}
	return found == st->st_nlink;
}

/* After decide(): the kernel helper, the one reply (for whoever wins the
 * claim), the cache, the ignore mark, the log. sha is NULL when the file
 * was not hashed. */
static void exec_finish(struct hmd_work *w, const struct decide_in *in,
                        const struct decide_out *out, const struct hmd_list *l, const char *path,
                        const uint8_t *sha, const struct stat *st)
{
	struct exec_subject who = {.exe = ""};
	bool answered;

	exec_helper_approve(w->fd, out);
	if (out->log)
		exec_subject_read(w->pid, &who);
	answered = workers_claim(w);
	if (answered)
		exec_reply(w->fd, out, w->t0_ns);
	if (!in->error && out->cache) {
		struct cache_key k;
		struct cache_val v = {.reason = (uint8_t)out->reason};
		uint64_t ph =
		    in->multi_link && in->match == HMD_MATCH_PATH_HASH ? cache_path_hash(path) : 0;

		cache_key_from_stat(&k, st, list_serial(l), ph);
		cache_insert(&k, &v);
	}
	if (!in->error && out->ignore)
		exec_ignore(w->fd, st, list_serial(l));
	if (answered && out->log)
		exec_log(w->fd, w->pid, out, path, sha, &who);
}

/* Only a refusal asks whether the open trusted update wrote the file
 * (which may read the recorder's queue and touch its journal: a worker
 * may block on a disk, the reader never). */
static void exec_update_override(const struct hmd_work *w, const struct stat *st,
                                 struct decide_in *in, struct decide_out *out)
{
	if (out->verdict == HMD_V_DENY && update_active()) {
		in->updater_wrote = update_exec_allowed(w->pid, st);
		decide(in, out);
	}
}

static void exec_in_init(struct decide_in *in)
{
	memset(in, 0, sizeof(*in));
	in->mode = (enum hmd_mode)state_mode();
	in->match = exec_cfg->match;
	in->on_error = exec_cfg->on_error;
	in->regular = true;
}

static void exec_work(struct hmd_work *w)
{
	/* Never read more than the file had when it was exec'd (a file that
	 * grows meanwhile is refused by on_error), and stop once the event is
	 * answered (the watchdog, or a stopping pool). */
	struct wl_hash_limits lim = {.max_bytes = w->st.st_size > 0 ? (uint64_t)w->st.st_size : 1,
	                             .cancel = &w->answered};
	struct decide_in in;
	struct decide_out out;
	struct hmd_list *l;
	struct wl_err err = {0};
	struct stat st = w->st;
	uint8_t sha[WL_SHA256_LEN];
	char path[PATH_MAX];
	int rc;

	exec_in_init(&in);
	l = list_get();
	fan_fd_path(w->fd, &w->st, path, sizeof(path), &in.resolved);
	/* Through the event's own fd: the very file the kernel will run. */
	rc = wl_hash_fd_stable_limited(w->fd, path, sha, &st, &lim, &err);
	in.error = rc < 0;
	in.multi_link = st.st_nlink > 1;
	if (rc == 0)
		decide_lookup(list_db(l), path, sha, &in);
	if (rc == 0 && in.multi_link && in.match == HMD_MATCH_PATH_HASH && in.path_listed &&
	    in.path_hash_eq)
		in.links_listed = exec_links_listed(l, sha, &st);
	if (in.path_listed && in.match == HMD_MATCH_PATH_HASH)
		in.path_elsewhere = exec_path_elsewhere(path, &st);
	/* (path_elsewhere, when set, already says the path leads elsewhere;
	 * without the helper nothing is asked) */
	if (rc == 0 && (!in.path_listed || in.path_elsewhere) && helper_active())
		in.layer_listed = helper_layer_approved(
		    w->fd, in.resolved && (in.path_elsewhere || exec_path_elsewhere(path, &st)));
	decide(&in, &out);
	exec_update_override(w, &st, &in, &out);
	if (rc == 0)
		exec_refuse_trust(w->fd, path, w->pid, &out);
	exec_finish(w, &in, &out, l, path, rc == 0 ? sha : NULL, &st);
	list_put(l);
	if (rc == -ECANCELED)
		log_msg(LOG_NOTICE, "hashing %s for pid %d stopped: its exec was answered already",
		        path, (int)w->pid);
	else if (rc < 0)
		log_msg(LOG_ERR, "cannot hash %s for pid %d: %s", path, (int)w->pid, err.msg);
}

/* Does a list entry still describe this very file (identity unchanged)? */
static bool exec_rec_same(const struct wl_rec *r, const struct stat *st)
{
	return r->dev == (uint64_t)st->st_dev && r->ino == (uint64_t)st->st_ino &&
	       r->size == (uint64_t)st->st_size && r->mtime_sec == st->st_mtim.tv_sec &&
	       r->mtime_nsec == (uint32_t)st->st_mtim.tv_nsec &&
	       r->ctime_sec == st->st_ctim.tv_sec && r->ctime_nsec == (uint32_t)st->st_ctim.tv_nsec;
}

/*
 * Can this file be too large to be hashed for an exec? Larger than [agent]
 * max_unlisted_size, and it cannot be on the list by its size: under
 * path+hash its path is not listed with exactly this size; under hash no
 * entry at all has it (list_has_size). A listed file is always hashed in
 * full; a too-large one costs a lookup, never a read.
 */
static bool exec_too_large(const struct hmd_list *l, const struct wl_rec *rec,
                           const struct stat *st)
{
	uint64_t size = (uint64_t)st->st_size;

	if (size <= exec_cfg->max_unlisted_size || (rec && rec->size == size))
		return false;
	return exec_cfg->match == HMD_MATCH_PATH_HASH || !list_has_size(l, size);
}

/* Refuse a too-large file without hashing it (answered, cached, logged). */
static void exec_refuse_large(struct hmd_work *w, const struct hmd_list *l, const char *path,
                              bool resolved)
{
	struct decide_in in;
	struct decide_out out;

	exec_in_init(&in);
	in.resolved = resolved;
	in.multi_link = w->st.st_nlink > 1;
	in.too_large = true;
	decide(&in, &out);
	/* What an open trusted update installed runs, however large. */
	exec_update_override(w, &w->st, &in, &out);
	exec_finish(w, &in, &out, l, path, NULL, &w->st);
}

/* The intake's question, asked by a worker before any hashing (workers.c
 * says why): a path lookup, an identity compare, maybe the subject's uid. */
static enum workers_lane exec_triage(struct hmd_work *w)
{
	struct hmd_list *l = list_get();
	enum workers_lane lane = WORKERS_SLOW;
	char path[PATH_MAX];
	struct wl_rec rec;
	bool resolved, listed;

	fan_fd_path(w->fd, &w->st, path, sizeof(path), &resolved);
	listed = resolved && wl_db_find_path(list_db(l), path, &rec) == 0;
	if (listed && exec_rec_same(&rec, &w->st)) {
		lane = WORKERS_RUN;
	} else if (exec_too_large(l, listed ? &rec : NULL, &w->st)) {
		exec_refuse_large(w, l, path, resolved);
		lane = WORKERS_DONE;
	} else {
		w->uid = exec_subject_uid(w->pid);
	}
	list_put(l);
	return lane;
}

/* ---- reader side ---------------------------------------------------------- */

/* Answer from the cache. true when it hit (answered and logged). */
static bool exec_try_cache(int fd, pid_t pid, const struct stat *st, uint64_t t0)
{
	struct exec_subject who;
	struct cache_key k;
	struct cache_val v;
	struct decide_out out;
	char path[PATH_MAX];
	bool resolved, have_path = false;
	uint64_t ph = 0;

	/* A multiply linked inode under path+hash: the path is in the key. */
	if (st->st_nlink > 1 && exec_cfg->match == HMD_MATCH_PATH_HASH) {
		fan_fd_path(fd, NULL, path, sizeof(path), &resolved);
		ph = cache_path_hash(path);
		have_path = true;
	}
	cache_key_from_stat(&k, st, list_current_serial(), ph);
	if (!cache_lookup(&k, &v)) {
		atomic_fetch_add_explicit(&hmd_stats.cache_misses, 1, memory_order_relaxed);
		return false;
	}
	decide_verdict(state_mode(), exec_cfg->on_error, v.reason, &out);
	/* A refusal while a trusted update runs may become an allow, and
	 * telling needs the recorder (disk): that is a worker's job. */
	if (out.verdict == HMD_V_DENY && update_active()) {
		atomic_fetch_add_explicit(&hmd_stats.cache_misses, 1, memory_order_relaxed);
		return false;
	}
	atomic_fetch_add_explicit(&hmd_stats.cache_hits, 1, memory_order_relaxed);
	exec_helper_approve(fd, &out);
	if (out.log)
		exec_subject_read(pid, &who);
	exec_reply(fd, &out, t0);
	if (out.log)
		exec_log(fd, pid, &out, have_path ? path : NULL, NULL, &who);
	return true;
}

static void exec_perm(int fd, pid_t pid)
{
	uint64_t t0 = stats_now_ns();
	struct exec_subject who;
	struct decide_out out;
	struct stat st;

	if (pid == exec_self) {
		/* We never exec; whatever this is, we must not wait on it. */
		fan_respond(fd, HMD_V_ALLOW);
		atomic_fetch_add_explicit(&hmd_stats.self_allowed, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&hmd_stats.allowed, 1, memory_order_relaxed);
		goto close_fd;
	}
	if (fstat(fd, &st) < 0) {
		exec_answer_error(fd, pid, HMD_R_ERROR, t0);
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		struct decide_in in = {.mode = (enum hmd_mode)state_mode(),
		                       .match = exec_cfg->match,
		                       .on_error = exec_cfg->on_error};

		decide(&in, &out);
		exec_subject_read(pid, &who);
		exec_reply(fd, &out, t0);
		exec_log(fd, pid, &out, NULL, NULL, &who);
		goto close_fd;
	}
	if (exec_try_cache(fd, pid, &st, t0))
		goto close_fd;
	if (workers_submit(fd, pid, &st, t0) == 0)
		return; /* the fd is the worker's now */
	exec_answer_error(fd, pid, HMD_R_QUEUE_FULL, t0);
close_fd:
	close(fd);
}

/* A listed file we allowed was closed after being open for writing. */
static void exec_close_write(int fd)
{
	struct stat st;
	char path[PATH_MAX];
	bool resolved;

	if (fstat(fd, &st) == 0) {
		cache_drop_inode(st.st_dev, st.st_ino);
		helper_forget_fd(fd);
	}
	fan_ignore_remove(fd);
	fan_fd_path(fd, NULL, path, sizeof(path), &resolved);
	log_msg(LOG_NOTICE, "approved file written: %s (its next exec is checked again)", path);
}

/* No room in the slow lane, or the pool stops: answer by on_error now. */
static void exec_shed(struct hmd_work *w)
{
	exec_answer_error(w->fd, w->pid, HMD_R_QUEUE_FULL, w->t0_ns);
}

/* The watchdog (main thread, under the pool lock): answer by on_error. */
static void exec_expire(struct hmd_work *w)
{
	exec_answer_error(w->fd, w->pid, HMD_R_ERROR, w->t0_ns);
	log_msg(LOG_ERR, "event of pid %d not decided within %llu s: answered by on_error",
	        (int)w->pid, (unsigned long long)((stats_now_ns() - w->t0_ns) / 1000000000ull));
}

/* A reload swapped the list: outcomes and ignore marks of the old one go. */
static void exec_on_list(enum list_event ev, void *arg)
{
	int rc;

	(void)arg;
	if (ev != LIST_SWAPPED)
		return;
	rc = fan_flush_ignores();
	cache_flush();
	if (rc < 0) {
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR, "reload: cannot flush ignore marks: %s", strerror(-rc));
	}
}

static const struct fan_ops exec_fan = {.perm = exec_perm, .close_write = exec_close_write};
static const struct workers_ops exec_pool = {
    .triage = exec_triage, .run = exec_work, .expire = exec_expire, .shed = exec_shed};

/* fs.protected_hardlinks, once (exec_links_listed says why it matters). */
static bool exec_read_protected_hardlinks(void)
{
	FILE *f = fopen("/proc/sys/fs/protected_hardlinks", "re");
	int v = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v == 1;
}

int exec_init(const struct hmd_config *cfg)
{
	exec_cfg = cfg;
	exec_self = getpid();
	exec_protected_hardlinks = exec_read_protected_hardlinks();
	if (!exec_protected_hardlinks)
		log_msg(LOG_NOTICE, "fs.protected_hardlinks is not 1: under match = path+hash, "
		                    "programs with several hard links get no ignore mark");
	return list_add_handler(exec_on_list, NULL);
}

const struct fan_ops *exec_fan_ops(void)
{
	return &exec_fan;
}

const struct workers_ops *exec_workers_ops(void)
{
	return &exec_pool;
}
