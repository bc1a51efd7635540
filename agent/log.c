/* log.c - the daemon's log: a bounded lock-free ring that any thread feeds
 * (log_event, log_msg) without blocking or doing I/O, and the one logger
 * thread started here that drains it. The logger alone owns the audit
 * netlink fd, the syslog connection and stderr output, and is the only
 * writer of the recent-events ring, which ctl.c reads (under lg.rmu)
 * through log_events()/log_recent(). Before log_init and after log_fini,
 * log_msg writes synchronously (start-up and shutdown run single-threaded).
 *
 * Audit records: type AUDIT_USER_AVC (1107, "USER_AVC"), the record type of
 * user-space access-decision makers, which the kernel accepts even while
 * auditing is off and which `ausearch -m USER_AVC` finds. The message is
 *   op=exec verdict=deny reason=not-listed pid=<subject pid>
 *   exe=<encoded> path=<encoded> sha256=<hex|none> res=failed
 * sent raw with audit_send(): the kernel prefixes hmilockd's own pid, uid
 * and auid, so the pid= inside msg='...' is the process that tried to run
 * the file. exe and path go through audit_encode_nv_string (hex when they
 * hold quotes, blanks or odd bytes; `ausearch -i` decodes them). */
#include <errno.h>
#include <libaudit.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hmilock_ctl.h"
#include "decide.h"
#include "log.h"
#include "stats.h"

#define LOG_RING 256 /* queued items; power of two */
#define LOG_RECENT 128 /* events kept for `hmilock events` */
#define LOG_AUDIT_TYPE AUDIT_USER_AVC

/* Exported by libaudit.so.1 (auditctl and the audit_log_* helpers are built
 * on it) but not declared in libaudit.h. The public helpers append the
 * sender's own exe= (and look up its tty), which would give each record
 * two exe fields, only one of them the subject's; so the record is built
 * here and sent as is. Returns a sequence number > 0 or -errno. */
extern int audit_send(int fd, int type, const void *data, unsigned int size);

_Static_assert((LOG_RING & (LOG_RING - 1)) == 0, "LOG_RING must be a power of two");
_Static_assert(LOG_RECENT <= HMC_EVENTS_MAX, "the ring never holds more than a client may ask");

enum log_kind { LOG_K_EVENT = 0, LOG_K_MSG };

struct log_item {
	uint8_t kind; /* enum log_kind */
	int prio; /* LOG_K_MSG */
	struct hmd_event ev; /* LOG_K_MSG: the text is in ev.path */
};

static struct {
	/* The ring (Vyukov's bounded MPMC queue, used with one consumer):
	 * seq[] is apart from items[] so that setting it up touches 2 KiB,
	 * not every item's page. */
	atomic_size_t seq[LOG_RING];
	struct log_item items[LOG_RING];
	atomic_size_t head; /* producers claim slots here */
	size_t tail; /* logger only */
	atomic_bool sleeping; /* logger waits on efd */
	atomic_bool stop;
	int efd; /* eventfd that wakes the logger */
	pthread_t thr;
	atomic_bool started;
	bool to_stderr;

	/* logger only */
	int audit_fd;
	/* audit state and recent events: under rmu */
	pthread_mutex_t rmu;
	char audit[128];
	bool audit_ok;
	uint64_t audit_records, audit_failed;
	uint64_t next_id; /* id of the newest event, 0: none yet */
	struct hmd_event_rec recent[LOG_RECENT];
} lg = {
    .efd = -1,
    .audit_fd = -1,
    .rmu = PTHREAD_MUTEX_INITIALIZER,
};

_Static_assert((int)HMD_V_ALLOW == HMC_V_ALLOW && (int)HMD_V_DENY == HMC_V_DENY &&
                   (int)HMD_V_WOULD_DENY == HMC_V_WOULD_DENY,
               "hmd_verdict and hmc_verdict differ");
