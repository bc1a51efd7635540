/* cmd_daemon.c - the commands that talk to hmilockd over its control socket
 * (include/hmilock_ctl.h): status, mode, reload, events, each with --json.
 * One connection per command, through ctlc.c, which checks every reply with
 * hmc_parse() before a field of it is read.
 * Exit codes: 0 ok, 1 the daemon refused (reload of a bad list, permission
 * denied), 2 usage, 3 cannot talk to the daemon or a malformed reply. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hmilock.h"
#include "hmilock_ctl.h"
#include "wl.h"

#define CD_TIMEOUT_S 10 /* a reply takes milliseconds; a reload of a huge list, more */

/* ---- options ------------------------------------------------------------- */

/* --json, -n N (when n is not NULL), --help. Returns the first operand's
 * index or -1 with *rc set. */
static int cd_opts(int argc, char **argv, const char *usage, bool *json, unsigned *n, bool *follow,
                   int *rc)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"follow", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	unsigned long v;
	char *end;
	int c;

	*json = false;
	optind = 0;
	while ((c = getopt_long(argc, argv, n ? "jhn:" : "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'n':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || v < 1 ||
			    v > HMC_EVENTS_MAX) {
				*rc = util_usage(usage, "-n '%s': want a number from 1 to %d",
				                 optarg, HMC_EVENTS_MAX);
				return -1;
			}
			*n = (unsigned)v;
			break;
		case 'f':
			if (!follow) {
				*rc = util_usage(usage, NULL);
				return -1;
			}
			*follow = true;
			break;
		case 'h':
			*rc = util_help(usage);
			return -1;
		default:
			*rc = util_usage(usage, NULL);
			return -1;
		}
	}
	return optind;
}

/* The options of status, reload and events (--json, -n when n is not
 * NULL), no operands, then the connection: -1 when connected (close with
 * ctlc_close), else the exit status to return. */
static int cd_begin(const struct cli *cli, int argc, char **argv, const char *usage, bool *json,
                    unsigned *n)
{
	int first, rc = EXIT_INTERNAL; /* cd_opts sets it whenever it fails */

	first = cd_opts(argc, argv, usage, json, n, NULL, &rc);
	if (first < 0)
		return rc;
	if (first < argc)
		return util_usage(usage, "%s: unexpected argument '%s'", argv[0], argv[first]);
	rc = ctlc_connect(cli, CD_TIMEOUT_S);
	return rc ? rc : -1;
}

/* ---- status -------------------------------------------------------------- */

/* A path member: as is when valid UTF-8, else in the escaped text form
 * with "<key>_escaped": true beside it (as hmilock list does). */
static void cd_json_str(json_object *o, const char *key, const char *s)
{
	char ekey[64];
	bool esc = false;
	char *v = util_json_path(s, &esc);

	json_object_object_add(o, key, json_object_new_string(v ? v : ""));
	if (esc) {
		snprintf(ekey, sizeof(ekey), "%s_escaped", key);
		json_object_object_add(o, ekey, json_object_new_boolean(1));
	}
	free(v);
}

static double cd_hit_rate(const struct hmc_status *s)
{
	uint64_t n = s->c.cache_hits + s->c.cache_misses;

	return n ? (double)s->c.cache_hits / (double)n : 0.0;
}

#define CD_U64(o, key, v) json_object_object_add(o, key, json_object_new_uint64(v))

/* {"fanotify": {"exec": N}, "helper": {"exec": N, "mmap": N, ...}}: every
 * operation, zeroes too, so that a monitor finds its keys. */
static json_object *cd_refused_json(const struct hmc_status *s, bool deny)
{
	json_object *o = json_object_new_object(), *fan = json_object_new_object(),
	            *helper = json_object_new_object();

	CD_U64(fan, "exec", deny ? s->c.denied : s->c.would_deny);
	for (uint32_t op = 0; op < HMC_OP__MAX; op++)
		CD_U64(helper, hmc_op_name(op), deny ? s->h.denied[op] : s->h.would_deny[op]);
	json_object_object_add(o, "fanotify", fan);
	json_object_object_add(o, "helper", helper);
	return o;
}

