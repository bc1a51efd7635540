/* recorder.c - the change recorder behind maintenance windows and trusted
 * updates: owns the second fanotify group (rc.fan, notification class),
 * its filesystem marks, one open directory fd per marked filesystem
 * while recording (rc.marks), the mounts left out (rc.skips)
 * and the in-memory record of changed paths (rc.tab/rc.head). rc.rd_lock
 * serialises reading the group and changing the record (main thread, or a
 * worker in update_exec_allowed); rc.lock guards the record's links
 * against recorder_exec_written(). Each change recorded goes to the
 * journal (journal.c), with the uid of its writer (rc_writer). Whether a
 * change belongs to an update session is not decided here: the caller of
 * recorder_start() hands over the rule. */
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
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "mounts.h"
#include "proc.h"
#include "recorder.h"
#include "stats.h"

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
 * The journal is appended as events are read and fdatasync'd after each
 * batch of events read (one read() of the group), before the next read: a
 * power cut loses at most the batch being written, never an acknowledged
 * one.
 */

#define RC_EVENTS                                                                                  \
	(FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_CLOSE_WRITE | FAN_ATTRIB |  \
	 FAN_ONDIR)
#define RC_BUCKETS 4096

struct rc_rec {
	struct rc_rec *next; /* hash chain */
	struct rc_rec *link; /* in order of first record */
	uint64_t dev, ino; /* of the file when last seen (0 when gone) */
	uint32_t uid; /* the writer (rc_writer), JOURNAL_UID_NONE: unknown */
	char op; /* 'W' written/present, 'D' removed, 'T' tree removed */
	char path[];
};

struct rc_mark {
	/* the marked mount (O_RDONLY: O_PATH fds are refused), which
	 * open_by_handle_at() goes through */
	int mfd;
	bool marked;
	unsigned major, minor;
	__kernel_fsid_t fsid;
	char root[PATH_MAX];
};

static struct {
	const struct hmd_config *cfg;
	int fan;
	bool pidfds; /* the group reports the writer's pidfd (FAN_REPORT_PIDFD) */
	pid_t self;
	struct rc_rec *tab[RC_BUCKETS];
	struct rc_rec *head, **tail;
	size_t count;
	uint64_t version;
	uint64_t ignored, unattributed;
	/* while recording (under rd_lock): the marked filesystems, and the
	 * mounts left out at the last start */
	struct rc_mark *marks;
	size_t n_marks, cap_marks;
	struct recorder_skip skips[RECORDER_SKIP_MAX];
	size_t n_skips; /* may exceed RECORDER_SKIP_MAX: only the first are kept */
	char roots[HMD_MAX_WATCH][PATH_MAX]; /* the [watch] mounts; none: all */
	size_t n_roots;
	pthread_mutex_t lock; /* tab/head/count vs recorder_exec_written() */
	/* Reading the group and recording: the main thread, and a worker of
	 * the exec gate that must see the updater's latest writes before it
	 * refuses (update_exec_allowed). Taken before lock, never after. */
	pthread_mutex_t rd_lock;
	bool recording; /* under rd_lock */
	recorder_attr_fn *attr; /* under rd_lock; NULL: every change */
	void *attr_arg;
} rc = {.fan = -1,
        .tail = &rc.head,
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .rd_lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- the record ----------------------------------------------------------- */

static size_t rc_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h % RC_BUCKETS);
}

static struct rc_rec *rc_find(const char *path)
{
	struct rc_rec *r;

	for (r = rc.tab[rc_hash(path)]; r; r = r->next)
		if (!strcmp(r->path, path))
			return r;
	return NULL;
}

/* Remember the latest state of path (under rd_lock); true when it changed
 * the record (a new path, another op or another inode): worth a journal
 * line. Every call moves the version on (the content may have changed). */
