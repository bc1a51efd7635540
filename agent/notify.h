/* notify.h - systemd sd_notify / watchdog (owned by notify.c). */
#ifndef HMD_NOTIFY_H
#define HMD_NOTIFY_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

void notify_ready(void);
void notify_watchdog(void); /* rate-limited; call from the reader loop */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_stopping(void);
/* Another process became the unit's main one (stop.c): nothing more is
 * sent, or systemd would log each message as from a stranger. */
void notify_off(void);
#endif /* HMD_NOTIFY_H */
