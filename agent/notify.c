/* notify.c - systemd notifications (sd_notify): READY=1 once marks are
 * placed, WATCHDOG=1 from the reader loop (rate-limited to half the
 * watchdog interval), STATUS= lines and STOPPING=1. Owns the watchdog
 * interval and the time of the last ping (atomics: the reader thread pings,
 * the main thread sends the rest). Without $NOTIFY_SOCKET every call is a
 * no-op in libsystemd. The reader loop ticks at least once a second, so
 * pings come every interval/2 to interval/2 + 1 s: WatchdogSec must be 3 s
 * or more (the unit uses 30 s). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "notify.h"
#include "stats.h"

static struct {
	atomic_uint_least64_t interval_ns; /* half of WATCHDOG_USEC; 0: off */
	atomic_uint_least64_t last_ns; /* last WATCHDOG=1 sent */
	atomic_bool probed;
	atomic_bool off; /* no longer the unit's main process (notify_off) */
} nt;

void notify_off(void)
{
	atomic_store(&nt.off, true);
}

/* Ask libsystemd once whether (and how often) the service manager wants a
 * watchdog ping for this process. */
static uint64_t notify_interval(void)
{
	uint64_t usec = 0;

	if (!atomic_load(&nt.probed)) {
		if (sd_watchdog_enabled(0, &usec) > 0)
			atomic_store(&nt.interval_ns, usec * 1000ull / 2);
		atomic_store(&nt.probed, true);
	}
	return atomic_load(&nt.interval_ns);
}

void notify_ready(void)
{
	notify_interval();
	sd_notify(0, "READY=1");
	atomic_store(&nt.last_ns, stats_now_ns());
}

void notify_watchdog(void)
{
	uint64_t iv = notify_interval(), now, last;

	if (iv == 0 || atomic_load(&nt.off))
		return;
	now = stats_now_ns();
	last = atomic_load_explicit(&nt.last_ns, memory_order_relaxed);
	if (now - last < iv)
		return;
	/* one thread wins the ping when several race */
	if (atomic_compare_exchange_strong(&nt.last_ns, &last, now))
		sd_notify(0, "WATCHDOG=1");
}

void notify_status(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	if (atomic_load(&nt.off))
		return;
	n = snprintf(buf, sizeof(buf), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	sd_notify(0, buf);
}

void notify_stopping(void)
{
	if (!atomic_load(&nt.off))
		sd_notify(0, "STOPPING=1");
}
