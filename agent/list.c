/* list.c - the approved list in force: a refcounted snapshot around one
 * mapped struct wl_db. Owns the current pointer (list_lock), the swap lock
 * that orders reloads against ignore marks, the reload mutex and the table
 * of change handlers. Any thread may list_get()/list_put(); list_reload()
 * runs on the main thread (SIGHUP, control socket). It calls no consumer
 * by name: the cache, the fanotify marks and the kernel helper subscribe
 * (list_add_handler), as chrony's modules do to parameter changes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "list.h"
#include "log.h"
#include "stats.h"

struct hmd_list {
	struct wl_db *db;
	atomic_uint refs;
	uint64_t serial;
};

static const struct hmd_config *list_cfg;
static struct hmd_list *list_cur;
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER; /* list_cur */
static pthread_mutex_t list_reload_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t list_swap_lock = PTHREAD_RWLOCK_INITIALIZER;
static atomic_uint_least64_t list_serial_now;

#define LIST_MAX_HANDLERS 8
static struct {
	list_handler fn;
	void *arg;
} list_handlers[LIST_MAX_HANDLERS];
static size_t list_n_handlers;

int list_add_handler(list_handler fn, void *arg)
{
	if (list_n_handlers == LIST_MAX_HANDLERS)
		return -ENOSPC;
	list_handlers[list_n_handlers].fn = fn;
	list_handlers[list_n_handlers].arg = arg;
	list_n_handlers++;
	return 0;
}

static void list_announce(enum list_event ev)
{
	size_t i;

	for (i = 0; i < list_n_handlers; i++)
		list_handlers[i].fn(ev, list_handlers[i].arg);
}

/* Writers first: a reload must not wait behind a stream of workers. */
static void list_swap_init(void)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&list_swap_lock, &a);
	pthread_rwlockattr_destroy(&a);
}

/* Load the key and map + verify the list; the key never outlives this. */
static int list_open(struct hmd_list **out, struct wl_err *err)
{
	uint8_t key[WL_KEY_LEN];
	struct hmd_list *l;
	int rc;

	l = calloc(1, sizeof(*l));
	if (!l)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory loading %s",
		                  list_cfg->db);
	rc = wl_key_load(list_cfg->key, key, err);
	if (rc < 0)
		goto free_list;
	rc = wl_db_open(list_cfg->db, key, &l->db, err);
	explicit_bzero(key, sizeof(key));
	if (rc < 0)
		goto free_list;
	atomic_store(&l->refs, 1);
	*out = l;
	return 0;
free_list:
	free(l);
	return rc;
}

/* A fresh install has no list yet (no `hmilock init`): in audit (or
 * maintenance) mode the daemon runs on an empty list and logs every exec as
 * would-deny, so the operator sees what init must cover. In enforce mode a
 * missing list is refused: an empty list would deny everything. Any other
 * failure (bad MAC, truncated...) is always refused. */
static bool list_may_start_empty(const struct hmd_config *cfg)
{
	struct stat st;

	return cfg->mode != HMD_MODE_ENFORCE && lstat(cfg->db, &st) < 0 && errno == ENOENT;
}

static int list_open_empty(struct hmd_list **out, struct wl_err *err)
{
	struct hmd_list *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory");
	rc = wl_db_empty(list_cfg->db, &l->db, err);
	if (rc < 0) {
		free(l);
		return rc;
	}
	atomic_store(&l->refs, 1);
	log_msg(LOG_WARNING,
	        "no approved list at %s yet: running on an empty list in %s mode "
	        "(every exec is logged as would-deny); run `hmilock init`, then `hmilock reload`",
	        list_cfg->db, config_mode_name(list_cfg->mode));
	*out = l;
	return 0;
}

