/* hmilockd.c - main(): options, the start-up order of every module and its
 * exact reverse at exit (one table, chrony-style), and the main thread's
 * poll loop over the signalfd, the control socket, the mountinfo watch,
 * the watchdog timer, the change recorder and the committer's eventfd.
 * The signalfd, timerfd and start-up pipe are owned here and touched by
 * the main thread only. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "anchor.h"
#include "auth.h"
#include "cache.h"
#include "ctl.h"
#include "exec.h"
#include "fan.h"
#include "helper.h"
#include "helper_mnt.h"
#include "list.h"
#include "log.h"
#include "metrics.h"
#include "mounts.h"
#include "notify.h"
#include "recorder.h"
#include "sandbox.h"
#include "state.h"
#include "stop.h"
#include "stats.h"
#include "update.h"
#include "window.h"
#include "workers.h"

#ifndef HMILOCK_VERSION
#error "HMILOCK_VERSION comes from the Makefile (VERSION=)"
#endif
#define READER_STALL_NS (10ull * 1000000000ull)

static struct hmd_config cfg;
static char start_msg[2 * PATH_MAX]; /* why start-up failed, for stderr/the parent */
static int helper_opt = -1; /* --helper, -1 = as configured */
static int oom_errno; /* why oom_score_adj could not be lowered */
static int main_status; /* exit status of a clean stop: 0, or HMD_EXIT_STOPPED */

/* ---- modules, in start-up order ------------------------------------------ */

static int mod_log(void)
{
	int rc = log_init(&cfg);

	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "cannot start logging: %s", strerror(-rc));
	return rc;
}

static int mod_state(void)
{
	return state_init(&cfg, start_msg, sizeof(start_msg));
}

/* The change recorder, then the windows (which read an interrupted
 * window's journal back into it), then trusted updates. */
static int mod_maint(void)
{
	int rc = recorder_init(&cfg, start_msg, sizeof(start_msg));

	if (rc < 0)
		return rc;
	rc = window_init(&cfg, start_msg, sizeof(start_msg));
	if (rc == 0)
		rc = update_init(&cfg);
	if (rc < 0) {
		window_fini();
		recorder_fini();
	}
	return rc;
}

static void mod_maint_fini(void)
{
	update_fini();
	window_fini();
	recorder_fini();
}

static int mod_helper(void)
{
	int rc = helper_init(&cfg);

	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "kernel helper required but unavailable: %s",
		         helper_state()[0] ? helper_state() : strerror(-rc));
	return rc;
}

static void main_on_list(enum list_event ev, void *arg)
{
	(void)arg;
	if (ev == LIST_LOADED)
		state_resign();
}

static int mod_list(void)
{
	struct wl_err err = {0};
	int rc = list_init(&cfg, &err);

	if (rc == 0)
		list_add_handler(main_on_list, NULL);
	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "cannot load the approved list: %s",
		         err.msg[0] ? err.msg : strerror(-rc));
	return rc;
}

static int mod_cache(void)
{
	int rc = cache_init(cfg.cache_entries ? cfg.cache_entries : HMD_DEFAULT_CACHE, 64);

	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "verdict cache: %s", strerror(-rc));
	return rc;
}

static int mod_exec(void)
{
	return exec_init(&cfg);
}

static int mod_fan(void)
{
	int rc = fan_init();

	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "fanotify_init: %s%s", strerror(-rc),
		         rc == -EPERM ? " (hmilockd needs CAP_SYS_ADMIN)" : "");
	return rc;
}

static int mod_workers(void)
{
	int rc = workers_init(&cfg, exec_workers_ops());

	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "work queue: %s", strerror(-rc));
	return rc;
}

static int mod_marks(void)
{
	return mounts_init(&cfg, start_msg, sizeof(start_msg));
}

static int mod_ctl(void)
{
	int rc = ctl_init(&cfg);

	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "control socket %s: %s", cfg.socket,
		         strerror(-rc));
	return rc;
}

static int mod_metrics(void)
{
	metrics_init(&cfg);
	return 0;
}

static int mod_sandbox(void)
{
	char msg[512] = "";
	int rc = sandbox_enter(helper_active(), msg, sizeof(msg));

	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "sandbox: %s", msg[0] ? msg : strerror(-rc));
	return rc;
}

/* Last, after the sandbox: every thread inherits the run-time capabilities
 * and the seccomp filter, so none drops anything itself. */
