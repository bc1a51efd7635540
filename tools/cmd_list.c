/* cmd_list.c - init, add, remove, list, and helpers cmd_verify.c shares.
 * Edits go to a private wl_set; a new generation is written only when every
 * step succeeded, and a list that fails its checks is never rewritten. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hmilock.h"
#include "hmilock_ctl.h"
#include "wl.h"

static const char *const list_default_roots[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/opt", "/etc", "/boot", "/srv", "/home",  "/root",  "/var",
};

/* ---- errors, key and list ------------------------------------------------ */

/* Exit code for a library error: the input's fault (2) or not (3: ours, or
 * another writer's change got in first: run again). */
static int list_exit(const struct wl_err *e)
{
	if (e->kind == WL_E_NOMEM || e->kind == WL_E_NONE || e->kind == WL_E_STALE ||
	    e->kind == WL_E_LOCKED)
		return EXIT_INTERNAL;
	if (e->kind != WL_E_IO)
		return EXIT_USAGE;
	switch (-e->code) {
	case ENOENT:
	case ENOTDIR:
	case EISDIR:
	case EACCES:
	case EPERM:
	case ELOOP:
	case ENAMETOOLONG:
	case EROFS:
		return EXIT_USAGE;
	default:
		return EXIT_INTERNAL;
	}
}

int list_fail(const struct wl_err *e)
{
	util_err("%s", e->msg[0] ? e->msg : "internal error (no message)");
	/* On a locked box the kernel helper lets only hmilockd, a maintenance
	 * window and a trusted updater change the list and its directory. */
	if (e->code == -EPERM)
		util_err("the list is write-protected while the box is locked: make the change "
		         "inside hmilock maintenance begin ... end, or run it as hmilock update "
		         "-- hmilock ...");
	return list_exit(e);
}

int list_open(const struct cli *cli, struct list_ctx *ctx)
{
	struct wl_err err = {0};

	ctx->db = NULL;
	if (wl_key_load(cli->key, ctx->key, &err) < 0)
		return list_fail(&err);
	if (wl_db_open(cli->db, ctx->key, &ctx->db, &err) < 0)
		return list_fail(&err);
	return 0;
}

/* The SHA-256 hmilockd vouches for when it has cli->db loaded (it verified
 * that file with the key): 1 and d; else 0, with the list it has loaded in
 * loaded ("" when it did not answer: why says so). */
static int list_daemon_digest(const struct cli *cli, uint8_t d[WL_SHA256_LEN], char *loaded,
                              size_t llen, char *why, size_t wlen)
{
	static const uint8_t none[WL_SHA256_LEN];
	const struct hmc_status *st;
	char db[PATH_MAX];
	int rc, have = 0;

	loaded[0] = '\0';
	if (!realpath(cli->db, db))
		snprintf(db, sizeof(db), "%s", cli->db);
	ctlc_quiet(why, wlen);
	rc = ctlc_connect(cli, 10);
	if (!rc)
		rc = ctlc_request(HMC_REQ_STATUS, HMC_REP_STATUS, false);
	ctlc_quiet(NULL, 0);
	if (!rc) {
		st = &ctlc_rep()->u.status;
		snprintf(loaded, llen, "%s", st->list_path[0] ? st->list_path : "none");
		have = !strcmp(st->list_path, db) && memcmp(st->list_sha256, none, sizeof(none));
		if (have)
			memcpy(d, st->list_sha256, WL_SHA256_LEN);
	}
	ctlc_close();
	return have;
}

/* While the box is locked the kernel helper lets only hmilockd read the
 * list key. So a reader first asks hmilockd: the file is taken when its
 * SHA-256 is the one hmilockd computed of the list it verified with the
 * key. Otherwise (no hmilockd, another file, a list changed since it was
 * loaded) the key is read, which works while the box is not locked. */
