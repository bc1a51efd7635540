/* test_helper.c - unit tests for agent/helper.c that run on the build
 * machine, where BPF LSM programs cannot load: the dev_t conversion (table),
 * helper = off, the "unavailable" path of auto and required, and every
 * setter being a harmless no-op while the helper is not active. Loading,
 * enforcing and re-attaching are tested in the qemu guest (tests/vm). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "helper.h"
#include "state.h"
#include "../kmod/hmilock_abi.h"

/* Would helper_init really load here? Never let a unit test try. */
static bool bpf_lsm_active(void)
{
	char buf[512] = "";
	FILE *f = fopen("/sys/kernel/security/lsm", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	return strstr(buf, "bpf") != NULL;
}

static void config(struct hmd_config *c, enum hmd_helper_want want)
{
	config_defaults(c);
	c->helper = want;
}

static void test_kdev(void **state)
{
	static const struct {
		unsigned maj, min;
		uint64_t want;
	} rows[] = {
	    {0, 0, 0},
	    {8, 1, (8ull << 20) | 1},
	    {0, 0x25, 0x25}, /* tmpfs, anonymous */
	    {259, 300000, (259ull << 20) | 300000}, /* NVMe partitions: minor > 255 */
	    {4095, 0xfffff, (4095ull << 20) | 0xfffff},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(helper_kdev(makedev(rows[i].maj, rows[i].min)), rows[i].want);
}

static void assert_inactive_noops(void)
{
	struct hmc_helper_counters hc;
	enum hmd_mode m;
	char buf[1024];

	assert_false(helper_active());
	assert_int_equal(helper_set_mode(HMD_MODE_ENFORCE), 0);
	assert_int_equal(helper_approve_fd(0), 0);
	assert_int_equal(helper_forget_fd(0), 0);
	assert_false(helper_approved_path("/"));
	assert_false(helper_update_wrote_path("/"));
	assert_int_equal(helper_protect_path("/", true), 0);
	assert_int_equal(helper_set_interpreters(NULL, 0), 0);
	assert_int_equal(helper_set_daemon(1), 0);
	assert_int_equal(helper_set_updater_cgroup("/", true), 0);
	assert_int_equal(helper_sync(), 0);
	assert_int_equal(helper_mode(&m), -ENODEV);
	assert_int_equal(helper_counters(&hc), -ENODEV);
	assert_non_null(helper_gaps());
	helper_status(buf, sizeof(buf));
	assert_non_null(strstr(buf, "unavailable — "));
	assert_non_null(strstr(buf, "open gaps: "));
	assert_non_null(strstr(buf, "LD_PRELOAD"));
	helper_fini(); /* harmless when nothing was loaded */
	assert_false(helper_active());
}

/* The interpreter's dialect by its name: versions count, look-alikes do not. */
static void test_interp_dialect(void **state)
{
	static const struct {
		const char *path;
		uint32_t want;
	} rows[] = {
	    {"/usr/bin/python3", HMK_IC_C | HMK_IC_STDIN},
	    {"/usr/bin/python3.11", HMK_IC_C | HMK_IC_STDIN},
	    {"/bin/sh", HMK_IC_C},
	    {"/usr/bin/bash", HMK_IC_C},
	    {"/usr/bin/dash", HMK_IC_C},
	    {"/bin/busybox", HMK_IC_C},
	    {"/usr/bin/perl", HMK_IC_E | HMK_IC_EE | HMK_IC_STDIN},
	    {"/usr/bin/perl5.36.0", HMK_IC_E | HMK_IC_EE | HMK_IC_STDIN},
	    {"/usr/bin/ruby3.1", HMK_IC_E | HMK_IC_STDIN},
	    {"/usr/bin/lua5.4", HMK_IC_E | HMK_IC_STDIN},
	    {"/usr/bin/node", HMK_IC_E | HMK_IC_P | HMK_IC_STDIN},
	    {"/usr/bin/php8.2", HMK_IC_R},
	    {"/usr/bin/gawk", 0},
	    {"/usr/bin/mawk", 0},
	    {"/usr/bin/tclsh8.6", 0},
	    {"/usr/bin/shellcheck", 0}, /* not sh */
	    {"/usr/bin/python3-config", 0},
	    {"/opt/x/perlish", 0},
	    {"bash", HMK_IC_C},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t got = helper_interp_dialect(rows[i].path);

		if (got != (HMK_IC_LISTED | rows[i].want))
			fail_msg("%s: 0x%x, want 0x%x", rows[i].path, got,
			         HMK_IC_LISTED | rows[i].want);
	}
}

static void test_off(void **state)
{
	struct hmd_config c;

	(void)state;
	config(&c, HMD_HELPER_OFF);
	assert_int_equal(helper_init(&c), 0);
	assert_string_equal(helper_state(),
	                    "unavailable — turned off in the configuration (helper = off)");
	assert_inactive_noops();
}

static void test_auto_unavailable(void **state)
{
	struct hmd_config c;

	(void)state;
	if (bpf_lsm_active())
		skip(); /* it would load for real: the qemu suite covers this */
	config(&c, HMD_HELPER_AUTO);
	assert_int_equal(helper_init(&c), 0);
	assert_int_equal(strncmp(helper_state(), "unavailable — ", strlen("unavailable — ")), 0);
	assert_true(strlen(helper_state()) > strlen("unavailable — ")); /* a reason */
	assert_inactive_noops();
}

static void test_required_unavailable(void **state)
{
	struct hmd_config c;

	(void)state;
	if (bpf_lsm_active())
		skip();
	config(&c, HMD_HELPER_REQUIRED);
	assert_true(helper_init(&c) < 0);
	assert_int_equal(strncmp(helper_state(), "unavailable — ", strlen("unavailable — ")), 0);
	assert_inactive_noops();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kdev),
	    cmocka_unit_test(test_interp_dialect),
	    cmocka_unit_test(test_off),
	    cmocka_unit_test(test_auto_unavailable),
	    cmocka_unit_test(test_required_unavailable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
