/* test_db.c - unit tests for whitelist/db.c and db_write.c: 100,000-entry
 * round trip, every refusal (empty, truncated, flipped bytes, other key,
 * future version, garbage, bad structure under a valid MAC), .prev/.bad
 * keeping, failed writes that change nothing, stale tmp clean-up, SIGKILL
 * during writes, and the writer protocol: the lock excludes a second
 * writer, a change made against an older generation is refused (-ESTALE).
 * Each test works in its own temporary directory (fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fixture.h"
#include "db_format.h"
#include "wl.h"

static const uint8_t key_a[WL_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const uint8_t key_b[WL_KEY_LEN] = "0123456789abcdef0123456789abcdX";

struct tdir {
	char dir[FX_DIR_LEN];
	char db[128];
	char prev[140];
};

static int setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (!t || fx_mkdir(t->dir, "test_db") < 0) {
		free(t);
		return -1;
	}
	snprintf(t->db, sizeof(t->db), "%s/approved.db", t->dir);
	snprintf(t->prev, sizeof(t->prev), "%s.prev", t->db);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tdir *t = *state;
	char small[FX_PATH];
	int rc;

	fx_path(small, t->dir, "small");
	umount2(small, MNT_DETACH); /* left mounted if test_write_enospc failed */
	rc = fx_rmtree(t->dir);
	free(t);
	return rc;
}

/* ---- synthetic entries: every field a function of (i, gen) -------------- */

/* 32 well-mixed bytes from (a, b), distinct for distinct inputs (splitmix64
 * finaliser; cheaper than SHA-256 and just as good for lookups). */
static void sha_of(uint64_t a, uint64_t b, uint8_t out[WL_SHA256_LEN])
{
	uint64_t z;
	int k;

	for (k = 0; k < 4; k++) {
		z = a * 0x9e3779b97f4a7c15ULL + b * 0xbf58476d1ce4e5b9ULL + (uint64_t)k;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(out + 8 * k, &z, 8);
	}
	/* k = 0 alone is a bijection of a for fixed b: no two entries collide. */
}

static void entry_path(size_t i, uint64_t gen, char *buf, size_t len)
{
	const char *side = gen % 2 ? "A" : "B"; /* two distinguishable lists */

	if (i % 10000 == 3)
		snprintf(buf, len, "/%s/new\nline/f%06zu", side, i);
	else if (i % 10000 == 4)
		snprintf(buf, len, "/%s/bytes\xff\xfe\x01/f%06zu", side, i);
	else if (i % 10000 == 5)
		snprintf(buf, len, "/%s/with space\tand tab/f%06zu", side, i);
	else
		snprintf(buf, len, "/%s/usr/lib/d%03zu/f%06zu.so", side, i % 997, i);
}

/* Entry i of list gen, with e->path = pathbuf and a static e->interp. */
static void entry_fields(size_t i, uint64_t gen, struct wl_entry *e, char pathbuf[128])
{
	static const char *const interps[] = {"/lib64/ld-linux-x86-64.so.2", NULL,
	                                      "/usr/bin/python3", "/bin/sh\nodd"};

	memset(e, 0, sizeof(*e));
	entry_path(i, gen, pathbuf, 128);
	e->path = pathbuf;
	/* Every 50th entry shares its hash with the one before it. */
	sha_of(i % 50 == 1 ? i - 1 : i, gen, e->sha256);
	e->size = i * 4099 + gen;
	e->type = (enum wl_type)(i % WL_T__MAX);
	e->mode = 0100000 | (i % 01000);
	e->uid = (uint32_t)(i * 7);
	e->gid = (uint32_t)(i * 11);
	e->interp = (char *)interps[i % 4];
	e->dev = 0x800000000ULL + i;
	e->ino = (uint64_t)i << 20;
	e->ctime_sec = (int64_t)i - 50000; /* negative ones too */
	e->mtime_sec = (int64_t)(1700000000 + i);
	e->ctime_nsec = (uint32_t)(i * 9973 % 1000000000);
	e->mtime_nsec = 999999999 - (uint32_t)i;
}

static void make_entry(size_t i, uint64_t gen, struct wl_entry *e)
{
	char path[128];

	entry_fields(i, gen, e, path);
	e->path = strdup(path);
	e->interp = e->interp ? strdup(e->interp) : NULL;
}

static struct wl_set *make_set(size_t n, uint64_t gen)
{
	struct wl_set *s = wl_set_new();
	struct wl_entry e;
	size_t i;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		make_entry(i, gen, &e);
		assert_int_equal(wl_set_put(s, &e), 0);
	}
	return s;
}

/* The generation of the list at path as this key reads it; 0 when there is
 * none (or it does not verify, which wl_db_write replaces anyway). */
static uint64_t disk_gen(const char *path, const uint8_t *key)
{
	struct wl_db *db;
	uint64_t gen;

	if (wl_db_open(path, key, &db, NULL))
		return 0;
	gen = wl_db_generation(db);
	wl_db_close(db);
	return gen;
}

/* wl_db_write under the writer lock, made against the list on disk now (the
 * protocol's refusals have tests of their own). */
static int put_list(const char *path, struct wl_set *s, uint64_t gen, const uint8_t *key,
                    struct wl_err *err)
{
	struct wl_db_lock *lk;
	int ret = wl_db_lock(path, -1, &lk, err);

	if (ret)
		return ret;
	ret = wl_db_write(lk, s, gen, disk_gen(path, key), key, err);
	wl_db_unlock(lk);
	return ret;
}

static void write_list(const char *path, size_t n, uint64_t gen, const uint8_t *key)
{
	struct wl_set *s = make_set(n, gen);
	struct wl_err err = {0};

	if (put_list(path, s, gen, key, &err))
		fail_msg("wl_db_write %s: %s", path, err.msg);
	wl_set_free(s);
}

