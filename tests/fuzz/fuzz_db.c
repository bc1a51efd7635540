/* fuzz_db.c - libFuzzer target: wl_db_open on arbitrary bytes with a fixed
 * key, then every lookup on what it accepts. Owns one memfd holding the
 * current input. Built and run by `make fuzz` (tests/fuzz/fuzz.mk).
 * FUZZ_DB_SEEDS=DIR build/fuzz/fuzz_db -runs=0 writes valid seed lists into
 * DIR (tests/fuzz/mkseeds.sh adds one made by `hmilock init` with fuzz_key).
 *
 * The first input byte picks a mode. Even: the rest is the file as it is,
 * which exercises every check up to the MAC. Odd: the rest gets its header's
 * total size and its MAC trailer fixed up with the fixed key first, so the
 * fuzzer reaches the structure checks and the lookups behind the MAC (which
 * it could never forge). A validated list whose lookups fail is a bug, and
 * so is a refusal without a message or of a kind other than EMPTY,
 * TRUNCATED, MAGIC, VERSION, MAC or CORRUPT (a memfd has no I/O errors):
 * the target traps. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "db_format.h"
#include "wl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_key[WL_KEY_LEN] = "hmilock-fuzz-key-0123456789abcd";
static int fuzz_fd = -1;
static char fuzz_path[64];

static void fuzz_put(struct wl_set *s, const char *path, uint8_t h, const char *interp)
{
	struct wl_entry e = {0};

	e.path = strdup(path);
	e.interp = interp ? strdup(interp) : NULL;
	memset(e.sha256, h, sizeof(e.sha256));
	e.type = (enum wl_type)(h % WL_T__MAX);
	e.size = h;
	if (wl_set_put(s, &e))
		abort();
}

/* Write seed inputs (mode byte + a valid list) into dir. */
static void fuzz_seeds(const char *dir)
{
	static const size_t sizes[] = {0, 1, 3, 17};
	char path[4200], list[4200];
	struct wl_db_lock *lk;
	struct wl_set *s;
	uint8_t *buf;
	size_t i, k;
	FILE *f;
	long len;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		s = wl_set_new();
		for (k = 0; k < sizes[i]; k++) {
			snprintf(path, sizeof(path), "/usr/bin/p%zu%s", k, k % 3 ? "\n" : "");
			fuzz_put(s, path, (uint8_t)(k / 2), k % 2 ? "/lib/ld.so" : NULL);
		}
		snprintf(list, sizeof(list), "%s/.list", dir);
		unlink(list); /* a fresh list each time: expected generation 0 */
		if (wl_db_lock(list, -1, &lk, NULL) || wl_db_write(lk, s, i + 1, 0, fuzz_key, NULL))
			abort();
		wl_db_unlock(lk);
		wl_set_free(s);
		f = fopen(list, "rb");
		if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
			abort();
		buf = malloc((size_t)len + 1);
		if (!buf || fread(buf + 1, 1, (size_t)len, f) != (size_t)len)
			abort();
		fclose(f);
		for (k = 0; k < 2; k++) {
			buf[0] = (uint8_t)k;
			snprintf(path, sizeof(path), "%s/seed-%zu-%zu", dir, sizes[i], k);
			f = fopen(path, "wb");
			if (!f || fwrite(buf, 1, (size_t)len + 1, f) != (size_t)len + 1)
				abort();
			fclose(f);
		}
		free(buf);
		unlink(list);
	}
	snprintf(list, sizeof(list), "%s/.list.prev", dir);
	unlink(list);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("FUZZ_DB_SEEDS");

	(void)argc;
	(void)argv;
	if (seeds)
		fuzz_seeds(seeds);
	fuzz_fd = memfd_create("fuzz_db", MFD_CLOEXEC);
	if (fuzz_fd < 0)
		abort();
	snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
	return 0;
}

/* Mode "odd": make total size and MAC right so the structure is what is
 * tested. */
static void fuzz_fixup(uint8_t *buf, size_t size)
{
	struct db_header *h = (struct db_header *)buf;
	unsigned int len;

	if (size < DB_MIN_SIZE)
		return;
	h->total_size = htole64(size);
	if (!HMAC(EVP_sha256(), fuzz_key, WL_KEY_LEN, buf, size - DB_MAC_LEN,
	          buf + size - DB_MAC_LEN, &len))
		abort();
}

/* Every record of an accepted list must be found by its path and hash. */
static void fuzz_walk(const struct wl_db *db)
{
	struct wl_set *s = wl_set_new();
	struct wl_rec r, f;
	size_t i, n = wl_db_count(db);

	for (i = 0; i < n; i++) {
		wl_db_at(db, i, &r);
		if (wl_db_find_path(db, r.path, &f) || f.path != r.path)
			__builtin_trap();
		if (wl_db_find_hash(db, r.sha256, &f) ||
		    memcmp(f.sha256, r.sha256, WL_SHA256_LEN) != 0)
			__builtin_trap();
		if ((unsigned)r.type >= WL_T__MAX || strlen(r.interp) > 1u << 30)
			__builtin_trap();
	}
	if (!s || wl_db_to_set(db, s, NULL) || wl_set_count(s) != n)
		__builtin_trap();
	wl_set_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wl_err err;
	struct wl_db *db;
	uint8_t *buf;

	if (size < 1)
		return 0;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1)
		fuzz_fixup(buf, size - 1);
	if (ftruncate(fuzz_fd, 0) || pwrite(fuzz_fd, buf, size - 1, 0) != (ssize_t)(size - 1))
		abort();
	free(buf);
	if (wl_db_open(fuzz_path, fuzz_key, &db, &err) == 0) {
		fuzz_walk(db);
		wl_db_close(db);
	} else if (err.code >= 0 || !err.msg[0] || err.kind < WL_E_EMPTY ||
	           err.kind > WL_E_CORRUPT) {
		__builtin_trap(); /* a refusal says why, as one of the list's kinds */
	}
	return 0;
}
