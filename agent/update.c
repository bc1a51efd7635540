/* update.c - trusted updater sessions: owns the session cgroup directories
 * (<cgroup_root>/s<id>, cgroup v2) and which session is open (up, guarded
 * by up.lock because the exec gate's workers ask update_exec_allowed()).
 * The main thread opens and commits sessions (control socket) and removes
 * emptied cgroups (update_tick); the recording is recorder.c's (with
 * up_attribute as its rule), the window, journal and commit window.c's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "log.h"
#include "mounts.h"
#include "proc.h"
#include "recorder.h"
#include "state.h"
#include "stats.h"
#include "update.h"
#include "window.h"

/*
 * Writers are told apart by cgroup membership, never by name: the CLI
 * (`hmilock update -- CMD`) asks for a session, gets a fresh cgroup
 * directory, writes its own pid to its cgroup.procs and only then starts
 * CMD, so CMD and every descendant live in that cgroup (a process cannot
 * leave it without writing to another cgroup's cgroup.procs, which the
 * box's normal programs have no reason to do and which root-only files
 * guard). For each recorded change the daemon reads /proc/<writer>/cgroup,
 * then asks the writer's pidfd (which the recorder's group gets with the
 * event, FAN_REPORT_PIDFD) whether that process still exists: the event
 * is read after the write, and a writer that has exited and been reaped
 * may have left its pid to any other process - whose cgroup /proc would
 * show. A writer reaped before its event was read gets no pidfd: its
 * changes are not approved, but counted and logged ("unattributed"),
 * never placed by its pid (no "pids seen before" list either: a pid seen
 * in the session once may be another process's by now) - unless the
 * kernel helper is active and saw it: while a session is open it notes
 * every inode the session's cgroup opens for writing, and drops the note
 * when anything outside the cgroup opens or writes it (hmk_updwrites in
 * kmod/hmilock.bpf.c); a change to the file whose inode is noted is the
 * session's (`tar -xzf x.tgz && ./install.sh`: tar is reaped at once). A zombie still
 * shows its cgroup, so the CLI waits for CMD without reaping it (waitid
 * WNOWAIT), asks the daemon to read every queued change (MAINT_SYNC), and
 * only then reaps it. On a kernel without FAN_REPORT_PIDFD (before 5.15)
 * the pid is all there is: the old race stays (logged at start).
 *
 * cgroup v1 only (no cgroup2 mount): update_begin() refuses with a clear
 * message; there is no process-tree fallback (a process tree is what a
 * double fork escapes from, and that is exactly what package scripts do).
 */

#define UP_STALE 8

static struct {
	const struct hmd_config *cfg;
	pthread_mutex_t lock;
	char c2[PATH_MAX]; /* cgroup2 mount point, "" when none */
	char root[PATH_MAX]; /* parent of the session cgroups */
	uint64_t session; /* open session, 0 when none */
	pid_t who; /* the updater: the CLI, or the package manager for the hooks */
	uint64_t who_start; /* its start time (proc_start_time), 0: unknown */
	char dir[PATH_MAX]; /* its cgroup directory */
	char rel[PATH_MAX]; /* ... as /proc/<pid>/cgroup names it */
	char origin[PATH_MAX]; /* who's cgroup directory before */
	char stale[UP_STALE][PATH_MAX]; /* committed, still busy: rmdir later */
	/* a commit being hashed (window.c): who is told when it is done */
	struct {
		window_done_fn *fn;
		void *arg;
		uint64_t id;
		bool ok, keep;
	} done;
} up = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Session cgroups left by an hmilockd that died during an update: their
 * session is PENDING now; remove the ones that have emptied. */
static void up_sweep(void)
{
	char path[PATH_MAX + 300];
	struct dirent *d;
	DIR *dir = opendir(up.root);

	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (d->d_name[0] == 's' && d->d_type == DT_DIR) {
			snprintf(path, sizeof(path), "%s/%s", up.root, d->d_name);
			if (rmdir(path) < 0)
				log_msg(LOG_WARNING, "old update cgroup %s: %s", path,
				        strerror(errno));
		}
	closedir(dir);
}

