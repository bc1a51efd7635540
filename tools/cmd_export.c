/* cmd_export.c - keygen, export, import: the approved list moved between
 * boxes of the same image as a signed text file whose format is the
 * library's (whitelist/export.c). This file owns the options, reading and
 * writing the export file, hashing each imported path on this box and the
 * set an import builds; the list file itself is only ever written through
 * the writer protocol (list_lock, list_write: next generation, atomic). An
 * import approves only files whose content here equals the exported hash,
 * with this box's identity (dev, ino, ctime, mtime). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hmilock.h"
#include "wl.h"

#define EXP_MAX_FILE (1ull << 30) /* 1 GiB: millions of entries */
#define EXP_DEFAULT_DIR "/etc/hmilock"
#define EXP_DEFAULT_PRIV "/etc/hmilock/export.key"

/* ---- keygen ---------------------------------------------------------------- */

#define KEYGEN_USAGE "hmilock keygen [--out-dir DIR | --private FILE --public FILE]"

static void exp_print_keyid(const char *what, const struct wl_sign_key *k)
{
	uint8_t pub[WL_SIG_PUBLEN];
	char hex[2 * WL_SIG_PUBLEN + 1];

	if (wl_sign_key_public(k, pub, NULL) < 0)
		return;
	wl_hex_n(pub, sizeof(pub), hex);
	printf("%s %s\n", what, hex);
}

static int keygen_opts(int argc, char **argv, const char **dir, const char **priv, const char **pub,
                       int *rc)
{
	static const struct option lo[] = {
	    {"out-dir", required_argument, NULL, 'd'},
	    {"private", required_argument, NULL, 'k'},
	    {"public", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'd')
			*dir = optarg;
		else if (c == 'k')
			*priv = optarg;
		else if (c == 'p')
			*pub = optarg;
		else
			return *rc = c == 'h' ? util_help(KEYGEN_USAGE)
			                      : util_usage(KEYGEN_USAGE, NULL),
			       -1;
	}
	if (optind < argc || (*dir && (*priv || *pub)) || (!*priv != !*pub))
		return *rc = util_usage(KEYGEN_USAGE, "keygen: give --out-dir DIR, or both "
		                                      "--private FILE and --public FILE"),
		       -1;
	return 0;
}

int cmd_keygen(const struct cli *cli, int argc, char **argv)
{
	const char *dir = NULL, *priv = NULL, *pub = NULL;
	char pbuf[PATH_MAX], qbuf[PATH_MAX];
	struct wl_sign_key *k;
	struct wl_err err = {0};
	int rc = EXIT_OK;

	if (keygen_opts(argc, argv, &dir, &priv, &pub, &rc) < 0)
		return rc;
	if (!priv) {
		dir = dir ? dir : EXP_DEFAULT_DIR;
		snprintf(pbuf, sizeof(pbuf), "%s/export.key", dir);
		snprintf(qbuf, sizeof(qbuf), "%s/export.pub", dir);
		priv = pbuf;
		pub = qbuf;
	}
	if (wl_sign_keygen(priv, pub, &err) < 0 || wl_sign_key_load(pub, false, &k, &err) < 0) {
		rc = list_fail(&err);
		return err.code == -EEXIST ? EXIT_USAGE : rc; /* the operator's input */
	}
	printf("private key %s (mode 0600: keep it on the box that exports)\n"
	       "public key  %s (copy it to each box that imports, as %s)\n",
	       priv, pub, cli->import_pubkey);
	exp_print_keyid("key id", k);
	wl_sign_key_free(k);
	return EXIT_OK;
}

/* ---- export ---------------------------------------------------------------- */

#define EXPORT_USAGE "hmilock export [--sign-key FILE] [--force] FILE"

/* Write buf to path through path.tmp and a rename (mode 0644). A path that
 * cannot be made (missing or read-only directory...) is bad input. */
