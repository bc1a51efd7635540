/* db_format.h - the on-disk layout of an approved-list file (internal to
 * whitelist/db.c and db_write.c, and read by the db unit test and fuzz
 * target to craft files). docs/list-format.md describes the same layout
 * byte by byte. */
#ifndef HMILOCK_DB_FORMAT_H
#define HMILOCK_DB_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "wl.h"

/* All integers are little-endian; all offsets are from the start of the file.
 *
 *   header      struct db_header, 128 bytes
 *   records     count x struct db_rec (112 bytes each), sorted by path (strcmp)
 *   hash index  count x le32 record number, sorted by (sha256, record number)
 *   padding     zero bytes up to a multiple of 8
 *   strings     string table: NUL-terminated byte strings; offset 0 is ""
 *   mac         32 bytes HMAC-SHA256(key, every byte before it)
 *
 * magic and version sit at the same offsets in every format version, so an
 * older hmilock can tell "made by a newer hmilock" before checking the MAC. */

#define DB_MAGIC "HMILOCK\0"
#define DB_MAGIC_LEN 8
#define DB_ALG_SHA256 1 /* algorithm of the file hashes */
#define DB_MAC_HMAC_SHA256 1 /* algorithm of the trailer */
#define DB_MAC_LEN 32

struct db_header {
	/*   0 */ char magic[DB_MAGIC_LEN]; /* "HMILOCK\0" */
	/*   8 */ uint32_t version; /* WL_DB_VERSION */
	/*  12 */ uint32_t header_size; /* sizeof(struct db_header) */
	/*  16 */ uint64_t generation; /* bumped by every change of the list */
	/*  24 */ uint64_t count; /* number of records */
	/*  32 */ uint32_t hash_alg; /* DB_ALG_SHA256 */
	/*  36 */ uint32_t mac_alg; /* DB_MAC_HMAC_SHA256 */
	/*  40 */ uint32_t record_size; /* sizeof(struct db_rec) */
	/*  44 */ uint32_t flags; /* 0; reserved */
	/*  48 */ uint64_t records_off;
	/*  56 */ uint64_t records_size; /* count * record_size */
	/*  64 */ uint64_t hashidx_off;
	/*  72 */ uint64_t hashidx_size; /* count * 4 */
	/*  80 */ uint64_t strtab_off;
	/*  88 */ uint64_t strtab_size;
	/*  96 */ uint64_t total_size; /* whole file, MAC included */
	/* 104 */ uint8_t reserved[24]; /* zero */
};

struct db_rec {
	/*   0 */ uint8_t sha256[WL_SHA256_LEN];
	/*  32 */ uint64_t size; /* file size at hashing time */
	/*  40 */ uint64_t dev; /* userspace st_dev */
	/*  48 */ uint64_t ino;
	/*  56 */ int64_t ctime_sec;
	/*  64 */ int64_t mtime_sec;
	/*  72 */ uint32_t ctime_nsec;
	/*  76 */ uint32_t mtime_nsec;
	/*  80 */ uint32_t mode; /* st_mode */
	/*  84 */ uint32_t uid;
	/*  88 */ uint32_t gid;
	/*  92 */ uint32_t type; /* enum wl_type */
	/*  96 */ uint32_t path_off; /* into the string table */
	/* 100 */ uint32_t path_len; /* bytes, without the NUL */
	/* 104 */ uint32_t interp_off; /* 0 ("") if none */
	/* 108 */ uint32_t interp_len;
};

_Static_assert(sizeof(struct db_header) == 128, "db_header layout");
_Static_assert(offsetof(struct db_header, version) == 8, "version offset is fixed forever");
_Static_assert(offsetof(struct db_header, generation) == 16 &&
                   offsetof(struct db_header, hash_alg) == 32 &&
                   offsetof(struct db_header, records_off) == 48 &&
                   offsetof(struct db_header, total_size) == 96 &&
                   offsetof(struct db_header, reserved) == 104,
               "db_header layout");
_Static_assert(sizeof(struct db_rec) == 112, "db_rec layout");
_Static_assert(offsetof(struct db_rec, size) == 32 && offsetof(struct db_rec, ctime_nsec) == 72 &&
                   offsetof(struct db_rec, mode) == 80 && offsetof(struct db_rec, path_off) == 96 &&
                   offsetof(struct db_rec, interp_len) == 108,
               "db_rec layout");
_Static_assert(sizeof(struct db_rec) % 8 == 0, "records keep 8-byte alignment");

#define DB_MIN_SIZE (sizeof(struct db_header) + DB_MAC_LEN)

/* db.c, shared with db_write.c: the trailer's HMAC-SHA256 of data (0 or
 * -EIO), and the order of the hash index (by sha256, ties by record
 * number). */
int db_hmac(const uint8_t key[WL_KEY_LEN], const void *data, size_t len, uint8_t out[DB_MAC_LEN]);
int db_idx_cmp(const struct db_rec *recs, uint32_t a, uint32_t b);

#endif /* HMILOCK_DB_FORMAT_H */
