/* ctl.c - the control socket (include/hmilock_ctl.h): owns the listening
 * SOCK_SEQPACKET fd, the client fds and one epoll fd over all of them,
 * which ctl_fd() hands to the main loop, and the deferred replies (struct
 * ctl_wait). Only the main thread calls ctl_*. Nothing here blocks: accept
 * and receive are non-blocking, every reply is sent with MSG_DONTWAIT (a
 * client that does not read is dropped), and a request is served to the
 * end before the next one is looked at - except the ones that hash files
 * (maintenance end, update commit, the maintenance plan): window.c does
 * that on its committer thread, the request leaves a ctl_wait and its
 * reply is sent from ctl_done() when the work is done. Until then that
 * client is watched for hang-up only (one request at a time per
 * connection); a client gone by then gets nothing and the result is only
 * logged. Only root (SO_PEERCRED uid 0) is served; a malformed message
 * gets an error reply and its connection is closed. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "hmilock_ctl.h"
#include "auth.h"
#include "cache.h"
#include "ctl.h"
#include "helper.h"
#include "helper_mnt.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "mounts.h"
#include "recorder.h"
#include "sandbox.h"
#include "state.h"
#include "stats.h"
#include "update.h"
#include "window.h"
#include "workers.h"

#define CTL_MAX_CLIENTS 12
#define CTL_MAX_RO 4 /* of them from the events socket: root's slots stay free */
#define CTL_BACKLOG 16
#define CTL_BURST 16 /* requests served per client per ctl_handle() */

_Static_assert(HMC_PATH_LEN == PATH_MAX, "hmc path fields must hold PATH_MAX");
_Static_assert((int)HMD_MODE_ENFORCE == HMC_MODE_ENFORCE && (int)HMD_MODE_AUDIT == HMC_MODE_AUDIT &&
                   (int)HMD_MODE_MAINTENANCE == HMC_MODE_MAINTENANCE &&
                   (int)HMD_MODE__MAX == HMC_MODE__MAX,
               "hmd_mode and hmc_mode differ");
_Static_assert(sizeof(((struct hmc_event *)0)->op) == sizeof(((struct hmd_event *)0)->op) &&
                   sizeof(((struct hmc_event *)0)->exe) == sizeof(((struct hmd_event *)0)->exe) &&
                   sizeof(((struct hmc_event *)0)->path) == sizeof(((struct hmd_event *)0)->path) &&
                   sizeof(((struct hmc_event *)0)->sha256) == WL_SHA256_LEN,
               "hmc_event and hmd_event fields differ in size");
_Static_assert(sizeof(((struct hmc_status *)0)->audit) == sizeof(((struct log_info *)0)->audit),
               "hmc_status strings and their sources differ in size");

struct ctl_client {
	int fd; /* -1: free */
	pid_t pid;
	uid_t uid;
	uint64_t id; /* connection id, never reused (fds are) */
	bool waiting; /* a deferred reply is due: watched for hang-up only */
	bool ro; /* from the events socket: status and events only */
};

/* A listening socket: the control socket (root only, every request) or
 * the events socket (its group, status and events only). */
struct ctl_listener {
	int fd;
	dev_t dev; /* the socket file we bound, removed by ctl_fini */
	ino_t ino;
	const char *path;
	bool ro;
};

/* A request whose reply comes later (ctl_done). Owned by the module that
 * was handed it until it calls ctl_done, which frees it. */
struct ctl_wait {
	uint64_t id; /* the client's connection id */
	pid_t pid;
	uint32_t seq;
	uint16_t type; /* HMC_REQ_* */
	uint32_t offset; /* HMC_REQ_MAINT_PLAN: the page asked for */
};

static struct {
	const struct hmd_config *cfg;
	int epfd;
	struct ctl_listener ls[2]; /* control, events */
	char events_state[256]; /* for status */
	struct ctl_client cl[CTL_MAX_CLIENTS];
	uint64_t next_id;
	bool deferred; /* the request being served replies later */
	bool stop_asked; /* `hmilock stop` was granted: the main loop exits */
	/* one message at a time: 64 KiB each, kept off the stack */
	unsigned char in[HMC_MAX_MSG];
	struct hmc_msg req, rep;
	struct hmd_event_rec recs[HMC_EVENTS_PER_MSG];
} ctl = {.epfd = -1, .ls = {{.fd = -1}, {.fd = -1, .ro = true}}};

/* A socket file left at path: refuse when another daemon answers on it or
 * when it is not a socket; remove it when it is a stale socket. */
