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
 * recorded file, writes the next list generation and loads it. All
 * functions: main thread only.
 */

/* At start, after recorder_init(): the journal's path; a journal left by
 * an interrupted window is read back into the record. 0 or -errno with
 * msg filled. */
int window_init(const struct hmd_config *cfg, char *msg, size_t msglen);
void window_fini(void);
void window_tick(void); /* timer: journal fdatasync, window timeout */

/* Control socket requests; each fills msg (one line) and returns 0 or
 * -errno. client is the control connection's id. */
int window_begin(pid_t by, uint32_t timeout_s, char *msg, size_t len);
/* Drops for the end to come (a review); forgotten when the client goes. */
int window_drop(uint64_t client, const char (*paths)[PATH_MAX], size_t n, char *msg, size_t len);
/* End the maintenance window (or the one waiting for review): approve
 * what was recorded (hashes every file), or nothing (discard). */
int window_end(uint64_t client, pid_t by, bool discard, char *msg, size_t len);
void window_client_gone(uint64_t client);

struct window_info {
	enum state_window window;
	enum hmd_mode prev;
	uint64_t start, deadline, generation, records, ignored, unattributed;
	char journal[PATH_MAX];
	char last[512]; /* how the last window ended */
};
void window_info(struct window_info *out);

/* The plan the end would carry out, entry i (hashes every recorded file
 * when the record changed since the plan was built). -ENOENT past the
 * end; *total gets the number of entries. */
int window_plan_at(size_t i, size_t *total, uint32_t *kind, char *path, size_t len);

/* For update.c: open a recording session of kind (journal, state file,
 * recorder with attr as its attribution rule, see recorder_start()). */
int window_session_open(enum state_window kind, uint32_t timeout_s, recorder_attr_fn *attr,
                        void *arg, char *msg, size_t len);
/* Stop recording (what is queued is still read, through the session's
 * attribution rule) and close the session: approve = commit the record,
 * or approve nothing. On success the state file says nothing is open and
 * the journal goes; on a failed commit the changes wait for review. */
int window_session_commit(bool approve, char *msg, size_t len);
/* The session's owner went away without ending it: stop recording,
 * approve nothing, keep the record waiting for review, as after a crash. */
void window_session_interrupt(const char *why);
#endif /* HMD_WINDOW_H */
