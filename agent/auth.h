/* auth.h - admin password for requests that change enforcement (owned by auth.c). */
#ifndef HMD_AUTH_H
#define HMD_AUTH_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

void auth_init(const struct hmd_config *cfg); /* ctl_init calls it */
/* Main thread. 0 when no password is set or password matches; -ENOKEY when
 * one is set and password is empty (the CLI then asks for it); -EACCES when
 * wrong (logged; every attempt is then refused for 1 s, doubling with each
 * further wrong one up to 60 s); -EAGAIN inside that delay (refused at
 * once, without a check); another -errno when the password file cannot be
 * read or parsed (refused). msg gets one line for the client. */
int auth_check(const char *password, char *msg, size_t len);
void auth_wipe(void *buf, size_t len); /* clear a received password */
#endif /* HMD_AUTH_H */
