/* cmd_maint.c - `hmilock maintenance begin|status|end` and `hmilock update`,
 * over the control socket (include/hmilock_ctl.h), one connection at a
 * time through ctlc.c. For `update` owns the child running CMD and this
 * process's moves between cgroups.
 * Exit codes: 0 ok, 1 the daemon refused (or CMD failed: its status is
 * passed on), 2 usage, 3 cannot talk to the daemon or a malformed reply. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hmilock.h"
#include "hmilock_ctl.h"

#define MC_TIMEOUT_S 600 /* an end hashes every recorded file */

/* ---- options ------------------------------------------------------------- */

struct mc_opts {
	bool json, review, discard, keep, begin, commit, failed;
	bool no_prescan; /* approve without the [prescan] */
	uint32_t timeout_s;
	pid_t pid;
};

enum { MO_JSON = 1, MO_TIMEOUT = 2, MO_REVIEW = 4, MO_PW = 8, MO_UPDATE = 16, MO_APPROVE = 32 };

static int mc_getopt(int argc, char **argv, unsigned mask, const char *usage, struct mc_opts *o,
                     int *rc)
{
	static const struct option all[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'},
	    {"review", no_argument, NULL, 'r'},
	    {"discard", no_argument, NULL, 'D'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"keep-on-failure", no_argument, NULL, 'k'},
	    {"begin", no_argument, NULL, 'b'},
	    {"commit", no_argument, NULL, 'c'},
	    {"failed", no_argument, NULL, 'f'},
	    {"pid", required_argument, NULL, 'P'},
	    {"no-prescan", no_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const unsigned need[] = {
	    ['j'] = MO_JSON,   ['t'] = MO_TIMEOUT, ['r'] = MO_REVIEW,  ['D'] = MO_REVIEW,
	    ['p'] = MO_PW,     ['k'] = MO_UPDATE,  ['b'] = MO_UPDATE,  ['c'] = MO_UPDATE,
	    ['f'] = MO_UPDATE, ['P'] = MO_UPDATE,  ['N'] = MO_APPROVE, ['h'] = 0};
	char *end;
	long v;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", all, NULL)) != -1) {
		if (c == '?' || c == ':' || (c != 'h' && !(need[c] & mask)))
			goto usage;
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'r':
			o->review = true;
			break;
		case 'D':
			o->discard = true;
			break;
		case 'p':
			ctlc_password_file(optarg);
			break;
		case 'k':
			o->keep = true;
			break;
		case 'b':
			o->begin = true;
			break;
		case 'c':
			o->commit = true;
			break;
		case 'f':
			o->failed = true;
			break;
		case 'N':
			o->no_prescan = true;
			break;
		case 't':
			if (hmc_duration_parse(optarg, &o->timeout_s) == 0)
				break;
			*rc = util_usage(
			    usage,
			    "--timeout '%s': want a duration from 1s to 7d, like 90s, 30m or 2h",
			    optarg);
			return -1;
		case 'P':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (!errno && !*end && v > 0 && v < (1L << 22)) {
				o->pid = (pid_t)v;
				break;
			}
			*rc = util_usage(usage, "--pid '%s': not a process id", optarg);
			return -1;
		case 'h':
			*rc = util_help(usage);
			return -1;
		}
	}
	return optind;
usage:
	*rc = util_usage(usage, NULL);
	return -1;
}

/* ---- maintenance begin / status ------------------------------------------ */

static int mc_begin(const struct cli *cli, const struct mc_opts *o)
{
	struct hmc_maint_begin *q = &ctlc_req()->u.maint_begin;
	int rc = ctlc_connect(cli, MC_TIMEOUT_S);

	if (rc)
		return rc;
	memset(q, 0, sizeof(*q));
	q->timeout_s = o->timeout_s;
	rc = ctlc_call_auth(HMC_REQ_MAINT_BEGIN, &q->auth);
	if (rc == EXIT_OK)
		rc = ctlc_expect(HMC_REP_RESULT, o->json);
	if (rc == EXIT_OK)
		rc = ctlc_print_result(o->json, NULL, NULL);
	ctlc_close();
	return rc;
}

static void mc_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !localtime_r(&tt, &tm))
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm);
}

/* " (written by uid N: not approved unless you accept it in `end
 * --review`)" and the like for a held entry, "" for the others. */
