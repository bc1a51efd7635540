/* test_hash.c - unit tests for whitelist/hash.c (SHA-256 through an fd, the
 * stable hash, hex) and whitelist/err.c. Owns its memfds and temp files. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "wl.h"

/* ---- helpers ------------------------------------------------------------ */

static uint8_t pattern_byte(uint64_t i)
{
	return (uint8_t)((i * 7 + i / 251) % 253);
}

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("test_hash", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

/* memfd holding n bytes of pattern_byte() (or of c when c >= 0). */
static int memfd_fill(size_t n, int c)
{
	uint8_t *buf = malloc(n + 1);
	size_t i;
	int fd;

	assert_non_null(buf);
	for (i = 0; i < n; i++)
		buf[i] = c >= 0 ? (uint8_t)c : pattern_byte(i);
	fd = memfd_with(buf, n);
	free(buf);
	return fd;
}

/* Reference SHA-256 of n pattern bytes, one EVP_Digest call per chunk. */
static void ref_pattern_hash(uint64_t n, uint8_t out[WL_SHA256_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[4096];
	uint64_t i, j;
	unsigned int len;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	for (i = 0; i < n; i += j) {
		for (j = 0; j < sizeof(buf) && i + j < n; j++)
			buf[j] = pattern_byte(i + j);
		assert_int_equal(EVP_DigestUpdate(ctx, buf, j), 1);
	}
	assert_int_equal(EVP_DigestFinal_ex(ctx, out, &len), 1);
	EVP_MD_CTX_free(ctx);
}

static void assert_hex(const uint8_t h[WL_SHA256_LEN], const char *want)
{
	char hex[WL_HEX_LEN];

	wl_hex(h, hex);
	assert_string_equal(hex, want);
}

/* ---- known vectors ------------------------------------------------------ */

static const struct {
	const char *name;
	const char *text; /* NULL: n bytes of 'a' */
	size_t n;
	const char *sha256;
} vectors[] = {
    {"empty", "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"448 bits", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"896 bits",
     "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
     "lmnopqrsmnopqrstnopqrstu",
     112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {"million a", NULL, 1000000,
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

static void test_vectors(void **state)
{
	uint8_t h[WL_SHA256_LEN];
	struct wl_err err;
	uint64_t bytes;
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		fd = vectors[i].text ? memfd_with(vectors[i].text, vectors[i].n)
		                     : memfd_fill(vectors[i].n, 'a');
		bytes = 12345;
		assert_int_equal(wl_hash_fd(fd, h, &bytes, &err), 0);
		assert_int_equal(bytes, vectors[i].n);
		assert_hex(h, vectors[i].sha256);
		close(fd);
	}
}

/* Sizes around the read buffer and page boundaries, against one-shot EVP. */
static void test_boundaries(void **state)
{
	static const size_t sizes[] = {1,      55,     56,     63,     64,     4095,
	                               4096,   4097,   65535,  65536,  65537,  131071,
	                               131072, 131073, 262143, 262144, 262145, 3 * 262144 + 17,
	                               5000000};
	uint8_t h[WL_SHA256_LEN], want[WL_SHA256_LEN];
	uint64_t bytes;
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fd = memfd_fill(sizes[i], -1);
		assert_int_equal(wl_hash_fd(fd, h, &bytes, NULL), 0);
		assert_int_equal(bytes, sizes[i]);
		ref_pattern_hash(sizes[i], want);
		assert_memory_equal(h, want, WL_SHA256_LEN);
		close(fd);
	}
}

/* The hash through a kept buffer (the prescan's): the bytes land in it and
 * the hash is the same; a buffer without the spare byte, or too small,
 * keeps nothing and still hashes right. */
static void test_keep(void **state)
{
	static const size_t sizes[] = {1, 65535, 65536, 65537, 200000};
	uint8_t h[WL_SHA256_LEN], want[WL_SHA256_LEN];
	struct wl_hash_limits lim = {0};
	uint64_t kept;
	uint8_t *buf;
	size_t i, j;
	int fd, spare;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ref_pattern_hash(sizes[i], want);
		for (spare = 1; spare >= -1; spare--) {
			buf = malloc(sizes[i] + 1);
			assert_non_null(buf);
			fd = memfd_fill(sizes[i], -1);
			lim.keep = buf;
			lim.keep_cap = sizes[i] + (size_t)(spare + 0);
			if (spare < 0)
				lim.keep_cap = sizes[i] / 2;
			lim.kept = &kept;
			kept = 12345;
			assert_int_equal(wl_hash_fd_stable_limited(fd, "keep", h, NULL, &lim, NULL),
			                 0);
			assert_memory_equal(h, want, WL_SHA256_LEN);
			if (spare == 1) {
				assert_int_equal(kept, sizes[i]);
				for (j = 0; j < sizes[i]; j++)
					if (buf[j] != pattern_byte(j))
						fail_msg("size %zu: byte %zu not kept", sizes[i],
						         j);
			} else {
				assert_int_equal(kept, 0);
			}
			close(fd);
			free(buf);
		}
	}
}

/* The same files as sha256sum(1) sees them. */
static void test_vs_sha256sum(void **state)
{
	const char *files[] = {"/bin/sh", "/etc/passwd", "/usr/bin/env", NULL, NULL};
	char cmd[PATH_MAX + 64], line[256], hex[WL_HEX_LEN], libc[PATH_MAX] = "";
	uint8_t h[WL_SHA256_LEN];
	FILE *p;
	size_t i;
	int fd;

	(void)state;
	p = popen("cc -print-file-name=libc.so.6", "r");
	if (p && fgets(libc, sizeof(libc), p))
		libc[strcspn(libc, "\n")] = '\0';
	if (p)
		pclose(p);
	files[3] = libc[0] == '/' ? libc : NULL;
	for (i = 0; files[i]; i++) {
		snprintf(cmd, sizeof(cmd), "sha256sum -- '%s'", files[i]);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(line, sizeof(line), p));
		assert_int_equal(pclose(p), 0);
		fd = open(files[i], O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(wl_hash_fd(fd, h, NULL, NULL), 0);
		close(fd);
		wl_hex(h, hex);
		assert_memory_equal(line, hex, 64);
	}
}

static void test_offset_untouched(void **state)
{
	uint8_t h[WL_SHA256_LEN], h2[WL_SHA256_LEN];
	struct stat st;
	int fd = memfd_fill(300000, -1);

	(void)state;
	assert_int_equal(lseek(fd, 1234, SEEK_SET), 1234);
	assert_int_equal(wl_hash_fd(fd, h, NULL, NULL), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 1234);
	assert_int_equal(wl_hash_fd_stable(fd, "memfd", h2, &st, NULL), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 1234);
	assert_memory_equal(h, h2, WL_SHA256_LEN);
	assert_int_equal(st.st_size, 300000);
	close(fd);
}

static void test_errors(void **state)
{
	uint8_t h[WL_SHA256_LEN];
	struct wl_err err;
	int fd;

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(wl_hash_fd(-1, h, NULL, &err), -EBADF);
	assert_int_equal(err.code, -EBADF);
	assert_int_equal(err.kind, WL_E_IO);
	assert_true(strlen(err.msg) > 0);
	assert_int_equal(wl_hash_fd(-1, h, NULL, NULL), -EBADF);

	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(wl_hash_fd(fd, h, NULL, &err), -EISDIR);
	assert_int_equal(wl_hash_fd_stable(fd, "the root dir", h, NULL, &err), -EISDIR);
	assert_non_null(strstr(err.msg, "the root dir"));
	close(fd);

	assert_int_equal(wl_hash_fd_stable(-1, NULL, h, NULL, &err), -EBADF);
	assert_non_null(strstr(err.msg, "fd -1"));
}

static void test_hex(void **state)
{
	uint8_t h[WL_SHA256_LEN], back[WL_SHA256_LEN];
	char hex[WL_HEX_LEN], upper[WL_HEX_LEN], bad[WL_HEX_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < WL_SHA256_LEN; i++)
		h[i] = (uint8_t)(i * 37 + 5);
	wl_hex(h, hex);
	assert_int_equal(strlen(hex), 64);
	for (i = 0; hex[i]; i++)
		assert_true((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'));
	assert_int_equal(wl_unhex(hex, back), 0);
	assert_memory_equal(h, back, WL_SHA256_LEN);
	for (i = 0; i <= 64; i++)
		upper[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
	memset(back, 0, sizeof(back));
	assert_int_equal(wl_unhex(upper, back), 0);
	assert_memory_equal(h, back, WL_SHA256_LEN);

	memset(back, 0x5a, sizeof(back));
	assert_int_equal(wl_unhex("", back), -EINVAL);
	assert_int_equal(wl_unhex(NULL, back), -EINVAL);
	hex[63] = '\0';
	assert_int_equal(wl_unhex(hex, back), -EINVAL); /* too short */
	memcpy(bad, upper, sizeof(bad));
	bad[10] = 'g';
	assert_int_equal(wl_unhex(bad, back), -EINVAL);
	bad[10] = ' ';
	assert_int_equal(wl_unhex(bad, back), -EINVAL);
	for (i = 0; i < WL_SHA256_LEN; i++)
		assert_int_equal(back[i], 0x5a); /* untouched on error */
}

/* ---- stability ---------------------------------------------------------- */

static char *tmp_file(size_t n)
{
	char *path = strdup("/tmp/hmilock-test-hash.XXXXXX");
	uint8_t *buf = malloc(n);
	size_t i;
	int fd;

	assert_non_null(path);
	assert_non_null(buf);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (i = 0; i < n; i++)
		buf[i] = pattern_byte(i);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	free(buf);
	return path;
}

static void test_stable_quiet(void **state)
{
	uint8_t h[WL_SHA256_LEN], want[WL_SHA256_LEN];
	struct stat st, st2;
	char *path = tmp_file(200000);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(wl_hash_fd_stable(fd, path, h, &st, NULL), 0);
	ref_pattern_hash(200000, want);
	assert_memory_equal(h, want, WL_SHA256_LEN);
	assert_int_equal(fstat(fd, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_int_equal(st.st_size, 200000);
	assert_int_equal(st.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	close(fd);
	unlink(path);
	free(path);
}

/* A fanotify permission listener that moves the file's mtime while the
 * hasher is blocked inside its pread(): a deterministic "file changed while
 * hashed". mode 0: only on the first read, mode 1: on every read. */
struct fan_ctl {
	int fan, mode;
	atomic_bool stop;
	int events, changes;
};

static void fan_answer(struct fan_ctl *c, const struct fanotify_event_metadata *m)
{
	struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}};

	c->events++;
	if (c->mode == 1 || c->changes == 0) {
		ts[1].tv_sec = 1000000000 + c->changes; /* a new mtime; ctime moves too */
		if (futimens(m->fd, ts) == 0)
			c->changes++;
	}
	if (write(c->fan, &r, sizeof(r)) != sizeof(r))
		c->events = -1000;
	close(m->fd);
}

static void *fan_thread(void *arg)
{
	struct fan_ctl *c = arg;
	char buf[4096] __attribute__((aligned(8)));
	struct fanotify_event_metadata *m;
	struct pollfd pfd = {.fd = c->fan, .events = POLLIN};
	ssize_t n;

	while (!atomic_load(&c->stop)) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(c->fan, buf, sizeof(buf));
		for (m = (void *)buf; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n))
			if (m->fd >= 0)
				fan_answer(c, m);
	}
	return NULL;
}

/* Hash path with a listener in `mode`; returns wl_hash_fd_stable's value. */
static int hash_under_fanotify(const char *path, int mode, struct fan_ctl *c, uint8_t *h,
                               struct stat *st, struct wl_err *err)
{
	pthread_t t;
	int fd, ret;

	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);
	if (c->fan < 0)
		return 1;
	if (fanotify_mark(c->fan, FAN_MARK_ADD, FAN_ACCESS_PERM, AT_FDCWD, path) < 0) {
		close(c->fan);
		return 1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pthread_create(&t, NULL, fan_thread, c), 0);
	ret = wl_hash_fd_stable(fd, path, h, st, err);
	atomic_store(&c->stop, true);
	pthread_join(t, NULL);
	close(c->fan); /* pending permission events are allowed on close */
	close(fd);
	return ret;
}

static void test_stable_changed_once(void **state)
{
	uint8_t h[WL_SHA256_LEN], want[WL_SHA256_LEN];
	char *path = tmp_file(3 * 65536 + 100);
	struct fan_ctl c;
	struct wl_err err;
	struct stat st;
	int ret;

	(void)state;
	ret = hash_under_fanotify(path, 0, &c, h, &st, &err);
	if (ret == 1) {
		unlink(path);
		free(path);
		skip(); /* no fanotify permission events on this kernel */
	}
	assert_int_equal(ret, 0);
	assert_int_equal(c.changes, 1);
	assert_true(c.events >= 4); /* both passes read the file */
	assert_int_equal(st.st_mtim.tv_sec, 1000000000); /* the stat after the change */
	ref_pattern_hash(3 * 65536 + 100, want);
	assert_memory_equal(h, want, WL_SHA256_LEN);
	unlink(path);
	free(path);
}

static void test_stable_changed_always(void **state)
{
	char *path = tmp_file(3 * 65536 + 100);
	uint8_t h[WL_SHA256_LEN];
	struct fan_ctl c;
	struct wl_err err;
	struct stat st;
	int ret;

	(void)state;
	memset(&err, 0, sizeof(err));
	ret = hash_under_fanotify(path, 1, &c, h, &st, &err);
	if (ret == 1) {
		unlink(path);
		free(path);
		skip();
	}
	assert_int_equal(ret, -EAGAIN);
	assert_int_equal(err.code, -EAGAIN);
	assert_int_equal(err.kind, WL_E_UNSTABLE);
	assert_non_null(strstr(err.msg, path));
	assert_true(c.changes >= 2); /* hashed twice, changed both times */
	unlink(path);
	free(path);
}

/* A writer appends while we hash: every answer is either the hash of the
 * file as it was at one instant (its first st_size bytes) or UNSTABLE. */
struct appender {
	int fd;
	atomic_bool stop;
	uint64_t written;
};

static void *append_thread(void *arg)
{
	struct appender *a = arg;
	uint8_t buf[4096];
	size_t i;

	while (!atomic_load(&a->stop) && a->written < (48u << 20)) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = pattern_byte(a->written + i);
		if (write(a->fd, buf, sizeof(buf)) != sizeof(buf))
			break;
		a->written += sizeof(buf);
	}
	return NULL;
}

static void test_stable_appender(void **state)
{
	uint8_t h[WL_SHA256_LEN], want[WL_SHA256_LEN];
	char *path = tmp_file(0);
	struct appender a = {0};
	int fd, i, ok = 0, unstable = 0, ret;
	struct wl_err err;
	struct stat st;
	pthread_t t;

	(void)state;
	a.fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(a.fd >= 0 && fd >= 0);
	assert_int_equal(pthread_create(&t, NULL, append_thread, &a), 0);
	for (i = 0; i < 30; i++) {
		ret = wl_hash_fd_stable(fd, path, h, &st, &err);
		if (ret == 0) {
			ref_pattern_hash((uint64_t)st.st_size, want);
			assert_memory_equal(h, want, WL_SHA256_LEN);
			ok++;
		} else {
			assert_int_equal(ret, -EAGAIN);
			assert_int_equal(err.kind, WL_E_UNSTABLE);
			unstable++;
		}
	}
	atomic_store(&a.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(ok + unstable, 30);
	close(a.fd);
	close(fd);
	unlink(path);
	free(path);
}

/* ---- limits: a byte cap and a cancel flag --------------------------------- */

/* A file within the cap hashes as without one; one byte over is refused by
 * its size; a file that yields more than its size says (procfs reports 0)
 * is stopped once it passes the cap. */
static void test_limited_size(void **state)
{
	uint8_t h[WL_SHA256_LEN], h2[WL_SHA256_LEN];
	struct wl_hash_limits lim = {.max_bytes = 300000};
	struct wl_err err;
	struct stat st;
	int fd = memfd_fill(300000, -1);

	(void)state;
	assert_int_equal(wl_hash_fd_stable(fd, "memfd", h, NULL, NULL), 0);
	assert_int_equal(wl_hash_fd_stable_limited(fd, "memfd", h2, &st, &lim, NULL), 0);
	assert_memory_equal(h, h2, WL_SHA256_LEN);
	assert_int_equal(st.st_size, 300000);
	lim.max_bytes = 299999;
	memset(&err, 0, sizeof(err));
	assert_int_equal(wl_hash_fd_stable_limited(fd, "memfd", h2, NULL, &lim, &err), -EFBIG);
	assert_int_equal(err.kind, WL_E_TOO_BIG);
	assert_non_null(strstr(err.msg, "memfd is 300000 bytes"));
	close(fd);

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	lim.max_bytes = 10;
	assert_int_equal(wl_hash_fd_stable_limited(fd, "status", h2, NULL, &lim, &err), -EFBIG);
	assert_int_equal(err.kind, WL_E_TOO_BIG);
	assert_non_null(strstr(err.msg, "status grew past 10 bytes"));
	close(fd);
}

struct cancel_arg {
	atomic_bool *flag;
	unsigned delay_ms;
};

static void *cancel_later(void *p)
{
	struct cancel_arg *a = p;

	poll(NULL, 0, (int)a->delay_ms);
	atomic_store(a->flag, true);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A set flag stops the hash before the first read; a flag set while a
 * 64 GiB sparse file is hashed (minutes of zeros) stops it within a
 * buffer: the call returns soon after, with -ECANCELED. */
static void test_limited_cancel(void **state)
{
	atomic_bool flag = true;
	struct wl_hash_limits lim = {.cancel = &flag};
	struct cancel_arg a = {.flag = &flag, .delay_ms = 100};
	uint8_t h[WL_SHA256_LEN];
	struct wl_err err;
	pthread_t th;
	double t0;
	int fd = memfd_create("sparse", MFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64ll << 30), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(wl_hash_fd_stable_limited(fd, "sparse", h, NULL, &lim, &err), -ECANCELED);
	assert_int_equal(err.kind, WL_E_CANCELED);
	atomic_store(&flag, false);
	assert_int_equal(pthread_create(&th, NULL, cancel_later, &a), 0);
	t0 = now_s();
	assert_int_equal(wl_hash_fd_stable_limited(fd, "sparse", h, NULL, &lim, &err), -ECANCELED);
	assert_true(now_s() - t0 < 5.0);
	pthread_join(th, NULL);
	close(fd);
}

/* ---- err.c -------------------------------------------------------------- */

static void test_err(void **state)
{
	struct wl_err err;
	char longarg[2000];
	int k;

	(void)state;
	assert_int_equal(wl_err_set(NULL, -EIO, WL_E_IO, "x %d", 1), -EIO);
	assert_int_equal(wl_err_set(&err, -ENOENT, WL_E_KEY, "key %s: %s", "/k", "missing"),
	                 -ENOENT);
	assert_int_equal(err.code, -ENOENT);
	assert_int_equal(err.kind, WL_E_KEY);
	assert_string_equal(err.msg, "key /k: missing");
	memset(longarg, 'x', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	wl_err_set(&err, -E2BIG, WL_E_USAGE, "%s", longarg);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);

	for (k = WL_E_NONE; k < WL_E__MAX; k++) {
		assert_string_not_equal(wl_ekind_name((enum wl_ekind)k), "unknown");
		if (k > WL_E_NONE)
			assert_string_not_equal(wl_ekind_name((enum wl_ekind)k),
			                        wl_ekind_name((enum wl_ekind)(k - 1)));
	}
	assert_string_equal(wl_ekind_name(WL_E_UNSTABLE), "unstable");
	assert_string_equal(wl_ekind_name((enum wl_ekind)999), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_boundaries),
	    cmocka_unit_test(test_keep),
	    cmocka_unit_test(test_vs_sha256sum),
	    cmocka_unit_test(test_offset_untouched),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_stable_quiet),
	    cmocka_unit_test(test_stable_changed_once),
	    cmocka_unit_test(test_stable_changed_always),
	    cmocka_unit_test(test_stable_appender),
	    cmocka_unit_test(test_limited_size),
	    cmocka_unit_test(test_limited_cancel),
	    cmocka_unit_test(test_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
