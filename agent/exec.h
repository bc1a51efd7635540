/* exec.h - the decision for one exec: the handlers the fanotify reader and
 * the worker pool run (owned by exec.c). */
#ifndef HMD_EXEC_H
#define HMD_EXEC_H

#include "config.h"
#include "fan.h"
#include "workers.h"

/* Before the list is reloaded for the first time (it subscribes to list
 * reloads: verdict cache and ignore marks go with the old list). */
int exec_init(const struct hmd_config *cfg);
const struct fan_ops *exec_fan_ops(void); /* for fan_start() */
const struct workers_ops *exec_workers_ops(void); /* for workers_init() */
#endif /* HMD_EXEC_H */