static void same_entry(const struct wl_entry *e, const struct wl_rec *r)
{
	assert_string_equal(e->path, r->path);
	assert_memory_equal(e->sha256, r->sha256, WL_SHA256_LEN);
	assert_int_equal(e->size, r->size);
	assert_int_equal(e->type, r->type);
	assert_int_equal(e->mode, r->mode);
	assert_int_equal(e->uid, r->uid);
	assert_int_equal(e->gid, r->gid);
	assert_string_equal(e->interp ? e->interp : "", r->interp);
	assert_int_equal(e->dev, r->dev);
	assert_int_equal(e->ino, r->ino);
	assert_int_equal(e->ctime_sec, r->ctime_sec);
	assert_int_equal(e->mtime_sec, r->mtime_sec);
	assert_int_equal(e->ctime_nsec, r->ctime_nsec);
	assert_int_equal(e->mtime_nsec, r->mtime_nsec);
}

/* The list at path is exactly make_set(n, gen), checked field by field.
 * Allocates nothing per record (the SIGKILL test calls it 400 times). */
static void check_list(const char *path, size_t n, uint64_t gen, const uint8_t *key)
{
	struct wl_err err = {0};
	struct wl_entry e;
	struct wl_db *db;
	struct wl_rec r;
	char buf[128];
	const char *f;
	size_t i, k;

	if (wl_db_open(path, key, &db, &err))
		fail_msg("wl_db_open %s: %s", path, err.msg);
	assert_int_equal(wl_db_count(db), n);
	assert_int_equal(wl_db_generation(db), gen);
	for (i = 0; i < n; i++) {
		wl_db_at(db, i, &r);
		/* Every path ends in "/f<entry number>"; records are unique and
		 * there are n of them, so numbers 0..n-1 each appear once. */
		f = strrchr(r.path, '/');
		assert_non_null(f);
		assert_int_equal(sscanf(f, "/f%zu", &k), 1);
		assert_true(k < n);
		entry_fields(k, gen, &e, buf);
		same_entry(&e, &r);
	}
	wl_db_close(db);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- round trip ---------------------------------------------------------- */

struct by_hash {
	uint8_t sha256[WL_SHA256_LEN];
	size_t i; /* position in path order */
};

static int by_hash_cmp(const void *a, const void *b)
{
	const struct by_hash *x = a, *y = b;
	int c = memcmp(x->sha256, y->sha256, WL_SHA256_LEN);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* first[i]: position in path order of the first entry with entry i's hash. */
static size_t *first_with_hash(struct wl_set *s)
{
	size_t n = wl_set_count(s), i, run = 0;
	struct by_hash *v = calloc(n + 1, sizeof(*v));
	size_t *first = calloc(n + 1, sizeof(*first));

	assert_true(v && first);
	for (i = 0; i < n; i++) {
		memcpy(v[i].sha256, wl_set_at(s, i)->sha256, WL_SHA256_LEN);
		v[i].i = i;
	}
	qsort(v, n, sizeof(*v), by_hash_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && memcmp(v[i].sha256, v[i - 1].sha256, WL_SHA256_LEN))
			run = i;
		first[v[i].i] = v[run].i;
	}
	free(v);
	return first;
}

static void check_lookups(const struct wl_db *db, struct wl_set *s)
{
	size_t i, n = wl_set_count(s), *first = first_with_hash(s), dups = 0;
	struct wl_rec r, at;
	uint8_t h[WL_SHA256_LEN];
	char miss[200];

	for (i = 0; i < n; i++) {
		const struct wl_entry *e = wl_set_at(s, i);

		wl_db_at(db, i, &at);
		assert_int_equal(wl_db_find_path(db, e->path, &r), 0);
		assert_ptr_equal(r.path, at.path);
		/* By hash: the first record with that hash in path order. */
		assert_int_equal(wl_db_find_hash(db, e->sha256, &r), 0);
		assert_memory_equal(r.sha256, e->sha256, WL_SHA256_LEN);
		assert_string_equal(r.path, wl_set_at(s, first[i])->path);
		dups += first[i] != i;
		snprintf(miss, sizeof(miss), "%sx", e->path);
		assert_int_equal(wl_db_find_path(db, miss, &r), -ENOENT);
		snprintf(miss, sizeof(miss), "%.*s", (int)strlen(e->path) - 1, e->path);
		assert_int_equal(wl_db_find_path(db, miss, NULL), -ENOENT);
		sha_of(i, 12345, h); /* a generation no list here uses */
		assert_int_equal(wl_db_find_hash(db, h, NULL), -ENOENT);
	}
	assert_int_equal(dups, (n + 48) / 50); /* every 50th shares a hash */
	free(first);
	assert_int_equal(wl_db_find_path(db, "", NULL), -ENOENT);
	assert_int_equal(wl_db_find_path(db, "/", NULL), -ENOENT);
	assert_int_equal(wl_db_find_path(db, "\xff\xff", NULL), -ENOENT);
	memset(h, 0, sizeof(h));
	assert_int_equal(wl_db_find_hash(db, h, NULL), -ENOENT);
	memset(h, 0xff, sizeof(h));
	assert_int_equal(wl_db_find_hash(db, h, NULL), -ENOENT);
}

static void test_roundtrip_100k(void **state)
{
	struct tdir *t = *state;
	const size_t n = 100000;
	struct wl_set *s = make_set(n, 41), *copy = wl_set_new();
	struct wl_err err = {0};
	struct wl_db *db;
	struct wl_rec r;
	struct stat st;
	uint64_t fdev, fino;
	double t0, t1;
	size_t i;

	t0 = now();
	assert_int_equal(put_list(t->db, s, 41, key_a, &err), 0);
	t1 = now();
	assert_int_equal(wl_db_open(t->db, key_a, &db, &err), 0);
	print_message("    write %.1f ms, open %.1f ms (%zu entries, sanitizer build)\n",
	              (t1 - t0) * 1e3, (now() - t1) * 1e3, n);
	assert_int_equal(wl_db_count(db), n);
	assert_int_equal(wl_db_generation(db), 41);
	assert_string_equal(wl_db_path(db), t->db);
	/* the file mapped: what the kernel helper's reload check compares */
	assert_int_equal(stat(t->db, &st), 0);
	wl_db_file_id(db, &fdev, &fino);
	assert_true(fdev == (uint64_t)st.st_dev && fino == (uint64_t)st.st_ino);
	for (i = 0; i < n; i++) {
		wl_db_at(db, i, &r);
		same_entry(wl_set_at(s, i), &r);
	}
	check_lookups(db, s);
	/* Copy back into a set: the same entries. */
	assert_int_equal(wl_db_to_set(db, copy, &err), 0);
	assert_int_equal(wl_set_count(copy), n);
	for (i = 0; i < n; i++) {
		const struct wl_entry *e = wl_set_at(copy, i);

		wl_db_at(db, i, &r);
		same_entry(e, &r);
		assert_true(e->interp == NULL || e->interp[0]);
	}
	wl_db_close(db);
	wl_set_free(copy);
	wl_set_free(s);
}

static void test_roundtrip_empty(void **state)
{
	struct tdir *t = *state;
	struct wl_set *s = wl_set_new();
	struct wl_err err = {0};
	uint8_t h[WL_SHA256_LEN] = {0};
	struct wl_db *db;
	struct wl_rec r;

	assert_int_equal(put_list(t->db, s, 7, key_a, &err), 0);
	assert_int_equal(wl_db_open(t->db, key_a, &db, &err), 0);
	assert_int_equal(wl_db_count(db), 0);
	assert_int_equal(wl_db_generation(db), 7);
	assert_int_equal(wl_db_find_path(db, "/bin/sh", NULL), -ENOENT);
	assert_int_equal(wl_db_find_hash(db, h, NULL), -ENOENT);
	wl_db_at(db, 0, &r); /* out of range: an empty record, not a crash */
	assert_string_equal(r.path, "");
	wl_db_close(db);
	wl_set_free(s);
}

/* Paths and interpreters of every byte but NUL, and near PATH_MAX. */
static void test_odd_paths(void **state)
{
	struct tdir *t = *state;
	struct wl_set *s = wl_set_new();
	struct wl_err err = {0};
	struct wl_entry e;
	struct wl_db *db;
	struct wl_rec r;
	char all[257], lng[4096];
	size_t i;

	all[0] = '/';
	for (i = 1; i < 256; i++)
		all[i] = (char)i;
	all[256] = '\0';
	memset(lng, 'a', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	make_entry(1, 1, &e);
	free(e.path);
	e.path = strdup(all);
	free(e.interp);
	e.interp = strdup(lng);
	assert_int_equal(wl_set_put(s, &e), 0);
	make_entry(2, 1, &e);
	free(e.path);
	e.path = strdup(lng);
	assert_int_equal(wl_set_put(s, &e), 0);
	assert_int_equal(put_list(t->db, s, 1, key_a, &err), 0);
	assert_int_equal(wl_db_open(t->db, key_a, &db, &err), 0);
	assert_int_equal(wl_db_count(db), 2);
	assert_int_equal(wl_db_find_path(db, all, &r), 0);
	assert_string_equal(r.interp, lng);
	assert_int_equal(wl_db_find_path(db, lng, &r), 0);
	assert_int_equal(strlen(r.path), sizeof(lng) - 1);
	lng[100] = '\0';
	assert_int_equal(wl_db_find_path(db, lng, &r), -ENOENT);
	wl_db_close(db);
	wl_set_free(s);
}

/* ---- refusals ------------------------------------------------------------ */

static uint8_t *slurp(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*size = (size_t)st.st_size;
	return buf;
}

static void spit(const char *path, const void *buf, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
}

/* Open must fail with kind; the message names the file. */
static void refused(const char *path, const uint8_t *key, enum wl_ekind kind, const char *says)
{
	struct wl_err err = {0};
	struct wl_db *db = (struct wl_db *)1;
	int ret = wl_db_open(path, key, &db, &err);

	if (ret >= 0 || err.kind != kind)
		fail_msg("%s: got %d kind %s (%s), want kind %s", path, ret,
		         wl_ekind_name(err.kind), err.msg, wl_ekind_name(kind));
	assert_null(db);
	assert_int_equal(err.code, ret);
	assert_non_null(strstr(err.msg, path));
	if (says && !strstr(err.msg, says))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, says);
}

static void test_empty_file(void **state)
{
	struct tdir *t = *state;

	spit(t->db, "", 0);
	refused(t->db, key_a, WL_E_EMPTY, ".prev or rebuild with `hmilock init`");
}

static void test_missing_and_special(void **state)
{
	struct tdir *t = *state;
	struct wl_err err = {0};
	struct wl_db *db;
	char path[160];

	assert_int_equal(wl_db_open(t->db, key_a, &db, &err), -ENOENT);
	assert_int_equal(err.kind, WL_E_IO);
	assert_non_null(strstr(err.msg, "hmilock init"));
	refused(t->dir, key_a, WL_E_NOTREG, NULL);
	snprintf(path, sizeof(path), "%s/fifo", t->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	refused(path, key_a, WL_E_NOTREG, NULL); /* and does not hang */
}

static void test_truncated(void **state)
{
	struct tdir *t = *state;
	size_t size, i, cuts[16], ncut = 0;
	uint8_t *buf;

	write_list(t->db, 100, 1, key_a);
	buf = slurp(t->db, &size);
	cuts[ncut++] = 1;
	cuts[ncut++] = 7;
	cuts[ncut++] = 8;
	cuts[ncut++] = 12;
	cuts[ncut++] = 64;
	cuts[ncut++] = sizeof(struct db_header) - 1;
	cuts[ncut++] = sizeof(struct db_header);
	cuts[ncut++] = DB_MIN_SIZE - 1;
	cuts[ncut++] = DB_MIN_SIZE;
	cuts[ncut++] = size / 2;
	cuts[ncut++] = size - DB_MAC_LEN;
	cuts[ncut++] = size - 1;
	for (i = 0; i < ncut; i++) {
		spit(t->db, buf, cuts[i]);
		refused(t->db, key_a, WL_E_TRUNCATED, "truncated");
	}
	/* One byte too many is refused too. */
	buf[size] = 0;
	spit(t->db, buf, size + 1);
	refused(t->db, key_a, WL_E_TRUNCATED, "extended");
	spit(t->db, buf, size);
	check_list(t->db, 100, 1, key_a);
	free(buf);
}

/* A flipped byte anywhere is refused, by the first check that sees it. */
static enum wl_ekind flip_kind(size_t pos, size_t size)
{
	if (pos < DB_MAGIC_LEN)
		return WL_E_MAGIC;
	if (pos >= offsetof(struct db_header, version) &&
	    pos < offsetof(struct db_header, version) + 4)
		return WL_E_VERSION;
	if (pos >= offsetof(struct db_header, total_size) &&
	    pos < offsetof(struct db_header, total_size) + 8)
		return WL_E_TRUNCATED;
	(void)size;
	return WL_E_MAC;
}

static void test_flipped_bytes(void **state)
{
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	struct tdir *t = *state;
	size_t size, pos, m;
	uint8_t *buf, b;
	int fd;

	write_list(t->db, 30, 3, key_a);
	buf = slurp(t->db, &size);
	fd = open(t->db, O_WRONLY);
	assert_true(fd >= 0);
	for (pos = 0; pos < size; pos++) {
		for (m = 0; m < sizeof(masks); m++) {
			b = buf[pos] ^ masks[m];
			assert_int_equal(pwrite(fd, &b, 1, (off_t)pos), 1);
			refused(t->db, key_a, flip_kind(pos, size), NULL);
		}
		assert_int_equal(pwrite(fd, &buf[pos], 1, (off_t)pos), 1);
	}
	close(fd);
	check_list(t->db, 30, 3, key_a);
	free(buf);
}

static void test_other_key(void **state)
{
	struct tdir *t = *state;

	write_list(t->db, 10, 1, key_a);
	refused(t->db, key_b, WL_E_MAC, "tampered with, or made with another key");
	check_list(t->db, 10, 1, key_a);
}

/* The reader without the key (the CLI on a locked box): the list is taken
 * by the digest hmilockd vouches for, the file's SHA-256 as a whole. */
static void test_open_digest(void **state)
{
	struct tdir *t = *state;
	uint8_t d[WL_SHA256_LEN], other[WL_SHA256_LEN];
	struct wl_err err = {0};
	struct wl_db *db = NULL, *db2 = NULL;

	write_list(t->db, 10, 3, key_a);
	assert_int_equal(wl_db_open(t->db, key_a, &db, &err), 0);
	assert_int_equal(wl_db_digest(db, d), 0);
	assert_int_equal(wl_db_open_digest(t->db, d, &db2, &err), 0);
	assert_int_equal(wl_db_count(db2), 10);
	assert_int_equal(wl_db_generation(db2), 3);
	wl_db_close(db2);
	db2 = NULL;
	memcpy(other, d, sizeof(d));
	other[31] ^= 1;
	assert_int_equal(wl_db_open_digest(t->db, other, &db2, &err), -EBADMSG);
	assert_null(db2);
	assert_int_equal(err.kind, WL_E_MAC);
	assert_non_null(strstr(err.msg, t->db));
	assert_non_null(strstr(err.msg, "is not the list hmilockd verified"));
	/* another generation of the same list (same key): another digest */
	write_list(t->db, 10, 4, key_a);
	assert_int_equal(wl_db_open_digest(t->db, d, &db2, &err), -EBADMSG);
	assert_int_equal(wl_db_open_digest(t->db, NULL, &db2, &err), -EINVAL);
	assert_int_equal(err.kind, WL_E_USAGE);
	wl_db_close(db);
	assert_int_equal(wl_db_empty(t->db, &db, &err), 0);
	assert_int_equal(wl_db_digest(db, d), -ENODATA);
	wl_db_close(db);
}

static void remac(uint8_t *buf, size_t size, const uint8_t *key)
{
	unsigned int len = 0;

	assert_non_null(HMAC(EVP_sha256(), key, WL_KEY_LEN, buf, size - DB_MAC_LEN,
	                     buf + size - DB_MAC_LEN, &len));
	assert_int_equal(len, DB_MAC_LEN);
}

static void test_future_version(void **state)
{
	struct tdir *t = *state;
	struct db_header *h;
	size_t size;
	uint8_t *buf;

	write_list(t->db, 10, 1, key_a);
	buf = slurp(t->db, &size);
	h = (struct db_header *)buf;
	/* A version-2 list with a valid MAC: made by a newer hmilock. */
	h->version = htole32(2);
	remac(buf, size, key_a);
	spit(t->db, buf, size);
	refused(t->db, key_a, WL_E_VERSION, "made by a newer hmilock");
	/* Version is checked before the MAC: another key says the same. */
	refused(t->db, key_b, WL_E_VERSION, "newer");
	h->version = htole32(0);
	remac(buf, size, key_a);
	spit(t->db, buf, size);
	refused(t->db, key_a, WL_E_VERSION, "unknown format version 0");
	/* The MAC covers the version: the original MAC does not fit a
	 * changed-back header. Restore and re-MAC: accepted. */
	h->version = htole32(WL_DB_VERSION);
	spit(t->db, buf, size);
	refused(t->db, key_a, WL_E_MAC, NULL);
	remac(buf, size, key_a);
	spit(t->db, buf, size);
	check_list(t->db, 10, 1, key_a);
	free(buf);
}

static void test_garbage(void **state)
{
	static const size_t sizes[] = {1, 100, DB_MIN_SIZE - 1, DB_MIN_SIZE, 4096, 100000};
	struct tdir *t = *state;
	uint8_t *buf = malloc(100000);
	size_t i, j, size;

	assert_non_null(buf);
	srand(1);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizes[i]; j++)
			buf[j] = (uint8_t)rand();
		spit(t->db, buf, sizes[i]);
		refused(t->db, key_a, sizes[i] < DB_MIN_SIZE ? WL_E_TRUNCATED : WL_E_MAGIC, NULL);
		/* Right magic and version, garbage after. */
		if (sizes[i] < DB_MIN_SIZE)
			continue;
		memcpy(buf, DB_MAGIC, DB_MAGIC_LEN);
		((struct db_header *)buf)->version = htole32(WL_DB_VERSION);
		spit(t->db, buf, sizes[i]);
		refused(t->db, key_a, WL_E_TRUNCATED, NULL);
		((struct db_header *)buf)->total_size = htole64(sizes[i]);
		spit(t->db, buf, sizes[i]);
		refused(t->db, key_a, WL_E_MAC, NULL);
	}
	/* A real ELF binary is not a list. */
	free(buf);
	buf = slurp("/bin/true", &size);
	spit(t->db, buf, size);
	refused(t->db, key_a, WL_E_MAGIC, "not an hmilock approved list");
	free(buf);
}

