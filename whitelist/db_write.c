/* db_write.c - writing the approved-list file, one writer at a time: the
 * writer lock (struct wl_db_lock: an fd of the list's directory with
 * flock(LOCK_EX), owned by the writer that took it, one thread), the
 * generation check under it, and the new file built in memory and put in
 * place atomically (tmp, fsync, .prev link, rename, directory fsync). */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db_format.h"
#include "io.h"
#include "wl.h"

#define DB_LOCK_POLL_MS 10 /* retry step of a bounded wait */

struct wl_db_lock {
	int dirfd; /* O_RDONLY | O_DIRECTORY, flock(LOCK_EX) held */
	char path[PATH_MAX]; /* the list */
	char dir[PATH_MAX]; /* its directory */
	const char *base; /* its name, inside path */
};

/* ---- the writer lock --------------------------------------------------------- */

/* dir gets the directory part of path ("." if none); base the rest. */
static int db_split(const char *path, char dir[PATH_MAX], const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	if (!slash)
		return snprintf(dir, PATH_MAX, ".") < 0 ? -EINVAL : 0;
	if (slash == path)
		return snprintf(dir, PATH_MAX, "/") < 0 ? -EINVAL : 0;
	if (slash - path >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return 0;
}

/* flock(LOCK_EX) on fd: once (timeout_ms 0), for timeout_ms (> 0, polling)
 * or as long as it takes (< 0). 0 or -errno (-EWOULDBLOCK: still held). */
static int db_flock(int fd, int timeout_ms)
{
	struct timespec step = {0, DB_LOCK_POLL_MS * 1000000L};
	int waited = 0;

	for (;;) {
		if (flock(fd, LOCK_EX | (timeout_ms < 0 ? 0 : LOCK_NB)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || waited >= timeout_ms)
			return -errno;
		nanosleep(&step, NULL);
		waited += DB_LOCK_POLL_MS;
	}
}

int wl_db_lock(const char *path, int timeout_ms, struct wl_db_lock **out, struct wl_err *err)
{
	struct wl_db_lock *lk;
	int ret;

	if (!path || !path[0] || !out)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_db_lock: missing argument");
	*out = NULL;
	lk = calloc(1, sizeof(*lk));
	if (!lk)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory locking %s", path);
	lk->dirfd = -1;
	if (snprintf(lk->path, sizeof(lk->path), "%s", path) >= (int)sizeof(lk->path) ||
	    db_split(lk->path, lk->dir, &lk->base) || !lk->base[0]) {
		ret = wl_err_set(err, -ENAMETOOLONG, WL_E_USAGE, "bad list path: %s", path);
		goto fail;
	}
	lk->dirfd = open(lk->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lk->dirfd < 0) {
		ret =
		    wl_err_set(err, -errno, WL_E_IO,
		               "cannot open %s, the directory of approved list %s, to lock it: %s",
		               lk->dir, path, strerror(errno));
		goto fail;
	}
	ret = db_flock(lk->dirfd, timeout_ms);
	if (ret == -EWOULDBLOCK) {
		ret =
		    wl_err_set(err, ret, WL_E_LOCKED,
		               "approved list %s: another writer holds the list lock (on %s)%s; "
		               "nothing was written, run the command again",
		               path, lk->dir, timeout_ms > 0 ? " and did not let go in time" : "");
		goto fail;
	}
	if (ret < 0) {
		ret = wl_err_set(err, ret, WL_E_IO, "cannot lock %s for approved list %s: %s",
		                 lk->dir, path, strerror(-ret));
		goto fail;
	}
	*out = lk;
	return 0;
fail:
	wl_db_unlock(lk);
	return ret;
}

void wl_db_unlock(struct wl_db_lock *lk)
{
	if (!lk)
		return;
	if (lk->dirfd >= 0)
		close(lk->dirfd); /* drops the flock */
	free(lk);
}

/* ---- the image ----------------------------------------------------------- */

/* A list image being built in memory. */
struct db_image {
	uint8_t *buf;
	size_t size;
	struct db_header *h;
	struct db_rec *recs;
	uint32_t *hashidx;
	char *strtab;
	size_t str_used;
};

/* Sizes of every section; checks what the format cannot hold. */
static int db_image_plan(struct wl_set *s, struct db_header *h, struct wl_err *err)
{
	uint64_t n = wl_set_count(s), str = 1, i;
	const struct wl_entry *e;
	size_t plen, ilen;

	for (i = 0; i < n; i++) {
		e = wl_set_at(s, i);
		plen = strlen(e->path);
		ilen = e->interp ? strlen(e->interp) : 0;
		if ((unsigned)e->type >= WL_T__MAX || e->ctime_nsec >= 1000000000 ||
		    e->mtime_nsec >= 1000000000)
			return wl_err_set(err, -EINVAL, WL_E_USAGE,
			                  "entry %s has a bad type or timestamp", e->path);
		str += plen + 1 + (ilen ? ilen + 1 : 0);
		if (str > UINT32_MAX)
			return wl_err_set(err, -EFBIG, WL_E_USAGE,
			                  "approved list too large: paths exceed 4 GiB");
	}
	memset(h, 0, sizeof(*h));
	h->count = n;
	h->records_off = sizeof(*h);
	h->records_size = n * sizeof(struct db_rec);
	h->hashidx_off = h->records_off + h->records_size;
	h->hashidx_size = n * sizeof(uint32_t);
	h->strtab_off = (h->hashidx_off + h->hashidx_size + 7) & ~(uint64_t)7;
	h->strtab_size = str;
	h->total_size = h->strtab_off + h->strtab_size + DB_MAC_LEN;
	return 0;
}

static uint32_t db_image_string(struct db_image *im, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	uint32_t off = (uint32_t)im->str_used;

	if (!len)
		return 0; /* the "" at offset 0 */
	memcpy(im->strtab + off, s, len + 1);
	im->str_used += len + 1;
	return off;
}

static void db_image_record(struct db_image *im, const struct wl_entry *e, struct db_rec *r)
{
	memcpy(r->sha256, e->sha256, WL_SHA256_LEN);
	r->size = htole64(e->size);
	r->dev = htole64(e->dev);
	r->ino = htole64(e->ino);
	r->ctime_sec = (int64_t)htole64((uint64_t)e->ctime_sec);
	r->mtime_sec = (int64_t)htole64((uint64_t)e->mtime_sec);
	r->ctime_nsec = htole32(e->ctime_nsec);
	r->mtime_nsec = htole32(e->mtime_nsec);
	r->mode = htole32(e->mode);
	r->uid = htole32(e->uid);
	r->gid = htole32(e->gid);
	r->type = htole32((uint32_t)e->type);
	r->path_off = htole32(db_image_string(im, e->path));
	r->path_len = htole32((uint32_t)strlen(e->path));
	r->interp_off = htole32(db_image_string(im, e->interp));
	r->interp_len = htole32(e->interp ? (uint32_t)strlen(e->interp) : 0);
}

static int db_qsort_idx(const void *a, const void *b, void *recs)
{
	return db_idx_cmp(recs, *(const uint32_t *)a, *(const uint32_t *)b);
}

/* Header in little-endian; plan holds the host-order sizes. */
static void db_image_header(struct db_image *im, const struct db_header *plan, uint64_t gen,
                            uint32_t flags)
{
	struct db_header *h = im->h;

	memcpy(h->magic, DB_MAGIC, DB_MAGIC_LEN);
	h->version = htole32(WL_DB_VERSION);
	h->header_size = htole32(sizeof(*h));
	h->generation = htole64(gen);
	h->count = htole64(plan->count);
	h->hash_alg = htole32(DB_ALG_SHA256);
	h->mac_alg = htole32(DB_MAC_HMAC_SHA256);
	h->record_size = htole32(sizeof(struct db_rec));
	h->flags = htole32(flags & WL_DB_F_KNOWN);
	h->records_off = htole64(plan->records_off);
	h->records_size = htole64(plan->records_size);
	h->hashidx_off = htole64(plan->hashidx_off);
	h->hashidx_size = htole64(plan->hashidx_size);
	h->strtab_off = htole64(plan->strtab_off);
	h->strtab_size = htole64(plan->strtab_size);
	h->total_size = htole64(plan->total_size);
}

/* Build the whole list, MAC included, in im->buf (zeroed padding). */
static int db_image_build(struct db_image *im, struct wl_set *s, uint64_t gen,
                          const uint8_t key[WL_KEY_LEN], struct wl_err *err)
{
	struct db_header plan = {0};
	size_t i;
	int ret;

	ret = db_image_plan(s, &plan, err);
	if (ret)
		return ret;
	im->size = plan.total_size;
	im->buf = calloc(1, im->size);
	if (!im->buf)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM,
		                  "out of memory building a list of %zu entries", wl_set_count(s));
	im->h = (struct db_header *)im->buf;
	im->recs = (struct db_rec *)(im->buf + plan.records_off);
	im->hashidx = (uint32_t *)(im->buf + plan.hashidx_off);
	im->strtab = (char *)im->buf + plan.strtab_off;
	im->str_used = 1;
	db_image_header(im, &plan, gen, wl_set_flags(s));
	for (i = 0; i < plan.count; i++) {
		db_image_record(im, wl_set_at(s, i), &im->recs[i]);
		im->hashidx[i] = (uint32_t)i;
	}
	qsort_r(im->hashidx, plan.count, sizeof(uint32_t), db_qsort_idx, im->recs);
	for (i = 0; i < plan.count; i++)
		im->hashidx[i] = htole32(im->hashidx[i]);
	if (db_hmac(key, im->buf, im->size - DB_MAC_LEN, im->buf + im->size - DB_MAC_LEN))
		return wl_err_set(err, -EIO, WL_E_IO, "OpenSSL HMAC-SHA256 failed");
	return 0;
}

/* ---- putting it in place ---------------------------------------------------- */

/* Remove "<base>.tmp.<pid>" files left by writers that died (SIGKILL, power
 * cut). Best effort: a live pid's file is never touched. */
static void db_clean_stale(const char *dir, const char *base)
{
	size_t blen = strlen(base);
	struct dirent *de;
	char *end;
	long pid;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0 || strncmp(de->d_name + blen, ".tmp.", 5))
			continue;
		errno = 0;
		pid = strtol(de->d_name + blen + 5, &end, 10);
		if (errno || *end || end == de->d_name + blen + 5 || pid <= 0 || pid > INT_MAX)
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/* Write the image to tmp (new file, 0600) and fsync it. */
static int db_write_tmp(const char *tmp, const struct db_image *im, struct wl_err *err)
{
	const char *what = "create";
	int fd, ret;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Ours by name but not by process: left from before a reboot. */
		unlink(tmp);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0)
		return wl_err_set(err, -errno, WL_E_IO, "cannot create %s: %s", tmp,
		                  strerror(errno));
	what = "write";
	ret = io_write_all(fd, im->buf, im->size);
	if (!ret) {
		what = "fsync";
		ret = fsync(fd) ? -errno : 0;
	}
	if (close(fd) && !ret) {
		what = "close";
		ret = -errno;
	}
	if (ret) {
		unlink(tmp);
		return wl_err_set(err, ret, WL_E_IO, "cannot %s %s: %s", what, tmp, strerror(-ret));
	}
	return 0;
}

