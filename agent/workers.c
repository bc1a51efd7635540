/* workers.c - a bounded work queue and a pool of threads that run a
 * callback on each item; it knows nothing of fanotify or of decisions
 * (exec.c hands in workers_ops). Owns a fixed pool of hmd_work items
 * (queue_len of them: the most events the daemon holds at once) and the
 * pool lock. A producer submits, workers take and run ops.run(), the main
 * thread hands items stuck too long to ops.expire(); an item's fd is closed
 * only by the pool, after the item has left its in-flight states under
 * the lock. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "decide.h"
#include "stats.h"
#include "workers.h"

enum { W_FREE = 0, W_QUEUED, W_RUNNING };
#define W_NONE UINT32_MAX
#define W_DEFAULT_QUEUE HMD_DEFAULT_QUEUE
#define W_MAX_THREADS HMD_MAX_WORKERS

static struct hmd_work *w_items;
static unsigned w_n_items;
static unsigned w_free, w_head, w_tail; /* free list; FIFO of queued items */
static uint64_t w_depth;
static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static bool w_stop;
static pthread_t w_threads[W_MAX_THREADS];
static unsigned w_n_threads, w_started;
static struct workers_ops w_ops;

int workers_init(const struct hmd_config *cfg, const struct workers_ops *ops)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	w_n_items = cfg->queue_len ? cfg->queue_len : W_DEFAULT_QUEUE;
	w_n_threads = cfg->workers ? cfg->workers : (cores > 0 ? (unsigned)cores : 2);
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
	w_head = w_tail = W_NONE;
	w_depth = 0;
	w_stop = false;
	return 0;
}

unsigned workers_count(void)
{
	return w_n_threads;
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
	atomic_store(&w->answered, false);
	w->state = W_QUEUED;
	w->next = W_NONE;
	if (w_tail == W_NONE)
		w_head = i;
	else
		w_items[w_tail].next = i;
	w_tail = i;
	w_depth++;
	atomic_store_explicit(&hmd_stats.queue_depth, w_depth, memory_order_relaxed);
	stats_max(&hmd_stats.max_queue_depth, w_depth);
	pthread_cond_signal(&w_cond);
	pthread_mutex_unlock(&w_lock);
	return 0;
}

bool workers_claim(struct hmd_work *w)
{
	return !atomic_exchange(&w->answered, true);
}

/* Next queued item, RUNNING; NULL once stopping and the queue is empty. */
static struct hmd_work *workers_take(void)
{
	struct hmd_work *w;

	pthread_mutex_lock(&w_lock);
	while (w_head == W_NONE && !w_stop)
		pthread_cond_wait(&w_cond, &w_lock);
	if (w_head == W_NONE) {
		pthread_mutex_unlock(&w_lock);
		return NULL;
	}
	w = &w_items[w_head];
	w_head = w->next;
	if (w_head == W_NONE)
		w_tail = W_NONE;
	w->state = W_RUNNING;
	w_depth--;
	atomic_store_explicit(&hmd_stats.queue_depth, w_depth, memory_order_relaxed);
	pthread_mutex_unlock(&w_lock);
	return w;
}

static void workers_release(struct hmd_work *w)
{
	int fd = w->fd;

	pthread_mutex_lock(&w_lock);
	w->state = W_FREE;
	w->fd = -1;
	w->next = w_free;
	w_free = (unsigned)(w - w_items);
	pthread_mutex_unlock(&w_lock);
	/* Only now, with no one able to answer through it, may the fd go. */
	close(fd);
}

static void *workers_main(void *arg)
{
	struct hmd_work *w;

	(void)arg;
	pthread_setname_np(pthread_self(), "hmilockd-work");
	while ((w = workers_take())) {
		if (!atomic_load(&w->answered)) /* not expired while queued */
			w_ops.run(w);
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
 * back, loses workers_claim() and only closes the fd.
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
	pthread_cond_broadcast(&w_cond);
	pthread_mutex_unlock(&w_lock);
	/* Workers drain the queue before they see w_stop: every queued
	 * event is still decided and answered. */
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
