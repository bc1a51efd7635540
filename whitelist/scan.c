/* scan.c - wl_scan(): the calling thread walks the roots without following
 * symlinks (openat from the parent's fd, so depth is no limit) and queues
 * the regular files that may qualify; worker threads classify and hash them
 * meanwhile. The calling thread owns the walk, its directory fds and the
 * wl_set; a worker owns the file fd it opens and the result fields of the
 * candidates it took from the queue (under scan.lock). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "wl.h"

#define SCAN_MAX_WORKERS 256
#define SCAN_CHUNK 4096 /* candidates per chunk; chunks never move */
#define SCAN_REPORT_NS 100000000L /* progress about every 100 ms */
#define SCAN_OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
#define SCAN_PROBLEM_LEN sizeof(((struct wl_scan_stats *)0)->problems[0])

/* One regular file found by the walk, and what became of it. */
struct scan_cand {
	char *path;
	uint64_t size;
	dev_t dev;
	ino_t ino;
	uint8_t result; /* a wl_skip, or SCAN_APPROVED with e filled */
	bool unscanned; /* approved, too large for the prescan's engine */
	struct wl_entry e;
};

enum { SCAN_APPROVED = WL_SKIP__MAX };

struct scan {
	const struct wl_scan_opts *opts;
	struct wl_scan_stats *stats;
	struct timespec t0, last;
	dev_t *pseudo; /* st_dev of mounted pseudo filesystems (mountinfo) */
	size_t n_pseudo;
	char path[PATH_MAX + NAME_MAX + 2]; /* the walk's current path */
	uint64_t bytes_total; /* walk only */
	/* the queue, under lock: chunks[i / SCAN_CHUNK][i % SCAN_CHUNK] */
	pthread_mutex_t lock; /* also guards stats->problems */
	pthread_cond_t more; /* a candidate was queued, or the walk ended */
	pthread_cond_t idle; /* a worker finished */
	struct scan_cand **chunks;
	size_t n_chunks, n, next;
	bool walk_done;
	unsigned running;
	atomic_uint_fast64_t files_done, bytes_done; /* by the workers */
};

static const char *const scan_skip_names[WL_SKIP__MAX] = {
    [WL_SKIP_NOT_EXEC] = "not-executable", [WL_SKIP_SPECIAL] = "special",
    [WL_SKIP_SYMLINK] = "symlink",         [WL_SKIP_PSEUDOFS] = "pseudo-fs",
    [WL_SKIP_OTHER_FS] = "other-fs",       [WL_SKIP_UNREADABLE] = "unreadable",
    [WL_SKIP_UNSTABLE] = "unstable",       [WL_SKIP_TOO_LONG] = "too-long",
    [WL_SKIP_KNOWN_BAD] = "known-bad",     [WL_SKIP_PRESCAN_FAILED] = "prescan-failed",
};

const char *wl_skip_name(enum wl_skip s)
{
	if ((unsigned)s >= WL_SKIP__MAX)
		return "unknown";
	return scan_skip_names[s];
}

/* ---- bookkeeping -------------------------------------------------------- */

static double scan_elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* "path: why" (or a message that names its path: path NULL) in one
 * problems[] slot; an overlong path keeps its tail. */
static void scan_format_problem(char *dst, const char *path, const char *why)
{
	size_t wlen = strnlen(why, SCAN_PROBLEM_LEN / 3), plen, room;
	char *p = dst;

	if (!path) {
		snprintf(dst, SCAN_PROBLEM_LEN, "%s", why);
		return;
	}
	plen = strlen(path);
	room = SCAN_PROBLEM_LEN - wlen - 3; /* ": " and the NUL */
	if (plen > room) {
		memcpy(p, "...", 3);
		p += 3;
		path += plen - (room - 3);
		plen = room - 3;
	}
	memcpy(p, path, plen);
	p += plen;
	memcpy(p, ": ", 2);
	memcpy(p + 2, why, wlen);
	p[2 + wlen] = '\0';
}

