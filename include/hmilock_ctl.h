/* hmilock_ctl.h - the control protocol between hmilockd (agent/ctl.c, the
 * server) and the hmilock CLI (tools/cmd_daemon.c, the client), over a unix
 * SOCK_SEQPACKET socket that only root may use. Shared by both sides; owns
 * no state. Every message is a header plus the fixed-size body of its type,
 * in host byte order (the socket never leaves the machine). Each request
 * gets exactly one reply with the request's seq: STATUS -> STATUS,
 * SET_MODE and RELOAD -> RESULT, EVENTS -> EVENTS; any request may instead
 * get a RESULT carrying an error. A malformed request gets a RESULT with
 * -EBADMSG (or -EPROTONOSUPPORT for another version) and the server closes
 * the connection. hmc_check() is the one validator both sides use. */
#ifndef HMILOCK_CTL_H
#define HMILOCK_CTL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HMC_MAGIC 0x4b4c4d48u /* "HMLK" in a little-endian dump */
#define HMC_VERSION 2
#define HMC_MAX_MSG 65536 /* no message is longer (SEQPACKET record) */
#define HMC_DEFAULT_SOCKET "/run/hmilock/hmilockd.sock"
#define HMC_PATH_LEN 4096 /* PATH_MAX, static-asserted in ctl.c */
#define HMC_EVENTS_PER_MSG 14
#define HMC_EVENTS_MAX 1024 /* most events one EVENTS exchange may ask for */

enum hmc_type {
	HMC_REQ_STATUS = 0x01, /* no body */
	HMC_REQ_SET_MODE = 0x02, /* struct hmc_set_mode */
	HMC_REQ_RELOAD = 0x03, /* no body */
	HMC_REQ_EVENTS = 0x04, /* struct hmc_events_req */
	HMC_REQ_STOP = 0x05, /* struct hmd_ctl_auth -> RESULT, then hmilockd exits (status 4) */
	HMC_REQ_KNOWN_BAD = 0x06, /* struct hmc_known_bad -> RESULT: an event, counted */
	/* maintenance window and trusted updater (agent/window.c, update.c) */
	HMC_REQ_MAINT_BEGIN = 0x10, /* struct hmc_maint_begin -> RESULT */
	HMC_REQ_MAINT_STATUS = 0x11, /* no body -> MAINT_STATUS */
	HMC_REQ_MAINT_PLAN = 0x12, /* struct hmc_maint_plan_req -> MAINT_PLAN */
	HMC_REQ_MAINT_END = 0x13, /* struct hmc_maint_end -> RESULT */
	HMC_REQ_UPDATE_BEGIN = 0x14, /* struct hmc_update_begin -> UPDATE */
	HMC_REQ_UPDATE_INFO = 0x15, /* no body -> UPDATE (the open session) */
	HMC_REQ_UPDATE_COMMIT = 0x16, /* struct hmc_update_commit -> RESULT */
	HMC_REQ_MAINT_SYNC = 0x17, /* no body -> RESULT: read every queued change now */
	HMC_REP_RESULT = 0x81, /* struct hmc_result */
	HMC_REP_STATUS = 0x82, /* struct hmc_status */
	HMC_REP_EVENTS = 0x83, /* struct hmc_events */
	HMC_REP_MAINT_STATUS = 0x84, /* struct hmc_maint_status */
	HMC_REP_MAINT_PLAN = 0x85, /* struct hmc_maint_plan */
	HMC_REP_UPDATE = 0x86, /* struct hmc_update */
};

/* Wire values; agent/ctl.c static-asserts they equal enum hmd_mode,
 * hmd_verdict and hmd_reason. */
enum hmc_mode { HMC_MODE_ENFORCE = 0, HMC_MODE_AUDIT, HMC_MODE_MAINTENANCE, HMC_MODE__MAX };
enum hmc_verdict { HMC_V_ALLOW = 0, HMC_V_DENY, HMC_V_WOULD_DENY, HMC_V__MAX };
enum hmc_reason {
	HMC_R_LISTED = 0,
	HMC_R_NOT_LISTED,
	HMC_R_HASH_MISMATCH,
	HMC_R_UNRESOLVED,
	HMC_R_NOT_REGULAR,
	HMC_R_ERROR,
	HMC_R_QUEUE_FULL,
	HMC_R_HELPER,
	HMC_R_TOO_LARGE,
	HMC_R_KNOWN_BAD,
	HMC_R__MAX
};

struct hmc_hdr {
	uint32_t magic; /* HMC_MAGIC */
	uint16_t version; /* HMC_VERSION */
	uint16_t type; /* enum hmc_type */
	uint32_t length; /* whole message, header included */
	uint32_t seq; /* chosen by the client, echoed in the reply */
};

