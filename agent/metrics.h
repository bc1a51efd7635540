/* metrics.h - the Prometheus text file for node_exporter's textfile
 * collector (owned by metrics.c). */
#ifndef HMD_METRICS_H
#define HMD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "hmilock_ctl.h"

void metrics_init(const struct hmd_config *cfg); /* remember path and interval */
int metrics_start(void); /* the writer thread (none when off); 0 or -errno */
/* Main thread, from its 1 s timer: is a snapshot due (once per [metrics]
 * interval; never when off)? Then hand it to the writer. */
bool metrics_due(uint64_t now_ns);
void metrics_publish(const struct hmc_status *s);
/* For status: "PATH, every N s", "PATH: NOT written: <why>" or "off ...". */
void metrics_state(char *buf, size_t len);
void metrics_fini(void); /* stop the writer; the file stays */
/* The text file for status s into buf: its length, or 0 when it does not
 * fit (nothing half written). */
size_t metrics_format(const struct hmc_status *s, char *buf, size_t len);
#endif /* HMD_METRICS_H */
