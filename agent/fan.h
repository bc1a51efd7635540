/* fan.h - the fanotify group, its reader thread and the replies (owned by fan.c). */
#ifndef HMD_FAN_H
#define HMD_FAN_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "decide.h"
#include "workers.h"
#include "wl.h"

int fan_init(const struct hmd_config *cfg); /* the group; no thread yet */
bool fan_audit_supported(void);
/* Mark a filesystem (FAN_MARK_FILESYSTEM, falling back to FAN_MARK_MOUNT)
 * or exactly one mount; *kind gets "filesystem" or "mount". */
int fan_mark_fs(const char *path, const char **kind);
int fan_mark_mount(const char *path);
int fan_start(void); /* reader thread */
void fan_stop(void); /* reader stopped and joined; the group stays */
void fan_fini(void); /* closes the group: the kernel allows what is pending */
/* Worker: hash, look up, decide, reply, cache, ignore mark. */
void fan_work(struct hmd_work *w);
/* Reply to an event by on_error (reason ERROR/QUEUE_FULL) and log it. */
void fan_answer_error(int fd, pid_t pid, enum hmd_reason reason, uint64_t t0_ns);
/* Remove every ignore mark (and close-write watch) of the group: inode
 * marks only, the filesystem/mount marks stay. */
int fan_flush_ignores(void);
uint64_t fan_reader_heartbeat(void); /* CLOCK_MONOTONIC ns of the last loop */
#endif /* HMD_FAN_H */