/* Remember a problem for the caller to show (first 16 only). Thread-safe. */
static void scan_problem(struct scan *s, const char *path, const char *why)
{
	struct wl_scan_stats *st = s->stats;

	pthread_mutex_lock(&s->lock);
	if (st->n_problems < sizeof(st->problems) / sizeof(st->problems[0]))
		scan_format_problem(st->problems[st->n_problems++], path, why);
	pthread_mutex_unlock(&s->lock);
}

/* Count a skip seen by the walk (calling thread only). */
static void scan_skip(struct scan *s, enum wl_skip why, const char *problem)
{
	s->stats->skipped[why]++;
	if (problem)
		scan_problem(s, s->path, problem);
}

static void scan_report(struct scan *s, bool force)
{
	struct wl_scan_progress p;
	struct timespec now;

	if (!s->opts->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!force && scan_elapsed(&s->last, &now) * 1e9 < SCAN_REPORT_NS)
		return;
	s->last = now;
	p.files_total = s->n;
	p.bytes_total = s->bytes_total;
	p.files_done = atomic_load(&s->files_done);
	p.bytes_done = atomic_load(&s->bytes_done);
	p.elapsed = scan_elapsed(&s->t0, &now);
	s->opts->progress(&p, s->opts->progress_arg);
}

/* ---- pseudo filesystems ----------------------------------------------- */

static bool scan_pseudo_magic(unsigned long type)
{
	static const unsigned long magic[] = {
	    PROC_SUPER_MAGIC,   SYSFS_MAGIC,    CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
	    BPF_FS_MAGIC,       DEBUGFS_MAGIC,  TRACEFS_MAGIC,      SECURITYFS_MAGIC,
	    DEVPTS_SUPER_MAGIC, PSTOREFS_MAGIC, EFIVARFS_MAGIC,     SELINUX_MAGIC,
	    BINFMTFS_MAGIC,     NSFS_MAGIC,
	};
	size_t i;

	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if (type == magic[i])
			return true;
	return false;
}

static bool scan_pseudo_name(const char *fstype)
{
	static const char *const names[] = {
	    "proc",     "sysfs",    "devtmpfs",   "cgroup",      "cgroup2", "bpf",
	    "debugfs",  "tracefs",  "securityfs", "devpts",      "mqueue",  "pstore",
	    "configfs", "efivarfs", "selinuxfs",  "binfmt_misc", "fusectl", "nsfs",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(fstype, names[i]) == 0)
			return true;
	return false;
}

/* Collect st_dev of every pseudo filesystem in /proc/self/mountinfo: the one
 * way to tell devtmpfs (statfs says TMPFS_MAGIC) from a real tmpfs. Without
 * mountinfo the statfs magic check still applies. */
static int scan_load_mounts(struct scan *s)
{
	char *line = NULL, fstype[64];
	unsigned int maj, min;
	size_t cap = 0, n = 0;
	const char *sep;
	dev_t *p;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2 ||
		    sscanf(sep + 3, "%63s", fstype) != 1 || !scan_pseudo_name(fstype))
			continue;
		p = realloc(s->pseudo, (n + 1) * sizeof(*p));
		if (!p) {
			free(line);
			fclose(f);
			return -ENOMEM;
		}
		s->pseudo = p;
		s->pseudo[n++] = makedev(maj, min);
	}
	s->n_pseudo = n;
	free(line);
	fclose(f);
	return 0;
}

static bool scan_pseudo_dev(const struct scan *s, dev_t dev)
{
	size_t i;

	for (i = 0; i < s->n_pseudo; i++)
		if (s->pseudo[i] == dev)
			return true;
	return false;
}

/* ---- the queue ---------------------------------------------------------- */

static struct scan_cand *scan_slot(const struct scan *s, size_t i)
{
	return &s->chunks[i / SCAN_CHUNK][i % SCAN_CHUNK];
}

