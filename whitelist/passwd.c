/* passwd.c - the admin password file: one line "scrypt$N$r$p$SALT$HASH"
 * (salted scrypt through libcrypto's EVP_PBE_scrypt, hex fields), mode
 * 0600. Owns only that file's format; stateless, any thread may call it.
 * Password and hash bytes are wiped from every buffer filled here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "wl.h"

/* 2^15 x 8 x 1: 32 MiB and about 0.1 s per check on the boxes we target;
 * a check is rare (an operator at the console) and rate-limited. */
#define PASSWD_N 32768ull
#define PASSWD_R 8ull
#define PASSWD_P 1ull
#define PASSWD_SALT 16
#define PASSWD_HASH 32
#define PASSWD_MAXMEM (256ull << 20)
#define PASSWD_LINE 512

struct passwd_rec {
	uint64_t n, r, p;
	uint8_t salt[PASSWD_SALT];
	uint8_t hash[PASSWD_HASH];
};

static int passwd_derive(const char *pw, const struct passwd_rec *rec, uint8_t out[PASSWD_HASH])
{
	if (EVP_PBE_scrypt(pw, strlen(pw), rec->salt, sizeof(rec->salt), rec->n, rec->r, rec->p,
	                   PASSWD_MAXMEM, out, PASSWD_HASH) != 1)
		return -ENOMEM; /* the only way it fails with sane parameters */
	return 0;
}

/* A decimal field up to '$' in [lo, hi]; advances *s past the '$'. */
static int passwd_num(const char **s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(*s, &end, 10);
	if (errno || *end != '$' || *out < lo || *out > hi)
		return -EINVAL;
	*s = end + 1;
	return 0;
}

static int passwd_parse(const char *line, struct passwd_rec *rec)
{
	const char *s = line, *d;

	if (strncmp(s, "scrypt$", 7) != 0)
		return -EINVAL;
	s += 7;
	if (passwd_num(&s, 1024, 1u << 22, &rec->n) || (rec->n & (rec->n - 1)) ||
	    passwd_num(&s, 1, 32, &rec->r) || passwd_num(&s, 1, 16, &rec->p))
		return -EINVAL;
	d = strchr(s, '$');
	if (!d || wl_unhex_n(s, (size_t)(d - s), rec->salt, sizeof(rec->salt)))
		return -EINVAL;
	s = d + 1;
	return wl_unhex_n(s, strlen(s), rec->hash, sizeof(rec->hash));
}

static int passwd_check_pw(const char *pw, struct wl_err *err)
{
	size_t n = pw ? strlen(pw) : 0;

	if (n == 0)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "the password is empty");
	if (n > WL_PASSWD_MAX)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "the password is longer than %d bytes",
		                  WL_PASSWD_MAX);
	return 0;
}

static int passwd_write(const char *path, const char *line, struct wl_err *err)
{
	int rc = wl_write_atomic(path, line, strlen(line), 0600);

	if (rc == -ENAMETOOLONG)
		return wl_err_set(err, rc, WL_E_USAGE, "path too long: %s", path);
	if (rc < 0)
		return wl_err_set(err, rc, WL_E_IO, "%s: cannot write the password file: %s", path,
		                  strerror(-rc));
	return 0;
}

int wl_passwd_set(const char *path, const char *pw, struct wl_err *err)
{
	struct passwd_rec rec = {.n = PASSWD_N, .r = PASSWD_R, .p = PASSWD_P};
	char line[PASSWD_LINE], salt[2 * PASSWD_SALT + 1], hash[2 * PASSWD_HASH + 1];
	int rc = passwd_check_pw(pw, err);

	if (rc)
		return rc;
	if (RAND_bytes(rec.salt, sizeof(rec.salt)) != 1)
		return wl_err_set(err, -EIO, WL_E_IO, "no random bytes for the salt");
	if (passwd_derive(pw, &rec, rec.hash) < 0)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "scrypt: out of memory");
	wl_hex_n(rec.salt, sizeof(rec.salt), salt);
	wl_hex_n(rec.hash, sizeof(rec.hash), hash);
	snprintf(line, sizeof(line), "scrypt$%llu$%llu$%llu$%s$%s\n", (unsigned long long)rec.n,
	         (unsigned long long)rec.r, (unsigned long long)rec.p, salt, hash);
	rc = passwd_write(path, line, err);
	OPENSSL_cleanse(&rec, sizeof(rec));
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

/* Read and parse the file: 0, -ENOENT (none set) or an error; when want
 * is given, -ESTALE unless the file opened is that inode. */
