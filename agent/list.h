/* list.h - the approved list in force (refcounted snapshot) (owned by list.c). */
#ifndef HMD_LIST_H
#define HMD_LIST_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

struct hmd_list; /* wraps a struct wl_db, refcounted */
/* Take a reference to the current list (never NULL after list_init). */
struct hmd_list *list_get(void);
void list_put(struct hmd_list *l);
const struct wl_db *list_db(const struct hmd_list *l);
uint64_t list_generation(const struct hmd_list *l);
/* SHA-256 of the list file as verified with the key (all zero for the empty
 * list of a fresh install): status gives it to the CLI, which may not read
 * the key while the box is locked (wl_db_open_digest). */
const uint8_t *list_sha256(const struct hmd_list *l);
int list_init(const struct hmd_config *cfg, struct wl_err *err);
/* A reload is announced twice: LIST_SWAPPED on the reloading thread under
 * the write side of the swap lock, right after the new snapshot took over
 * (the handler must not block: drop caches, flush marks); LIST_LOADED after
 * the lock is released (the handler may take long: approve in the kernel).
 * Handlers are added at start-up, before any thread runs. 0 or -ENOSPC. */
enum list_event { LIST_SWAPPED, LIST_LOADED };
typedef void (*list_handler)(enum list_event ev, void *arg);
int list_add_handler(list_handler fn, void *arg);
/* One check a reloaded list must pass before it takes over (the kernel
 * helper's: while it enforces, only the file it protects): 0, or -errno
 * with err saying why. Set at start-up, before any thread runs. */
typedef int (*list_checker)(const struct wl_db *db, struct wl_err *err);
void list_set_checker(list_checker fn);
/* Open the list file again; on success swap atomically and announce it
 * (list_add_handler). On failure the old list stays in force and
 * err says why. Safe from any thread. */
int list_reload(struct wl_err *err);
void list_fini(void);
void list_trim(void); /* main thread, periodic: drop mapped list pages */
/* Local reload counter (1, 2, ...) of a snapshot: part of every cache key,
 * so entries of an older list never hit. */
uint64_t list_serial(const struct hmd_list *l);
uint64_t list_current_serial(void);
/* Workers place ignore marks only for the list in force: take the read side
 * of the swap lock when serial is still current (true: call list_unhold()).
 * list_reload() swaps and flushes ignore marks under the write side. */
bool list_hold_current(uint64_t serial);
void list_unhold(void);
/* Can a file of this size be on l? Always true up to [agent]
 * max_unlisted_size; above it, only when an entry has exactly this size. */
bool list_has_size(const struct hmd_list *l, uint64_t size);
/* The entries of l recorded with inode (dev, ino), when there are 2 or
 * more (0 otherwise): their number, *first for list_link_at(l, first + k). */
size_t list_links(const struct hmd_list *l, uint64_t dev, uint64_t ino, size_t *first);
void list_link_at(const struct hmd_list *l, size_t i, struct wl_rec *out);
#endif /* HMD_LIST_H */
