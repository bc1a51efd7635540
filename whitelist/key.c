/* key.c - the per-machine HMAC key file (32 random bytes, root, mode 0600)
 * that authenticates the approved list (and hmilockd's state file: the hex
 * MAC helpers). Creates it once, loads it with strict checks; key bytes are
 * wiped from every buffer this file fills. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "io.h"
#include "wl.h"

/* mkdir -p of the directory part of path, each new level mode 0700. */
static int key_mkparent(const char *path, struct wl_err *err)
{
	char failed[PATH_MAX];
	int rc = wl_mkparents(path, 0700, failed);

	if (rc == -ENAMETOOLONG)
		return wl_err_set(err, rc, WL_E_USAGE, "key file path too long: %s", path);
	if (rc < 0)
		return wl_err_set(err, rc, WL_E_IO,
		                  "cannot create directory %s for key file %s: %s", failed, path,
		                  strerror(-rc));
	return 0;
}

int wl_key_create(const char *path, struct wl_err *err)
{
	uint8_t key[WL_KEY_LEN];
	const char *what;
	int fd, ret;

	if (!path || !path[0])
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "no key file path given");
	ret = key_mkparent(path, err);
	if (ret)
		return ret;
	if (RAND_bytes(key, sizeof(key)) != 1)
		return wl_err_set(err, -EIO, WL_E_IO,
		                  "cannot create key file %s: no random bytes from OpenSSL", path);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		OPENSSL_cleanse(key, sizeof(key));
		if (ret == -EEXIST)
			return wl_err_set(err, ret, WL_E_IO,
			                  "key file %s already exists; a new key would invalidate "
			                  "the list made with it",
			                  path);
		return wl_err_set(err, ret, WL_E_IO, "cannot create key file %s: %s", path,
		                  strerror(-ret));
	}
	what = "set mode 0600 on";
	ret = fchmod(fd, 0600) ? -errno : 0;
	if (!ret) {
		what = "write";
		ret = io_write_all(fd, key, sizeof(key));
	}
	if (!ret) {
		what = "fsync";
		ret = fsync(fd) ? -errno : 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (close(fd) && !ret) {
		what = "close";
		ret = -errno;
	}
	if (!ret) {
		what = "fsync the directory of";
		ret = wl_fsync_dir_of(path);
	}
	if (ret)
		goto unlink_file;
	return 0;

unlink_file:
	unlink(path);
	return wl_err_set(err, ret, WL_E_IO, "cannot %s key file %s: %s", what, path,
	                  strerror(-ret));
}

/* Refuse a key file anyone but root (or the caller) owns or others can use. */
static int key_check_stat(const char *path, const struct stat *st, struct wl_err *err)
{
	if (!S_ISREG(st->st_mode))
		return wl_err_set(err, -EINVAL, WL_E_KEY,
		                  "key file %s is not a regular file; move it away and run "
		                  "`hmilock init` to create a new key and list",
		                  path);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return wl_err_set(err, -EPERM, WL_E_KEY,
		                  "key file %s is owned by uid %u, not root; fix with `chown root "
		                  "%s` if it is genuine",
		                  path, (unsigned)st->st_uid, path);
	if (st->st_mode & 077)
		return wl_err_set(err, -EPERM, WL_E_KEY,
		                  "key file %s has mode %04o: group or others can use it; fix "
		                  "with `chmod 600 %s`",
		                  path, (unsigned)(st->st_mode & 07777), path);
	if (st->st_size != WL_KEY_LEN)
		return wl_err_set(err, -EINVAL, WL_E_KEY,
		                  "key file %s is %lld bytes, a key is %d; restore it from a "
		                  "backup, or move it away and run `hmilock init` (new key and "
		                  "list)",
		                  path, (long long)st->st_size, WL_KEY_LEN);
	return 0;
}

static int key_read(int fd, const char *path, uint8_t key[WL_KEY_LEN], struct wl_err *err)
{
	size_t done = 0;
	ssize_t n;

	while (done < WL_KEY_LEN) {
		n = pread(fd, key + done, WL_KEY_LEN - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wl_err_set(err, -errno, WL_E_IO, "cannot read key file %s: %s", path,
			                  strerror(errno));
		if (n == 0)
			return wl_err_set(err, -EINVAL, WL_E_KEY,
			                  "key file %s shrank while read; run again", path);
		done += (size_t)n;
	}
	return 0;
}

int wl_key_load(const char *path, uint8_t key[WL_KEY_LEN], struct wl_err *err)
{
	struct stat st;
	int fd, ret;

	if (!path || !path[0] || !key)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "no key file path given");
	/* O_NONBLOCK: a FIFO planted at path must not hang us. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return wl_err_set(err, -ENOENT, WL_E_KEY,
		                  "key file %s does not exist; `hmilock init` creates it "
		                  "(with a new list)",
		                  path);
	if (fd < 0 && errno == ELOOP)
		return wl_err_set(err, -ELOOP, WL_E_KEY,
		                  "key file %s is a symlink; refusing it: put the key file itself "
		                  "there (mode 600, root)",
		                  path);
	if (fd < 0)
		return wl_err_set(err, -errno, WL_E_KEY, "cannot open key file %s: %s", path,
		                  strerror(errno));
	if (fstat(fd, &st))
		ret = wl_err_set(err, -errno, WL_E_IO, "cannot stat key file %s: %s", path,
		                 strerror(errno));
	else
		ret = key_check_stat(path, &st, err);
	if (!ret)
		ret = key_read(fd, path, key, err);
	if (ret)
		OPENSSL_cleanse(key, WL_KEY_LEN);
	close(fd);
	return ret;
}

int wl_mac_hex(const uint8_t key[WL_KEY_LEN], const void *data, size_t len, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t mac[32];
	size_t outlen = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, WL_KEY_LEN, data, len, mac,
	               sizeof(mac), &outlen) ||
	    outlen != sizeof(mac))
		return -EIO;
	for (size_t i = 0; i < sizeof(mac); i++) {
		out[2 * i] = digits[mac[i] >> 4];
		out[2 * i + 1] = digits[mac[i] & 15];
	}
	out[64] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int wl_mac_hex_check(const uint8_t key[WL_KEY_LEN], const void *data, size_t len, const char *hex)
{
	char want[65];
	int rc = wl_mac_hex(key, data, len, want);

	if (rc)
		return rc;
	if (strlen(hex) != 64 || CRYPTO_memcmp(want, hex, 64))
		return -EBADMSG;
	return 0;
}