static const char *mc_held_note(const struct hmc_plan_entry *e, char *buf, size_t len)
{
	if (e->kind != HMC_PK_HELD)
		return "";
	if (e->uid == HMC_UID_NONE)
		snprintf(buf, len,
		         "  (writer unknown: not approved unless accepted in "
		         "`maintenance end --review`)");
	else
		snprintf(buf, len,
		         "  (written by uid %u: not approved unless accepted in "
		         "`maintenance end --review`)",
		         e->uid);
	return buf;
}

/* Every plan entry (the daemon hashes the recorded files) into arr, or
 * printed as text when arr is NULL; kinds[] counts them. */
static int mc_plan(json_object *arr, uint32_t *kinds, struct hmc_plan_entry **all, size_t *n_all)
{
	uint32_t off = 0, i, total;
	const struct hmc_maint_plan *p = &ctlc_rep()->u.maint_plan;
	struct hmc_maint_plan_req *q = &ctlc_req()->u.maint_plan_req;
	int rc;

	do {
		memset(q, 0, sizeof(*q));
		q->offset = off;
		rc = ctlc_call(HMC_REQ_MAINT_PLAN);
		if (!rc)
			rc = ctlc_expect(HMC_REP_MAINT_PLAN, arr != NULL);
		if (rc)
			return rc;
		total = p->total;
		for (i = 0; i < p->n; i++) {
			const struct hmc_plan_entry *e = &p->e[i];

			kinds[e->kind]++;
			if (all) {
				struct hmc_plan_entry *t = realloc(*all, (*n_all + 1) * sizeof(*t));

				if (!t)
					return util_err("out of memory"), EXIT_INTERNAL;
				*all = t;
				t[(*n_all)++] = *e;
			} else if (arr) {
				json_object *o = json_object_new_object();

				json_object_object_add(
				    o, "action",
				    json_object_new_string(hmc_plan_kind_name(e->kind)));
				list_json_path(o, "path", e->path);
				json_object_object_add(
				    o, "writer",
				    e->uid == HMC_UID_NONE ? NULL : json_object_new_uint64(e->uid));
				json_object_array_add(arr, o);
			} else {
				char note[128];

				printf("  %-7s ", hmc_plan_kind_name(e->kind));
				util_print_path(stdout, e->path);
				printf("%s\n", mc_held_note(e, note, sizeof(note)));
			}
		}
		off += p->n;
	} while (p->n && off < total);
	return EXIT_OK;
}

/* The mounts whose changes the daemon does not record (left out when the
 * window began): named, so nobody installs there and wonders. */
static void mc_unrecorded_text(const struct hmc_maint_status *s)
{
	uint32_t i;

	if (!s->n_unrecorded)
		return;
	printf("not recorded (%u mount%s, nothing there is approved):\n", s->n_unrecorded,
	       s->n_unrecorded == 1 ? "" : "s");
	for (i = 0; i < s->n_unrecorded && i < HMC_UNRECORDED_MAX; i++) {
		printf("  ");
		util_print_path(stdout, s->unrecorded[i].mount);
		printf(" (%s: %s)\n", s->unrecorded[i].fstype, s->unrecorded[i].why);
	}
	if (s->n_unrecorded > HMC_UNRECORDED_MAX)
		printf("  ... and %u more\n", s->n_unrecorded - HMC_UNRECORDED_MAX);
}

static void mc_status_text(const struct hmc_maint_status *s)
{
	char a[64], b[64];

	mc_time(s->start, a, sizeof(a));
	mc_time(s->deadline, b, sizeof(b));
	printf("maintenance: %s", hmc_maint_state_name(s->state));
	if (s->state == HMC_MS_OPEN)
		printf(" since %s, re-locks by itself at %s", a, b);
	else if (s->state == HMC_MS_UPDATE || s->state == HMC_MS_PENDING)
		printf(" (began %s)", a);
	printf("\nmode outside the window: %s\n", hmc_mode_name(s->prev_mode));
	if (s->state != HMC_MS_NONE)
		printf("list generation at begin: %llu\nrecorded: %llu changed paths (%llu by "
		       "writers outside the update cgroup ignored, %llu unattributed)\njournal: ",
		       (unsigned long long)s->generation, (unsigned long long)s->records,
		       (unsigned long long)s->ignored, (unsigned long long)s->unattributed);
	if (s->state != HMC_MS_NONE) {
		util_print_path(stdout, s->journal);
		printf("\n");
	}
	if (s->state == HMC_MS_PENDING)
		printf("WAITING FOR REVIEW: hmilockd stopped during the window; nothing was "
		       "approved. Run `hmilock maintenance end --review`.\n");
	if (s->last[0])
		printf("last window: %s\n", s->last);
	mc_unrecorded_text(s);
}

