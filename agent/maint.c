/* maint.c - the maintenance window and the change recorder behind it and
 * behind trusted updates (update.c): owns the second fanotify group
 * (mt.fan, notification class), its marks, the journal file (mt.jfd) next
 * to the list and the in-memory record of changed paths. Main thread only;
 * workers may call maint_exec_written(), which takes mt.lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hmilock_ctl.h"
#include "hmilockd.h"

/*
 * Why a FAN_REPORT_DFID_NAME notification group, not FAN_MODIFY /
 * FAN_CLOSE_WRITE events with an fd:
 *  - fd events name a file that is open; creation, removal and rename are
 *    directory events, reported only to groups that identify objects by
 *    file handle (FAN_REPORT_FID and friends). DFID_NAME gives, for every
 *    event, the handle of the parent directory plus the entry name, so one
 *    record type covers create, close-after-write, attribute change,
 *    rename (from and to) and delete, and a path can be rebuilt even when
 *    the file is gone;
 *  - no fd is opened per event (an fd event on every write of a package
 *    installation would pin thousands of files open), and the queue holds
 *    no open files across a power cut or an overflow.
 * FAN_MODIFY is not asked for: it fires on every write(); FAN_CLOSE_WRITE
 * is the end of a write (also when the writer is killed: the kernel closes
 * its files), and content is hashed at the end of the window anyway, so a
 * file still open then is hashed as it is.
 *
 * Marks: directory-entry events need a filesystem (or inode) mark; a
 * FAN_MARK_MOUNT mark cannot report create/delete/rename. So each watched
 * mount gets FAN_MARK_FILESYSTEM on this group. For a [watch] mount that is
 * its own filesystem (a tmpfs, a partition) that is exactly the watched
 * files. For a bind mount of part of a bigger filesystem it is the whole
 * filesystem: changes that resolve to a path outside the watched mounts
 * are dropped, and a directory reachable only outside them cannot be
 * named (open_by_handle_at through our mount) and is dropped too - that
 * is the limit of bind mounts.
 *
 * Journal: "<dir of the list>/maintenance.journal", a text file, one
 * change a line after a header; appended as events are read and
 * fdatasync'd after each batch of events read (one read() of the group),
 * before the next read: a power cut loses at most the batch being written,
 * never an acknowledged one.
 */

#define MT_EVENTS                                                                                  \
	(FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_CLOSE_WRITE | FAN_ATTRIB |  \
	 FAN_ONDIR)
#define MT_BUCKETS 4096
#define MT_MAGIC "HMILOCK-JOURNAL 1"

struct mt_rec {
	struct mt_rec *next; /* hash chain */
	struct mt_rec *link; /* in order of first record */
	uint64_t dev, ino; /* of the file when last seen (0 when gone) */
	char op; /* 'W' written/present, 'D' removed */
	char path[];
};

struct mt_mark {
	int mfd; /* the marked mount (O_RDONLY: O_PATH fds are refused): open_by_handle_at() goes through it */
	__kernel_fsid_t fsid;
	char root[PATH_MAX];
};

struct mt_plan {
	uint32_t kind;
	const char *path; /* points into the record */
};

static struct {
	const struct hmd_config *cfg;
	int fan;
	pid_t self;
	bool marked;
	int jfd;
	char jpath[PATH_MAX];
	bool dirty;
	struct mt_rec *tab[MT_BUCKETS];
	struct mt_rec *head, **tail;
	size_t count;
	uint64_t ignored, unattributed;
	struct mt_mark marks[HMD_MAX_WATCH];
	size_t n_marks;
	char roots[HMD_MAX_WATCH][PATH_MAX];
	size_t n_roots;
	int drop_client;
	char **drops;
	size_t n_drops;
	struct mt_plan *plan;
	size_t n_plan;
	pthread_mutex_t lock; /* tab/head vs maint_exec_written() */
	/* Reading the group and recording: the main thread, and a worker of
	 * the exec gate that must see the updater's latest writes before it
	 * refuses (update_exec_allowed). Taken before lock, never after. */
	pthread_mutex_t rd_lock;
	enum state_window kind; /* what is being recorded (under rd_lock) */
} mt = {.fan = -1,
        .jfd = -1,
        .drop_client = -1,
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .rd_lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- the record ----------------------------------------------------------- */

static size_t mt_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h % MT_BUCKETS);
}

static struct mt_rec *mt_find(const char *path)
{
	struct mt_rec *r;

	for (r = mt.tab[mt_hash(path)]; r; r = r->next)
		if (!strcmp(r->path, path))
			return r;
	return NULL;
}