/* The admin password (hmilock passwd) of a request that needs operator
 * access: NUL-terminated, "" when the client has none to give. The daemon
 * answers -ENOKEY when a password is set and none was given (the CLI then
 * asks for it), -EACCES when it is wrong and -EAGAIN while it refuses every
 * attempt after a wrong one (agent/auth.c). Embedded in each such request's
 * body; the receiver must wipe it after use. */
#define HMC_PASSWORD_LEN 128
struct hmd_ctl_auth {
	char password[HMC_PASSWORD_LEN];
};

struct hmc_set_mode {
	uint32_t mode; /* enum hmc_mode */
	uint32_t reserved; /* 0 */
	struct hmd_ctl_auth auth;
};

/* Recent events are paged: the first request has after_id = until_id = 0
 * and gets the oldest of the newest `max` events; the reply says how many
 * of them remain, and the next request asks for the events after the last
 * id received, up to the newest id of the first reply (until_id), so events
 * that arrive meanwhile do not shift the window. */
struct hmc_events_req {
	uint64_t after_id; /* only events with a larger id */
	uint64_t until_id; /* and an id no larger (0: no bound) */
	uint32_t max; /* 1..HMC_EVENTS_MAX: the newest max of those */
	uint32_t reserved; /* 0 */
};

#define HMC_MAX_ERRNO 4095 /* Linux MAX_ERRNO: -errno is -1..-4095 */

#define HMC_RESULT_KNOWN_BAD 1u /* a commit left files unapproved: the prescan named them */
struct hmc_result {
	int32_t error; /* 0 or -errno (-HMC_MAX_ERRNO..0), checked */
	uint32_t flags; /* HMC_RESULT_* */
	char msg[512]; /* NUL-terminated, one line */
};

struct hmc_counters {
	uint64_t events, allowed, denied, would_deny, errors, on_error, queue_full;
	uint64_t self_allowed, cache_hits, cache_misses, ignore_marks;
	uint64_t queue_depth, max_queue_depth, log_dropped, marks, mounts_marked_later;
	uint64_t mountinfo_unparsed; /* mountinfo lines not understood (not marked) */
	uint64_t audit_records, audit_failed; /* deny records sent / failed to send */
	uint64_t maint_windows, update_sessions; /* opened since start */
	uint64_t known_bad; /* files a prescan named: not approved, or flagged */
};

/* What was refused, by layer and operation. The fanotify gate decides
 * execs (hmc_counters.denied/would_deny); the kernel helper counts by
 * operation, in the order of HMK_OP_* in kmod/hmilock_abi.h (helper.c
 * checks that they agree). The helper's counts are since this hmilockd
 * attached to it, like the daemon's own since it started. */
enum hmc_op {
	HMC_OP_EXEC = 0,
	HMC_OP_MMAP,
	HMC_OP_MPROTECT,
	HMC_OP_ANON_EXEC,
	HMC_OP_WRITE,
	HMC_OP_TRUNCATE,
	HMC_OP_SETATTR,
	HMC_OP_UNLINK,
	HMC_OP_RENAME,
	HMC_OP_KILL,
	HMC_OP_PTRACE,
	HMC_OP_SCRIPT,
	HMC_OP_BPF,
	HMC_OP_UMOUNT,
	HMC_OP_WX,
	HMC_OP_PROCMEM,
	HMC_OP_LINK,
	HMC_OP_MOUNT,
	HMC_OP_READ,
	HMC_OP__MAX
};

struct hmc_helper_counters {
	uint64_t denied[HMC_OP__MAX]; /* enforce: refused */
	uint64_t would_deny[HMC_OP__MAX]; /* audit: allowed, reported */
	uint64_t events_lost; /* ring buffer full: the count holds, the record is lost */
	uint64_t unchecked; /* interpreter argv unreadable, task storage full */
};

