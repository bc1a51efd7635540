/* sandbox.h - capabilities and seccomp (owned by sandbox.c). */
#ifndef HMD_SANDBOX_H
#define HMD_SANDBOX_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

/* Drop every capability not still needed, then load the kill-default
 * seccomp allow-list. Fills hmd_state.sandbox. */
int sandbox_enter(char *msg, size_t msglen);
/* Capabilities are per thread: a thread started before sandbox_enter()
 * calls this first thing to drop to the run-time set (all sets, bounding
 * included); sandbox_enter() names in hmilock status any thread that
 * still holds more. 0 or -errno. */
int sandbox_thread_caps(void);
#endif /* HMD_SANDBOX_H */