/* ---- structure checks behind a valid MAC ---------------------------------- */

#define HDR(b) ((struct db_header *)(b))
#define REC(b, i) ((struct db_rec *)((b) + le64toh(HDR(b)->records_off)) + (i))
#define IDX(b) ((uint32_t *)((b) + le64toh(HDR(b)->hashidx_off)))
#define STR_END(b) ((b)[le64toh(HDR(b)->strtab_off) + le64toh(HDR(b)->strtab_size) - 1])

static void add32(uint32_t *v, int32_t d)
{
	*v = htole32(le32toh(*v) + (uint32_t)d);
}

static void add64(uint64_t *v, int64_t d)
{
	*v = htole64(le64toh(*v) + (uint64_t)d);
}

static void m_header_size(uint8_t *b)
{
	add32(&HDR(b)->header_size, -8);
}
static void m_record_size(uint8_t *b)
{
	add32(&HDR(b)->record_size, 8);
}
static void m_hash_alg(uint8_t *b)
{
	add32(&HDR(b)->hash_alg, 1);
}
static void m_mac_alg(uint8_t *b)
{
	add32(&HDR(b)->mac_alg, 1);
}
static void m_flags(uint8_t *b)
{
	add32(&HDR(b)->flags, 4); /* the known ones are 1 and 2 */
}
static void m_reserved(uint8_t *b)
{
	HDR(b)->reserved[5] = 1;
}
static void m_count_up(uint8_t *b)
{
	add64(&HDR(b)->count, 1);
}
static void m_count_huge(uint8_t *b)
{
	HDR(b)->count = htole64(UINT64_MAX / 4);
	HDR(b)->records_size = htole64(UINT64_MAX / 4 * sizeof(struct db_rec));
	HDR(b)->hashidx_size = htole64(UINT64_MAX / 4 * 4);
}
static void m_records_misaligned(uint8_t *b)
{
	add64(&HDR(b)->records_off, 4);
}
static void m_records_overlap_header(uint8_t *b)
{
	add64(&HDR(b)->records_off, -8);
}
static void m_idx_overlap(uint8_t *b)
{
	add64(&HDR(b)->hashidx_off, -4);
}
static void m_strtab_past_end(uint8_t *b)
{
	add64(&HDR(b)->strtab_size, 40);
}
static void m_strtab_huge_off(uint8_t *b)
{
	HDR(b)->strtab_off = htole64(UINT64_MAX - 2);
}
static void m_strtab_unterminated(uint8_t *b)
{
	STR_END(b) = 'x';
}
static void m_type(uint8_t *b)
{
	REC(b, 3)->type = htole32(WL_T__MAX);
}
static void m_path_empty(uint8_t *b)
{
	REC(b, 0)->path_len = 0;
}
static void m_path_off_out(uint8_t *b)
{
	REC(b, 2)->path_off = htole32((uint32_t)le64toh(HDR(b)->strtab_size));
}
static void m_path_off_max(uint8_t *b)
{
	REC(b, 2)->path_off = htole32(UINT32_MAX);
}
static void m_path_len_long(uint8_t *b)
{
	add32(&REC(b, 1)->path_len, 1);
}
static void m_path_len_short(uint8_t *b)
{
	add32(&REC(b, 1)->path_len, -1);
}
static void m_path_len_max(uint8_t *b)
{
	REC(b, 1)->path_len = htole32(UINT32_MAX);
}
static void m_interp_out(uint8_t *b)
{
	REC(b, 4)->interp_off = htole32(UINT32_MAX - 1);
	REC(b, 4)->interp_len = htole32(1);
}
static void m_unsorted(uint8_t *b)
{
	uint32_t o = REC(b, 5)->path_off, l = REC(b, 5)->path_len;

	REC(b, 5)->path_off = REC(b, 6)->path_off;
	REC(b, 5)->path_len = REC(b, 6)->path_len;
	REC(b, 6)->path_off = o;
	REC(b, 6)->path_len = l;
}
static void m_duplicate_path(uint8_t *b)
{
	REC(b, 6)->path_off = REC(b, 5)->path_off;
	REC(b, 6)->path_len = REC(b, 5)->path_len;
}
static void m_nsec(uint8_t *b)
{
	REC(b, 7)->mtime_nsec = htole32(1000000000);
}
static void m_idx_range(uint8_t *b)
{
	IDX(b)[4] = htole32((uint32_t)le64toh(HDR(b)->count));
}
static void m_idx_repeat(uint8_t *b)
{
	IDX(b)[4] = IDX(b)[3];
}
static void m_idx_unsorted(uint8_t *b)
{
	uint32_t v = IDX(b)[8];

	IDX(b)[8] = IDX(b)[9];
	IDX(b)[9] = v;
}
static void m_none(uint8_t *b)
{
	(void)b;
}