struct hmc_status {
	uint32_t mode; /* enum hmc_mode */
	uint32_t ready; /* 1 once marks are placed */
	uint32_t match; /* 0 path+hash, 1 hash */
	uint32_t on_error; /* policy: 0 deny, 1 allow */
	uint32_t audit_ok; /* 1 while deny records reach the audit system */
	int32_t pid; /* hmilockd's */
	uint32_t workers; /* worker threads */
	uint32_t list_flags; /* the loaded list's WL_DB_F_* (its provenance) */
	uint64_t uptime_s;
	uint64_t list_generation, list_entries;
	uint64_t cache_entries, cache_capacity; /* verdicts cached now / room */
	uint64_t decisions_timed; /* decisions in the latency histogram */
	uint64_t decision_p50_ns, decision_p99_ns;
	struct hmc_counters c;
	struct hmc_helper_counters h; /* zero while the helper is not active */
	char list_path[HMC_PATH_LEN];
	/* SHA-256 of the list file hmilockd verified with the list key (all
	 * zero: none, the empty list of a fresh install) */
	uint8_t list_sha256[32];
	char sandbox[128]; /* NUL-terminated strings */
	char helper[256];
	char audit[128];
	char gaps[1024]; /* what is open without the kernel helper; "" when active */
	char metrics[256]; /* the Prometheus text file: where, or why not */
	char events_socket[256]; /* the read-only events socket: where, for whom */
	/* the files that decide enforcement, one line each:
	 * "what\tpath\tprotected|not protected|absent\n" */
	char protected_files[2048];
};

struct hmc_event {
	uint64_t id; /* increasing, assigned by the daemon's logger */
	uint64_t time_ns; /* CLOCK_REALTIME */
	int32_t pid;
	uint8_t verdict; /* enum hmc_verdict */
	uint8_t reason; /* enum hmc_reason */
	uint8_t has_hash;
	uint8_t has_uid;
	uint32_t uid; /* the subject's real uid, when has_uid */
	uint32_t reserved; /* 0 */
	uint8_t sha256[32];
	char op[16]; /* NUL-terminated strings */
	char exe[256];
	char path[HMC_PATH_LEN];
};

struct hmc_events {
	uint32_t n; /* valid entries in ev[], oldest first */
	uint32_t reserved;
	uint64_t remaining; /* of the requested window, not sent yet */
	uint64_t until_id; /* the window's newest id: until_id of the next request */
	struct hmc_event ev[HMC_EVENTS_PER_MSG];
};

/* ---- maintenance window and trusted updater ---------------------------- */

#define HMC_TIMEOUT_MIN 1u /* seconds */
#define HMC_TIMEOUT_MAX (7u * 86400u)
#define HMC_PLAN_PER_MSG 12 /* plan entries / dropped paths in one message */

struct hmc_maint_begin {
	uint32_t timeout_s; /* 0: the configured default */
	uint32_t reserved; /* 0 */
	struct hmd_ctl_auth auth;
};

enum hmc_maint_state {
	HMC_MS_NONE = 0, /* nothing open, nothing waiting */
	HMC_MS_OPEN, /* maintenance window open */
	HMC_MS_UPDATE, /* trusted update session open */
	HMC_MS_PENDING, /* interrupted window/session: changes wait for review */
	HMC_MS__MAX
};

/* A mount whose changes are not recorded (left out by rule when the
 * window or session began, see agent/recorder.c). */
#define HMC_UNRECORDED_MAX 16
struct hmc_unrecorded {
	char mount[256]; /* NUL-terminated strings; mount truncated */
	char fstype[32];
	char why[32];
};

struct hmc_maint_status {
	uint32_t state; /* enum hmc_maint_state */
	uint32_t prev_mode; /* mode before the window (and after it) */
	uint64_t start; /* CLOCK_REALTIME seconds; 0 when none */
	uint64_t deadline; /* window re-locks itself then (0: none) */
	uint64_t generation; /* list generation the window began on */
	uint64_t records; /* changes recorded (distinct paths) */
	uint64_t ignored; /* changes by writers outside the update cgroup */
	uint64_t unattributed; /* writer gone before it could be identified */
	char journal[HMC_PATH_LEN];
	char last[512]; /* how the last window/session ended, "" if none */
	/* mounts left out when the window/session began: n_unrecorded in
	 * all, the first HMC_UNRECORDED_MAX of them in unrecorded[] */
	uint32_t n_unrecorded;
	uint32_t reserved2; /* 0 */
	struct hmc_unrecorded unrecorded[HMC_UNRECORDED_MAX];
};

struct hmc_maint_plan_req {
	uint32_t offset; /* first entry wanted */
	uint32_t reserved; /* 0 */
};

enum hmc_plan_kind {
	HMC_PK_ADD = 0, /* qualifies, not listed: will be approved */
	HMC_PK_CHANGE, /* listed, content changed: will be re-hashed */
	HMC_PK_SAME, /* listed, unchanged: nothing to do */
	HMC_PK_REMOVE, /* listed, gone: leaves the list */
	HMC_PK_SKIP, /* not listed and does not qualify, or gone */
	HMC_PK_HELD, /* would be added or changed, but written by a uid not in
	              * [maintenance] writers (or by nobody that could be
	              * named): not approved unless a review accepts it */
	HMC_PK__MAX
};

