/* proc.h - what hmilockd reads of other processes in /proc/<pid>. */
#ifndef HMD_PROC_H
#define HMD_PROC_H

#include <stdint.h>
#include <sys/types.h>

enum { PROC_UID_REAL, PROC_UID_EFFECTIVE, PROC_UID_SAVED, PROC_UID_FS, PROC_UIDS };

/* The "Uid:" line of /proc/<pid>/status (the thread group leader's): real,
 * effective, saved and filesystem uid. 0, or -errno when the process is
 * gone or the line cannot be read (-EBADMSG). */
int proc_uids(pid_t pid, uint32_t uids[PROC_UIDS]);

/* The start time of pid (field 22 of /proc/<pid>/stat, clock ticks since
 * boot): with the pid, it names one process, never a later one that got
 * its pid. 0, or -errno when it is gone (-ENOENT) or unreadable. */
int proc_start_time(pid_t pid, uint64_t *start);

#endif