static json_object *mc_status_json(const struct hmc_maint_status *s)
{
	json_object *o = json_object_new_object(), *arr, *u;
	uint32_t i;

	json_object_object_add(o, "state", json_object_new_string(hmc_maint_state_name(s->state)));
	json_object_object_add(o, "mode_outside",
	                       json_object_new_string(hmc_mode_name(s->prev_mode)));
	json_object_object_add(o, "start", json_object_new_uint64(s->start));
	json_object_object_add(o, "deadline", json_object_new_uint64(s->deadline));
	json_object_object_add(o, "generation", json_object_new_uint64(s->generation));
	json_object_object_add(o, "records", json_object_new_uint64(s->records));
	json_object_object_add(o, "ignored", json_object_new_uint64(s->ignored));
	json_object_object_add(o, "unattributed", json_object_new_uint64(s->unattributed));
	list_json_path(o, "journal", s->journal);
	json_object_object_add(o, "last", json_object_new_string(s->last));
	json_object_object_add(o, "unrecorded_total", json_object_new_uint64(s->n_unrecorded));
	arr = json_object_new_array();
	for (i = 0; i < s->n_unrecorded && i < HMC_UNRECORDED_MAX; i++) {
		u = json_object_new_object();
		list_json_path(u, "mount", s->unrecorded[i].mount);
		json_object_object_add(u, "fstype",
		                       json_object_new_string(s->unrecorded[i].fstype));
		json_object_object_add(u, "why", json_object_new_string(s->unrecorded[i].why));
		json_object_array_add(arr, u);
	}
	json_object_object_add(o, "unrecorded", arr);
	return o;
}

static int mc_status(const struct cli *cli, const struct mc_opts *o)
{
	struct hmc_maint_status s;
	uint32_t kinds[HMC_PK__MAX] = {0};
	json_object *j = NULL, *arr = NULL;
	int rc = ctlc_connect(cli, MC_TIMEOUT_S);

	if (rc)
		return rc;
	rc = ctlc_call(HMC_REQ_MAINT_STATUS);
	if (!rc)
		rc = ctlc_expect(HMC_REP_MAINT_STATUS, o->json);
	if (rc)
		goto close;
	s = ctlc_rep()->u.maint_status;
	if (o->json) {
		j = mc_status_json(&s);
		arr = json_object_new_array();
	} else {
		mc_status_text(&s);
	}
	if (s.state != HMC_MS_NONE && s.records && !o->json)
		printf("changes (what `end` would do):\n");
	if (s.state != HMC_MS_NONE && s.records)
		rc = mc_plan(arr, kinds, NULL, NULL);
	if (j) {
		json_object_object_add(j, "changes", arr);
		printf("%s\n", json_object_to_json_string_ext(j, LIST_JSON_FLAGS));
		json_object_put(j);
	}
close:
	ctlc_close();
	return rc;
}

/* ---- maintenance end ------------------------------------------------------ */

/* The result of a commit (maintenance end, update): EXIT_NEGATIVE when
 * the prescan left files unapproved, which the message names. */
static int mc_print_commit(bool json)
{
	bool bad = ctlc_rep()->u.result.flags & HMC_RESULT_KNOWN_BAD;
	int rc = ctlc_print_result(json, bad ? "refused" : NULL, bad ? "known-bad" : NULL);

	if (rc == EXIT_OK && bad && !json)
		util_err("not every change was approved: the prescan named files known-bad (see "
		         "above and hmilockd's log); they cannot run");
	return rc == EXIT_OK && bad ? EXIT_NEGATIVE : rc;
}

/* Ask about one entry: true keep (a held one: accept), false drop (a
 * held one: leave it unapproved); -1 at end of input. */
