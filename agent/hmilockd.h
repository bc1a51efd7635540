/* hmilockd.h - the daemon's one internal header: shared types and every
 * module's prototypes, grouped by the file that owns them (ntpd style).
 * Threads: main (signals, control socket, mount watch, watchdog), reader
 * (fanotify events, cache hits), workers (hash + decide + reply), logger
 * (drains the log ring to audit and syslog), helper ring reader. */
#ifndef HMILOCKD_H
#define HMILOCKD_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

/* ---- stats.c: counters shared by all threads (relaxed atomics) --------- */

struct hmd_stats {
	atomic_uint_least64_t events; /* permission events read */
	atomic_uint_least64_t allowed; /* answered allow (incl. audit would-deny) */
	atomic_uint_least64_t denied; /* answered deny */
	atomic_uint_least64_t would_deny; /* audit mode: allowed, would have denied */
	atomic_uint_least64_t errors; /* internal errors (each logged) */
	atomic_uint_least64_t on_error; /* events answered by on_error */
	atomic_uint_least64_t queue_full; /* events answered by on_error: queue full */
	atomic_uint_least64_t self_allowed; /* our own pid's events */
	atomic_uint_least64_t cache_hits, cache_misses;
	atomic_uint_least64_t ignore_marks; /* ignore marks placed */
	atomic_uint_least64_t queue_depth, max_queue_depth;
	atomic_uint_least64_t log_dropped; /* log ring overflow */
	atomic_uint_least64_t marks; /* filesystems/mounts marked now */
	atomic_uint_least64_t mounts_marked_later;
};
extern struct hmd_stats hmd_stats;
void stats_max(atomic_uint_least64_t *max, uint64_t v);
/* Decision latency, event read -> response written, in a log-linear
 * histogram (lock-free, ~6 % resolution). ctl.c: report
 * stats_latency_quantile(0.5) and (0.99) in status as decision_p50_us and
 * decision_p99_us (divide by 1000), and stats_latency_count() as
 * decisions_timed. */
void stats_latency_add(uint64_t ns);
uint64_t stats_latency_quantile(double q); /* ns; 0 when nothing was measured */
uint64_t stats_latency_count(void);
void stats_latency_reset(void);
uint64_t stats_now_ns(void); /* CLOCK_MONOTONIC */

/* ---- state.c: run-time state the control socket reads or changes ------- */

struct hmd_state {
	const struct hmd_config *cfg;
	_Atomic int mode; /* enum hmd_mode */
	atomic_bool ready; /* marks placed, READY=1 sent */
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	char sandbox[128]; /* e.g. "seccomp: kill-default allow-list, caps: ..." */
	char helper[256]; /* "active (pinned)" or "unavailable - <reason>" */
};
extern struct hmd_state hmd_state;
int state_mode(void);
/* The verdict cache holds list outcomes (listed / not listed / mismatch),
 * never verdicts, and ignore marks exist only on listed files, which are
 * allowed in every mode: so a mode switch drops nothing (see state.c). */
void state_set_mode(enum hmd_mode m);

/* The state file (<directory of the list>/state), so a mode set at run
 * time and an open maintenance window survive a restart or power cut.
 * Written atomically (tmp, fsync, rename, fsync of the directory). */
enum state_window {
	STATE_W_NONE = 0, /* nothing open, nothing waiting */
	STATE_W_MAINT, /* maintenance window open */
	STATE_W_UPDATE, /* trusted update session open */
	STATE_W_PENDING, /* interrupted: the journal waits for review */
};
struct state_file {
	enum hmd_mode mode; /* the mode outside windows (enforce or audit) */
	enum state_window window;
	uint64_t start, deadline, generation; /* realtime s, realtime s, list gen */
	char last[256]; /* how the last window ended */
};
/* Main thread, at start (after log): read the state file; it wins over
 * the config's mode. A window found open means hmilockd died in it: the
 * mode before it applies and the window becomes PENDING. Logs which
 * source was used. 0 or -errno (a malformed file is refused, naming it). */
int state_init(const struct hmd_config *cfg, char *msg, size_t msglen);
void state_file_get(struct state_file *out);
int state_file_put(const struct state_file *in); /* 0 or -errno, logged */
/* <directory of the list>/name into out. */
int state_sibling(const char *name, char *out, size_t len);

/* ---- list.c: the approved list in force (refcounted snapshot) ---------- */