#define HMC_UID_NONE 0xffffffffu /* no writer: unknown, or a removal */
struct hmc_plan_entry {
	uint32_t kind; /* enum hmc_plan_kind */
	uint32_t uid; /* who wrote it, or HMC_UID_NONE */
	char path[HMC_PATH_LEN];
};

struct hmc_maint_plan {
	uint32_t total; /* entries in the whole plan */
	uint32_t n; /* valid entries in e[] (from the request's offset) */
	struct hmc_plan_entry e[HMC_PLAN_PER_MSG];
};

enum {
	HMC_END_MORE = 1, /* only add these drops; the end follows */
	HMC_END_DISCARD = 2, /* approve nothing, drop the record */
	HMC_END_ACCEPT = 4, /* with MORE: the paths are held changes accepted, not drops */
	HMC_END_NO_PRESCAN = 8, /* approve without the [prescan] (logged, on the list) */
};

/* Ending a window: drops of a --review come in messages with HMC_END_MORE
 * set (HMC_PLAN_PER_MSG paths each), on the same connection; the last
 * message, without it, carries the rest and ends the window. */
struct hmc_maint_end {
	uint32_t flags;
	uint32_t n_drop; /* valid paths in drop[] */
	struct hmd_ctl_auth auth;
	char drop[HMC_PLAN_PER_MSG][HMC_PATH_LEN];
};

struct hmc_update_begin {
	int32_t pid; /* the process that will join the cgroup (0: the caller) */
	uint32_t reserved; /* 0 */
	struct hmd_ctl_auth auth;
};

struct hmc_update {
	uint64_t session; /* > 0 */
	int32_t pid; /* who joins */
	uint32_t reserved;
	char cgroup[HMC_PATH_LEN]; /* directory: write a pid to its cgroup.procs */
	char origin[HMC_PATH_LEN]; /* pid's cgroup directory before the session */
};

#define HMC_UC_KEEP 1u /* --keep-on-failure */
#define HMC_UC_NO_PRESCAN 2u /* --no-prescan: approve without the [prescan] */
struct hmc_update_commit {
	uint64_t session;
	uint32_t ok; /* the command exited 0 */
	uint32_t flags; /* HMC_UC_* */
};

/* A listed file `hmilock verify --prescan` found known-bad: hmilockd
 * makes it an event (deny, known-bad, op "verify") and counts it. */
struct hmc_known_bad {
	uint8_t sha256[32]; /* as listed */
	char sig[160]; /* NUL-terminated: the signature or blocklist entry */
	char path[HMC_PATH_LEN];
};

/* A whole message, for buffers. */
struct hmc_msg {
	struct hmc_hdr h;
	union {
		struct hmc_set_mode set_mode;
		struct hmd_ctl_auth stop;
		struct hmc_known_bad known_bad;
		struct hmc_events_req events_req;
		struct hmc_result result;
		struct hmc_status status;
		struct hmc_events events;
		struct hmc_maint_begin maint_begin;
		struct hmc_maint_status maint_status;
		struct hmc_maint_plan_req maint_plan_req;
		struct hmc_maint_plan maint_plan;
		struct hmc_maint_end maint_end;
		struct hmc_update_begin update_begin;
		struct hmc_update update;
		struct hmc_update_commit update_commit;
	} u;
};

_Static_assert(sizeof(struct hmc_hdr) == 16, "hmc_hdr layout");
_Static_assert(sizeof(struct hmd_ctl_auth) == HMC_PASSWORD_LEN, "hmd_ctl_auth layout");
_Static_assert(sizeof(struct hmc_set_mode) == 8 + HMC_PASSWORD_LEN, "hmc_set_mode layout");
_Static_assert(sizeof(struct hmc_events_req) == 24, "hmc_events_req layout");
_Static_assert(sizeof(struct hmc_result) == 520, "hmc_result layout");
_Static_assert(sizeof(struct hmc_counters) == 22 * 8, "hmc_counters layout");
_Static_assert(sizeof(struct hmc_helper_counters) == (2 * HMC_OP__MAX + 2) * 8,
               "hmc_helper_counters layout");
_Static_assert(sizeof(struct hmc_status) == 96 + 176 + sizeof(struct hmc_helper_counters) + 4096 +
                                                32 + 128 + 256 + 128 + 1024 + 256 + 256 + 2048,
               "hmc_status");