_Static_assert((int)HMD_R__MAX == HMC_R__MAX && (int)HMD_R_LISTED == HMC_R_LISTED &&
                   (int)HMD_R_NOT_LISTED == HMC_R_NOT_LISTED &&
                   (int)HMD_R_HASH_MISMATCH == HMC_R_HASH_MISMATCH &&
                   (int)HMD_R_UNRESOLVED == HMC_R_UNRESOLVED &&
                   (int)HMD_R_NOT_REGULAR == HMC_R_NOT_REGULAR && (int)HMD_R_ERROR == HMC_R_ERROR &&
                   (int)HMD_R_QUEUE_FULL == HMC_R_QUEUE_FULL && (int)HMD_R_HELPER == HMC_R_HELPER &&
                   (int)HMD_R_TOO_LARGE == HMC_R_TOO_LARGE &&
                   (int)HMD_R_KNOWN_BAD == HMC_R_KNOWN_BAD,
               "hmd_reason and hmc_reason differ");

const char *log_verdict_name(enum hmd_verdict v)
{
	return hmc_verdict_name((uint32_t)v);
}

const char *log_reason_name(enum hmd_reason r)
{
	return hmc_reason_name((uint32_t)r);
}

/* ---- the ring (producers: any thread) ---------------------------------- */

static struct log_item *log_claim(size_t *pos_out)
{
	size_t pos = atomic_load_explicit(&lg.head, memory_order_relaxed), seq;
	intptr_t dif;

	for (;;) {
		seq = atomic_load_explicit(&lg.seq[pos & (LOG_RING - 1)], memory_order_acquire);
		dif = (intptr_t)seq - (intptr_t)pos;
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&lg.head, &pos, pos + 1,
			                                          memory_order_relaxed,
			                                          memory_order_relaxed))
				break;
		} else if (dif < 0) {
			return NULL; /* full */
		} else {
			pos = atomic_load_explicit(&lg.head, memory_order_relaxed);
		}
	}
	*pos_out = pos;
	return &lg.items[pos & (LOG_RING - 1)];
}

static void log_publish(size_t pos)
{
	uint64_t one = 1;

	/* seq_cst here, in the exchange below and in the logger's store of
	 * sleeping and log_pending(): either the logger sees this item before
	 * it sleeps or we see it sleeping and wake it (and it polls with a 1 s
	 * timeout besides). */
	atomic_store(&lg.seq[pos & (LOG_RING - 1)], pos + 1);
	/* Wake the logger only when it sleeps: one write per burst. */
	if (atomic_exchange(&lg.sleeping, false))
		(void)!write(lg.efd, &one, sizeof(one));
}

/* Logger: take the oldest published item, if any. */
static bool log_pop(struct log_item *out)
{
	size_t pos = lg.tail, seq;

	seq = atomic_load_explicit(&lg.seq[pos & (LOG_RING - 1)], memory_order_acquire);
	if ((intptr_t)seq - (intptr_t)(pos + 1) < 0)
		return false;
	*out = lg.items[pos & (LOG_RING - 1)];
	atomic_store_explicit(&lg.seq[pos & (LOG_RING - 1)], pos + LOG_RING, memory_order_release);
	lg.tail = pos + 1;
	return true;
}

static bool log_pending(void)
{
	size_t seq = atomic_load(&lg.seq[lg.tail & (LOG_RING - 1)]);

	return (intptr_t)seq - (intptr_t)(lg.tail + 1) >= 0;
}

void log_event(const struct hmd_event *ev)
{
	struct log_item *it;
	size_t pos;

	if (!lg.started) {
		atomic_fetch_add_explicit(&hmd_stats.log_dropped, 1, memory_order_relaxed);
		return;
	}
	it = log_claim(&pos);
	if (!it) {
		atomic_fetch_add_explicit(&hmd_stats.log_dropped, 1, memory_order_relaxed);
		return;
	}
	it->kind = LOG_K_EVENT;
	it->ev = *ev;
	log_publish(pos);
}

void log_known_bad(const char *op, pid_t pid, const char *path, const uint8_t *sha256)
{
	struct hmd_event ev;
	struct timespec ts;

	memset(&ev, 0, sizeof(ev));
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ev.pid = pid;
	ev.verdict = HMD_V_DENY;
	ev.reason = HMD_R_KNOWN_BAD;
	snprintf(ev.op, sizeof(ev.op), "%s", op);
	snprintf(ev.path, sizeof(ev.path), "%s", path);
	if (sha256) {
		ev.has_hash = 1;
		memcpy(ev.sha256, sha256, WL_SHA256_LEN);
	}
	atomic_fetch_add_explicit(&hmd_stats.known_bad, 1, memory_order_relaxed);
	log_event(&ev);
}