static void cd_status_counters(json_object *o, const struct hmc_status *s)
{
	const struct hmc_counters *c = &s->c;

	CD_U64(o, "events", c->events);
	CD_U64(o, "allowed", c->allowed);
	CD_U64(o, "denied", hmc_status_refused(s, true));
	CD_U64(o, "would_deny", hmc_status_refused(s, false));
	json_object_object_add(o, "denied_by", cd_refused_json(s, true));
	json_object_object_add(o, "would_deny_by", cd_refused_json(s, false));
	CD_U64(o, "helper_events_lost", s->h.events_lost);
	CD_U64(o, "helper_unchecked", s->h.unchecked);
	CD_U64(o, "errors", c->errors);
	CD_U64(o, "on_error", c->on_error);
	CD_U64(o, "queue_full", c->queue_full);
	CD_U64(o, "self_allowed", c->self_allowed);
	CD_U64(o, "cache_hits", c->cache_hits);
	CD_U64(o, "cache_misses", c->cache_misses);
	CD_U64(o, "ignore_marks", c->ignore_marks);
	CD_U64(o, "queue_depth", c->queue_depth);
	CD_U64(o, "max_queue_depth", c->max_queue_depth);
	CD_U64(o, "log_dropped", c->log_dropped);
	CD_U64(o, "marks", c->marks);
	CD_U64(o, "mounts_marked_later", c->mounts_marked_later);
	CD_U64(o, "mountinfo_unparsed", c->mountinfo_unparsed);
	CD_U64(o, "audit_records", c->audit_records);
	CD_U64(o, "audit_failed", c->audit_failed);
	CD_U64(o, "maint_windows", c->maint_windows);
	CD_U64(o, "update_sessions", c->update_sessions);
	CD_U64(o, "known_bad", c->known_bad);
}

/* Each line "what\tpath\tstate" of s->protected_files to fn. */
static void cd_protected_each(const struct hmc_status *s,
                              void (*fn)(const char *what, const char *path, const char *how,
                                         void *arg),
                              void *arg)
{
	char buf[sizeof(s->protected_files)], *line, *save = NULL, *path, *how;

	memcpy(buf, s->protected_files, sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		path = strchr(line, '\t');
		how = path ? strchr(path + 1, '\t') : NULL;
		if (!how)
			continue;
		*path++ = '\0';
		*how++ = '\0';
		fn(line, path, how, arg);
	}
}

static void cd_protected_json(const char *what, const char *path, const char *how, void *arg)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "what", json_object_new_string(what));
	json_object_object_add(f, "path", json_object_new_string(path));
	json_object_object_add(f, "state", json_object_new_string(how));
	json_object_array_add(arg, f);
}

static void cd_protected_text(const char *what, const char *path, const char *how, void *arg)
{
	bool *first = arg;

	printf("%s%-20s %s (%s)\n", *first ? "protected:  " : "            ", what, path, how);
	*first = false;
}

static void cd_status_json(const struct hmc_status *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mode", json_object_new_string(hmc_mode_name(s->mode)));
	json_object_object_add(o, "ready", json_object_new_boolean(s->ready != 0));
	json_object_object_add(o, "pid", json_object_new_int(s->pid));
	CD_U64(o, "uptime_s", s->uptime_s);
	cd_json_str(o, "list_path", s->list_path);
	CD_U64(o, "list_generation", s->list_generation);
	CD_U64(o, "list_entries", s->list_entries);
	{
		static const uint8_t none[sizeof(s->list_sha256)];
		char hex[WL_HEX_LEN] = "";

		if (memcmp(s->list_sha256, none, sizeof(none)))
			wl_hex(s->list_sha256, hex);
		json_object_object_add(o, "list_sha256", json_object_new_string(hex));
	}
	json_object_object_add(o, "list_prescanned",
	                       json_object_new_boolean((s->list_flags & WL_DB_F_PRESCANNED) &&
	                                               !(s->list_flags & WL_DB_F_NO_PRESCAN)));
	json_object_object_add(o, "list_no_prescan",
	                       json_object_new_boolean(s->list_flags & WL_DB_F_NO_PRESCAN));
	json_object_object_add(o, "list_provenance",
	                       json_object_new_string(wl_db_flags_provenance(s->list_flags)));
	json_object_object_add(o, "match", json_object_new_string(s->match ? "hash" : "path+hash"));
	json_object_object_add(o, "on_error_policy",
	                       json_object_new_string(s->on_error ? "allow" : "deny"));
	cd_status_counters(o, s);
	CD_U64(o, "cache_entries", s->cache_entries);
	CD_U64(o, "cache_capacity", s->cache_capacity);
	json_object_object_add(o, "cache_hit_rate", json_object_new_double(cd_hit_rate(s)));
	json_object_object_add(o, "workers", json_object_new_int((int)s->workers));
	CD_U64(o, "decisions_timed", s->decisions_timed);
	CD_U64(o, "decision_p50_us", s->decision_p50_ns / 1000);
	CD_U64(o, "decision_p99_us", s->decision_p99_ns / 1000);
	json_object_object_add(o, "sandbox", json_object_new_string(s->sandbox));
	json_object_object_add(o, "helper", json_object_new_string(s->helper));
	json_object_object_add(o, "helper_gaps", json_object_new_string(s->gaps));
	json_object_object_add(o, "audit", json_object_new_string(s->audit));
	json_object_object_add(o, "audit_ok", json_object_new_boolean(s->audit_ok != 0));
	json_object_object_add(o, "metrics", json_object_new_string(s->metrics));
	json_object_object_add(o, "events_socket", json_object_new_string(s->events_socket));
	json_object *pf = json_object_new_array();
	cd_protected_each(s, cd_protected_json, pf);
	json_object_object_add(o, "protected", pf);
	printf("%s\n", json_object_to_json_string_ext(o, LIST_JSON_FLAGS));
	json_object_put(o);
}