int update_init(const struct hmd_config *cfg)
{
	up.cfg = cfg;
	if (mounts_find_fstype("cgroup2", up.c2, sizeof(up.c2)) < 0 || !up.c2[0]) {
		log_msg(LOG_WARNING, "no cgroup v2 mount: `hmilock update` is refused on this box "
		                     "(trusted updates need cgroup v2)");
		return 0;
	}
	if (cfg->cgroup_root[0])
		snprintf(up.root, sizeof(up.root), "%s", cfg->cgroup_root);
	else if (snprintf(up.root, sizeof(up.root), "%s/hmilock-update", up.c2) >=
	         (int)sizeof(up.root))
		up.root[0] = '\0';
	if (!wl_path_below(up.c2, up.root) || !strcmp(up.c2, up.root)) {
		log_msg(LOG_ERR,
		        "[update] cgroup_root %s is not below the cgroup v2 mount %s: "
		        "`hmilock update` is refused",
		        up.root, up.c2);
		up.root[0] = '\0';
		return 0;
	}
	up_sweep();
	/* The root is made now, while we still hold every capability: the
	 * cgroup2 root systemd mounts is mode 0555, and a mkdir there needs
	 * CAP_DAC_OVERRIDE, which is gone by the first update (the Debian
	 * guest's `hmilock update` and apt hook failed with EACCES). Below our
	 * own 0755 directory the session cgroups need none. A configured root
	 * that cannot be made refuses updates; the default one is tried again
	 * at the first update (a read-only cgroup2 mount). */
	if (mkdir(up.root, 0755) < 0 && errno != EEXIST) {
		if (cfg->cgroup_root[0]) {
			log_msg(LOG_ERR, "cannot create %s: %s: `hmilock update` is refused",
			        up.root, strerror(errno));
			up.root[0] = '\0';
		} else {
			log_msg(LOG_WARNING,
			        "cannot create %s: %s: `hmilock update` will be refused unless "
			        "[update] cgroup_root names a writable place below %s",
			        up.root, strerror(errno), up.c2);
		}
	}
	return 0;
}

/* The cgroup v2 path of pid ("0::/a/b" -> "/a/b"). 0, -ESRCH or -ENOENT. */
static int up_cgroup_of(pid_t pid, char *out, size_t len)
{
	char p[64], line[PATH_MAX + 8];
	FILE *f;
	int rc = -ENOENT;

	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -ESRCH;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		rc = snprintf(out, len, "%s", line + 3) >= (int)len ? -ENAMETOOLONG : 0;
		break;
	}
	fclose(f);
	return rc;
}

/* Read on every exec by the fanotify reader: an atomic, not up.lock. */
static atomic_bool up_on;

bool update_active(void)
{
	return atomic_load_explicit(&up_on, memory_order_relaxed);
}

/* Is the cgroup cg (as /proc/<pid>/cgroup names it) the session's? Nested
 * cgroups the updater makes below its own count as its own. */
static bool up_in_session(const char *cg)
{
	bool member;

	pthread_mutex_lock(&up.lock);
	member = up.rel[0] && wl_path_below(up.rel, cg);
	pthread_mutex_unlock(&up.lock);
	return member;
}

int update_pid_member(pid_t pid)
{
	char cg[PATH_MAX];
	int rc = up_cgroup_of(pid, cg, sizeof(cg));

	if (rc == -ESRCH)
		return rc;
	return rc == 0 && up_in_session(cg) ? 1 : 0;
}

bool update_exec_allowed(pid_t pid, const struct stat *st)
{
	if (!update_active())
		return false;
	if (update_pid_member(pid) != 1)
		return false;
	if (recorder_exec_written(st->st_dev, st->st_ino))
		return true;
	/* The updater may run what it wrote a moment ago, before the main
	 * thread read that change: read what is queued, then look again. */
	recorder_handle();
	return recorder_exec_written(st->st_dev, st->st_ino);
}

/* A writer reaped before its change was read: did the kernel helper see the
 * session's cgroup write the file now at path, and nobody else since? (What
 * is there now is what the commit hashes.) */
static bool up_helper_saw(const char *path)
{
	return helper_update_wrote_path(path);
}

/* The recorder's attribution rule while a session is open: a change is
 * the session's when its writer is in the session cgroup, as /proc said
 * while the writer's pidfd still named it (see the top). pidfd -1: the
 * writer was reaped before the event was read, or the kernel gives no
 * pidfds (RECORDER_NO_PIDFDS: the pid is taken as it is). Called under the
 * recorder's read lock, by whichever thread reads. */
static enum recorder_attr up_attribute(void *arg, pid_t pid, int pidfd, const char *path)
{
	char cg[PATH_MAX];
	int rc = pidfd < 0 && recorder_pidfds() ? -ESRCH : up_cgroup_of(pid, cg, sizeof(cg));

	(void)arg;
	if (rc == 0 && pidfd >= 0 && !recorder_pidfd_alive(pidfd))
		rc = -ESRCH; /* reaped while /proc was read: maybe another's pid */
	if (rc == 0)
		return up_in_session(cg) ? RECORDER_RECORD : RECORDER_IGNORE;
	if (rc != -ESRCH)
		return RECORDER_IGNORE;
	if (up_helper_saw(path)) {
		log_msg(LOG_INFO,
		        "update session: writer pid %d of %s was gone before its change was read; "
		        "the kernel helper saw the session write it",
		        (int)pid, path);
		return RECORDER_RECORD;
	}
	log_msg(LOG_WARNING,
	        "update session: writer pid %d of %s was gone before its change was read, "
	        "cannot tell its cgroup: not approved",
	        (int)pid, path);
	return RECORDER_UNATTRIBUTED;
}