static int mc_ask(FILE *in, bool tty, const struct hmc_plan_entry *e)
{
	char line[64], note[128];

	for (;;) {
		if (tty) {
			fprintf(stderr, "%-7s ", hmc_plan_kind_name(e->kind));
			util_print_path(stderr, e->path);
			fprintf(stderr, "%s  accept? [y/n] ", mc_held_note(e, note, sizeof(note)));
		}
		if (!fgets(line, sizeof(line), in))
			return -1;
		line[strcspn(line, "\r\n")] = '\0';
		if (!strcmp(line, "y") || !strcmp(line, "yes") || !strcmp(line, "accept"))
			return 1;
		if (!strcmp(line, "n") || !strcmp(line, "no") || !strcmp(line, "drop"))
			return 0;
		util_err("answer y (accept) or n (drop), not '%s'", line);
		if (!tty)
			return -1;
	}
}

/* Review: ask per entry that would change the list (held ones included);
 * send the drops, and the held entries accepted (HMC_END_ACCEPT), with
 * HMC_END_MORE, one at a time. */
static int mc_review(void)
{
	struct hmc_maint_end *q = &ctlc_req()->u.maint_end;
	uint32_t kinds[HMC_PK__MAX] = {0};
	struct hmc_plan_entry *all = NULL;
	size_t n = 0, i, nd = 0, na = 0;
	FILE *in = stdin;
	bool tty = isatty(STDIN_FILENO);
	int rc = mc_plan(NULL, kinds, &all, &n), a;

	for (i = 0; rc == EXIT_OK && i < n; i++) {
		if (all[i].kind == HMC_PK_SAME || all[i].kind == HMC_PK_SKIP)
			continue;
		a = mc_ask(in, tty, &all[i]);
		if (a < 0) {
			util_err("review not finished (end of input): nothing was changed, the "
			         "window stays as it is");
			rc = EXIT_NEGATIVE;
			break;
		}
		if (a == (all[i].kind == HMC_PK_HELD ? 0 : 1))
			continue; /* kept, or held and left held */
		memset(q, 0, sizeof(*q));
		q->flags = HMC_END_MORE | (a ? HMC_END_ACCEPT : 0);
		q->n_drop = 1;
		snprintf(q->drop[0], HMC_PATH_LEN, "%s", all[i].path);
		rc = ctlc_call_auth(HMC_REQ_MAINT_END, &q->auth);
		if (!rc)
			rc = ctlc_expect(HMC_REP_RESULT, false);
		a ? na++ : nd++;
	}
	free(all);
	if (rc == EXIT_OK)
		fprintf(stderr,
		        "%zu entries dropped, %zu written by other users accepted by review\n", nd,
		        na);
	return rc;
}

static int mc_end(const struct cli *cli, const struct mc_opts *o)
{
	struct hmc_maint_end *q = &ctlc_req()->u.maint_end;
	int rc = ctlc_connect(cli, MC_TIMEOUT_S);

	if (rc)
		return rc;
	if (o->review && !o->discard)
		rc = mc_review();
	if (rc == EXIT_OK) {
		memset(q, 0, sizeof(*q));
		q->flags =
		    (o->discard ? HMC_END_DISCARD : 0) | (o->no_prescan ? HMC_END_NO_PRESCAN : 0);
		rc = ctlc_call_auth(HMC_REQ_MAINT_END, &q->auth);
		if (!rc)
			rc = ctlc_expect(HMC_REP_RESULT, o->json);
		if (!rc)
			rc = mc_print_commit(o->json);
	}
	ctlc_close();
	return rc;
}