_Static_assert(sizeof(struct hmc_event) == 32 + 32 + 16 + 256 + 4096, "hmc_event layout");
_Static_assert(offsetof(struct hmc_msg, u) == sizeof(struct hmc_hdr), "no gap after header");
_Static_assert(sizeof(struct hmc_hdr) + sizeof(struct hmc_events) <= HMC_MAX_MSG,
               "an EVENTS reply must fit one SEQPACKET record");
_Static_assert(sizeof(struct hmc_msg) <= HMC_MAX_MSG, "hmc_msg fits HMC_MAX_MSG");
_Static_assert(sizeof(struct hmc_maint_end) ==
                   8 + HMC_PASSWORD_LEN + HMC_PLAN_PER_MSG * HMC_PATH_LEN,
               "hmc_maint_end layout");
_Static_assert(sizeof(struct hmc_plan_entry) == 8 + HMC_PATH_LEN, "hmc_plan_entry layout");
_Static_assert(sizeof(struct hmc_update) == 16 + 2 * HMC_PATH_LEN, "hmc_update layout");

enum hmc_dir { HMC_REQUEST = 0, HMC_REPLY };

/* Body size of a message type in the given direction; -1 for a type that
 * direction does not use. */
static inline long hmc_body_size(uint16_t type, enum hmc_dir dir)
{
	if (dir == HMC_REQUEST) {
		switch (type) {
		case HMC_REQ_STATUS:
		case HMC_REQ_RELOAD:
			return 0;
		case HMC_REQ_SET_MODE:
			return (long)sizeof(struct hmc_set_mode);
		case HMC_REQ_STOP:
			return (long)sizeof(struct hmd_ctl_auth);
		case HMC_REQ_KNOWN_BAD:
			return (long)sizeof(struct hmc_known_bad);
		case HMC_REQ_EVENTS:
			return (long)sizeof(struct hmc_events_req);
		case HMC_REQ_MAINT_STATUS:
		case HMC_REQ_UPDATE_INFO:
		case HMC_REQ_MAINT_SYNC:
			return 0;
		case HMC_REQ_MAINT_BEGIN:
			return (long)sizeof(struct hmc_maint_begin);
		case HMC_REQ_MAINT_PLAN:
			return (long)sizeof(struct hmc_maint_plan_req);
		case HMC_REQ_MAINT_END:
			return (long)sizeof(struct hmc_maint_end);
		case HMC_REQ_UPDATE_BEGIN:
			return (long)sizeof(struct hmc_update_begin);
		case HMC_REQ_UPDATE_COMMIT:
			return (long)sizeof(struct hmc_update_commit);
		}
		return -1;
	}
	switch (type) {
	case HMC_REP_RESULT:
		return (long)sizeof(struct hmc_result);
	case HMC_REP_STATUS:
		return (long)sizeof(struct hmc_status);
	case HMC_REP_EVENTS:
		return (long)sizeof(struct hmc_events);
	case HMC_REP_MAINT_STATUS:
		return (long)sizeof(struct hmc_maint_status);
	case HMC_REP_MAINT_PLAN:
		return (long)sizeof(struct hmc_maint_plan);
	case HMC_REP_UPDATE:
		return (long)sizeof(struct hmc_update);
	}
	return -1;
}

static inline bool hmc_str_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static inline bool hmc_auth_ok(const struct hmd_ctl_auth *a)
{
	return hmc_str_ok(a->password, sizeof(a->password));
}

static inline bool hmc_event_ok(const struct hmc_event *e)
{
	return e->verdict < HMC_V__MAX && e->reason < HMC_R__MAX && e->has_hash <= 1 &&
	       e->has_uid <= 1 && e->reserved == 0 && hmc_str_ok(e->op, sizeof(e->op)) &&
	       hmc_str_ok(e->exe, sizeof(e->exe)) && hmc_str_ok(e->path, sizeof(e->path));
}

static inline bool hmc_unrecorded_ok(const struct hmc_unrecorded *u)
{
	return hmc_str_ok(u->mount, sizeof(u->mount)) && hmc_str_ok(u->fstype, sizeof(u->fstype)) &&
	       hmc_str_ok(u->why, sizeof(u->why));
}

