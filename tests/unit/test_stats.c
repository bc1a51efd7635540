/* test_stats.c - unit tests for agent/stats.c: the decision-latency
 * histogram (quantiles within the bucket width, edge values, reset) and
 * stats_max under concurrent updates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>

#include "stats.h"

static int reset(void **state)
{
	(void)state;
	stats_latency_reset();
	return 0;
}

/* A reported quantile is the upper end of its bucket: never below the true
 * value, at most 1/16 above it. */
static void assert_close(uint64_t got, uint64_t want)
{
	if (got < want || got > want + want / 16 + 1) {
		print_error("quantile %llu, want %llu (+6 %%)\n", (unsigned long long)got,
		            (unsigned long long)want);
		fail();
	}
}

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(stats_latency_count(), 0);
	assert_int_equal(stats_latency_quantile(0.99), 0);
}

static void test_quantiles(void **state)
{
	(void)state;
	/* 1..10000 us, once each */
	for (uint64_t us = 1; us <= 10000; us++)
		stats_latency_add(us * 1000);
	assert_int_equal(stats_latency_count(), 10000);
	assert_close(stats_latency_quantile(0.5), 5000 * 1000);
	assert_close(stats_latency_quantile(0.99), 9900 * 1000);
	assert_close(stats_latency_quantile(1.0), 10000 * 1000);
	assert_close(stats_latency_quantile(0.0), 1000);
	assert_close(stats_latency_quantile(-1), 1000); /* clamped */
	assert_close(stats_latency_quantile(2), 10000 * 1000);
}

static void test_small_and_huge(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 16; v++)
		stats_latency_add(v);
	assert_int_equal(stats_latency_quantile(0.5), 7); /* exact below 16 ns */
	stats_latency_add(UINT64_MAX);
	assert_true(stats_latency_quantile(1.0) >= UINT64_MAX / 2);
}

static void test_tail(void **state)
{
	(void)state;
	/* 990 fast answers, 10 slow ones: p99 is fast, p99.9 is slow. */
	for (int i = 0; i < 990; i++)
		stats_latency_add(20000);
	for (int i = 0; i < 10; i++)
		stats_latency_add(50000000);
	assert_close(stats_latency_quantile(0.99), 20000);
	assert_close(stats_latency_quantile(0.999), 50000000);
	stats_latency_reset();
	assert_int_equal(stats_latency_count(), 0);
}

static atomic_uint_least64_t maxv;

static void *maxer(void *arg)
{
	uint64_t base = (uintptr_t)arg;

	for (uint64_t i = 0; i < 100000; i++)
		stats_max(&maxv, base + i * 4);
	return NULL;
}

static void test_max(void **state)
{
	pthread_t t[4];

	(void)state;
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, maxer, (void *)i), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&maxv), 3 + 99999 * 4);
	stats_max(&maxv, 5);
	assert_int_equal(atomic_load(&maxv), 3 + 99999 * 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_empty, reset),
	    cmocka_unit_test_setup(test_quantiles, reset),
	    cmocka_unit_test_setup(test_small_and_huge, reset),
	    cmocka_unit_test_setup(test_tail, reset),
	    cmocka_unit_test(test_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
