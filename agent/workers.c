/* workers.c - a bounded pool of work items and the threads that run
 * exec.c's callbacks on them; it knows nothing of fanotify or of decisions
 * (exec.c hands in workers_ops). Owns a fixed pool of hmd_work items
 * (queue_len of them: the most events the daemon holds at once), the pool
 * lock, the two queues (intake, slow lane) and the per-uid accounting of
 * the slow lane. A producer submits, workers triage and run, the main
 * thread hands items stuck too long to ops.expire(); an item's fd is
 * closed only by the pool, after the item has left its in-flight states
 * under the lock. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "decide.h"
#include "stats.h"
#include "workers.h"

/*
 * Why two lanes (issue 9, hashing denial of service). Deciding an exec may
 * mean hashing the file, and a user chooses what to exec: a few huge files
 * (a 64 GiB sparse file costs nothing to make and ~45 s to hash) used to
 * keep every worker busy, so the box's own listed programs waited behind
 * them until the watchdog answered them by on_error - denied. Now:
 *
 *  - Every event enters the intake FIFO. Any worker takes from it first
 *    and asks ops.triage(), which is quick (a path lookup, no hashing):
 *    a file whose path is listed and whose identity (device, inode, size,
 *    times) still matches the list is decided at once on that worker - its
 *    hash is bounded by the list; a file too large to be listed is refused
 *    there, unhashed; everything else goes to the slow lane.
 *  - The slow lane is run by at most threads - 1 workers at once (when
 *    there are 2 or more): one worker is always free for the intake, so a
 *    listed program never waits behind unlisted work.
 *  - Fair per uid (the exec'ing process's): a uid runs on at most half of
 *    the slow lane's workers (rounded up), the uid served least recently
 *    goes first, and a uid holds at most a quarter of the slow lane's
 *    places. The slow lane holds at most 3/4 of the pool, so the intake
 *    always finds room. What does not fit is answered by on_error at once
 *    (ops.shed, counted as queue_full) - the flooding user's exec, not the
 *    next one's.
 *  - A hash stops as soon as its event is answered (exec.c passes the
 *    item's answered flag to the hash as its cancel flag), so the watchdog
 *    frees the worker too.
 */

enum { W_FREE = 0, W_INTAKE, W_TRIAGE, W_RUN, W_SLOW, W_SLOW_RUN };
#define W_NONE UINT32_MAX
#define W_DEFAULT_QUEUE HMD_DEFAULT_QUEUE
#define W_MAX_THREADS HMD_MAX_WORKERS
#define W_UIDS 64 /* uids tracked apart; the last slot is shared by the rest */

struct w_uid {
	uid_t uid;
	unsigned items; /* in the slow lane, queued or running */
	unsigned running;
	uint64_t served; /* w_seq when one of its items last started */
};

static struct hmd_work *w_items;
static unsigned w_n_items;
static unsigned w_free; /* free list */
static unsigned w_in_head, w_in_tail; /* intake FIFO */
static unsigned w_slow_head, w_slow_tail; /* slow lane, in arrival order */
static unsigned w_slow_items, w_slow_running;
static unsigned w_slow_cap, w_slow_max, w_uid_cap, w_uid_run_max;
static struct w_uid w_uids[W_UIDS];
static uint64_t w_seq, w_depth;
static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static bool w_stop;
static pthread_t w_threads[W_MAX_THREADS];
static unsigned w_n_threads, w_started;
static struct workers_ops w_ops;

/* The limits above, from the pool's size and thread count. */
static void workers_limits(void)
{
	w_slow_max = w_n_threads >= 2 ? w_n_threads - 1 : 1;
	w_uid_run_max = (w_slow_max + 1) / 2;
	w_slow_cap = w_n_items - w_n_items / 4;
	w_uid_cap = w_slow_cap / 4 ? w_slow_cap / 4 : 1;
}

int workers_init(const struct hmd_config *cfg, const struct workers_ops *ops)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	w_n_items = cfg->queue_len ? cfg->queue_len : W_DEFAULT_QUEUE;
	/* At least 2 by default, so that one is kept for the intake. */
	w_n_threads = cfg->workers ? cfg->workers : (cores > 2 ? (unsigned)cores : 2);
	if (w_n_threads > W_MAX_THREADS)
		w_n_threads = W_MAX_THREADS;
	w_ops = *ops;
	w_items = calloc(w_n_items, sizeof(*w_items));
	if (!w_items)
		return -ENOMEM;
	for (unsigned i = 0; i < w_n_items; i++) {
		w_items[i].fd = -1;
		w_items[i].state = W_FREE;
		w_items[i].next = i + 1 < w_n_items ? i + 1 : W_NONE;
	}
	w_free = 0;
	w_in_head = w_in_tail = W_NONE;
	w_slow_head = w_slow_tail = W_NONE;
	w_slow_items = w_slow_running = 0;
	memset(w_uids, 0, sizeof(w_uids));
	w_seq = w_depth = 0;
	w_stop = false;
	workers_limits();
	return 0;
}