static int export_write(const char *path, const char *buf, size_t len, bool force)
{
	int rc;

	if (!force && access(path, F_OK) == 0) {
		util_err("%s exists; choose another name or give --force", path);
		return EXIT_USAGE;
	}
	rc = wl_write_atomic(path, buf, len, 0644);
	if (rc == 0)
		return 0;
	util_err("%s: cannot write: %s", path, strerror(-rc));
	switch (-rc) {
	case ENAMETOOLONG:
	case ENOENT:
	case ENOTDIR:
	case EACCES:
	case EROFS:
	case EISDIR:
	case ELOOP:
		return EXIT_USAGE;
	default:
		return EXIT_INTERNAL;
	}
}

static int export_opts(int argc, char **argv, const char **key, bool *force, int *rc)
{
	static const struct option lo[] = {
	    {"sign-key", required_argument, NULL, 'k'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "fh", lo, NULL)) != -1) {
		if (c == 'k')
			*key = optarg;
		else if (c == 'f')
			*force = true;
		else
			return *rc = c == 'h' ? util_help(EXPORT_USAGE)
			                      : util_usage(EXPORT_USAGE, NULL),
			       -1;
	}
	if (optind + 1 != argc)
		return *rc = util_usage(EXPORT_USAGE, "export: name one FILE to write"), -1;
	return optind;
}

int cmd_export(const struct cli *cli, int argc, char **argv)
{
	const char *keypath = EXP_DEFAULT_PRIV;
	struct list_ctx ctx = {0};
	struct wl_sign_key *k = NULL;
	struct wl_err err = {0};
	char *buf = NULL;
	size_t len = 0;
	bool force = false;
	int first, rc = EXIT_OK;

	first = export_opts(argc, argv, &keypath, &force, &rc);
	if (first < 0)
		return rc;
	if (wl_sign_key_load(keypath, true, &k, &err) < 0) {
		rc = list_fail(&err);
		if (err.code == -ENOENT)
			fprintf(stderr, "(make a key pair with 'hmilock keygen', or name the "
			                "key with --sign-key FILE)\n");
		return rc;
	}
	rc = list_open_ro(cli, &ctx);
	if (rc)
		goto key;
	if (wl_export_build(ctx.db, k, &buf, &len, &err) < 0)
		rc = list_fail(&err);
	if (!rc)
		rc = export_write(argv[first], buf, len, force);
	if (!rc) {
		printf("exported %zu entries (generation %llu) to %s\n", wl_db_count(ctx.db),
		       (unsigned long long)wl_db_generation(ctx.db), argv[first]);
		exp_print_keyid("signed with key id", k);
	}
	free(buf);
	list_close(&ctx);
key:
	wl_sign_key_free(k);
	return rc;
}

/* ---- import: reading and checking the file ------------------------------------ */

struct imp_file {
	char *buf; /* the whole file */
	size_t len;
	struct wl_export x; /* parsed from buf */
};

static void imp_free(struct imp_file *f)
{
	wl_export_free(&f->x);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

static int imp_read(const char *path, struct imp_file *f)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		util_err("%s: %s; nothing changed", path, strerror(errno));
		return EXIT_USAGE;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > EXP_MAX_FILE) {
		close(fd);
		util_err("%s: not a regular file of at most 1 GiB; nothing changed", path);
		return EXIT_USAGE;
	}
	f->buf = malloc((size_t)st.st_size + 1);
	if (!f->buf) {
		close(fd);
		util_err("out of memory");
		return EXIT_INTERNAL;
	}
	n = pread(fd, f->buf, (size_t)st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		util_err("%s: read: %s; nothing changed", path, n < 0 ? strerror(errno) : "short");
		return EXIT_USAGE;
	}
	f->len = (size_t)n;
	return 0;
}

/* Parse the file (the library's format) and check its signature with this
 * box's public key. */
