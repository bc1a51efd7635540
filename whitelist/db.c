/* db.c - the approved-list file: wl_db_open maps one list read-only and
 * verifies it (size, magic, version, HMAC, structure); wl_db_write builds a
 * new list and puts it in place atomically, keeping the old one as .prev.
 * A struct wl_db owns its mapping; it is immutable, so any thread may read. */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "db_format.h"
#include "io.h"
#include "wl.h"

struct wl_db {
	const uint8_t *map;
	size_t size;
	const struct db_rec *recs;
	const uint32_t *hashidx; /* little-endian record numbers */
	const char *strtab;
	size_t strtab_size;
	size_t count;
	uint64_t generation;
	char *path;
};

/* ---- reading ------------------------------------------------------------ */

/* Refuse the list at path: fills err with what is wrong and how to recover. */
static int db_refuse(struct wl_err *err, int code, enum wl_ekind kind, const char *path,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int db_refuse(struct wl_err *err, int code, enum wl_ekind kind, const char *path,
                     const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return wl_err_set(err, code, kind,
	                  "approved list %s %s; restore %s.prev or rebuild with `hmilock init`",
	                  path, what, path);
}

static int db_hmac(const uint8_t key[WL_KEY_LEN], const void *data, size_t len,
                   uint8_t out[DB_MAC_LEN])
{
	size_t outlen = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, WL_KEY_LEN, data, len, out,
	               DB_MAC_LEN, &outlen) ||
	    outlen != DB_MAC_LEN)
		return -EIO;
	return 0;
}

