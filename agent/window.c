/* window.c - maintenance windows and trusted-update sessions: owns which
 * one is open (through the state file, state.c), the drops of a review,
 * the plan built last, and the committer: one thread per job (building a
 * plan, or a commit), started for it and joined after, and the eventfd
 * (wn.efd) it writes when done, which the main loop watches (window_fd).
 * A job's thread reads only its job (a snapshot of the record) and the
 * list in force, and writes the next list generation; everything else
 * here, the state file and the mode included, is the main thread's. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hmilock_ctl.h"
#include "journal.h"
#include "list.h"
#include "log.h"
#include "recorder.h"
#include "state.h"
#include "stats.h"
#include "window.h"
#include "written.h"
#include "../kmod/hmilock_abi.h"

#define WN_WAITERS 16 /* requests waiting for one plan */

struct wn_count {
	size_t add, change, same, remove, skip, dropped, held, accepted;
	size_t known_bad, unscannable; /* NOT approved by the prescan */
	size_t refresh; /* of same: a new file (inode, times, mode) with the listed content */
};

/* Paths a review sent: dropped, or accepted though held. */
struct wn_paths {
	char **v;
	size_t n;
};

struct wn_job {
	pthread_t tid;
	bool running; /* started, not yet joined (main thread) */
	bool commit; /* a commit, else a plan */
	bool hold; /* hold the changes of writers that are not [maintenance] writers */
	bool no_prescan; /* commit: the operator skipped the prescan */
	struct wl_prescan *ps; /* commit: [prescan], loaded by the thread (owned) */
	char bad[2][160]; /* commit: the first known-bad files, with signatures */
	atomic_bool done; /* the thread has finished its work */
	atomic_bool cancel; /* window_fini: stop between two files */
	struct recorder_entry *ents; /* the snapshot worked on (owned) */
	size_t n;
	uint64_t version; /* of the record the snapshot was taken from */
	uint64_t serial; /* plan: of the list it was built against */
	uint32_t *kinds; /* plan: HMC_PK_* of each entry */
	struct wn_count c; /* commit: what it did */
	bool wrote; /* commit: a new list generation was written */
	int rc;
	struct wl_err err;
};

struct wn_waiter {
	window_done_fn *fn;
	void *arg;
};

static struct {
	const struct hmd_config *cfg;
	int efd;
	/* the drops and accepts of a review, sent by one client before its end */
	uint64_t drop_client; /* 0: none */
	struct wn_paths drops, accepts;
	/* the plan built last */
	struct recorder_entry *plan_ents;
	uint32_t *plan_kinds;
	size_t plan_n;
	uint64_t plan_version, plan_serial;
	bool plan_valid;
	/* the committer's jobs; at most one of each kind at a time */
	struct wn_job plan_job, commit_job;
	struct wn_waiter plan_waiters[WN_WAITERS];
	size_t n_plan_waiters;
	/* the commit in flight: what is being closed, who is told */
	enum state_window closing;
	struct wn_waiter commit_done;
	/* window_end()'s part of it: restore the mode, log, tell its client */
	struct wn_waiter end_done;
	pid_t end_by;
	bool end_discard, end_restore;
	enum hmd_mode end_mode;
	size_t known_bad; /* of the commit finished last (main thread) */
} wn = {.efd = -1};

/* Internal results of wn_plan_one, never in a plan sent out. */
enum { WN_KNOWN_BAD = HMC_PK__MAX, WN_UNSCANNABLE };

#define WN_LOCK_WAIT_MS 10000 /* on the committer thread: the main loop runs on */

/* ---- the committer thread (reads its job and the list only) -------------- */

/* Listed entries at or below dir that no longer exist; each removed from
 * s when s is not NULL. */
static size_t wn_tree_gone(const struct wl_db *db, const char *dir, struct wl_set *s)
{
	struct wl_rec rec;
	struct stat st;
	size_t i, n = 0;

	for (i = 0; i < wl_db_count(db); i++) {
		wl_db_at(db, i, &rec);
		if (!wl_path_below(dir, rec.path) || lstat(rec.path, &st) == 0)
			continue;
		n++;
		if (s)
			wl_set_remove(s, rec.path);
	}
	return n;
}

/* An ADD or CHANGE of a commit, prescanned on its fd: kind, or
 * WN_KNOWN_BAD / WN_UNSCANNABLE (logged; e freed). */