static int imp_check(const char *path, const char *pubpath, struct imp_file *f)
{
	uint8_t mine[WL_SIG_PUBLEN];
	struct wl_sign_key *k;
	struct wl_err err = {0};
	bool other;
	int rc;

	if (wl_export_parse(f->buf, f->len, &f->x, &err) < 0) {
		util_err("%s: %s; nothing changed", path, err.msg);
		return err.kind == WL_E_NOMEM ? EXIT_INTERNAL : EXIT_USAGE;
	}
	if (wl_sign_key_load(pubpath, false, &k, &err) < 0) {
		util_err("import public key: %s; nothing changed", err.msg);
		return err.kind == WL_E_NOMEM ? EXIT_INTERNAL : EXIT_USAGE;
	}
	rc = wl_export_verify(f->buf, &f->x, k, &err);
	other = wl_sign_key_public(k, mine, NULL) == 0 && memcmp(mine, f->x.pub, sizeof(mine));
	wl_sign_key_free(k);
	if (rc == 0)
		return 0;
	if (other)
		util_err("%s: %s, not the one in %s; nothing changed", path, err.msg, pubpath);
	else
		util_err("%s: %s (public key %s); nothing changed", path, err.msg, pubpath);
	return err.kind == WL_E_NOMEM ? EXIT_INTERNAL : EXIT_USAGE;
}

/* ---- import: checking each file on this box ------------------------------------ */

/* IMP_MATCH: hashed, equal, in the set of found files; it becomes NEW,
 * SAME or UPDATED against the list under the writer lock. */
enum imp_outcome {
	IMP_NEW = 0,
	IMP_SAME,
	IMP_UPDATED,
	IMP_MISSING,
	IMP_DIFFERS,
	IMP_OTHER,
	IMP_KNOWN_BAD, /* matches, and the prescan named it */
	IMP_MATCH,
};

static void imp_report(const char *what, const char *path, const char *detail)
{
	printf("%-11s ", what);
	util_print_path(stdout, path);
	if (detail)
		printf(" (%s)", detail);
	putchar('\n');
}

/* Open e->path on this box and say why it cannot be approved (reported),
 * or return the fd. */