/* Queue the regular file s->path for the workers. */
static int scan_queue(struct scan *s, const struct stat *st)
{
	struct scan_cand *c, **chunks;

	if (s->n % SCAN_CHUNK == 0 && s->n / SCAN_CHUNK == s->n_chunks) {
		c = calloc(SCAN_CHUNK, sizeof(*c));
		if (!c)
			return -ENOMEM;
		pthread_mutex_lock(&s->lock); /* workers read chunks[] under lock */
		chunks = realloc(s->chunks, (s->n_chunks + 1) * sizeof(*chunks));
		if (chunks) {
			s->chunks = chunks;
			s->chunks[s->n_chunks++] = c;
		}
		pthread_mutex_unlock(&s->lock);
		if (!chunks) {
			free(c);
			return -ENOMEM;
		}
	}
	c = scan_slot(s, s->n); /* not yet visible to the workers */
	c->path = strdup(s->path);
	if (!c->path)
		return -ENOMEM;
	c->size = (uint64_t)st->st_size;
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	s->bytes_total += c->size;
	pthread_mutex_lock(&s->lock);
	s->n++;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Open a file to read it. O_NOATIME (for the owner or root) spares the
 * disk an inode write per file looked at, which matters on flash. */
static int scan_open(int dfd, const char *name)
{
	int fd = openat(dfd, name, SCAN_OPEN_FLAGS | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = openat(dfd, name, SCAN_OPEN_FLAGS);
	return fd;
}

/* ---- the walk ----------------------------------------------------------- */

static bool scan_magic(const unsigned char *m, ssize_t n)
{
	return (n >= 4 && memcmp(m, "\177ELF", 4) == 0) || (n >= 2 && m[0] == '#' && m[1] == '!');
}

/* A regular file qualifies by an x bit, or else only as ELF or #! (wl.h):
 * read its first bytes here, so that data files never reach a worker.
 * pre is the fstatat() result, or NULL when readdir's d_type said DT_REG;
 * either way the type was checked before the open, and the open uses
 * O_NONBLOCK|O_NOFOLLOW with an fstat after it, so a FIFO swapped in
 * meanwhile neither hangs us nor gets read. */
static int scan_regular(struct scan *s, int dfd, const char *name, const struct stat *pre)
{
	bool all = s->opts->all_files, check;
	unsigned char m[4];
	struct stat st;
	ssize_t n;
	int fd;

	if (pre && (all || (pre->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))))
		return scan_queue(s, pre);
	fd = scan_open(dfd, name);
	if (fd < 0) {
		if (errno != ENOENT)
			scan_skip(s, WL_SKIP_UNREADABLE, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (pre && (st.st_ino != pre->st_ino || st.st_dev != pre->st_dev))) {
		close(fd);
		scan_skip(s, WL_SKIP_UNSTABLE, "replaced during the scan");
		return 0;
	}
	check = !all && !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH));
	do
		n = check ? pread(fd, m, sizeof(m), 0) : 0;
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		scan_skip(s, WL_SKIP_UNREADABLE, strerror(errno));
	else if (check && !scan_magic(m, n))
		scan_skip(s, WL_SKIP_NOT_EXEC, NULL);
	else
		return scan_queue(s, &st);
	return 0;
}

static int scan_dir(struct scan *s, int dfd, size_t plen, dev_t dev);

/* Enter directory `name` of dfd (s->path names it). Never follows a
 * symlink, never enters a pseudo filesystem, and with one_fs never leaves
 * the filesystem of its parent (dev). */