static const struct {
	const char *name;
	void (*mutate)(uint8_t *buf);
	const char *says;
} corrupt_cases[] = {
    {"header size", m_header_size, "header or record size"},
    {"record size", m_record_size, "header or record size"},
    {"hash alg", m_hash_alg, "algorithm"},
    {"mac alg", m_mac_alg, "algorithm"},
    {"flags", m_flags, "reserved"},
    {"reserved", m_reserved, "reserved"},
    {"count+1", m_count_up, "entry count"},
    {"count huge", m_count_huge, "entry count"},
    {"records misaligned", m_records_misaligned, "section"},
    {"records over header", m_records_overlap_header, "section"},
    {"index over records", m_idx_overlap, "section"},
    {"strings past end", m_strtab_past_end, "section"},
    {"strings offset huge", m_strtab_huge_off, "section"},
    {"strings unterminated", m_strtab_unterminated, "not terminated"},
    {"type", m_type, "type"},
    {"empty path", m_path_empty, "string"},
    {"path offset out", m_path_off_out, "string"},
    {"path offset max", m_path_off_max, "string"},
    {"path too long", m_path_len_long, "string"},
    {"path too short", m_path_len_short, "string"},
    {"path length max", m_path_len_max, "string"},
    {"interp out", m_interp_out, "string"},
    {"unsorted", m_unsorted, "not sorted"},
    {"duplicate path", m_duplicate_path, "not sorted"},
    {"nsec", m_nsec, "timestamp"},
    {"index range", m_idx_range, "hash index"},
    {"index repeat", m_idx_repeat, "hash index"},
    {"index unsorted", m_idx_unsorted, "hash index"},
    {NULL, m_none, NULL}, /* control: re-MAC'd unchanged list opens */
};