static int imp_open(const struct wl_export_entry *e)
{
	char why[PATH_MAX + 64], *real;
	struct stat st;
	int fd = open(e->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			imp_report("missing", e->path, NULL);
		else
			imp_report("unreadable", e->path,
			           errno == ELOOP ? "a symlink here" : strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EIO;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		imp_report("not-regular", e->path, NULL);
		return -EIO;
	}
	real = realpath(e->path, NULL);
	if (!real || strcmp(real, e->path) != 0) {
		snprintf(why, sizeof(why), "resolves to %s here", real ? real : "nothing");
		imp_report("elsewhere", e->path, why);
		free(real);
		close(fd);
		return -EIO;
	}
	free(real);
	return fd;
}

/* The prescan of a matching file on its fd (kb->ps may be NULL). */
static enum imp_outcome imp_prescan(struct knownbad *kb, int fd, const struct wl_entry *ent)
{
	char sig[WL_PRESCAN_SIG_LEN];
	struct wl_err err = {0};
	int rc;

	if (!kb->ps)
		return IMP_MATCH;
	rc = wl_prescan_fd(kb->ps, fd, ent->path, ent->sha256, ent->size, sig, sizeof(sig), &err);
	if (rc < 0)
		imp_report("unscanned", ent->path, err.msg);
	if (rc == WL_PRESCAN_BAD) {
		imp_report("known-bad", ent->path, sig);
		knownbad_add(kb, ent->path, sig);
	}
	return rc < 0 ? IMP_OTHER : rc == WL_PRESCAN_BAD ? IMP_KNOWN_BAD : IMP_MATCH;
}

/* Hash the file on this box; put it into found when it matches and the
 * prescan does not name it. */
static enum imp_outcome imp_one(struct wl_set *found, struct knownbad *kb,
                                const struct wl_export_entry *e)
{
	char why[2 * WL_HEX_LEN + 64], hex[WL_HEX_LEN], hex2[WL_HEX_LEN];
	struct wl_entry ent = {0};
	struct wl_err err = {0};
	enum imp_outcome out = IMP_MATCH;
	int fd = imp_open(e);

	if (fd < 0)
		return fd == -ENOENT ? IMP_MISSING : IMP_OTHER;
	if (wl_entry_from_fd(fd, e->path, &ent, NULL, &err) < 0) {
		close(fd);
		imp_report("unreadable", e->path, err.msg);
		return IMP_OTHER;
	}
	if (memcmp(ent.sha256, e->sha256, WL_SHA256_LEN) != 0) {
		wl_hex(e->sha256, hex);
		wl_hex(ent.sha256, hex2);
		snprintf(why, sizeof(why), "exported sha256 %s, here %s", hex, hex2);
		imp_report("differs", e->path, why);
		out = IMP_DIFFERS;
	} else {
		out = imp_prescan(kb, fd, &ent);
	}
	close(fd);
	if (out == IMP_MATCH && wl_set_put(found, &ent) < 0)
		out = IMP_OTHER;
	wl_entry_free(&ent);
	return out;
}

/* ---- import: the command ------------------------------------------------------- */

#define IMPORT_USAGE                                                                               \
	"hmilock import [--merge|--replace] [--no-prescan] [--pubkey FILE] [--password-file "      \
	"FILE] "                                                                                   \
	"FILE"

struct imp_opts {
	bool replace, no_prescan;
	const char *pubkey, *pwfile, *file;
};

static int import_opts(int argc, char **argv, struct imp_opts *o, int *rc)
{
	static const struct option lo[] = {
	    {"merge", no_argument, NULL, 'm'},
	    {"replace", no_argument, NULL, 'r'},
	    {"pubkey", required_argument, NULL, 'k'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"no-prescan", no_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, modes = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'm' || c == 'r')
			o->replace = c == 'r', modes |= c == 'r' ? 2 : 1;
		else if (c == 'k')
			o->pubkey = optarg;
		else if (c == 'p')
			o->pwfile = optarg;
		else if (c == 'N')
			o->no_prescan = true;
		else
			return *rc = c == 'h' ? util_help(IMPORT_USAGE)
			                      : util_usage(IMPORT_USAGE, NULL),
			       -1;
	}
	if (modes == 3 || optind + 1 != argc)
		return *rc = util_usage(IMPORT_USAGE, "%s",
		                        modes == 3 ? "import: --merge or --replace, not both"
		                                   : "import: name one FILE to import"),
		       -1;
	o->file = argv[optind];
	return 0;
}

/* Under the writer lock: the list as it is now (ctx->db, NULL for --replace
 * on a box without a list, whose key is made when there is none) and the
 * generation to write. */
static int import_target(const struct cli *cli, bool replace, struct list_ctx *ctx, uint64_t *gen)
{
	struct wl_err err = {0};
	int rc;

	if (replace && access(cli->db, F_OK) < 0 && errno == ENOENT) {
		*gen = 1;
		rc = wl_key_create(cli->key, &err);
		if (rc < 0 && rc != -EEXIST)
			return list_fail(&err);
		return wl_key_load(cli->key, ctx->key, &err) < 0 ? list_fail(&err) : 0;
	}
	rc = list_open(cli, ctx);
	if (rc)
		return rc;
	*gen = wl_db_generation(ctx->db) + 1;
	return 0;
}

/* Ask a running daemon to load the new list; only say so when none runs. */
static void import_reload(const struct cli *cli)
{
	char a0[] = "reload";
	char *av[] = {a0, NULL};

	if (access(cli->socket, F_OK) < 0) {
		printf("hmilockd is not running (no socket at %s): it loads the new list when it "
		       "starts\n",
		       cli->socket);
		return;
	}
	if (cmd_reload(cli, 1, av) != EXIT_OK)
		fprintf(stderr, "hmilock: note: the new list is written but hmilockd did not "
		                "load it (above); run 'hmilock reload'\n");
}

/* A found entry against the list it is imported into: new, already listed,
 * or listed with another hash (--replace starts from nothing). */
static enum imp_outcome import_classify(const struct wl_db *db, bool replace,
                                        const struct wl_export_entry *e)
{
	struct wl_rec r;

	if (replace || !db || wl_db_find_path(db, e->path, &r) < 0)
		return IMP_NEW;
	return memcmp(r.sha256, e->sha256, WL_SHA256_LEN) ? IMP_UPDATED : IMP_SAME;
}

/* Under the writer lock: count against the list as it is now, lay it under
 * the found files (--merge), write the next generation. */
static int import_write(const struct cli *cli, const struct imp_opts *o, struct imp_file *f,
                        const struct knownbad *kb, enum imp_outcome *out, struct wl_set *found,
                        uint64_t *gen)
{
	struct wl_db_lock *lk = NULL;
	struct list_ctx ctx = {0};
	struct wl_err err = {0};
	size_t i;
	int rc = list_lock(cli, o->replace, &lk);

	if (!rc)
		rc = import_target(cli, o->replace, &ctx, gen);
	for (i = 0; !rc && i < f->x.n; i++)
		if (out[i] == IMP_MATCH)
			out[i] = import_classify(ctx.db, o->replace, &f->x.v[i]);
	if (!rc && !o->replace && wl_db_merge_into(ctx.db, found, &err) < 0)
		rc = list_fail(&err);
	if (!rc)
		wl_set_set_flags(found,
		                 knownbad_flags(kb, o->replace || !ctx.db ? WL_DB_F_PRESCANNED
		                                                          : wl_db_flags(ctx.db)));
	if (!rc)
		rc = list_write(lk, found, *gen, ctx.key);
	list_close(&ctx);
	wl_db_unlock(lk);
	return rc;
}

/* Check every entry (hashing without the writer lock), write the list;
 * exit 1 when some were not imported. */
static int import_apply(const struct cli *cli, const struct imp_opts *o, struct imp_file *f)
{
	size_t cnt[IMP_MATCH + 1] = {0}, i, ok, bad;
	struct wl_set *found = wl_set_new();
	enum imp_outcome *out = calloc(f->x.n ? f->x.n : 1, sizeof(*out));
	struct knownbad kb = {0};
	uint64_t gen = 0;
	int rc;

	if (!found || !out) {
		util_err("out of memory");
		rc = EXIT_INTERNAL;
		goto out;
	}
	rc = knownbad_start(cli, o->no_prescan, "import", &kb, NULL);
	if (rc)
		goto out;
	for (i = 0, ok = 0; i < f->x.n; i++)
		ok += (out[i] = imp_one(found, &kb, &f->x.v[i])) == IMP_MATCH;
	bad = f->x.n - ok;
	if (ok == 0 && kb.n) {
		knownbad_report(&kb, 0, 0);
		util_err("no entry of %s is left to import; list unchanged", o->file);
		rc = EXIT_NEGATIVE;
		goto out;
	}
	if (ok == 0) {
		util_err("no entry of %s matches a file on this box; list unchanged (import an "
		         "export made on a box of the same image)",
		         o->file);
		rc = EXIT_NEGATIVE;
		goto out;
	}
	rc = import_write(cli, o, f, &kb, out, found, &gen);
	if (rc)
		goto out;
	for (i = 0; i < f->x.n; i++)
		cnt[out[i]]++;
	printf("imported %zu of %zu entries (%zu new, %zu already listed, %zu updated); not "
	       "imported: %zu missing, %zu differ, %zu known-bad, %zu other; %s: generation %llu "
	       "written to ",
	       ok, f->x.n, cnt[IMP_NEW], cnt[IMP_SAME], cnt[IMP_UPDATED], cnt[IMP_MISSING],
	       cnt[IMP_DIFFERS], cnt[IMP_KNOWN_BAD], cnt[IMP_OTHER],
	       o->replace ? "replaced" : "merged", (unsigned long long)gen);
	util_print_path(stdout, cli->db);
	printf(", %zu entries\n", wl_set_count(found));
	fflush(stdout);
	import_reload(cli);
	rc = bad ? EXIT_NEGATIVE : EXIT_OK;
	knownbad_report(&kb, ok, 0);
out:
	knownbad_end(&kb);
	free(out);
	wl_set_free(found);
	return rc;
}

int cmd_import(const struct cli *cli, int argc, char **argv)
{
	struct imp_opts o = {0};
	struct imp_file f = {0};
	int rc = EXIT_OK;

	if (import_opts(argc, argv, &o, &rc) < 0)
		return rc;
	rc = passwd_gate(cli, o.pwfile, "import");
	if (!rc)
		rc = imp_read(o.file, &f);
	if (!rc)
		rc = imp_check(o.file, o.pubkey ? o.pubkey : cli->import_pubkey, &f);
	if (!rc)
		rc = import_apply(cli, &o, &f);
	imp_free(&f);
	return rc;
}
