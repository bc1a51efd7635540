/* helper_ev.h - the helper ring reader thread (started by helper.c) (owned by helper_ev.c). */
#ifndef HMD_HELPER_EV_H
#define HMD_HELPER_EV_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

/* Read helper events from the ring buffer map ring_fd on a new thread and
 * pass each to log_event(). 0, or -errno with why filled. */
int helper_ev_start(int ring_fd, char *why, size_t len);
void helper_ev_stop(void); /* join the thread; safe when not started */
#endif /* HMD_HELPER_EV_H */