struct hmd_list; /* wraps a struct wl_db, refcounted */
/* Take a reference to the current list (never NULL after list_init). */
struct hmd_list *list_get(void);
void list_put(struct hmd_list *l);
const struct wl_db *list_db(const struct hmd_list *l);
uint64_t list_generation(const struct hmd_list *l);
int list_init(const struct hmd_config *cfg, struct wl_err *err);
/* Open the list file again; on success swap atomically, drop the verdict
 * cache and flush ignore marks. On failure the old list stays in force and
 * err says why. Safe from any thread. */
int list_reload(struct wl_err *err);
void list_fini(void);
void list_trim(void); /* main thread, periodic: drop mapped list pages */
/* Local reload counter (1, 2, ...) of a snapshot: part of every cache key,
 * so entries of an older list never hit. */
uint64_t list_serial(const struct hmd_list *l);
uint64_t list_current_serial(void);
/* Workers place ignore marks only for the list in force: take the read side
 * of the swap lock when serial is still current (true: call list_unhold()).
 * list_reload() swaps and flushes ignore marks under the write side. */
bool list_hold_current(uint64_t serial);
void list_unhold(void);

/* ---- log.c: non-blocking event log -> audit (libaudit) + syslog ---------- */

enum hmd_verdict { HMD_V_ALLOW = 0, HMD_V_DENY, HMD_V_WOULD_DENY };
enum hmd_reason {
	HMD_R_LISTED = 0, /* path and hash match (or hash, match = hash) */
	HMD_R_NOT_LISTED,
	HMD_R_HASH_MISMATCH,
	HMD_R_UNRESOLVED, /* deleted / path unknown, match = path+hash */
	HMD_R_NOT_REGULAR,
	HMD_R_ERROR, /* internal error, answered by on_error */
	HMD_R_QUEUE_FULL, /* answered by on_error */
	HMD_R_HELPER, /* reported by the kernel helper */
	HMD_R__MAX
};
const char *log_verdict_name(enum hmd_verdict v);
const char *log_reason_name(enum hmd_reason r);

struct hmd_event {
	uint64_t time_ns; /* CLOCK_REALTIME */
	int32_t pid;
	uint8_t verdict; /* enum hmd_verdict */
	uint8_t reason; /* enum hmd_reason */
	uint8_t has_hash;
	uint8_t sha256[WL_SHA256_LEN];
	char op[16]; /* "exec", "mmap", "write", ... */
	char exe[256]; /* exe of pid, best effort, filled by the logger */
	char path[PATH_MAX];
};

int log_init(const struct hmd_config *cfg);
/* Queue an event; never blocks, never does I/O. Drops (counted) when full.
 * Call only after the permission event has been answered. */
void log_event(const struct hmd_event *ev);
/* Daemon diagnostics (errors, mode changes...): also through the ring. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy up to max most recent events (oldest first); returns how many. */
size_t log_recent(struct hmd_event *out, size_t max);
void log_fini(void);
/* For ctl.c: recent events carry increasing ids (the paging of struct
 * hmc_events_req). Of the events with after < id <= until (until 0: no
 * bound) take the newest max; copy the oldest outmax of those to out.
 * *remaining gets how many of the max were not copied, *until_out the
 * window's upper id for the next page. Returns how many were copied. */
struct hmd_event_rec {
	uint64_t id;
	struct hmd_event ev;
};
size_t log_events(uint64_t after, uint64_t until, size_t max, struct hmd_event_rec *out,
                  size_t outmax, uint64_t *remaining, uint64_t *until_out);
struct log_info {
	bool audit_ok; /* deny records reach the audit system */
	uint64_t audit_records, audit_failed;
	char audit[128]; /* "on (auditd pid N)", "unavailable - ..." */
};
void log_info(struct log_info *out);

/* ---- ctl.c: control socket (SOCK_SEQPACKET, root only) ------------------- */

int ctl_init(const struct hmd_config *cfg); /* bind + listen; returns 0 or -errno */
/* One fd for the main poll loop (an epoll fd over the listening socket and
 * every client): POLLIN means ctl_handle() has work. */
int ctl_fd(void);
void ctl_handle(void); /* accept and serve what is ready; never blocks */
void ctl_fini(void);

/* ---- auth.c: admin password for requests that change enforcement ------ */

