/* hmilock-notify.c - the panel notifier. Runs in the operator's graphical
 * session (XDG autostart, as the session's user, no root), follows
 * hmilockd's decisions over the read-only events socket ([events] socket;
 * the user must be in its group) and, when something is blocked, shows a
 * desktop notification through the standard org.freedesktop.Notifications
 * D-Bus interface on the session bus (sd-bus): which program, that the
 * lockdown blocked it, and whom to call ([notify] message). A storm is one
 * notification: the first denial shows at once; the ones after it within
 * [notify] interval are counted and shown together when it is over, in the
 * same notification (replaces_id), with their number. It can change
 * nothing: the events socket serves status and events only.
 * Exit codes: 0 stopped by SIGINT/SIGTERM, 2 usage or configuration, 3 the
 * output is gone. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hmilock.h"
#include "hmilock_ctl.h"

#define NOTIFY_PATH_SHOWN 200 /* bytes of a path in the text */

static volatile sig_atomic_t nt_stop;

static struct {
	sd_bus *bus;
	bool bus_said; /* the bus failure was told (once until it works) */
	uint32_t shown_id; /* the notification a storm updates */
	uint64_t shown_ns; /* when one was last shown (CLOCK_MONOTONIC) */
	uint64_t interval_ns;
	uint64_t pending; /* denials since then, not shown yet */
	char last_path[HMC_PATH_LEN], last_op[16];
	const char *message;
	uint64_t shown; /* notifications sent, for the log */
} nt;

static uint64_t nt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nt_on_signal(int sig)
{
	(void)sig;
	nt_stop = 1;
}

/* What happened, in the operator's words, for one denial. */
static void nt_what(const char *op, const char *path, char *out, size_t len)
{
	int n = NOTIFY_PATH_SHOWN;

	if (!strcmp(op, "exec"))
		snprintf(out, len, "The program %.*s was not started", n, path);
	else if (!strcmp(op, "mmap") || !strcmp(op, "mprotect"))
		snprintf(out, len, "The library %.*s was not loaded", n, path);
	else if (!strcmp(op, "script"))
		snprintf(out, len, "The script %.*s was not run", n, path);
	else
		snprintf(out, len, "%.*s: %s refused", n, path, op);
}

/* Notify(app_name, replaces_id, app_icon, summary, body, actions, hints,
 * expire_timeout): critical urgency, so that it stays until the operator
 * has seen it. */
static int nt_send(const char *summary, const char *body)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	uint32_t id = 0;
	int rc;

	if (!nt.bus && (rc = sd_bus_open_user(&nt.bus)) < 0) {
		if (!nt.bus_said)
			util_err("no session bus (DBUS_SESSION_BUS_ADDRESS): %s", strerror(-rc));
		nt.bus_said = true;
		return rc;
	}
	rc = sd_bus_call_method(nt.bus, "org.freedesktop.Notifications",
	                        "/org/freedesktop/Notifications", "org.freedesktop.Notifications",
	                        "Notify", &err, &reply, "susssasa{sv}i", "hmilock", nt.shown_id,
	                        "dialog-warning", summary, body, 0, 1, "urgency", "y", (uint8_t)2,
	                        (int32_t)-1);
	if (rc >= 0)
		rc = sd_bus_message_read(reply, "u", &id);
	if (rc < 0) {
		if (!nt.bus_said)
			util_err("cannot show a notification (org.freedesktop.Notifications): %s",
			         err.message ? err.message : strerror(-rc));
		nt.bus_said = true;
		sd_bus_flush_close_unref(nt.bus); /* a new connection next time */
		nt.bus = NULL;
	} else {
		nt.bus_said = false;
		nt.shown_id = id;
		nt.shown++;
	}
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	return rc;
}

static void nt_show_one(const char *op, const char *path)
{
	char what[512], body[1024];

	nt_what(op, path, what, sizeof(what));
	snprintf(body, sizeof(body), "%s: it is not on this box's approved list.\n%s", what,
	         nt.message);
	nt_send("Blocked by the application lockdown", body);
	nt.shown_ns = nt_now();
}

