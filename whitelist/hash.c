/* hash.c - SHA-256 of a file through an open fd (OpenSSL EVP), streamed with
 * pread() so the fd's offset is never moved, optionally within a byte limit
 * and a cancel flag. Owns one read buffer and one
 * EVP_MD_CTX per calling thread (freed at thread exit); the fd stays the
 * caller's. Any thread may call these. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "wl.h"

/* Measured on the 2-core build box (hmilock init /usr/lib, warm cache): a
 * 64 KiB buffer stays in L2 while the kernel copies into it and SHA-256 reads
 * it back; 128 and 256 KiB doubled the system time (cache misses in the
 * page-cache copy) for no fewer bytes hashed. */
#define HASH_BUF_SIZE (64 * 1024)

struct hash_tls {
	uint8_t *buf; /* HASH_BUF_SIZE bytes */
	EVP_MD_CTX *ctx;
};

static pthread_once_t hash_once = PTHREAD_ONCE_INIT;
static pthread_key_t hash_key;
static bool hash_key_ok;
static const EVP_MD *hash_md; /* fetched once: no per-file provider lookup */

static void hash_tls_free(void *p)
{
	struct hash_tls *t = p;

	EVP_MD_CTX_free(t->ctx);
	free(t->buf);
	free(t);
}

static void hash_init_once(void)
{
	hash_key_ok = pthread_key_create(&hash_key, hash_tls_free) == 0;
	hash_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!hash_md)
		hash_md = EVP_sha256();
}

/* This thread's buffer and context, created on first use. */
static struct hash_tls *hash_tls_get(void)
{
	struct hash_tls *t;

	pthread_once(&hash_once, hash_init_once);
	if (!hash_key_ok)
		return NULL;
	t = pthread_getspecific(hash_key);
	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->buf = malloc(HASH_BUF_SIZE);
	t->ctx = EVP_MD_CTX_new();
	if (!t->buf || !t->ctx || pthread_setspecific(hash_key, t) != 0) {
		hash_tls_free(t);
		return NULL;
	}
	return t;
}

/* Feed the whole file into t->ctx; returns bytes read or -errno. Within
 * lim (may be NULL): -EFBIG past max_bytes, -ECANCELED once *cancel. */
static int64_t hash_stream(int fd, struct hash_tls *t, const struct wl_hash_limits *lim)
{
	uint8_t *keep = lim ? lim->keep : NULL, *dst;
	uint64_t off = 0;
	size_t len;
	ssize_t n;

	for (;;) {
		if (lim && lim->cancel && atomic_load_explicit(lim->cancel, memory_order_relaxed))
			return -ECANCELED;
		if (keep && off >= lim->keep_cap)
			keep = NULL; /* it did not fit: the rest as usual, nothing kept */
		dst = keep ? keep + off : t->buf;
		len = keep && lim->keep_cap - off < HASH_BUF_SIZE ? (size_t)(lim->keep_cap - off)
		                                                  : HASH_BUF_SIZE;
		n = pread(fd, dst, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (lim && lim->kept)
				*lim->kept = keep ? off : 0;
			return (int64_t)off;
		}
		off += (uint64_t)n;
		if (lim && lim->max_bytes && off > lim->max_bytes)
			return -EFBIG;
		if (EVP_DigestUpdate(t->ctx, dst, (size_t)n) != 1)
			return -EIO;
	}
}