static void mt_plan_drop(void)
{
	free(mt.plan);
	mt.plan = NULL;
	mt.n_plan = 0;
}

/* Remember the latest state of path; true when it changed the record. */
static bool mt_note(const char *path, char op, const struct stat *st)
{
	struct mt_rec *r = mt_find(path);
	bool changed;

	if (!r) {
		r = calloc(1, sizeof(*r) + strlen(path) + 1);
		if (!r)
			return false;
		strcpy(r->path, path);
		pthread_mutex_lock(&mt.lock);
		r->next = mt.tab[mt_hash(path)];
		mt.tab[mt_hash(path)] = r;
		*mt.tail = r;
		mt.tail = &r->link;
		mt.count++;
		pthread_mutex_unlock(&mt.lock);
		r->op = 0;
	}
	changed = r->op != op ||
	          (st && (r->dev != (uint64_t)st->st_dev || r->ino != (uint64_t)st->st_ino));
	pthread_mutex_lock(&mt.lock);
	r->op = op;
	r->dev = st ? (uint64_t)st->st_dev : 0;
	r->ino = st ? (uint64_t)st->st_ino : 0;
	pthread_mutex_unlock(&mt.lock);
	mt_plan_drop();
	return changed;
}

static void mt_forget_all(void)
{
	struct mt_rec *r, *n;

	pthread_mutex_lock(&mt.lock);
	for (r = mt.head; r; r = n) {
		n = r->link;
		free(r);
	}
	memset(mt.tab, 0, sizeof(mt.tab));
	mt.head = NULL;
	mt.tail = &mt.head;
	mt.count = 0;
	pthread_mutex_unlock(&mt.lock);
	mt.ignored = mt.unattributed = 0;
	mt_plan_drop();
}

bool maint_exec_written(uint64_t dev, uint64_t ino)
{
	struct mt_rec *r;
	bool found = false;

	pthread_mutex_lock(&mt.lock);
	for (r = mt.head; r && !found; r = r->link)
		found = r->op == 'W' && r->dev == dev && r->ino == ino;
	pthread_mutex_unlock(&mt.lock);
	return found;
}

/* ---- the journal ------------------------------------------------------------ */

/* Bytes that would break a line (and '%' itself) become %XX. */
static void mt_escape(const char *in, char *out, size_t len)
{
	wl_pct_encode(in, strlen(in), out, len);
}

static int mt_unescape(char *s)
{
	return wl_pct_decode(s, strlen(s), s, NULL, NULL);
}

static int mt_jwrite(const char *buf, size_t n)
{
	ssize_t w;

	if (mt.jfd < 0)
		return -EBADF;
	w = write(mt.jfd, buf, n);
	if (w != (ssize_t)n) {
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR, "maintenance journal %s: write failed: %s", mt.jpath,
		        w < 0 ? strerror(errno) : "short write");
		return w < 0 ? -errno : -EIO;
	}
	mt.dirty = true;
	return 0;
}

static void mt_jsync(void)
{
	if (mt.dirty && mt.jfd >= 0 && fdatasync(mt.jfd) < 0)
		log_msg(LOG_ERR, "maintenance journal %s: fdatasync: %s", mt.jpath,
		        strerror(errno));
	mt.dirty = false;
}

static void mt_jrecord(char op, const char *path)
{
	char line[3 * PATH_MAX + 8];
	size_t n;

	line[0] = op;
	line[1] = ' ';
	mt_escape(path, line + 2, sizeof(line) - 3);
	n = strlen(line);
	line[n++] = '\n';
	mt_jwrite(line, n);
}

static int mt_jcreate(const char *kind, uint32_t timeout_s, uint64_t gen, enum hmd_mode prev)
{
	char hdr[512];
	int n;

	mt.jfd =
	    open(mt.jpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mt.jfd < 0)
		return -errno;
	n = snprintf(hdr, sizeof(hdr),
	             MT_MAGIC "\n# kind=%s start=%lld timeout=%u generation=%llu prev_mode=%s\n",
	             kind, (long long)time(NULL), timeout_s, (unsigned long long)gen,
	             config_mode_name(prev));
	if (mt_jwrite(hdr, (size_t)n) < 0 || fdatasync(mt.jfd) < 0) {
		close(mt.jfd);
		mt.jfd = -1;
		return -EIO;
	}
	mt.dirty = false;
	return 0;
}

static void mt_jclose(void)
{
	mt_jsync();
	if (mt.jfd >= 0)
		close(mt.jfd);
	mt.jfd = -1;
}

