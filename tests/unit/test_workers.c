/* test_workers.c - unit tests for agent/workers.c with 2 threads and 16
 * items (one slow-lane worker, a uid runs on 1 of it, holds 3 of its 12
 * places): a listed (triaged RUN) item runs while the slow lane is busy;
 * the slow lane never runs two at once; the uid served least recently
 * goes first; a uid beyond its places is shed; a stopping pool sheds the
 * slow backlog. The items are fake (pid = test key, fd = an eventfd). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>

#include "workers.h"

/* pid -> what triage says, under which uid; run() of a "hold" item waits
 * until it is let go. */
#define T_MAX 64
static struct {
	enum workers_lane lane;
	uid_t uid;
	bool hold, started, done, shed;
} t_item[T_MAX];
static int t_order[T_MAX], t_n_order; /* pids in the order run() started */
static pthread_mutex_t t_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t t_cond = PTHREAD_COND_INITIALIZER;

static enum workers_lane t_triage(struct hmd_work *w)
{
	w->uid = t_item[w->pid].uid;
	return t_item[w->pid].lane;
}

static void t_run(struct hmd_work *w)
{
	pthread_mutex_lock(&t_lock);
	t_item[w->pid].started = true;
	t_order[t_n_order++] = w->pid;
	pthread_cond_broadcast(&t_cond);
	while (t_item[w->pid].hold)
		pthread_cond_wait(&t_cond, &t_lock);
	t_item[w->pid].done = workers_claim(w);
	pthread_mutex_unlock(&t_lock);
}

static void t_expire(struct hmd_work *w)
{
	(void)w;
}

static void t_shed(struct hmd_work *w)
{
	pthread_mutex_lock(&t_lock);
	t_item[w->pid].shed = true;
	pthread_mutex_unlock(&t_lock);
}

static const struct workers_ops t_ops = {
    .triage = t_triage, .run = t_run, .expire = t_expire, .shed = t_shed};

static void t_add(int pid, enum workers_lane lane, uid_t uid, bool hold)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&t_lock);
	t_item[pid].lane = lane;
	t_item[pid].uid = uid;
	t_item[pid].hold = hold;
	pthread_mutex_unlock(&t_lock);
	assert_int_equal(workers_submit(eventfd(0, EFD_CLOEXEC), pid, &st, 0), 0);
}

static void t_release(int pid)
{
	pthread_mutex_lock(&t_lock);
	t_item[pid].hold = false;
	pthread_cond_broadcast(&t_cond);
	pthread_mutex_unlock(&t_lock);
}

/* Wait (at most 5 s) until item pid has started (or was shed). */
static bool t_wait(int pid, bool shed)
{
	for (int i = 0; i < 500; i++) {
		bool ok;

		pthread_mutex_lock(&t_lock);
		ok = shed ? t_item[pid].shed : t_item[pid].started;
		pthread_mutex_unlock(&t_lock);
		if (ok)
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

static bool t_started(int pid)
{
	bool s;

	pthread_mutex_lock(&t_lock);
	s = t_item[pid].started;
	pthread_mutex_unlock(&t_lock);
	return s;
}

static int setup(void **state)
{
	struct hmd_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(t_item, 0, sizeof(t_item));
	t_n_order = 0;
	cfg.workers = 2;
	cfg.queue_len = 16;
	if (workers_init(&cfg, &t_ops) < 0 || workers_start() < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < T_MAX; i++)
		t_release(i);
	workers_fini();
	return 0;
}

/* A listed item runs on the worker kept for the intake while unlisted
 * work holds the slow lane; a second unlisted item (another uid's) waits. */
static void test_listed_not_behind_slow(void **state)
{
	(void)state;
	t_add(1, WORKERS_SLOW, 1000, true);
	assert_true(t_wait(1, false));
	t_add(2, WORKERS_SLOW, 2000, true);
	t_add(3, WORKERS_RUN, 0, false);
	assert_true(t_wait(3, false));
	poll(NULL, 0, 100);
	assert_false(t_started(2)); /* one slow worker: 1 is still running */
	t_release(1);
	assert_true(t_wait(2, false));
}

/* The uid served least recently goes first: root's item, queued after
 * three of 1000's, runs right after 1000's running one. */
static void test_fair_per_uid(void **state)
{
	int order[T_MAX], n;

	(void)state;
	t_add(1, WORKERS_SLOW, 1000, true);
	assert_true(t_wait(1, false));
	t_add(2, WORKERS_SLOW, 1000, false);
	t_add(3, WORKERS_SLOW, 1000, false);
	t_add(4, WORKERS_SLOW, 0, false);
	poll(NULL, 0, 100);
	t_release(1);
	assert_true(t_wait(2, false) && t_wait(3, false) && t_wait(4, false));
	pthread_mutex_lock(&t_lock);
	memcpy(order, t_order, sizeof(order));
	n = t_n_order;
	pthread_mutex_unlock(&t_lock);
	assert_int_equal(n, 4);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 4);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 3);
}

/* A uid holds at most a quarter of the slow lane's 12 places: its fourth
 * item is shed (answered by on_error at once), another uid's is not. */
static void test_uid_places(void **state)
{
	bool shed;

	(void)state;
	t_add(1, WORKERS_SLOW, 1000, true);
	assert_true(t_wait(1, false));
	t_add(2, WORKERS_SLOW, 1000, false);
	t_add(3, WORKERS_SLOW, 1000, false);
	t_add(4, WORKERS_SLOW, 1000, false);
	assert_true(t_wait(4, true));
	t_add(5, WORKERS_SLOW, 0, false);
	poll(NULL, 0, 100);
	pthread_mutex_lock(&t_lock);
	shed = t_item[2].shed || t_item[3].shed || t_item[5].shed;
	pthread_mutex_unlock(&t_lock);
	assert_false(shed);
	t_release(1);
	assert_true(t_wait(5, false));
}

static void *t_release_later(void *arg)
{
	(void)arg;
	poll(NULL, 0, 200);
	t_release(1);
	return NULL;
}

/* A stopping pool sheds what waits in the slow lane instead of running it;
 * the running item finishes and is answered. */
static void test_fini_sheds(void **state)
{
	struct hmd_config cfg;
	pthread_t th;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(t_item, 0, sizeof(t_item));
	cfg.workers = 2;
	cfg.queue_len = 16;
	assert_int_equal(workers_init(&cfg, &t_ops), 0);
	assert_int_equal(workers_start(), 0);
	t_add(1, WORKERS_SLOW, 1000, true);
	assert_true(t_wait(1, false));
	t_add(2, WORKERS_SLOW, 1000, false);
	t_add(3, WORKERS_SLOW, 0, false);
	poll(NULL, 0, 100);
	/* fini sheds 2 and 3 under the lock, then joins: 1 is let go from
	 * another thread meanwhile. */
	assert_int_equal(pthread_create(&th, NULL, t_release_later, NULL), 0);
	workers_fini();
	pthread_join(th, NULL);
	assert_true(t_item[2].shed && t_item[3].shed);
	assert_false(t_item[2].started || t_item[3].started);
	assert_true(t_item[1].done);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_listed_not_behind_slow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fair_per_uid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uid_places, setup, teardown),
	    cmocka_unit_test(test_fini_sheds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