static bool rc_note(const char *path, char op, const struct stat *st, uint32_t uid)
{
	struct rc_rec *r = rc_find(path);
	bool changed;

	if (!r) {
		r = calloc(1, sizeof(*r) + strlen(path) + 1);
		if (!r)
			return false;
		strcpy(r->path, path);
		pthread_mutex_lock(&rc.lock);
		r->next = rc.tab[rc_hash(path)];
		rc.tab[rc_hash(path)] = r;
		*rc.tail = r;
		rc.tail = &r->link;
		rc.count++;
		pthread_mutex_unlock(&rc.lock);
		r->op = 0;
		r->uid = JOURNAL_UID_NONE;
	}
	/* Once a file was written by someone who is not one of [maintenance]
	 * writers (or nobody knows who), it stays theirs until it is removed:
	 * root touching it afterwards (a chmod, an append) does not make
	 * their content root's. */
	if (r->op == 'W' && op == 'W' && !config_is_writer(rc.cfg, r->uid))
		uid = r->uid;
	changed = r->op != op || r->uid != uid ||
	          (st && (r->dev != (uint64_t)st->st_dev || r->ino != (uint64_t)st->st_ino));
	pthread_mutex_lock(&rc.lock);
	r->op = op;
	r->uid = uid;
	r->dev = st ? (uint64_t)st->st_dev : 0;
	r->ino = st ? (uint64_t)st->st_ino : 0;
	rc.version++;
	pthread_mutex_unlock(&rc.lock);
	return changed;
}

void recorder_note(char op, const char *path, uint32_t uid)
{
	pthread_mutex_lock(&rc.rd_lock);
	rc_note(path, op, NULL, uid);
	pthread_mutex_unlock(&rc.rd_lock);
}

void recorder_forget(void)
{
	struct rc_rec *r, *n;

	pthread_mutex_lock(&rc.rd_lock);
	pthread_mutex_lock(&rc.lock);
	for (r = rc.head; r; r = n) {
		n = r->link;
		free(r);
	}
	memset(rc.tab, 0, sizeof(rc.tab));
	rc.head = NULL;
	rc.tail = &rc.head;
	rc.count = 0;
	rc.version++;
	rc.ignored = rc.unattributed = 0;
	pthread_mutex_unlock(&rc.lock);
	pthread_mutex_unlock(&rc.rd_lock);
}

size_t recorder_count(void)
{
	size_t n;

	pthread_mutex_lock(&rc.lock);
	n = rc.count;
	pthread_mutex_unlock(&rc.lock);
	return n;
}

void recorder_counters(uint64_t *ignored, uint64_t *unattributed)
{
	pthread_mutex_lock(&rc.rd_lock);
	*ignored = rc.ignored;
	*unattributed = rc.unattributed;
	pthread_mutex_unlock(&rc.rd_lock);
}

uint64_t recorder_version(void)
{
	uint64_t v;

	pthread_mutex_lock(&rc.lock);
	v = rc.version;
	pthread_mutex_unlock(&rc.lock);
	return v;
}

struct recorder_entry *recorder_snapshot(size_t *n, uint64_t *version, int *err)
{
	struct recorder_entry *out = NULL;
	const struct rc_rec *r;
	size_t bytes = 0, i = 0;
	char *p;

	*err = 0;
	pthread_mutex_lock(&rc.lock);
	*n = rc.count;
	*version = rc.version;
	for (r = rc.head; r; r = r->link)
		bytes += strlen(r->path) + 1;
	if (rc.count)
		out = malloc(rc.count * sizeof(*out) + bytes);
	if (out) {
		p = (char *)(out + rc.count);
		for (r = rc.head; r; r = r->link, i++) {
			size_t l = strlen(r->path) + 1;

			out[i].op = r->op;
			out[i].uid = r->uid;
			out[i].path = memcpy(p, r->path, l);
			p += l;
		}
	} else if (rc.count) {
		*err = -ENOMEM;
		*n = 0;
	}
	pthread_mutex_unlock(&rc.lock);
	return out;
}

bool recorder_exec_written(uint64_t dev, uint64_t ino)
{
	struct rc_rec *r;
	bool found = false;

	pthread_mutex_lock(&rc.lock);
	for (r = rc.head; r && !found; r = r->link)
		found = r->op == 'W' && r->dev == dev && r->ino == ino;
	pthread_mutex_unlock(&rc.lock);
	return found;
}

/* ---- marks ------------------------------------------------------------------ */

