/* ctl.h - control socket (SOCK_SEQPACKET, root only) (owned by ctl.c). */
#ifndef HMD_CTL_H
#define HMD_CTL_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "hmilock_ctl.h"
#include "wl.h"

int ctl_init(const struct hmd_config *cfg); /* bind + listen; returns 0 or -errno */
/* One fd for the main poll loop (an epoll fd over the listening socket and
 * every client): POLLIN means ctl_handle() has work. */
int ctl_fd(void);
void ctl_handle(void); /* accept and serve what is ready; never blocks */
bool ctl_stop_asked(void); /* `hmilock stop` granted and answered (once): stop.c */
/* hmilockd's exit status after `hmilock stop`: the unit neither restarts
 * nor fails on it (RestartPreventExitStatus=, SuccessExitStatus=). */
#define HMD_EXIT_STOPPED 4
void ctl_fini(void);
/* What `hmilock status` shows, now (main thread: metrics.c's snapshot). */
void ctl_status_fill(struct hmc_status *s);
#endif /* HMD_CTL_H */
