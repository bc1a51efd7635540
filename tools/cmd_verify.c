/* cmd_verify.c - the read-only list commands: verify (re-hash every listed
 * file, report drift) and check (would exec of a path be allowed, and why).
 * Owns the verify worker threads it starts; never writes the list. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "decide.h"
#include "hmilock.h"
#include "hmilock_ctl.h"
#include "wl.h"

/* ---- verify ---------------------------------------------------------------- */

#define VERIFY_USAGE "hmilock verify [--prescan] [--json]"

enum verify_state {
	V_OK = 0,
	V_MISSING,
	V_NOTREG,
	V_CHANGED,
	V_TYPE,
	V_META,
	V_UNREADABLE,
	V_KNOWN_BAD, /* --prescan: named by the prescan */
	V__MAX
};
static const char *const verify_names[V__MAX] = {
    "ok",           "missing",  "not-regular", "changed",
    "type-changed", "metadata", "unreadable",  "known-bad",
};

struct verify_res {
	uint8_t state, type;
	uint8_t sha256[WL_SHA256_LEN];
	uint32_t mode, uid, gid;
	char *msg; /* why (missing, unreadable, not regular; the signature), malloc'd or NULL */
};

struct verify_job {
	const struct wl_db *db;
	const struct wl_prescan *ps; /* --prescan: check against it instead of hashing */
	struct verify_res *res;
	size_t n;
	atomic_size_t next, done;
	atomic_uint_least64_t bytes;
};

static const char *verify_kind(mode_t m)
{
	return S_ISDIR(m)    ? "directory"
	       : S_ISLNK(m)  ? "symlink"
	       : S_ISFIFO(m) ? "fifo"
	       : S_ISSOCK(m) ? "socket"
	       : S_ISCHR(m)  ? "character device"
	       : S_ISBLK(m)  ? "block device"
	                     : "special file";
}

/* Open the listed file to read it: its fd, or -1 with v saying why not.
 * lstat first: never open a FIFO or a device that took a listed path. */
static int verify_open(const struct wl_rec *r, struct verify_res *v, struct stat *st)
{
	int fd;

	if (lstat(r->path, st) < 0) {
		v->state = errno == ENOENT || errno == ENOTDIR ? V_MISSING : V_UNREADABLE;
		if (v->state == V_UNREADABLE)
			v->msg = strdup(strerror(errno));
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		v->state = V_NOTREG;
		if (asprintf(&v->msg, "now a %s", verify_kind(st->st_mode)) < 0)
			v->msg = NULL;
		return -1;
	}
	fd = open(r->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		v->state = errno == ENOENT ? V_MISSING : errno == ELOOP ? V_NOTREG : V_UNREADABLE;
		v->msg = strdup(strerror(errno));
	}
	return fd;
}

static void verify_one(const struct wl_rec *r, struct verify_res *v)
{
	struct wl_entry e = {0};
	struct wl_class cls = {0};
	struct wl_err err = {0};
	struct stat st;
	int fd = verify_open(r, v, &st);

	if (fd < 0)
		return;
	if (wl_entry_from_fd(fd, r->path, &e, &cls, &err) < 0) {
		v->state = err.kind == WL_E_NOTREG ? V_NOTREG : V_UNREADABLE;
		v->msg = strdup(err.msg);
		goto fd;
	}
	memcpy(v->sha256, e.sha256, WL_SHA256_LEN);
	v->type = (uint8_t)e.type, v->mode = e.mode, v->uid = e.uid, v->gid = e.gid;
	if (memcmp(e.sha256, r->sha256, WL_SHA256_LEN) != 0)
		v->state = e.type != r->type ? V_TYPE : V_CHANGED;
	else if (e.mode != r->mode || e.uid != r->uid || e.gid != r->gid)
		v->state = V_META;
	else
		v->state = V_OK;
	wl_entry_free(&e);
	wl_class_free(&cls);
fd:
	close(fd);
}

/* --prescan: the listed hash against the blocklists (no read), the file
 * as it is now through the engine. Not hashed again: drift is plain
 * verify's to find. */
static void verify_prescan_one(const struct wl_prescan *ps, const struct wl_rec *r,
                               struct verify_res *v)
{
	char sig[WL_PRESCAN_SIG_LEN];
	struct wl_err err = {0};
	struct stat st;
	int fd, rc;

