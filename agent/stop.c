/* stop.c - whether hmilockd stops when the service manager says so, and
 * what it tells the kernel helper about it. While the box is locked (the
 * helper active and enforcing) the helper lets PID 1 send hmilockd only
 * SIGTERM and SIGHUP; everything else (SIGKILL, the watchdog's SIGABRT,
 * cgroup.kill) waits until hmilockd agrees to stop (HMK_CFG_STOP_OK) or
 * hangs (its heartbeat, written here every second, goes stale). A SIGTERM
 * is a stop hmilockd agrees to when the box is not locked, a maintenance
 * window or trusted update is open, the system is shutting down
 * (systemd's SystemState, asked over its private bus socket: dbus-daemon
 * may be gone by then), or the update replaced hmilockd's own binary by
 * an approved one (the apt hook's restart). Otherwise it is refused: the
 * daemon runs on, and once the service manager has given up the stop it
 * is asked to start the unit again, whose new process stands by (below)
 * while this one runs. `hmilock stop` with the admin password (ctl.c) is
 * the sanctioned stop of a locked box: hmilockd asks the service manager
 * to stop its unit (or, without one, exits with HMD_EXIT_STOPPED).
 * Standby: a started hmilockd that finds another one answering on the
 * control socket waits for it to exit, pinging the watchdog, and then
 * starts for real. Owned by the main thread. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "../kmod/hmilock_abi.h"
#include "hmilock_ctl.h"
#include "log.h"
#include "mounts.h"
#include "notify.h"
#include "state.h"
#include "stats.h"
#include "stop.h"
#include "update.h"
#include "window.h"

#define STOP_BUS "unix:path=/run/systemd/private"
#define STOP_BUS_TIMEOUT_US (2 * 1000000ull)
#define STOP_FOLLOW_S 120 /* how long a refused stop is followed (unit state) */

static struct {
	char c2[PATH_MAX]; /* the cgroup v2 mount, "" for none */
	char unit[256]; /* this process's unit, "" outside one */
	uint64_t refused_ns; /* the last refused stop, 0: none followed */
	uint64_t sanctioned_ns; /* `hmilock stop` granted, 0: not */
} st;

/* ---- the service manager, over its private socket ----------------------- */

static int stop_bus(sd_bus **out)
{
	sd_bus *b = NULL;
	int rc = sd_bus_new(&b);

	if (rc >= 0)
		rc = sd_bus_set_address(b, STOP_BUS);
	if (rc >= 0)
		rc = sd_bus_set_method_call_timeout(b, STOP_BUS_TIMEOUT_US);
	if (rc >= 0)
		rc = sd_bus_start(b);
	if (rc < 0) {
		sd_bus_unref(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* SystemState ("running", "stopping", ...) into out; -errno. */
static int stop_system_state(char *out, size_t len)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *b = NULL;
	char *s = NULL;
	int rc = stop_bus(&b);

	if (!rc)
		rc = sd_bus_get_property_string(
		    b, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
		    "org.freedesktop.systemd1.Manager", "SystemState", &e, &s);
	if (rc >= 0)
		snprintf(out, len, "%s", s);
	free(s);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(b);
	return rc < 0 ? rc : 0;
}

/* The unit's ActiveState ("active", "deactivating", "failed", ...). */
static int stop_unit_state(sd_bus *b, char *out, size_t len)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	const char *path;
	char *s = NULL;
	int rc =
	    sd_bus_call_method(b, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	                       "org.freedesktop.systemd1.Manager", "GetUnit", &e, &m, "s", st.unit);

	if (rc >= 0)
		rc = sd_bus_message_read(m, "o", &path);
	if (rc >= 0)
		rc = sd_bus_get_property_string(b, "org.freedesktop.systemd1", path,
		                                "org.freedesktop.systemd1.Unit", "ActiveState", &e,
		                                &s);
	if (rc >= 0)
		snprintf(out, len, "%s", s);
	free(s);
	sd_bus_message_unref(m);
	sd_bus_error_free(&e);
	return rc < 0 ? rc : 0;
}

/* StartUnit or StopUnit (what) of our unit, mode "replace": queued. */
static int stop_unit_job(sd_bus *b, const char *what)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int rc = sd_bus_call_method(b, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	                            "org.freedesktop.systemd1.Manager", what, &e, NULL, "ss",
	                            st.unit, "replace");

	if (rc < 0)
		log_msg(LOG_WARNING, "cannot ask the service manager for %s of %s: %s", what,
		        st.unit, e.message ? e.message : strerror(-rc));
	sd_bus_error_free(&e);
	return rc < 0 ? rc : 0;
}

