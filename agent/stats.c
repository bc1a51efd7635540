/* stats.c - the daemon's counters and the decision-latency histogram.
 * Every thread may update them (relaxed atomics, no locks); ctl.c reads
 * them for status. Nothing here allocates or blocks. */
#include <time.h>

#include "stats.h"

struct hmd_stats hmd_stats;

/* Log-linear histogram: values below 2^SUB_BITS ns get a bucket each; above,
 * each power of two is split into 2^SUB_BITS buckets, so a bucket is at most
 * 1/16 (~6 %) wide. 64 powers x 16 = 1024 buckets, 8 KiB. */
#define SUB_BITS 4
#define SUB (1u << SUB_BITS)
#define N_BUCKETS (64 * SUB)

static atomic_uint_least64_t lat_hist[N_BUCKETS];

void stats_max(atomic_uint_least64_t *max, uint64_t v)
{
	uint64_t cur = atomic_load_explicit(max, memory_order_relaxed);

	while (v > cur && !atomic_compare_exchange_weak_explicit(max, &cur, v, memory_order_relaxed,
	                                                         memory_order_relaxed))
		;
}

uint64_t stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned stats_bucket(uint64_t v)
{
	unsigned msb, sub;

	if (v < SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	sub = (unsigned)(v >> (msb - SUB_BITS)) & (SUB - 1);
	return (msb - SUB_BITS + 1) * SUB + sub;
}

/* Upper end (inclusive) of a bucket, the value a quantile reports. */
static uint64_t stats_bucket_high(unsigned b)
{
	unsigned shift;
	uint64_t base;

	if (b < SUB)
		return b;
	shift = b / SUB - 1;
	base = (uint64_t)(SUB + b % SUB) << shift;
	return base + ((1ull << shift) - 1);
}

void stats_latency_add(uint64_t ns)
{
	atomic_fetch_add_explicit(&lat_hist[stats_bucket(ns)], 1, memory_order_relaxed);
}

uint64_t stats_latency_count(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < N_BUCKETS; i++)
		n += atomic_load_explicit(&lat_hist[i], memory_order_relaxed);
	return n;
}

uint64_t stats_latency_quantile(double q)
{
	uint64_t n = stats_latency_count(), want, seen = 0;

	if (n == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* The smallest value with at least q*n samples at or below it. */
	want = (uint64_t)(q * (double)n + 0.999999);
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < N_BUCKETS; i++) {
		seen += atomic_load_explicit(&lat_hist[i], memory_order_relaxed);
		if (seen >= want)
			return stats_bucket_high(i);
	}
	return stats_bucket_high(N_BUCKETS - 1);
}

void stats_latency_reset(void)
{
	for (unsigned i = 0; i < N_BUCKETS; i++)
		atomic_store_explicit(&lat_hist[i], 0, memory_order_relaxed);
}
