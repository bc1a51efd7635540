/* workers.h - bounded pool of work items and threads for cache misses: an
 * intake queue, a slow lane fair per uid (owned by workers.c). */
#ifndef HMD_WORKERS_H
#define HMD_WORKERS_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

/* One permission event in flight. The fd belongs to the workers from
 * workers_submit() on; whoever wins workers_claim() writes the one
 * response (the worker, or the main thread's timeout). */
struct hmd_work {
	int fd;
	pid_t pid;
	struct stat st;
	uint64_t t0_ns; /* when the reader read the event */
	uid_t uid; /* the subject's; set by ops.triage() for the slow lane */
	atomic_bool answered; /* also the cancel flag of the item's hash */
	int state; /* workers.c private */
	unsigned next, slot; /* workers.c private */
};

#define HMD_DECIDE_TIMEOUT_NS (30ull * 1000000000ull)

/* What ops.triage() says of an item taken from the intake. */
enum workers_lane {
	WORKERS_RUN = 0, /* decide it now, on this worker: bounded work */
	WORKERS_SLOW, /* queue it in the slow lane, under w->uid */
	WORKERS_DONE, /* answered already (it won workers_claim()) */
};

/* What the pool runs, on worker threads: triage() first for each item
 * (quick: no hashing; it may answer, after winning workers_claim()), then
 * run() for the items to decide (it answers after winning
 * workers_claim()). Neither closes the fd. On the main thread, under the
 * pool lock: expire() for an item waiting or running longer than
 * HMD_DECIDE_TIMEOUT_NS (or left at workers_fini()) whose claim it won;
 * shed() (also on a worker) for one the slow lane has no room for, or
 * that waits there when the pool stops: answer it (by on_error), never
 * close it, never block. */
struct workers_ops {
	enum workers_lane (*triage)(struct hmd_work *w);
	void (*run)(struct hmd_work *w);
	void (*expire)(struct hmd_work *w);
	void (*shed)(struct hmd_work *w);
};
int workers_init(const struct hmd_config *cfg, const struct workers_ops *ops); /* no threads */
int workers_start(void);
/* 0, or -EAGAIN when full (the fd then stays with the caller). */
int workers_submit(int fd, pid_t pid, const struct stat *st, uint64_t t0_ns);
bool workers_claim(struct hmd_work *w); /* true once: the caller answers */
/* Main thread, from the watchdog timer: hand to ops.expire() every item
 * waiting or being run for longer than HMD_DECIDE_TIMEOUT_NS. */
void workers_expire(uint64_t now_ns);
unsigned workers_count(void);
void workers_fini(void); /* drains: queued events are still decided */
#endif /* HMD_WORKERS_H */