/* "fanotify: exec 3; helper: mmap 5, script 2" or "none". */
static void cd_refused_text(const struct hmc_status *s, bool deny)
{
	uint64_t fan = deny ? s->c.denied : s->c.would_deny, all = hmc_status_refused(s, deny), n;
	const char *sep = ": ";

	if (!all) {
		printf("none\n");
		return;
	}
	if (fan)
		printf("fanotify: exec %llu%s", (unsigned long long)fan, fan == all ? "" : "; ");
	if (fan != all)
		printf("helper");
	for (uint32_t op = 0; op < HMC_OP__MAX; op++) {
		n = deny ? s->h.denied[op] : s->h.would_deny[op];
		if (!n)
			continue;
		printf("%s%s %llu", sep, hmc_op_name(op), (unsigned long long)n);
		sep = ", ";
	}
	printf("\n");
}

static void cd_status_text(const struct hmc_status *s)
{
	const struct hmc_counters *c = &s->c;
	uint64_t up = s->uptime_s;

	printf("hmilockd:   pid %d, up %llud %02lluh %02llum %02llus\n", s->pid,
	       (unsigned long long)(up / 86400), (unsigned long long)(up / 3600 % 24),
	       (unsigned long long)(up / 60 % 60), (unsigned long long)(up % 60));
	printf("mode:       %s%s\n", hmc_mode_name(s->mode),
	       s->ready ? "" : " (NOT READY: marks not placed yet)");
	printf("list:       ");
	util_print_path(stdout, s->list_path);
	printf(", generation %llu, %llu entries; match %s, on_error %s\n",
	       (unsigned long long)s->list_generation, (unsigned long long)s->list_entries,
	       s->match ? "hash" : "path+hash", s->on_error ? "allow" : "deny");
	printf("provenance: %s\n", wl_db_flags_provenance(s->list_flags));
	if (c->known_bad)
		printf("known-bad:  %llu files named by a prescan since start (hmilock events)\n",
		       (unsigned long long)c->known_bad);
	printf("decisions:  %llu allowed, %llu denied, %llu would-deny, %llu errors, "
	       "%llu answered by on_error (%llu queue full), %llu own\n",
	       (unsigned long long)c->allowed, (unsigned long long)hmc_status_refused(s, true),
	       (unsigned long long)hmc_status_refused(s, false), (unsigned long long)c->errors,
	       (unsigned long long)c->on_error, (unsigned long long)c->queue_full,
	       (unsigned long long)c->self_allowed);
	printf("denied by:  ");
	cd_refused_text(s, true);
	if (hmc_status_refused(s, false)) {
		printf("would-deny: ");
		cd_refused_text(s, false);
	}
	printf("cache:      %llu of %llu entries, hit rate %.1f %%, %llu ignore marks placed\n",
	       (unsigned long long)s->cache_entries, (unsigned long long)s->cache_capacity,
	       100.0 * cd_hit_rate(s), (unsigned long long)c->ignore_marks);
	printf("work queue: depth %llu, max %llu; %u workers; decision p50 %llu us, p99 %llu us\n",
	       (unsigned long long)c->queue_depth, (unsigned long long)c->max_queue_depth,
	       s->workers, (unsigned long long)(s->decision_p50_ns / 1000),
	       (unsigned long long)(s->decision_p99_ns / 1000));
	printf("marks:      %llu (%llu mounts marked after start)", (unsigned long long)c->marks,
	       (unsigned long long)c->mounts_marked_later);
	if (c->mountinfo_unparsed)
		printf("; %llu mountinfo lines NOT understood (not marked)",
		       (unsigned long long)c->mountinfo_unparsed);
	printf("\n");
	printf("audit:      %s; %llu records, %llu failed; %llu log lines dropped\n", s->audit,
	       (unsigned long long)c->audit_records, (unsigned long long)c->audit_failed,
	       (unsigned long long)c->log_dropped);
	printf("sandbox:    %s\n", s->sandbox);
	printf("metrics:    %s\n", s->metrics);
	printf("events:     %s\n", s->events_socket);
	printf("helper:     %s", s->helper);
	if (s->h.events_lost || s->h.unchecked)
		printf("; %llu events lost (ring buffer full), %llu interpreter checks incomplete",
		       (unsigned long long)s->h.events_lost, (unsigned long long)s->h.unchecked);
	printf("\n");
	if (s->gaps[0])
		printf("open gaps:  %s\n", s->gaps);
	bool first = true;
	cd_protected_each(s, cd_protected_text, &first);
}