static void log_write_msg(int prio, const char *text)
{
	syslog(LOG_DAEMON | prio, "%s", text);
	if (lg.to_stderr)
		fprintf(stderr, "hmilockd: %s\n", text);
}

void log_msg(int prio, const char *fmt, ...)
{
	struct log_item *it;
	char text[1024];
	va_list ap;
	size_t pos;

	if (!lg.started) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		log_write_msg(prio, text);
		return;
	}
	it = log_claim(&pos);
	if (!it) {
		atomic_fetch_add_explicit(&hmd_stats.log_dropped, 1, memory_order_relaxed);
		return;
	}
	it->kind = LOG_K_MSG;
	it->prio = prio;
	va_start(ap, fmt);
	vsnprintf(it->ev.path, sizeof(it->ev.path), fmt, ap);
	va_end(ap);
	log_publish(pos);
}

/* ---- the logger thread --------------------------------------------------- */

/* Quote a string for a syslog line: printable ASCII stays, the rest (and
 * '\\') becomes \xHH, so one event is one line whatever the path holds. */
static void log_escape(const char *s, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	for (; *p && o + 5 < outlen; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
	}
	out[o] = '\0';
}

static void log_fill_exe(struct hmd_event *ev)
{
	char link[64];
	ssize_t n;

	if (ev->exe[0] || ev->pid <= 0)
		return;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)ev->pid);
	n = readlink(link, ev->exe, sizeof(ev->exe) - 1);
	if (n < 0)
		snprintf(ev->exe, sizeof(ev->exe), "?");
	else
		ev->exe[n] = '\0';
}

static void log_audit_state(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_audit_state(bool ok, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lg.rmu);
	lg.audit_ok = ok;
	va_start(ap, fmt);
	vsnprintf(lg.audit, sizeof(lg.audit), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&lg.rmu);
}

/* Build "name=value" for the audit record into out (encoded if needed). */
static void log_audit_field(const char *name, const char *value, char *out, size_t outlen)
{
	char *enc = audit_encode_nv_string(name, value, 0);

	snprintf(out, outlen, "%s", enc ? enc : "");
	free(enc);
}

static void log_audit(const struct hmd_event *ev)
{
	char exe[2 * sizeof(ev->exe) + 8], path[2 * PATH_MAX + 8], hex[WL_HEX_LEN];
	char msg[MAX_AUDIT_MESSAGE_LENGTH];
	int rc, n;

	if (lg.audit_fd < 0)
		return;
	log_audit_field("exe", ev->exe, exe, sizeof(exe));
	log_audit_field("path", ev->path, path, sizeof(path));
	if (ev->has_hash)
		wl_hex(ev->sha256, hex);
	else
		snprintf(hex, sizeof(hex), "none");
	n = snprintf(msg, sizeof(msg), "op=%s verdict=%s reason=%s pid=%d %s %s sha256=%s res=%s",
	             ev->op[0] ? ev->op : "exec", log_verdict_name(ev->verdict),
	             log_reason_name(ev->reason), (int)ev->pid, exe, path, hex,
	             ev->verdict == HMD_V_DENY ? "failed" : "success");
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)strlen(msg);
	rc = audit_send(lg.audit_fd, LOG_AUDIT_TYPE, msg, (unsigned)n + 1);
	pthread_mutex_lock(&lg.rmu);
	if (rc < 0)
		lg.audit_failed++;
	else
		lg.audit_records++;
	pthread_mutex_unlock(&lg.rmu);
	if (rc < 0) {
		log_audit_state(false, "failing - sending USER_AVC: %s", strerror(-rc));
		syslog(LOG_DAEMON | LOG_ERR, "audit record not sent: %s", strerror(-rc));
	}
}

