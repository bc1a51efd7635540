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
#include "wl.h"

/* What the reader does with an event (exec.c). perm owns fd from the call
 * on and must see that it is answered once and closed; close_write must
 * not close it (the reader does). Both run on the reader thread: never
 * block, never touch a disk. */
struct fan_ops {
	void (*perm)(int fd, pid_t pid);
	void (*close_write)(int fd);
};

int fan_init(void); /* the group; no thread yet */
bool fan_audit_supported(void);
/* Mark a filesystem (FAN_MARK_FILESYSTEM, falling back to FAN_MARK_MOUNT)
 * or exactly one mount; *kind gets "filesystem" or "mount". */
int fan_mark_fs(const char *path, const char **kind);
int fan_mark_mount(const char *path);
int fan_start(const struct fan_ops *ops); /* reader thread */
void fan_stop(void); /* reader stopped and joined; the group stays */
void fan_fini(void); /* closes the group: the kernel allows what is pending */
/* Write the one response to a permission event (deny and would-deny carry
 * FAN_AUDIT when the group has it). Failures are counted and logged. */
void fan_respond(int fd, enum hmd_verdict v);
/* A close-write watch, then an ignore mark for exec, on fd's inode. */
int fan_ignore_add(int fd);
void fan_ignore_remove(int fd);
/* Remove every ignore mark (and close-write watch) of the group: inode
 * marks only, the filesystem/mount marks stay. */
int fan_flush_ignores(void);
/* Path of an event fd: 0 and *resolved true when it names a live file;
 * st (the worker's fstat) lets it tell a file named "... (deleted)". */
int fan_fd_path(int fd, const struct stat *st, char *path, size_t len, bool *resolved);
uint64_t fan_reader_heartbeat(void); /* CLOCK_MONOTONIC ns of the last loop */
#endif /* HMD_FAN_H */