/* The denials gathered during the interval, as one notification. */
static void nt_show_pending(void)
{
	char what[512], summary[128], body[1024];

	nt_what(nt.last_op, nt.last_path, what, sizeof(what));
	snprintf(summary, sizeof(summary), "%llu more blocked by the application lockdown",
	         (unsigned long long)nt.pending);
	snprintf(body, sizeof(body), "%llu programs or files were refused. The last: %s.\n%s",
	         (unsigned long long)nt.pending, what, nt.message);
	nt.pending = 0;
	nt_send(summary, body);
	nt.shown_ns = nt_now();
}

static void nt_event(void *arg, const struct hmc_event *e)
{
	(void)arg;
	if (e->verdict != HMC_V_DENY)
		return; /* would-deny (audit) and errors stop nothing the operator sees */
	if (nt.shown_ns && nt_now() - nt.shown_ns < nt.interval_ns) {
		nt.pending++;
		snprintf(nt.last_path, sizeof(nt.last_path), "%s", e->path);
		snprintf(nt.last_op, sizeof(nt.last_op), "%s", e->op[0] ? e->op : "exec");
		return;
	}
	nt_show_one(e->op[0] ? e->op : "exec", e->path);
}

static void nt_lost(void *arg, uint64_t n)
{
	(void)arg;
	nt.pending += n; /* counted, though not named */
	util_err("%llu events lost (more than hmilockd keeps came between two polls)",
	         (unsigned long long)n);
}

static void nt_down(void *arg, const char *why)
{
	(void)arg;
	util_err("%s; trying again", why);
}

static void nt_up(void *arg, int32_t pid, bool restarted)
{
	(void)arg;
	util_err("following hmilockd (pid %d)%s", pid, restarted ? ", restarted" : "");
}

static int nt_flush(void *arg)
{
	(void)arg;
	if (nt.pending && nt_now() - nt.shown_ns >= nt.interval_ns)
		nt_show_pending();
	return 0;
}

static const char nt_usage[] = "hmilock-notify [--config FILE] [--socket PATH]";

static int nt_config(const char *file, struct hmd_config *conf)
{
	char msg[768];
	int rc = config_load(conf, file ? file : HMD_DEFAULT_CONFIG, msg, sizeof(msg));

	if (rc == 0)
		return 0;
	if (!file && (rc == -ENOENT || rc == -EACCES)) {
		config_defaults(conf); /* the box's file is root's: its defaults */
		return 0;
	}
	util_err("%s", msg);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	static const struct follow_ops ops = {
	    .event = nt_event, .lost = nt_lost, .down = nt_down, .up = nt_up, .flush = nt_flush};
	static struct hmd_config conf;
	struct sigaction sa = {.sa_handler = nt_on_signal};
	const char *file = NULL, *sock = NULL;
	struct cli cli = {0};
	int c, rc;

	util_prog = "hmilock-notify";
	while ((c = getopt_long(argc, argv, "c:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'h':
			return util_help(nt_usage);
		case 'V':
			printf("hmilock-notify %s\n", HMILOCK_VERSION);
			return EXIT_OK;
		default:
			return util_usage(nt_usage, NULL);
		}
	}
	if (optind < argc)
		return util_usage(nt_usage, "unexpected argument '%s'", argv[optind]);
	rc = nt_config(file, &conf);
	if (rc)
		return rc;
	cli.socket = sock ? sock : conf.events_socket;
	if (!cli.socket[0]) {
		util_err("%s: [events] socket = off: nothing to follow", conf.path);
		return EXIT_USAGE;
	}
	nt.message = conf.notify_message;
	nt.interval_ns = (uint64_t)conf.notify_interval_s * 1000000000ull;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = follow_run(&cli, &ops, NULL, &nt_stop, 0);
	if (nt.pending)
		nt_show_pending();
	util_err("stopped; %llu notifications shown", (unsigned long long)nt.shown);
	sd_bus_flush_close_unref(nt.bus);
	return rc;
}