/* Open and map path; refuses what is not a regular file or too short. */
static int db_map(const char *path, const uint8_t **map, size_t *size, struct wl_err *err)
{
	struct stat st;
	void *p;
	int fd, ret = 0;

	/* O_NONBLOCK: a FIFO planted at path must not hang the caller. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return wl_err_set(err, -ENOENT, WL_E_IO,
		                  "approved list %s does not exist; `hmilock init` creates it",
		                  path);
	if (fd < 0)
		return wl_err_set(err, -errno, WL_E_IO, "cannot open approved list %s: %s", path,
		                  strerror(errno));
	if (fstat(fd, &st))
		ret = wl_err_set(err, -errno, WL_E_IO, "cannot stat approved list %s: %s", path,
		                 strerror(errno));
	else if (!S_ISREG(st.st_mode))
		ret = wl_err_set(
		    err, -EINVAL, WL_E_NOTREG,
		    "approved list %s is not a regular file; rebuild with `hmilock init`", path);
	else if (st.st_size == 0)
		ret = db_refuse(err, -EINVAL, WL_E_EMPTY, path, "is empty (0 bytes)");
	else if ((uint64_t)st.st_size < DB_MIN_SIZE)
		ret = db_refuse(err, -EINVAL, WL_E_TRUNCATED, path,
		                "is truncated: %lld bytes, less than a header and MAC (%zu)",
		                (long long)st.st_size, DB_MIN_SIZE);
	if (ret)
		goto close_fd;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		ret = wl_err_set(err, -errno, WL_E_IO, "cannot map approved list %s: %s", path,
		                 strerror(errno));
		goto close_fd;
	}
	*map = p;
	*size = (size_t)st.st_size;
close_fd:
	close(fd);
	return ret;
}

/* The checks that come before the MAC: magic, version, size. */
static int db_check_outer(const char *path, const uint8_t *map, size_t size, struct wl_err *err)
{
	const struct db_header *h = (const struct db_header *)map;
	uint32_t version = le32toh(h->version);
	uint64_t total = le64toh(h->total_size);

	if (memcmp(h->magic, DB_MAGIC, DB_MAGIC_LEN) != 0)
		return wl_err_set(err, -EINVAL, WL_E_MAGIC,
		                  "%s is not an hmilock approved list (bad magic); check the path, "
		                  "or rebuild with `hmilock init`",
		                  path);
	if (version > WL_DB_VERSION)
		return db_refuse(err, -EPROTONOSUPPORT, WL_E_VERSION, path,
		                 "has format version %u but this hmilock reads version %d: it was "
		                 "made by a newer hmilock; upgrade hmilock",
		                 version, WL_DB_VERSION);
	if (version != WL_DB_VERSION)
		return db_refuse(err, -EPROTONOSUPPORT, WL_E_VERSION, path,
		                 "has unknown format version %u (this hmilock reads version %d)",
		                 version, WL_DB_VERSION);
	if (total != size)
		return db_refuse(err, -EINVAL, WL_E_TRUNCATED, path,
		                 "is truncated or was extended: %zu bytes on disk, its header "
		                 "says %llu",
		                 size, (unsigned long long)total);
	return 0;
}

static int db_check_mac(const char *path, const uint8_t *map, size_t size,
                        const uint8_t key[WL_KEY_LEN], struct wl_err *err)
{
	uint8_t mac[DB_MAC_LEN];

	if (db_hmac(key, map, size - DB_MAC_LEN, mac))
		return wl_err_set(err, -EIO, WL_E_IO,
		                  "cannot verify approved list %s: OpenSSL HMAC-SHA256 failed",
		                  path);
	if (CRYPTO_memcmp(mac, map + size - DB_MAC_LEN, DB_MAC_LEN) != 0)
		return db_refuse(err, -EBADMSG, WL_E_MAC, path,
		                 "failed its MAC check: it was tampered with, or made with another "
		                 "key");
	return 0;
}

/* Is [off, off+len) inside [lo, hi)? Without overflow. */
static bool db_section_ok(uint64_t off, uint64_t len, uint64_t lo, uint64_t hi)
{
	return off >= lo && off <= hi && len <= hi - off;
}

/* Header fields and section bounds; fills db's section pointers. */
static const char *db_check_layout(struct wl_db *db)
{
	const struct db_header *h = (const struct db_header *)db->map;
	uint64_t n = le64toh(h->count), end = db->size - DB_MAC_LEN;
	uint64_t rec_off = le64toh(h->records_off), idx_off = le64toh(h->hashidx_off);
	uint64_t str_off = le64toh(h->strtab_off), str_size = le64toh(h->strtab_size);
	static const uint8_t zero[sizeof(h->reserved)];

	if (le32toh(h->header_size) != sizeof(*h) || le32toh(h->record_size) != sizeof(*db->recs))
		return "header or record size";
	if (le32toh(h->hash_alg) != DB_ALG_SHA256 || le32toh(h->mac_alg) != DB_MAC_HMAC_SHA256)
		return "unknown algorithm";
	if (le32toh(h->flags) != 0 || memcmp(h->reserved, zero, sizeof(zero)) != 0)
		return "reserved fields set";
	if (n > end / sizeof(struct db_rec) ||
	    le64toh(h->records_size) != n * sizeof(struct db_rec) ||
	    le64toh(h->hashidx_size) != n * sizeof(uint32_t))
		return "entry count does not match the section sizes";
	if (rec_off % 8 || idx_off % 4 ||
	    !db_section_ok(rec_off, n * sizeof(struct db_rec), sizeof(*h), end) ||
	    !db_section_ok(idx_off, n * 4, rec_off + n * sizeof(struct db_rec), end) ||
	    !db_section_ok(str_off, str_size, idx_off + n * 4, end))
		return "section out of bounds or overlapping";
	if (str_size == 0 || str_size > UINT32_MAX || db->map[str_off + str_size - 1] != '\0')
		return "string table not terminated";
	db->count = (size_t)n;
	db->generation = le64toh(h->generation);
	db->recs = (const struct db_rec *)(db->map + rec_off);
	db->hashidx = (const uint32_t *)(db->map + idx_off);
	db->strtab = (const char *)db->map + str_off;
	db->strtab_size = (size_t)str_size;
	return NULL;
}

/* A string of exactly len bytes, NUL-terminated, inside the string table. */
static bool db_string_ok(const struct wl_db *db, uint32_t off, uint32_t len)
{
	return off < db->strtab_size && len < db->strtab_size - off &&
	       db->strtab[off + len] == '\0' && !memchr(db->strtab + off, '\0', len);
}

static const char *db_check_records(const struct wl_db *db)
{
	const struct db_rec *r, *prev = NULL;
	size_t i;

	for (i = 0; i < db->count; i++, prev = r) {
		r = &db->recs[i];
		if (le32toh(r->type) >= WL_T__MAX)
			return "record with unknown type";
		if (le32toh(r->path_len) == 0 ||
		    !db_string_ok(db, le32toh(r->path_off), le32toh(r->path_len)) ||
		    !db_string_ok(db, le32toh(r->interp_off), le32toh(r->interp_len)))
			return "record string out of bounds";
		if (prev && strcmp(db->strtab + le32toh(prev->path_off),
		                   db->strtab + le32toh(r->path_off)) >= 0)
			return "records not sorted by path";
		if (le32toh(r->ctime_nsec) >= 1000000000 || le32toh(r->mtime_nsec) >= 1000000000)
			return "record with bad timestamp";
	}
	return NULL;
}

/* Order of the hash index: by sha256, ties by record number. */
static int db_idx_cmp(const struct db_rec *recs, uint32_t a, uint32_t b)
{
	int c = memcmp(recs[a].sha256, recs[b].sha256, WL_SHA256_LEN);

	return c ? c : (a > b) - (a < b);
}

/* Strictly increasing by (sha256, record number) with every entry < count
 * means the index is a permutation of the records: no entry is repeated,
 * because equal record numbers give equal keys. */
static const char *db_check_hashidx(const struct wl_db *db)
{
	uint32_t v, prev = 0;
	size_t i;

	for (i = 0; i < db->count; i++, prev = v) {
		v = le32toh(db->hashidx[i]);
		if (v >= db->count)
			return "hash index entry out of range";
		if (i > 0 && db_idx_cmp(db->recs, prev, v) >= 0)
			return "hash index not sorted or repeated";
	}
	return NULL;
}

int wl_db_open(const char *path, const uint8_t key[WL_KEY_LEN], struct wl_db **out,
               struct wl_err *err)
{
	struct wl_db *db;
	const char *bad;
	int ret;

	if (!path || !key || !out)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_db_open: missing argument");
	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db || !(db->path = strdup(path))) {
		ret = wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory opening %s", path);
		goto free_db;
	}
	ret = db_map(path, &db->map, &db->size, err);
	if (ret)
		goto free_db;
	ret = db_check_outer(path, db->map, db->size, err);
	if (!ret)
		ret = db_check_mac(path, db->map, db->size, key, err);
	if (ret)
		goto unmap;
	bad = db_check_layout(db);
	if (!bad)
		bad = db_check_records(db);
	if (!bad)
		bad = db_check_hashidx(db);
	if (bad) {
		ret = db_refuse(err, -EUCLEAN, WL_E_CORRUPT, path,
		                "is corrupt although its MAC verifies (%s)", bad);
		goto unmap;
	}
	/* Verification touched every page. They are clean file pages: hand
	 * them back so a long-running reader (hmilockd) keeps in its RSS only
	 * what its lookups touch; they fault in again from the page cache. */
	wl_db_drop_pages(db);
	*out = db;
	return 0;

unmap:
	munmap((void *)db->map, db->size);
free_db:
	if (db)
		free(db->path);
	free(db);
	return ret;
}