static int mod_threads(void)
{
	int rc = log_start();

	if (rc == 0)
		rc = helper_start();
	if (rc == 0)
		rc = metrics_start();
	if (rc == 0)
		rc = workers_start();
	if (rc == 0)
		rc = fan_start(exec_fan_ops());
	if (rc < 0)
		snprintf(start_msg, sizeof(start_msg), "cannot start threads: %s", strerror(-rc));
	return rc;
}

/*
 * Acquire everything (list, fanotify group, marks, socket), then drop
 * privileges and enter seccomp, then start the threads (which inherit the
 * reduced capabilities and the filter). Events on marked mounts wait in
 * the kernel queue for the few milliseconds between marks and reader.
 * Teardown runs the fini column bottom-up: reader first, workers drain and
 * answer what is queued, and only then the group is closed.
 */
static const struct module {
	const char *name;
	int (*init)(void);
	void (*fini)(void);
} modules[] = {
    {"log", mod_log, log_fini},
    {"state", mod_state, NULL},
    {"list", mod_list, list_fini},
    {"helper", mod_helper, helper_fini},
    {"stop", stop_init, NULL},
    {"cache", mod_cache, cache_fini},
    {"exec", mod_exec, NULL},
    {"fanotify", mod_fan, fan_fini},
    {"workers", mod_workers, workers_fini},
    {"marks", mod_marks, mounts_fini},
    {"maintenance", mod_maint, mod_maint_fini},
    {"control", mod_ctl, ctl_fini},
    {"metrics", mod_metrics, metrics_fini},
    {"sandbox", mod_sandbox, NULL},
    {"threads", mod_threads, fan_stop},
};
#define N_MODULES (sizeof(modules) / sizeof(modules[0]))

/* Bottom-up; a module slow to stop is named (a shutdown waits for us). */
static void modules_fini(size_t n_started)
{
	uint64_t t;

	while (n_started-- > 0) {
		if (!modules[n_started].fini)
			continue;
		t = stats_now_ns();
		modules[n_started].fini();
		t = stats_now_ns() - t;
		if (n_started > 0 && t > 500000000ull) /* module 0 is the log */
			log_msg(LOG_WARNING, "stopping %s took %llu ms", modules[n_started].name,
			        (unsigned long long)(t / 1000000));
	}
}

static int modules_init(size_t *n_started)
{
	int rc;

	for (*n_started = 0; *n_started < N_MODULES; (*n_started)++) {
		rc = modules[*n_started].init();
		if (rc < 0) {
			if (!start_msg[0])
				snprintf(start_msg, sizeof(start_msg), "%s: %s",
				         modules[*n_started].name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* ---- main loop -------------------------------------------------------- */

enum { PFD_SIGNAL, PFD_CTL, PFD_MOUNTS, PFD_TIMER, PFD_RECORDER, PFD_COMMIT, PFD__N };

static void main_signal(int sfd, bool *quit)
{
	struct signalfd_siginfo si;
	struct wl_err err = {0};

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (stop_on_term(&si)) /* logs either way */
				*quit = true;
			break;
		case SIGHUP:
			/* list_reload logs success or why the old list stays. */
			list_reload(&err);
			break;
		case SIGCHLD:
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			break;
		default:
			break;
		}
	}
}

/* Every second; true: exit now (stop.c). */
static bool main_timer(int tfd)
{
	static struct hmc_status snap; /* for the metrics file */
	static bool stall_logged;
	bool quit;
	uint64_t ticks, now = stats_now_ns(), beat = fan_reader_heartbeat();

	if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return false;
	workers_expire(now);
	window_tick();
	update_tick();
	list_trim();
	helper_protect_tick();
	helper_mnt_tick();
	quit = stop_tick(beat);
	if (metrics_due(now)) {
		ctl_status_fill(&snap);
		metrics_publish(&snap);
	}
	if (beat && now - beat > READER_STALL_NS) {
		if (!stall_logged)
			log_msg(LOG_CRIT, "fanotify reader has not looped for %llu s",
			        (unsigned long long)((now - beat) / 1000000000ull));
		stall_logged = true;
	} else {
		stall_logged = false;
	}
	return quit;
}

static int main_loop(int sfd, int tfd)
{
	struct pollfd pfd[PFD__N] = {
	    [PFD_SIGNAL] = {.fd = sfd, .events = POLLIN},
	    [PFD_CTL] = {.fd = ctl_fd(), .events = POLLIN},
	    [PFD_MOUNTS] = {.fd = mounts_fd(), .events = POLLPRI},
	    [PFD_TIMER] = {.fd = tfd, .events = POLLIN},
	    [PFD_RECORDER] = {.fd = recorder_fd(), .events = POLLIN},
	    [PFD_COMMIT] = {.fd = window_fd(), .events = POLLIN},
	};
	bool quit = false;

	while (!quit) {
		if (poll(pfd, PFD__N, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_CRIT, "main poll: %s", strerror(errno));
			return -errno;
		}
		if (pfd[PFD_SIGNAL].revents)
			main_signal(sfd, &quit);
		if (pfd[PFD_CTL].revents) {
			ctl_handle();
			helper_protect_tick(); /* a request may have written a file */
			if (ctl_stop_asked() && stop_sanctioned()) {
				quit = true;
				main_status = HMD_EXIT_STOPPED;
			}
		}
		if (pfd[PFD_MOUNTS].revents & (POLLPRI | POLLERR))
			mounts_handle();
		if (pfd[PFD_TIMER].revents && main_timer(tfd)) {
			quit = true;
			main_status = HMD_EXIT_STOPPED;
		}
		if (pfd[PFD_RECORDER].revents)
			recorder_handle();
		if (pfd[PFD_COMMIT].revents)
			window_handle(); /* a commit or plan is done: finish it, reply */
	}
	return 0;
}

/* Block the signals in every thread-to-be; they arrive on the signalfd. */
static int main_fds(int *sfd, int *tfd)
{
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	*sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (*sfd < 0)
		return -errno;
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*tfd < 0 || timerfd_settime(*tfd, 0, &its, NULL) < 0) {
		int rc = -errno;

		close(*sfd);
		if (*tfd >= 0)
			close(*tfd);
		return rc;
	}
	return 0;
}

/* ---- process set-up ------------------------------------------------------ */

/* Every event the kernel hands us carries an fd, and the kernel denies an
 * event it cannot give an fd for: take every fd the hard limit allows. The
 * OOM killer should pick anything but the agent, whose death fails open. */
static void main_limits(void)
{
	struct rlimit rl;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Lowering it needs CAP_SYS_RESOURCE; without, the default stays. */
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "-900", 4) != 4)
			oom_errno = errno;
		close(fd);
	}
}