static void log_syslog_event(const struct hmd_event *ev)
{
	char path[4 * PATH_MAX + 1], exe[4 * sizeof(ev->exe) + 1], hex[WL_HEX_LEN], uid[16];
	int prio = ev->verdict == HMD_V_DENY         ? LOG_WARNING
	           : ev->verdict == HMD_V_WOULD_DENY ? LOG_NOTICE
	                                             : LOG_INFO;

	log_escape(ev->path, path, sizeof(path));
	log_escape(ev->exe, exe, sizeof(exe));
	if (ev->has_hash)
		wl_hex(ev->sha256, hex);
	else
		snprintf(hex, sizeof(hex), "none");
	if (ev->has_uid)
		snprintf(uid, sizeof(uid), "%u", ev->uid);
	else
		snprintf(uid, sizeof(uid), "?");
	syslog(LOG_AUTHPRIV | prio, "%s %s path=%s reason=%s pid=%d uid=%s exe=%s sha256=%s",
	       log_verdict_name(ev->verdict), ev->op[0] ? ev->op : "exec", path,
	       log_reason_name(ev->reason), (int)ev->pid, uid, exe, hex);
	if (lg.to_stderr)
		fprintf(stderr,
		        "hmilockd: %s %s path=%s reason=%s pid=%d uid=%s exe=%s sha256=%s\n",
		        log_verdict_name(ev->verdict), ev->op[0] ? ev->op : "exec", path,
		        log_reason_name(ev->reason), (int)ev->pid, uid, exe, hex);
}

static void log_remember(const struct hmd_event *ev)
{
	struct hmd_event_rec *r;

	pthread_mutex_lock(&lg.rmu);
	lg.next_id++;
	r = &lg.recent[lg.next_id % LOG_RECENT];
	r->id = lg.next_id;
	r->ev = *ev;
	pthread_mutex_unlock(&lg.rmu);
}

static void log_process(struct log_item *it)
{
	switch (it->kind) {
	case LOG_K_EVENT:
		log_fill_exe(&it->ev);
		if (it->ev.verdict == HMD_V_DENY || it->ev.verdict == HMD_V_WOULD_DENY)
			log_audit(&it->ev);
		log_syslog_event(&it->ev);
		log_remember(&it->ev);
		break;
	case LOG_K_MSG:
		log_write_msg(it->prio, it->ev.path);
		break;
	}
}

static void *log_thread(void *arg)
{
	static struct log_item it; /* 4 KiB+: not on the thread's stack */
	struct pollfd pfd;
	uint64_t v;

	(void)arg;
	pfd.fd = lg.efd;
	pfd.events = POLLIN;
	for (;;) {
		while (log_pop(&it))
			log_process(&it);
		if (atomic_load(&lg.stop))
			break;
		atomic_store(&lg.sleeping, true);
		if (log_pending()) { /* published between the drain and now */
			atomic_store(&lg.sleeping, false);
			continue;
		}
		if (poll(&pfd, 1, 1000) > 0)
			(void)!read(lg.efd, &v, sizeof(v));
		atomic_store(&lg.sleeping, false);
	}
	return NULL;
}

/* ---- set-up and the API for ctl.c and sandbox.c --------------------------- */

/* Is auditd there? Asked once at start (AUDIT_GET needs CAP_AUDIT_CONTROL,
 * which the sandbox drops later). Only for the status line. */
static void log_audit_probe(void)
{
	struct audit_reply rep;
	int i, rc;

	if (audit_request_status(lg.audit_fd) <= 0) {
		log_audit_state(true, "on (auditd state unknown)");
		return;
	}
	for (i = 0; i < 4; i++) {
		rc = audit_get_reply(lg.audit_fd, &rep, GET_REPLY_BLOCKING, 0);
		if (rc <= 0)
			break;
		if (rep.type == AUDIT_GET) {
			if (rep.status->pid)
				log_audit_state(true, "on (auditd pid %u)", rep.status->pid);
			else
				log_audit_state(true, "on, no auditd at start: records go to the"
				                      " kernel log");
			return;
		}
	}
	log_audit_state(true, "on (auditd state unknown)");
}

static void log_audit_open(void)
{
	lg.audit_fd = audit_open();
	if (lg.audit_fd < 0) {
		log_audit_state(false, "unavailable - audit_open: %s", strerror(errno));
		log_write_msg(LOG_WARNING,
		              "audit system unavailable: deny records go to syslog only");
		return;
	}
	log_audit_probe();
}

