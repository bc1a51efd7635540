/* sign.c - Ed25519 keys and signatures for exported approved lists, through
 * libcrypto's EVP_PKEY (one-shot EVP_DigestSign/Verify, no digest). Owns the
 * EVP_PKEY inside each struct wl_sign_key and the PEM key files it writes;
 * stateless otherwise, any thread may call it on its own keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "wl.h"

#define SIGN_MAX_PEM 16384 /* an Ed25519 PEM file is ~120 bytes */

struct wl_sign_key {
	EVP_PKEY *pkey;
	bool private_key;
};

/* The last libcrypto error as text (and the queue cleared). */
static const char *sign_ossl(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (!e)
		snprintf(buf, len, "unknown libcrypto error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* Write a PEM of pkey to path (O_EXCL, mode). */
static int sign_write_pem(const char *path, EVP_PKEY *pkey, bool private_key, mode_t mode,
                          struct wl_err *err)
{
	char ebuf[256];
	BIO *bio;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return wl_err_set(err, -errno, WL_E_IO, "%s: cannot create key file: %s%s", path,
		                  strerror(errno),
		                  errno == EEXIST ? " (will not overwrite it)" : "");
	if (fchmod(fd, mode) < 0) { /* whatever the umask */
		int e = errno;
		close(fd);
		unlink(path);
		return wl_err_set(err, -e, WL_E_IO, "%s: chmod: %s", path, strerror(e));
	}
	bio = BIO_new_fd(fd, BIO_CLOSE);
	if (!bio) {
		close(fd);
		unlink(path);
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory");
	}
	ok = private_key ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
	                 : PEM_write_bio_PUBKEY(bio, pkey);
	ok = ok && BIO_flush(bio) == 1 && fsync(fd) == 0;
	BIO_free(bio);
	if (!ok) {
		unlink(path);
		return wl_err_set(err, -EIO, WL_E_IO, "%s: cannot write key: %s", path,
		                  sign_ossl(ebuf, sizeof(ebuf)));
	}
	return 0;
}

int wl_sign_keygen(const char *priv, const char *pub, struct wl_err *err)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	char ebuf[256];
	int rc;

	if (!priv || !pub || strcmp(priv, pub) == 0)
		return wl_err_set(err, -EINVAL, WL_E_USAGE,
		                  "keygen: the private and public key need two different files");
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &pkey) <= 0) {
		rc = wl_err_set(err, -EIO, WL_E_IO, "Ed25519 key generation failed: %s",
		                sign_ossl(ebuf, sizeof(ebuf)));
		goto ctx;
	}
	rc = sign_write_pem(priv, pkey, true, 0600, err);
	if (rc)
		goto pkey;
	rc = sign_write_pem(pub, pkey, false, 0644, err);
	if (rc)
		unlink(priv);
pkey:
	EVP_PKEY_free(pkey);