/* ---- the decision ------------------------------------------------------- */

/* The update replaced our binary by an approved file: the apt hook's
 * restart into the new version. */
static bool stop_upgraded(void)
{
	char exe[PATH_MAX];
	const char *tag = " (deleted)";
	size_t n, t = strlen(tag);
	ssize_t r = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (r <= 0)
		return false;
	exe[r] = '\0';
	n = (size_t)r;
	if (n <= t || strcmp(exe + n - t, tag))
		return false;
	exe[n - t] = '\0';
	return helper_approved_path(exe);
}

/* Why a stop is agreed to now, or NULL: refused. */
static const char *stop_reason(char *buf, size_t len)
{
	enum hmd_mode m;
	char state[64] = "";
	int rc;

	if (st.sanctioned_ns)
		return "hmilock stop, with the admin password";
	if (!helper_active() || helper_mode(&m) || m != HMD_MODE_ENFORCE)
		return "the box is not locked";
	if (state_mode() == HMD_MODE_MAINTENANCE)
		return "a maintenance window is open";
	if (update_active())
		return "a trusted update is open";
	if (stop_upgraded())
		return "an update replaced hmilockd by an approved version";
	rc = stop_system_state(state, sizeof(state));
	if (!rc && !strcmp(state, "stopping"))
		return "the system is shutting down";
	snprintf(buf, len, "the box is locked (system state %s)", rc ? strerror(-rc) : state);
	return NULL;
}

static void stop_comm(pid_t pid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f && fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	if (f)
		fclose(f);
}

bool stop_on_term(const struct signalfd_siginfo *si)
{
	char why[160], comm[32];
	const char *ok = stop_reason(why, sizeof(why));

	stop_comm((pid_t)si->ssi_pid, comm, sizeof(comm));
	if (ok) {
		helper_allow_stop();
		log_msg(LOG_NOTICE, "signal %u from pid %u (%s): stopping: %s", si->ssi_signo,
		        si->ssi_pid, comm, ok);
		return true;
	}
	log_msg(LOG_WARNING,
	        "signal %u from pid %u (%s): stop refused: %s; hmilockd runs on. Stop it with "
	        "`hmilock stop` (admin password) or inside a maintenance window",
	        si->ssi_signo, si->ssi_pid, comm, why);
	if (si->ssi_pid == 1 && st.unit[0])
		st.refused_ns = stats_now_ns();
	return false;
}

/* ---- every second: the heartbeat, our cgroups, a refused stop ----------- */

/* The cgroup2 ids of our cgroup and its ancestors (the root has no
 * cgroup.kill). */