	v->state = V_OK;
	if (wl_prescan_hash(ps, r->sha256, sig, sizeof(sig)) == WL_PRESCAN_BAD)
		goto bad;
	fd = verify_open(r, v, &st);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) { /* replaced since the lstat */
		v->state = V_NOTREG;
		close(fd);
		return;
	}
	rc =
	    wl_prescan_fd(ps, fd, r->path, r->sha256, (uint64_t)st.st_size, sig, sizeof(sig), &err);
	close(fd);
	if (rc == WL_PRESCAN_UNSCANNED)
		v->msg = strdup("larger than the engine scans: blocklists only");
	if (rc < 0) {
		v->state = rc == -ESTALE ? V_CHANGED : V_UNREADABLE;
		v->msg =
		    strdup(rc == -ESTALE ? "not the listed content: not scanned; see hmilock verify"
		                         : err.msg);
	}
	if (rc != WL_PRESCAN_BAD)
		return;
bad:
	v->state = V_KNOWN_BAD;
	v->msg = strdup(sig);
}

static void *verify_worker(void *arg)
{
	struct verify_job *job = arg;
	struct wl_rec r;
	size_t i;

	while ((i = atomic_fetch_add(&job->next, 1)) < job->n) {
		wl_db_at(job->db, i, &r);
		if (job->ps)
			verify_prescan_one(job->ps, &r, &job->res[i]);
		else
			verify_one(&r, &job->res[i]);
		atomic_fetch_add(&job->bytes, r.size);
		atomic_fetch_add(&job->done, 1);
	}
	return NULL;
}

static double list_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Hash every record on one thread per core; the calling thread draws the
 * progress bar on a TTY. Returns 0 or an exit code. */
static int verify_run(struct verify_job *job)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthr = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (size_t)ncpu, started = 0, i;
	bool bar = isatty(STDERR_FILENO);
	uint64_t total_bytes = 0;
	pthread_t thr[64];
	struct wl_rec r;
	double t0 = list_now();

	for (i = 0; bar && i < job->n; i++) {
		wl_db_at(job->db, i, &r);
		total_bytes += r.size;
	}
	if (nthr > job->n)
		nthr = job->n ? job->n : 1;
	for (i = 0; i < nthr; i++)
		if (pthread_create(&thr[started], NULL, verify_worker, job) == 0)
			started++;
	if (!started) {
		util_err("cannot start a worker thread");
		return EXIT_INTERNAL;
	}
	while (bar && atomic_load(&job->done) < job->n) {
		util_bar(atomic_load(&job->done), job->n, atomic_load(&job->bytes), total_bytes,
		         list_now() - t0);
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	for (i = 0; i < started; i++)
		pthread_join(thr[i], NULL);
	if (bar)
		util_bar(job->n, job->n, total_bytes, total_bytes, list_now() - t0);
	util_bar_end();
	return 0;
}

static void verify_text(const struct verify_job *job, size_t i)
{
	const struct verify_res *v = &job->res[i];
	struct wl_rec r;

	wl_db_at(job->db, i, &r);
	printf("%-12s ", verify_names[v->state]);
	util_print_path(stdout, r.path);
	if (v->state == V_TYPE)
		printf(" (%s -> %s)", wl_type_name(r.type), wl_type_name((enum wl_type)v->type));
	else if (v->state == V_META)
		printf(" (mode %04o -> %04o, uid %u -> %u, gid %u -> %u)", r.mode & 07777,
		       v->mode & 07777, r.uid, v->uid, r.gid, v->gid);
	else if (v->msg)
		printf(" (%s)", v->msg);
	putchar('\n');
}

static struct json_object *verify_json_one(const struct verify_job *job, size_t i)
{
	const struct verify_res *v = &job->res[i];
	struct json_object *o;
	char hex[WL_HEX_LEN];
	struct wl_rec r;