/* Maintenance and update bodies (hmc_check_body). */
static inline const char *hmc_check_maint(const struct hmc_msg *m)
{
	uint32_t i;

	switch (m->h.type) {
	case HMC_REQ_MAINT_BEGIN:
		if (m->u.maint_begin.reserved)
			return "reserved field not zero";
		if (m->u.maint_begin.timeout_s && (m->u.maint_begin.timeout_s < HMC_TIMEOUT_MIN ||
		                                   m->u.maint_begin.timeout_s > HMC_TIMEOUT_MAX))
			return "timeout out of range";
		return hmc_auth_ok(&m->u.maint_begin.auth) ? NULL : "password not NUL-terminated";
	case HMC_REQ_MAINT_PLAN:
		return m->u.maint_plan_req.reserved ? "reserved field not zero" : NULL;
	case HMC_REQ_MAINT_END:
		if ((m->u.maint_end.flags & ~(uint32_t)(HMC_END_MORE | HMC_END_DISCARD |
		                                        HMC_END_ACCEPT | HMC_END_NO_PRESCAN)) ||
		    ((m->u.maint_end.flags & HMC_END_ACCEPT) &&
		     !(m->u.maint_end.flags & HMC_END_MORE)))
			return "unknown flags";
		if (m->u.maint_end.n_drop > HMC_PLAN_PER_MSG)
			return "too many dropped paths";
		for (i = 0; i < m->u.maint_end.n_drop; i++)
			if (!hmc_str_ok(m->u.maint_end.drop[i], HMC_PATH_LEN) ||
			    m->u.maint_end.drop[i][0] != '/')
				return "malformed dropped path";
		return hmc_auth_ok(&m->u.maint_end.auth) ? NULL : "password not NUL-terminated";
	case HMC_REQ_UPDATE_BEGIN:
		if (m->u.update_begin.reserved || m->u.update_begin.pid < 0)
			return "malformed update request";
		return hmc_auth_ok(&m->u.update_begin.auth) ? NULL : "password not NUL-terminated";
	case HMC_REQ_UPDATE_COMMIT:
		return m->u.update_commit.ok > 1 ||
		               (m->u.update_commit.flags & ~(HMC_UC_KEEP | HMC_UC_NO_PRESCAN))
		           ? "malformed commit"
		           : NULL;
	case HMC_REP_MAINT_STATUS:
		for (i = 0; i < m->u.maint_status.n_unrecorded && i < HMC_UNRECORDED_MAX; i++)
			if (!hmc_unrecorded_ok(&m->u.maint_status.unrecorded[i]))
				return "malformed unrecorded mount";
		return m->u.maint_status.state >= HMC_MS__MAX ||
		               m->u.maint_status.prev_mode >= HMC_MODE__MAX ||
		               m->u.maint_status.reserved2 ||
		               !hmc_str_ok(m->u.maint_status.journal, HMC_PATH_LEN) ||
		               !hmc_str_ok(m->u.maint_status.last, sizeof(m->u.maint_status.last))
		           ? "malformed maintenance status"
		           : NULL;
	case HMC_REP_MAINT_PLAN:
		if (m->u.maint_plan.n > HMC_PLAN_PER_MSG ||
		    m->u.maint_plan.n > m->u.maint_plan.total)
			return "too many plan entries";
		for (i = 0; i < m->u.maint_plan.n; i++)
			if (m->u.maint_plan.e[i].kind >= HMC_PK__MAX ||
			    !hmc_str_ok(m->u.maint_plan.e[i].path, HMC_PATH_LEN))
				return "malformed plan entry";
		return NULL;
	case HMC_REP_UPDATE:
		return !m->u.update.session || !hmc_str_ok(m->u.update.cgroup, HMC_PATH_LEN) ||
		               !hmc_str_ok(m->u.update.origin, HMC_PATH_LEN)
		           ? "malformed update reply"
		           : NULL;
	}
	return NULL;
}

