/* entry.c - struct wl_entry from an open file: identity (fstat), class and
 * a stable SHA-256, all through the caller's fd (never re-opened by path).
 * Owns the strings it puts into the entry until the caller frees or hands
 * them on (wl_set_put). Any thread may call these. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

static bool entry_same_state(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void entry_fill(struct wl_entry *e, const struct stat *st, const struct wl_class *c)
{
	e->size = (uint64_t)st->st_size;
	e->type = c->type;
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->ctime_sec = st->st_ctim.tv_sec;
	e->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	e->mtime_sec = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
}

/* Classify, then hash; when the file moved between the two, classify and
 * hash once more so type and hash describe the same content. */
static int entry_class_hash(int fd, const char *path, struct wl_entry *e, struct stat *st,
                            struct wl_class *c, const struct wl_hash_limits *lim,
                            struct wl_err *err)
{
	struct stat st0;
	int attempt, ret;

	for (attempt = 0; attempt < 2; attempt++) {
		if (fstat(fd, &st0) < 0)
			return wl_err_set(err, -errno, WL_E_IO, "cannot stat %s: %s", path,
			                  strerror(errno));
		if (!S_ISREG(st0.st_mode))
			return wl_err_set(err, -EINVAL, WL_E_NOTREG, "%s is not a regular file",
			                  path);
		wl_class_free(c);
		ret = wl_classify_fd(fd, c, err);
		if (ret)
			return wl_err_set(err, ret, err ? err->kind : WL_E_IO,
			                  "cannot classify %s: %s", path, strerror(-ret));
		ret = wl_hash_fd_stable_limited(fd, path, e->sha256, st, lim, err);
		if (ret || entry_same_state(&st0, st))
			return ret;
	}
	return wl_err_set(err, -EAGAIN, WL_E_UNSTABLE,
	                  "%s changed while it was classified and hashed, twice in a row; add it "
	                  "again once nothing writes to it",
	                  path);
}

int wl_entry_from_fd(int fd, const char *path, struct wl_entry *e, struct wl_class *cls,
                     struct wl_err *err)
{
	return wl_entry_from_fd_lim(fd, path, e, cls, NULL, err);
}

int wl_entry_from_fd_lim(int fd, const char *path, struct wl_entry *e, struct wl_class *cls,
                         const struct wl_hash_limits *lim, struct wl_err *err)
{
	struct wl_class local = {0}, *c = cls ? cls : &local;
	struct stat st;
	int ret;

	if (!e || !path)
		return wl_err_set(err, -EINVAL, WL_E_USAGE,
		                  "wl_entry_from_fd_lim: missing argument");
	memset(e, 0, sizeof(*e));
	if (cls)
		memset(cls, 0, sizeof(*cls));
	ret = entry_class_hash(fd, path, e, &st, c, lim, err);
	if (ret)
		goto free_class;
	entry_fill(e, &st, c);
	e->path = strdup(path);
	e->interp = c->interp[0] ? strdup(c->interp) : NULL;
	if (!e->path || (c->interp[0] && !e->interp)) {
		wl_entry_free(e);
		ret = wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory recording %s", path);
		goto free_class;
	}
	if (!cls)
		wl_class_free(&local);
	return 0;
free_class:
	wl_class_free(c);
	return ret;
}

void wl_entry_free(struct wl_entry *e)
{
	if (!e)
		return;
	free(e->path);
	free(e->interp);
	e->path = NULL;
	e->interp = NULL;
}