int cmd_status(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "hmilock [--socket PATH] status [--json]";
	bool json;
	int rc = cd_begin(cli, argc, argv, usage, &json, NULL);

	if (rc >= 0)
		return rc;
	rc = ctlc_request(HMC_REQ_STATUS, HMC_REP_STATUS, json);
	if (rc == EXIT_OK) {
		if (json)
			cd_status_json(&ctlc_rep()->u.status);
		else
			cd_status_text(&ctlc_rep()->u.status);
	}
	ctlc_close();
	return rc;
}

/* ---- mode, reload -------------------------------------------------------- */

static int cd_mode_show(bool json)
{
	int rc = ctlc_request(HMC_REQ_STATUS, HMC_REP_STATUS, json);
	json_object *o;

	if (rc)
		return rc;
	if (!json) {
		printf("%s\n", hmc_mode_name(ctlc_rep()->u.status.mode));
		return EXIT_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "mode",
	                       json_object_new_string(hmc_mode_name(ctlc_rep()->u.status.mode)));
	printf("%s\n", json_object_to_json_string_ext(o, LIST_JSON_FLAGS));
	json_object_put(o);
	return EXIT_OK;
}

/* mode's options: --json, --password-file FILE, --help. */
static int cd_mode_opts(int argc, char **argv, const char *usage, bool *json, const char **pwfile,
                        int *rc)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*json = false;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		if (c == 'j') {
			*json = true;
		} else if (c == 'p') {
			*pwfile = optarg;
		} else {
			*rc = c == 'h' ? util_help(usage) : util_usage(usage, NULL);
			return -1;
		}
	}
	return optind;
}

/* SET_MODE with the admin password: the one given (--password-file,
 * HMILOCK_PASSWORD) or, when the daemon answers that one is needed, the
 * one asked for (terminal, echo off; else a line of standard input). */
static int cd_mode_set(uint32_t mode, bool json)
{
	struct hmc_set_mode *sm = &ctlc_req()->u.set_mode;
	int rc;

	memset(sm, 0, sizeof(*sm));
	sm->mode = mode;
	rc = ctlc_call_auth(HMC_REQ_SET_MODE, &sm->auth);
	if (rc == EXIT_OK)
		rc = ctlc_expect(HMC_REP_RESULT, json);
	if (rc == EXIT_OK)
		rc = ctlc_print_result(json, "mode", hmc_mode_name(mode));
	return rc;
}

int cmd_mode(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "hmilock [--socket PATH] mode [enforce|audit] [--json] [--password-file FILE]";
	const char *pwfile = NULL;
	uint32_t mode = HMC_MODE_ENFORCE;
	bool json;
	int first, rc = EXIT_OK;

	first = cd_mode_opts(argc, argv, usage, &json, &pwfile, &rc);
	if (first < 0)
		return rc;
	if (first + 1 < argc)
		return util_usage(usage, "mode: one mode at most, got '%s' and '%s'", argv[first],
		                  argv[first + 1]);
	if (first < argc) {
		if (strcmp(argv[first], "enforce") == 0)
			mode = HMC_MODE_ENFORCE;
		else if (strcmp(argv[first], "audit") == 0)
			mode = HMC_MODE_AUDIT;
		else
			return util_usage(usage, "mode: '%s' is not a mode (want enforce or audit)",
			                  argv[first]);
	}
	ctlc_password_file(pwfile);
	rc = ctlc_connect(cli, CD_TIMEOUT_S);
	if (rc)
		return rc;
	if (first >= argc)
		rc = cd_mode_show(json);
	else
		rc = cd_mode_set(mode, json);
	ctlc_close();
	return rc;
}

