/* state.h - run-time state the control socket reads or changes (owned by state.c). */
#ifndef HMD_STATE_H
#define HMD_STATE_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

int state_mode(void); /* enum hmd_mode; any thread */
/* Called on the main thread after every change of mode, with the new one.
 * Added at start-up, before any thread runs. 0 or -ENOSPC. */
typedef void (*state_mode_handler)(enum hmd_mode m, void *arg);
int state_add_mode_handler(state_mode_handler fn, void *arg);
void state_set_ready(void); /* marks placed, READY=1 sent */
bool state_ready(void);
uint64_t state_uptime_ns(void); /* since state_init() */
/* The verdict cache holds list outcomes (listed / not listed / mismatch),
 * never verdicts, and ignore marks exist only on listed files, which are
 * allowed in every mode: so a mode switch drops nothing (see state.c). */
void state_set_mode(enum hmd_mode m);

/* The state file (<directory of the list>/state), so a mode set at run
 * time and an open maintenance window survive a restart or power cut.
 * Written atomically (tmp, fsync, rename, fsync of the directory). */
enum state_window {
	STATE_W_NONE = 0, /* nothing open, nothing waiting */
	STATE_W_MAINT, /* maintenance window open */
	STATE_W_UPDATE, /* trusted update session open */
	STATE_W_PENDING, /* interrupted: the journal waits for review */
};
struct state_file {
	enum hmd_mode mode; /* the mode outside windows (enforce or audit) */
	enum state_window window;
	uint64_t start, deadline, generation; /* realtime s, realtime s, list gen */
	char last[256]; /* how the last window ended */
};
/* Main thread, at start (after log): read the state file; it wins over
 * the config's mode. A window found open means hmilockd died in it: the
 * mode before it applies and the window becomes PENDING. Logs which
 * source was used. 0 or -errno (a malformed file is refused, naming it). */
int state_init(const struct hmd_config *cfg, char *msg, size_t msglen);
void state_file_get(struct state_file *out);
/* false when the state file at start did not authenticate (not taken:
 * started in enforce); helper.c then takes a pinned helper's mode. */
bool state_authentic(void);
/* Main thread, after a list reload: a list key made since the file was
 * last written (`hmilock init` on a fresh install) authenticates it now. */
void state_resign(void);
/* The state file's text (len bytes, not NUL-terminated) into *f, which
 * holds the defaults; name is for msg. Pure: no I/O (fuzz target
 * tests/fuzz/fuzz_state.c). 0 or -EINVAL with msg naming name and line. */
int state_parse(const char *buf, size_t len, const char *name, struct state_file *f, char *msg,
                size_t msglen);
int state_file_put(const struct state_file *in); /* 0 or -errno, logged */
/* <directory of the list>/name into out. */
int state_sibling(const char *name, char *out, size_t len);
#endif /* HMD_STATE_H */