/*
 * Where lines go: syslog(3) always, and stderr too under --foreground (or
 * on a terminal) - unless stderr is the journal. Under systemd (the shipped
 * unit runs --foreground) stdout and stderr are a stream to journald, which
 * also receives syslog(3) through /dev/log: each line would be in the
 * journal twice. systemd says which stream it connected in JOURNAL_STREAM
 * ("<st_dev>:<st_ino>" of it), so that a program can tell its stderr is
 * the journal; then syslog alone is written. Syslog, not stderr, is what
 * stays: it carries the facility (deny records are LOG_AUTHPRIV, where
 * rsyslog's auth.log and a restricted journal expect them; a stream to
 * journald has one facility for every line) and it works without systemd.
 */
bool log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Start-up, main thread: until log_start() messages are written at once
 * (syslog, stderr) by the caller; events are not expected yet. */
int log_init(const struct hmd_config *cfg)
{
	size_t i;

	lg.to_stderr = (cfg->log_stderr || isatty(STDERR_FILENO)) && !log_stderr_is_journal();
	openlog("hmilockd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	for (i = 0; i < LOG_RING; i++)
		atomic_init(&lg.seq[i], i);
	lg.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (lg.efd < 0)
		return -errno;
	log_audit_open();
	atomic_store(&lg.stop, false);
	return 0;
}

/* After the sandbox is in (chrony's order): the thread inherits the
 * run-time capabilities and the seccomp filter, and needs no dropping. */
int log_start(void)
{
	int rc = pthread_create(&lg.thr, NULL, log_thread, NULL);

	if (rc)
		return -rc;
	pthread_setname_np(lg.thr, "hmilockd-log");
	lg.started = true;
	return 0;
}

void log_fini(void)
{
	uint64_t one = 1;

	if (lg.started) {
		atomic_store(&lg.stop, true);
		(void)!write(lg.efd, &one, sizeof(one));
		pthread_join(lg.thr, NULL); /* drains what is queued first */
		lg.started = false;
	}
	if (lg.audit_fd >= 0)
		audit_close(lg.audit_fd);
	lg.audit_fd = -1;
	if (lg.efd >= 0)
		close(lg.efd);
	lg.efd = -1;
	closelog();
}

size_t log_events(uint64_t after, uint64_t until, size_t max, struct hmd_event_rec *out,
                  size_t outmax, uint64_t *remaining, uint64_t *until_out)
{
	uint64_t lo, hi, first, id;
	size_t n = 0;

	pthread_mutex_lock(&lg.rmu);
	hi = lg.next_id;
	if (until && until < hi)
		hi = until;
	lo = lg.next_id > LOG_RECENT ? lg.next_id - LOG_RECENT + 1 : 1; /* oldest kept */
	if (after + 1 > lo)
		lo = after + 1;
	if (hi >= lo && hi - lo + 1 > max)
		lo = hi - max + 1; /* the newest max of the window */
	first = lo;
	for (id = first; id <= hi && n < outmax; id++)
		out[n++] = lg.recent[id % LOG_RECENT];
	*remaining = hi >= lo ? hi - lo + 1 - n : 0;
	*until_out = hi;
	pthread_mutex_unlock(&lg.rmu);
	return n;
}

size_t log_recent(struct hmd_event *out, size_t max)
{
	uint64_t lo, id;
	size_t n = 0;

	pthread_mutex_lock(&lg.rmu);
	lo = lg.next_id > LOG_RECENT ? lg.next_id - LOG_RECENT + 1 : 1;
	if (lg.next_id >= lo && lg.next_id - lo + 1 > max)
		lo = lg.next_id - max + 1;
	for (id = lo; id <= lg.next_id && n < max; id++)
		out[n++] = lg.recent[id % LOG_RECENT].ev;
	pthread_mutex_unlock(&lg.rmu);
	return n;
}

void log_info(struct log_info *out)
{
	pthread_mutex_lock(&lg.rmu);
	out->audit_ok = lg.audit_ok;
	out->audit_records = lg.audit_records;
	out->audit_failed = lg.audit_failed;
	snprintf(out->audit, sizeof(out->audit), "%s", lg.audit[0] ? lg.audit : "not started");
	pthread_mutex_unlock(&lg.rmu);
}