static uint32_t wn_prescan(struct wn_job *j, int fd, struct wl_entry *e, uint32_t kind)
{
	char sig[WL_PRESCAN_SIG_LEN];
	struct wl_err err = {0};
	int rc;

	if (!j->ps || (kind != HMC_PK_ADD && kind != HMC_PK_CHANGE))
		return kind;
	rc = wl_prescan_fd(j->ps, fd, e->path, e->sha256, e->size, sig, sizeof(sig), &err);
	if (rc == WL_PRESCAN_UNSCANNED)
		log_msg(LOG_NOTICE,
		        "maintenance: %s is larger than the prescan's engine scans: checked "
		        "against the blocklists only",
		        e->path);
	if (rc >= 0 && rc != WL_PRESCAN_BAD)
		return kind;
	if (rc < 0) {
		log_msg(LOG_ERR, "maintenance: NOT approved: %s", err.msg);
		kind = WN_UNSCANNABLE;
	} else {
		log_msg(LOG_WARNING, "maintenance: NOT approved, known-bad: %s (%s)", e->path, sig);
		if (j->c.known_bad < sizeof(j->bad) / sizeof(j->bad[0]))
			snprintf(j->bad[j->c.known_bad], sizeof(j->bad[0]), "%.100s (%.50s)",
			         e->path, sig);
		log_known_bad("approve", getpid(), e->path, e->sha256);
		kind = WN_KNOWN_BAD;
	}
	wl_entry_free(e);
	memset(e, 0, sizeof(*e));
	return kind;
}

/* What the end does with one recorded path; *e filled (caller frees) for
 * ADD and CHANGE. Hashes through an fd opened O_NOFOLLOW: a symlink or a
 * special file put in place of a path is never followed or read. A commit
 * prescans (j->ps) what it would approve on the same fd. */
static uint32_t wn_plan_path(struct wn_job *j, const struct wl_db *db,
                             const struct recorder_entry *r, struct wl_entry *e)
{
	struct wl_class cls = {0};
	struct wl_err err = {0};
	struct wl_rec rec;
	bool listed = wl_db_find_path(db, r->path, &rec) == 0, qual;
	struct stat st;
	uint32_t kind;
	int fd;

	memset(e, 0, sizeof(*e));
	if (r->op == 'T')
		return wn_tree_gone(db, r->path, NULL) ? HMC_PK_REMOVE : HMC_PK_SKIP;
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
	qual = wl_class_qualifies(&cls, e->mode);
	wl_class_free(&cls);
	if (listed)
		kind = memcmp(rec.sha256, e->sha256, WL_SHA256_LEN) ? HMC_PK_CHANGE : HMC_PK_SAME;
	else
		kind = qual ? HMC_PK_ADD : HMC_PK_SKIP;
	if (!j->hold || config_is_writer(wn.cfg, r->uid)) /* held: not approved anyway */
		kind = wn_prescan(j, fd, e, kind);
	close(fd);
	return kind;
}

/* wn_plan_path, and a change that would add or change an entry is HELD
 * when hold is set and its writer is not one of [maintenance] writers
 * (another user, or nobody could be named: recorder.c): only the
 * operator's explicit accept in a review approves it. A removal is never
 * held: it only takes an entry of a file that is gone off the list. */
static uint32_t wn_plan_one(struct wn_job *j, const struct wl_db *db,
                            const struct recorder_entry *r, struct wl_entry *e)
{
	uint32_t kind = wn_plan_path(j, db, r, e);

	if (j->hold && (kind == HMC_PK_ADD || kind == HMC_PK_CHANGE) &&
	    !config_is_writer(wn.cfg, r->uid)) {
		wl_entry_free(e);
		memset(e, 0, sizeof(*e));
		return HMC_PK_HELD;
	}
	return kind;
}

static void wn_plan_run(struct wn_job *j)
{
	struct hmd_list *l = list_get();
	struct wl_entry e;
	size_t i;

	j->serial = list_serial(l);
	for (i = 0; i < j->n && !atomic_load(&j->cancel); i++) {
		j->kinds[i] = wn_plan_one(j, list_db(l), &j->ents[i], &e);
		wl_entry_free(&e);
	}
	list_put(l);
	j->rc = i < j->n ? -ECANCELED : 0;
}

#define WN_HELD_LOGGED 100 /* held paths named one by one in the log */

/* Name a held change in the log (the first WN_HELD_LOGGED of a commit). */
static void wn_held_log(const struct recorder_entry *r, size_t nth)
{
	char who[32];

	if (nth >= WN_HELD_LOGGED)
		return;
	if (r->uid == JOURNAL_UID_NONE)
		snprintf(who, sizeof(who), "an unknown writer");
	else
		snprintf(who, sizeof(who), "uid %u", r->uid);
	log_msg(LOG_NOTICE, "maintenance: NOT approved: %s, written by %s", r->path, who);
}

/* Is e, with the listed content, another file than the record says (dpkg
 * unpacked an identical file over it, or its times or mode changed)? Its
 * record is then written anew: the kernel helper approves by inode (a
 * listed path whose inode it does not know is denied: a library, or
 * hmilockd's own binary restarted after a reinstall, with no daemon to ask),
 * and the daemon's fast path by the recorded identity. */
static bool wn_same_moved(const struct wl_db *db, const struct wl_entry *e)
{
	struct wl_rec r;

	if (wl_db_find_path(db, e->path, &r))
		return false;
	return r.dev != e->dev || r.ino != e->ino || r.size != e->size || r.mode != e->mode ||
	       r.uid != e->uid || r.gid != e->gid || r.mtime_sec != e->mtime_sec ||
	       r.mtime_nsec != e->mtime_nsec || r.ctime_sec != e->ctime_sec ||
	       r.ctime_nsec != e->ctime_nsec;
}