void auth_init(const struct hmd_config *cfg); /* ctl_init calls it */
/* Main thread. 0 when no password is set or password matches; -ENOKEY when
 * one is set and password is empty (the CLI then asks for it); -EACCES when
 * wrong (logged; every attempt is then refused for 1 s, doubling with each
 * further wrong one up to 60 s); -EAGAIN inside that delay (refused at
 * once, without a check); another -errno when the password file cannot be
 * read or parsed (refused). msg gets one line for the client. */
int auth_check(const char *password, char *msg, size_t len);
void auth_wipe(void *buf, size_t len); /* clear a received password */

/* ---- sandbox.c: capabilities and seccomp -------------------------------- */

/* Drop every capability not still needed, then load the kill-default
 * seccomp allow-list. Fills hmd_state.sandbox. */
int sandbox_enter(char *msg, size_t msglen);
/* Capabilities are per thread: a thread started before sandbox_enter()
 * calls this first thing to drop to the run-time set (all sets, bounding
 * included); sandbox_enter() names in hmilock status any thread that
 * still holds more. 0 or -errno. */
int sandbox_thread_caps(void);

/* ---- maint.c: the maintenance window, its journal, the change recorder -- */

/* A second fanotify group (FAN_CLASS_NOTIF, FAN_REPORT_DFID_NAME), marked
 * on the watched filesystems only while a window or update session is
 * open; its fd sits in the main poll loop (maint_fd(), -1 when idle). Every
 * recorded change goes to the journal next to the list. Main thread only,
 * except maint_exec_written() (any thread). */
int maint_init(const struct hmd_config *cfg, char *msg, size_t msglen);
void maint_fini(void);
int maint_fd(void);
void maint_handle(void); /* read and record what is queued */
void maint_tick(void); /* timer: fsync, window timeout */
/* Control socket requests; each fills msg (one line) and returns 0/-errno. */
int maint_begin(pid_t by, uint32_t timeout_s, char *msg, size_t len);
/* Drops for the end to come (client = connection id). */
int maint_drop(int client, const char (*paths)[PATH_MAX], size_t n, char *msg, size_t len);
int maint_end(int client, pid_t by, bool discard, char *msg, size_t len);
void maint_client_gone(int client);
struct maint_info {
	enum state_window window;
	enum hmd_mode prev;
	uint64_t start, deadline, generation, records, ignored, unattributed;
	char journal[PATH_MAX];
	char last[512];
};
void maint_info(struct maint_info *out);
/* The plan the end would carry out, entry i (hashes the file). -ENOENT
 * past the end; *total gets the number of entries. */
int maint_plan_at(size_t i, size_t *total, uint32_t *kind, char *path, size_t len);
/* For update.c: open / close a recording session. */
int maint_session_open(enum state_window kind, uint32_t timeout_s, char *msg, size_t len);
int maint_session_commit(bool approve, char *msg, size_t len);
void maint_session_interrupt(const char *why); /* -> PENDING, nothing approved */
/* Was the inode (dev, ino) written in the open update session? */
bool maint_exec_written(uint64_t dev, uint64_t ino);

/* ---- update.c: trusted updater sessions in a cgroup v2 ---------------- */

int update_init(const struct hmd_config *cfg);
void update_fini(void);
/* UPDATE_BEGIN: make the session cgroup; who = the pid that will join. */
int update_begin(pid_t by, pid_t who, uint64_t *session, char *cgroup, char *origin, size_t pathlen,
                 char *msg, size_t len);
int update_info(uint64_t *session, pid_t *who, char *cgroup, char *origin, size_t pathlen);
int update_commit(uint64_t session, bool ok, bool keep, char *msg, size_t len);
/* Is pid (alive or a zombie) in the open session's cgroup: 1 yes, 0 no,
 * -ESRCH when it is gone (reaped) and cannot be told. */
int update_pid_member(pid_t pid);
bool update_active(void);
/* Exec gate: true when pid is in the session cgroup and the file (st) was
 * written by the session: such an exec is allowed (fan.c). */
bool update_exec_allowed(pid_t pid, const struct stat *st);
void update_tick(void); /* timer: remove emptied session cgroups */

/* ---- decide.c: the pure decision (no I/O, table-tested) ----------------- */

/* What the worker (or the reader, for a non-regular file or an error) found. */
struct decide_in {
	enum hmd_mode mode;
	enum hmd_match match;
	enum hmd_on_error on_error;
	bool regular; /* S_ISREG */
	bool error; /* internal error (hash failed, ...) */
	bool queue_full; /* work queue full, never looked at */
	bool resolved; /* path known: not deleted, readlink worked */
	bool path_listed; /* wl_db_find_path() found the path */
	bool path_hash_eq; /* ... and that record's hash equals the file's */
	bool hash_listed; /* wl_db_find_hash() found the hash */
	bool multi_link; /* st_nlink > 1: other paths lead to this inode */
};