/*
 * Which filesystems are marked is decided at each recorder_start() from
 * the mount table of that moment (mounts come and go: systemd makes a
 * credential mount per unit start): every mount in scope - at or below a
 * [watch] mount, or every mount when there is none - one mark per
 * filesystem (device). Left out, and listed once (log, `hmilock
 * maintenance status`):
 *  - by rule, the filesystems nothing is installed on
 *    (mounts_fstype_unrecorded: proc, sysfs, cgroup, ramfs, ...); ramfs
 *    and most pseudo filesystems refuse the mark anyway (no file handles:
 *    EOPNOTSUPP, or no fsid: ENODEV);
 *  - a read-only mount that refuses the mark: nothing can be written
 *    there while it stays read-only.
 * Any other mount that refuses the mark could receive files that would
 * then never be approved: recorder_start() fails and names it, with what
 * to do, rather than open a window that misses them.
 */

static void rc_skip(const struct mnt_info *mi, const char *why)
{
	struct recorder_skip *k;

	if (rc.n_skips < RECORDER_SKIP_MAX) {
		k = &rc.skips[rc.n_skips];
		snprintf(k->mount, sizeof(k->mount), "%.*s", (int)sizeof(k->mount) - 1,
		         mi->mountpoint);
		snprintf(k->fstype, sizeof(k->fstype), "%.*s", (int)sizeof(k->fstype) - 1,
		         mi->fstype);
		k->why = why;
	}
	rc.n_skips++;
}

/* Remove every mark and close the fds (under rd_lock). */
static void rc_unmark(void)
{
	size_t i;

	for (i = 0; i < rc.n_marks; i++) {
		if (rc.marks[i].marked &&
		    fanotify_mark(rc.fan, FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, RC_EVENTS,
		                  rc.marks[i].mfd, NULL) < 0 &&
		    errno != ENOENT)
			log_msg(LOG_WARNING,
			        "maintenance: cannot remove the change watch on %s: %s",
			        rc.marks[i].root, strerror(errno));
		close(rc.marks[i].mfd);
	}
	rc.n_marks = 0;
}

/* Mark the filesystem of one mount in scope (under rd_lock). 0, 1 when it
 * is left out (listed), or -errno with msg filled. */
static int rc_mark_one(const struct mnt_info *mi, char *msg, size_t len)
{
	struct rc_mark *mk, *t;
	struct statfs sf;
	int ret;

	if (rc.n_marks == rc.cap_marks) {
		t = realloc(rc.marks, (rc.cap_marks ? 2 * rc.cap_marks : 16) * sizeof(*t));
		if (!t)
			return snprintf(msg, len, "out of memory"), -ENOMEM;
		rc.marks = t;
		rc.cap_marks = rc.cap_marks ? 2 * rc.cap_marks : 16;
	}
	mk = &rc.marks[rc.n_marks];
	memset(mk, 0, sizeof(*mk));
	snprintf(mk->root, sizeof(mk->root), "%s", mi->mountpoint);
	mk->major = mi->major;
	mk->minor = mi->minor;
	mk->mfd = open(mi->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mk->mfd < 0 || fstatfs(mk->mfd, &sf) < 0) {
		ret = -errno;
		if (mk->mfd >= 0)
			close(mk->mfd);
		snprintf(msg, len,
		         "cannot open the mount %s (%s) to record changes there: %s; "
		         "unmount it, or leave it out of [watch] mounts",
		         mi->mountpoint, mi->fstype, strerror(-ret));
		return ret;
	}
	memcpy(&mk->fsid, &sf.f_fsid, sizeof(mk->fsid));
	rc.n_marks++;
	if (fanotify_mark(rc.fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, RC_EVENTS, mk->mfd, NULL) ==
	    0) {
		mk->marked = true;
		return 0;
	}
	ret = -errno;
	close(mk->mfd);
	rc.n_marks--;
	if (mi->ro && (ret == -ENODEV || ret == -EOPNOTSUPP || ret == -EXDEV)) {
		rc_skip(mi, "read-only, refuses the mark");
		return 1;
	}
	snprintf(msg, len,
	         "cannot record changes on %s (%s): the kernel refuses its filesystem mark: %s; "
	         "files written there could never be approved. Unmount it (or remount it "
	         "read-only) for the window%s, or leave it out of [watch] mounts",
	         mi->mountpoint, mi->fstype, strerror(-ret),
	         strcmp(mi->fstype, "overlay") ? ""
	                                       : ", or mount the overlay with "
	                                         "index=on,nfs_export=on");
	return ret;
}