/* wl_hash_fd within lim; the errors of the limits keep their own kinds. */
static int hash_fd_limited(int fd, uint8_t out[WL_SHA256_LEN], uint64_t *bytes,
                           const struct wl_hash_limits *lim, struct wl_err *err)
{
	struct hash_tls *t = hash_tls_get();
	unsigned int len = 0;
	int64_t n;

	if (!t)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory for the hash buffer");
	if (EVP_DigestInit_ex2(t->ctx, hash_md, NULL) != 1)
		return wl_err_set(err, -EIO, WL_E_IO, "OpenSSL SHA-256 initialisation failed");
	/* Advice only: doubles the readahead window on a cold cache. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	n = hash_stream(fd, t, lim);
	if (n == -EFBIG)
		return wl_err_set(err, -EFBIG, WL_E_TOO_BIG,
		                  "fd %d yields more than %llu bytes (it grew while being hashed)",
		                  fd, (unsigned long long)lim->max_bytes);
	if (n == -ECANCELED)
		return wl_err_set(err, -ECANCELED, WL_E_CANCELED, "hashing fd %d canceled", fd);
	if (n < 0)
		return wl_err_set(err, (int)n, WL_E_IO, "cannot read fd %d for hashing: %s", fd,
		                  strerror((int)-n));
	if (EVP_DigestFinal_ex(t->ctx, out, &len) != 1 || len != WL_SHA256_LEN)
		return wl_err_set(err, -EIO, WL_E_IO, "OpenSSL SHA-256 finalisation failed");
	if (bytes)
		*bytes = (uint64_t)n;
	return 0;
}

int wl_hash_fd(int fd, uint8_t out[WL_SHA256_LEN], uint64_t *bytes, struct wl_err *err)
{
	return hash_fd_limited(fd, out, bytes, NULL, err);
}

/* Did anything that moves with the content change between a and b? */
static bool hash_same_state(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int wl_hash_fd_stable_limited(int fd, const char *name, uint8_t out[WL_SHA256_LEN], struct stat *st,
                              const struct wl_hash_limits *lim, struct wl_err *err)
{
	struct stat before, after;
	char fdname[32];
	int attempt, ret;

	if (!name) {
		snprintf(fdname, sizeof(fdname), "fd %d", fd);
		name = fdname;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		if (fstat(fd, &before) < 0)
			return wl_err_set(err, -errno, WL_E_IO, "cannot stat %s: %s", name,
			                  strerror(errno));
		/* Refused before a single read: the size says it all. */
		if (lim && lim->max_bytes && before.st_size > 0 &&
		    (uint64_t)before.st_size > lim->max_bytes)
			return wl_err_set(err, -EFBIG, WL_E_TOO_BIG,
			                  "%s is %llu bytes, more than the %llu allowed", name,
			                  (unsigned long long)before.st_size,
			                  (unsigned long long)lim->max_bytes);
		ret = hash_fd_limited(fd, out, NULL, lim, err);
		if (ret == -ENOMEM || ret == -ECANCELED)
			return ret;
		if (ret == -EFBIG)
			return wl_err_set(err, ret, WL_E_TOO_BIG,
			                  "%s grew past %llu bytes while it was hashed", name,
			                  (unsigned long long)lim->max_bytes);
		if (ret < 0)
			return wl_err_set(err, ret, WL_E_IO, "cannot read %s for hashing: %s", name,
			                  strerror(-ret));
		if (fstat(fd, &after) < 0)
			return wl_err_set(err, -errno, WL_E_IO, "cannot stat %s: %s", name,
			                  strerror(errno));
		if (hash_same_state(&before, &after)) {
			if (st)
				*st = before;
			return 0;
		}
	}
	return wl_err_set(err, -EAGAIN, WL_E_UNSTABLE,
	                  "%s changed while it was hashed (size, mtime or ctime moved), twice in a "
	                  "row; hash it again once nothing writes to it",
	                  name);
}

int wl_hash_fd_stable(int fd, const char *name, uint8_t out[WL_SHA256_LEN], struct stat *st,
                      struct wl_err *err)
{
	return wl_hash_fd_stable_limited(fd, name, out, st, NULL, err);
}

void wl_hex_n(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void wl_hex(const uint8_t h[WL_SHA256_LEN], char out[WL_HEX_LEN])
{
	wl_hex_n(h, WL_SHA256_LEN, out);
}

int wl_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* also for '\0': a short string stops here */
}

int wl_unhex_n(const char *s, size_t slen, uint8_t *out, size_t n)
{
	int hi, lo;
	size_t i;

	if (!s || slen != 2 * n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		hi = wl_hex_digit(s[2 * i]);
		if (hi < 0) /* never read past a terminator */
			return -EINVAL;
		lo = wl_hex_digit(s[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int wl_unhex(const char *s, uint8_t out[WL_SHA256_LEN])
{
	uint8_t tmp[WL_SHA256_LEN];

	if (!s || wl_unhex_n(s, strlen(s), tmp, sizeof(tmp)) < 0)
		return -EINVAL;
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}