int cmd_reload(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "hmilock [--socket PATH] reload [--json]";
	bool json;
	int rc = cd_begin(cli, argc, argv, usage, &json, NULL);

	if (rc >= 0)
		return rc;
	rc = ctlc_request(HMC_REQ_RELOAD, HMC_REP_RESULT, json);
	if (rc == EXIT_OK)
		rc = ctlc_print_result(json, NULL, NULL);
	ctlc_close();
	return rc;
}

/* The sanctioned stop of a locked box: hmilockd checks the admin password,
 * answers and exits with HMD_EXIT_STOPPED (4), which the unit neither
 * restarts nor counts as a failure; the kernel helper goes on enforcing. */
int cmd_stop(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "hmilock [--socket PATH] stop [--json] [--password-file FILE]";
	struct hmd_ctl_auth *a = &ctlc_req()->u.stop;
	const char *pwfile = NULL;
	bool json;
	int first, rc = EXIT_OK;

	first = cd_mode_opts(argc, argv, usage, &json, &pwfile, &rc);
	if (first < 0)
		return rc;
	if (first < argc)
		return util_usage(usage, "stop: unexpected argument '%s'", argv[first]);
	ctlc_password_file(pwfile);
	rc = ctlc_connect(cli, CD_TIMEOUT_S);
	if (rc)
		return rc;
	memset(a, 0, sizeof(*a));
	rc = ctlc_call_auth(HMC_REQ_STOP, a);
	if (rc == EXIT_OK)
		rc = ctlc_expect(HMC_REP_RESULT, json);
	if (rc == EXIT_OK)
		rc = ctlc_print_result(json, NULL, NULL);
	ctlc_close();
	return rc;
}

/* ---- events -------------------------------------------------------------- */

static void cd_time(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char zone[8];

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03llu%s",
	         (unsigned long long)(ns / 1000000ull % 1000), zone);
}

static void cd_event_text(const struct hmc_event *e)
{
	char when[64], hex[WL_HEX_LEN];

	cd_time(e->time_ns, when, sizeof(when));
	printf("%s %s %s %s pid=%d ", when, hmc_verdict_name(e->verdict),
	       hmc_reason_name(e->reason), e->op[0] ? e->op : "exec", e->pid);
	if (e->has_uid)
		printf("uid=%u ", e->uid);
	printf("exe=");
	util_print_path(stdout, e->exe[0] ? e->exe : "?");
	printf(" path=");
	util_print_path(stdout, e->path);
	if (e->has_hash) {
		wl_hex(e->sha256, hex);
		printf(" sha256=%s", hex);
	}
	printf("\n");
}

static json_object *cd_event_json(const struct hmc_event *e)
{
	json_object *o = json_object_new_object();
	char when[64], hex[WL_HEX_LEN];

	cd_time(e->time_ns, when, sizeof(when));
	CD_U64(o, "id", e->id);
	json_object_object_add(o, "time", json_object_new_string(when));
	CD_U64(o, "time_ns", e->time_ns);
	json_object_object_add(o, "verdict", json_object_new_string(hmc_verdict_name(e->verdict)));
	json_object_object_add(o, "reason", json_object_new_string(hmc_reason_name(e->reason)));
	json_object_object_add(o, "op", json_object_new_string(e->op[0] ? e->op : "exec"));
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "uid", e->has_uid ? json_object_new_uint64(e->uid) : NULL);
	cd_json_str(o, "exe", e->exe);
	cd_json_str(o, "path", e->path);
	if (e->has_hash) {
		wl_hex(e->sha256, hex);
		json_object_object_add(o, "sha256", json_object_new_string(hex));
	} else {
		json_object_object_add(o, "sha256", NULL);
	}
	return o;
}