static size_t stop_cgroups(uint64_t *ids, size_t max)
{
	char line[PATH_MAX], dir[2 * PATH_MAX], *p, *slash;
	struct stat sb;
	size_t n = 0;
	FILE *f;

	if (!st.c2[0] || !(f = fopen("/proc/self/cgroup", "re")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::/", 4))
			break;
	fclose(f);
	if (strncmp(line, "0::/", 4))
		return 0;
	p = line + 3;
	p[strcspn(p, "\n")] = '\0';
	for (;;) {
		if (strlen(p) > 1 && n < max) {
			snprintf(dir, sizeof(dir), "%s%s", st.c2, p);
			if (!stat(dir, &sb))
				ids[n++] = sb.st_ino;
		}
		slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = '\0';
	}
	return n;
}

/* After a refused stop the service manager gives up on it (the helper
 * refuses its SIGKILL) and leaves the unit failed while we run: ask it to
 * start the unit again; its new process stands by. */
static void stop_follow(uint64_t now)
{
	char state[64] = "";
	sd_bus *b = NULL;

	if (now - st.refused_ns > STOP_FOLLOW_S * 1000000000ull) {
		st.refused_ns = 0;
		return;
	}
	if (stop_bus(&b))
		return;
	if (!stop_unit_state(b, state, sizeof(state)) &&
	    (!strcmp(state, "failed") || !strcmp(state, "inactive"))) {
		st.refused_ns = 0;
		if (!stop_unit_job(b, "StartUnit")) {
			notify_off();
			log_msg(LOG_NOTICE,
			        "the service manager gave up the refused stop (%s %s): asked it to "
			        "start %s again; its new process stands by while this one runs",
			        st.unit, state, st.unit);
		}
	}
	sd_bus_flush_close_unref(b);
}

bool stop_tick(uint64_t reader_beat_ns)
{
	uint64_t ids[HMK_CG_DEPTH] = {0};
	size_t n = stop_cgroups(ids, HMK_CG_DEPTH);
	uint64_t now = stats_now_ns();

	helper_beat(reader_beat_ns, ids, n);
	if (st.refused_ns)
		stop_follow(now);
	/* the service manager took the stop job but sent no SIGTERM */
	return st.sanctioned_ns && now - st.sanctioned_ns > 15 * 1000000000ull;
}

bool stop_sanctioned(void)
{
	sd_bus *b = NULL;
	int rc = -ENOENT;

	st.sanctioned_ns = stats_now_ns();
	helper_allow_stop();
	/* under systemd: its own stop of the unit (a process standing by goes
	 * too, and the unit ends inactive); else exit now */
	if (st.unit[0] && !stop_bus(&b)) {
		rc = stop_unit_job(b, "StopUnit");
		sd_bus_flush_close_unref(b);
	}
	return rc < 0;
}

int stop_init(void)
{
	char *unit = NULL;

	mounts_find_fstype("cgroup2", st.c2, sizeof(st.c2));
	if (sd_pid_get_unit(0, &unit) >= 0)
		snprintf(st.unit, sizeof(st.unit), "%s", unit);
	free(unit);
	return 0;
}

/* ---- standby ------------------------------------------------------------ */

/* The pid of an hmilockd answering on the control socket, or 0. */
static pid_t stop_running_pid(const char *sock)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	static struct hmc_msg req, rep;
	struct timeval tv = {.tv_sec = 5};
	const char *why;
	pid_t pid = 0;
	ssize_t n;
	int fd;

	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock) >= (int)sizeof(a.sun_path))
		return 0;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	hmc_hdr_init(&req.h, HMC_REQ_STATUS, HMC_REQUEST, 1);
	if (!connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    send(fd, &req, sizeof(req.h), MSG_NOSIGNAL) == (ssize_t)sizeof(req.h)) {
		n = recv(fd, &rep, sizeof(rep), 0);
		if (n > 0 && hmc_check(&rep, (size_t)n, HMC_REPLY, &why) == 0 &&
		    rep.h.type == HMC_REP_STATUS && rep.u.status.pid > 0 &&
		    rep.u.status.pid != getpid())
			pid = rep.u.status.pid;
	}
	close(fd);
	return pid;
}

int stop_standby(const char *sock)
{
	pid_t pid = stop_running_pid(sock);
	struct pollfd p;
	uint64_t usec = 0;
	int fd, r;

	if (!pid || !getenv("NOTIFY_SOCKET"))
		return 0; /* standing by is for the service manager's start */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return 0; /* gone meanwhile */
	log_msg(LOG_NOTICE,
	        "another hmilockd (pid %d) runs (one that refused a stop while the box is "
	        "locked runs on): standing by until it exits",
	        (int)pid);
	sd_notifyf(0, "READY=1\nSTATUS=standing by: hmilockd (pid %d) runs and enforces", (int)pid);
	if (sd_watchdog_enabled(0, &usec) <= 0)
		usec = 0;
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	for (;;) {
		r = poll(&p, 1, usec ? (int)(usec / 2000) : -1);
		if (r > 0)
			break;
		if (r < 0 && errno != EINTR)
			break;
		sd_notify(0, "WATCHDOG=1");
	}
	close(fd);
	if (helper_pinned_stop_ok()) {
		/* it agreed to a stop (the unit's, or hmilock stop): that is
		 * ours too, whether or not its SIGTERM reached us yet */
		log_msg(LOG_NOTICE, "hmilockd (pid %d) agreed to stop and exited: standing down",
		        (int)pid);
		return -1;
	}
	log_msg(LOG_NOTICE, "hmilockd (pid %d) exited: starting", (int)pid);
	sd_notify(0, "STATUS=starting");
	return 1;
}