	wl_db_at(job->db, i, &r);
	o = list_rec_json(&r);
	if (!o)
		return NULL;
	json_object_object_add(o, "status", json_object_new_string(verify_names[v->state]));
	if (v->state == V_CHANGED || v->state == V_TYPE || v->state == V_META) {
		wl_hex(v->sha256, hex);
		json_object_object_add(o, "now_sha256", json_object_new_string(hex));
		json_object_object_add(o, "now_type",
		                       json_object_new_string(wl_type_name((enum wl_type)v->type)));
		json_object_object_add(o, "now_mode", json_object_new_int64(v->mode & 07777));
		json_object_object_add(o, "now_uid", json_object_new_int64(v->uid));
		json_object_object_add(o, "now_gid", json_object_new_int64(v->gid));
	}
	if (v->msg)
		json_object_object_add(o, v->state == V_KNOWN_BAD ? "signature" : "error",
		                       json_object_new_string(v->msg));
	return o;
}

/* The report: drift lines (or a JSON object) and a summary; returns the
 * number of drifted entries, or -1 on out of memory. */
static long verify_report(const struct verify_job *job, const char *db, bool json)
{
	struct json_object *top = json ? json_object_new_object() : NULL, *arr, *counts;
	size_t count[V__MAX] = {0}, i, drift, unscanned = 0;

	arr = json_object_new_array();
	counts = json_object_new_object();
	if ((json && !top) || !arr || !counts)
		goto nomem;
	for (i = 0; i < job->n; i++) {
		count[job->res[i].state]++;
		/* --prescan: ok, but larger than the engine scans (msg says so):
		 * a line of its own in the text, counted in JSON */
		unscanned += job->res[i].state == V_OK && job->res[i].msg;
		if (job->res[i].state == V_OK && (json || !job->res[i].msg))
			continue;
		if (!json)
			verify_text(job, i);
		else if (json_object_array_add(arr, verify_json_one(job, i)) < 0)
			goto nomem;
	}
	drift = job->n - count[V_OK];
	for (i = 0; i < V__MAX; i++)
		json_object_object_add(counts, verify_names[i], json_object_new_int64(count[i]));
	if (json) {
		list_json_path(top, "list", db);
		json_object_object_add(top, "generation",
		                       json_object_new_int64((int64_t)wl_db_generation(job->db)));
		json_object_object_add(top, "entries", json_object_new_int64(job->n));
		json_object_object_add(top, "drift", json_object_new_int64(drift));
		if (job->ps)
			json_object_object_add(top, "blocklists_only",
			                       json_object_new_int64((int64_t)unscanned));
		json_object_object_add(top, "counts", json_object_get(counts));
		json_object_object_add(top, "problems", json_object_get(arr));
		printf("%s\n", json_object_to_json_string_ext(top, LIST_JSON_FLAGS));
	} else {
		printf("%s %zu entries of generation %llu: %zu ok",
		       job->ps ? "prescanned" : "verified", job->n,
		       (unsigned long long)wl_db_generation(job->db), count[V_OK]);
		for (i = 1; i < V__MAX; i++)
			if (count[i])
				printf(", %zu %s", count[i], verify_names[i]);
		if (job->ps && unscanned)
			printf(" (%zu of them larger than the engine scans: blocklists only)",
			       unscanned);
		if (job->ps)
			printf(count[V_KNOWN_BAD] ? "; KNOWN-BAD FILES ARE APPROVED\n"
			                          : "; nothing known-bad\n");
		else
			printf(drift ? "; drift found\n" : "; no drift\n");
	}
	json_object_put(top);
	json_object_put(arr);
	json_object_put(counts);
	return (long)drift;
nomem:
	json_object_put(top);
	json_object_put(arr);
	json_object_put(counts);
	util_err("out of memory");
	return -1;
}

/* --prescan: [prescan] must name something to check against. */
static int verify_prescan_start(const struct cli *cli, struct knownbad *kb)
{
	if (!config_has_prescan(cli->conf)) {
		util_err("verify --prescan: %s names no [prescan] databases or blocklists to check "
		         "the list against",
		         cli->config);
		return EXIT_USAGE;
	}
	return knownbad_start(cli, false, "verify", kb, NULL);
}

/* Tell hmilockd of each known-bad file (an event and hmilock_known_bad_total),
 * and the operator what to do. */