static void test_corrupt_valid_mac(void **state)
{
	struct tdir *t = *state;
	struct wl_err err;
	struct wl_db *db;
	size_t size, i;
	uint8_t *orig, *buf;

	write_list(t->db, 20, 5, key_a);
	orig = slurp(t->db, &size);
	buf = malloc(size);
	assert_non_null(buf);
	for (i = 0; i < sizeof(corrupt_cases) / sizeof(corrupt_cases[0]); i++) {
		memcpy(buf, orig, size);
		corrupt_cases[i].mutate(buf);
		remac(buf, size, key_a);
		spit(t->db, buf, size);
		if (!corrupt_cases[i].name) {
			check_list(t->db, 20, 5, key_a);
			continue;
		}
		memset(&err, 0, sizeof(err));
		if (wl_db_open(t->db, key_a, &db, &err) != -EUCLEAN || err.kind != WL_E_CORRUPT ||
		    !strstr(err.msg, corrupt_cases[i].says))
			fail_msg("case \"%s\": got kind %s (%s)", corrupt_cases[i].name,
			         wl_ekind_name(err.kind), err.msg);
		assert_null(db);
	}
	free(buf);
	free(orig);
}

/* ---- writing: .prev, failures, stale files -------------------------------- */

static size_t count_tmps(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

static void test_prev_kept(void **state)
{
	struct tdir *t = *state;

	write_list(t->db, 500, 1, key_a);
	assert_int_equal(access(t->prev, F_OK), -1);
	write_list(t->db, 400, 2, key_a);
	check_list(t->db, 400, 2, key_a);
	check_list(t->prev, 500, 1, key_a);
	write_list(t->db, 300, 3, key_a);
	check_list(t->db, 300, 3, key_a);
	check_list(t->prev, 400, 2, key_a);
	assert_int_equal(count_tmps(t->dir), 0);
}

/* A current list that does not verify must not push out a good .prev; it
 * is kept as .bad for inspection. */
static void test_bad_current_kept(void **state)
{
	struct tdir *t = *state;
	char bad[160];
	size_t size, size2;
	uint8_t *buf, *buf2;

	snprintf(bad, sizeof(bad), "%s.bad", t->db);
	write_list(t->db, 50, 1, key_a);
	write_list(t->db, 60, 2, key_a);
	buf = slurp(t->db, &size);
	buf[size / 2] ^= 0x10;
	spit(t->db, buf, size);
	write_list(t->db, 70, 3, key_a);
	check_list(t->db, 70, 3, key_a);
	check_list(t->prev, 50, 1, key_a);
	buf2 = slurp(bad, &size2);
	assert_int_equal(size, size2);
	assert_memory_equal(buf, buf2, size);
	free(buf);
	free(buf2);
}

static void test_write_refused_changes_nothing(void **state)
{
	struct tdir *t = *state;
	struct wl_set *s = make_set(10, 9);
	struct wl_entry e;
	struct wl_err err = {0};
	char path[200];

	write_list(t->db, 50, 1, key_a);
	write_list(t->db, 60, 2, key_a);
	/* An entry the format cannot hold: nothing is touched. */
	make_entry(3, 9, &e);
	e.type = WL_T__MAX;
	assert_int_equal(wl_set_put(s, &e), 0);
	assert_int_equal(put_list(t->db, s, 3, key_a, &err), -EINVAL);
	assert_int_equal(err.kind, WL_E_USAGE);
	check_list(t->db, 60, 2, key_a);
	check_list(t->prev, 50, 1, key_a);
	assert_int_equal(count_tmps(t->dir), 0);
	wl_set_free(s);
	s = make_set(10, 9);
	/* A directory that does not exist. */
	snprintf(path, sizeof(path), "%s/nodir/approved.db", t->dir);
	assert_int_equal(put_list(path, s, 3, key_a, &err), -ENOENT);
	assert_int_equal(err.kind, WL_E_IO);
	assert_non_null(strstr(err.msg, path));
	/* A directory where the list should be. */
	snprintf(path, sizeof(path), "%s/isdir", t->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(put_list(path, s, 3, key_a, &err) < 0);
	assert_int_equal(count_tmps(t->dir), 0);
	wl_set_free(s);
}

/* A full filesystem mid-write: the old list and .prev stay, no tmp stays. */
static void test_write_enospc(void **state)
{
	struct tdir *t = *state;
	char mnt[100], db[140], prev[150];
	struct wl_set *s;
	struct wl_err err = {0};
	int ret;

	snprintf(mnt, sizeof(mnt), "%s/small", t->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0)
		skip(); /* needs CAP_SYS_ADMIN */
	snprintf(db, sizeof(db), "%s/approved.db", mnt);
	snprintf(prev, sizeof(prev), "%s.prev", db);
	write_list(db, 200, 1, key_a); /* ~36 KB each */
	write_list(db, 210, 2, key_a);
	s = make_set(5000, 3); /* ~900 KB: cannot fit */
	ret = put_list(db, s, 3, key_a, &err);
	wl_set_free(s);
	if (ret == 0) {
		umount(mnt);
		fail_msg("a 900 KB list fit in a 256 KB tmpfs");
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(err.kind, WL_E_IO);
	check_list(db, 210, 2, key_a);
	check_list(prev, 200, 1, key_a);
	assert_int_equal(count_tmps(mnt), 0);
	assert_int_equal(umount(mnt), 0);
}

static void test_stale_tmp(void **state)
{
	struct tdir *t = *state;
	char dead[160], alive[160], odd[160];
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	snprintf(dead, sizeof(dead), "%s.tmp.%d", t->db, (int)pid);
	snprintf(alive, sizeof(alive), "%s.tmp.%d", t->db, (int)getppid());
	snprintf(odd, sizeof(odd), "%s.tmp.12x", t->db);
	spit(dead, "half a list", 11);
	spit(alive, "being written", 13);
	spit(odd, "not ours", 8);
	write_list(t->db, 20, 1, key_a);
	assert_int_equal(access(dead, F_OK), -1);
	assert_int_equal(access(alive, F_OK), 0);
	assert_int_equal(access(odd, F_OK), 0);
	check_list(t->db, 20, 1, key_a);
}

/* ---- the writer protocol --------------------------------------------------- */

/* path holds exactly the bytes of copy. */
static void same_bytes(const char *path, const uint8_t *copy, size_t size)
{
	size_t now_size;
	uint8_t *now_buf = slurp(path, &now_size);

	assert_int_equal(now_size, size);
	assert_memory_equal(now_buf, copy, size);
	free(now_buf);
}

/* A change made against generation 1 while the file is at 2: refused with
 * -ESTALE naming the file and the newer generation; nothing is written. */
static void test_write_stale(void **state)
{
	struct tdir *t = *state;
	struct wl_set *s = make_set(30, 3);
	struct wl_db_lock *lk;
	struct wl_err err = {0};
	uint8_t *db_copy, *prev_copy;
	size_t db_size, prev_size;
	char want[300];

	write_list(t->db, 10, 1, key_a);
	write_list(t->db, 20, 2, key_a);
	db_copy = slurp(t->db, &db_size);
	prev_copy = slurp(t->prev, &prev_size);
	assert_int_equal(wl_db_lock(t->db, 0, &lk, &err), 0);
	assert_int_equal(wl_db_write(lk, s, 2, 1, key_a, &err), -ESTALE);
	assert_int_equal(err.kind, WL_E_STALE);
	snprintf(want, sizeof(want),
	         "approved list %s is now at generation 2, this change was made "
	         "against generation 1",
	         t->db);
	if (!strstr(err.msg, want) || !strstr(err.msg, "nothing was written"))
		fail_msg("message: %s", err.msg);
	/* made against "no list" while there is one */
	assert_int_equal(wl_db_write(lk, s, 1, 0, key_a, &err), -ESTALE);
	assert_non_null(strstr(err.msg, "is now at generation 2"));
	same_bytes(t->db, db_copy, db_size);
	same_bytes(t->prev, prev_copy, prev_size);
	assert_int_equal(count_tmps(t->dir), 0);
	/* against the right generation: written */
	assert_int_equal(wl_db_write(lk, s, 3, 2, key_a, &err), 0);
	check_list(t->db, 30, 3, key_a);
	check_list(t->prev, 20, 2, key_a);
	/* the list removed meanwhile: refused too */
	assert_int_equal(unlink(t->db), 0);
	assert_int_equal(wl_db_write(lk, s, 4, 3, key_a, &err), -ESTALE);
	assert_non_null(strstr(err.msg, "is gone"));
	assert_int_equal(access(t->db, F_OK), -1);
	wl_db_unlock(lk);
	free(db_copy);
	free(prev_copy);
	wl_set_free(s);
}

/* A list that does not verify was not written by a writer of the protocol:
 * replaced whatever generation the change names, kept as .bad. */
static void test_write_over_bad(void **state)
{
	struct tdir *t = *state;
	struct wl_set *s = make_set(5, 9);
	struct wl_db_lock *lk;
	struct wl_err err = {0};
	char bad[200];

	write_list(t->db, 10, 8, key_b); /* another key: does not verify with key_a */
	assert_int_equal(wl_db_lock(t->db, 0, &lk, &err), 0);
	assert_int_equal(wl_db_write(lk, s, 9, 0, key_a, &err), 0);
	wl_db_unlock(lk);
	check_list(t->db, 5, 9, key_a);
	snprintf(bad, sizeof(bad), "%s.bad", t->db);
	check_list(bad, 10, 8, key_b);
	wl_set_free(s);
}

/* One writer at a time: a second lock (another open file description, as
 * in another process) is refused at once, after a bounded wait, and
 * granted once the first is released; a blocking wait ends when the
 * holder (a child) lets go. */
static void test_lock_excludes(void **state)
{
	struct tdir *t = *state;
	struct wl_db_lock *a, *b;
	struct wl_err err = {0};
	char c;
	double t0;
	int fds[2];
	pid_t pid;

	assert_int_equal(wl_db_lock(t->db, 0, &a, &err), 0);
	assert_int_equal(wl_db_lock(t->db, 0, &b, &err), -EWOULDBLOCK);
	assert_int_equal(err.kind, WL_E_LOCKED);
	assert_non_null(strstr(err.msg, t->db));
	assert_null(b);
	t0 = now();
	assert_int_equal(wl_db_lock(t->db, 100, &b, &err), -EWOULDBLOCK);
	assert_true(now() - t0 >= 0.09);
	wl_db_unlock(a);
	assert_int_equal(wl_db_lock(t->db, 0, &b, &err), 0);
	wl_db_unlock(b);

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (wl_db_lock(t->db, 0, &a, NULL) || write(fds[1], "L", 1) != 1)
			_exit(1);
		usleep(300000);
		_exit(0); /* the lock goes with the process */
	}
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(wl_db_lock(t->db, 0, &b, &err), -EWOULDBLOCK);
	t0 = now();
	assert_int_equal(wl_db_lock(t->db, -1, &b, &err), 0);
	assert_true(now() - t0 >= 0.1);
	wl_db_unlock(b);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(fds[0]);
	close(fds[1]);
	/* a directory that does not exist: named */
	assert_int_equal(wl_db_lock("/nonexistent-hmilock/approved.db", 0, &b, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent-hmilock"));
}

/* ---- SIGKILL at random points while lists are written --------------------- */

#define KILL_N 1000
#define KILL_ROUNDS 200

static void kill_child(const char *path, uint64_t gen)
{
	struct wl_err err;
	struct wl_set *s;
	struct wl_entry e;
	size_t i;

	for (;; gen++) {
		s = wl_set_new();
		for (i = 0; s && i < KILL_N; i++) {
			make_entry(i, gen, &e);
			if (wl_set_put(s, &e))
				_exit(3);
		}
		if (!s || put_list(path, s, gen, key_a, &err))
			_exit(2);
		wl_set_free(s);
	}
}

/* .prev, if there, is a complete list of the generation before, or of the
 * current one (killed between link and rename); missing if killed between
 * unlink and link. */
static void check_prev(const char *prev, uint64_t gen)
{
	struct wl_err err = {0};
	struct wl_db *db;
	uint64_t pg;

	if (access(prev, F_OK) != 0)
		return;
	if (wl_db_open(prev, key_a, &db, &err))
		fail_msg("%s broken: %s", prev, err.msg);
	pg = wl_db_generation(db);
	wl_db_close(db);
	assert_true(pg == gen || pg + 1 == gen);
	check_list(prev, KILL_N, pg, key_a);
}

static void test_kill_during_write(void **state)
{
	struct tdir *t = *state;
	unsigned seed = (unsigned)time(NULL), round, advanced = 0, left = 0;
	uint64_t gen = 1, before;
	struct wl_err err = {0};
	struct wl_db *db;
	int status;
	pid_t pid;

	print_message("    seed %u\n", seed);
	srand(seed);
	write_list(t->db, KILL_N, gen, key_a);
	for (round = 0; round < KILL_ROUNDS; round++) {
		before = gen;
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			kill_child(t->db, gen + 1);
		usleep((useconds_t)(rand() % 15000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("writer exited with %d before it was killed", status);
		if (wl_db_open(t->db, key_a, &db, &err))
			fail_msg("round %u: list broken after SIGKILL: %s", round, err.msg);
		gen = wl_db_generation(db);
		wl_db_close(db);
		assert_true(gen >= before);
		advanced += gen > before;
		left += count_tmps(t->dir) > 0;
		/* Exactly the complete list of that generation (A or B). */
		check_list(t->db, KILL_N, gen, key_a);
		check_prev(t->prev, gen);
	}
	print_message("    %u of %u rounds wrote a list; %u left a tmp file behind\n", advanced,
	              KILL_ROUNDS, left);
	assert_true(advanced > 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	/* The SIGKILL test first: forking is cheapest while the heap (and
	 * ASan's quarantine) is still small. */
	const struct CMUnitTest tests[] = {
	    T(test_kill_during_write), T(test_roundtrip_100k),
	    T(test_roundtrip_empty),   T(test_odd_paths),
	    T(test_empty_file),        T(test_missing_and_special),
	    T(test_truncated),         T(test_flipped_bytes),
	    T(test_other_key),         T(test_open_digest),
	    T(test_future_version),    T(test_garbage),
	    T(test_corrupt_valid_mac), T(test_prev_kept),
	    T(test_bad_current_kept),  T(test_write_refused_changes_nothing),
	    T(test_write_enospc),      T(test_stale_tmp),
	    T(test_write_stale),       T(test_write_over_bad),
	    T(test_lock_excludes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