/* Is mp in scope: at or below a [watch] mount (all when there is none)? */
static bool rc_in_roots(const char *path)
{
	size_t i;

	if (!rc.n_roots)
		return true;
	for (i = 0; i < rc.n_roots; i++)
		if (wl_path_below(rc.roots[i], path))
			return true;
	return false;
}

struct rc_devs {
	unsigned (*d)[2];
	size_t n, cap;
};

/* Remember mi's device; false when it was seen already (marked or left
 * out through another of its mounts) or memory is short (*ret). */
static bool rc_dev_new(struct rc_devs *v, const struct mnt_info *mi, int *ret)
{
	unsigned(*t)[2];
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->d[i][0] == mi->major && v->d[i][1] == mi->minor)
			return false;
	if (v->n == v->cap) {
		t = realloc(v->d, (v->cap ? 2 * v->cap : 64) * sizeof(*t));
		if (!t)
			return *ret = -ENOMEM, false;
		v->d = t;
		v->cap = v->cap ? 2 * v->cap : 64;
	}
	v->d[v->n][0] = mi->major;
	v->d[v->n++][1] = mi->minor;
	return true;
}

/* Mark every filesystem in scope from the mount table of now (under
 * rd_lock). 0, or -errno with msg filled and nothing marked. */
static int rc_mark_all(char *msg, size_t len)
{
	char line[2 * PATH_MAX];
	struct rc_devs devs = {0};
	struct mnt_info mi;
	int ret = 0;
	FILE *f;

	rc.n_skips = 0;
	msg[0] = '\0';
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return ret = -errno,
		       snprintf(msg, len, "/proc/self/mountinfo: %s", strerror(errno)), ret;
	while (ret >= 0 && fgets(line, sizeof(line), f)) {
		if (mounts_parse_line(line, &mi) < 0 || !rc_in_roots(mi.mountpoint) ||
		    !rc_dev_new(&devs, &mi, &ret))
			continue;
		if (mounts_fstype_unrecorded(mi.fstype))
			rc_skip(&mi, "special filesystem");
		else
			ret = rc_mark_one(&mi, msg, len);
	}
	fclose(f);
	free(devs.d);
	if (ret == -ENOMEM && !msg[0])
		snprintf(msg, len, "out of memory");
	if (ret >= 0 && !rc.n_marks) {
		ret = -ENODEV;
		snprintf(msg, len, "no filesystem in scope can be watched for changes");
	}
	if (ret < 0)
		rc_unmark();
	return ret < 0 ? ret : 0;
}

size_t recorder_skipped(struct recorder_skip *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&rc.rd_lock);
	n = rc.n_skips < RECORDER_SKIP_MAX ? rc.n_skips : RECORDER_SKIP_MAX;
	memcpy(out, rc.skips, (n < max ? n : max) * sizeof(*out));
	n = rc.n_skips;
	pthread_mutex_unlock(&rc.rd_lock);
	return n;
}

/* "/a (ramfs), /b (proc)": the mounts left out, for one log line. */
static void rc_log_skips(void)
{
	char buf[1024];
	size_t i, o = 0;

	if (!rc.n_skips)
		return;
	for (i = 0; i < rc.n_skips && i < RECORDER_SKIP_MAX && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s (%s, %s)", i ? ", " : "",
		                      rc.skips[i].mount, rc.skips[i].fstype, rc.skips[i].why);
	log_msg(LOG_INFO, "maintenance: changes not recorded on %zu mount%s: %s%s", rc.n_skips,
	        rc.n_skips == 1 ? "" : "s", buf, rc.n_skips > RECORDER_SKIP_MAX ? ", ..." : "");
}