ctx:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* Read a small key file into a BIO after checking its kind and mode. */
static int sign_read_file(const char *path, bool private_key, BIO **out, struct wl_err *err)
{
	char buf[SIGN_MAX_PEM];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return wl_err_set(err, -errno, WL_E_IO, "%s: cannot open key file: %s", path,
		                  strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SIGN_MAX_PEM) {
		close(fd);
		return wl_err_set(err, -EINVAL, WL_E_KEY,
		                  "%s: not a key file (not a regular file of at most %d bytes)",
		                  path, SIGN_MAX_PEM);
	}
	if (private_key && (st.st_mode & 077)) {
		close(fd);
		return wl_err_set(err, -EPERM, WL_E_KEY,
		                  "%s: private key file has mode %04o; others must not read it "
		                  "(chmod 600 %s)",
		                  path, (unsigned)(st.st_mode & 07777), path);
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return wl_err_set(err, -errno, WL_E_IO, "%s: read: %s", path, strerror(errno));
	*out = BIO_new(BIO_s_mem());
	if (!*out || BIO_write(*out, buf, (int)n) != (int)n) {
		OPENSSL_cleanse(buf, sizeof(buf));
		BIO_free(*out);
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory");
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int sign_key_wrap(EVP_PKEY *pkey, bool private_key, struct wl_sign_key **out,
                         struct wl_err *err)
{
	*out = calloc(1, sizeof(**out));
	if (!*out) {
		EVP_PKEY_free(pkey);
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory");
	}
	(*out)->pkey = pkey;
	(*out)->private_key = private_key;
	return 0;
}

int wl_sign_key_load(const char *path, bool private_key, struct wl_sign_key **out,
                     struct wl_err *err)
{
	EVP_PKEY *pkey;
	char ebuf[256];
	BIO *bio;
	int rc;

	*out = NULL;
	rc = sign_read_file(path, private_key, &bio, err);
	if (rc)
		return rc;
	pkey = private_key ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
	                   : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey)
		return wl_err_set(err, -EINVAL, WL_E_KEY, "%s: not a PEM %s key: %s", path,
		                  private_key ? "private" : "public",
		                  sign_ossl(ebuf, sizeof(ebuf)));
	if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return wl_err_set(err, -EINVAL, WL_E_KEY, "%s: not an Ed25519 key", path);
	}
	return sign_key_wrap(pkey, private_key, out, err);
}

int wl_sign_key_raw(const uint8_t raw[32], bool private_key, struct wl_sign_key **out,
                    struct wl_err *err)
{
	EVP_PKEY *pkey;
	char ebuf[256];

	*out = NULL;
	pkey = private_key ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32)
	                   : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
	if (!pkey)
		return wl_err_set(err, -EINVAL, WL_E_KEY, "not a valid Ed25519 key: %s",
		                  sign_ossl(ebuf, sizeof(ebuf)));
	return sign_key_wrap(pkey, private_key, out, err);
}

void wl_sign_key_free(struct wl_sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int wl_sign_key_public(const struct wl_sign_key *k, uint8_t pub[WL_SIG_PUBLEN], struct wl_err *err)
{
	size_t len = WL_SIG_PUBLEN;
	char ebuf[256];

	if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &len) <= 0 || len != WL_SIG_PUBLEN)
		return wl_err_set(err, -EIO, WL_E_KEY, "cannot read the public key: %s",
		                  sign_ossl(ebuf, sizeof(ebuf)));
	return 0;
}

int wl_sign(const struct wl_sign_key *k, const void *msg, size_t len, uint8_t sig[WL_SIG_LEN],
            struct wl_err *err)
{
	size_t siglen = WL_SIG_LEN;
	EVP_MD_CTX *md;
	char ebuf[256];
	int rc = 0;

	if (!k->private_key)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "signing needs the private key");
	md = EVP_MD_CTX_new();
	if (!md)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory");
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) <= 0 ||
	    EVP_DigestSign(md, sig, &siglen, msg, len) <= 0 || siglen != WL_SIG_LEN)
		rc = wl_err_set(err, -EIO, WL_E_IO, "Ed25519 signing failed: %s",
		                sign_ossl(ebuf, sizeof(ebuf)));
	EVP_MD_CTX_free(md);
	return rc;
}

int wl_sign_verify(const struct wl_sign_key *k, const void *msg, size_t len,
                   const uint8_t sig[WL_SIG_LEN], struct wl_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char ebuf[256];
	int ok;

	if (!md)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory");
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) <= 0) {
		EVP_MD_CTX_free(md);
		return wl_err_set(err, -EIO, WL_E_IO, "Ed25519 verification failed: %s",
		                  sign_ossl(ebuf, sizeof(ebuf)));
	}
	ok = EVP_DigestVerify(md, sig, WL_SIG_LEN, msg, len);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (ok != 1)
		return wl_err_set(err, -EBADMSG, WL_E_MAC,
		                  "signature does not verify: the data was changed or signed with "
		                  "another key");
	return 0;
}
