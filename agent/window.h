/* window.h - maintenance windows and update sessions, their plan and commit (owned by window.c). */
#ifndef HMD_WINDOW_H
#define HMD_WINDOW_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "recorder.h"
#include "state.h"

/*
 * A window (or an update session) opens the journal, writes the state
 * file and starts the recorder; it ends by a commit that hashes every
 * recorded file, writes the next list generation and loads it. Hashing
 * and writing run on a committer thread, never on the main thread: the
 * request that starts them returns -EINPROGRESS and its done callback is
 * called later, on the main thread, from window_handle() (never from
 * inside the request). While a commit runs, window_busy() is true and
 * every request that would open, end or change a window is refused with
 * -EBUSY. All functions: main thread only.
 */

/* Completion of a request that returned -EINPROGRESS: rc and the one-line
 * message the request would have returned. Called exactly once, on the
 * main thread (window_handle(), or window_fini() with -ECANCELED). */
typedef void window_done_fn(void *arg, int rc, const char *msg);

/* At start, after recorder_init(): the journal's path, the committer's
 * eventfd; a journal left by an interrupted window is read back into the
 * record. 0 or -errno with msg filled. */
int window_init(const struct hmd_config *cfg, char *msg, size_t msglen);
/* Waits for the committer thread (asking it to stop between files); a
 * commit cut short leaves the window waiting for review, as a crash does. */
void window_fini(void);
/* For the main poll loop: POLLIN when the committer thread has finished;
 * then call window_handle(). */
int window_fd(void);
void window_handle(void);
void window_tick(void); /* timer: journal fdatasync, window timeout */
/* Is a commit running? Then msg says so ("the maintenance window is being
 * closed: hashing N files"). */
bool window_busy(char *msg, size_t len);

/* Control socket requests; each fills msg (one line) and returns 0,
 * -EINPROGRESS (done(arg, ...) follows) or another -errno. client is the
 * control connection's id. */
int window_begin(pid_t by, uint32_t timeout_s, char *msg, size_t len);
/* Drops for the end to come (a review), or with accept the held changes
 * (HMC_PK_HELD) it approves after all; forgotten when the client goes. */
int window_drop(uint64_t client, const char (*paths)[PATH_MAX], size_t n, bool accept, char *msg,
                size_t len);
/* End the maintenance window (or the one waiting for review): discard
 * approves nothing and finishes at once; otherwise -EINPROGRESS. */
int window_end(uint64_t client, pid_t by, bool discard, bool no_prescan, window_done_fn *done,
               void *arg, char *msg, size_t len);
/* Files the commit finished last left unapproved because the prescan
 * named them (or could not scan them): for the reply's
 * HMC_RESULT_KNOWN_BAD. Main thread. */
size_t window_known_bad(void);
void window_client_gone(uint64_t client);

struct window_info {
	enum state_window window;
	enum hmd_mode prev;
	uint64_t start, deadline, generation, records, ignored, unattributed;
	char journal[PATH_MAX];
	char last[512]; /* how the last window ended, or that this one is being closed */
};
void window_info(struct window_info *out);

/* The plan: what the end would do with each recorded path (HMC_PK_*),
 * which takes hashing each file. 0 when the plan of the record as it is
 * now is ready (read it with window_plan_at()); -EINPROGRESS when it is
 * being built on the committer thread (done follows); -EBUSY while a
 * commit runs; -errno. */
int window_plan_build(window_done_fn *done, void *arg, char *msg, size_t len);
/* Entry i of the plan built last: 0, -ENOENT past the end, -ENODATA when
 * there is none. *total gets the number of entries, *uid its writer
 * (JOURNAL_UID_NONE: unknown, or a removal). */
int window_plan_at(size_t i, size_t *total, uint32_t *kind, uint32_t *uid, char *path, size_t len);

/* For update.c: open a recording session of kind (journal, state file,
 * recorder with attr as its attribution rule, see recorder_start()). */
int window_session_open(enum state_window kind, uint32_t timeout_s, recorder_attr_fn *attr,
                        void *arg, char *msg, size_t len);
/* Stop recording (what is queued is still read, through the session's
 * attribution rule) and close the session: approve = commit the record
 * (-EINPROGRESS, done follows), or approve nothing (finished at once). On
 * success the state file says nothing is open and the journal goes; on a
 * failed commit the changes wait for review. */
int window_session_commit(bool approve, bool no_prescan, window_done_fn *done, void *arg, char *msg,
                          size_t len);
/* The session's owner went away without ending it: stop recording,
 * approve nothing, keep the record waiting for review, as after a crash. */
void window_session_interrupt(const char *why);
#endif /* HMD_WINDOW_H */