int recorder_init(const struct hmd_config *cfg, char *msg, size_t msglen)
{
	size_t i;
	int ret;

	rc.cfg = cfg;
	rc.self = getpid();
	for (i = 0; i < cfg->n_watch; i++, rc.n_roots++)
		if (!realpath(cfg->watch[i], rc.roots[i]))
			return ret = -errno,
			       snprintf(msg, msglen, "maintenance: %s: %s", cfg->watch[i],
			                strerror(errno)),
			       ret;
	rc.pidfds = true;
	rc.fan = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_REPORT_PIDFD |
	                           FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
	                       O_RDONLY | O_CLOEXEC);
	if (rc.fan < 0 && errno == EINVAL) { /* before Linux 5.15 */
		rc.pidfds = false;
		log_msg(LOG_WARNING,
		        "maintenance: this kernel does not report the writer of a change "
		        "(FAN_REPORT_PIDFD, Linux 5.15): changes are attributed by file owner "
		        "only, the rest wait for `hmilock maintenance end --review`");
		rc.fan = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC |
		                           FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
		                       O_RDONLY | O_CLOEXEC);
	}
	if (rc.fan < 0) {
		ret = -errno;
		snprintf(msg, msglen, "maintenance: fanotify_init(FAN_REPORT_DFID_NAME): %s",
		         strerror(errno));
		return ret;
	}
	return 0;
}

void recorder_fini(void)
{
	/* Under rd_lock: a worker may still be reading (update_exec_allowed). */
	pthread_mutex_lock(&rc.rd_lock);
	rc.recording = false;
	rc_unmark();
	free(rc.marks);
	rc.marks = NULL;
	rc.cap_marks = 0;
	rc.n_roots = 0;
	if (rc.fan >= 0)
		close(rc.fan);
	rc.fan = -1;
	pthread_mutex_unlock(&rc.rd_lock);
	recorder_forget();
}

int recorder_fd(void)
{
	return rc.fan;
}

/* ---- events ------------------------------------------------------------------ */

static const struct rc_mark *rc_mark_of(const __kernel_fsid_t *fsid)
{
	size_t i;

	for (i = 0; i < rc.n_marks; i++)
		if (!memcmp(&rc.marks[i].fsid, fsid, sizeof(*fsid)))
			return &rc.marks[i];
	return NULL;
}

/* The path of the event's entry (dir handle + name); the entry's stat in
 * *st when it exists (*exists). 0, or -errno when it cannot be named. */
static int rc_resolve(const struct fanotify_event_info_fid *fid, char *path, size_t len,
                      struct stat *st, bool *exists)
{
	struct file_handle *fh = (struct file_handle *)fid->handle;
	const char *name = (const char *)fh->f_handle + fh->handle_bytes;
	const struct rc_mark *mk = rc_mark_of(&fid->fsid);
	char proc[64], dir[PATH_MAX];
	ssize_t n;
	int dfd, ret = 0;

	if (!mk)
		return -ENODEV;
	dfd = open_by_handle_at(mk->mfd, fh, O_PATH | O_CLOEXEC);
	if (dfd < 0)
		return -errno; /* the directory is gone (ESTALE) */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	n = readlink(proc, dir, sizeof(dir) - 1);
	if (n <= 0 || dir[0] != '/') {
		ret = n < 0 ? -errno : -ENOENT;
		goto close_dir;
	}
	dir[n] = '\0';
	if (snprintf(path, len, "%s/%s", strcmp(dir, "/") ? dir : "", name) >= (int)len) {
		ret = -ENAMETOOLONG;
		goto close_dir;
	}
	*exists = fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) == 0;
close_dir:
	close(dfd);
	return ret;
}

/* ---- who wrote it ------------------------------------------------------------ */

/*
 * The writer of a change is the event's process (the thread group: the
 * group does not ask for FAN_REPORT_TID, which excludes pidfds). Its pid
 * alone names nobody for sure: the event is read after the write, and by
 * then the writer may have exited, been reaped and its pid handed to
 * another process. So the group asks for a pidfd of the writer
 * (FAN_REPORT_PIDFD): the kernel makes it from the event's own struct pid
 * when the event is read, and gives FAN_NOPIDFD when that process has been
 * reaped already. /proc/<pid> is read, then the pidfd is asked whether
 * the process still exists (pidfd_send_signal with signal 0: a zombie
 * still does, a reaped one does not): if so, what /proc said was the
 * writer's, not a newcomer's on a recycled pid.
 *
 * Which uid: the writer's real, effective, saved and filesystem uids
 * (/proc/<pid>/status "Uid:"). The filesystem uid is what the kernel
 * checked the write against (and made the new file's owner), but a
 * setuid-root program run by a user writes with fsuid 0 on that user's
 * behalf, and a root daemon may setfsuid() to a user to write for them.
 * So the change is a writer's (approved by `end`) only when all four are
 * [maintenance] writers; it carries the first one that is not (in the
 * order fs, effective, real, saved), else the fs uid. Per thread
 * credentials (a thread that changed only its own) are not seen: the
 * thread group leader's are read.
 *
 * When the writer is gone (reaped before the event was read: a `cp` run
 * from a shell often is), the file itself still says who could have
 * written it: a regular file owned by one of the writers, writable by
 * its owner only (no group or other write bit: an ACL mask without write
 * too), can be written by its owner or a process with CAP_DAC_OVERRIDE -
 * root. The change is then its owner's. Anything else whose writer is
 * gone is unattributed (JOURNAL_UID_NONE): never approved by `end`
 * alone. The limit of that rule: a file opened for writing while it was
 * writable by others, and made owner-only by its owner before the event
 * was read.
 */

