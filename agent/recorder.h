/* recorder.h - the change recorder: fanotify group, record of changes (owned by recorder.c). */
#ifndef HMD_RECORDER_H
#define HMD_RECORDER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

/*
 * A second fanotify group (FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME), marked
 * on the watched filesystems only while recording; its fd sits in the main
 * poll loop (recorder_fd()). Every change recorded is appended to the
 * journal (journal.h), which the caller creates before recorder_start()
 * and closes after recorder_stop().
 *
 * Threads: the main thread calls everything; an exec-gate worker may call
 * recorder_handle() and recorder_exec_written() (update_exec_allowed).
 * Reading the group and changing the record are serialised inside.
 */

/* Whose change is it? Asked for each change read while recording with an
 * attribution rule (an update session: is the writer in its cgroup).
 * pidfd is the writer's (FAN_REPORT_PIDFD), -1 when it was reaped before
 * the event was read (or the kernel cannot tell): pid may then name
 * another process already. */
enum recorder_attr {
	RECORDER_RECORD, /* record it */
	RECORDER_IGNORE, /* not the session's: counted as ignored */
	RECORDER_UNATTRIBUTED, /* cannot tell (writer gone): counted, not recorded */
};
/* Called with the recorder's read lock held, on the thread reading events
 * (main or a worker): must not call back into the recorder. */
typedef enum recorder_attr recorder_attr_fn(void *arg, pid_t pid, int pidfd, const char *path);

/* At start: the [watch] mounts (realpath) and the group. 0 or -errno
 * with msg filled. */
int recorder_init(const struct hmd_config *cfg, char *msg, size_t msglen);
void recorder_fini(void);
int recorder_fd(void); /* POLLIN: recorder_handle() has work; -1 before init */
void recorder_handle(void); /* read what is queued (bounded) and record it */
/* Mark the filesystems in scope (every mount at or below a [watch] mount,
 * or every mount; see recorder.c for what is left out) and record from now
 * on: every change when attr is NULL (a maintenance window), else the ones
 * attr(arg, ...) says are the session's. 0, or -errno with msg naming the
 * mount that cannot be watched and what to do (nothing marked then). */
int recorder_start(recorder_attr_fn *attr, void *arg, char *msg, size_t len);
/* A mount left out by the last recorder_start(), and why. */
#define RECORDER_SKIP_MAX 16
struct recorder_skip {
	char mount[256]; /* truncated */
	char fstype[32];
	const char *why; /* static: "special filesystem", "read-only, ..." */
};
/* Copies up to max (and RECORDER_SKIP_MAX) of them; returns how many
 * mounts were left out in all. */
size_t recorder_skipped(struct recorder_skip *out, size_t max);
/* Record what is still queued, remove the marks, stop recording. The
 * record stays until recorder_forget(). */
void recorder_stop(void);
/* Add a change read back from the journal (a window that was interrupted). */
void recorder_note(char op, const char *path, uint32_t uid);
/* Does pidfd still name a process (zombie included)? For an attribution
 * rule: what it read from /proc/<pid> after the event was the writer's. */
bool recorder_pidfd_alive(int pidfd);
/* Does the kernel give the writer's pidfd with each change (Linux 5.15)? */
bool recorder_pidfds(void);
void recorder_forget(void); /* empty the record and its counters */
size_t recorder_count(void); /* recorded paths */
void recorder_counters(uint64_t *ignored, uint64_t *unattributed);
/* Moves on with every change noted or forgotten: a plan built from a
 * snapshot of version v is current while recorder_version() == v. */
uint64_t recorder_version(void);
/* A copy of the record, in order of first change. */
struct recorder_entry {
	char op; /* 'W' written/present, 'D' removed, 'T' tree removed */
	/* who wrote it (recorder.c, "who wrote it"): JOURNAL_UID_NONE when
	 * nobody could be named; a 'D' or 'T' carries no writer */
	uint32_t uid;
	const char *path; /* inside the same allocation */
};
/* One allocation (free() it), *n entries; *version the record's version.
 * NULL with *n == 0 when the record is empty or memory is short (-ENOMEM
 * in *err then). */
struct recorder_entry *recorder_snapshot(size_t *n, uint64_t *version, int *err);
/* Was the inode (dev, ino) last seen written, at a path in the record? */
bool recorder_exec_written(uint64_t dev, uint64_t ino);
#endif /* HMD_RECORDER_H */