/* Replay a journal left by an interrupted window into the record. */
static int mt_jload(void)
{
	char line[3 * PATH_MAX + 8];
	int lineno = 0, bad = 0;
	FILE *f = fopen(mt.jpath, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (lineno == 1 && strcmp(line, MT_MAGIC)) {
			fclose(f);
			return -EINVAL;
		}
		if (lineno == 1 || line[0] == '#')
			continue;
		if ((line[0] != 'W' && line[0] != 'D' && line[0] != 'T') || line[1] != ' ' ||
		    line[2] != '/' || mt_unescape(line + 2) < 0) {
			bad++; /* a line cut by the power loss */
			continue;
		}
		mt_note(line + 2, line[0], NULL);
	}
	fclose(f);
	if (bad)
		log_msg(LOG_WARNING, "maintenance journal %s: %d unreadable lines skipped",
		        mt.jpath, bad);
	return 0;
}

/* ---- marks ------------------------------------------------------------------ */

static int mt_add_mark(const char *root)
{
	struct mt_mark *mk;
	struct statfs sf;

	if (mt.n_marks >= HMD_MAX_WATCH)
		return -ENOSPC;
	mk = &mt.marks[mt.n_marks];
	mk->mfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mk->mfd < 0)
		return -errno;
	if (fstatfs(mk->mfd, &sf) < 0) {
		close(mk->mfd);
		return -errno;
	}
	memcpy(&mk->fsid, &sf.f_fsid, sizeof(mk->fsid));
	snprintf(mk->root, sizeof(mk->root), "%s", root);
	mt.n_marks++;
	return 0;
}

/* The roots whose filesystems are marked: the [watch] mounts, or every
 * filesystem that can hold executables (one per device). */
static int mt_roots(void)
{
	char line[2 * PATH_MAX], seen[256][16];
	struct mnt_info mi;
	size_t n_seen = 0, i;
	FILE *f;

	for (i = 0; i < mt.cfg->n_watch; i++) {
		if (!realpath(mt.cfg->watch[i], mt.roots[i]))
			return -errno;
		mt.n_roots++;
	}
	if (mt.n_roots)
		return 0;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && mt.n_roots < HMD_MAX_WATCH) {
		char dev[16];

		if (mounts_parse_line(line, &mi) < 0 || mounts_fstype_pseudo(mi.fstype))
			continue;
		snprintf(dev, sizeof(dev), "%u:%u", mi.major, mi.minor);
		for (i = 0; i < n_seen && strcmp(seen[i], dev); i++)
			;
		if (i < n_seen || n_seen == 256)
			continue;
		memcpy(seen[n_seen++], dev, sizeof(dev));
		snprintf(mt.roots[mt.n_roots++], PATH_MAX, "%s", mi.mountpoint);
	}
	fclose(f);
	return 0;
}

static int mt_mark(bool on)
{
	unsigned flags =
	    (on ? FAN_MARK_ADD : FAN_MARK_REMOVE) | FAN_MARK_FILESYSTEM | FAN_MARK_DONT_FOLLOW;
	int rc = 0;
	size_t i;

	if (mt.marked == on)
		return 0;
	for (i = 0; i < mt.n_marks; i++) {
		if (fanotify_mark(mt.fan, flags, MT_EVENTS, AT_FDCWD, mt.marks[i].root) == 0)
			continue;
		rc = -errno;
		log_msg(LOG_ERR, "maintenance: cannot %s the change watch on %s: %s",
		        on ? "place" : "remove", mt.marks[i].root, strerror(errno));
		if (on)
			break;
	}
	if (rc < 0 && on) {
		while (i-- > 0)
			fanotify_mark(mt.fan, FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, MT_EVENTS,
			              AT_FDCWD, mt.marks[i].root);
		return rc;
	}
	mt.marked = on;
	return 0;
}

