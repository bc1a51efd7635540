/* db.c - reading the approved-list file: wl_db_open maps one list read-only
 * and verifies it (size, magic, version, HMAC, structure); lookups by path
 * and hash. Writing is db_write.c. A struct wl_db owns its mapping; it is
 * immutable, so any thread may read. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
	uint32_t flags; /* WL_DB_F_* */
	char *path;
	uint64_t dev, ino; /* the file mapped (fstat of the fd) */
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

int db_hmac(const uint8_t key[WL_KEY_LEN], const void *data, size_t len, uint8_t out[DB_MAC_LEN])
{
	size_t outlen = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, WL_KEY_LEN, data, len, out,
	               DB_MAC_LEN, &outlen) ||
	    outlen != DB_MAC_LEN)
		return -EIO;
	return 0;
}

/* Open and map path; refuses what is not a regular file or too short. */
static int db_map(const char *path, struct wl_db *db, struct wl_err *err)
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
	db->map = p;
	db->size = (size_t)st.st_size;
	db->dev = (uint64_t)st.st_dev;
	db->ino = (uint64_t)st.st_ino;
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
	if ((le32toh(h->flags) & ~WL_DB_F_KNOWN) != 0 ||
	    memcmp(h->reserved, zero, sizeof(zero)) != 0)
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
	db->flags = le32toh(h->flags);
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
int db_idx_cmp(const struct db_rec *recs, uint32_t a, uint32_t b)
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

/* SHA-256 of the whole file (MAC included): what wl_db_open_digest takes
 * in place of the key. */
static int db_sha256(const uint8_t *map, size_t size, uint8_t out[WL_SHA256_LEN])
{
	unsigned int len = 0;

	return EVP_Digest(map, size, out, &len, EVP_sha256(), NULL) == 1 && len == WL_SHA256_LEN
	           ? 0
	           : -EIO;
}

static int db_check_digest(const char *path, const uint8_t *map, size_t size,
                           const uint8_t want[WL_SHA256_LEN], struct wl_err *err)
{
	uint8_t got[WL_SHA256_LEN];

	if (db_sha256(map, size, got))
		return wl_err_set(err, -EIO, WL_E_IO,
		                  "cannot check approved list %s: OpenSSL SHA-256 failed", path);
	if (CRYPTO_memcmp(got, want, sizeof(got)) != 0)
		return db_refuse(err, -EBADMSG, WL_E_MAC, path,
		                 "is not the list hmilockd verified with the list key (its SHA-256 "
		                 "differs)");
	return 0;
}

int wl_db_digest(const struct wl_db *db, uint8_t out[WL_SHA256_LEN])
{
	return db->size ? db_sha256(db->map, db->size, out) : -ENODATA;
}

/* wl_db_open and wl_db_open_digest: the MAC checked with key, or the whole
 * file's SHA-256 compared with digest. */
static int db_open(const char *path, const uint8_t *key, const uint8_t *digest, struct wl_db **out,
                   struct wl_err *err)
{
	struct wl_db *db;
	const char *bad;
	int ret;

	if (!path || (!key && !digest) || !out)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_db_open: missing argument");
	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db || !(db->path = strdup(path))) {
		ret = wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory opening %s", path);
		goto free_db;
	}
	ret = db_map(path, db, err);
	if (ret)
		goto free_db;
	ret = db_check_outer(path, db->map, db->size, err);
	if (!ret)
		ret = key ? db_check_mac(path, db->map, db->size, key, err)
		          : db_check_digest(path, db->map, db->size, digest, err);
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

int wl_db_open(const char *path, const uint8_t key[WL_KEY_LEN], struct wl_db **out,
               struct wl_err *err)
{
	return db_open(path, key, NULL, out, err);
}

int wl_db_open_digest(const char *path, const uint8_t sha256[WL_SHA256_LEN], struct wl_db **out,
                      struct wl_err *err)
{
	return db_open(path, NULL, sha256, out, err);
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

uint32_t wl_db_flags(const struct wl_db *db)
{
	return db->flags;
}

uint32_t wl_db_flags_after(uint32_t flags, bool prescanned, bool no_prescan)
{
	if (!prescanned)
		flags &= ~WL_DB_F_PRESCANNED;
	return no_prescan ? flags | WL_DB_F_NO_PRESCAN : flags;
}

const char *wl_db_flags_provenance(uint32_t flags)
{
	if (flags & WL_DB_F_NO_PRESCAN)
		return "not every entry prescanned: the prescan was skipped (--no-prescan)";
	if (flags & WL_DB_F_PRESCANNED)
		return "every entry prescanned when approved";
	return "not prescanned (no [prescan] database or blocklist when approved)";
}

size_t wl_db_count(const struct wl_db *db)
{
	return db->count;
}

const char *wl_db_path(const struct wl_db *db)
{
	return db->path;
}

void wl_db_file_id(const struct wl_db *db, uint64_t *dev, uint64_t *ino)
{
	*dev = db->dev;
	*ino = db->ino;
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

/* Copy record i into s (replacing an entry of the same path): 0 or -ENOMEM. */
static int db_put_rec(const struct wl_db *db, size_t i, struct wl_set *s)
{
	struct wl_entry e;
	struct wl_rec r;

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
		return -ENOMEM;
	}
	return 0;
}

/* Every record (keep false) or those whose path s does not hold (keep). */
static int db_copy(const struct wl_db *db, struct wl_set *s, bool keep, struct wl_err *err)
{
	size_t i;

	for (i = 0; i < db->count; i++) {
		if (keep && wl_set_find(s, db->strtab + le32toh(db->recs[i].path_off)))
			continue;
		if (db_put_rec(db, i, s) < 0)
			return wl_err_set(err, -ENOMEM, WL_E_NOMEM,
			                  "out of memory copying approved list %s", db->path);
	}
	return 0;
}

int wl_db_to_set(const struct wl_db *db, struct wl_set *s, struct wl_err *err)
{
	wl_set_set_flags(s, db->flags);
	return db_copy(db, s, false, err);
}

int wl_db_merge_into(const struct wl_db *db, struct wl_set *s, struct wl_err *err)
{
	return db_copy(db, s, true, err);
}
