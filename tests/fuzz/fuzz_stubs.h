/* fuzz_stubs.h - the daemon services that agent/ parsers call on their error
 * paths (log_msg, the counters, the clock), as no-ops, for the fuzz targets
 * that link one agent/ file (fuzz_state.c, fuzz_journal.c). Include it in
 * exactly one target file; it defines what it declares. */
#ifndef FUZZ_STUBS_H
#define FUZZ_STUBS_H

#include <stdarg.h>
#include <stdint.h>

#include "log.h"
#include "stats.h"

struct hmd_stats hmd_stats;

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

uint64_t stats_now_ns(void)
{
	return 0;
}

#endif /* FUZZ_STUBS_H */
