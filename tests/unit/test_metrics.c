/* test_metrics.c - unit tests for agent/metrics.c's text format: every
 * sample belongs to a family announced by HELP and TYPE, names and values
 * are what status holds (both layers, every operation, one-hot mode), and
 * a buffer too small gives nothing rather than half a file. The real
 * node_exporter reads the file in integration test 64. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static struct hmc_status tm_s;
static char tm_buf[32768];

static void tm_fill(void)
{
	memset(&tm_s, 0, sizeof(tm_s));
	tm_s.mode = HMC_MODE_AUDIT;
	tm_s.ready = 1;
	tm_s.list_generation = 7;
	tm_s.list_entries = 1234;
	tm_s.c.allowed = 100;
	tm_s.c.denied = 3;
	tm_s.c.would_deny = 4;
	tm_s.c.cache_hits = 3;
	tm_s.c.cache_misses = 1;
	tm_s.c.maint_windows = 2;
	tm_s.h.denied[HMC_OP_MMAP] = 5;
	tm_s.h.would_deny[HMC_OP_PROCMEM] = 6;
	tm_s.decision_p99_ns = 1500000;
	snprintf(tm_s.helper, sizeof(tm_s.helper), "active (pinned)");
}

static void tm_want(const char *line)
{
	char l[256];

	snprintf(l, sizeof(l), "\n%s\n", line);
	if (!strstr(tm_buf, l))
		fail_msg("no line '%s' in:\n%s", line, tm_buf);
}

static void test_values(void **state)
{
	size_t n;

	(void)state;
	tm_fill();
	n = metrics_format(&tm_s, tm_buf, sizeof(tm_buf));
	assert_true(n > 0 && n < sizeof(tm_buf));
	assert_int_equal(strlen(tm_buf), n);
	tm_want("hmilock_decisions_total{verdict=\"allow\",layer=\"fanotify\",op=\"exec\"} 100");
	tm_want("hmilock_decisions_total{verdict=\"deny\",layer=\"fanotify\",op=\"exec\"} 3");
	tm_want("hmilock_decisions_total{verdict=\"would_deny\",layer=\"fanotify\",op=\"exec\"} 4");
	tm_want("hmilock_decisions_total{verdict=\"deny\",layer=\"helper\",op=\"mmap\"} 5");
	tm_want(
	    "hmilock_decisions_total{verdict=\"would_deny\",layer=\"helper\",op=\"proc-mem\"} 6");
	tm_want("hmilock_decisions_total{verdict=\"deny\",layer=\"helper\",op=\"script\"} 0");
	tm_want("hmilock_mode{mode=\"audit\"} 1");
	tm_want("hmilock_mode{mode=\"enforce\"} 0");
	tm_want("hmilock_mode{mode=\"maintenance\"} 0");
	tm_want("hmilock_helper_active 1");
	tm_want("hmilock_list_generation 7");
	tm_want("hmilock_list_entries 1234");
	tm_want("hmilock_cache_hit_ratio 0.7500");
	tm_want("hmilock_maintenance_windows_total 2");
	tm_want("hmilock_decision_latency_seconds{quantile=\"0.99\"} 0.001500");
	tm_want("# TYPE hmilock_decisions_total counter");
	tm_want("# TYPE hmilock_mode gauge");
}

/* Every sample line: a family announced before it, one value, and the
 * file ends with a newline. */
static void test_families(void **state)
{
	char fam[128], *line, *save, *copy;
	size_t n, samples = 0;

	(void)state;
	tm_fill();
	snprintf(tm_s.helper, sizeof(tm_s.helper), "unavailable");
	n = metrics_format(&tm_s, tm_buf, sizeof(tm_buf));
	assert_true(n > 0);
	assert_int_equal(tm_buf[n - 1], '\n');
	copy = strdup(tm_buf);
	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char want[160];
		size_t len = strcspn(line, "{ ");

		if (line[0] == '#')
			continue;
		assert_true(len < sizeof(fam));
		memcpy(fam, line, len);
		fam[len] = 0;
		assert_memory_equal(fam, "hmilock_", 8);
		snprintf(want, sizeof(want), "# TYPE %s ", fam);
		if (!strstr(tm_buf, want))
			fail_msg("sample '%s' without a TYPE line", line);
		assert_non_null(strrchr(line, ' '));
		samples++;
	}
	free(copy);
	assert_true(samples >= 3 + 2 * HMC_OP__MAX + HMC_MODE__MAX);
	tm_want("hmilock_helper_active 0");
}

static void test_too_small(void **state)
{
	static char small[512];

	(void)state;
	tm_fill();
	assert_int_equal(metrics_format(&tm_s, small, sizeof(small)), 0);
	assert_int_equal(metrics_format(&tm_s, small, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_families),
	    cmocka_unit_test(test_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