/* pidfd_send_signal(2) with signal 0: 0 while the process exists (zombie
 * included), ESRCH once it is reaped; EPERM (another uid's process, and
 * hmilockd has no CAP_KILL) is checked after the process is found: it
 * exists too. */
bool recorder_pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

bool recorder_pidfds(void)
{
	return rc.pidfds;
}

/* The uid the writer's change carries (see above); JOURNAL_UID_NONE when
 * its /proc/<pid>/status cannot be read. */
static uint32_t rc_proc_uid(pid_t pid)
{
	static const int order[PROC_UIDS] = {PROC_UID_FS, PROC_UID_EFFECTIVE, PROC_UID_REAL,
	                                     PROC_UID_SAVED};
	uint32_t u[PROC_UIDS];
	int i;

	if (proc_uids(pid, u))
		return JOURNAL_UID_NONE;
	for (i = 0; i < PROC_UIDS; i++)
		if (!config_is_writer(rc.cfg, u[order[i]]))
			return u[order[i]];
	return u[PROC_UID_FS];
}

/* The uid a change is attributed to (under rd_lock): the writer's when its
 * pidfd says it is still the same process, else the file owner's when
 * only its owner could have written it, else JOURNAL_UID_NONE. */
static uint32_t rc_writer(pid_t pid, int pidfd, const struct stat *st, bool exists)
{
	uint32_t uid;

	if (pidfd >= 0) {
		uid = rc_proc_uid(pid);
		if (uid != JOURNAL_UID_NONE && recorder_pidfd_alive(pidfd))
			return uid;
	}
	if (exists && S_ISREG(st->st_mode) && !(st->st_mode & (S_IWGRP | S_IWOTH)) &&
	    config_is_writer(rc.cfg, (uint32_t)st->st_uid))
		return (uint32_t)st->st_uid;
	if (!rc.attr) /* an update session counts by its own rule */
		rc.unattributed++;
	return JOURNAL_UID_NONE;
}

/* Should the writer's change be recorded? (under rd_lock) */
static bool rc_attribute(pid_t pid, int pidfd, const char *path)
{
	if (!rc.recording)
		return false;
	if (!rc.attr)
		return true;
	switch (rc.attr(rc.attr_arg, pid, pidfd, path)) {
	case RECORDER_RECORD:
		return true;
	case RECORDER_IGNORE:
		rc.ignored++;
		return false;
	case RECORDER_UNATTRIBUTED:
		rc.unattributed++;
		return false;
	}
	return false;
}

/* Note a change and journal it when it changed the record. */
static void rc_record(const char *path, char op, const struct stat *st, uint32_t uid)
{
	if (rc_note(path, op, st, uid))
		journal_append(op, path, uid);
}

/* The event's info records: its directory handle + name, and the writer's
 * pidfd (-1 when none: FAN_NOPIDFD, FAN_EPIDFD or not asked for). */
static const struct fanotify_event_info_fid *rc_infos(const struct fanotify_event_metadata *m,
                                                      int *pidfd)
{
	const struct fanotify_event_info_fid *fid = NULL;
	const struct fanotify_event_info_header *h;
	struct fanotify_event_info_pidfd pi;
	size_t off;

	*pidfd = -1;
	for (off = m->metadata_len; off + sizeof(*h) <= m->event_len; off += h->len) {
		h = (const void *)((const char *)m + off);
		if (h->len < sizeof(*h) || off + h->len > m->event_len)
			break;
		if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME && h->len > sizeof(*fid) && !fid)
			fid = (const void *)h;
		else if (h->info_type == FAN_EVENT_INFO_TYPE_PIDFD && h->len >= sizeof(pi)) {
			memcpy(&pi, h, sizeof(pi));
			*pidfd = pi.pidfd >= 0 ? pi.pidfd : -1;
		}
	}
	return fid;
}

