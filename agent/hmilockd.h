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

#include "wl.h"

#define HMD_DEFAULT_CONFIG "/etc/hmilock/hmilock.conf"
#define HMD_DEFAULT_DB "/var/lib/hmilock/approved.db"
#define HMD_DEFAULT_KEY "/etc/hmilock/list.key"
#define HMD_DEFAULT_SOCKET "/run/hmilock/hmilockd.sock"
#define HMD_MAX_WATCH 64

enum hmd_mode { HMD_MODE_ENFORCE = 0, HMD_MODE_AUDIT, HMD_MODE_MAINTENANCE, HMD_MODE__MAX };
enum hmd_match { HMD_MATCH_PATH_HASH = 0, HMD_MATCH_HASH };
enum hmd_on_error { HMD_ON_ERROR_DENY = 0, HMD_ON_ERROR_ALLOW };
enum hmd_helper_want { HMD_HELPER_AUTO = 0, HMD_HELPER_REQUIRED, HMD_HELPER_OFF };

/* ---- config.c: parsed /etc/hmilock/hmilock.conf (inih) ----------------- */

struct hmd_config {
	enum hmd_mode mode;
	char db[PATH_MAX];
	char key[PATH_MAX];
	char socket[PATH_MAX];
	enum hmd_match match;
	enum hmd_on_error on_error;
	unsigned workers; /* 0 = one per core */
	unsigned queue_len; /* bounded work queue; full -> on_error */
	size_t cache_entries;
	enum hmd_helper_want helper;
	bool strict_wx;
	/* [watch] mounts: empty = every filesystem that can hold executables */
	size_t n_watch;
	char watch[HMD_MAX_WATCH][PATH_MAX];
	/* where the config was read from, for messages */
	char path[PATH_MAX];
};

/* Defaults, then the file. Unknown key or bad value: -EINVAL and msg names
 * the section, key, value and line. A missing file is an error too. */
int config_load(struct hmd_config *cfg, const char *path, char *msg, size_t msglen);
void config_defaults(struct hmd_config *cfg);
const char *config_mode_name(enum hmd_mode m);
int config_mode_parse(const char *s, enum hmd_mode *out);

/* ---- stats.c: counters shared by all threads (relaxed atomics) --------- */

struct hmd_stats {
	atomic_uint_least64_t events;	 /* permission events read */
	atomic_uint_least64_t allowed;	 /* answered allow (incl. audit would-deny) */
	atomic_uint_least64_t denied;	 /* answered deny */
	atomic_uint_least64_t would_deny; /* audit mode: allowed, would have denied */
	atomic_uint_least64_t errors;	 /* internal errors (each logged) */
	atomic_uint_least64_t on_error;	 /* events answered by on_error */
	atomic_uint_least64_t queue_full; /* events answered by on_error: queue full */
	atomic_uint_least64_t self_allowed; /* our own pid's events */
	atomic_uint_least64_t cache_hits, cache_misses;
	atomic_uint_least64_t ignore_marks; /* ignore marks placed */
	atomic_uint_least64_t queue_depth, max_queue_depth;
	atomic_uint_least64_t log_dropped; /* log ring overflow */
	atomic_uint_least64_t marks;	   /* filesystems/mounts marked now */
	atomic_uint_least64_t mounts_marked_later;
};
extern struct hmd_stats hmd_stats;
void stats_max(atomic_uint_least64_t *max, uint64_t v);

/* ---- state.c: run-time state the control socket reads or changes ------- */

struct hmd_state {
	const struct hmd_config *cfg;
	_Atomic int mode; /* enum hmd_mode */
	atomic_bool ready; /* marks placed, READY=1 sent */
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	char sandbox[128]; /* e.g. "seccomp: kill-default allow-list, caps: ..." */
	char helper[256];  /* "active (pinned)" or "unavailable - <reason>" */
};
extern struct hmd_state hmd_state;
int state_mode(void);
void state_set_mode(enum hmd_mode m); /* also drops the cache: verdicts differ */

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

/* ---- log.c: non-blocking event log -> audit (libaudit) + syslog ---------- */

enum hmd_verdict { HMD_V_ALLOW = 0, HMD_V_DENY, HMD_V_WOULD_DENY };
enum hmd_reason {
	HMD_R_LISTED = 0,   /* path and hash match (or hash, match = hash) */
	HMD_R_NOT_LISTED,
	HMD_R_HASH_MISMATCH,
	HMD_R_UNRESOLVED,   /* deleted / path unknown, match = path+hash */
	HMD_R_NOT_REGULAR,
	HMD_R_ERROR,	    /* internal error, answered by on_error */
	HMD_R_QUEUE_FULL,   /* answered by on_error */
	HMD_R_HELPER,	    /* reported by the kernel helper */
	HMD_R__MAX
};
const char *log_verdict_name(enum hmd_verdict v);
const char *log_reason_name(enum hmd_reason r);

struct hmd_event {
	uint64_t time_ns; /* CLOCK_REALTIME */
	int32_t pid;
	uint8_t verdict; /* enum hmd_verdict */
	uint8_t reason;	 /* enum hmd_reason */
	uint8_t has_hash;
	uint8_t sha256[WL_SHA256_LEN];
	char op[16];	 /* "exec", "mmap", "write", ... */
	char exe[256];	 /* exe of pid, best effort, filled by the logger */
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

/* ---- ctl.c: control socket (SOCK_SEQPACKET, root only) ------------------- */

int ctl_init(const struct hmd_config *cfg); /* bind + listen; returns 0 or -errno */
int ctl_fd(void);			   /* listening fd for the main poll loop */
void ctl_handle(void);			   /* accept and serve what is ready */
void ctl_fini(void);

/* ---- sandbox.c: capabilities and seccomp -------------------------------- */

/* Drop every capability not still needed, then load the kill-default
 * seccomp allow-list. Fills hmd_state.sandbox. */
int sandbox_enter(char *msg, size_t msglen);

/* ---- notify.c: systemd sd_notify / watchdog ----------------------------- */

void notify_ready(void);
void notify_watchdog(void); /* rate-limited; call from the reader loop */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_stopping(void);

#endif /* HMILOCKD_H */