int list_init(const struct hmd_config *cfg, struct wl_err *err)
{
	struct hmd_list *l;
	int rc;

	list_cfg = cfg;
	list_swap_init();
	rc = list_open(&l, err);
	if (rc < 0 && list_may_start_empty(cfg))
		rc = list_open_empty(&l, err);
	if (rc < 0)
		return rc;
	l->serial = 1;
	atomic_store(&list_serial_now, 1);
	list_cur = l;
	return 0;
}

struct hmd_list *list_get(void)
{
	struct hmd_list *l;

	pthread_mutex_lock(&list_lock);
	l = list_cur;
	atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&list_lock);
	return l;
}

void list_put(struct hmd_list *l)
{
	if (!l || atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
		return;
	wl_db_close(l->db);
	free(l);
}

const struct wl_db *list_db(const struct hmd_list *l)
{
	return l->db;
}

uint64_t list_generation(const struct hmd_list *l)
{
	return wl_db_generation(l->db);
}

uint64_t list_serial(const struct hmd_list *l)
{
	return l->serial;
}

uint64_t list_current_serial(void)
{
	return atomic_load_explicit(&list_serial_now, memory_order_acquire);
}

bool list_hold_current(uint64_t serial)
{
	pthread_rwlock_rdlock(&list_swap_lock);
	if (atomic_load(&list_serial_now) == serial)
		return true;
	pthread_rwlock_unlock(&list_swap_lock);
	return false;
}

void list_unhold(void)
{
	pthread_rwlock_unlock(&list_swap_lock);
}

/*
 * Reload. The new list is opened and verified first; a broken one is
 * refused and the old one stays. Then, under the write side of the swap
 * lock: swap the pointer, bump the serial (older cache keys stop hitting),
 * and announce LIST_SWAPPED: the exec gate drops its verdict cache and every
 * ignore mark there (exec.c). A worker of the old list can no longer place
 * an ignore mark after that, because it must hold the read side with its
 * serial current (list_hold_current). Then LIST_LOADED, outside the lock:
 * the kernel helper approves the new list's inodes (helper.c). The old
 * snapshot is unmapped when its last reference goes.
 */
int list_reload(struct wl_err *err)
{
	struct hmd_list *l, *old;
	uint64_t gen_old, gen_new;
	int rc;

	pthread_mutex_lock(&list_reload_lock);
	rc = list_open(&l, err);
	if (rc < 0) {
		log_msg(LOG_ERR, "reload refused, the list in force stays: %s", err->msg);
		goto unlock_reload;
	}
	pthread_rwlock_wrlock(&list_swap_lock);
	pthread_mutex_lock(&list_lock);
	old = list_cur;
	l->serial = old->serial + 1;
	list_cur = l;
	atomic_store_explicit(&list_serial_now, l->serial, memory_order_release);
	pthread_mutex_unlock(&list_lock);
	list_announce(LIST_SWAPPED);
	pthread_rwlock_unlock(&list_swap_lock);
	list_announce(LIST_LOADED);
	gen_old = wl_db_generation(old->db);
	gen_new = wl_db_generation(l->db);
	log_msg(LOG_NOTICE, "list reloaded: %s generation %llu -> %llu, %zu entries", list_cfg->db,
	        (unsigned long long)gen_old, (unsigned long long)gen_new, wl_db_count(l->db));
	list_put(old);
	rc = 0;
unlock_reload:
	pthread_mutex_unlock(&list_reload_lock);
	return rc;
}

void list_fini(void)
{
	pthread_mutex_lock(&list_lock);
	list_put(list_cur);
	list_cur = NULL;
	pthread_mutex_unlock(&list_lock);
}

/* Main thread, once a second: lookups fault list pages in (with the
 * kernel's fault-around, 64 KiB at a time), so a busy day would leave the
 * whole mapped list in our RSS. Hand them back; they stay in the page
 * cache, and the next lookup that needs one maps it again (a minor fault). */
void list_trim(void)
{
	struct hmd_list *l = list_get();

	wl_db_drop_pages(l->db);
	list_put(l);
}