/* Page through the newest n events (struct hmc_events_req). */
static int cd_events_fetch(unsigned n, json_object *arr)
{
	struct hmc_events_req *q = &ctlc_req()->u.events_req;
	uint64_t after = 0, until = 0, want = n;
	const struct hmc_events *r;
	uint32_t i;
	int rc;

	for (;;) {
		memset(q, 0, sizeof(*q));
		q->after_id = after;
		q->until_id = until;
		q->max = (uint32_t)want;
		rc = ctlc_request(HMC_REQ_EVENTS, HMC_REP_EVENTS, arr != NULL);
		if (rc)
			return rc;
		r = &ctlc_rep()->u.events;
		for (i = 0; i < r->n; i++) {
			if (arr)
				json_object_array_add(arr, cd_event_json(&r->ev[i]));
			else
				cd_event_text(&r->ev[i]);
			after = r->ev[i].id;
		}
		until = r->until_id;
		if (r->n == 0 || r->remaining == 0 || r->remaining >= want)
			return EXIT_OK;
		want = r->remaining;
	}
}

/* ---- events --follow ------------------------------------------------------ */

static volatile sig_atomic_t cd_stop;

static void cd_on_signal(int sig)
{
	(void)sig;
	cd_stop = 1;
}

/* Notices go in the stream with --json (one object per line, "notice"
 * naming what happened), else to stderr: stdout stays one line per event. */
static void cd_notice(bool json, json_object *o, const char *text)
{
	if (json)
		printf("%s\n", json_object_to_json_string_ext(o, LIST_JSON_FLAGS));
	else
		util_err("%s", text);
	json_object_put(o);
}

static json_object *cd_notice_new(const char *what)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "notice", json_object_new_string(what));
	return o;
}

static void cd_follow_event(void *arg, const struct hmc_event *e)
{
	json_object *o;

	if (!*(bool *)arg) {
		cd_event_text(e);
		return;
	}
	o = cd_event_json(e);
	printf("%s\n", json_object_to_json_string_ext(o, LIST_JSON_FLAGS));
	json_object_put(o);
}

static void cd_follow_lost(void *arg, uint64_t n)
{
	json_object *o = cd_notice_new("lost");
	char text[128];

	json_object_object_add(o, "events", json_object_new_uint64(n));
	snprintf(text, sizeof(text),
	         "%llu events lost: more came between two polls than hmilockd keeps",
	         (unsigned long long)n);
	cd_notice(*(bool *)arg, o, text);
}

static void cd_follow_down(void *arg, const char *why)
{
	json_object *o = cd_notice_new("down");
	char text[700];

	json_object_object_add(o, "message", json_object_new_string(why));
	snprintf(text, sizeof(text), "%s; trying again", why);
	cd_notice(*(bool *)arg, o, text);
}

static void cd_follow_up(void *arg, int32_t pid, bool restarted)
{
	json_object *o = cd_notice_new(restarted ? "restarted" : "up");
	char text[128];

	json_object_object_add(o, "pid", json_object_new_int(pid));
	snprintf(text, sizeof(text), "following hmilockd (pid %d)%s", pid,
	         restarted ? ": it was restarted, its events start again" : "");
	cd_notice(*(bool *)arg, o, text);
}

static int cd_follow_flush(void *arg)
{
	(void)arg;
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

static int cd_follow(const struct cli *cli, bool json, unsigned backlog)
{
	static const struct follow_ops ops = {
	    .event = cd_follow_event,
	    .lost = cd_follow_lost,
	    .down = cd_follow_down,
	    .up = cd_follow_up,
	    .flush = cd_follow_flush,
	};
	struct sigaction sa = {.sa_handler = cd_on_signal};

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return follow_run(cli, &ops, &json, &cd_stop, backlog);
}

int cmd_events(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "hmilock [--socket PATH] events [--json] [-n N] [--follow]";
	json_object *arr = NULL;
	bool json, follow = false;
	unsigned n = 0;
	int first, rc = EXIT_INTERNAL;

	first = cd_opts(argc, argv, usage, &json, &n, &follow, &rc);
	if (first < 0)
		return rc;
	if (first < argc)
		return util_usage(usage, "%s: unexpected argument '%s'", argv[0], argv[first]);
	if (follow)
		return cd_follow(cli, json, n); /* -n: the backlog, none by default */
	rc = ctlc_connect(cli, CD_TIMEOUT_S);
	if (rc)
		return rc;
	if (json)
		arr = json_object_new_array();
	rc = cd_events_fetch(n ? n : 20, arr);
	if (rc == EXIT_OK && arr)
		printf("%s\n", json_object_to_json_string_ext(arr, LIST_JSON_FLAGS));
	json_object_put(arr);
	ctlc_close();
	return rc;
}