/* Apply the snapshot to s, the list's copy. 0 or -ECANCELED. */
static int wn_apply(struct wn_job *j, const struct wl_db *db, struct wl_set *s)
{
	struct wn_count *c = &j->c;
	const struct recorder_entry *r;
	struct wl_entry e;
	uint32_t kind;
	size_t i;

	for (i = 0; i < j->n; i++) {
		if (atomic_load(&j->cancel))
			return -ECANCELED;
		r = &j->ents[i];
		kind = wn_plan_one(j, db, r, &e);
		if (kind == HMC_PK_HELD)
			wn_held_log(r, c->held++);
		else if (kind == WN_KNOWN_BAD)
			c->known_bad++;
		else if (kind == WN_UNSCANNABLE)
			c->unscannable++;
		else if (r->op == 'T' && kind == HMC_PK_REMOVE)
			c->remove += wn_tree_gone(db, r->path, s);
		else if ((kind == HMC_PK_ADD || kind == HMC_PK_CHANGE) && wl_set_put(s, &e) == 0)
			kind == HMC_PK_ADD ? c->add++ : c->change++;
		else if (kind == HMC_PK_REMOVE && wl_set_remove(s, r->path) == 0)
			c->remove++;
		else if (kind == HMC_PK_SAME) {
			c->same++;
			if (wn_same_moved(db, &e) && wl_set_put(s, &e) == 0)
				c->refresh++;
		} else
			c->skip++;
		wl_entry_free(&e);
	}
	return 0;
}

/* [prescan] for a commit, read anew each time from the configuration file
 * with the databases it names (the operator may have named or copied in
 * newer ones in the window this commit ends; the file is the helper's to
 * protect while locked): one that does not load fails the commit, which
 * approves nothing and leaves the changes waiting for review. */
static int wn_prescan_load(struct wn_job *j)
{
	struct hmd_config *now = malloc(sizeof(*now));
	char msg[400];
	int rc;

	if (j->no_prescan) {
		free(now);
		log_msg(LOG_WARNING,
		        "maintenance: --no-prescan: the changes are approved without a "
		        "prescan; the list says so in hmilock status");
		return 0;
	}
	if (!now)
		return wl_err_set(&j->err, -ENOMEM, WL_E_NOMEM, "out of memory");
	rc = config_load(now, wn.cfg->path, msg, sizeof(msg));
	if (rc < 0) {
		free(now);
		return wl_err_set(&j->err, rc, WL_E_USAGE, "%.400s", msg);
	}
	rc = wl_prescan_load_config(now, &j->ps, &j->err);
	free(now);
	if (rc < 0) {
		char why[sizeof(j->err.msg)];

		snprintf(why, sizeof(why), "%s", j->err.msg);
		snprintf(j->err.msg, sizeof(j->err.msg), "%.80s: [prescan]: %.380s", wn.cfg->path,
		         why);
		return rc;
	}
	if (j->ps)
		log_msg(LOG_INFO, "maintenance: prescan: %s", wl_prescan_describe(j->ps));
	return 0;
}

/* Hash, build the set and write the next list generation (not loaded:
 * that is the main thread's, in wn_commit_finish). */
static void wn_commit_run(struct wn_job *j)
{
	uint8_t key[WL_KEY_LEN];
	struct hmd_list *l = list_get();
	struct wl_set *s = wl_set_new();
	struct wl_db_lock *lk = NULL;
	int rc = s ? wl_key_load(wn.cfg->key, key, &j->err) : -ENOMEM;

	if (rc == 0)
		rc = wn_prescan_load(j);
	if (rc == 0)
		rc = wl_db_to_set(list_db(l), s, &j->err);
	if (rc == 0)
		rc = wn_apply(j, list_db(l), s);
	if (rc == 0 && j->c.add + j->c.change)
		wl_set_set_flags(s,
		                 wl_db_flags_after(wl_set_flags(s), j->ps != NULL, j->no_prescan));
	if (rc == -ECANCELED)
		snprintf(j->err.msg, sizeof(j->err.msg),
		         "hmilockd stopped before every change was hashed");
	/* The writer protocol (wl.h): another writer (the CLI) holds the lock
	 * briefly; the plan was made against the loaded list, and the write
	 * refuses (-ESTALE) when the file has moved on since. */
	if (rc == 0 && j->c.add + j->c.change + j->c.remove + j->c.refresh)
		rc = wl_db_lock(wn.cfg->db, WN_LOCK_WAIT_MS, &lk, &j->err);
	if (rc == 0 && j->c.add + j->c.change + j->c.remove + j->c.refresh) {
		rc = wl_db_write(lk, s, list_generation(l) + 1, list_generation(l), key, &j->err);
		j->wrote = rc == 0;
	}
	wl_db_unlock(lk);
	explicit_bzero(key, sizeof(key));
	list_put(l);
	wl_set_free(s);
	wl_prescan_free(j->ps);
	j->ps = NULL;
	j->rc = rc;
}

