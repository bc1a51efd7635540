/* test_sign.c - unit tests for whitelist/sign.c: RFC 8032 Ed25519 vectors
 * (sign gives the published signature, verify accepts it), tampering of
 * message, signature and key, keygen files (modes, PEM, EEXIST) and the
 * refusals of key loading. Each test works in its own temporary directory (fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "wl.h"

/* RFC 8032 section 7.1, TEST 1, 2 and 3. */
static const struct vec {
	const char *name, *sk, *pk, *msg, *sig;
} vecs[] = {
    {"rfc8032 test 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
     "701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"rfc8032 test 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f36"
     "13d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"rfc8032 test 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f7"
     "60984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2, i;
	unsigned v;

	assert_true(n <= max);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void test_vectors(void **state)
{
	uint8_t sk[32], pk[32], msg[64], sig[64], want[64], pub[32];
	struct wl_sign_key *priv, *pubk;
	struct wl_err err = {0};
	size_t i, mlen;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		print_message("%s\n", vecs[i].name);
		unhex(vecs[i].sk, sk, 32);
		unhex(vecs[i].pk, pk, 32);
		mlen = unhex(vecs[i].msg, msg, sizeof(msg));
		unhex(vecs[i].sig, want, 64);
		assert_int_equal(wl_sign_key_raw(sk, true, &priv, &err), 0);
		assert_int_equal(wl_sign_key_raw(pk, false, &pubk, &err), 0);
		assert_int_equal(wl_sign_key_public(priv, pub, &err), 0);
		assert_memory_equal(pub, pk, 32);
		assert_int_equal(wl_sign(priv, msg, mlen, sig, &err), 0);
		assert_memory_equal(sig, want, 64);
		assert_int_equal(wl_sign_verify(pubk, msg, mlen, want, &err), 0);
		/* a public key cannot sign */
		assert_int_equal(wl_sign(pubk, msg, mlen, sig, &err), -EINVAL);
		wl_sign_key_free(priv);
		wl_sign_key_free(pubk);
	}
}

/* Flip each bit position class: message, signature, another key. */
static void test_tamper(void **state)
{
	uint8_t pk[32], pk2[32], msg[2], sig[64];
	struct wl_sign_key *k, *k2;
	struct wl_err err = {0};
	size_t i;

	(void)state;
	unhex(vecs[2].pk, pk, 32);
	unhex(vecs[1].pk, pk2, 32);
	unhex(vecs[2].msg, msg, 2);
	unhex(vecs[2].sig, sig, 64);
	assert_int_equal(wl_sign_key_raw(pk, false, &k, &err), 0);
	assert_int_equal(wl_sign_key_raw(pk2, false, &k2, &err), 0);
	assert_int_equal(wl_sign_verify(k, msg, 2, sig, &err), 0);
	msg[1] ^= 1;
	assert_int_equal(wl_sign_verify(k, msg, 2, sig, &err), -EBADMSG);
	assert_int_equal(err.kind, WL_E_MAC);
	assert_non_null(strstr(err.msg, "another key"));
	msg[1] ^= 1;
	for (i = 0; i < 64; i += 7) {
		sig[i] ^= 0x80;
		assert_int_equal(wl_sign_verify(k, msg, 2, sig, &err), -EBADMSG);
		sig[i] ^= 0x80;
	}
	assert_int_equal(wl_sign_verify(k, msg, 1, sig, &err), -EBADMSG); /* shorter */
	assert_int_equal(wl_sign_verify(k2, msg, 2, sig, &err), -EBADMSG);
	wl_sign_key_free(k);
	wl_sign_key_free(k2);
}

struct tdir {
	char dir[FX_DIR_LEN], priv[128], pub[128];
};

static int setup(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	if (fx_mkdir(t->dir, "test_sign") < 0) {
		free(t);
		return -1;
	}
	snprintf(t->priv, sizeof(t->priv), "%s/export.key", t->dir);
	snprintf(t->pub, sizeof(t->pub), "%s/export.pub", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tdir *t = *state;
	int rc = fx_rmtree(t->dir);

	free(t);
	return rc;
}

static void test_keygen_files(void **state)
{
	struct tdir *t = *state;
	struct wl_sign_key *priv, *pub;
	struct wl_err err = {0};
	uint8_t p1[32], p2[32], sig[64];
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(wl_sign_keygen(t->priv, t->pub, &err), 0);
	umask(old);
	assert_int_equal(stat(t->priv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(t->pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(wl_sign_key_load(t->priv, true, &priv, &err), 0);
	assert_int_equal(wl_sign_key_load(t->pub, false, &pub, &err), 0);
	assert_int_equal(wl_sign_key_public(priv, p1, &err), 0);
	assert_int_equal(wl_sign_key_public(pub, p2, &err), 0);
	assert_memory_equal(p1, p2, 32);
	assert_int_equal(wl_sign(priv, "abc", 3, sig, &err), 0);
	assert_int_equal(wl_sign_verify(pub, "abc", 3, sig, &err), 0);
	assert_int_equal(wl_sign_verify(pub, "abd", 3, sig, &err), -EBADMSG);
	wl_sign_key_free(priv);
	wl_sign_key_free(pub);
	/* never overwritten; a second pair elsewhere differs */
	assert_int_equal(wl_sign_keygen(t->priv, t->pub, &err), -EEXIST);
	assert_non_null(strstr(err.msg, t->priv));
	assert_int_equal(wl_sign_keygen(t->priv, t->priv, &err), -EINVAL);
}

static void test_load_refusals(void **state)
{
	struct tdir *t = *state;
	struct wl_sign_key *k = NULL;
	struct wl_err err = {0};
	char path[160];
	FILE *f;

	assert_int_equal(wl_sign_keygen(t->priv, t->pub, &err), 0);
	/* private key readable by others */
	assert_int_equal(chmod(t->priv, 0644), 0);
	assert_int_equal(wl_sign_key_load(t->priv, true, &k, &err), -EPERM);
	assert_int_equal(err.kind, WL_E_KEY);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_int_equal(chmod(t->priv, 0600), 0);
	/* a public key file where a private one is wanted, and back */
	assert_int_equal(chmod(t->pub, 0600), 0);
	assert_int_equal(wl_sign_key_load(t->pub, true, &k, &err), -EINVAL);
	assert_int_equal(wl_sign_key_load(t->priv, false, &k, &err), -EINVAL);
	assert_null(k);
	/* missing, garbage, a directory, a key of another kind */
	snprintf(path, sizeof(path), "%s/nope", t->dir);
	assert_int_equal(wl_sign_key_load(path, false, &k, &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
	snprintf(path, sizeof(path), "%s/garbage", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("-----BEGIN PUBLIC KEY-----\nnot base64 !!\n-----END PUBLIC KEY-----\n", f);
	fclose(f);
	assert_int_equal(wl_sign_key_load(path, false, &k, &err), -EINVAL);
	assert_int_equal(err.kind, WL_E_KEY);
	assert_int_equal(wl_sign_key_load(t->dir, false, &k, &err), -EINVAL);
	/* an X25519 (not Ed25519) public key */
	snprintf(path, sizeof(path), "%s/x25519.pub", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("-----BEGIN PUBLIC KEY-----\n"
	      "MCowBQYDK2VuAyEAgXOE56PrzrEXrZD+upLfOfl065dbNwHPg/E+s6JrOwk=\n"
	      "-----END PUBLIC KEY-----\n",
	      f);
	fclose(f);
	assert_int_equal(wl_sign_key_load(path, false, &k, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "Ed25519"));
	assert_null(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_tamper),
	    cmocka_unit_test_setup_teardown(test_keygen_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