/* Keep the current list (if any) as path.prev by a second hard link, so that
 * path itself never goes missing. A current file that does not verify
 * (good false) is kept as path.bad instead, so it cannot push out a good
 * .prev. */
static int db_keep_prev(const char *path, bool exists, bool good, struct wl_err *err)
{
	char keep[PATH_MAX + 8];

	if (!exists)
		return 0;
	if (snprintf(keep, sizeof(keep), "%s.%s", path, good ? "prev" : "bad") >= (int)sizeof(keep))
		return wl_err_set(err, -ENAMETOOLONG, WL_E_USAGE, "path too long: %s", path);
	if (unlink(keep) && errno != ENOENT)
		return wl_err_set(err, -errno, WL_E_IO, "cannot remove %s: %s", keep,
		                  strerror(errno));
	if (link(path, keep))
		return wl_err_set(err, -errno, WL_E_IO, "cannot keep %s as %s: %s", path, keep,
		                  strerror(errno));
	return 0;
}

static int db_sync_dir(int dirfd, const char *dir, const char *path, struct wl_err *err)
{
	if (fsync(dirfd) == 0)
		return 0;
	return wl_err_set(err, -errno, WL_E_IO,
	                  "new list %s is in place but directory %s could not be synced "
	                  "(%s): it may not survive a power cut; run the command again",
	                  path, dir, strerror(errno));
}