static int up_mkdir(char *msg, size_t len, uint64_t id)
{
	if (mkdir(up.root, 0755) < 0 && errno != EEXIST)
		return snprintf(msg, len,
		                "cannot create %s: %s (a read-only cgroup2 root: set [update] "
		                "cgroup_root, which hmilockd creates at start)",
		                up.root, strerror(errno)),
		       -errno;
	if (snprintf(up.dir, sizeof(up.dir), "%s/s%llu", up.root, (unsigned long long)id) >=
	    (int)sizeof(up.dir))
		return snprintf(msg, len,
		                "the session cgroup below %s: path too long (set a shorter "
		                "[update] cgroup_root)",
		                up.root),
		       -ENAMETOOLONG;
	if (mkdir(up.dir, 0755) < 0)
		return snprintf(msg, len,
		                "cannot create the cgroup %s: %s (check [update] cgroup_root, "
		                "or use a maintenance window)",
		                up.dir, strerror(errno)),
		       -errno;
	snprintf(up.rel, sizeof(up.rel), "%s", up.dir + strlen(up.c2));
	return 0;
}

int update_begin(pid_t by, pid_t who, uint64_t *session, char *cgroup, char *origin, size_t pathlen,
                 char *msg, size_t len)
{
	char cg[PATH_MAX];
	uint64_t id = (uint64_t)time(NULL) * 1000 + (uint64_t)(by % 1000);
	int rc;

	if (!up.root[0])
		return snprintf(msg, len,
		                "trusted updates need cgroup v2 (%s): %s, or use a maintenance "
		                "window (hmilock maintenance begin ... end)",
		                up.c2[0] ? "[update] cgroup_root is not below its mount"
		                         : "no cgroup2 filesystem is mounted",
		                up.c2[0] ? "fix [update] cgroup_root" : "mount cgroup2"),
		       -EOPNOTSUPP;
	if (up.session)
		return snprintf(msg, len,
		                "a trusted update (session %llu, pid %d) is running already: "
		                "wait for it to end (hmilock maintenance status)",
		                (unsigned long long)up.session, (int)up.who),
		       -EBUSY;
	if (up_cgroup_of(who, cg, sizeof(cg)) < 0)
		return snprintf(msg, len,
		                "pid %d (the process to run as the updater): no such process, "
		                "or not in a cgroup v2 hierarchy",
		                (int)who),
		       -ESRCH;
	rc = window_session_open(STATE_W_UPDATE, 0, up_attribute, NULL, msg, len);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&up.lock);
	rc = up_mkdir(msg, len, id);
	if (rc == 0) {
		up.session = id;
		atomic_store(&up_on, true);
		up.who = who;
		if (proc_start_time(who, &up.who_start) < 0)
			up.who_start = 0;
		if (snprintf(up.origin, sizeof(up.origin), "%s%s", up.c2,
		             strcmp(cg, "/") ? cg : "") >= (int)sizeof(up.origin))
			up.origin[0] = '\0';
	}
	pthread_mutex_unlock(&up.lock);
	if (rc < 0) {
		char m2[64];

		window_session_commit(false, false, NULL, NULL, m2, sizeof(m2)); /* at once */
		return rc;
	}
	/* The kernel helper lets this cgroup write approved files (no-op
	 * while the helper is not loaded). */
	if (helper_set_updater_cgroup(up.dir, true) < 0)
		log_msg(LOG_ERR, "kernel helper did not take the update cgroup %s", up.dir);
	*session = id;
	atomic_fetch_add_explicit(&hmd_stats.update_sessions, 1, memory_order_relaxed);
	snprintf(cgroup, pathlen, "%s", up.dir);
	snprintf(origin, pathlen, "%s", up.origin);
	log_msg(LOG_NOTICE, "trusted update session %llu opened by pid %d for pid %d: cgroup %s",
	        (unsigned long long)id, (int)by, (int)who, up.dir);
	snprintf(msg, len, "session %llu", (unsigned long long)id);
	return 0;
}

int update_info(uint64_t *session, pid_t *who, char *cgroup, char *origin, size_t pathlen)
{
	if (!up.session)
		return -ENOENT;
	*session = up.session;
	*who = up.who;
	snprintf(cgroup, pathlen, "%s", up.dir);
	snprintf(origin, pathlen, "%s", up.origin);
	return 0;
}