static void *wn_thread(void *arg)
{
	struct wn_job *j = arg;
	uint64_t one = 1;

	pthread_setname_np(pthread_self(), j->commit ? "hmilockd-commit" : "hmilockd-plan");
	if (j->commit)
		wn_commit_run(j);
	else
		wn_plan_run(j);
	atomic_store(&j->done, true);
	if (write(wn.efd, &one, sizeof(one)) != sizeof(one))
		log_msg(LOG_ERR, "maintenance: cannot wake the main loop: %s", strerror(errno));
	return NULL;
}

/* ---- jobs (main thread) ---------------------------------------------------- */

static int wn_job_start(struct wn_job *j, bool commit)
{
	int e;

	j->commit = commit;
	j->rc = 0;
	j->wrote = false;
	memset(&j->err, 0, sizeof(j->err));
	atomic_store(&j->done, false);
	atomic_store(&j->cancel, false);
	e = pthread_create(&j->tid, NULL, wn_thread, j);
	if (e)
		return -e;
	j->running = true;
	return 0;
}

static void wn_job_clear(struct wn_job *j)
{
	free(j->ents);
	free(j->kinds);
	j->ents = NULL;
	j->kinds = NULL;
	j->n = 0;
	memset(&j->c, 0, sizeof(j->c));
}

static void wn_plan_drop(void)
{
	free(wn.plan_ents);
	free(wn.plan_kinds);
	wn.plan_ents = NULL;
	wn.plan_kinds = NULL;
	wn.plan_n = 0;
	wn.plan_valid = false;
}

bool window_busy(char *msg, size_t len)
{
	if (!wn.commit_job.running)
		return false;
	snprintf(msg, len,
	         "%s is being closed: hashing %zu files; try again once it is done "
	         "(hmilock maintenance status)",
	         wn.closing == STATE_W_UPDATE ? "a trusted update session"
	                                      : "the maintenance window",
	         wn.commit_job.n);
	return true;
}

/* ---- drops of a review ------------------------------------------------------- */

static void wn_paths_clear(struct wn_paths *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static void wn_drops_clear(void)
{
	wn_paths_clear(&wn.drops);
	wn_paths_clear(&wn.accepts);
	wn.drop_client = 0;
}

static bool wn_in(const struct wn_paths *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->v[i], path))
			return true;
	return false;
}

void window_client_gone(uint64_t client)
{
	if (client && client == wn.drop_client)
		wn_drops_clear();
}

int window_drop(uint64_t client, const char (*paths)[PATH_MAX], size_t n, bool accept, char *msg,
                size_t len)
{
	struct wn_paths *p = accept ? &wn.accepts : &wn.drops;
	char **t;
	size_t i;

	if (window_busy(msg, len))
		return -EBUSY;
	if (client != wn.drop_client)
		wn_drops_clear();
	wn.drop_client = client;
	t = realloc(p->v, (p->n + n) * sizeof(*t));
	if (!t && n)
		return snprintf(msg, len, "out of memory"), -ENOMEM;
	p->v = t;
	for (i = 0; i < n; i++)
		if ((p->v[p->n] = strdup(paths[i])))
			p->n++;
	snprintf(msg, len, "%zu entries dropped, %zu held ones accepted so far", wn.drops.n,
	         wn.accepts.n);
	return 0;
}

/* ---- the plan ------------------------------------------------------------------ */

/* Are non-writers' changes held? In a maintenance window and in the review
 * of an interrupted one (whatever it was), not in an update session: its
 * writers are told apart by cgroup (update.c), whoever they run as. */
static bool wn_hold(void)
{
	struct state_file sf;

	state_file_get(&sf);
	return sf.window != STATE_W_UPDATE;
}

int window_plan_build(window_done_fn *done, void *arg, char *msg, size_t len)
{
	struct wn_job *j = &wn.plan_job;
	int rc;

	if (window_busy(msg, len))
		return -EBUSY;
	if (wn.plan_valid && wn.plan_version == recorder_version() &&
	    (!wn.plan_n || wn.plan_serial == list_current_serial()))
		return 0;
	if (wn.n_plan_waiters == WN_WAITERS)
		return snprintf(msg, len, "too many requests wait for the changes, try again"),
		       -EBUSY;
	if (!j->running) {
		j->hold = wn_hold();
		j->ents = recorder_snapshot(&j->n, &j->version, &rc);
		if (!rc && !j->n) { /* nothing recorded: nothing to hash */
			wn_plan_drop();
			wn.plan_valid = true;
			wn.plan_version = j->version;
			return 0;
		}
		if (!rc && !(j->kinds = calloc(j->n, sizeof(*j->kinds))))
			rc = -ENOMEM;
		if (!rc)
			rc = wn_job_start(j, false);
		if (rc) {
			wn_job_clear(j);
			return snprintf(msg, len, "cannot compute the changes: %s", strerror(-rc)),
			       rc;
		}
	}
	/* A request that comes while a plan is built gets that plan. */
	wn.plan_waiters[wn.n_plan_waiters++] = (struct wn_waiter){done, arg};
	snprintf(msg, len, "hashing %zu files", j->n);
	return -EINPROGRESS;
}