/* Fork into the background; the parent waits on a pipe for "ready" (exit
 * 0) or the start-up error (printed, exit 1). Returns the child's end. */
static int main_daemonize(void)
{
	int p[2];
	pid_t pid;
	char buf[sizeof(start_msg) + 1];
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		perror("hmilockd: fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], buf, sizeof(buf) - 1);
		if (n == 1 && buf[0] == 0)
			exit(0);
		buf[n > 0 ? n : 0] = 0;
		fprintf(stderr, "hmilockd: %s\n", n > 0 ? buf : "exited during start-up");
		exit(1);
	}
	close(p[0]);
	if (setsid() < 0)
		perror("hmilockd: setsid");
	return p[1];
}

/* The background daemon's stdio goes to /dev/null before anything starts
 * (later the seccomp filter would not allow dup2); start-up errors reach
 * the waiting parent through the pipe instead. */
static void main_null_stdio(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0)
		return;
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	close(null);
}

static void main_detach(int status_fd)
{
	if (write(status_fd, "", 1) != 1)
		log_msg(LOG_WARNING, "start-up pipe: %s", strerror(errno));
	close(status_fd);
}

static void main_ready(void)
{
	struct hmd_list *l = list_get();

	state_set_ready();
	notify_ready();
	log_msg(LOG_NOTICE,
	        "ready: mode %s, match %s, list %s generation %llu (%zu entries), %llu marks, "
	        "%u workers, audit %s",
	        config_mode_name(state_mode()), cfg.match == HMD_MATCH_HASH ? "hash" : "path+hash",
	        cfg.db, (unsigned long long)list_generation(l), wl_db_count(list_db(l)),
	        (unsigned long long)atomic_load(&hmd_stats.marks), workers_count(),
	        fan_audit_supported() ? "on" : "off");
	list_put(l);
	if (oom_errno)
		log_msg(LOG_INFO, "oom_score_adj stays at its default: %s", strerror(oom_errno));
}