/* The fields of a body that the header checks cannot see. */
static inline const char *hmc_check_body(const struct hmc_msg *m)
{
	uint32_t i;

	if (m->h.type >= HMC_REQ_MAINT_BEGIN && m->h.type <= HMC_REQ_MAINT_SYNC)
		return hmc_check_maint(m);
	if (m->h.type >= HMC_REP_MAINT_STATUS && m->h.type <= HMC_REP_UPDATE)
		return hmc_check_maint(m);
	switch (m->h.type) {
	case HMC_REQ_SET_MODE:
		if (m->u.set_mode.reserved)
			return "reserved field not zero";
		if (m->u.set_mode.mode >= HMC_MODE__MAX)
			return "unknown mode";
		if (!hmc_auth_ok(&m->u.set_mode.auth))
			return "password not NUL-terminated";
		return NULL;
	case HMC_REQ_STOP:
		return hmc_auth_ok(&m->u.stop) ? NULL : "password not NUL-terminated";
	case HMC_REQ_KNOWN_BAD:
		return hmc_str_ok(m->u.known_bad.sig, sizeof(m->u.known_bad.sig)) &&
		               hmc_str_ok(m->u.known_bad.path, sizeof(m->u.known_bad.path)) &&
		               m->u.known_bad.path[0] == '/'
		           ? NULL
		           : "bad known-bad report";
	case HMC_REQ_EVENTS:
		if (m->u.events_req.reserved)
			return "reserved field not zero";
		if (m->u.events_req.max < 1 || m->u.events_req.max > HMC_EVENTS_MAX)
			return "event count out of range";
		return NULL;
	case HMC_REP_RESULT:
		/* not just <= 0: a client negates it (strerror(-error)) */
		if (m->u.result.error > 0 || m->u.result.error < -HMC_MAX_ERRNO ||
		    !hmc_str_ok(m->u.result.msg, sizeof(m->u.result.msg)))
			return "malformed result";
		return NULL;
	case HMC_REP_STATUS:
		if (m->u.status.mode >= HMC_MODE__MAX ||
		    !hmc_str_ok(m->u.status.list_path, sizeof(m->u.status.list_path)) ||
		    !hmc_str_ok(m->u.status.sandbox, sizeof(m->u.status.sandbox)) ||
		    !hmc_str_ok(m->u.status.helper, sizeof(m->u.status.helper)) ||
		    !hmc_str_ok(m->u.status.audit, sizeof(m->u.status.audit)) ||
		    !hmc_str_ok(m->u.status.gaps, sizeof(m->u.status.gaps)) ||
		    !hmc_str_ok(m->u.status.metrics, sizeof(m->u.status.metrics)) ||
		    !hmc_str_ok(m->u.status.events_socket, sizeof(m->u.status.events_socket)))
			return "malformed status";
		return NULL;
	case HMC_REP_EVENTS:
		if (m->u.events.n > HMC_EVENTS_PER_MSG)
			return "too many events";
		for (i = 0; i < m->u.events.n; i++)
			if (!hmc_event_ok(&m->u.events.ev[i]))
				return "malformed event";
		return NULL;
	}
	return NULL;
}

/* Validate one received message of len bytes in direction dir. On success
 * the message may be read through a struct hmc_msg copy of it. Returns 0,
 * -EPROTONOSUPPORT (another protocol version) or -EBADMSG, with *why set to
 * a static one-line reason. A message longer than HMC_MAX_MSG is refused
 * even if buf holds it. */
static inline int hmc_check(const void *buf, size_t len, enum hmc_dir dir, const char **why)
{
	struct hmc_hdr h;
	long body;

	*why = NULL;
	if (len < sizeof(h))
		return *why = "message shorter than its header", -EBADMSG;
	if (len > HMC_MAX_MSG)
		return *why = "message longer than the protocol allows", -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != HMC_MAGIC)
		return *why = "bad magic (not an hmilock control message)", -EBADMSG;
	if (h.version != HMC_VERSION)
		return *why = "other protocol version", -EPROTONOSUPPORT;
	if (h.length != len)
		return *why = "length field does not match the message size", -EBADMSG;
	body = hmc_body_size(h.type, dir);
	if (body < 0)
		return *why = "unknown message type", -EBADMSG;
	if (len != sizeof(h) + (size_t)body)
		return *why = "message size does not match its type", -EBADMSG;
	return 0;
}

/* hmc_check plus the body checks, on an aligned copy in *out (which must
 * have room for a whole struct hmc_msg). */
static inline int hmc_parse(const void *buf, size_t len, enum hmc_dir dir, struct hmc_msg *out,
                            const char **why)
{
	int rc = hmc_check(buf, len, dir, why);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	memcpy(out, buf, len);
	*why = hmc_check_body(out);
	return *why ? -EBADMSG : 0;
}

/* Fill a header for a message of the given type and direction. */
static inline void hmc_hdr_init(struct hmc_hdr *h, uint16_t type, enum hmc_dir dir, uint32_t seq)
{
	long body = hmc_body_size(type, dir);

	h->magic = HMC_MAGIC;
	h->version = HMC_VERSION;
	h->type = type;
	h->length = (uint32_t)(sizeof(*h) + (body > 0 ? (size_t)body : 0));
	h->seq = seq;
}

static inline const char *hmc_mode_name(uint32_t m)
{
	static const char *const names[HMC_MODE__MAX] = {
	    [HMC_MODE_ENFORCE] = "enforce",
	    [HMC_MODE_AUDIT] = "audit",
	    [HMC_MODE_MAINTENANCE] = "maintenance",
	};

	return m < HMC_MODE__MAX ? names[m] : "unknown";
}