int list_open_ro(const struct cli *cli, struct list_ctx *ctx)
{
	uint8_t d[WL_SHA256_LEN];
	char loaded[PATH_MAX] = "", why[512] = "";
	struct wl_err err = {0}, derr = {0};
	int rc, have = list_daemon_digest(cli, d, loaded, sizeof(loaded), why, sizeof(why));

	ctx->db = NULL;
	if (have && wl_db_open_digest(cli->db, d, &ctx->db, &derr) == 0)
		return 0;
	rc = wl_key_load(cli->key, ctx->key, &err);
	if (rc == -EPERM || rc == -EACCES) {
		if (have)
			util_err(
			    "%s (the kernel helper lets only hmilockd read it while the box is "
			    "locked), and %s",
			    err.msg, derr.msg);
		else if (loaded[0])
			util_err(
			    "%s (the kernel helper lets only hmilockd read it while the box is "
			    "locked), and hmilockd vouches only for the list it has loaded (%s), "
			    "not %s",
			    err.msg, loaded, cli->db);
		else
			util_err(
			    "%s (the kernel helper lets only hmilockd read it while the box is "
			    "locked), and hmilockd cannot vouch for the list: %s",
			    err.msg, why[0] ? why : "no answer");
		return EXIT_USAGE;
	}
	if (rc < 0)
		return list_fail(&err);
	if (wl_db_open(cli->db, ctx->key, &ctx->db, &err) < 0)
		return list_fail(&err);
	return 0;
}

void list_close(struct list_ctx *ctx)
{
	if (ctx->db)
		wl_db_close(ctx->db);
	ctx->db = NULL;
	explicit_bzero(ctx->key, sizeof(ctx->key));
}

int list_lock(const struct cli *cli, bool create, struct wl_db_lock **lk)
{
	struct wl_err err = {0};
	int rc = create ? wl_mkparents(cli->db, 0755, NULL) : 0;

	if (rc < 0) {
		util_err("cannot create the directory of %s: %s", cli->db, strerror(-rc));
		return EXIT_USAGE;
	}
	rc = wl_db_lock(cli->db, 0, lk, &err);
	if (rc == -EWOULDBLOCK) {
		util_err("waiting for the list lock of %s held by another writer", cli->db);
		rc = wl_db_lock(cli->db, -1, lk, &err);
	}
	return rc < 0 ? list_fail(&err) : 0;
}

int list_write(struct wl_db_lock *lk, struct wl_set *set, uint64_t gen,
               const uint8_t key[WL_KEY_LEN])
{
	struct wl_err err = {0};

	if (wl_db_write(lk, set, gen, gen - 1, key, &err) < 0)
		return list_fail(&err);
	return 0;
}

/* ---- options ------------------------------------------------------------- */

static const struct {
	struct option o;
	unsigned mask;
	const char *shortopt;
} list_optdefs[] = {
    {{"json", no_argument, NULL, 'j'}, LO_JSON, "j"},
    {{"one-file-system", no_argument, NULL, 'x'}, LO_SCAN, "x"},
    {{"all-files", no_argument, NULL, 'a'}, LO_SCAN, "a"},
    {{"workers", required_argument, NULL, 'w'}, LO_SCAN, "w:"},
    {{"force", no_argument, NULL, 'f'}, LO_FORCE, "f"},
    {{"no-prescan", no_argument, NULL, 'P'}, LO_SCAN, ""},
    {{"prescan", no_argument, NULL, 'S'}, LO_PRESCAN, ""},
};
#define LIST_NOPTS (sizeof(list_optdefs) / sizeof(list_optdefs[0]))

static int list_workers(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 1024 || s[0] == '-') {
		util_err("--workers '%s': want a number from 1 to 1024", s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* getopt_long over the options in mask (GNU permutation: options may follow
 * operands). Returns the index of the first operand, or -1 with *rc set
 * (0 after --help, 2 on a usage error). */
int list_getopt(int argc, char **argv, unsigned mask, const char *usage, struct list_opts *lo,
                int *rc)
{
	struct option longopts[LIST_NOPTS + 2];
	char shortopts[32] = "h";
	size_t i, n = 0;
	int c;

	memset(lo, 0, sizeof(*lo));
	for (i = 0; i < LIST_NOPTS; i++) {
		if (!(list_optdefs[i].mask & mask))
			continue;
		longopts[n++] = list_optdefs[i].o;
		strcat(shortopts, list_optdefs[i].shortopt);
	}
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){NULL, 0, NULL, 0};
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			lo->json = true;
			break;
		case 'x':
			lo->scan.one_fs = true;
			break;
		case 'a':
			lo->scan.all_files = true;
			break;
		case 'w':
			if (list_workers(optarg, &lo->scan.workers) < 0)
				goto usage;
			break;
		case 'f':
			lo->force = true;
			break;
		case 'P':
			lo->no_prescan = true;
			break;
		case 'S':
			lo->prescan = true;
			break;
		case 'h':
			*rc = util_help(usage);
			return -1;
		default:
			goto usage;
		}
	}
	return optind;
