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
 * seccomp allow-list (with the kernel helper's calls when helper is true).
 * Before any thread starts. 0 or -errno with msg filled. */
int sandbox_enter(bool helper, char *msg, size_t msglen);
/* One line for status: "seccomp kill-default allow-list; caps ..." */
const char *sandbox_describe(void);
#endif /* HMD_SANDBOX_H */