static inline const char *hmc_op_name(uint32_t op)
{
	static const char *const names[HMC_OP__MAX] = {
	    [HMC_OP_EXEC] = "exec",
	    [HMC_OP_MMAP] = "mmap",
	    [HMC_OP_MPROTECT] = "mprotect",
	    [HMC_OP_ANON_EXEC] = "anon-exec",
	    [HMC_OP_WRITE] = "write",
	    [HMC_OP_TRUNCATE] = "truncate",
	    [HMC_OP_SETATTR] = "setattr",
	    [HMC_OP_UNLINK] = "unlink",
	    [HMC_OP_RENAME] = "rename",
	    [HMC_OP_KILL] = "kill",
	    [HMC_OP_PTRACE] = "ptrace",
	    [HMC_OP_SCRIPT] = "script",
	    [HMC_OP_BPF] = "bpf",
	    [HMC_OP_UMOUNT] = "umount",
	    [HMC_OP_WX] = "wx",
	    [HMC_OP_PROCMEM] = "proc-mem",
	    [HMC_OP_LINK] = "link",
	    [HMC_OP_MOUNT] = "mount",
	    [HMC_OP_READ] = "read",
	};

	return op < HMC_OP__MAX ? names[op] : "unknown";
}

/* Everything refused (deny) or that would have been (!deny: audit), both
 * layers together: what `hmilock status` calls denied / would-deny. */
static inline uint64_t hmc_status_refused(const struct hmc_status *s, bool deny)
{
	uint64_t n = deny ? s->c.denied : s->c.would_deny;

	for (uint32_t op = 0; op < HMC_OP__MAX; op++)
		n += deny ? s->h.denied[op] : s->h.would_deny[op];
	return n;
}

/* A duration "90", "90s", "30m", "2h" or "1d" into seconds within
 * HMC_TIMEOUT_MIN..HMC_TIMEOUT_MAX. 0 or -EINVAL. Shared by the CLI
 * (--timeout) and the daemon ([maintenance] default_timeout). */
static inline int hmc_duration_parse(const char *s, uint32_t *out)
{
	unsigned long long v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > HMC_TIMEOUT_MAX)
			return -EINVAL;
	}
	if (*p == 's')
		p++;
	else if (*p == 'm')
		mul = 60, p++;
	else if (*p == 'h')
		mul = 3600, p++;
	else if (*p == 'd')
		mul = 86400, p++;
	if (*p || v * mul < HMC_TIMEOUT_MIN || v * mul > HMC_TIMEOUT_MAX)
		return -EINVAL;
	*out = (uint32_t)(v * mul);
	return 0;
}

static inline const char *hmc_maint_state_name(uint32_t s)
{
	static const char *const names[HMC_MS__MAX] = {
	    [HMC_MS_NONE] = "none",
	    [HMC_MS_OPEN] = "open",
	    [HMC_MS_UPDATE] = "update",
	    [HMC_MS_PENDING] = "pending-review",
	};

	return s < HMC_MS__MAX ? names[s] : "unknown";
}

static inline const char *hmc_plan_kind_name(uint32_t k)
{
	static const char *const names[HMC_PK__MAX] = {
	    [HMC_PK_ADD] = "add",       [HMC_PK_CHANGE] = "change", [HMC_PK_SAME] = "same",
	    [HMC_PK_REMOVE] = "remove", [HMC_PK_SKIP] = "skip",     [HMC_PK_HELD] = "held",
	};

	return k < HMC_PK__MAX ? names[k] : "unknown";
}

static inline const char *hmc_verdict_name(uint32_t v)
{
	static const char *const names[HMC_V__MAX] = {
	    [HMC_V_ALLOW] = "allow",
	    [HMC_V_DENY] = "deny",
	    [HMC_V_WOULD_DENY] = "would-deny",
	};

	return v < HMC_V__MAX ? names[v] : "unknown";
}

static inline const char *hmc_reason_name(uint32_t r)
{
	static const char *const names[HMC_R__MAX] = {
	    [HMC_R_LISTED] = "listed",
	    [HMC_R_NOT_LISTED] = "not-listed",
	    [HMC_R_HASH_MISMATCH] = "hash-mismatch",
	    [HMC_R_UNRESOLVED] = "unresolved",
	    [HMC_R_NOT_REGULAR] = "not-regular",
	    [HMC_R_ERROR] = "error",
	    [HMC_R_QUEUE_FULL] = "queue-full",
	    [HMC_R_HELPER] = "helper",
	    [HMC_R_TOO_LARGE] = "too-large",
	    [HMC_R_KNOWN_BAD] = "known-bad",
	};

	return r < HMC_R__MAX ? names[r] : "unknown";
}

#endif /* HMILOCK_CTL_H */