int window_plan_at(size_t i, size_t *total, uint32_t *kind, uint32_t *uid, char *path, size_t len)
{
	if (!wn.plan_valid)
		return -ENODATA;
	*total = wn.plan_n;
	if (i >= wn.plan_n)
		return -ENOENT;
	*kind = wn.plan_kinds[i];
	*uid = wn.plan_ents[i].op == 'W' ? wn.plan_ents[i].uid : JOURNAL_UID_NONE;
	snprintf(path, len, "%s", wn.plan_ents[i].path);
	return 0;
}

static void wn_plan_finish(void)
{
	struct wn_job *j = &wn.plan_job;
	struct wn_waiter w[WN_WAITERS];
	size_t n = wn.n_plan_waiters, i;
	char msg[128] = "";
	int rc;

	pthread_join(j->tid, NULL);
	j->running = false;
	rc = j->rc;
	if (rc == 0) {
		wn_plan_drop();
		wn.plan_ents = j->ents;
		wn.plan_kinds = j->kinds;
		wn.plan_n = j->n;
		wn.plan_version = j->version;
		wn.plan_serial = j->serial;
		wn.plan_valid = true;
		j->ents = NULL;
		j->kinds = NULL;
	} else {
		snprintf(msg, sizeof(msg), "cannot compute the changes: %s", strerror(-rc));
	}
	wn_job_clear(j);
	memcpy(w, wn.plan_waiters, n * sizeof(*w));
	wn.n_plan_waiters = 0;
	for (i = 0; i < n; i++)
		w[i].fn(w[i].arg, rc, msg);
}

/* ---- windows and sessions -------------------------------------------------- */

int window_session_open(enum state_window kind, uint32_t timeout_s, recorder_attr_fn *attr,
                        void *arg, char *msg, size_t len)
{
	const char *what = kind == STATE_W_MAINT ? "maintenance window" : "trusted update session";
	struct state_file sf;
	struct hmd_list *l;
	char why[400];
	uint64_t gen;
	int rc;

	if (window_busy(msg, len))
		return -EBUSY;
	l = list_get();
	gen = list_generation(l);
	list_put(l);
	state_file_get(&sf);
	if (sf.window == STATE_W_PENDING)
		return snprintf(msg, len,
		                "changes of an interrupted window wait for review: run `hmilock "
		                "maintenance end --review` (or `end --discard`) first"),
		       -EBUSY;
	if (sf.window != STATE_W_NONE)
		return snprintf(msg, len, "a %s is open already: %s",
		                sf.window == STATE_W_MAINT ? "maintenance window"
		                                           : "trusted update session",
		                sf.window == STATE_W_MAINT
		                    ? "make the change inside it, or end it first (hmilock "
		                      "maintenance end)"
		                    : "wait for it to end (hmilock maintenance status)"),
		       -EBUSY;
	recorder_forget();
	wn_plan_drop();
	rc = journal_create(kind == STATE_W_MAINT ? "maintenance" : "update", timeout_s, gen,
	                    config_mode_name((enum hmd_mode)state_mode()));
	if (rc < 0)
		return snprintf(msg, len,
		                "cannot create the journal %s: %s (its directory, the list's, "
		                "must be writable and have room)",
		                journal_path(), strerror(-rc)),
		       rc;
	sf.window = kind;
	sf.start = (uint64_t)time(NULL);
	sf.deadline = timeout_s ? sf.start + timeout_s : 0;
	sf.generation = gen;
	rc = state_file_put(&sf);
	if (rc < 0 && state_sibling("state", why, sizeof(why)) == 0)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), ": cannot write: %s",
		         strerror(-rc));
	else
		rc = recorder_start(attr, arg, why, sizeof(why));
	if (rc < 0) {
		journal_close();
		journal_remove();
		sf.window = STATE_W_NONE;
		state_file_put(&sf);
		log_msg(LOG_ERR, "%s not opened: %s", what, why);
		return snprintf(msg, len, "%s not opened: %s", what, why), rc;
	}
	return 0;
}

/* Now as ISO 8601 UTC (the state file's "last" line, shown by status). */
static const char *wn_utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* The second half of closing a window: after a failed commit the changes
 * wait for review; else the state file says it is over and the journal
 * and the record go. msg gets the outcome. */