int maint_init(const struct hmd_config *cfg, char *msg, size_t msglen)
{
	struct state_file sf;
	int rc;
	size_t i;

	mt.cfg = cfg;
	mt.self = getpid();
	mt.tail = &mt.head;
	rc = state_sibling("maintenance.journal", mt.jpath, sizeof(mt.jpath));
	if (rc == 0)
		rc = mt_roots();
	if (rc < 0)
		return snprintf(msg, msglen, "maintenance: %s", strerror(-rc)), rc;
	mt.fan = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK |
	                           FAN_UNLIMITED_QUEUE,
	                       O_RDONLY | O_CLOEXEC);
	if (mt.fan < 0) {
		rc = -errno;
		snprintf(msg, msglen, "maintenance: fanotify_init(FAN_REPORT_DFID_NAME): %s",
		         strerror(errno));
		return rc;
	}
	for (i = 0; i < mt.n_roots; i++)
		if ((rc = mt_add_mark(mt.roots[i])) < 0)
			log_msg(LOG_ERR, "maintenance: cannot watch %s for changes: %s",
			        mt.roots[i], strerror(-rc));
	state_file_get(&sf);
	if (sf.window == STATE_W_PENDING && mt_jload() < 0)
		log_msg(LOG_ERR,
		        "maintenance journal %s cannot be read: the interrupted window's "
		        "changes are lost; nothing is approved",
		        mt.jpath);
	else if (sf.window == STATE_W_PENDING)
		log_msg(LOG_WARNING,
		        "%zu changes of an interrupted window wait for review "
		        "(hmilock maintenance end --review)",
		        mt.count);
	if (sf.window == STATE_W_NONE)
		unlink(mt.jpath); /* left by a crash right after an end */
	return 0;
}

void maint_fini(void)
{
	size_t i;

	mt_jclose();
	for (i = 0; i < mt.n_marks; i++)
		close(mt.marks[i].mfd);
	mt.n_marks = 0;
	if (mt.fan >= 0)
		close(mt.fan);
	mt.fan = -1;
	mt_forget_all();
	maint_client_gone(mt.drop_client);
}

int maint_fd(void)
{
	return mt.fan;
}

/* ---- events ------------------------------------------------------------------ */

static const struct mt_mark *mt_mark_of(const __kernel_fsid_t *fsid)
{
	size_t i;

	for (i = 0; i < mt.n_marks; i++)
		if (!memcmp(&mt.marks[i].fsid, fsid, sizeof(*fsid)))
			return &mt.marks[i];
	return NULL;
}

static bool mt_in_roots(const char *path)
{
	size_t i;

	for (i = 0; i < mt.n_roots; i++)
		if (mounts_path_below(mt.roots[i], path))
			return true;
	return false;
}

/* The path of the event's entry (dir handle + name); the entry's stat in
 * *st when it exists (*exists). 0, or -errno when it cannot be named. */
static int mt_resolve(const struct fanotify_event_info_fid *fid, char *path, size_t len,
                      struct stat *st, bool *exists)
{
	struct file_handle *fh = (struct file_handle *)fid->handle;
	const char *name = (const char *)fh->f_handle + fh->handle_bytes;
	const struct mt_mark *mk = mt_mark_of(&fid->fsid);
	char proc[64], dir[PATH_MAX];
	ssize_t n;
	int dfd, rc = 0;

	if (!mk)
		return -ENODEV;
	dfd = open_by_handle_at(mk->mfd, fh, O_PATH | O_CLOEXEC);
	if (dfd < 0)
		return -errno; /* the directory is gone (ESTALE) */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	n = readlink(proc, dir, sizeof(dir) - 1);
	if (n <= 0 || dir[0] != '/') {
		rc = n < 0 ? -errno : -ENOENT;
		goto close_dir;
	}
	dir[n] = '\0';
	if (snprintf(path, len, "%s/%s", strcmp(dir, "/") ? dir : "", name) >= (int)len) {
		rc = -ENAMETOOLONG;
		goto close_dir;
	}
	*exists = fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) == 0;
close_dir:
	close(dfd);
	return rc;
}

/* Should the writer's change be recorded in the open window/session? */
static bool mt_attribute(pid_t pid, const char *path)
{
	int rc;

	if (mt.kind == STATE_W_MAINT)
		return true;
	if (mt.kind != STATE_W_UPDATE)
		return false;
	rc = update_pid_member(pid);
	if (rc == 1)
		return true;
	if (rc == 0) {
		mt.ignored++;
		return false;
	}
	/* Racy by nature: the writer exited and was reaped before we read
	 * its event, so /proc no longer says where it ran. Not approved. */
	mt.unattributed++;
	log_msg(LOG_WARNING,
	        "update session: writer pid %d of %s is gone, cannot tell its "
	        "cgroup: not approved",
	        (int)pid, path);
	return false;
}