static int ctl_clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERR, "control socket %s: exists and is not a socket; not removing it",
		        sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		log_msg(LOG_ERR, "control socket %s: another hmilockd is listening on it",
		        sa->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int ctl_epoll_add(int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Watch c for requests, or (while its reply is deferred) for hang-up
 * only: EPOLLHUP and EPOLLERR are always reported. */
static void ctl_epoll_watch(struct ctl_client *c, bool requests)
{
	struct epoll_event ev = {.events = requests ? EPOLLIN : 0, .data.fd = c->fd};

	if (epoll_ctl(ctl.epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		log_msg(LOG_ERR, "control socket: epoll_ctl: %s", strerror(errno));
}

/* Bind l at sa, mode 0600 root's (gid -1) or 0660 root:gid. */
static int ctl_bind(struct ctl_listener *l, const struct sockaddr_un *sa, gid_t gid)
{
	struct stat st;
	mode_t old;
	int rc;

	l->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -errno;
	old = umask(0177); /* never a moment with a socket others may open */
	rc = bind(l->fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (rc < 0)
		return -errno;
	if (gid != (gid_t)-1 && chown(sa->sun_path, 0, gid) < 0)
		return -errno;
	if (chmod(sa->sun_path, gid != (gid_t)-1 ? 0660 : 0600) < 0 || stat(sa->sun_path, &st) < 0)
		return -errno;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	if (listen(l->fd, CTL_BACKLOG) < 0)
		return -errno;
	return ctl_epoll_add(l->fd);
}

static int ctl_listen(struct ctl_listener *l, const char *path, gid_t gid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int rc;

	l->path = path;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = wl_mkparents(path, 0755, NULL);
	if (!rc)
		rc = ctl_clear_stale(&sa);
	return rc ? rc : ctl_bind(l, &sa, gid);
}

/* The events socket: a missing group leaves it root-only (said in status
 * and the log); a socket that cannot be made is logged, never fatal. */
static void ctl_listen_events(const struct hmd_config *cfg)
{
	char buf[4096];
	struct group gr, *g = NULL;
	int rc;

	if (!cfg->events_socket[0]) {
		snprintf(ctl.events_state, sizeof(ctl.events_state), "off ([events] socket = off)");
		return;
	}
	getgrnam_r(cfg->events_group, &gr, buf, sizeof(buf), &g);
	rc = ctl_listen(&ctl.ls[1], cfg->events_socket, g ? g->gr_gid : (gid_t)-1);
	if (rc) {
		snprintf(ctl.events_state, sizeof(ctl.events_state), "%.150s: NOT available: %s",
		         cfg->events_socket, strerror(-rc));
		log_msg(LOG_ERR, "events socket %s", ctl.events_state);
		if (ctl.ls[1].fd >= 0)
			close(ctl.ls[1].fd);
		ctl.ls[1].fd = -1;
		return;
	}
	if (g)
		snprintf(ctl.events_state, sizeof(ctl.events_state),
		         "%.150s (status and events; group %.32s)", cfg->events_socket,
		         cfg->events_group);
	else
		snprintf(ctl.events_state, sizeof(ctl.events_state),
		         "%.150s: root only: group %.32s does not exist", cfg->events_socket,
		         cfg->events_group);
	if (!g)
		log_msg(LOG_WARNING, "events socket %s", ctl.events_state);
}

int ctl_init(const struct hmd_config *cfg)
{
	size_t i;
	int rc;

	ctl.cfg = cfg;
	auth_init(cfg);
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		ctl.cl[i].fd = -1;
	ctl.epfd = epoll_create1(EPOLL_CLOEXEC);
	rc = ctl.epfd < 0 ? -errno : ctl_listen(&ctl.ls[0], cfg->socket, (gid_t)-1);
	if (!rc)
		ctl_listen_events(cfg);
	if (rc) {
		log_msg(LOG_ERR, "control socket %s: %s", cfg->socket, strerror(-rc));
		ctl_fini();
	}
	return rc;
}

int ctl_fd(void)
{
	return ctl.epfd;
}

static void ctl_drop(struct ctl_client *c)
{
	window_client_gone(c->id); /* drops of an unfinished review */
	epoll_ctl(ctl.epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->waiting = false;
}

static int ctl_send(int fd, const struct hmc_msg *m)
{
	ssize_t n = send(fd, m, m->h.length, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return (size_t)n == m->h.length ? 0 : -EMSGSIZE;
}

/* Fill ctl.rep as a RESULT for request seq. */
static void ctl_result(uint32_t seq, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ctl_result(uint32_t seq, int error, const char *fmt, ...)
{
	va_list ap;

	memset(&ctl.rep.u.result, 0, sizeof(ctl.rep.u.result));
	hmc_hdr_init(&ctl.rep.h, HMC_REP_RESULT, HMC_REPLY, seq);
	ctl.rep.u.result.error = error;
	va_start(ap, fmt);
	vsnprintf(ctl.rep.u.result.msg, sizeof(ctl.rep.u.result.msg), fmt, ap);
	va_end(ap);
	ctl.rep.u.result.msg[strcspn(ctl.rep.u.result.msg, "\n")] = '\0';
}

/* Refuse a connection with an error reply and close it. A request already
 * queued is read first: closing a socket with unread data makes the peer's
 * next recv fail with ECONNRESET before it sees the refusal. */
static void ctl_refuse(int fd, int error, const char *what)
{
	int i;

	ctl_result(0, error, "%s", what);
	(void)ctl_send(fd, &ctl.rep);
	for (i = 0; i < 4 && recv(fd, ctl.in, sizeof(ctl.in), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

static void ctl_accept_one(const struct ctl_listener *l, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	char why[128];
	size_t i, n_ro = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
		log_msg(LOG_ERR, "control socket: SO_PEERCRED: %s", strerror(errno));
		ctl_refuse(fd, -EPERM, "cannot identify the peer");
		return;
	}
	if (uc.uid != 0 && !l->ro) {
		log_msg(LOG_WARNING, "control socket: refused pid %d uid %u (root only)",
		        (int)uc.pid, (unsigned)uc.uid);
		snprintf(why, sizeof(why),
		         "permission denied: the control socket is root-only"
		         " (peer uid %u)",
		         (unsigned)uc.uid);
		ctl_refuse(fd, -EPERM, why);
		return;
	}
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		n_ro += ctl.cl[i].fd >= 0 && ctl.cl[i].ro;
	for (i = 0; i < CTL_MAX_CLIENTS && ctl.cl[i].fd >= 0; i++)
		;
	if (i == CTL_MAX_CLIENTS || (l->ro && n_ro >= CTL_MAX_RO) || ctl_epoll_add(fd) < 0) {
		log_msg(LOG_WARNING, "control socket: refused pid %d: too many clients",
		        (int)uc.pid);
		ctl_refuse(fd, -EBUSY, "too many control connections, try again");
		return;
	}
	ctl.cl[i] = (struct ctl_client){
	    .fd = fd, .pid = uc.pid, .uid = uc.uid, .id = ++ctl.next_id, .ro = l->ro};
}

static void ctl_accept(const struct ctl_listener *l)
{
	int fd;

	for (;;) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_msg(LOG_ERR, "control socket: accept: %s", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		ctl_accept_one(l, fd);
	}
}

static void ctl_fill_list(struct hmc_status *s)
{
	struct hmd_list *l = list_get();
	const struct wl_db *db = list_db(l);

	s->list_generation = list_generation(l);
	s->list_flags = wl_db_flags(db);
	s->list_entries = wl_db_count(db);
	snprintf(s->list_path, sizeof(s->list_path), "%s", wl_db_path(db));
	memcpy(s->list_sha256, list_sha256(l), sizeof(s->list_sha256));
	list_put(l);
}

#define CTL_C(name) s->c.name = atomic_load_explicit(&hmd_stats.name, memory_order_relaxed)

static void ctl_fill_counters(struct hmc_status *s, const struct log_info *li)
{
	CTL_C(events);
	CTL_C(allowed);
	CTL_C(denied);
	CTL_C(would_deny);
	CTL_C(errors);
	CTL_C(on_error);
	CTL_C(queue_full);
	CTL_C(self_allowed);
	CTL_C(cache_hits);
	CTL_C(cache_misses);
	CTL_C(ignore_marks);
	CTL_C(queue_depth);
	CTL_C(max_queue_depth);
	CTL_C(log_dropped);
	CTL_C(marks);
	CTL_C(mounts_marked_later);
	CTL_C(mountinfo_unparsed);
	CTL_C(maint_windows);
	CTL_C(update_sessions);
	CTL_C(known_bad);
	s->c.audit_records = li->audit_records;
	s->c.audit_failed = li->audit_failed;
}

/* What is open without the kernel helper: its own list and the mounts the
 * marks cannot reach. With it: W^X exemptions and the mounts whose file
 * identity it cannot establish. */
static void ctl_fill_gaps(struct hmc_status *s)
{
	char mnt[sizeof(s->gaps) / 2];
	int n;

	s->gaps[0] = 0;
	if (!helper_gaps()) {
		helper_wx_gaps(s->gaps, sizeof(s->gaps));
		n = (int)strlen(s->gaps);
		helper_mnt_gaps(mnt, sizeof(mnt));
		if (mnt[0] && (size_t)n < sizeof(s->gaps))
			snprintf(s->gaps + n, sizeof(s->gaps) - (size_t)n, "%s%s", n ? "; " : "",
			         mnt);
		return;
	}
	mounts_gaps(mnt, sizeof(mnt));
	n = snprintf(s->gaps, sizeof(s->gaps), "%s", helper_gaps());
	if (mnt[0] && n >= 0 && (size_t)n < sizeof(s->gaps))
		snprintf(s->gaps + n, sizeof(s->gaps) - (size_t)n, "; %s", mnt);
}

void ctl_status_fill(struct hmc_status *s)
{
	struct log_info li;

	memset(s, 0, sizeof(*s));
	log_info(&li);
	s->mode = (uint32_t)state_mode();
	s->ready = state_ready() ? 1 : 0;
	s->match = (uint32_t)ctl.cfg->match;
	s->on_error = (uint32_t)ctl.cfg->on_error;
	s->audit_ok = li.audit_ok ? 1 : 0;
	s->pid = (int32_t)getpid();
	s->workers = workers_count();
	s->uptime_s = state_uptime_ns() / 1000000000ull;
	ctl_fill_list(s);
	s->cache_entries = cache_count();
	s->cache_capacity = cache_capacity();
	s->decisions_timed = stats_latency_count();
	s->decision_p50_ns = stats_latency_quantile(0.5);
	s->decision_p99_ns = stats_latency_quantile(0.99);
	ctl_fill_counters(s, &li);
	helper_counters(&s->h); /* zeroes when the helper is not active */
	/* Pulled from each module (a longer text is cut, never overflows). */
	snprintf(s->sandbox, sizeof(s->sandbox), "%s", sandbox_describe());
	snprintf(s->helper, sizeof(s->helper), "%s", helper_state());
	snprintf(s->audit, sizeof(s->audit), "%s", li.audit);
	metrics_state(s->metrics, sizeof(s->metrics));
	snprintf(s->events_socket, sizeof(s->events_socket), "%s", ctl.events_state);
	helper_protected_describe(ctl.cfg, s->protected_files, sizeof(s->protected_files));
	ctl_fill_gaps(s);
}

static void ctl_status(uint32_t seq)
{
	hmc_hdr_init(&ctl.rep.h, HMC_REP_STATUS, HMC_REPLY, seq);
	ctl_status_fill(&ctl.rep.u.status);
}

/* Operator access (auth.c): false with the refusal in ctl.rep. The
 * password is wiped from the request either way. */
static bool ctl_auth(const struct ctl_client *c, uint32_t seq, struct hmd_ctl_auth *a,
                     const char *what)
{
	char msg[sizeof(ctl.rep.u.result.msg)];
	int rc = auth_check(a->password, msg, sizeof(msg));

	auth_wipe(a->password, sizeof(a->password));
	if (!rc)
		return true;
	if (rc != -ENOKEY)
		log_msg(LOG_WARNING, "control socket: pid %d: %s refused: %s", (int)c->pid, what,
		        msg);
	ctl_result(seq, rc, "%s refused: %s", what, msg);
	return false;
}

static void ctl_set_mode(const struct ctl_client *c, uint32_t seq, uint32_t mode,
                         struct hmd_ctl_auth *a)
{
	enum hmd_mode old = (enum hmd_mode)state_mode();
	char gaps[384] = "";

	if (mode != HMC_MODE_ENFORCE && mode != HMC_MODE_AUDIT) {
		auth_wipe(a->password, sizeof(a->password));
		ctl_result(seq, -EOPNOTSUPP, "mode %s is not available in this hmilockd",
		           hmc_mode_name(mode));
		return;
	}
	if (!ctl_auth(c, seq, a, "mode change"))
		return;
	log_msg(LOG_INFO, "control socket: pid %d sets mode %s", (int)c->pid, hmc_mode_name(mode));
	state_set_mode((enum hmd_mode)mode);
	/* enforce never turns on over a mount it cannot reason about unsaid */
	if (mode == HMC_MODE_ENFORCE)
		helper_mnt_gaps(gaps, sizeof(gaps));
	ctl_result(seq, 0, "mode %s (was %s)%s%s", config_mode_name((enum hmd_mode)mode),
	           config_mode_name(old), gaps[0] ? "; " : "", gaps);
}

/* `hmilock verify --prescan` found a listed file known-bad: an event and
 * the count (the list stays the operator's to change). */
static void ctl_known_bad(const struct ctl_client *c, uint32_t seq, const struct hmc_known_bad *k)
{
	log_msg(LOG_WARNING,
	        "known-bad on the list: %s (%s), found by hmilock verify --prescan (pid %d); "
	        "it stays approved until the operator removes it",
	        k->path, k->sig, (int)c->pid);
	log_known_bad("verify", c->pid, k->path, k->sha256);
	ctl_result(seq, 0, "counted");
}

/* `hmilock stop`: the sanctioned stop, with the admin password. hmilockd
 * exits once the reply is sent (main loop: ctl_stop_asked), with the status
 * the unit does not restart on (HMD_EXIT_STOPPED). */
static void ctl_stop(const struct ctl_client *c, uint32_t seq, struct hmd_ctl_auth *a)
{
	if (!ctl_auth(c, seq, a, "stop"))
		return;
	log_msg(LOG_NOTICE,
	        "control socket: pid %d stops hmilockd (admin password given); "
	        "the kernel helper goes on enforcing",
	        (int)c->pid);
	ctl.stop_asked = true;
	ctl_result(seq, 0, "hmilockd (pid %d) stops; the kernel helper goes on enforcing",
	           (int)getpid());
}

bool ctl_stop_asked(void)
{
	bool asked = ctl.stop_asked;

	ctl.stop_asked = false;
	return asked;
}

static void ctl_reload(const struct ctl_client *c, uint32_t seq)
{
	struct wl_err err = {0};
	struct hmd_list *l;
	int rc;

	log_msg(LOG_INFO, "control socket: pid %d asks for a reload", (int)c->pid);
	rc = list_reload(&err);
	if (rc) {
		ctl_result(seq, rc < 0 ? rc : -EIO, "reload refused, the list in force stays: %s",
		           err.msg[0] ? err.msg : strerror(rc < 0 ? -rc : EIO));
		return;
	}
	l = list_get();
	ctl_result(seq, 0, "list reloaded: %s generation %llu, %zu entries", wl_db_path(list_db(l)),
	           (unsigned long long)list_generation(l), wl_db_count(list_db(l)));
	list_put(l);
}

/* ---- maintenance window, trusted updates (window.c, update.c) ------------ */

static struct ctl_client *ctl_client_of(uint64_t id)
{
	size_t i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl.cl[i].fd >= 0 && ctl.cl[i].id == id)
			return &ctl.cl[i];
	return NULL;
}

static struct ctl_wait *ctl_wait_new(const struct ctl_client *c, uint32_t seq, uint16_t type,
                                     uint32_t offset)
{
	struct ctl_wait *w = malloc(sizeof(*w));

	if (w)
		*w = (struct ctl_wait){
		    .id = c->id, .pid = c->pid, .seq = seq, .type = type, .offset = offset};
	return w;
}

/* The request being served got -EINPROGRESS: its reply is w's, later. */
static void ctl_defer(struct ctl_client *c)
{
	c->waiting = true;
	ctl.deferred = true;
	ctl_epoll_watch(c, false);
}

static const char *ctl_req_name(uint16_t type)
{
	return type == HMC_REQ_MAINT_END       ? "maintenance end"
	       : type == HMC_REQ_UPDATE_COMMIT ? "update commit"
	                                       : "maintenance status";
}

static void ctl_plan_page(uint32_t seq, uint32_t offset);

/* The window_done_fn for a deferred request (main thread, from
 * window_handle): send its reply, or log it when the client is gone. */
static void ctl_done(void *arg, int rc, const char *msg)
{
	struct ctl_wait *w = arg;
	struct ctl_client *c = ctl_client_of(w->id);
	int e;

	if (!c) {
		log_msg(LOG_NOTICE, "control socket: pid %d left before its %s was done: %s%s",
		        (int)w->pid, ctl_req_name(w->type), rc < 0 ? "failed: " : "", msg);
		free(w);
		return;
	}
	c->waiting = false;
	ctl_epoll_watch(c, true);
	if (w->type == HMC_REQ_MAINT_PLAN && rc == 0) {
		ctl_plan_page(w->seq, w->offset);
	} else {
		ctl_result(w->seq, rc, "%s", msg);
		if (w->type != HMC_REQ_MAINT_PLAN && window_known_bad())
			ctl.rep.u.result.flags |= HMC_RESULT_KNOWN_BAD;
	}
	e = ctl_send(c->fd, &ctl.rep);
	if (e) {
		log_msg(LOG_WARNING, "control socket: reply to pid %d failed: %s (%s: %s)",
		        (int)c->pid, strerror(-e), ctl_req_name(w->type), msg);
		ctl_drop(c);
	}
	free(w);
}

static void ctl_maint_begin(const struct ctl_client *c, uint32_t seq, struct hmc_maint_begin *b)
{
	char msg[sizeof(ctl.rep.u.result.msg)];
	int rc;

	if (!ctl_auth(c, seq, &b->auth, "maintenance begin"))
		return;
	rc = window_begin(c->pid, b->timeout_s, msg, sizeof(msg));
	ctl_result(seq, rc, "%s", msg);
}

_Static_assert(sizeof(((struct recorder_skip *)0)->mount) ==
                       sizeof(((struct hmc_unrecorded *)0)->mount) &&
                   sizeof(((struct recorder_skip *)0)->fstype) ==
                       sizeof(((struct hmc_unrecorded *)0)->fstype),
               "recorder_skip and hmc_unrecorded differ");

/* The mounts the recorder left out when the window or session began. */
static void ctl_unrecorded(struct hmc_maint_status *s)
{
	struct recorder_skip k[HMC_UNRECORDED_MAX];
	size_t n = recorder_skipped(k, HMC_UNRECORDED_MAX), i;

	s->n_unrecorded = (uint32_t)n;
	for (i = 0; i < n && i < HMC_UNRECORDED_MAX; i++) {
		memcpy(s->unrecorded[i].mount, k[i].mount, sizeof(k[i].mount));
		memcpy(s->unrecorded[i].fstype, k[i].fstype, sizeof(k[i].fstype));
		snprintf(s->unrecorded[i].why, sizeof(s->unrecorded[i].why), "%s", k[i].why);
	}
}

static void ctl_maint_status(uint32_t seq)
{
	struct hmc_maint_status *s = &ctl.rep.u.maint_status;
	struct window_info wi;

	recorder_handle(); /* what has been recorded so far: all of it */
	window_info(&wi);
	memset(s, 0, sizeof(*s));
	hmc_hdr_init(&ctl.rep.h, HMC_REP_MAINT_STATUS, HMC_REPLY, seq);
	s->state = wi.window == STATE_W_MAINT     ? HMC_MS_OPEN
	           : wi.window == STATE_W_UPDATE  ? HMC_MS_UPDATE
	           : wi.window == STATE_W_PENDING ? HMC_MS_PENDING
	                                          : HMC_MS_NONE;
	s->prev_mode = (uint32_t)wi.prev;
	s->start = wi.start;
	s->deadline = wi.deadline;
	s->generation = wi.generation;
	s->records = wi.records;
	s->ignored = wi.ignored;
	s->unattributed = wi.unattributed;
	snprintf(s->journal, sizeof(s->journal), "%s", wi.journal);
	snprintf(s->last, sizeof(s->last), "%s", wi.last);
	if (wi.window == STATE_W_MAINT || wi.window == STATE_W_UPDATE)
		ctl_unrecorded(s); /* of the recording under way */
}

/* One page of the plan built last, from entry offset. */
static void ctl_plan_page(uint32_t seq, uint32_t offset)
{
	struct hmc_maint_plan *p = &ctl.rep.u.maint_plan;
	size_t total = 0;
	uint32_t i;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	hmc_hdr_init(&ctl.rep.h, HMC_REP_MAINT_PLAN, HMC_REPLY, seq);
	for (i = 0; i < HMC_PLAN_PER_MSG && rc == 0; i++) {
		rc = window_plan_at(offset + i, &total, &p->e[i].kind, &p->e[i].uid, p->e[i].path,
		                    sizeof(p->e[i].path));
		if (rc == 0)
			p->n++;
	}
	if (rc < 0 && rc != -ENOENT) {
		ctl_result(seq, rc, "cannot compute the changes: %s", strerror(-rc));
		return;
	}
	p->total = (uint32_t)total;
}

/* The first page makes the plan current (the files are hashed on the
 * committer thread: the reply is deferred); later pages read the plan
 * that first page got, so a client pages through one plan. */
static void ctl_maint_plan(struct ctl_client *c, uint32_t seq, uint32_t offset)
{
	char msg[sizeof(ctl.rep.u.result.msg)];
	size_t total;
	uint32_t kind, uid;
	struct ctl_wait *w;
	int rc;

	if (offset && window_plan_at(0, &total, &kind, &uid, msg, sizeof(msg)) != -ENODATA) {
		ctl_plan_page(seq, offset);
		return;
	}
	w = ctl_wait_new(c, seq, HMC_REQ_MAINT_PLAN, offset);
	if (!w) {
		ctl_result(seq, -ENOMEM, "cannot compute the changes: out of memory");
		return;
	}
	rc = window_plan_build(ctl_done, w, msg, sizeof(msg));
	if (rc == -EINPROGRESS) {
		ctl_defer(c);
		return;
	}
	free(w);
	if (rc < 0)
		ctl_result(seq, rc, "%s", msg);
	else
		ctl_plan_page(seq, offset);
}

static void ctl_maint_end(struct ctl_client *c, uint32_t seq, struct hmc_maint_end *e)
{
	char msg[sizeof(ctl.rep.u.result.msg)];
	struct ctl_wait *w;
	int rc;

	if (!ctl_auth(c, seq, &e->auth, "maintenance end"))
		return;
	rc = window_drop(c->id, (const char(*)[PATH_MAX])e->drop, e->n_drop,
	                 e->flags & HMC_END_ACCEPT, msg, sizeof(msg));
	if (rc == 0 && !(e->flags & HMC_END_MORE)) {
		w = ctl_wait_new(c, seq, HMC_REQ_MAINT_END, 0);
		if (!w) {
			ctl_result(seq, -ENOMEM, "out of memory");
			return;
		}
		rc = window_end(c->id, c->pid, e->flags & HMC_END_DISCARD,
		                e->flags & HMC_END_NO_PRESCAN, ctl_done, w, msg, sizeof(msg));
		if (rc == -EINPROGRESS) {
			ctl_defer(c);
			return;
		}
		free(w);
	}
	ctl_result(seq, rc, "%s", msg);
}

static void ctl_update_reply(uint32_t seq, uint64_t id, pid_t who)
{
	struct hmc_update *u = &ctl.rep.u.update;

	/* the paths were filled by the caller */
	hmc_hdr_init(&ctl.rep.h, HMC_REP_UPDATE, HMC_REPLY, seq);
	u->session = id;
	u->pid = (int32_t)who;
	u->reserved = 0;
}

static void ctl_update_begin(const struct ctl_client *c, uint32_t seq, struct hmc_update_begin *b)
{
	struct hmc_update *u = &ctl.rep.u.update;
	char msg[sizeof(ctl.rep.u.result.msg)];
	pid_t who = b->pid ? (pid_t)b->pid : c->pid;
	uint64_t id = 0;
	int rc;

	if (!ctl_auth(c, seq, &b->auth, "trusted update"))
		return;
	memset(u, 0, sizeof(*u));
	rc = update_begin(c->pid, who, &id, u->cgroup, u->origin, sizeof(u->cgroup), msg,
	                  sizeof(msg));
	if (rc < 0) {
		ctl_result(seq, rc, "%s", msg);
		return;
	}
	ctl_update_reply(seq, id, who);
}

static void ctl_update_info(uint32_t seq)
{
	struct hmc_update *u = &ctl.rep.u.update;
	uint64_t id;
	pid_t who;

	memset(u, 0, sizeof(*u));
	if (update_info(&id, &who, u->cgroup, u->origin, sizeof(u->cgroup)) < 0) {
		ctl_result(seq, -ENOENT, "no trusted update session is open");
		return;
	}
	ctl_update_reply(seq, id, who);
}

static void ctl_update_commit(struct ctl_client *c, uint32_t seq, const struct hmc_update_commit *u)
{
	char msg[sizeof(ctl.rep.u.result.msg)];
	struct ctl_wait *w = ctl_wait_new(c, seq, HMC_REQ_UPDATE_COMMIT, 0);
	int rc;

	if (!w) {
		ctl_result(seq, -ENOMEM, "out of memory");
		return;
	}
	rc = update_commit(u->session, u->ok, u->flags & HMC_UC_KEEP, u->flags & HMC_UC_NO_PRESCAN,
	                   ctl_done, w, msg, sizeof(msg));
	if (rc == -EINPROGRESS) {
		ctl_defer(c);
		return;
	}
	free(w);
	ctl_result(seq, rc, "%s", msg);
}

/* Serve the maintenance and update requests; false: not one of them. */
static bool ctl_serve_maint(struct ctl_client *c)
{
	uint32_t seq = ctl.req.h.seq;

	switch (ctl.req.h.type) {
	case HMC_REQ_MAINT_BEGIN:
		ctl_maint_begin(c, seq, &ctl.req.u.maint_begin);
		return true;
	case HMC_REQ_MAINT_STATUS:
		ctl_maint_status(seq);
		return true;
	case HMC_REQ_MAINT_PLAN:
		ctl_maint_plan(c, seq, ctl.req.u.maint_plan_req.offset);
		return true;
	case HMC_REQ_MAINT_END:
		ctl_maint_end(c, seq, &ctl.req.u.maint_end);
		return true;
	case HMC_REQ_MAINT_SYNC:
		recorder_handle();
		ctl_result(seq, 0, "changes read");
		return true;
	case HMC_REQ_UPDATE_BEGIN:
		ctl_update_begin(c, seq, &ctl.req.u.update_begin);
		return true;
	case HMC_REQ_UPDATE_INFO:
		ctl_update_info(seq);
		return true;
	case HMC_REQ_UPDATE_COMMIT:
		ctl_update_commit(c, seq, &ctl.req.u.update_commit);
		return true;
	}
	return false;
}

static void ctl_events(uint32_t seq, const struct hmc_events_req *q)
{
	struct hmc_events *e = &ctl.rep.u.events;
	uint64_t remaining, until;
	size_t n, i;

	n = log_events(q->after_id, q->until_id, q->max, ctl.recs, HMC_EVENTS_PER_MSG, &remaining,
	               &until);
	memset(e, 0, sizeof(*e));
	hmc_hdr_init(&ctl.rep.h, HMC_REP_EVENTS, HMC_REPLY, seq);
	e->n = (uint32_t)n;
	e->remaining = remaining;
	e->until_id = until;
	for (i = 0; i < n; i++) {
		const struct hmd_event *s = &ctl.recs[i].ev;
		struct hmc_event *d = &e->ev[i];

		d->id = ctl.recs[i].id;
		d->time_ns = s->time_ns;
		d->pid = s->pid;
		d->verdict = s->verdict < HMC_V__MAX ? s->verdict : HMC_V_DENY;
		d->reason = s->reason < HMC_R__MAX ? s->reason : HMC_R_ERROR;
		d->has_hash = s->has_hash ? 1 : 0;
		d->has_uid = s->has_uid ? 1 : 0;
		d->uid = s->uid;
		memcpy(d->sha256, s->sha256, sizeof(d->sha256));
		snprintf(d->op, sizeof(d->op), "%s", s->op);
		snprintf(d->exe, sizeof(d->exe), "%s", s->exe);
		snprintf(d->path, sizeof(d->path), "%s", s->path);
	}
}

/* Serve one request from c; false: the connection is to be closed. */
static bool ctl_serve(struct ctl_client *c, size_t len)
{
	struct hmc_hdr h = {0};
	const char *why;
	int rc;

	rc = hmc_parse(ctl.in, len, HMC_REQUEST, &ctl.req, &why);
	if (rc) {
		log_msg(LOG_WARNING,
		        "control socket: malformed request from pid %d (%zu bytes): %s",
		        (int)c->pid, len, why);
		if (len >= sizeof(h))
			memcpy(&h, ctl.in, sizeof(h));
		ctl_result(h.seq, rc, "malformed request: %s", why);
		(void)ctl_send(c->fd, &ctl.rep);
		return false;
	}
	/* a password travels in some requests: keep it only in ctl.req */
	auth_wipe(ctl.in, len < sizeof(ctl.in) ? len : sizeof(ctl.in));
	ctl.deferred = false;
	if (c->ro && ctl.req.h.type != HMC_REQ_STATUS && ctl.req.h.type != HMC_REQ_EVENTS) {
		h = ctl.req.h;
		log_msg(LOG_WARNING, "events socket: pid %d uid %u asked for request %#x: refused",
		        (int)c->pid, (unsigned)c->uid, h.type);
		auth_wipe(&ctl.req, sizeof(ctl.req));
		ctl_result(h.seq, -EPERM,
		           "permission denied: the events socket serves status and events only");
		return ctl_send(c->fd, &ctl.rep) == 0;
	}
	switch (ctl.req.h.type) {
	case HMC_REQ_STATUS:
		ctl_status(ctl.req.h.seq);
		break;
	case HMC_REQ_SET_MODE:
		ctl_set_mode(c, ctl.req.h.seq, ctl.req.u.set_mode.mode, &ctl.req.u.set_mode.auth);
		break;
	case HMC_REQ_RELOAD:
		ctl_reload(c, ctl.req.h.seq);
		break;
	case HMC_REQ_STOP:
		ctl_stop(c, ctl.req.h.seq, &ctl.req.u.stop);
		break;
	case HMC_REQ_KNOWN_BAD:
		ctl_known_bad(c, ctl.req.h.seq, &ctl.req.u.known_bad);
		break;
	case HMC_REQ_EVENTS:
		ctl_events(ctl.req.h.seq, &ctl.req.u.events_req);
		break;
	default:
		ctl_serve_maint(c);
		break;
	}
	if (ctl.deferred)
		return true; /* ctl_done replies */
	rc = ctl_send(c->fd, &ctl.rep);
	if (rc) {
		log_msg(LOG_WARNING, "control socket: reply to pid %d failed: %s", (int)c->pid,
		        strerror(-rc));
		return false;
	}
	return true;
}

/* Serve what c has sent, at most CTL_BURST requests: a client that keeps
 * sending cannot keep the main loop from its other work (the rest stays
 * queued and epoll reports it again). */
static void ctl_read(struct ctl_client *c)
{
	ssize_t n;
	int served = 0;

	while (served++ < CTL_BURST) {
		/* MSG_TRUNC: n is the record's real length even when longer
		 * than the buffer, so an over-long message is seen as such */
		n = recv(c->fd, ctl.in, sizeof(ctl.in), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* EOF or error: the client is gone */
			ctl_drop(c);
			return;
		}
		if (!ctl_serve(c, (size_t)n)) {
			ctl_drop(c);
			return;
		}
		if (c->waiting)
			return; /* nothing more from c until its reply */
	}
}

void ctl_handle(void)
{
	struct epoll_event evs[CTL_MAX_CLIENTS + 2];
	int n, i;
	size_t k;

	if (ctl.epfd < 0)
		return;
	n = epoll_wait(ctl.epfd, evs, CTL_MAX_CLIENTS + 2, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.fd == ctl.ls[0].fd || evs[i].data.fd == ctl.ls[1].fd) {
			ctl_accept(&ctl.ls[evs[i].data.fd == ctl.ls[1].fd]);
			continue;
		}
		for (k = 0; k < CTL_MAX_CLIENTS; k++) {
			if (ctl.cl[k].fd != evs[i].data.fd)
				continue;
			if (ctl.cl[k].waiting) /* watched for hang-up only */
				ctl_drop(&ctl.cl[k]);
			else
				ctl_read(&ctl.cl[k]);
		}
	}
}

void ctl_fini(void)
{
	struct stat st;
	size_t i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (ctl.cl[i].fd >= 0)
			ctl_drop(&ctl.cl[i]);
	for (i = 0; i < 2; i++) {
		struct ctl_listener *l = &ctl.ls[i];

		if (l->fd < 0)
			continue;
		/* remove the socket file only if it is still the one we made */
		if (l->path && stat(l->path, &st) == 0 && st.st_dev == l->dev &&
		    st.st_ino == l->ino)
			unlink(l->path);
		close(l->fd);
		l->fd = -1;
	}
	if (ctl.epfd >= 0)
		close(ctl.epfd);
	ctl.epfd = -1;
}