static void wn_session_close(int rc, const char *res, char *msg, size_t len)
{
	char when[32];
	struct state_file sf;

	state_file_get(&sf);
	if (rc < 0) {
		snprintf(msg, len,
		         "%s; the changes stay waiting for review: hmilock maintenance end "
		         "--review (or --discard)",
		         res);
		sf.window = STATE_W_PENDING;
		state_file_put(&sf);
		return;
	}
	sf.window = STATE_W_NONE;
	sf.deadline = 0;
	snprintf(sf.last, sizeof(sf.last), "ended %s: %.200s", wn_utc_now(when, sizeof(when)), res);
	state_file_put(&sf);
	journal_remove();
	recorder_forget();
	wn_drops_clear();
	wn_plan_drop();
	snprintf(msg, len, "%s", res);
}

/* The record without the review's drops, to the committer thread; a held
 * change the review accepted is approved as if a writer had made it
 * (logged: the operator said so). */
static int wn_commit_start(bool hold, bool no_prescan)
{
	struct wn_job *j = &wn.commit_job;
	struct recorder_entry *r;
	size_t i, o = 0;
	int rc;

	j->ents = recorder_snapshot(&j->n, &j->version, &rc);
	if (rc)
		return rc;
	memset(&j->c, 0, sizeof(j->c));
	for (i = 0; i < j->n; i++) {
		r = &j->ents[i];
		if (wn_in(&wn.drops, r->path))
			continue;
		if (hold && !config_is_writer(wn.cfg, r->uid) && wn_in(&wn.accepts, r->path)) {
			log_msg(LOG_NOTICE,
			        "maintenance: %s (written by %s%.0u) accepted by review", r->path,
			        r->uid == JOURNAL_UID_NONE ? "an unknown writer" : "uid ",
			        r->uid == JOURNAL_UID_NONE ? 0 : r->uid);
			r->uid = 0;
			j->c.accepted++;
		}
		j->ents[o++] = *r;
	}
	j->hold = hold;
	j->no_prescan = no_prescan;
	memset(j->bad, 0, sizeof(j->bad));
	j->c.dropped = j->n - o;
	j->n = o;
	wn_drops_clear(); /* applied */
	rc = wn_job_start(j, true);
	if (rc)
		wn_job_clear(j);
	return rc;
}

size_t window_known_bad(void)
{
	return wn.known_bad;
}

int window_session_commit(bool approve, bool no_prescan, window_done_fn *done, void *arg, char *msg,
                          size_t len)
{
	struct state_file sf;
	char res[300];
	int rc;

	if (window_busy(msg, len))
		return -EBUSY;
	wn.known_bad = 0;
	state_file_get(&sf);
	recorder_stop();
	journal_close();
	if (!approve) {
		wn_session_close(0, "nothing approved", msg, len);
		return 0;
	}
	rc = wn_commit_start(sf.window != STATE_W_UPDATE, no_prescan);
	if (rc < 0) {
		snprintf(res, sizeof(res), "the list was NOT changed: cannot start hashing: %s",
		         strerror(-rc));
		wn_session_close(rc, res, msg, len);
		return rc;
	}
	wn.closing = sf.window;
	wn.commit_done = (struct wn_waiter){done, arg};
	log_msg(LOG_INFO, "%s: hashing %zu recorded files", journal_path(), wn.commit_job.n);
	snprintf(msg, len, "hashing %zu files", wn.commit_job.n);
	return -EINPROGRESS;
}

/* What a commit did, in one line: the held changes named with where they
 * are listed and how to approve one. */
static void wn_result(const struct wn_count *c, const char (*bad)[160], char *res, size_t len)
{
	int n = snprintf(res, len,
	                 "%zu added, %zu changed, %zu removed, %zu unchanged, %zu not qualifying "
	                 "or gone, %zu dropped by review",
	                 c->add, c->change, c->remove, c->same, c->skip, c->dropped);

	if (n > 0 && (size_t)n < len && c->refresh)
		n += snprintf(res + n, len - (size_t)n,
		              ", %zu of the unchanged replaced by an identical file (re-recorded)",
		              c->refresh);
	if (n > 0 && (size_t)n < len && c->accepted)
		n += snprintf(res + n, len - (size_t)n,
		              ", %zu written by other users accepted by review", c->accepted);
	if (n > 0 && (size_t)n < len && c->known_bad)
		n += snprintf(res + n, len - (size_t)n, "; %zu NOT approved as known-bad: %s%s%s%s",
		              c->known_bad, bad[0], c->known_bad > 1 ? ", " : "", bad[1],
		              c->known_bad > 2 ? ", ... (all in hmilockd's log)" : "");
	if (n > 0 && (size_t)n < len && c->unscannable)
		n += snprintf(res + n, len - (size_t)n,
		              "; %zu NOT approved: the prescan could not scan them (in hmilockd's "
		              "log)",
		              c->unscannable);
	if (n > 0 && (size_t)n < len && c->held)
		snprintf(
		    res + n, len - (size_t)n,
		    "; %zu NOT approved, written by users not in [maintenance] writers or by "
		    "an unknown writer (listed in hmilockd's log; approve one with `hmilock add "
		    "PATH`)",
		    c->held);
}

/* The committer thread is done (main thread): load the new list, close
 * the window, tell whoever asked. */