static int main_run(bool foreground)
{
	int sfd = -1, tfd = -1, status_fd = -1, rc;
	size_t n_started = 0;

	if (!foreground) {
		status_fd = main_daemonize();
		main_null_stdio();
	}
	if (stop_standby(cfg.socket) < 0)
		return 0;
	main_limits();
	rc = main_fds(&sfd, &tfd);
	if (rc < 0) {
		snprintf(start_msg, sizeof(start_msg), "signalfd/timerfd: %s", strerror(-rc));
		goto report;
	}
	rc = modules_init(&n_started);
	if (rc < 0)
		goto stop;
	main_ready();
	if (status_fd >= 0)
		main_detach(status_fd);
	status_fd = -1;
	rc = main_loop(sfd, tfd);
	notify_stopping();
stop:
	if (rc < 0 && n_started > 0)
		log_msg(LOG_CRIT, "start-up failed: %s", start_msg);
	modules_fini(n_started);
	close(sfd);
	close(tfd);
report:
	if (status_fd >= 0) {
		if (write(status_fd, start_msg, strlen(start_msg)) < 0)
			perror("hmilockd");
	} else if (rc < 0 && start_msg[0] && !(n_started > 0 && log_stderr_is_journal())) {
		/* else logged above already ("start-up failed"), and the
		 * journal has it from syslog */
		fprintf(stderr, "hmilockd: %s\n", start_msg);
	}
	return rc < 0 ? 1 : main_status;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hmilockd [--foreground] [--config FILE] [--helper=auto|required|off]\n"
	           "       hmilockd --check-config [--config FILE]\n"
	           "       hmilockd --unpin [--config FILE] [--password-file FILE]\n"
	           "                (uninstall: stop the kernel helper, remove its pins)\n");
}

static int main_helper_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return HMD_HELPER_AUTO;
	if (!strcmp(s, "required"))
		return HMD_HELPER_REQUIRED;
	if (!strcmp(s, "off"))
		return HMD_HELPER_OFF;
	return -1;
}

struct main_opts {
	const char *config, *pwfile;
	bool foreground, check, unpin;
};

/* Parse argv into o; -1 to go on, else the exit status. */
static int main_options(int argc, char **argv, struct main_opts *o)
{
	static const struct option opts[] = {
	    {"foreground", no_argument, NULL, 'f'},
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'n'},
	    {"unpin", no_argument, NULL, 'U'},
	    {"helper", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"password-file", required_argument, NULL, 'P'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "fc:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'n':
			o->check = true;
			break;
		case 'U':
			o->unpin = true;
			break;
		case 'P':
			o->pwfile = optarg;
			break;
		case 'H':
			helper_opt = main_helper_parse(optarg);
			if (helper_opt >= 0)
				break;
			fprintf(stderr, "hmilockd: --helper: '%s' is not auto, required or off\n",
			        optarg);
			return 2;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hmilockd %s\n", HMILOCK_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "hmilockd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* Package removal (prerm), with hmilockd.service stopped: the helper lets a
 * process running the protected hmilockd binary remove its pins while no
 * daemon is registered, and nobody else while it enforces; this binary then
 * asks for the configuration and the admin password it was locked with
 * (anchor.c). */
static int main_unpin(const struct main_opts *o)
{
	char why[600] = "", cmsg[512] = "", pw[WL_PASSWD_MAX + 2];
	bool have_cfg = config_load(&cfg, o->config, cmsg, sizeof(cmsg)) == 0;
	int rc;

	rc = anchor_password(o->pwfile, pw, sizeof(pw), why, sizeof(why));
	if (!rc)
		rc = anchor_unpin(have_cfg ? &cfg : NULL, cmsg, pw, why, sizeof(why));
	auth_wipe(pw, sizeof(pw));
	if (rc < 0) {
		fprintf(stderr, "hmilockd: --unpin refused: %s\n", why);
		return 3; /* the prerm tells it from a failure (1) */
	}
	rc = helper_unpin();
	if (rc < 0) {
		fprintf(stderr, "hmilockd: --unpin: cannot remove %s: %s\n", HMK_PIN_DIR,
		        strerror(-rc));
		return 1;
	}
	printf("kernel helper unpinned\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct main_opts o = {.config = HMD_DEFAULT_CONFIG};
	char msg[1024] = "";
	int rc = main_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.unpin)
		return main_unpin(&o);
	/* -n, ntpd style: the configuration alone, nothing started. */
	if (config_load(&cfg, o.config, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "hmilockd: %s\n", msg[0] ? msg : o.config);
		return 2;
	}
	if (o.check) {
		printf("configuration OK\n");
		return 0;
	}
	if (helper_opt >= 0)
		cfg.helper = (enum hmd_helper_want)helper_opt;
	cfg.log_stderr = o.foreground;
	return main_run(o.foreground);
}