unsigned workers_count(void)
{
	return w_n_threads;
}

/* Item i at the tail of the list head..tail (intake or slow lane). */
static void workers_append(unsigned *head, unsigned *tail, unsigned i)
{
	w_items[i].next = W_NONE;
	if (*tail == W_NONE)
		*head = i;
	else
		w_items[*tail].next = i;
	*tail = i;
}

static void workers_depth(int delta)
{
	w_depth = (uint64_t)((int64_t)w_depth + delta);
	atomic_store_explicit(&hmd_stats.queue_depth, w_depth, memory_order_relaxed);
	stats_max(&hmd_stats.max_queue_depth, w_depth);
}

int workers_submit(int fd, pid_t pid, const struct stat *st, uint64_t t0_ns)
{
	struct hmd_work *w;
	unsigned i;

	pthread_mutex_lock(&w_lock);
	if (w_free == W_NONE || w_stop) {
		pthread_mutex_unlock(&w_lock);
		return -EAGAIN;
	}
	i = w_free;
	w = &w_items[i];
	w_free = w->next;
	w->fd = fd;
	w->pid = pid;
	w->st = *st;
	w->t0_ns = t0_ns;
	w->uid = (uid_t)-1;
	atomic_store(&w->answered, false);
	w->state = W_INTAKE;
	workers_append(&w_in_head, &w_in_tail, i);
	workers_depth(1);
	pthread_cond_signal(&w_cond);
	pthread_mutex_unlock(&w_lock);
	return 0;
}

bool workers_claim(struct hmd_work *w)
{
	return !atomic_exchange(&w->answered, true);
}

/* The uid's slot (under the lock): its own while it has items in the slow
 * lane or a free one; W_UIDS - 1, shared, once W_UIDS - 1 uids are busy. */
static unsigned workers_uid_slot(uid_t uid)
{
	unsigned i, spare = W_UIDS - 1;

	for (i = 0; i < W_UIDS - 1; i++) {
		if (w_uids[i].items && w_uids[i].uid == uid)
			return i;
		if (!w_uids[i].items && spare == W_UIDS - 1)
			spare = i;
	}
	if (spare != W_UIDS - 1 && w_uids[spare].uid != uid) {
		/* A uid new to the slot starts as never served: it goes next. */
		w_uids[spare].uid = uid;
		w_uids[spare].served = 0;
	}
	return spare;
}

/* The slow item to run next (under the lock), unlinked, or NULL: of the
 * uids below their running share, the one served least recently; its
 * oldest item. */
static struct hmd_work *workers_slow_pick(void)
{
	unsigned i, prev = W_NONE, best = W_NONE, best_prev = W_NONE;
	struct hmd_work *w;

	for (i = w_slow_head; i != W_NONE; prev = i, i = w_items[i].next) {
		const struct w_uid *u = &w_uids[w_items[i].slot];

		if (u->running >= w_uid_run_max)
			continue;
		if (best == W_NONE || u->served < w_uids[w_items[best].slot].served) {
			best = i;
			best_prev = prev;
		}
	}
	if (best == W_NONE)
		return NULL;
	w = &w_items[best];
	if (best_prev == W_NONE)
		w_slow_head = w->next;
	else
		w_items[best_prev].next = w->next;
	if (w_slow_tail == best)
		w_slow_tail = best_prev;
	w->next = W_NONE;
	return w;
}

/* Next item for a worker (W_TRIAGE or W_SLOW_RUN); NULL once stopping
 * and nothing is left. The intake first: triage is quick. */
static struct hmd_work *workers_take(void)
{
	struct hmd_work *w = NULL;

	pthread_mutex_lock(&w_lock);
	for (;;) {
		if (w_in_head != W_NONE) {
			w = &w_items[w_in_head];
			w_in_head = w->next;
			if (w_in_head == W_NONE)
				w_in_tail = W_NONE;
			w->state = W_TRIAGE;
			break;
		}
		if (w_slow_running < w_slow_max && (w = workers_slow_pick())) {
			w->state = W_SLOW_RUN;
			w_slow_running++;
			w_uids[w->slot].running++;
			w_uids[w->slot].served = ++w_seq;
			break;
		}
		if (w_stop && w_slow_head == W_NONE)
			break;
		pthread_cond_wait(&w_cond, &w_lock);
	}
	if (w)
		workers_depth(-1);
	pthread_mutex_unlock(&w_lock);
	return w;
}