/* The list on disk now, under the lock: does it exist, does it verify, and
 * is it still at the generation the change was made against? A file that
 * does not verify was not written by a writer of this protocol (it is kept
 * as .bad), so no change of one can be lost by replacing it. */
static int db_check_base(const char *path, uint64_t expected, const uint8_t key[WL_KEY_LEN],
                         bool *exists, bool *good, struct wl_err *err)
{
	struct wl_db *cur = NULL;
	uint64_t gen = 0;
	struct stat st;

	*exists = lstat(path, &st) == 0 || errno != ENOENT;
	*good = *exists && wl_db_open(path, key, &cur, NULL) == 0;
	if (*good)
		gen = wl_db_generation(cur);
	wl_db_close(cur);
	if (!*exists && expected != 0)
		return wl_err_set(err, -ESTALE, WL_E_STALE,
		                  "approved list %s is gone, this change was made against "
		                  "generation %llu; nothing was written, run the command again",
		                  path, (unsigned long long)expected);
	if (*good && gen != expected)
		return wl_err_set(err, -ESTALE, WL_E_STALE,
		                  "approved list %s is now at generation %llu, this change was "
		                  "made against generation %llu (another writer changed it); "
		                  "nothing was written, run the command again",
		                  path, (unsigned long long)gen, (unsigned long long)expected);
	return 0;
}