static int passwd_load(const char *path, const struct stat *want, struct passwd_rec *rec,
                       struct wl_err *err)
{
	char line[PASSWD_LINE];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return wl_err_set(err, -errno, WL_E_IO, "admin password file %s: %s", path,
		                  strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 022) ||
	    st.st_uid != geteuid()) {
		close(fd);
		return wl_err_set(err, -EPERM, WL_E_KEY,
		                  "admin password file %s is not a regular file owned by this "
		                  "user that only its owner may write; remove it and set the "
		                  "password again (hmilock passwd)",
		                  path);
	}
	if (want && (st.st_dev != want->st_dev || st.st_ino != want->st_ino)) {
		close(fd);
		return wl_err_set(err, -ESTALE, WL_E_KEY,
		                  "admin password file %s is not the one hmilock was locked with "
		                  "(another file, or one mounted over it)",
		                  path);
	}
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 0)
		return wl_err_set(err, -errno, WL_E_IO, "admin password file %s: read: %s", path,
		                  strerror(errno));
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (passwd_parse(line, rec) < 0)
		return wl_err_set(err, -EINVAL, WL_E_CORRUPT,
		                  "admin password file %s does not parse (want "
		                  "scrypt$N$r$p$SALT$HASH); remove it and set the password again",
		                  path);
	return 0;
}

static int passwd_verify(const char *path, const struct stat *want, const char *pw,
                         struct wl_err *err)
{
	uint8_t got[PASSWD_HASH];
	struct passwd_rec rec;
	int rc;

	rc = passwd_load(path, want, &rec, err);
	if (rc)
		return rc;
	if (!pw || strlen(pw) > WL_PASSWD_MAX) {
		rc = wl_err_set(err, -EACCES, WL_E_USAGE, "wrong admin password");
		goto rec;
	}
	if (passwd_derive(pw, &rec, got) < 0) {
		rc = wl_err_set(err, -ENOMEM, WL_E_NOMEM, "scrypt: out of memory");
		goto rec;
	}
	if (CRYPTO_memcmp(got, rec.hash, sizeof(got)) != 0)
		rc = wl_err_set(err, -EACCES, WL_E_USAGE, "wrong admin password");
	OPENSSL_cleanse(got, sizeof(got));
rec:
	OPENSSL_cleanse(&rec, sizeof(rec));
	return rc;
}

int wl_passwd_verify(const char *path, const char *pw, struct wl_err *err)
{
	return passwd_verify(path, NULL, pw, err);
}

int wl_passwd_verify_id(const char *path, uint64_t dev, uint64_t ino, const char *pw,
                        struct wl_err *err)
{
	struct stat want = {.st_dev = (dev_t)dev, .st_ino = (ino_t)ino};

	return passwd_verify(path, &want, pw, err);
}

int wl_passwd_exists(const char *path, struct wl_err *err)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 0;
	return wl_err_set(err, -errno, WL_E_IO, "admin password file %s: %s", path,
	                  strerror(errno));
}

int wl_passwd_remove(const char *path, struct wl_err *err)
{
	if (unlink(path) < 0)
		return wl_err_set(err, -errno, WL_E_IO, "admin password file %s: %s", path,
		                  strerror(errno));
	(void)wl_fsync_dir_of(path);
	return 0;
}

/* The first line of fd into buf: 0, -ENODATA (empty), -EMSGSIZE (longer
 * than len - 1), -errno. */
static int passwd_first_line(int fd, char *buf, size_t len)
{
	const char *nl;
	size_t n = 0, eol;
	ssize_t r;

	while (n < len && (r = read(fd, buf + n, len - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		n += (size_t)r;
	}
	nl = memchr(buf, '\n', n);
	eol = nl ? (size_t)(nl - buf) : n;
	if (eol == len) {
		explicit_bzero(buf, len);
		return -EMSGSIZE;
	}
	if (eol > 0 && buf[eol - 1] == '\r')
		eol--;
	explicit_bzero(buf + eol, len - eol);
	return eol ? 0 : -ENODATA;
}

int wl_passwd_read_file(const char *file, char *buf, size_t len, struct wl_err *err)
{
	struct stat st;
	int fd, rc;

	fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return wl_err_set(err, -errno, WL_E_IO, "%s: %s", file, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		return wl_err_set(err, -EPERM, WL_E_KEY,
		                  "%s: want a regular file only its owner may read (chmod 600 %s)",
		                  file, file);
	}
	rc = passwd_first_line(fd, buf, len);
	close(fd);
	if (rc == -ENODATA)
		return wl_err_set(err, rc, WL_E_USAGE, "%s: empty", file);
	if (rc == -EMSGSIZE)
		return wl_err_set(err, rc, WL_E_USAGE, "%s: password longer than %zu bytes", file,
		                  len - 1);
	if (rc)
		return wl_err_set(err, rc, WL_E_IO, "%s: %s", file, strerror(-rc));
	return 0;
}