struct decide_out {
	enum hmd_verdict verdict;
	enum hmd_reason reason;
	bool cache; /* outcome may be remembered by inode */
	bool ignore; /* place an ignore mark on the inode */
	bool log; /* log_event() after the reply */
};

/* The list outcome alone (no mode): LISTED, NOT_LISTED, HASH_MISMATCH,
 * UNRESOLVED, NOT_REGULAR, ERROR or QUEUE_FULL. */
enum hmd_reason decide_reason(const struct decide_in *in);
/* Verdict for an outcome in a mode; used on cache hits too. */
void decide_verdict(enum hmd_mode mode, enum hmd_on_error on_error, enum hmd_reason reason,
                    struct decide_out *out);
void decide(const struct decide_in *in, struct decide_out *out);

/* ---- cache.c: verdict cache by file identity ------------------------------ */

/* Everything that must match for a hit: the inode, what moves when its
 * content can have moved, the list snapshot, and (only for files with more
 * than one link under match = path+hash) a hash of the path. */
struct cache_key {
	uint64_t dev, ino, size;
	int64_t ctime_sec, mtime_sec;
	uint32_t ctime_nsec, mtime_nsec;
	uint64_t serial;
	uint64_t path_hash; /* 0 unless the path matters for this inode */
};

/* One 64-byte slot per entry (a cache line): no hash kept, so a hit's log
 * record carries none; the first decision's record has it. */
struct cache_val {
	uint8_t reason; /* enum hmd_reason: an outcome, never a verdict */
};

/* entries is rounded up to a power of two (minimum 64); stripes (power of
 * two, 1 = one mutex) is the number of locks. */
int cache_init(size_t entries, unsigned stripes);
void cache_fini(void);
void cache_key_from_stat(struct cache_key *k, const struct stat *st, uint64_t serial,
                         uint64_t path_hash);
uint64_t cache_path_hash(const char *path); /* never 0 */
bool cache_lookup(const struct cache_key *k, struct cache_val *out);
void cache_insert(const struct cache_key *k, const struct cache_val *v);
size_t cache_drop_inode(uint64_t dev, uint64_t ino); /* entries dropped */
void cache_flush(void);
size_t cache_count(void); /* valid entries now */
size_t cache_capacity(void);

/* ---- workers.c: bounded queue + thread pool for cache misses --------------- */

/* One permission event in flight. The fd belongs to the workers from
 * workers_submit() on; whoever wins workers_claim() writes the one
 * response (the worker, or the main thread's timeout). */
struct hmd_work {
	int fd;
	pid_t pid;
	struct stat st;
	uint64_t t0_ns; /* when the reader read the event */
	atomic_bool answered;
	int state; /* workers.c private */
	unsigned next; /* workers.c private */
};

#define HMD_DECIDE_TIMEOUT_NS (30ull * 1000000000ull)

int workers_init(const struct hmd_config *cfg); /* allocate; no threads yet */
int workers_start(void);
/* 0, or -EAGAIN when full (the fd then stays with the caller). */
int workers_submit(int fd, pid_t pid, const struct stat *st, uint64_t t0_ns);
bool workers_claim(struct hmd_work *w); /* true once: the caller answers */
/* Main thread, from the watchdog timer: answer by on_error every event
 * waiting or being decided for longer than HMD_DECIDE_TIMEOUT_NS. */
void workers_expire(uint64_t now_ns);
unsigned workers_count(void);
void workers_fini(void); /* drains: queued events are still decided */

/* ---- fan.c: the fanotify group, its reader thread and the replies --------- */

int fan_init(const struct hmd_config *cfg); /* the group; no thread yet */
bool fan_audit_supported(void);
/* Mark a filesystem (FAN_MARK_FILESYSTEM, falling back to FAN_MARK_MOUNT)
 * or exactly one mount; *kind gets "filesystem" or "mount". */