usage:
	*rc = util_usage(usage, NULL);
	return -1;
}

/* ---- paths and roots ----------------------------------------------------- */

struct list_roots {
	char **v;
	size_t n;
};

static void list_roots_free(struct list_roots *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static bool list_is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Resolve path with realpath() (the daemon sees resolved paths) and append
 * it unless it is already covered by a root; drop roots it covers. */
static int list_roots_add(struct list_roots *r, const char *path)
{
	char *real = realpath(path, NULL), **nv;
	size_t i, j;

	if (!real)
		return -errno;
	for (i = 0; i < r->n; i++) {
		if (list_is_below(real, r->v[i])) {
			free(real);
			return 0;
		}
	}
	for (i = j = 0; i < r->n; i++) {
		if (list_is_below(r->v[i], real))
			free(r->v[i]);
		else
			r->v[j++] = r->v[i];
	}
	r->n = j;
	nv = realloc(r->v, (r->n + 1) * sizeof(*nv));
	if (!nv) {
		free(real);
		return -ENOMEM;
	}
	r->v = nv;
	r->v[r->n++] = real;
	return 0;
}

/* Operands: every one must resolve, else an error naming it (exit 2). */
static int list_roots_args(struct list_roots *r, int argc, char **argv)
{
	int i, rc;

	for (i = 0; i < argc; i++) {
		rc = list_roots_add(r, argv[i]);
		if (rc < 0) {
			util_err("%s: %s; nothing changed", argv[i], strerror(-rc));
			return rc == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
		}
	}
	return 0;
}

/* Roots for init without operands: [init] roots of the configuration when
 * it has them (one that does not exist is noted and skipped), else the
 * default system trees that exist. */
static int list_roots_default(const struct cli *cli, struct list_roots *r)
{
	const struct hmd_config *conf = cli->conf;
	size_t i;
	int rc;

	for (i = 0; i < conf->n_roots; i++) {
		rc = list_roots_add(r, conf->roots[i]);
		if (rc == -ENOMEM)
			return EXIT_INTERNAL;
		if (rc < 0)
			fprintf(stderr, "hmilock: note: %s: [init] root %s: %s, skipped\n",
			        cli->config, conf->roots[i], strerror(-rc));
	}
	if (conf->n_roots)
		return 0;
	for (i = 0; i < sizeof(list_default_roots) / sizeof(list_default_roots[0]); i++)
		if (list_roots_add(r, list_default_roots[i]) == -ENOMEM)
			return EXIT_INTERNAL;
	return 0;
}

/* Lexically absolute path (no symlinks resolved: the file may be gone). */
static int list_abspath(const char *in, char *out, size_t len)
{
	char buf[PATH_MAX * 2], *tok, *save = NULL;
	size_t o = 0;

	if (in[0] == '/')
		snprintf(buf, sizeof(buf), "%s", in);
	else if (!getcwd(buf, PATH_MAX))
		return -errno;
	else if (strlen(buf) + strlen(in) + 2 > sizeof(buf))
		return -ENAMETOOLONG;
	else
		strcat(strcat(buf, "/"), in);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			while (o > 0 && out[--o] != '/')
				;
			continue;
		}
		if (o + strlen(tok) + 2 > len)
			return -ENAMETOOLONG;
		out[o++] = '/';
		strcpy(out + o, tok);
		o += strlen(tok);
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* ---- scanning (init, add) ------------------------------------------------ */

static void list_stats_merge(struct wl_scan_stats *to, const struct wl_scan_stats *from)
{
	size_t i;

	to->files_seen += from->files_seen;
	to->approved += from->approved;
	to->bytes_hashed += from->bytes_hashed;
	to->prescan_unscanned += from->prescan_unscanned;
	to->seconds += from->seconds;
	for (i = 0; i < WL_SKIP__MAX; i++)
		to->skipped[i] += from->skipped[i];
	for (i = 0; i < from->n_problems && to->n_problems < 16; i++)
		memcpy(to->problems[to->n_problems++], from->problems[i], sizeof(to->problems[0]));
}

/* Scan the roots into set: directories with the options given, files named
 * on their own with all_files (an operator who names a file means it). */
static int list_scan(struct list_roots *r, const struct list_opts *lo, struct wl_set *set,
                     struct wl_scan_stats *stats)
{
	const char *dirs[r->n ? r->n : 1], *files[r->n ? r->n : 1];
	struct wl_scan_opts opts = lo->scan;
	struct wl_scan_stats part;
	struct wl_err err = {0};
	size_t nd = 0, nf = 0, i;
	struct stat st;

	for (i = 0; i < r->n; i++) {
		if (lstat(r->v[i], &st) < 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
			util_err("%s: not a regular file or directory; nothing changed", r->v[i]);
			return EXIT_USAGE;
		}
		if (S_ISDIR(st.st_mode))
			dirs[nd++] = r->v[i];
		else
			files[nf++] = r->v[i];
	}
	memset(stats, 0, sizeof(*stats));
	if (isatty(STDERR_FILENO))
		opts.progress = util_scan_progress;

	for (i = 0; i < 2; i++) {
		size_t n = i ? nf : nd;
		if (!n)
			continue;
		opts.all_files = i ? true : lo->scan.all_files;
		memset(&part, 0, sizeof(part));
		if (wl_scan(i ? files : dirs, n, &opts, set, &part, &err) < 0) {
			util_bar_end();
			return list_fail(&err);
		}
		util_bar_end();
		list_stats_merge(stats, &part);
	}
	return 0;
}

static void list_print_skipped(FILE *f, const struct wl_scan_stats *s)
{
	const char *sep = "";
	int i;

	fprintf(f, "skipped:");
	for (i = 0; i < WL_SKIP__MAX; i++) {
		if (!s->skipped[i])
			continue;
		fprintf(f, "%s %llu %s", sep, (unsigned long long)s->skipped[i],
		        wl_skip_name((enum wl_skip)i));
		sep = ",";
	}
	if (!*sep)
		fprintf(f, " none");
}

static void list_print_problems(const struct wl_scan_stats *s)
{
	uint64_t total = s->skipped[WL_SKIP_UNREADABLE] + s->skipped[WL_SKIP_UNSTABLE] +
	                 s->skipped[WL_SKIP_TOO_LONG] + s->skipped[WL_SKIP_PRESCAN_FAILED];
	size_t i;

	for (i = 0; i < s->n_problems; i++) {
		fputs("hmilock: warning: ", stderr);
		util_print_path(stderr, s->problems[i]);
		fputc('\n', stderr);
	}
	if (total > s->n_problems)
		fprintf(stderr, "hmilock: warning: %llu more problems not shown\n",
		        (unsigned long long)(total - s->n_problems));
	if (s->prescan_unscanned)
		fprintf(
		    stderr,
		    "hmilock: note: %llu files larger than the prescan's engine scans (512 MiB) "
		    "were checked against the blocklists only\n",
		    (unsigned long long)s->prescan_unscanned);
}

/* One summary line on stdout. */
static void list_summary(const char *verb, const struct wl_scan_stats *s, uint64_t gen,
                         const char *db)
{
	list_print_problems(s);
	printf("%s %llu files (%.1f MB hashed) in %.2f s; ", verb, (unsigned long long)s->approved,
	       s->bytes_hashed / 1e6, s->seconds);
	list_print_skipped(stdout, s);
	printf("; generation %llu written to ", (unsigned long long)gen);
	util_print_path(stdout, db);
	putchar('\n');
}

/* ---- init ---------------------------------------------------------------- */

#define INIT_USAGE                                                                                 \
	"hmilock init [PATH...] [-x|--one-file-system] [-a|--all-files] [-w|--workers N] "         \
	"[-f|--force] [--no-prescan]"

/* Key: load it, or create it when there is none. */
static int init_key(const struct cli *cli, uint8_t key[WL_KEY_LEN])
{
	struct wl_err err = {0};
	struct stat st;
	int rc;

	if (lstat(cli->key, &st) < 0 && errno == ENOENT) {
		rc = wl_mkparents(cli->key, 0755, NULL);
		if (rc < 0) {
			util_err("cannot create the directory of %s: %s", cli->key, strerror(-rc));
			return EXIT_USAGE;
		}
		rc = wl_key_create(cli->key, &err);
		if (rc < 0 && rc != -EEXIST) /* EEXIST: another init made it meanwhile */
			return list_fail(&err);
		if (rc == 0)
			printf("created list key %s\n", cli->key);
	}
	if (wl_key_load(cli->key, key, &err) < 0)
		return list_fail(&err);
	return 0;
}

/* Generation of the list to write: refuse to replace one without --force;
 * with --force continue its generations when it still opens. Under the
 * writer lock (key may be NULL for the early refusal). */
static int init_generation(const struct cli *cli, bool force, const uint8_t key[WL_KEY_LEN],
                           uint64_t *gen)
{
	struct wl_err err = {0};
	struct wl_db *old;
	struct stat st;

	*gen = 1;
	if (lstat(cli->db, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		util_err("%s: %s", cli->db, strerror(errno));
		return EXIT_USAGE;
	}
	if (!force) {
		util_err(
		    "approved list %s already exists; extend it with 'hmilock add' or replace "
		    "it with 'hmilock init --force' (the old one is kept as %s.prev, or as %s.bad "
		    "if it does not verify)",
		    cli->db, cli->db, cli->db);
		return EXIT_USAGE;
	}
	if (wl_db_open(cli->db, key, &old, &err) == 0) {
		*gen = wl_db_generation(old) + 1;
		wl_db_close(old);
	} else {
		fprintf(stderr,
		        "hmilock: note: replacing %s, which does not open (%s); generations "
		        "start again at 1\n",
		        cli->db, err.msg);
	}
	return 0;
}

/* Under the writer lock: the generation, then the write. */
static int init_write(const struct cli *cli, bool force, struct wl_set *set,
                      const uint8_t key[WL_KEY_LEN], uint64_t *gen)
{
	struct wl_db_lock *lk = NULL;
	int rc = list_lock(cli, true, &lk);

	if (!rc)
		rc = init_generation(cli, force, key, gen);
	if (!rc)
		rc = list_write(lk, set, *gen, key);
	wl_db_unlock(lk);
	return rc;
}

int cmd_init(const struct cli *cli, int argc, char **argv)
{
	struct knownbad kb = {0};
	struct list_roots roots = {0};
	struct wl_scan_stats stats;
	uint8_t key[WL_KEY_LEN];
	struct list_opts lo;
	struct wl_set *set = NULL;
	uint64_t gen = 0;
	int first, rc;

	first = list_getopt(argc, argv, LO_SCAN | LO_FORCE, INIT_USAGE, &lo, &rc);
	if (first < 0)
		return rc;
	if (first < argc)
		rc = list_roots_args(&roots, argc - first, argv + first);
	else
		rc = list_roots_default(cli, &roots);
	if (rc)
		goto roots;
	if (roots.n == 0) {
		util_err("no root to scan exists; name one: hmilock init PATH...");
		rc = EXIT_USAGE;
		goto roots;
	}
	/* Refuse before the key is made and the long scan starts. */
	if (lstat(cli->db, &(struct stat){0}) == 0 && !lo.force) {
		rc = init_generation(cli, false, NULL, &gen);
		goto roots;
	}
	rc = init_key(cli, key);
	if (!rc)
		rc = knownbad_start(cli, lo.no_prescan, "init", &kb, &lo.scan);
	if (rc)
		goto key;
	set = wl_set_new();
	if (!set) {
		util_err("out of memory");
		rc = EXIT_INTERNAL;
		goto key;
	}
	/* The scan runs without the writer lock: other writers wait only
	 * for the write. */
	rc = list_scan(&roots, &lo, set, &stats);
	if (!rc) {
		wl_set_set_flags(set, knownbad_flags(&kb, WL_DB_F_PRESCANNED));
		rc = init_write(cli, lo.force, set, key, &gen);
	}
	if (!rc) {
		if (!stats.approved)
			util_err("warning: nothing qualified under the roots; the list is empty");
		list_summary("approved", &stats, gen, cli->db);
		wxpropose_print(set, cli->conf);
		rc = knownbad_report(&kb, stats.approved, stats.skipped[WL_SKIP_PRESCAN_FAILED]);
	}
	wl_set_free(set);
key:
	knownbad_end(&kb);
	explicit_bzero(key, sizeof(key));
roots:
	list_roots_free(&roots);
	return rc;
}

/* ---- add, remove ----------------------------------------------------------- */

#define ADD_USAGE                                                                                  \
	"hmilock add PATH... [-x|--one-file-system] [-a|--all-files] [-w|--workers N] "            \
	"[--no-prescan]"
#define REMOVE_USAGE "hmilock remove PATH..."

/* Open the list and copy it into a new set for editing. */
static int list_edit_open(const struct cli *cli, struct list_ctx *ctx, struct wl_set **set)
{
	struct wl_err err = {0};
	int rc = list_open(cli, ctx);

	if (rc)
		return rc;
	*set = wl_set_new();
	if (!*set) {
		util_err("out of memory");
		return EXIT_INTERNAL;
	}
	if (wl_db_to_set(ctx->db, *set, &err) < 0)
		return list_fail(&err);
	return 0;
}

/* Under the writer lock: lay the list as it is now under the scanned set
 * and write the next generation. *before gets the entries it had. */
static int add_write(const struct cli *cli, const struct knownbad *kb, struct wl_set *set,
                     size_t *before, uint64_t *gen)
{
	struct wl_db_lock *lk = NULL;
	struct list_ctx ctx = {0};
	struct wl_err err = {0};
	int rc = list_lock(cli, false, &lk);

	if (!rc)
		rc = list_open(cli, &ctx);
	if (!rc) {
		*before = wl_db_count(ctx.db);
		*gen = wl_db_generation(ctx.db) + 1;
		if (wl_db_merge_into(ctx.db, set, &err) < 0)
			rc = list_fail(&err);
		wl_set_set_flags(set, knownbad_flags(kb, wl_db_flags(ctx.db)));
	}
	if (!rc)
		rc = list_write(lk, set, *gen, ctx.key);
	list_close(&ctx);
	wl_db_unlock(lk);
	return rc;
}

int cmd_add(const struct cli *cli, int argc, char **argv)
{
	struct knownbad kb = {0};
	struct list_roots roots = {0};
	struct list_ctx ctx = {0};
	struct wl_scan_stats stats;
	struct wl_set *set = NULL;
	struct list_opts lo;
	uint64_t gen = 0;
	size_t before = 0, added;
	int first, rc;

	first = list_getopt(argc, argv, LO_SCAN, ADD_USAGE, &lo, &rc);
	if (first < 0)
		return rc;
	if (first >= argc)
		return util_usage(ADD_USAGE, "add: no PATH given");
	rc = list_roots_args(&roots, argc - first, argv + first);
	if (!rc) /* the key and list must be good before the long scan */
		rc = list_open(cli, &ctx);
	list_close(&ctx);
	if (!rc && !(set = wl_set_new())) {
		util_err("out of memory");
		rc = EXIT_INTERNAL;
	}
	if (!rc)
		rc = knownbad_start(cli, lo.no_prescan, "add", &kb, &lo.scan);
	if (!rc) /* without the writer lock: other writers wait only for the write */
		rc = list_scan(&roots, &lo, set, &stats);
	if (rc)
		goto out;
	if (!stats.approved) {
		list_print_problems(&stats);
		printf("nothing to add (no qualifying file; ");
		list_print_skipped(stdout, &stats);
		printf("); list unchanged\n");
		rc = knownbad_report(&kb, 0, stats.skipped[WL_SKIP_PRESCAN_FAILED]);
		goto out;
	}
	rc = add_write(cli, &kb, set, &before, &gen);
	if (!rc) {
		added = wl_set_count(set) - before;
		printf("%llu new, %llu replaced; ", (unsigned long long)added,
		       (unsigned long long)(stats.approved - added));
		list_summary("added", &stats, gen, cli->db);
		rc = knownbad_report(&kb, stats.approved, stats.skipped[WL_SKIP_PRESCAN_FAILED]);
	}
out:
	knownbad_end(&kb);
	wl_set_free(set);
	list_roots_free(&roots);
	return rc;
}

/* Take path (a file or a tree) off the set; also tries the resolved path,
 * as the list holds resolved paths. Returns entries removed. */
static size_t remove_one(struct wl_set *set, const char *arg)
{
	char abs[PATH_MAX], *real;
	size_t n = 0;

	if (list_abspath(arg, abs, sizeof(abs)) == 0)
		n = wl_set_remove_tree(set, abs);
	if (n)
		return n;
	real = realpath(arg, NULL);
	if (real) {
		n = wl_set_remove_tree(set, real);
		free(real);
	}
	return n;
}

int cmd_remove(const struct cli *cli, int argc, char **argv)
{
	struct wl_db_lock *lk = NULL;
	struct list_ctx ctx = {0};
	struct wl_set *set = NULL;
	struct list_opts lo;
	size_t removed = 0, n;
	uint64_t gen;
	int first, rc, i;

	first = list_getopt(argc, argv, 0, REMOVE_USAGE, &lo, &rc);
	if (first < 0)
		return rc;
	if (first >= argc)
		return util_usage(REMOVE_USAGE, "remove: no PATH given");
	rc = list_lock(cli, false, &lk);
	if (!rc)
		rc = list_edit_open(cli, &ctx, &set);
	if (rc)
		goto out;
	gen = wl_db_generation(ctx.db) + 1;
	for (i = first; i < argc; i++) {
		n = remove_one(set, argv[i]);
		if (!n) {
			util_err("%s is not on the list (nothing listed at or below it); list "
			         "unchanged",
			         argv[i]);
			rc = EXIT_USAGE;
			goto out;
		}
		removed += n;
	}
	rc = list_write(lk, set, gen, ctx.key);
	if (!rc) {
		printf("removed %zu entries, %zu left; generation %llu written to ", removed,
		       wl_set_count(set), (unsigned long long)gen);
		util_print_path(stdout, cli->db);
		putchar('\n');
	}
out:
	wl_set_free(set);
	list_close(&ctx);
	wl_db_unlock(lk);
	return rc;
}

/* ---- list ------------------------------------------------------------------ */

#define LIST_USAGE "hmilock list [--json]"

/* Add a path-valued field; "<key>_escaped": true when it is not UTF-8. */
int list_json_path(struct json_object *o, const char *key, const char *path)
{
	char name[64];
	bool esc;
	char *s = util_json_path(path, &esc);

	if (!s)
		return -ENOMEM;
	json_object_object_add(o, key, json_object_new_string(s));
	free(s);
	if (esc) {
		snprintf(name, sizeof(name), "%s_escaped", key);
		json_object_object_add(o, name, json_object_new_boolean(1));
	}
	return 0;
}

struct json_object *list_rec_json(const struct wl_rec *r)
{
	struct json_object *o = json_object_new_object();
	char hex[WL_HEX_LEN];

	if (!o || list_json_path(o, "path", r->path) < 0)
		goto fail;
	wl_hex(r->sha256, hex);
	json_object_object_add(o, "sha256", json_object_new_string(hex));
	json_object_object_add(o, "type", json_object_new_string(wl_type_name(r->type)));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)r->size));
	json_object_object_add(o, "mode", json_object_new_int64(r->mode & 07777));
	json_object_object_add(o, "uid", json_object_new_int64(r->uid));
	json_object_object_add(o, "gid", json_object_new_int64(r->gid));
	if (r->interp && r->interp[0] && list_json_path(o, "interp", r->interp) < 0)
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* Print one JSON value and free it; false on out of memory. */
static bool list_put_json(struct json_object *o, const char *sep)
{
	if (!o) {
		util_err("out of memory");
		return false;
	}
	printf("%s%s", sep, json_object_to_json_string_ext(o, LIST_JSON_FLAGS));
	json_object_put(o);
	return true;
}