static void mt_event(const struct fanotify_event_metadata *m)
{
	const struct fanotify_event_info_fid *fid = (const void *)(m + 1);
	char path[PATH_MAX];
	struct stat st;
	bool exists = false, gone;
	int rc;

	if (m->pid == mt.self || m->event_len < sizeof(*m) + sizeof(*fid) ||
	    fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME)
		return;
	rc = mt_resolve(fid, path, sizeof(path), &st, &exists);
	if (rc < 0) {
		if (rc != -ENODEV)
			log_msg(LOG_WARNING,
			        "maintenance: a change (mask %#llx) cannot be named: %s",
			        (unsigned long long)m->mask, strerror(-rc));
		return;
	}
	if (!mt_in_roots(path))
		return;
	if (m->mask & FAN_ONDIR) {
		/* A directory removed or moved away: the files below it are
		 * gone from their paths, and their own events may name a
		 * directory that no longer exists (dpkg -r: files, then the
		 * emptied directories). Record the tree. A directory moved
		 * in is not followed: its files are not approved (docs). */
		if ((m->mask & (FAN_DELETE | FAN_MOVED_FROM)) && !exists &&
		    mt_attribute(m->pid, path) && mt_note(path, 'T', NULL))
			mt_jrecord('T', path);
		return;
	}
	if (exists && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return;
	gone = (m->mask & (FAN_DELETE | FAN_MOVED_FROM)) && !exists;
	if (!mt_attribute(m->pid, path))
		return;
	if (gone || !exists || S_ISLNK(st.st_mode)) {
		if (mt_note(path, 'D', NULL))
			mt_jrecord('D', path);
	} else if (mt_note(path, 'W', &st)) {
		mt_jrecord('W', path);
	}
}

static bool mt_read_batch(void)
{
	static char buf[16384] __attribute__((aligned(8)));
	static union {
		struct fanotify_event_metadata m;
		char b[4096];
	} ev;
	struct fanotify_event_metadata h;
	ssize_t len = read(mt.fan, buf, sizeof(buf)), off;

	if (len <= 0) {
		if (len < 0 && errno != EAGAIN && errno != EINTR)
			log_msg(LOG_ERR, "maintenance: reading changes: %s", strerror(errno));
		return false;
	}
	/* Records with file handles are padded to 4 bytes, not 8: copy each
	 * to an aligned buffer before reading its 64-bit fields. */
	for (off = 0; off + (ssize_t)sizeof(h) <= len; off += h.event_len) {
		memcpy(&h, buf + off, sizeof(h));
		if (h.event_len < sizeof(h) || off + (ssize_t)h.event_len > len)
			break;
		if (h.mask & FAN_Q_OVERFLOW) {
			atomic_fetch_add(&hmd_stats.errors, 1);
			log_msg(LOG_CRIT, "maintenance: change queue overflow: changes were lost");
			continue;
		}
		if (h.vers != FANOTIFY_METADATA_VERSION || h.event_len > sizeof(ev.b))
			continue;
		memcpy(ev.b, buf + off, h.event_len);
		mt_event(&ev.m);
	}
	mt_jsync(); /* the batch is on disk before the next read */
	return true;
}

void maint_handle(void)
{
	int i;

	pthread_mutex_lock(&mt.rd_lock);
	/* Bounded: the control socket and signals must not starve. */
	for (i = 0; i < 64 && mt_read_batch(); i++)
		;
	pthread_mutex_unlock(&mt.rd_lock);
}

/* Stop recording (main thread): later reads find nothing to record. */
static void mt_stop(void)
{
	maint_handle(); /* what is queued still belongs to the window */
	pthread_mutex_lock(&mt.rd_lock);
	mt.kind = STATE_W_NONE;
	mt_mark(false);
	mt_jclose();
	pthread_mutex_unlock(&mt.rd_lock);
}

/* ---- plan and commit ------------------------------------------------------ */

/* What the end does with one recorded path; *e filled (caller frees) for
 * ADD and CHANGE. Hashes through an fd opened O_NOFOLLOW: a symlink or a
 * special file put in place of a path is never followed or read. */
/* Listed entries at or below dir that no longer exist; each removed from
 * s when s is not NULL. */
static size_t mt_tree_gone(const struct wl_db *db, const char *dir, struct wl_set *s)
{
	struct wl_rec rec;
	struct stat st;
	size_t i, n = 0;

	for (i = 0; i < wl_db_count(db); i++) {
		wl_db_at(db, i, &rec);
		if (!mounts_path_below(dir, rec.path) || lstat(rec.path, &st) == 0)
			continue;
		n++;
		if (s)
			wl_set_remove(s, rec.path);
	}
	return n;
}

static uint32_t mt_plan_one(const struct wl_db *db, const struct mt_rec *r, struct wl_entry *e)
{
	struct wl_class cls = {0};
	struct wl_err err = {0};
	struct wl_rec rec;
	bool listed = wl_db_find_path(db, r->path, &rec) == 0, qual;
	struct stat st;
	int fd;

	memset(e, 0, sizeof(*e));
	if (r->op == 'T')
		return mt_tree_gone(db, r->path, NULL) ? HMC_PK_REMOVE : HMC_PK_SKIP;
	fd = open(r->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return listed ? HMC_PK_REMOVE : HMC_PK_SKIP;
	}
	if (wl_entry_from_fd(fd, r->path, e, &cls, &err) < 0) {
		close(fd);
		log_msg(LOG_ERR, "maintenance: cannot hash %s: %s (left as it is on the list)",
		        r->path, err.msg);
		return HMC_PK_SKIP;
	}
	close(fd);
	qual = wl_class_qualifies(&cls, e->mode);
	wl_class_free(&cls);
	if (listed)
		return memcmp(rec.sha256, e->sha256, WL_SHA256_LEN) ? HMC_PK_CHANGE : HMC_PK_SAME;
	return qual ? HMC_PK_ADD : HMC_PK_SKIP;
}

static int mt_plan_build(void)
{
	struct hmd_list *l;
	struct wl_entry e;
	struct mt_rec *r;
	size_t i = 0;

	if (mt.plan)
		return 0;
	mt.plan = calloc(mt.count ? mt.count : 1, sizeof(*mt.plan));
	if (!mt.plan)
		return -ENOMEM;
	l = list_get();
	for (r = mt.head; r; r = r->link, i++) {
		mt.plan[i].kind = mt_plan_one(list_db(l), r, &e);
		mt.plan[i].path = r->path;
		wl_entry_free(&e);
	}
	list_put(l);
	mt.n_plan = i;
	return 0;
}

int maint_plan_at(size_t i, size_t *total, uint32_t *kind, char *path, size_t len)
{
	int rc;

	pthread_mutex_lock(&mt.rd_lock);
	rc = mt_plan_build();
	if (rc == 0) {
		*total = mt.n_plan;
		rc = i < mt.n_plan ? 0 : -ENOENT;
	}
	if (rc == 0) {
		*kind = mt.plan[i].kind;
		snprintf(path, len, "%s", mt.plan[i].path);
	}
	pthread_mutex_unlock(&mt.rd_lock);
	return rc;
}

static bool mt_dropped(const char *path)
{
	size_t i;

	for (i = 0; i < mt.n_drops; i++)
		if (!strcmp(mt.drops[i], path))
			return true;
	return false;
}

struct mt_count {
	size_t add, change, same, remove, skip, dropped;
};

/* Apply the record to s, the list's copy. */
static void mt_apply(const struct wl_db *db, struct wl_set *s, struct mt_count *c)
{
	struct wl_entry e;
	struct mt_rec *r;
	uint32_t kind;

	for (r = mt.head; r; r = r->link) {
		if (mt_dropped(r->path)) {
			c->dropped++;
			continue;
		}
		kind = mt_plan_one(db, r, &e);
		if (r->op == 'T' && kind == HMC_PK_REMOVE)
			c->remove += mt_tree_gone(db, r->path, s);
		else if ((kind == HMC_PK_ADD || kind == HMC_PK_CHANGE) && wl_set_put(s, &e) == 0)
			kind == HMC_PK_ADD ? c->add++ : c->change++;
		else if (kind == HMC_PK_REMOVE && wl_set_remove(s, r->path) == 0)
			c->remove++;
		else if (kind == HMC_PK_SAME)
			c->same++;
		else
			c->skip++;
		wl_entry_free(&e);
	}
}

/* Write the next list generation with the record applied, and load it. */
static int mt_commit(char *msg, size_t len)
{
	uint8_t key[WL_KEY_LEN];
	struct wl_err err = {0};
	struct mt_count c = {0};
	struct hmd_list *l = list_get();
	struct wl_set *s = wl_set_new();
	struct wl_db_lock *lk = NULL;
	int rc = s ? wl_key_load(mt.cfg->key, key, &err) : -ENOMEM;

	if (rc == 0)
		rc = wl_db_to_set(list_db(l), s, &err);
	if (rc == 0)
		mt_apply(list_db(l), s, &c);
	/* the writer protocol (wl.h): the CLI holds the lock briefly; the
	 * plan was made against the loaded list, which the write checks */
	if (rc == 0 && c.add + c.change + c.remove)
		rc = wl_db_lock(mt.cfg->db, 2000, &lk, &err);
	if (rc == 0 && c.add + c.change + c.remove)
		rc = wl_db_write(lk, s, list_generation(l) + 1, list_generation(l), key, &err);
	wl_db_unlock(lk);
	explicit_bzero(key, sizeof(key));
	list_put(l);
	wl_set_free(s);
	if (rc == 0 && c.add + c.change + c.remove)
		rc = list_reload(&err);
	if (rc < 0) {
		snprintf(msg, len, "the list was NOT changed: %.300s%s",
		         err.msg[0] ? err.msg : strerror(-rc),
		         rc == -ESTALE ? " after `hmilock reload`" : "");
		return rc;
	}
	snprintf(msg, len,
	         "%zu added, %zu changed, %zu removed, %zu unchanged, %zu not qualifying or "
	         "gone, %zu dropped by review",
	         c.add, c.change, c.remove, c.same, c.skip, c.dropped);
	return 0;
}

/* ---- windows and sessions -------------------------------------------------- */

static void mt_drops_clear(void)
{
	size_t i;

	for (i = 0; i < mt.n_drops; i++)
		free(mt.drops[i]);
	free(mt.drops);
	mt.drops = NULL;
	mt.n_drops = 0;
	mt.drop_client = -1;
}

void maint_client_gone(int client)
{
	if (client >= 0 && client == mt.drop_client)
		mt_drops_clear();
}

int maint_drop(int client, const char (*paths)[PATH_MAX], size_t n, char *msg, size_t len)
{
	char **t;
	size_t i;

	if (client != mt.drop_client)
		mt_drops_clear();
	mt.drop_client = client;
	t = realloc(mt.drops, (mt.n_drops + n) * sizeof(*t));
	if (!t && n)
		return snprintf(msg, len, "out of memory"), -ENOMEM;
	mt.drops = t;
	for (i = 0; i < n; i++)
		if ((mt.drops[mt.n_drops] = strdup(paths[i])))
			mt.n_drops++;
	snprintf(msg, len, "%zu entries dropped so far", mt.n_drops);
	return 0;
}

/* Open the journal, state file and marks for a new window or session. */
int maint_session_open(enum state_window kind, uint32_t timeout_s, char *msg, size_t len)
{
	struct state_file sf;
	struct hmd_list *l = list_get();
	uint64_t gen = list_generation(l);
	int rc;

	list_put(l);
	state_file_get(&sf);
	if (sf.window == STATE_W_PENDING)
		return snprintf(msg, len,
		                "changes of an interrupted window wait for review: run `hmilock "
		                "maintenance end --review` (or `end --discard`) first"),
		       -EBUSY;
	if (sf.window != STATE_W_NONE)
		return snprintf(msg, len, "a %s is open already",
		                sf.window == STATE_W_MAINT ? "maintenance window"
		                                           : "trusted update session"),
		       -EBUSY;
	mt_forget_all();
	rc = mt_jcreate(kind == STATE_W_MAINT ? "maintenance" : "update", timeout_s, gen,
	                (enum hmd_mode)state_mode());
	if (rc < 0)
		return snprintf(msg, len, "cannot create the journal %s: %s", mt.jpath,
		                strerror(-rc)),
		       rc;
	sf.window = kind;
	sf.start = (uint64_t)time(NULL);
	sf.deadline = timeout_s ? sf.start + timeout_s : 0;
	sf.generation = gen;
	rc = state_file_put(&sf);
	pthread_mutex_lock(&mt.rd_lock);
	if (rc == 0)
		rc = mt_mark(true);
	if (rc == 0)
		mt.kind = kind;
	pthread_mutex_unlock(&mt.rd_lock);
	if (rc < 0) {
		mt_jclose();
		unlink(mt.jpath);
		sf.window = STATE_W_NONE;
		state_file_put(&sf);
		return snprintf(msg, len, "cannot start recording changes: %s", strerror(-rc)), rc;
	}
	return 0;
}

/* Close the window/session: approve (apply the record) or not; then the
 * state file says it is over and the journal goes. */
int maint_session_commit(bool approve, char *msg, size_t len)
{
	char res[400] = "nothing approved";
	struct state_file sf;
	int rc = 0;

	mt_stop();
	if (approve)
		rc = mt_commit(res, sizeof(res));
	if (rc < 0) {
		snprintf(msg, len, "%s; the changes stay waiting for review", res);
		state_file_get(&sf);
		sf.window = STATE_W_PENDING;
		state_file_put(&sf);
		return rc;
	}
	state_file_get(&sf);
	sf.window = STATE_W_NONE;
	sf.deadline = 0;
	snprintf(sf.last, sizeof(sf.last), "ended %lld: %.200s", (long long)time(NULL), res);
	state_file_put(&sf);
	unlink(mt.jpath);
	mt_forget_all();
	mt_drops_clear();
	snprintf(msg, len, "%s", res);
	return 0;
}

int maint_begin(pid_t by, uint32_t timeout_s, char *msg, size_t len)
{
	enum hmd_mode prev = (enum hmd_mode)state_mode();
	int rc;

	if (!timeout_s)
		timeout_s = mt.cfg->maint_timeout_s;
	rc = maint_session_open(STATE_W_MAINT, timeout_s, msg, len);
	if (rc < 0)
		return rc;
	state_set_mode(HMD_MODE_MAINTENANCE);
	log_msg(LOG_NOTICE,
	        "maintenance window opened by pid %d for %u s (mode %s before): "
	        "unlisted programs run, changes are recorded in %s",
	        (int)by, timeout_s, config_mode_name(prev), mt.jpath);
	snprintf(msg, len,
	         "maintenance window open for %u s (until then unlisted programs run and are "
	         "logged); recording changes in %s",
	         timeout_s, mt.jpath);
	return 0;
}

int maint_end(int client, pid_t by, bool discard, char *msg, size_t len)
{
	struct state_file sf;
	char res[400];
	int rc;

	state_file_get(&sf);
	if (sf.window != STATE_W_MAINT && sf.window != STATE_W_PENDING) {
		rc = sf.window == STATE_W_UPDATE ? -EBUSY : -ENOENT;
		snprintf(msg, len, "%s%s%s",
		         rc == -EBUSY ? "a trusted update is running, not a maintenance window"
		                      : "no maintenance window is open",
		         sf.last[0] && rc == -ENOENT ? "; last: " : "",
		         rc == -ENOENT ? sf.last : "");
		return rc;
	}
	if (client != mt.drop_client)
		mt_drops_clear();
	rc = maint_session_commit(!discard, res, sizeof(res));
	if (sf.window == STATE_W_MAINT)
		state_set_mode(sf.mode);
	log_msg(rc < 0 ? LOG_ERR : LOG_NOTICE, "maintenance window ended by pid %d%s: %s; mode %s",
	        (int)by, discard ? " (discarded)" : "", res, config_mode_name(state_mode()));
	snprintf(msg, len, "%s; mode %s", res, config_mode_name(state_mode()));
	return rc;
}

void maint_tick(void)
{
	struct state_file sf;
	char expired[PATH_MAX + 16];
	size_t n = mt.count;

	pthread_mutex_lock(&mt.rd_lock);
	mt_jsync();
	pthread_mutex_unlock(&mt.rd_lock);
	state_file_get(&sf);
	if (sf.window != STATE_W_MAINT || !sf.deadline || (uint64_t)time(NULL) < sf.deadline)
		return;
	mt_stop();
	snprintf(expired, sizeof(expired), "%s.expired", mt.jpath);
	rename(mt.jpath, expired);
	sf.window = STATE_W_NONE;
	snprintf(sf.last, sizeof(sf.last),
	         "timed out %lld: re-locked by itself, nothing approved (%zu changes recorded, "
	         "kept in %.100s)",
	         (long long)time(NULL), n, expired);
	sf.deadline = 0;
	state_file_put(&sf);
	mt_forget_all();
	mt_drops_clear();
	state_set_mode(sf.mode);
	log_msg(LOG_WARNING,
	        "maintenance window reached its timeout: back to mode %s, nothing "
	        "approved (%zu recorded changes kept in %s)",
	        config_mode_name(sf.mode), n, expired);
}

void maint_info(struct maint_info *out)
{
	struct state_file sf;

	state_file_get(&sf);
	memset(out, 0, sizeof(*out));
	out->window = sf.window;
	out->prev = sf.mode;
	out->start = sf.window ? sf.start : 0;
	out->deadline = sf.window == STATE_W_MAINT ? sf.deadline : 0;
	out->generation = sf.generation;
	out->records = mt.count;
	out->ignored = mt.ignored;
	out->unattributed = mt.unattributed;
	snprintf(out->journal, sizeof(out->journal), "%s", mt.jpath);
	snprintf(out->last, sizeof(out->last), "%s", sf.last);
}

/* The session's owner went away without ending it (update.c: the update
 * cgroup emptied): stop recording, approve nothing, and keep what was
 * recorded waiting for review, as after a crash. */
void maint_session_interrupt(const char *why)
{
	struct state_file sf;

	mt_stop();
	state_file_get(&sf);
	sf.window = STATE_W_PENDING;
	snprintf(sf.last, sizeof(sf.last), "interrupted %lld: %.200s", (long long)time(NULL), why);
	state_file_put(&sf);
	log_msg(LOG_WARNING,
	        "%s: nothing approved; %zu recorded changes wait for review "
	        "(hmilock maintenance end --review)",
	        why, mt.count);
}