static int scan_subdir(struct scan *s, int dfd, const char *name, const struct stat *st, dev_t dev)
{
	struct statfs sf;
	struct stat st2;
	int fd;

	if (st->st_dev != dev && scan_pseudo_dev(s, st->st_dev)) {
		scan_skip(s, WL_SKIP_PSEUDOFS, NULL);
		return 0;
	}
	if (st->st_dev != dev && s->opts->one_fs) {
		scan_skip(s, WL_SKIP_OTHER_FS, NULL);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			scan_skip(s, WL_SKIP_UNREADABLE, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
		scan_skip(s, WL_SKIP_UNSTABLE, "directory replaced during the scan");
		close(fd);
		return 0;
	}
	if (st->st_dev != dev && fstatfs(fd, &sf) == 0 &&
	    scan_pseudo_magic((unsigned long)sf.f_type)) {
		scan_skip(s, WL_SKIP_PSEUDOFS, NULL);
		close(fd);
		return 0;
	}
	return scan_dir(s, fd, strlen(s->path), st->st_dev);
}

/* Sort one directory entry (s->path already names it). readdir's d_type
 * spares an fstatat for regular files (opened and fstat'ed anyway),
 * symlinks and special files; directories and DT_UNKNOWN get one. */
static int scan_dirent(struct scan *s, int dfd, const char *name, unsigned char type, dev_t dev)
{
	bool too_long = strlen(s->path) >= PATH_MAX;
	struct stat st;

	if (type != DT_DIR && type != DT_UNKNOWN) {
		s->stats->files_seen++;
		if (too_long)
			scan_skip(s, WL_SKIP_TOO_LONG, "path longer than PATH_MAX");
		else if (type == DT_REG)
			return scan_regular(s, dfd, name, NULL);
		else
			scan_skip(s, type == DT_LNK ? WL_SKIP_SYMLINK : WL_SKIP_SPECIAL, NULL);
		return 0;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT) /* gone since readdir: nothing to count */
			scan_skip(s, WL_SKIP_UNREADABLE, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		s->stats->files_seen++;
	if (too_long)
		scan_skip(s, WL_SKIP_TOO_LONG, "path longer than PATH_MAX");
	else if (S_ISDIR(st.st_mode))
		return scan_subdir(s, dfd, name, &st, dev);
	else if (S_ISREG(st.st_mode))
		return scan_regular(s, dfd, name, &st);
	else
		scan_skip(s, S_ISLNK(st.st_mode) ? WL_SKIP_SYMLINK : WL_SKIP_SPECIAL, NULL);
	return 0;
}

/* Walk the open directory dfd (closed here) whose path is s->path[0..plen). */
static int scan_dir(struct scan *s, int dfd, size_t plen, dev_t dev)
{
	size_t base = plen == 1 ? 1 : plen + 1; /* "/" + name, or dir + "/" + name */
	struct dirent *de;
	int ret = 0;
	DIR *d = fdopendir(dfd);

	if (!d) {
		scan_skip(s, WL_SKIP_UNREADABLE, strerror(errno));
		close(dfd);
		return 0;
	}
	for (errno = 0; !ret && (de = readdir(d)) != NULL; errno = 0) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s->path[plen] = '/';
		snprintf(s->path + base, sizeof(s->path) - base, "%s", de->d_name);
		ret = scan_dirent(s, dfd, de->d_name, de->d_type, dev);
		s->path[plen] = '\0';
		scan_report(s, false);
	}
	if (!ret && errno) {
		s->path[plen] = '\0';
		scan_skip(s, WL_SKIP_UNREADABLE, strerror(errno));
	}
	closedir(d);
	return ret;
}

/* ---- roots ------------------------------------------------------------ */

/* The absolute path of root with symlinks resolved above it but not in its
 * last component (that one is never followed): "/bin/x" -> "/usr/bin/x". */
static int scan_abs_root(const char *root, char out[PATH_MAX])
{
	char buf[PATH_MAX], dir[PATH_MAX], *slash, *base;
	size_t len = strlen(root);

	if (len == 0 || len >= PATH_MAX)
		return len ? -ENAMETOOLONG : -ENOENT;
	memcpy(buf, root, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	slash = strrchr(buf, '/');
	base = slash ? slash + 1 : buf;
	if (strcmp(buf, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return realpath(buf, out) ? 0 : -errno;
	if (slash == buf)
		strcpy(dir, "/");
	else if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - buf), buf);
	else
		strcpy(dir, ".");
	if (!realpath(dir, out))
		return -errno;
	len = strlen(out);
	if ((size_t)snprintf(out + len, PATH_MAX - len, "%s%s", len == 1 ? "" : "/", base) >=
	    PATH_MAX - len)
		return -ENAMETOOLONG;
	return 0;
}

/* Canonical roots, in order, without duplicates (and without roots inside
 * another root unless one_fs may stop that one at a mount point). */
static int scan_roots(const struct scan *s, const char *const *roots, size_t n, char **abs,
                      size_t *n_abs, struct wl_err *err)
{
	struct stat st;
	size_t i, j, len;
	int ret;

	for (i = 0, *n_abs = 0; i < n; i++) {
		abs[*n_abs] = malloc(PATH_MAX);
		if (!abs[*n_abs])
			return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory");
		ret = roots[i] ? scan_abs_root(roots[i], abs[*n_abs]) : -EINVAL;
		if (!ret && lstat(abs[*n_abs], &st) < 0) /* fail before any work */
			ret = -errno;
		if (ret)
			return wl_err_set(err, ret, WL_E_IO, "cannot scan %s: %s",
			                  roots[i] ? roots[i] : "(null)", strerror(-ret));
		(*n_abs)++;
	}
	for (i = 0; i < *n_abs; i++) {
		for (j = 0; j < *n_abs && abs[i][0]; j++) {
			len = strlen(abs[j]);
			if (i == j || !abs[j][0] || strncmp(abs[i], abs[j], len) != 0)
				continue;
			if (abs[i][len] == '\0'
			        ? j < i
			        : (!s->opts->one_fs && (abs[i][len] == '/' || len == 1)))
				abs[i][0] = '\0'; /* walked as part of root j */
		}
	}
	return 0;
}

static int scan_root_dir(struct scan *s, const struct stat *st, struct wl_err *err)
{
	struct statfs sf;
	int fd;

	if (scan_pseudo_dev(s, st->st_dev)) {
		scan_skip(s, WL_SKIP_PSEUDOFS, NULL);
		return 0;
	}
	fd = open(s->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return wl_err_set(err, -errno, WL_E_IO, "cannot open directory %s: %s", s->path,
		                  strerror(errno));
	if (fstatfs(fd, &sf) == 0 && scan_pseudo_magic((unsigned long)sf.f_type)) {
		scan_skip(s, WL_SKIP_PSEUDOFS, NULL);
		close(fd);
		return 0;
	}
	return scan_dir(s, fd, strlen(s->path), st->st_dev);
}

static int scan_root(struct scan *s, const char *root, struct wl_err *err)
{
	struct stat st;
	int ret = 0;

	snprintf(s->path, sizeof(s->path), "%s", root);
	if (lstat(s->path, &st) < 0)
		return wl_err_set(err, -errno, WL_E_IO, "cannot scan %s: %s", root,
		                  strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		ret = scan_root_dir(s, &st, err);
	} else if (S_ISREG(st.st_mode)) {
		s->stats->files_seen++;
		ret = scan_regular(s, AT_FDCWD, root, &st);
	} else {
		s->stats->files_seen++;
		scan_skip(s, S_ISLNK(st.st_mode) ? WL_SKIP_SYMLINK : WL_SKIP_SPECIAL, NULL);
	}
	if (ret == -ENOMEM)
		ret = wl_err_set(err, ret, WL_E_NOMEM, "out of memory scanning %s", root);
	return ret;
}

/* ---- the workers ------------------------------------------------------- */

/* The prescan of a hashed candidate: of the bytes hashed when the hash
 * kept them (kept), else on its fd. Its result. */
static uint8_t scan_prescan(struct scan *s, struct scan_cand *c, int fd, const uint8_t *kept)
{
	const struct wl_prescan *ps = s->opts->prescan;
	char sig[WL_PRESCAN_SIG_LEN];
	struct wl_err err;
	int rc =
	    kept ? wl_prescan_mem(ps, kept, c->e.size, c->path, c->e.sha256, sig, sizeof(sig), &err)
	         : wl_prescan_fd(ps, fd, c->path, c->e.sha256, c->e.size, sig, sizeof(sig), &err);

	if (rc == WL_PRESCAN_UNSCANNED)
		c->unscanned = true;
	if (rc >= 0 && rc != WL_PRESCAN_BAD)
		return SCAN_APPROVED;
	wl_entry_free(&c->e);
	if (rc < 0) {
		scan_problem(s, NULL, err.msg); /* names the file */
		return rc == -ESTALE ? WL_SKIP_UNSTABLE : WL_SKIP_PRESCAN_FAILED;
	}
	if (s->opts->known_bad) {
		pthread_mutex_lock(&s->lock);
		s->opts->known_bad(c->path, sig, s->opts->known_bad_arg);
		pthread_mutex_unlock(&s->lock);
	}
	return WL_SKIP_KNOWN_BAD;
}

/* Classify and hash the open candidate into c->e; with a prescan, the
 * bytes are hashed from the thread's prescan buffer (when the file fits)
 * so that the scan reads no byte again: *kept then points at them. */
static int scan_hash(struct scan *s, struct scan_cand *c, int fd, uint64_t size,
                     struct wl_class *cls, const uint8_t **kept, struct wl_err *err)
{
	struct wl_hash_limits lim = {0};
	uint64_t n = 0;
	int rc;

	lim.keep = wl_prescan_buf(s->opts->prescan, size);
	lim.keep_cap = size + 1; /* the spare byte sees the end */
	lim.kept = &n;
	rc = wl_entry_from_fd_lim(fd, c->path, &c->e, cls, lim.keep ? &lim : NULL, err);
	*kept = rc == 0 && lim.keep && n == c->e.size ? lim.keep : NULL;
	return rc;
}

/* Open, check, classify, hash and prescan one candidate; returns its
 * result. */
static uint8_t scan_one(struct scan *s, struct scan_cand *c)
{
	bool all = s->opts->all_files;
	const uint8_t *kept = NULL;
	struct wl_class cls;
	struct wl_err err;
	struct stat st;
	uint8_t res = SCAN_APPROVED;
	int fd = scan_open(AT_FDCWD, c->path);

	if (fd < 0) {
		scan_problem(s, c->path, strerror(errno));
		return WL_SKIP_UNREADABLE;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != c->dev ||
	    st.st_ino != c->ino) {
		scan_problem(s, c->path, "replaced during the scan");
		res = WL_SKIP_UNSTABLE;
	} else if (scan_hash(s, c, fd, (uint64_t)st.st_size, &cls, &kept, &err) < 0) {
		scan_problem(s, NULL, err.msg); /* names the file */
		res = err.kind == WL_E_UNSTABLE ? WL_SKIP_UNSTABLE : WL_SKIP_UNREADABLE;
	} else {
		if (!all && !wl_class_qualifies(&cls, c->e.mode)) {
			wl_entry_free(&c->e);
			res = WL_SKIP_NOT_EXEC;
		} else if (s->opts->prescan) {
			res = scan_prescan(s, c, fd, kept);
		}
		wl_class_free(&cls);
	}
	close(fd);
	return res;
}

static void *scan_worker(void *arg)
{
	struct scan *s = arg;
	struct scan_cand *c;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->next >= s->n && !s->walk_done)
			pthread_cond_wait(&s->more, &s->lock);
		if (s->next >= s->n)
			break;
		c = scan_slot(s, s->next++);
		pthread_mutex_unlock(&s->lock);
		c->result = scan_one(s, c);
		atomic_fetch_add(&s->bytes_done, c->size);
		atomic_fetch_add(&s->files_done, 1);
		pthread_mutex_lock(&s->lock);
	}
	s->running--;
	pthread_cond_signal(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static unsigned scan_workers(const struct scan *s)
{
	long n = s->opts->workers ? (long)s->opts->workers : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n > SCAN_MAX_WORKERS ? SCAN_MAX_WORKERS : (unsigned)n;
}

static unsigned scan_start(struct scan *s, pthread_t *tid)
{
	unsigned n = scan_workers(s), started;

	pthread_mutex_lock(&s->lock);
	for (started = 0; started < n; started++) {
		if (pthread_create(&tid[started], NULL, scan_worker, s) != 0)
			break;
		s->running++;
	}
	pthread_mutex_unlock(&s->lock);
	return started;
}

/* End of the walk: let the workers drain the queue (or drop it on error)
 * while the calling thread reports progress. */
static void scan_finish(struct scan *s, pthread_t *tid, unsigned started, bool drop)
{
	struct timespec until;
	unsigned i;

	pthread_mutex_lock(&s->lock);
	s->walk_done = true;
	if (drop)
		s->n = s->next;
	pthread_cond_broadcast(&s->more);
	while (s->running > 0) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += SCAN_REPORT_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->idle, &s->lock, &until);
		pthread_mutex_unlock(&s->lock);
		scan_report(s, false);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (started == 0 && !drop) { /* no thread could start: work here */
		s->running = 1;
		scan_worker(s);
	}
}

/* ---- results ------------------------------------------------------------ */

/* Move approved entries into out and count the rest. */
static int scan_collect(struct scan *s, struct wl_set *out, struct wl_err *err)
{
	struct wl_scan_stats *st = s->stats;
	struct scan_cand *c;
	int ret = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		c = scan_slot(s, i);
		if (c->result != SCAN_APPROVED) {
			st->skipped[c->result]++;
			continue;
		}
		if (!ret) {
			ret = wl_set_put(out, &c->e);
			if (ret)
				wl_err_set(err, ret, WL_E_NOMEM, "cannot add %s to the list: %s",
				           c->e.path, strerror(-ret));
		}
		if (!ret) {
			st->approved++;
			st->bytes_hashed += c->e.size;
			st->prescan_unscanned += c->unscanned;
		}
		wl_entry_free(&c->e);
	}
	return ret;
}

static void scan_free(struct scan *s)
{
	size_t i;

	for (i = 0; i < s->n_chunks * SCAN_CHUNK; i++) {
		free(scan_slot(s, i)->path);
		wl_entry_free(&scan_slot(s, i)->e);
	}
	for (i = 0; i < s->n_chunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s->pseudo);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->more);
	pthread_cond_destroy(&s->idle);
}

