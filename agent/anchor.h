/* anchor.h - what ties a pinned helper that enforces to the hmilockd that may
 * take it over or remove it (owned by anchor.c). */
#ifndef HMD_ANCHOR_H
#define HMD_ANCHOR_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "../kmod/hmilock_abi.h"

/* May a daemon with cfg take over the pinned helper whose config map is
 * pinned? 0 when the helper does not enforce or was locked under cfg's
 * configuration file; -EPERM with why naming both files otherwise. */
int anchor_check(const struct hmk_config *pinned, const struct hmd_config *cfg, char *why,
                 size_t len);
/* hmilockd --unpin: 0 when the pinned helper may be removed by this process
 * (nothing pinned, the helper does not enforce, or it was locked under
 * cfg and password matches the admin password file it was locked with, or
 * none was set); else -errno with why saying what is missing. cfg NULL:
 * the configuration could not be read (cfg_msg says why). */
int anchor_unpin(const struct hmd_config *cfg, const char *cfg_msg, const char *password, char *why,
                 size_t len);
/* The admin password for --unpin: the first line of file (when not NULL),
 * else of $HMILOCK_PASSWORD_FILE, else $HMILOCK_PASSWORD; "" when none is
 * given. -errno with why naming the file when it cannot be read. */
int anchor_password(const char *file, char *out, size_t len, char *why, size_t wlen);
#endif /* HMD_ANCHOR_H */
