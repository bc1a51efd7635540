/* metrics.c - the Prometheus text file ([metrics] textfile), in the format
 * node_exporter's textfile collector reads. Every [metrics] interval the
 * main thread takes a status snapshot (ctl_status_fill, the numbers
 * `hmilock status` shows) and hands it (metrics_publish) to the metrics
 * writer thread started
 * here, which alone formats it and replaces the file: written to PATH.tmp
 * (ignored by the collector, which reads *.prom only), made 0644 (the
 * daemon's umask is 077; the exporter runs as another user), renamed over
 * PATH. A slow disk therefore never stalls the main loop; a snapshot that
 * arrives while the writer is busy replaces the one waiting. The state
 * (writing, or why not) is kept for status and logged when it changes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "stats.h"

#define METRICS_BUF 32768 /* the file is about 6 KiB */

static struct {
	char path[PATH_MAX]; /* "" = off */
	uint64_t interval_ns;
	uint64_t last_ns; /* main thread */
	pthread_t thr;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	bool pending, stop;
	struct hmc_status snap;
	char state[256];
	int last_err; /* of the latest write, to log changes only */
} mt = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* ---- format ------------------------------------------------------------- */

struct metrics_out {
	char *buf;
	size_t len, off;
	bool cut;
};

static void metrics_put(struct metrics_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void metrics_put(struct metrics_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->off, o->len - o->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->off)
		o->cut = true;
	else
		o->off += (size_t)n;
}

