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

/* One entry of a snapshot's inode index (below). */
struct list_link {
	uint64_t dev, ino;
	uint32_t rec;
};

/* Besides the mapped list, each snapshot keeps two small indexes made when
 * it is opened (list_index), both for the exec gate:
 *  - big: the distinct sizes of its entries above [agent]
 *    max_unlisted_size, sorted - a larger file of another size cannot be
 *    listed, so it is refused without being hashed;
 *  - links: its entries grouped by recorded inode, only the inodes with 2
 *    or more entries (the hard-linked programs, a handful) - to tell
 *    whether every link of a multiply linked inode is listed. */
struct hmd_list {
	struct wl_db *db;
	atomic_uint refs;
	uint64_t serial;
	uint64_t *big;
	size_t n_big;
	struct list_link *links;
	size_t n_links;
	uint8_t sha256[WL_SHA256_LEN]; /* of the file verified with the key; 0s for none */
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

static list_checker list_check;

void list_set_checker(list_checker fn)
{
	list_check = fn;
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

static int list_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int list_link_cmp(const void *a, const void *b)
{
	const struct list_link *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* Keep the runs of 2 or more entries of one inode (the array is sorted). */
static size_t list_keep_groups(struct list_link *v, size_t n)
{
	size_t i = 0, j, k = 0;

	while (i < n) {
		for (j = i + 1; j < n && v[j].dev == v[i].dev && v[j].ino == v[i].ino; j++)
			;
		if (j - i >= 2)
			for (; i < j; i++)
				v[k++] = v[i];
		i = j;
	}
	return k;
}

/* Build l->big and l->links (see struct hmd_list) in one pass. */
static int list_index(struct hmd_list *l, struct wl_err *err)
{
	size_t n = wl_db_count(l->db), i, k = 0;
	struct wl_rec r;

	l->links = n ? malloc(n * sizeof(*l->links)) : NULL;
	if (n && !l->links)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory indexing %s",
		                  list_cfg->db);
	for (i = 0; i < n; i++) {
		wl_db_at(l->db, i, &r);
		l->links[i] = (struct list_link){.dev = r.dev, .ino = r.ino, .rec = (uint32_t)i};
		if (r.size > list_cfg->max_unlisted_size)
			k++;
	}
	l->big = k ? malloc(k * sizeof(*l->big)) : NULL;
	if (k && !l->big)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory indexing %s",
		                  list_cfg->db);
	for (i = 0, k = 0; i < n; i++) {
		wl_db_at(l->db, i, &r);
		if (r.size > list_cfg->max_unlisted_size)
			l->big[k++] = r.size;
	}
	if (k > 1)
		qsort(l->big, k, sizeof(*l->big), list_u64_cmp);
	for (i = 0, l->n_big = 0; i < k; i++)
		if (l->n_big == 0 || l->big[l->n_big - 1] != l->big[i])
			l->big[l->n_big++] = l->big[i];
	if (n > 1)
		qsort(l->links, n, sizeof(*l->links), list_link_cmp);
	l->n_links = list_keep_groups(l->links, n);
	return 0;
}

static void list_free(struct hmd_list *l)
{
	wl_db_close(l->db);
	free(l->big);
	free(l->links);
	free(l);
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
	rc = list_index(l, err);
	if (rc < 0)
		goto close_db;
	/* what the CLI compares the file with while it cannot read the key */
	if (wl_db_digest(l->db, l->sha256))
		memset(l->sha256, 0, sizeof(l->sha256));
	atomic_store(&l->refs, 1);
	*out = l;
	return 0;
close_db:
	wl_db_close(l->db);
	free(l->big);
	free(l->links);
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
	list_free(l);
}

bool list_has_size(const struct hmd_list *l, uint64_t size)
{
	return size <= list_cfg->max_unlisted_size ||
	       (l->n_big && bsearch(&size, l->big, l->n_big, sizeof(*l->big), list_u64_cmp));
}

size_t list_links(const struct hmd_list *l, uint64_t dev, uint64_t ino, size_t *first)
{
	struct list_link key = {.dev = dev, .ino = ino, .rec = 0};
	size_t lo = 0, hi = l->n_links, mid, n;

	/* Lower bound of (dev, ino, 0): the first entry of the group. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (list_link_cmp(&l->links[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (n = 0;
	     lo + n < l->n_links && l->links[lo + n].dev == dev && l->links[lo + n].ino == ino; n++)
		;
	*first = lo;
	return n;
}

void list_link_at(const struct hmd_list *l, size_t i, struct wl_rec *out)
{
	wl_db_at(l->db, i < l->n_links ? l->links[i].rec : SIZE_MAX, out);
}

const struct wl_db *list_db(const struct hmd_list *l)
{
	return l->db;
}

uint64_t list_generation(const struct hmd_list *l)
{
	return wl_db_generation(l->db);
}

const uint8_t *list_sha256(const struct hmd_list *l)
{
	return l->sha256;
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
	if (rc == 0 && list_check) {
		rc = list_check(l->db, err);
		if (rc < 0)
			list_free(l);
	}
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