static void verify_prescan_tell(const struct cli *cli, const struct verify_job *job, bool json)
{
	struct hmc_known_bad *k = &ctlc_req()->u.known_bad;
	char why[256] = "";
	size_t i, told = 0, bad = 0;
	struct wl_rec r;
	int rc;

	ctlc_quiet(why, sizeof(why));
	rc = ctlc_connect(cli, 10);
	for (i = 0; i < job->n; i++) {
		if (job->res[i].state != V_KNOWN_BAD)
			continue;
		bad++;
		wl_db_at(job->db, i, &r);
		memset(k, 0, sizeof(*k));
		memcpy(k->sha256, r.sha256, sizeof(k->sha256));
		snprintf(k->sig, sizeof(k->sig), "%s", job->res[i].msg ? job->res[i].msg : "");
		snprintf(k->path, sizeof(k->path), "%s", r.path);
		if (!rc && ctlc_call(HMC_REQ_KNOWN_BAD) == 0 &&
		    ctlc_expect(HMC_REP_RESULT, false) == 0)
			told++;
	}
	ctlc_close();
	ctlc_quiet(NULL, 0);
	if (json || !bad)
		return;
	if (told < bad)
		fprintf(stderr, "hmilock: note: %zu of %zu not counted by hmilockd (%s)\n",
		        bad - told, bad, why[0] ? why : "no answer");
	fprintf(stderr,
	        "hmilock: known-bad files are on the list and may run; take each off with "
	        "`hmilock remove PATH` (inside `hmilock maintenance begin ... end` on a locked "
	        "box) once the plant can do without it\n");
}

int cmd_verify(const struct cli *cli, int argc, char **argv)
{
	struct knownbad kb = {0};
	struct verify_job job = {0};
	struct list_ctx ctx = {0};
	struct list_opts lo;
	int first, rc;
	long drift;

	first = list_getopt(argc, argv, LO_JSON | LO_PRESCAN, VERIFY_USAGE, &lo, &rc);
	if (first < 0)
		return rc;
	if (first < argc)
		return util_usage(VERIFY_USAGE, "verify: unexpected argument '%s'", argv[first]);
	rc = list_open_ro(cli, &ctx);
	if (rc)
		goto out;
	job.db = ctx.db;
	job.n = wl_db_count(ctx.db);
	job.res = calloc(job.n ? job.n : 1, sizeof(*job.res));
	if (!job.res) {
		util_err("out of memory");
		rc = EXIT_INTERNAL;
		goto out;
	}
	if (lo.prescan)
		rc = verify_prescan_start(cli, &kb);
	job.ps = kb.ps;
	if (!rc)
		rc = verify_run(&job);
	if (rc)
		goto res;
	drift = verify_report(&job, cli->db, lo.json);
	rc = drift < 0 ? EXIT_INTERNAL : drift > 0 ? EXIT_NEGATIVE : EXIT_OK;
	if (lo.prescan && drift > 0)
		verify_prescan_tell(cli, &job, lo.json);
res:
	knownbad_end(&kb);
	for (size_t i = 0; i < job.n; i++)
		free(job.res[i].msg);
	free(job.res);
out:
	list_close(&ctx);
	return rc;
}

/* ---- check ----------------------------------------------------------------- */

#define CHECK_USAGE "hmilock check PATH [--json]"

struct check_res {
	const char *path; /* resolved */
	bool allow, hashed;
	const char *reason;
	uint8_t sha256[WL_SHA256_LEN];
	bool listed; /* the path is on the list */
	uint8_t listed_sha256[WL_SHA256_LEN];
	char *hash_listed_as; /* the content is listed under another path */
};

/* The words check prints for decide()'s outcomes. */
static const char *check_reason(enum hmd_reason r)
{
	switch (r) {
	case HMD_R_LISTED:
		return "listed";
	case HMD_R_HASH_MISMATCH:
		return "hash mismatch";
	case HMD_R_NOT_REGULAR:
		return "not a regular file";
	case HMD_R_UNRESOLVED:
		return "path unknown";
	case HMD_R_TOO_LARGE:
		return "too large to be unlisted";
	case HMD_R_NOT_LISTED:
	default:
		return "not listed";
	}
}

/* Hash the resolved file; 1 when it is not a regular file, 0, or an exit
 * code after a message. */
static int check_hash(struct check_res *c, struct stat *st)
{
	struct wl_err err = {0};
	int fd, rc;

	if (lstat(c->path, st) == 0 && !S_ISREG(st->st_mode))
		return 1;
	fd = open(c->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		util_err("%s: %s", c->path, strerror(errno));
		return EXIT_USAGE;
	}
	rc = fstat(fd, st) == 0 && !S_ISREG(st->st_mode)
	         ? 1
	         : wl_hash_fd_stable(fd, c->path, c->sha256, st, &err);
	close(fd);
	return rc < 0 ? list_fail(&err) : rc;
}