static void metrics_family(struct metrics_out *o, const char *name, const char *type,
                           const char *help)
{
	metrics_put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample of a family that has no labels. */
static void metrics_one(struct metrics_out *o, const char *name, const char *type, const char *help,
                        unsigned long long v)
{
	metrics_family(o, name, type, help);
	metrics_put(o, "%s %llu\n", name, v);
}

static void metrics_decision(struct metrics_out *o, const char *verdict, const char *layer,
                             const char *op, uint64_t v)
{
	metrics_put(o, "hmilock_decisions_total{verdict=\"%s\",layer=\"%s\",op=\"%s\"} %llu\n",
	            verdict, layer, op, (unsigned long long)v);
}

static void metrics_decisions(struct metrics_out *o, const struct hmc_status *s)
{
	uint32_t op;

	metrics_family(o, "hmilock_decisions_total", "counter",
	               "Decisions since hmilockd started, by verdict, layer (fanotify: the exec "
	               "gate; helper: the kernel helper) and operation.");
	metrics_decision(o, "allow", "fanotify", "exec", s->c.allowed);
	metrics_decision(o, "deny", "fanotify", "exec", s->c.denied);
	metrics_decision(o, "would_deny", "fanotify", "exec", s->c.would_deny);
	for (op = 0; op < HMC_OP__MAX; op++) {
		metrics_decision(o, "deny", "helper", hmc_op_name(op), s->h.denied[op]);
		metrics_decision(o, "would_deny", "helper", hmc_op_name(op), s->h.would_deny[op]);
	}
}

static void metrics_mode(struct metrics_out *o, const struct hmc_status *s)
{
	uint32_t m;

	metrics_family(o, "hmilock_mode", "gauge",
	               "1 for the mode hmilockd is in (enforce, audit, maintenance), 0 for the "
	               "others.");
	for (m = 0; m < HMC_MODE__MAX; m++)
		metrics_put(o, "hmilock_mode{mode=\"%s\"} %d\n", hmc_mode_name(m), m == s->mode);
}

static void metrics_latency(struct metrics_out *o, const struct hmc_status *s)
{
	metrics_family(o, "hmilock_decision_latency_seconds", "gauge",
	               "Decision latency of the exec gate (event read to answer), quantiles "
	               "since start.");
	metrics_put(o, "hmilock_decision_latency_seconds{quantile=\"0.5\"} %.6f\n",
	            (double)s->decision_p50_ns / 1e9);
	metrics_put(o, "hmilock_decision_latency_seconds{quantile=\"0.99\"} %.6f\n",
	            (double)s->decision_p99_ns / 1e9);
}

size_t metrics_format(const struct hmc_status *s, char *buf, size_t len)
{
	struct metrics_out o = {.buf = buf, .len = len};
	const struct hmc_counters *c = &s->c;
	uint64_t looked = c->cache_hits + c->cache_misses;

	if (!len)
		return 0;
	metrics_decisions(&o, s);
	metrics_mode(&o, s);
	metrics_one(&o, "hmilock_ready", "gauge", "1 once the fanotify marks are placed.",
	            s->ready != 0);
	metrics_one(&o, "hmilock_helper_active", "gauge",
	            "1 while the kernel helper (BPF LSM) is loaded and attached.",
	            !strncmp(s->helper, "active", 6));
	metrics_one(&o, "hmilock_open_gaps", "gauge",
	            "1 while hmilock status names open gaps (no helper, or W^X exemptions).",
	            s->gaps[0] != 0);
	metrics_one(&o, "hmilock_list_generation", "gauge",
	            "Generation of the approved list in use.", s->list_generation);
	metrics_one(&o, "hmilock_list_entries", "gauge", "Entries of the approved list in use.",
	            s->list_entries);
	metrics_one(&o, "hmilock_errors_total", "counter",
	            "Internal errors while deciding (each one logged).", c->errors);
	metrics_one(&o, "hmilock_on_error_total", "counter",
	            "Events answered by the on_error policy instead of the list.", c->on_error);
	metrics_one(&o, "hmilock_queue_full_total", "counter",
	            "Events answered by on_error because the work queue was full.", c->queue_full);
	metrics_one(&o, "hmilock_queue_depth", "gauge", "Events waiting for a worker now.",
	            c->queue_depth);
	metrics_one(&o, "hmilock_queue_depth_max", "gauge",
	            "Most events ever waiting for a worker at once.", c->max_queue_depth);
	metrics_one(&o, "hmilock_cache_hits_total", "counter", "Verdict cache hits.",
	            c->cache_hits);
	metrics_one(&o, "hmilock_cache_misses_total", "counter", "Verdict cache misses.",
	            c->cache_misses);
	metrics_family(&o, "hmilock_cache_hit_ratio", "gauge", "Verdict cache hits / lookups.");
	metrics_put(&o, "hmilock_cache_hit_ratio %.4f\n",
	            looked ? (double)c->cache_hits / (double)looked : 0.0);
	metrics_latency(&o, s);
	metrics_one(&o, "hmilock_maintenance_windows_total", "counter",
	            "Maintenance windows opened.", c->maint_windows);
	metrics_one(&o, "hmilock_update_sessions_total", "counter",
	            "Trusted update sessions opened.", c->update_sessions);
	metrics_one(&o, "hmilock_known_bad_total", "counter",
	            "Files a prescan named known-bad: not approved by a maintenance end or an "
	            "update, or on the list and flagged by hmilock verify --prescan.",
	            c->known_bad);
	metrics_one(&o, "hmilock_helper_events_lost_total", "counter",
	            "Kernel helper events lost (ring buffer full; the decision is still counted).",
	            s->h.events_lost);
	metrics_one(&o, "hmilock_audit_failed_total", "counter",
	            "Deny records that could not be sent to the audit system.", c->audit_failed);
	metrics_one(&o, "hmilock_log_dropped_total", "counter",
	            "Log lines dropped (log ring full).", c->log_dropped);
	metrics_one(&o, "hmilock_mountinfo_unparsed", "gauge",
	            "mountinfo lines not understood (those mounts are not marked).",
	            c->mountinfo_unparsed);
	metrics_one(&o, "hmilock_uptime_seconds", "gauge", "Seconds since hmilockd started.",
	            s->uptime_s);
	if (o.cut) /* never a half file: the writer refuses it */
		return 0;
	return o.off;
}

/* ---- the writer thread -------------------------------------------------- */

static int metrics_write(const char *text, size_t n)
{
	char tmp[PATH_MAX + 8];
	size_t off = 0;
	ssize_t w;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", mt.path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (off < n && rc == 0) {
		w = write(fd, text + off, n - off);
		if (w < 0 && errno != EINTR)
			rc = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (rc == 0 && fchmod(fd, 0644) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, mt.path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* Under mt.mu: the state for status, logged when it changes. A missing
 * directory is the usual box without prometheus-node-exporter: said once,
 * as information; the file appears once the directory does. */
static void metrics_result(int err)
{
	if (err == -ENOENT)
		snprintf(mt.state, sizeof(mt.state),
		         "%.150s: NOT written: its directory does not exist "
		         "(prometheus-node-exporter not installed?)",
		         mt.path);
	else if (err)
		snprintf(mt.state, sizeof(mt.state), "%.180s: NOT written: %s", mt.path,
		         strerror(-err));
	else
		snprintf(mt.state, sizeof(mt.state), "%.200s, every %llu s", mt.path,
		         (unsigned long long)(mt.interval_ns / 1000000000ull));
	if (err != mt.last_err)
		log_msg(err && err != -ENOENT ? LOG_WARNING : LOG_INFO, "metrics: %s", mt.state);
	mt.last_err = err;
}

static void *metrics_thread(void *arg)
{
	static struct hmc_status s;
	static char buf[METRICS_BUF];
	sigset_t all;
	size_t n;
	int err;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&mt.mu);
	for (;;) {
		while (!mt.pending && !mt.stop)
			pthread_cond_wait(&mt.cv, &mt.mu);
		if (mt.stop)
			break;
		s = mt.snap;
		mt.pending = false;
		pthread_mutex_unlock(&mt.mu);
		n = metrics_format(&s, buf, sizeof(buf));
		err = n ? metrics_write(buf, n) : -EMSGSIZE;
		pthread_mutex_lock(&mt.mu);
		metrics_result(err);
	}
	pthread_mutex_unlock(&mt.mu);
	return NULL;
}

/* ---- the main thread's side --------------------------------------------- */

void metrics_init(const struct hmd_config *cfg)
{
	snprintf(mt.path, sizeof(mt.path), "%s", cfg->metrics_textfile);
	mt.interval_ns = (uint64_t)cfg->metrics_interval_s * 1000000000ull;
	snprintf(mt.state, sizeof(mt.state), "%s",
	         mt.path[0] ? "not written yet" : "off ([metrics] textfile = off)");
}

int metrics_start(void)
{
	int rc;

	if (!mt.path[0])
		return 0;
	rc = pthread_create(&mt.thr, NULL, metrics_thread, NULL);
	if (rc)
		return -rc;
	pthread_setname_np(mt.thr, "hmilock-metrics");
	mt.started = true;
	return 0;
}

bool metrics_due(uint64_t now_ns)
{
	if (!mt.started || (mt.last_ns && now_ns - mt.last_ns < mt.interval_ns))
		return false;
	mt.last_ns = now_ns;
	return true;
}

void metrics_publish(const struct hmc_status *s)
{
	pthread_mutex_lock(&mt.mu);
	mt.snap = *s;
	mt.pending = true;
	pthread_cond_signal(&mt.cv);
	pthread_mutex_unlock(&mt.mu);
}

void metrics_state(char *buf, size_t len)
{
	pthread_mutex_lock(&mt.mu);
	snprintf(buf, len, "%s", mt.state);
	pthread_mutex_unlock(&mt.mu);
}

void metrics_fini(void)
{
	if (!mt.started)
		return;
	pthread_mutex_lock(&mt.mu);
	mt.stop = true;
	pthread_cond_signal(&mt.cv);
	pthread_mutex_unlock(&mt.mu);
	pthread_join(mt.thr, NULL);
	mt.started = false;
}