int wl_db_empty(const char *path, struct wl_db **out, struct wl_err *err)
{
	struct wl_db *db;

	if (!path || !out)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_db_empty: missing argument");
	db = calloc(1, sizeof(*db));
	if (!db || !(db->path = strdup(path))) {
		free(db);
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory for %s", path);
	}
	*out = db; /* map NULL, count 0: lookups never touch recs */
	return 0;
}

void wl_db_drop_pages(const struct wl_db *db)
{
	/* Clean, read-only file pages of a private mapping: MADV_DONTNEED only
	 * drops the page-table entries; the contents cannot change. */
	if (db && db->map)
		(void)madvise((void *)db->map, db->size, MADV_DONTNEED);
}

void wl_db_close(struct wl_db *db)
{
	if (!db)
		return;
	if (db->map)
		munmap((void *)db->map, db->size);
	free(db->path);
	free(db);
}

uint64_t wl_db_generation(const struct wl_db *db)
{
	return db->generation;
}

size_t wl_db_count(const struct wl_db *db)
{
	return db->count;
}

const char *wl_db_path(const struct wl_db *db)
{
	return db->path;
}

static void db_rec_view(const struct wl_db *db, const struct db_rec *r, struct wl_rec *out)
{
	out->path = db->strtab + le32toh(r->path_off);
	out->sha256 = r->sha256;
	out->size = le64toh(r->size);
	out->type = (enum wl_type)le32toh(r->type);
	out->mode = le32toh(r->mode);
	out->uid = le32toh(r->uid);
	out->gid = le32toh(r->gid);
	out->interp = db->strtab + le32toh(r->interp_off);
	out->dev = le64toh(r->dev);
	out->ino = le64toh(r->ino);
	out->ctime_sec = (int64_t)le64toh((uint64_t)r->ctime_sec);
	out->mtime_sec = (int64_t)le64toh((uint64_t)r->mtime_sec);
	out->ctime_nsec = le32toh(r->ctime_nsec);
	out->mtime_nsec = le32toh(r->mtime_nsec);
}