/* A triaged item joins the slow lane (true), or does not fit (false). */
static bool workers_to_slow(struct hmd_work *w)
{
	unsigned slot, i = (unsigned)(w - w_items);
	bool ok;

	pthread_mutex_lock(&w_lock);
	slot = workers_uid_slot(w->uid);
	ok = !w_stop && w_slow_items < w_slow_cap && w_uids[slot].items < w_uid_cap;
	if (ok) {
		w->slot = slot;
		w_uids[slot].items++;
		w_slow_items++;
		w->state = W_SLOW;
		workers_append(&w_slow_head, &w_slow_tail, i);
		workers_depth(1);
		pthread_cond_broadcast(&w_cond);
	}
	pthread_mutex_unlock(&w_lock);
	return ok;
}

static void workers_release(struct hmd_work *w)
{
	int fd = w->fd;

	pthread_mutex_lock(&w_lock);
	if (w->state == W_SLOW_RUN) {
		w_uids[w->slot].items--;
		w_uids[w->slot].running--;
		w_slow_items--;
		w_slow_running--;
		pthread_cond_broadcast(&w_cond); /* room in the slow lane */
	}
	w->state = W_FREE;
	w->fd = -1;
	w->next = w_free;
	w_free = (unsigned)(w - w_items);
	pthread_mutex_unlock(&w_lock);
	/* Only now, with no one able to answer through it, may the fd go. */
	close(fd);
}

/* One item taken from the intake: triage, then run it here, queue it in
 * the slow lane (not released: a worker takes it again), or be done. */
static bool workers_triage(struct hmd_work *w)
{
	switch (w_ops.triage(w)) {
	case WORKERS_RUN:
		pthread_mutex_lock(&w_lock);
		w->state = W_RUN;
		pthread_mutex_unlock(&w_lock);
		if (!atomic_load(&w->answered))
			w_ops.run(w);
		return true;
	case WORKERS_SLOW:
		if (workers_to_slow(w))
			return false;
		if (workers_claim(w))
			w_ops.shed(w);
		return true;
	case WORKERS_DONE:
	default:
		return true;
	}
}

static void *workers_main(void *arg)
{
	struct hmd_work *w;

	(void)arg;
	pthread_setname_np(pthread_self(), "hmilockd-work");
	while ((w = workers_take())) {
		if (atomic_load(&w->answered)) /* expired while queued */
			workers_release(w);
		else if (w->state == W_SLOW_RUN) {
			w_ops.run(w);
			workers_release(w);
		} else if (workers_triage(w))
			workers_release(w);
	}
	return NULL;
}

int workers_start(void)
{
	int rc;

	for (w_started = 0; w_started < w_n_threads; w_started++) {
		rc = pthread_create(&w_threads[w_started], NULL, workers_main, NULL);
		if (rc)
			return -rc;
	}
	return 0;
}

/*
 * A worker can hang in a read (a dead USB stick, a stuck FUSE server): the
 * kernel would then keep the exec waiting forever. The watchdog timer
 * answers such an event by on_error instead; the worker, when it comes
 * back, loses workers_claim() and only closes the fd. A worker that is
 * hashing sees the answered flag between two buffers and stops (exec.c).
 */
void workers_expire(uint64_t now_ns)
{
	pthread_mutex_lock(&w_lock);
	for (unsigned i = 0; i < w_n_items; i++) {
		struct hmd_work *w = &w_items[i];

		if (w->state == W_FREE || now_ns - w->t0_ns < HMD_DECIDE_TIMEOUT_NS)
			continue;
		if (!workers_claim(w))
			continue;
		/* Under the lock the item cannot be released, so its fd is
		 * still the event's. */
		w_ops.expire(w);
	}
	pthread_mutex_unlock(&w_lock);
}

void workers_fini(void)
{
	pthread_mutex_lock(&w_lock);
	w_stop = true;
	/* The intake is still decided (triage is quick, a listed file's hash
	 * bounded by the list) and running items finish; what waits in the
	 * slow lane is answered by on_error now instead of being hashed. */
	for (unsigned i = 0; w_items && i < w_n_items; i++)
		if (w_items[i].state == W_SLOW && workers_claim(&w_items[i]))
			w_ops.shed(&w_items[i]);
	pthread_cond_broadcast(&w_cond);
	pthread_mutex_unlock(&w_lock);
	for (unsigned i = 0; i < w_started; i++)
		pthread_join(w_threads[i], NULL);
	w_started = 0;
	/* Items never taken (no thread ever started): answer and close. */
	for (unsigned i = 0; w_items && i < w_n_items; i++) {
		if (w_items[i].state != W_FREE) {
			if (workers_claim(&w_items[i]))
				w_ops.expire(&w_items[i]);
			close(w_items[i].fd);
		}
	}
	free(w_items);
	w_items = NULL;
}