int cmd_maintenance(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "hmilock maintenance begin [--timeout DURATION] [--password-file FILE] [--json]\n"
	    "       hmilock maintenance status [--json]\n"
	    "       hmilock maintenance end [--review | --discard] [--no-prescan] [--password-file "
	    "FILE] [--json]";
	struct mc_opts o = {0};
	const char *sub;
	int first, rc;

	if (argc < 2)
		return util_usage(usage, "maintenance: no subcommand given (begin, status or end)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return util_help(usage);
	sub = argv[1];
	if (!strcmp(sub, "begin"))
		first = mc_getopt(argc - 1, argv + 1, MO_JSON | MO_TIMEOUT | MO_PW, usage, &o, &rc);
	else if (!strcmp(sub, "status"))
		first = mc_getopt(argc - 1, argv + 1, MO_JSON, usage, &o, &rc);
	else if (!strcmp(sub, "end"))
		first = mc_getopt(argc - 1, argv + 1, MO_JSON | MO_REVIEW | MO_PW | MO_APPROVE,
		                  usage, &o, &rc);
	else
		return util_usage(
		    usage, "maintenance: unknown subcommand '%s' (begin, status or end)", sub);
	if (first < 0)
		return rc;
	if (first < argc - 1)
		return util_usage(usage, "maintenance %s: unexpected argument '%s'", sub,
		                  argv[first + 1]);
	if (o.review && o.discard)
		return util_usage(usage,
		                  "maintenance end: --review and --discard exclude each other");
	if (!strcmp(sub, "begin"))
		return mc_begin(cli, &o);
	if (!strcmp(sub, "status"))
		return mc_status(cli, &o);
	return mc_end(cli, &o);
}

/* ---- update ------------------------------------------------------------ */

/* Write pid into dir/cgroup.procs: move it into that cgroup. */
static int mc_cgroup_join(const char *dir, pid_t pid)
{
	char path[HMC_PATH_LEN + 16], buf[32];
	int fd, n, rc = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(fd, buf, (size_t)n) != n)
		rc = -errno;
	close(fd);
	return rc;
}

static int mc_update_begin(const struct cli *cli, pid_t pid, struct hmc_update *u)
{
	struct hmc_update_begin *q = &ctlc_req()->u.update_begin;
	int rc = ctlc_connect(cli, MC_TIMEOUT_S);

	if (rc)
		return rc;
	memset(q, 0, sizeof(*q));
	q->pid = (int32_t)pid;
	rc = ctlc_call_auth(HMC_REQ_UPDATE_BEGIN, &q->auth);
	if (!rc)
		rc = ctlc_expect(HMC_REP_UPDATE, false);
	if (!rc)
		*u = ctlc_rep()->u.update;
	ctlc_close();
	return rc;
}

static int mc_update_commit(const struct cli *cli, uint64_t session, bool ok,
                            const struct mc_opts *o)
{
	int rc = ctlc_connect(cli, MC_TIMEOUT_S);

	if (rc)
		return rc;
	ctlc_req()->u.update_commit = (struct hmc_update_commit){
	    .session = session,
	    .ok = ok ? 1 : 0,
	    .flags = (o->keep ? HMC_UC_KEEP : 0) | (o->no_prescan ? HMC_UC_NO_PRESCAN : 0)};
	rc = ctlc_call(HMC_REQ_UPDATE_COMMIT);
	if (!rc)
		rc = ctlc_expect(HMC_REP_RESULT, o->json);
	if (!rc)
		rc = mc_print_commit(o->json);
	ctlc_close();
	return rc;
}

/* Wait for the child without reaping it: a zombie still shows its cgroup,
 * so the daemon can place the child's last writes (MAINT_SYNC) before the
 * pid goes away. Returns the wait status. */