static int scan_walk(struct scan *s, const char *const *roots, size_t n_roots, struct wl_err *err)
{
	char **abs = calloc(n_roots + 1, sizeof(*abs));
	size_t n_abs = 0, i;
	int ret;

	if (!abs)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory");
	ret = scan_roots(s, roots, n_roots, abs, &n_abs, err);
	for (i = 0; !ret && i < n_abs; i++)
		if (abs[i][0])
			ret = scan_root(s, abs[i], err);
	for (i = 0; i < n_roots; i++)
		free(abs[i]);
	free(abs);
	return ret;
}

int wl_scan(const char *const *roots, size_t n_roots, const struct wl_scan_opts *opts,
            struct wl_set *out, struct wl_scan_stats *stats, struct wl_err *err)
{
	static const struct wl_scan_opts defaults;
	pthread_t tid[SCAN_MAX_WORKERS];
	struct wl_scan_stats local;
	struct timespec end;
	unsigned started;
	struct scan *s;
	int ret = 0;

	if (!roots || !out)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_scan: missing argument");
	s = calloc(1, sizeof(*s));
	if (!s)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory starting a scan");
	s->opts = opts ? opts : &defaults;
	s->stats = stats ? stats : &local;
	memset(s->stats, 0, sizeof(*s->stats));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->more, NULL);
	pthread_cond_init(&s->idle, NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->last = s->t0;
	if (scan_load_mounts(s) < 0)
		ret = wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory reading mountinfo");
	started = ret ? 0 : scan_start(s, tid);
	if (!ret)
		ret = scan_walk(s, roots, n_roots, err);
	scan_finish(s, tid, started, ret != 0);
	if (!ret)
		ret = scan_collect(s, out, err);
	clock_gettime(CLOCK_MONOTONIC, &end);
	s->stats->seconds = scan_elapsed(&s->t0, &end);
	if (!ret)
		scan_report(s, true);
	scan_free(s);
	free(s);
	return ret;
}
