/* cache.h - verdict cache by file identity (owned by cache.c). */
#ifndef HMD_CACHE_H
#define HMD_CACHE_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

/* Everything that must match for a hit: the inode, what moves when its
 * content can have moved, the list snapshot, and (only for files with more
 * than one link under match = path+hash) a hash of the path. */
struct cache_key {
	uint64_t dev, ino, size;
	int64_t ctime_sec, mtime_sec;
	uint32_t ctime_nsec, mtime_nsec;
	uint64_t serial;
	uint64_t path_hash; /* 0 unless the path matters for this inode */
};

/* One 64-byte slot per entry (a cache line): no hash kept, so a hit's log
 * record carries none; the first decision's record has it. */
struct cache_val {
	uint8_t reason; /* enum hmd_reason: an outcome, never a verdict */
};

/* entries is rounded up to a power of two (minimum 64); stripes (power of
 * two, 1 = one mutex) is the number of locks. */
int cache_init(size_t entries, unsigned stripes);
void cache_fini(void);
void cache_key_from_stat(struct cache_key *k, const struct stat *st, uint64_t serial,
                         uint64_t path_hash);
uint64_t cache_path_hash(const char *path); /* never 0 */
bool cache_lookup(const struct cache_key *k, struct cache_val *out);
void cache_insert(const struct cache_key *k, const struct cache_val *v);
size_t cache_drop_inode(uint64_t dev, uint64_t ino); /* entries dropped */
void cache_flush(void);
size_t cache_count(void); /* valid entries now */
size_t cache_capacity(void);
#endif /* HMD_CACHE_H */