static int mc_wait(const struct cli *cli, pid_t child)
{
	siginfo_t si;
	int status = 0;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	if (ctlc_connect(cli, MC_TIMEOUT_S) == EXIT_OK) {
		if (ctlc_call(HMC_REQ_MAINT_SYNC) == EXIT_OK)
			(void)ctlc_expect(HMC_REP_RESULT, false);
		ctlc_close();
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static pid_t mc_spawn(const char *cgroup, char **cmd)
{
	pid_t child = fork();

	if (child != 0)
		return child;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	(void)cgroup;
	execvp(cmd[0], cmd);
	fprintf(stderr, "hmilock update: cannot run %s: %s\n", cmd[0], strerror(errno));
	_exit(127);
}

/* update -- CMD: session, join its cgroup, run CMD, leave, commit. */
static int mc_update_run(const struct cli *cli, const struct mc_opts *o, char **cmd)
{
	struct hmc_update u;
	int rc, status, code;
	pid_t child;

	rc = mc_update_begin(cli, 0, &u);
	if (rc)
		return rc;
	rc = mc_cgroup_join(u.cgroup, getpid());
	if (rc < 0) {
		util_err("cannot join the update cgroup %s: %s; %s was not run, the session is "
		         "closed (check [update] cgroup_root)",
		         u.cgroup, strerror(-rc), cmd[0]);
		mc_update_commit(cli, u.session, false, &(struct mc_opts){0});
		return EXIT_INTERNAL;
	}
	/* Ctrl-C goes to CMD; we stay to close the session. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	child = mc_spawn(u.cgroup, cmd);
	status = child < 0 ? -1 : mc_wait(cli, child);
	if (child < 0)
		util_err("fork: %s", strerror(errno));
	if (u.origin[0] && (rc = mc_cgroup_join(u.origin, getpid())) < 0)
		util_err("cannot leave the update cgroup for %s: %s", u.origin, strerror(-rc));
	code = status == -1          ? 127
	       : WIFEXITED(status)   ? WEXITSTATUS(status)
	       : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
	                             : 1;
	if (code)
		fprintf(stderr, "hmilock update: %s exited with status %d%s\n", cmd[0], code,
		        o->keep ? " (--keep-on-failure: its changes are approved anyway)"
		                : ": nothing it wrote is approved; fix it and run the update "
		                  "again (--keep-on-failure approves what it wrote anyway)");
	rc = mc_update_commit(cli, u.session, code == 0, o);
	return code ? (code > 255 ? 1 : code) : rc;
}

/* Package-manager hooks: --begin moves --pid (the package manager) into a
 * new session's cgroup; --commit moves it back and ends the session. */
static int mc_update_hook(const struct cli *cli, const struct mc_opts *o)
{
	struct hmc_update u;
	pid_t pid = o->pid ? o->pid : getppid();
	int rc;

	if (o->begin) {
		rc = mc_update_begin(cli, pid, &u);
		if (rc)
			return rc;
		rc = mc_cgroup_join(u.cgroup, pid);
		if (rc < 0) {
			util_err("cannot move pid %d into %s: %s; the session is closed, nothing "
			         "may be installed now (check [update] cgroup_root)",
			         (int)pid, u.cgroup, strerror(-rc));
			mc_update_commit(cli, u.session, false, &(struct mc_opts){0});
			return EXIT_INTERNAL;
		}
		printf("trusted update session %llu: pid %d and its children write approved "
		       "files\n",
		       (unsigned long long)u.session, (int)pid);
		return EXIT_OK;
	}
	rc = ctlc_connect(cli, MC_TIMEOUT_S);
	if (rc)
		return rc;
	rc = ctlc_call(HMC_REQ_UPDATE_INFO);
	if (!rc)
		rc = ctlc_expect(HMC_REP_UPDATE, false);
	if (!rc) {
		u = ctlc_rep()->u.update;
		if (ctlc_call(HMC_REQ_MAINT_SYNC) == EXIT_OK)
			(void)ctlc_expect(HMC_REP_RESULT, false);
	}
	ctlc_close();
	if (rc)
		return rc;
	if (u.origin[0]) {
		mc_cgroup_join(u.origin, u.pid);
		mc_cgroup_join(u.origin, getpid());
	}
	return mc_update_commit(cli, u.session, !o->failed, o);
}

int cmd_update(const struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	    "hmilock update [--keep-on-failure] [--no-prescan] [--password-file FILE] [--json] -- "
	    "CMD [ARGS...]\n"
	    "       hmilock update --begin [--pid PID] [--password-file FILE]\n"
	    "       hmilock update --commit [--failed] [--no-prescan] [--json]";
	struct mc_opts o = {0};
	int first, rc;

	first = mc_getopt(argc, argv, MO_JSON | MO_PW | MO_UPDATE | MO_APPROVE, usage, &o, &rc);
	if (first < 0)
		return rc;
	if (o.begin || o.commit) {
		if ((o.begin && o.commit) || first < argc || o.keep || (o.failed && !o.commit) ||
		    (o.pid && !o.begin) || (o.no_prescan && !o.commit))
			return util_usage(usage,
			                  "update: --begin [--pid PID] or --commit [--failed] "
			                  "[--no-prescan], without a command");
		return mc_update_hook(cli, &o);
	}
	if (o.pid || o.failed)
		return util_usage(usage, "update: --pid and --failed go with --begin / --commit");
	if (first >= argc)
		return util_usage(usage,
		                  "update: no command given (hmilock update -- CMD ARGS...)");
	return mc_update_run(cli, &o, argv + first);
}