static void wn_commit_finish(void)
{
	struct wn_job *j = &wn.commit_job;
	struct wn_waiter w = wn.commit_done;
	struct wl_err err = {0};
	char res[560], msg[640];
	int rc;

	pthread_join(j->tid, NULL);
	j->running = false;
	rc = j->rc;
	if (rc == 0 && j->wrote) {
		/* our own write: the reload's check takes it (helper.c) */
		written_note(HMK_PF_LIST);
		written_note(HMK_PF_LIST_PREV);
		rc = list_reload(&err);
		if (rc) {
			rc = rc < 0 ? rc : -EIO;
			j->err = err;
		}
	}
	if (rc < 0)
		snprintf(res, sizeof(res), "the list was NOT changed: %.300s%s",
		         j->err.msg[0] ? j->err.msg : strerror(-rc),
		         rc == -ESTALE ? " after `hmilock reload`" : "");
	else
		wn_result(&j->c, (const char(*)[160])j->bad, res, sizeof(res));
	wn.known_bad = rc < 0 ? 0 : j->c.known_bad + j->c.unscannable;
	wn_job_clear(j);
	wn.commit_done = (struct wn_waiter){0};
	wn_session_close(rc, res, msg, sizeof(msg));
	if (w.fn)
		w.fn(w.arg, rc, msg);
}

int window_begin(pid_t by, uint32_t timeout_s, char *msg, size_t len)
{
	enum hmd_mode prev = (enum hmd_mode)state_mode();
	int rc;

	if (!timeout_s)
		timeout_s = wn.cfg->maint_timeout_s;
	rc = window_session_open(STATE_W_MAINT, timeout_s, NULL, NULL, msg, len);
	if (rc < 0)
		return rc;
	state_set_mode(HMD_MODE_MAINTENANCE);
	atomic_fetch_add_explicit(&hmd_stats.maint_windows, 1, memory_order_relaxed);
	log_msg(LOG_NOTICE,
	        "maintenance window opened by pid %d for %u s (mode %s before): "
	        "unlisted programs run, changes are recorded in %s",
	        (int)by, timeout_s, config_mode_name(prev), journal_path());
	snprintf(msg, len,
	         "maintenance window open for %u s (until then unlisted programs run and are "
	         "logged); recording changes in %s",
	         timeout_s, journal_path());
	return 0;
}

/* After the commit of an end (at once, or from wn_end_done). */
static void wn_end_finish(int rc, const char *res, char *msg, size_t len)
{
	if (wn.end_restore)
		state_set_mode(wn.end_mode);
	log_msg(rc < 0 ? LOG_ERR : LOG_NOTICE, "maintenance window ended by pid %d%s: %s; mode %s",
	        (int)wn.end_by, wn.end_discard ? " (discarded)" : "", res,
	        config_mode_name(state_mode()));
	snprintf(msg, len, "%s; mode %s", res, config_mode_name(state_mode()));
}

static void wn_end_done(void *arg, int rc, const char *res)
{
	struct wn_waiter w = wn.end_done;
	char msg[720];

	(void)arg;
	wn.end_done = (struct wn_waiter){0};
	wn_end_finish(rc, res, msg, sizeof(msg));
	if (w.fn)
		w.fn(w.arg, rc, msg);
}

int window_end(uint64_t client, pid_t by, bool discard, bool no_prescan, window_done_fn *done,
               void *arg, char *msg, size_t len)
{
	struct state_file sf;
	char res[640];
	int rc;

	if (window_busy(msg, len))
		return -EBUSY;
	state_file_get(&sf);
	if (sf.window != STATE_W_MAINT && sf.window != STATE_W_PENDING) {
		rc = sf.window == STATE_W_UPDATE ? -EBUSY : -ENOENT;
		snprintf(msg, len, "%s%s%s",
		         rc == -EBUSY ? "a trusted update is running, not a maintenance window: "
		                        "it ends with its command"
		                      : "no maintenance window is open",
		         sf.last[0] && rc == -ENOENT ? "; last: " : "",
		         rc == -ENOENT ? sf.last : "");
		return rc;
	}
	if (client != wn.drop_client)
		wn_drops_clear();
	wn.end_by = by;
	wn.end_discard = discard;
	wn.end_restore = sf.window == STATE_W_MAINT;
	wn.end_mode = sf.mode;
	rc = window_session_commit(!discard, no_prescan, wn_end_done, NULL, res, sizeof(res));
	if (rc == -EINPROGRESS) {
		wn.end_done = (struct wn_waiter){done, arg};
		snprintf(msg, len, "%s", res);
		return rc;
	}
	wn_end_finish(rc, res, msg, len);
	return rc;
}

void window_session_interrupt(const char *why)
{
	struct state_file sf;

	if (wn.commit_job.running)
		return; /* being committed: not an open session any more */
	recorder_stop();
	journal_close();
	state_file_get(&sf);
	sf.window = STATE_W_PENDING;
	snprintf(sf.last, sizeof(sf.last), "interrupted %lld: %.200s", (long long)time(NULL), why);
	state_file_put(&sf);
	log_msg(LOG_WARNING,
	        "%s: nothing approved; %zu recorded changes wait for review "
	        "(hmilock maintenance end --review)",
	        why, recorder_count());
}

