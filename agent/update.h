/* update.h - trusted updater sessions in a cgroup v2 (owned by update.c). */
#ifndef HMD_UPDATE_H
#define HMD_UPDATE_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "window.h"
#include "wl.h"

int update_init(const struct hmd_config *cfg);
void update_fini(void);
/* UPDATE_BEGIN: make the session cgroup; who = the pid that will join. */
int update_begin(pid_t by, pid_t who, uint64_t *session, char *cgroup, char *origin, size_t pathlen,
                 char *msg, size_t len);
int update_info(uint64_t *session, pid_t *who, char *cgroup, char *origin, size_t pathlen);
/* UPDATE_COMMIT: end the session: its cgroup is no longer trusted from
 * now on; what it wrote is approved when ok or keep. Returns like
 * window_session_commit(): -EINPROGRESS while the files are hashed (then
 * done(arg, rc, msg) follows on the main thread), -EBUSY while another
 * commit runs, 0 or -errno when settled at once. Main thread. */
int update_commit(uint64_t session, bool ok, bool keep, bool no_prescan, window_done_fn *done,
                  void *arg, char *msg, size_t len);
/* Is pid (alive or a zombie: the exec gate's, blocked) in the open session's cgroup: 1 yes, 0 no,
 * -ESRCH when it is gone (reaped) and cannot be told. */
int update_pid_member(pid_t pid);
bool update_active(void);
/* Exec gate: true when pid is in the session cgroup and the file (st) was
 * written by the session: such an exec is allowed (fan.c). For the exec
 * gate's WORKER threads only, never the fanotify reader: when the file is
 * not in the record yet it reads the recorder's queued events first
 * (recorder_handle(): the updater may run what it wrote a moment ago),
 * which takes the recorder's read lock, reads /proc/<pid>/cgroup and may
 * append to and fdatasync the journal on disk. */
bool update_exec_allowed(pid_t pid, const struct stat *st);
void update_tick(void); /* timer: remove emptied session cgroups */
#endif /* HMD_UPDATE_H */