/* Decide exactly as hmilockd does when locked: the same decide() with the
 * configuration's match rule (issue 11: check used to apply path+hash
 * whatever the daemon was told). The hash lookup also tells the operator
 * where the content is listed. */
static int check_decide(const struct cli *cli, const struct wl_db *db, struct check_res *c)
{
	struct decide_in in = {.mode = HMD_MODE_ENFORCE,
	                       .match = cli->conf->match,
	                       .on_error = cli->conf->on_error,
	                       .resolved = true};
	struct decide_out out;
	struct wl_rec rec;
	struct stat st;
	int rc = check_hash(c, &st);

	if (rc > 1)
		return rc;
	in.regular = rc == 0;
	c->hashed = rc == 0;
	if (c->hashed) {
		in.multi_link = st.st_nlink > 1;
		decide_lookup(db, c->path, c->sha256, &in);
	}
	decide(&in, &out);
	c->allow = out.verdict == HMD_V_ALLOW;
	c->reason = check_reason(out.reason);
	if (!c->hashed)
		return 0;
	if (wl_db_find_path(db, c->path, &rec) == 0) {
		c->listed = true;
		memcpy(c->listed_sha256, rec.sha256, WL_SHA256_LEN);
	}
	if (wl_db_find_hash(db, c->sha256, &rec) == 0 && strcmp(rec.path, c->path) != 0) {
		c->hash_listed_as = strdup(rec.path);
		if (!c->hash_listed_as) {
			util_err("out of memory");
			return EXIT_INTERNAL;
		}
	}
	return 0;
}

static int check_print(const struct check_res *c, bool json)
{
	struct json_object *o;
	char hex[WL_HEX_LEN];

	if (!json) {
		printf("%s: %s: ", c->allow ? "allow" : "deny", c->reason);
		util_print_path(stdout, c->path);
		if (c->hash_listed_as) {
			printf("\n  (the same content is listed as ");
			util_print_path(stdout, c->hash_listed_as);
			putchar(')');
		}
		putchar('\n');
		return 0;
	}
	o = json_object_new_object();
	if (!o || list_json_path(o, "path", c->path) < 0)
		goto nomem;
	json_object_object_add(o, "verdict", json_object_new_string(c->allow ? "allow" : "deny"));
	json_object_object_add(o, "reason", json_object_new_string(c->reason));
	if (c->hashed) {
		wl_hex(c->sha256, hex);
		json_object_object_add(o, "sha256", json_object_new_string(hex));
	}
	if (c->listed && !c->allow) {
		wl_hex(c->listed_sha256, hex);
		json_object_object_add(o, "listed_sha256", json_object_new_string(hex));
	}
	if (c->hash_listed_as && list_json_path(o, "hash_listed_as", c->hash_listed_as) < 0)
		goto nomem;
	printf("%s\n", json_object_to_json_string_ext(o, LIST_JSON_FLAGS));
	json_object_put(o);
	return 0;
nomem:
	json_object_put(o);
	util_err("out of memory");
	return EXIT_INTERNAL;
}

int cmd_check(const struct cli *cli, int argc, char **argv)
{
	struct check_res c = {0};
	struct list_ctx ctx = {0};
	struct list_opts lo;
	char *real = NULL;
	int first, rc;

	first = list_getopt(argc, argv, LO_JSON, CHECK_USAGE, &lo, &rc);
	if (first < 0)
		return rc;
	if (argc - first != 1)
		return util_usage(CHECK_USAGE, "check: %s",
		                  first >= argc ? "no PATH given" : "one PATH only");
	rc = list_open_ro(cli, &ctx);
	if (rc)
		goto out;
	/* The kernel runs the resolved file and hmilockd sees its resolved path. */
	real = realpath(argv[first], NULL);
	if (!real) {
		util_err("%s: %s", argv[first], strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	c.path = real;
	rc = check_decide(cli, ctx.db, &c);
	if (!rc)
		rc = check_print(&c, lo.json);
	if (!rc)
		rc = c.allow ? EXIT_OK : EXIT_NEGATIVE;
	free(c.hash_listed_as);
out:
	free(real);
	list_close(&ctx);
	return rc;
}