static void up_rmdir_later(const char *dir)
{
	size_t i;

	if (rmdir(dir) == 0 || errno == ENOENT)
		return;
	log_msg(LOG_WARNING,
	        "update cgroup %s still has processes (%s): their writes are no "
	        "longer trusted; removed once empty",
	        dir, strerror(errno));
	for (i = 0; i < UP_STALE; i++)
		if (!up.stale[i][0]) {
			snprintf(up.stale[i], sizeof(up.stale[i]), "%s", dir);
			return;
		}
}

/* The session's end is settled (at once, or from up_committed). */
static void up_commit_finish(uint64_t id, bool ok, bool keep, int rc, const char *res, char *msg,
                             size_t len)
{
	log_msg(rc < 0 ? LOG_ERR : LOG_NOTICE, "trusted update session %llu ended (%s): %s",
	        (unsigned long long)id,
	        ok     ? "command succeeded"
	        : keep ? "command failed, --keep-on-failure"
	               : "command failed, nothing approved",
	        res);
	snprintf(msg, len, "%s%s", ok || keep ? "" : "the command failed: ", res);
}

static void up_committed(void *arg, int rc, const char *res)
{
	char msg[600];

	(void)arg;
	up_commit_finish(up.done.id, up.done.ok, up.done.keep, rc, res, msg, sizeof(msg));
	if (up.done.fn)
		up.done.fn(up.done.arg, rc, msg);
	up.done.fn = NULL;
}

int update_commit(uint64_t session, bool ok, bool keep, bool no_prescan, window_done_fn *done,
                  void *arg, char *msg, size_t len)
{
	char res[512], dir[PATH_MAX];
	bool approve = ok || keep;
	uint64_t id = up.session;
	int rc;

	if (window_busy(msg, len))
		return -EBUSY;
	if (!id || (session && session != id))
		return snprintf(msg, len,
		                "no trusted update session %llu is open (hmilock maintenance "
		                "status shows what is)",
		                (unsigned long long)session),
		       -ENOENT;
	/* Still a session while the recorder reads what is queued (through
	 * up_attribute); hashing comes after, on the committer thread. */
	rc = window_session_commit(approve, no_prescan, up_committed, NULL, res, sizeof(res));
	pthread_mutex_lock(&up.lock);
	snprintf(dir, sizeof(dir), "%s", up.dir);
	up.session = 0;
	atomic_store(&up_on, false);
	up.rel[0] = '\0';
	pthread_mutex_unlock(&up.lock);
	helper_set_updater_cgroup(dir, false);
	up_rmdir_later(dir);
	if (rc == -EINPROGRESS) {
		up.done.fn = done;
		up.done.arg = arg;
		up.done.id = id;
		up.done.ok = ok;
		up.done.keep = keep;
		snprintf(msg, len, "%s", res);
		return rc;
	}
	up_commit_finish(id, ok, keep, rc, res, msg, len);
	return rc;
}

/* Is the updater still the process that opened the session? */
static bool up_who_alive(void)
{
	uint64_t t;

	return up.who_start && proc_start_time(up.who, &t) == 0 && t == up.who_start;
}

/* Has the open session's cgroup emptied without a commit (the package
 * manager or the CLI was killed)? Then nobody will commit it. An empty
 * cgroup while the updater lives is its way to the commit: the CLI and the
 * apt hook's commit move it back to its cgroup first, and a loaded box may
 * take a while between the two. */
static void up_check_abandoned(void)
{
	char path[PATH_MAX + 16], line[64];
	bool empty = false;
	FILE *f;

	if (!up.session || (uint64_t)time(NULL) * 1000 < up.session + 2000)
		return;
	snprintf(path, sizeof(path), "%s/cgroup.events", up.dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "populated 0\n"))
			empty = true;
	fclose(f);
	if (!empty || up_who_alive())
		return;
	snprintf(line, sizeof(line), "trusted update session %llu abandoned",
	         (unsigned long long)up.session);
	window_session_interrupt(line);
	helper_set_updater_cgroup(up.dir, false);
	pthread_mutex_lock(&up.lock);
	up.session = 0;
	atomic_store(&up_on, false);
	up.rel[0] = '\0';
	pthread_mutex_unlock(&up.lock);
	up_rmdir_later(up.dir);
}

void update_tick(void)
{
	size_t i;

	up_check_abandoned();

	for (i = 0; i < UP_STALE; i++)
		if (up.stale[i][0] && (rmdir(up.stale[i]) == 0 || errno == ENOENT))
			up.stale[i][0] = '\0';
}

void update_fini(void)
{
	/* An open session stays PENDING in the state file; its cgroup is
	 * removed when empty (the next start does not know it: best effort). */
	if (up.session)
		rmdir(up.dir);
	update_tick();
}
