/* test_helper_mnt.c - unit tests for agent/helper_mnt.c: when hmilockd asks
 * the kernel helper about a mount's filesystem type, and what it puts in
 * hmk_gated meanwhile. The helper's side (helper.c: the map's fd, the
 * question through fcntl) is replaced here by a recording fake, and the
 * "mounts" are directories of this machine (their st_dev is what the
 * question is checked against). What the kernel answers is tested in the
 * guest (tests/guest/platforms.sh, "probe" and "fuse"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "helper.h"
#include "helper_mnt.h"
#include "../kmod/hmilock_abi.h"

/* ---- the fake helper ----------------------------------------------------- */

static struct {
	int asks; /* helper_ident_flags calls */
	uint32_t answer; /* what it answers */
	bool strict;
	uint64_t gated[16]; /* hmk_gated's keys */
	size_t n_gated;
} fk;

int helper_gated_fd(void)
{
	return 42;
}

bool helper_strict_identity(void)
{
	return fk.strict;
}

int helper_ident_flags(int fd, uint32_t *flags)
{
	(void)fd;
	fk.asks++;
	*flags = fk.answer;
	return 0;
}

int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	uint64_t k;

	(void)value;
	(void)flags;
	assert_int_equal(fd, 42);
	memcpy(&k, key, sizeof(k));
	for (size_t i = 0; i < fk.n_gated; i++)
		if (fk.gated[i] == k)
			return 0;
	fk.gated[fk.n_gated++] = k;
	return 0;
}

int bpf_map_delete_elem(int fd, const void *key)
{
	uint64_t k;

	assert_int_equal(fd, 42);
	memcpy(&k, key, sizeof(k));
	for (size_t i = 0; i < fk.n_gated; i++)
		if (fk.gated[i] == k) {
			fk.gated[i] = fk.gated[--fk.n_gated];
			return 0;
		}
	errno = ENOENT;
	return -1;
}

/* ---- a "mount": a directory with its device ------------------------------ */

struct mnt {
	char path[64];
	unsigned maj, min;
};

static void mnt_make(struct mnt *m)
{
	struct stat st;

	snprintf(m->path, sizeof(m->path), "/tmp/hm-mnt.XXXXXX");
	assert_non_null(mkdtemp(m->path));
	assert_int_equal(stat(m->path, &st), 0);
	m->maj = major(st.st_dev);
	m->min = minor(st.st_dev);
}

static uint64_t mnt_kdev(const struct mnt *m)
{
	return ((uint64_t)m->maj << 20) | m->min;
}

static bool gated(uint64_t kdev)
{
	for (size_t i = 0; i < fk.n_gated; i++)
		if (fk.gated[i] == kdev)
			return true;
	return false;
}

static void wait_age(void)
{
	struct timespec ts = {1, 100000000}; /* past HELPER_MNT_AGE_NS */

	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	struct mnt *m = calloc(1, sizeof(*m));

	(void)state;
	memset(&fk, 0, sizeof(fk));
	mnt_make(m);
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct mnt *m = *state;

	helper_mnt_fini();
	rmdir(m->path);
	free(m);
	return 0;
}

/* ---- cases --------------------------------------------------------------- */

/* A fresh mount is gated at once and asked about only once it is old. */
static void test_fresh_waits(void **state)
{
	struct mnt *m = *state;
	char gaps[512];

	fk.answer = HMK_ID_UNKNOWN;
	helper_mnt_seen(m->maj, m->min, m->path, "t-wait", true, true);
	assert_int_equal(fk.asks, 0);
	assert_true(gated(mnt_kdev(m)));
	helper_mnt_tick();
	assert_int_equal(fk.asks, 0);
	wait_age();
	helper_mnt_tick();
	assert_int_equal(fk.asks, 1);
	assert_true(gated(mnt_kdev(m)));
	helper_mnt_gaps(gaps, sizeof(gaps));
	assert_non_null(strstr(gaps, m->path));
	assert_non_null(strstr(gaps, "(t-wait)"));
	/* the type is known now: the next mount of it is not asked about */
	helper_mnt_seen(m->maj, m->min + 1, "/tmp/other", "t-wait", true, true);
	assert_int_equal(fk.asks, 1);
	helper_mnt_gone(m->maj, m->min, m->path);
	helper_mnt_gone(m->maj, m->min + 1, "/tmp/other");
	assert_int_equal(fk.n_gated, 0);
	helper_mnt_gaps(gaps, sizeof(gaps));
	assert_string_equal(gaps, "");
}

/* A feature check: gone before it is old, never opened, ungated. */
static void test_probe_never_asked(void **state)
{
	struct mnt *m = *state;

	helper_mnt_seen(m->maj, m->min, m->path, "t-probe", true, true);
	assert_true(gated(mnt_kdev(m)));
	helper_mnt_gone(m->maj, m->min, m->path);
	assert_int_equal(fk.n_gated, 0);
	wait_age();
	helper_mnt_tick();
	assert_int_equal(fk.asks, 0);
}

/* Gone but mounts.c has not said so yet: the path is another filesystem
 * now, so it is not asked through it. */
static void test_replaced_not_asked(void **state)
{
	struct mnt *m = *state;

	helper_mnt_seen(m->maj, m->min + 7, m->path, "t-gone", true, true);
	wait_age();
	helper_mnt_tick();
	assert_int_equal(fk.asks, 0);
	assert_int_equal(fk.n_gated, 0);
}

/* Known identity: ungated once answered, nothing in status. */
static void test_known_ungated(void **state)
{
	struct mnt *m = *state;
	char gaps[256];

	fk.answer = 0;
	helper_mnt_seen(m->maj, m->min, m->path, "t-known", true, true);
	assert_true(gated(mnt_kdev(m)));
	wait_age();
	helper_mnt_tick();
	assert_int_equal(fk.asks, 1);
	assert_int_equal(fk.n_gated, 0);
	helper_mnt_gaps(gaps, sizeof(gaps));
	assert_string_equal(gaps, "");
}

/* The start-up scan's mounts are asked about at once; network and FUSE
 * types never (their answer is fixed); strict_identity gates nothing; a
 * mount the exec gate does not cover is not gated. */
static void test_start_remote_strict(void **state)
{
	struct mnt *m = *state;
	char gaps[512];

	fk.answer = HMK_ID_UNKNOWN;
	helper_mnt_seen(m->maj, m->min, m->path, "t-start", true, false);
	assert_int_equal(fk.asks, 1);
	assert_true(gated(mnt_kdev(m)));
	helper_mnt_seen(m->maj, m->min + 1, "/mnt/sshfs", "fuse.sshfs", true, true);
	helper_mnt_seen(m->maj, m->min + 2, "/mnt/nfs", "nfs4", false, true);
	assert_int_equal(fk.asks, 1);
	assert_true(gated(mnt_kdev(m) + 1));
	assert_false(gated(mnt_kdev(m) + 2));
	helper_mnt_gaps(gaps, sizeof(gaps));
	assert_non_null(strstr(gaps, "/mnt/sshfs (fuse.sshfs): programs checked by the exec gate"));
	assert_non_null(
	    strstr(gaps, "/mnt/nfs (nfs4): every unapproved program and library denied"));
	fk.strict = true;
	helper_mnt_seen(m->maj, m->min + 3, "/mnt/cifs", "cifs", true, true);
	assert_false(gated(mnt_kdev(m) + 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fresh_waits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_probe_never_asked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_not_asked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_known_ungated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_remote_strict, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
