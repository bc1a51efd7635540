/* maint.h - the maintenance window, its journal, the change recorder (owned by maint.c). */
#ifndef HMD_MAINT_H
#define HMD_MAINT_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "state.h"
#include "wl.h"

/* A second fanotify group (FAN_CLASS_NOTIF, FAN_REPORT_DFID_NAME), marked
 * on the watched filesystems only while a window or update session is
 * open; its fd sits in the main poll loop (maint_fd(), -1 when idle). Every
 * recorded change goes to the journal next to the list. Main thread only,
 * except maint_exec_written() (any thread). */
int maint_init(const struct hmd_config *cfg, char *msg, size_t msglen);
void maint_fini(void);
int maint_fd(void);
void maint_handle(void); /* read and record what is queued */
void maint_tick(void); /* timer: fsync, window timeout */
/* Control socket requests; each fills msg (one line) and returns 0/-errno. */
int maint_begin(pid_t by, uint32_t timeout_s, char *msg, size_t len);
/* Drops for the end to come (client = connection id). */
int maint_drop(int client, const char (*paths)[PATH_MAX], size_t n, char *msg, size_t len);
int maint_end(int client, pid_t by, bool discard, char *msg, size_t len);
void maint_client_gone(int client);
struct maint_info {
	enum state_window window;
	enum hmd_mode prev;
	uint64_t start, deadline, generation, records, ignored, unattributed;
	char journal[PATH_MAX];
	char last[512];
};
void maint_info(struct maint_info *out);
/* The plan the end would carry out, entry i (hashes the file). -ENOENT
 * past the end; *total gets the number of entries. */
int maint_plan_at(size_t i, size_t *total, uint32_t *kind, char *path, size_t len);
/* For update.c: open / close a recording session. */
int maint_session_open(enum state_window kind, uint32_t timeout_s, char *msg, size_t len);
int maint_session_commit(bool approve, char *msg, size_t len);
void maint_session_interrupt(const char *why); /* -> PENDING, nothing approved */
/* Was the inode (dev, ino) written in the open update session? */
bool maint_exec_written(uint64_t dev, uint64_t ino);
#endif /* HMD_MAINT_H */