static void rc_event(const struct fanotify_event_metadata *m, int pidfd,
                     const struct fanotify_event_info_fid *fid)
{
	char path[PATH_MAX];
	struct stat st;
	bool exists = false, gone;
	int ret;

	if (m->pid == rc.self || !fid)
		return;
	ret = rc_resolve(fid, path, sizeof(path), &st, &exists);
	if (ret < 0) {
		if (ret != -ENODEV)
			log_msg(LOG_WARNING,
			        "maintenance: a change (mask %#llx) cannot be named: %s",
			        (unsigned long long)m->mask, strerror(-ret));
		return;
	}
	if (!rc_in_roots(path))
		return;
	if (m->mask & FAN_ONDIR) {
		/* A directory removed or moved away: the files below it are
		 * gone from their paths, and their own events may name a
		 * directory that no longer exists (dpkg -r: files, then the
		 * emptied directories). Record the tree. A directory moved
		 * in is not followed: its files are not approved (docs). */
		if ((m->mask & (FAN_DELETE | FAN_MOVED_FROM)) && !exists &&
		    rc_attribute(m->pid, pidfd, path))
			rc_record(path, 'T', NULL, JOURNAL_UID_NONE);
		return;
	}
	if (exists && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return;
	gone = (m->mask & (FAN_DELETE | FAN_MOVED_FROM)) && !exists;
	if (!rc_attribute(m->pid, pidfd, path))
		return;
	/* A removal needs no writer: it only ever takes entries off. */
	if (gone || !exists || S_ISLNK(st.st_mode))
		rc_record(path, 'D', NULL, JOURNAL_UID_NONE);
	else
		rc_record(path, 'W', &st, rc_writer(m->pid, pidfd, &st, exists));
}

/* One read() of the group (under rd_lock); false when nothing was read. */
static bool rc_read_batch(void)
{
	static char buf[16384] __attribute__((aligned(8)));
	static union {
		struct fanotify_event_metadata m;
		char b[4096];
	} ev;
	const struct fanotify_event_info_fid *fid;
	struct fanotify_event_metadata h;
	ssize_t len, off;
	int pidfd;

	if (rc.fan < 0)
		return false;
	len = read(rc.fan, buf, sizeof(buf));
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
		/* Never too long: a handle is at most MAX_HANDLE_SZ (128)
		 * bytes, a name NAME_MAX. */
		if (h.vers != FANOTIFY_METADATA_VERSION || h.event_len > sizeof(ev.b))
			continue;
		memcpy(ev.b, buf + off, h.event_len);
		fid = rc_infos(&ev.m, &pidfd);
		rc_event(&ev.m, pidfd, fid);
		if (pidfd >= 0)
			close(pidfd);
	}
	journal_sync(); /* the batch is on disk before the next read */
	return true;
}

void recorder_handle(void)
{
	int i;

	pthread_mutex_lock(&rc.rd_lock);
	/* Bounded: the control socket and signals must not starve. */
	for (i = 0; i < 64 && rc_read_batch(); i++)
		;
	pthread_mutex_unlock(&rc.rd_lock);
}

int recorder_start(recorder_attr_fn *attr, void *arg, char *msg, size_t len)
{
	int ret;

	pthread_mutex_lock(&rc.rd_lock);
	/* Left in the queue by the previous session after its end: not this
	 * one's (rc.recording is false, so they are dropped). */
	while (rc_read_batch())
		;
	ret = rc_mark_all(msg, len);
	if (ret == 0) {
		rc_log_skips();
		rc.attr = attr;
		rc.attr_arg = arg;
		rc.recording = true;
	}
	pthread_mutex_unlock(&rc.rd_lock);
	return ret;
}

void recorder_stop(void)
{
	recorder_handle(); /* what is queued still belongs to the window */
	pthread_mutex_lock(&rc.rd_lock);
	rc.recording = false;
	rc.attr = NULL;
	rc.attr_arg = NULL;
	rc_unmark();
	pthread_mutex_unlock(&rc.rd_lock);
}