int cmd_list(const struct cli *cli, int argc, char **argv)
{
	struct list_ctx ctx = {0};
	struct list_opts lo;
	char hex[WL_HEX_LEN];
	struct wl_rec r;
	size_t i, n;
	int first, rc;

	first = list_getopt(argc, argv, LO_JSON, LIST_USAGE, &lo, &rc);
	if (first < 0)
		return rc;
	if (first < argc)
		return util_usage(LIST_USAGE, "list: unexpected argument '%s'", argv[first]);
	rc = list_open_ro(cli, &ctx);
	if (rc)
		goto out;
	n = wl_db_count(ctx.db);
	if (lo.json)
		putchar('[');
	for (i = 0; i < n; i++) {
		wl_db_at(ctx.db, i, &r);
		if (lo.json) {
			if (!list_put_json(list_rec_json(&r), i ? ",\n" : "\n")) {
				rc = EXIT_INTERNAL;
				goto out;
			}
			continue;
		}
		wl_hex(r.sha256, hex);
		printf("%-6s %s ", wl_type_name(r.type), hex);
		util_print_path(stdout, r.path);
		putchar('\n');
	}
	if (lo.json)
		printf("\n]\n");
out:
	list_close(&ctx);
	if (fflush(stdout) != 0 && !rc) {
		util_err("writing the output: %s", strerror(errno));
		rc = EXIT_INTERNAL;
	}
	return rc;
}