void wl_db_at(const struct wl_db *db, size_t i, struct wl_rec *out)
{
	static const uint8_t none[WL_SHA256_LEN];

	if (i >= db->count) { /* a caller bug: give an empty record, not a crash */
		memset(out, 0, sizeof(*out));
		out->path = out->interp = "";
		out->sha256 = none;
		return;
	}
	db_rec_view(db, &db->recs[i], out);
}

int wl_db_find_path(const struct wl_db *db, const char *path, struct wl_rec *out)
{
	size_t lo = 0, hi = db->count, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(path, db->strtab + le32toh(db->recs[mid].path_off));
		if (c == 0) {
			if (out)
				db_rec_view(db, &db->recs[mid], out);
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -ENOENT;
}

int wl_db_find_hash(const struct wl_db *db, const uint8_t sha256[WL_SHA256_LEN], struct wl_rec *out)
{
	size_t lo = 0, hi = db->count, mid;
	const struct db_rec *r;

	/* Lower bound: the first record with this hash, in path order. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = &db->recs[le32toh(db->hashidx[mid])];
		if (memcmp(r->sha256, sha256, WL_SHA256_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == db->count)
		return -ENOENT;
	r = &db->recs[le32toh(db->hashidx[lo])];
	if (memcmp(r->sha256, sha256, WL_SHA256_LEN) != 0)
		return -ENOENT;
	if (out)
		db_rec_view(db, r, out);
	return 0;
}

int wl_db_to_set(const struct wl_db *db, struct wl_set *s, struct wl_err *err)
{
	struct wl_entry e;
	struct wl_rec r;
	size_t i;

	for (i = 0; i < db->count; i++) {
		wl_db_at(db, i, &r);
		memset(&e, 0, sizeof(e));
		e.path = strdup(r.path);
		e.interp = r.interp[0] ? strdup(r.interp) : NULL;
		memcpy(e.sha256, r.sha256, WL_SHA256_LEN);
		e.size = r.size;
		e.type = r.type;
		e.mode = r.mode;
		e.uid = r.uid;
		e.gid = r.gid;
		e.dev = r.dev;
		e.ino = r.ino;
		e.ctime_sec = r.ctime_sec;
		e.mtime_sec = r.mtime_sec;
		e.ctime_nsec = r.ctime_nsec;
		e.mtime_nsec = r.mtime_nsec;
		if (!e.path || (r.interp[0] && !e.interp) || wl_set_put(s, &e)) {
			wl_entry_free(&e);
			return wl_err_set(err, -ENOMEM, WL_E_NOMEM,
			                  "out of memory copying approved list %s", db->path);
		}
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

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
static void db_image_header(struct db_image *im, const struct db_header *plan, uint64_t gen)
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
	db_image_header(im, &plan, gen);
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
 * path itself never goes missing. A current file that does not verify is
 * kept as path.bad instead, so it cannot push out a good .prev. */
static int db_keep_prev(const char *path, const uint8_t key[WL_KEY_LEN], struct wl_err *err)
{
	char keep[PATH_MAX + 8];
	struct wl_db *cur;
	struct stat st;
	bool good;

	if (lstat(path, &st) && errno == ENOENT)
		return 0;
	good = wl_db_open(path, key, &cur, NULL) == 0;
	wl_db_close(cur);
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

static int db_sync_dir(const char *dir, const char *path, struct wl_err *err)
{
	int fd, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		ret = wl_err_set(err, -errno, WL_E_IO,
		                 "new list %s is in place but directory %s could not be synced "
		                 "(%s): it may not survive a power cut; run the command again",
		                 path, dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

int wl_db_write(const char *path, struct wl_set *s, uint64_t generation,
                const uint8_t key[WL_KEY_LEN], struct wl_err *err)
{
	struct db_image im = {0};
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	int ret;

	if (!path || !path[0] || !s || !key)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_db_write: missing argument");
	if (db_split(path, dir, &base) || !base[0] ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return wl_err_set(err, -ENAMETOOLONG, WL_E_USAGE, "bad list path: %s", path);
	ret = db_image_build(&im, s, generation, key, err);
	if (ret)
		goto free_image;
	db_clean_stale(dir, base);
	ret = db_write_tmp(tmp, &im, err);
	if (ret)
		goto free_image;
	ret = db_keep_prev(path, key, err);
	if (!ret && rename(tmp, path))
		ret = wl_err_set(err, -errno, WL_E_IO, "cannot rename %s to %s: %s", tmp, path,
		                 strerror(errno));
	if (ret) {
		unlink(tmp);
		goto free_image;
	}
	ret = db_sync_dir(dir, path, err);
free_image:
	free(im.buf);
	return ret;
}
