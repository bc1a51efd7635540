/* stop.h - whether hmilockd stops when the service manager says so, its
 * heartbeat for the kernel helper, and standing by (owned by stop.c). */
#ifndef HMD_STOP_H
#define HMD_STOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

int stop_init(void); /* finds the cgroup2 mount and our unit */
/* A SIGTERM (or SIGINT): true to stop (the helper is told PID 1 may end
 * us), false when refused (logged; the unit is followed, see stop.c). */
bool stop_on_term(const struct signalfd_siginfo *si);
/* Every second from the main loop: the reader's heartbeat and our cgroups
 * to the helper; a refused stop followed up. true: exit now (a sanctioned
 * stop whose SIGTERM never came). */
bool stop_tick(uint64_t reader_beat_ns);
/* `hmilock stop` was granted: the helper is told, the service manager asked
 * to stop the unit. true: exit now (no service manager); false: its
 * SIGTERM follows, which stop_on_term then agrees to. */
bool stop_sanctioned(void);
/* Before start-up: when another hmilockd answers on the control socket,
 * wait (READY=1, watchdog pings) until it exits; 1 after waiting, else 0;
 * -1: it agreed to stop before it exited, so do we (exit 0). */
int stop_standby(const char *sock);

#endif /* HMD_STOP_H */