int wl_db_write(struct wl_db_lock *lk, struct wl_set *s, uint64_t generation, uint64_t expected_gen,
                const uint8_t key[WL_KEY_LEN], struct wl_err *err)
{
	struct db_image im = {0};
	char tmp[PATH_MAX];
	const char *path, *base;
	bool exists, good;
	int ret;

	if (!lk || !s || !key)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_db_write: missing argument");
	path = lk->path;
	base = lk->base;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return wl_err_set(err, -ENAMETOOLONG, WL_E_USAGE, "bad list path: %s", path);
	ret = db_image_build(&im, s, generation, key, err);
	if (!ret)
		ret = db_check_base(path, expected_gen, key, &exists, &good, err);
	if (ret)
		goto free_image;
	db_clean_stale(lk->dir, base);
	ret = db_write_tmp(tmp, &im, err);
	if (ret)
		goto free_image;
	ret = db_keep_prev(path, exists, good, err);
	if (!ret && rename(tmp, path))
		ret = wl_err_set(err, -errno, WL_E_IO, "cannot rename %s to %s: %s", tmp, path,
		                 strerror(errno));
	if (ret) {
		unlink(tmp);
		goto free_image;
	}
	ret = db_sync_dir(lk->dirfd, lk->dir, path, err);
free_image:
	free(im.buf);
	return ret;
}