void window_tick(void)
{
	struct state_file sf;
	char expired[PATH_MAX + 16];
	size_t n;

	journal_sync();
	/* The end was asked before the deadline: hashing may outlast it. */
	if (wn.commit_job.running)
		return;
	state_file_get(&sf);
	if (sf.window != STATE_W_MAINT || !sf.deadline || (uint64_t)time(NULL) < sf.deadline)
		return;
	n = recorder_count();
	recorder_stop();
	journal_close();
	if (journal_expire(expired, sizeof(expired)) < 0)
		log_msg(LOG_WARNING, "maintenance journal %s: cannot keep it as %s: %s",
		        journal_path(), expired, strerror(errno));
	sf.window = STATE_W_NONE;
	snprintf(sf.last, sizeof(sf.last),
	         "timed out %lld: re-locked by itself, nothing approved (%zu changes recorded, "
	         "kept in %.100s)",
	         (long long)time(NULL), n, expired);
	sf.deadline = 0;
	state_file_put(&sf);
	recorder_forget();
	wn_drops_clear();
	wn_plan_drop();
	state_set_mode(sf.mode);
	log_msg(LOG_WARNING,
	        "maintenance window reached its timeout: back to mode %s, nothing "
	        "approved (%zu recorded changes kept in %s)",
	        config_mode_name(sf.mode), n, expired);
}

void window_info(struct window_info *out)
{
	struct state_file sf;

	state_file_get(&sf);
	memset(out, 0, sizeof(*out));
	out->window = sf.window;
	out->prev = sf.mode;
	out->start = sf.window ? sf.start : 0;
	out->deadline = sf.window == STATE_W_MAINT ? sf.deadline : 0;
	out->generation = sf.generation;
	out->records = recorder_count();
	recorder_counters(&out->ignored, &out->unattributed);
	snprintf(out->journal, sizeof(out->journal), "%s", journal_path());
	if (!window_busy(out->last, sizeof(out->last)))
		snprintf(out->last, sizeof(out->last), "%s", sf.last);
}

/* ---- start, stop, the main loop ----------------------------------------- */

static void wn_replay(void *arg, char op, const char *path, uint32_t uid)
{
	(void)arg;
	recorder_note(op, path, uid);
}

int window_init(const struct hmd_config *cfg, char *msg, size_t msglen)
{
	struct wl_err err = {0};
	char path[PATH_MAX];
	struct state_file sf;
	size_t bad;
	int rc;

	wn.cfg = cfg;
	/* libclamav's start (0.1 ms), before the sandbox: a commit loads
	 * [prescan] as the configuration file says then */
	if (wl_prescan_init(&err) < 0)
		log_msg(LOG_ERR, "%s: no change can be approved until this is mended", err.msg);
	rc = state_sibling("maintenance.journal", path, sizeof(path));
	if (rc == 0)
		rc = journal_init(path, cfg->key);
	if (rc < 0)
		return snprintf(msg, msglen, "maintenance: %s", strerror(-rc)), rc;
	wn.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wn.efd < 0) {
		rc = -errno;
		return snprintf(msg, msglen, "maintenance: eventfd: %s", strerror(errno)), rc;
	}
	state_file_get(&sf);
	if (sf.window == STATE_W_PENDING && journal_load(wn_replay, NULL, &bad) < 0)
		log_msg(LOG_ERR,
		        "maintenance journal %s cannot be read: the interrupted window's "
		        "changes are lost; nothing is approved",
		        journal_path());
	else if (sf.window == STATE_W_PENDING)
		log_msg(LOG_WARNING,
		        "%zu changes of an interrupted window wait for review "
		        "(hmilock maintenance end --review)",
		        recorder_count());
	if (sf.window == STATE_W_NONE)
		journal_remove(); /* left by a crash right after an end */
	return 0;
}

int window_fd(void)
{
	return wn.efd;
}

void window_handle(void)
{
	uint64_t v;

	if (read(wn.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "maintenance: eventfd: %s", strerror(errno));
	if (wn.plan_job.running && atomic_load(&wn.plan_job.done))
		wn_plan_finish();
	if (wn.commit_job.running && atomic_load(&wn.commit_job.done))
		wn_commit_finish();
}

void window_fini(void)
{
	atomic_store(&wn.plan_job.cancel, true);
	atomic_store(&wn.commit_job.cancel, true);
	if (wn.plan_job.running)
		wn_plan_finish(); /* joins; waiters get -ECANCELED */
	if (wn.commit_job.running)
		wn_commit_finish(); /* joins; cut short: waiting for review */
	journal_close();
	wn_drops_clear();
	wn_plan_drop();
	if (wn.efd >= 0)
		close(wn.efd);
	wn.efd = -1;
}