int fan_mark_fs(const char *path, const char **kind);
int fan_mark_mount(const char *path);
int fan_start(void); /* reader thread */
void fan_stop(void); /* reader stopped and joined; the group stays */
void fan_fini(void); /* closes the group: the kernel allows what is pending */
/* Worker: hash, look up, decide, reply, cache, ignore mark. */
void fan_work(struct hmd_work *w);
/* Reply to an event by on_error (reason ERROR/QUEUE_FULL) and log it. */
void fan_answer_error(int fd, pid_t pid, enum hmd_reason reason, uint64_t t0_ns);
/* Remove every ignore mark (and close-write watch) of the group: inode
 * marks only, the filesystem/mount marks stay. */
int fan_flush_ignores(void);
uint64_t fan_reader_heartbeat(void); /* CLOCK_MONOTONIC ns of the last loop */

/* ---- mounts.c: which mounts are marked; /proc/self/mountinfo watch ------- */

struct mnt_info {
	int id, parent;
	unsigned major, minor;
	char mountpoint[PATH_MAX]; /* unescaped */
	char fstype[64];
};

/* Parse one mountinfo line (modifies line). 0 or -EINVAL. */
int mounts_parse_line(char *line, struct mnt_info *out);
bool mounts_fstype_pseudo(const char *fstype);
bool mounts_path_below(const char *root, const char *path); /* at or below */
int mounts_init(const struct hmd_config *cfg, char *msg, size_t msglen); /* initial marks */
int mounts_fd(void); /* poll for POLLPRI */
void mounts_handle(void);
void mounts_fini(void);

/* ---- notify.c: systemd sd_notify / watchdog ----------------------------- */

void notify_ready(void);
void notify_watchdog(void); /* rate-limited; call from the reader loop */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_stopping(void);

/* ---- helper.c: loader of the kernel helper (BPF LSM, kmod/) ------------- */

/* Probe BPF LSM support, load the helper or re-attach to the one pinned under
 * /sys/fs/bpf/hmilock, protect hmilock's own files, approve the listed files
 * (list_get()) in the kernel, register this process as the daemon, set the
 * mode, start the event reader (events go to log_event()). Fills
 * hmd_state.helper. Returns -errno only when cfg->helper is REQUIRED and the
 * helper is unavailable, else 0: check helper_active(). On re-attach the
 * pinned mode stays in force (read it with helper_mode()). cfg must stay
 * valid until helper_fini (helper_sync re-protects the files it names). */
int helper_init(const struct hmd_config *cfg);
void helper_fini(void); /* stops the reader; the pinned helper keeps enforcing */
int helper_unpin(void); /* uninstall: stop enforcing, remove every pin */
bool helper_active(void);
int helper_sync(void); /* re-approve the list in force (after list_reload) */
/* The setters below are no-ops returning 0 while the helper is not active. */
int helper_set_mode(enum hmd_mode m);
int helper_mode(enum hmd_mode *out); /* the kernel's mode; -ENODEV if inactive */
/* Approve an inode (userspace st_dev; gen < 0: generation unknown). Call
 * BEFORE answering allow: the kernel checks the same exec right after. */
int helper_approve(uint64_t st_dev, uint64_t ino, int64_t gen);
int helper_approve_fd(int fd); /* fstat + FS_IOC_GETVERSION, then helper_approve */
int helper_forget(uint64_t st_dev, uint64_t ino);
bool helper_approved(uint64_t st_dev, uint64_t ino);
int helper_protect_path(const char *path, bool daemon_binary);
int helper_set_interpreters(const char *const *patterns, size_t n); /* glob(3) patterns */
int helper_set_daemon(pid_t tgid);
int helper_set_updater_cgroup(const char *cgroup_dir, bool on);
struct helper_counters {
	uint64_t violations; /* denials and audit would-denials */
	uint64_t events_lost; /* ring buffer full */
	uint64_t unchecked; /* interpreter argv unreadable, task storage full */
};
int helper_counters(struct helper_counters *out);
/* "active (pinned)" or "unavailable — <reason>; open gaps: ..." */
void helper_status(char *buf, size_t len);
const char *helper_gaps(void); /* what is open without the helper; NULL when active */
uint64_t helper_kdev(uint64_t st_dev); /* st_dev -> kernel dev_t (major << 20 | minor) */

/* ---- helper_ev.c: the helper ring reader thread (started by helper.c) ---- */

/* Read helper events from the ring buffer map ring_fd on a new thread and
 * pass each to log_event(). 0, or -errno with why filled. */
int helper_ev_start(int ring_fd, char *why, size_t len);
void helper_ev_stop(void); /* join the thread; safe when not started */

#endif /* HMILOCKD_H */
