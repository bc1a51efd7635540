/* stats.h - counters shared by all threads (relaxed atomics) (owned by stats.c). */
#ifndef HMD_STATS_H
#define HMD_STATS_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

struct hmd_stats {
	atomic_uint_least64_t events; /* permission events read */
	atomic_uint_least64_t allowed; /* answered allow (incl. audit would-deny) */
	atomic_uint_least64_t denied; /* answered deny */
	atomic_uint_least64_t would_deny; /* audit mode: allowed, would have denied */
	atomic_uint_least64_t errors; /* internal errors (each logged) */
	atomic_uint_least64_t on_error; /* events answered by on_error */
	atomic_uint_least64_t queue_full; /* events answered by on_error: queue full */
	atomic_uint_least64_t self_allowed; /* our own pid's events */
	atomic_uint_least64_t cache_hits, cache_misses;
	atomic_uint_least64_t ignore_marks; /* ignore marks placed */
	atomic_uint_least64_t queue_depth, max_queue_depth;
	atomic_uint_least64_t log_dropped; /* log ring overflow */
	atomic_uint_least64_t marks; /* filesystems/mounts marked now */
	atomic_uint_least64_t mounts_marked_later;
	atomic_uint_least64_t mountinfo_unparsed; /* lines of the latest scan */
	atomic_uint_least64_t maint_windows; /* maintenance windows opened */
	atomic_uint_least64_t update_sessions; /* trusted update sessions opened */
	atomic_uint_least64_t known_bad; /* files a prescan named (log_known_bad) */
};
extern struct hmd_stats hmd_stats;
void stats_max(atomic_uint_least64_t *max, uint64_t v);
/* Decision latency, event read -> response written, in a log-linear
 * histogram (lock-free, ~6 % resolution). ctl.c: report
 * stats_latency_quantile(0.5) and (0.99) in status as decision_p50_us and
 * decision_p99_us (divide by 1000), and stats_latency_count() as
 * decisions_timed. */
void stats_latency_add(uint64_t ns);
uint64_t stats_latency_quantile(double q); /* ns; 0 when nothing was measured */
uint64_t stats_latency_count(void);
void stats_latency_reset(void);
uint64_t stats_now_ns(void); /* CLOCK_MONOTONIC */
#endif /* HMD_STATS_H */
