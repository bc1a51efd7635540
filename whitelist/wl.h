/* wl.h - the public API of libwhitelist: hashing, ELF/script classification,
 * tree scan and the approved-list file (an immutable, MAC'd snapshot).
 * Used by the hmilock CLI and by hmilockd. Library code never exits and never
 * prints: every fallible call returns 0 or -errno and, when given a
 * struct wl_err, fills it with a kind and a message that names the input. */
#ifndef HMILOCK_WL_H
#define HMILOCK_WL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define WL_SHA256_LEN 32
#define WL_HEX_LEN (2 * WL_SHA256_LEN + 1)
#define WL_KEY_LEN 32 /* HMAC-SHA256 key, bytes */

/* ---- errors (err.c) ---------------------------------------------------- */

enum wl_ekind {
	WL_E_NONE = 0,
	WL_E_IO, /* a system call failed; code holds -errno */
	WL_E_USAGE, /* bad argument from the caller */
	WL_E_EMPTY, /* list file has zero length */
	WL_E_TRUNCATED, /* list file shorter than its header says */
	WL_E_MAGIC, /* not an hmilock list at all */
	WL_E_VERSION, /* list of a format version this build does not know */
	WL_E_MAC, /* MAC does not verify: tampered, or made with another key */
	WL_E_CORRUPT, /* MAC fine but structure inconsistent (should not happen) */
	WL_E_KEY, /* key file missing, wrong size, wrong owner or mode */
	WL_E_UNSTABLE, /* file changed while hashed, twice in a row */
	WL_E_NOTREG, /* not a regular file */
	WL_E_NOMEM,
	WL_E_STALE, /* the list changed since the change was based on it */
	WL_E_LOCKED, /* another writer holds the list lock */
	WL_E_TOO_BIG, /* larger than the caller's limit (not read beyond it) */
	WL_E_CANCELED, /* the caller's cancel flag was set */
	WL_E__MAX
};

struct wl_err {
	int code; /* -errno, same as the function's return */
	enum wl_ekind kind;
	char msg[512]; /* one line, names the input, says how to recover */
};

/* Fill err (if not NULL) and return code (a negative errno). */
int wl_err_set(struct wl_err *err, int code, enum wl_ekind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *wl_ekind_name(enum wl_ekind kind);

/* ---- hashing (hash.c) -------------------------------------------------- */

/* SHA-256 of the whole file behind fd, streamed with pread() from offset 0
 * (the fd's own offset is left alone). *bytes gets the number of bytes hashed
 * (may be NULL). This is the primary API: hmilockd hashes the very fd the
 * kernel handed it. */
int wl_hash_fd(int fd, uint8_t out[WL_SHA256_LEN], uint64_t *bytes, struct wl_err *err);

/* As wl_hash_fd, but fstat()s before and after; when size, mtime or ctime
 * moved, hashes once more; when it moves again returns -EAGAIN with
 * WL_E_UNSTABLE. *st (may be NULL) gets the fstat taken before the hash that
 * was returned. `name` is only used in error messages (may be NULL). */
int wl_hash_fd_stable(int fd, const char *name, uint8_t out[WL_SHA256_LEN], struct stat *st,
                      struct wl_err *err);

/* Bounds on one hash, for a caller that must not be made to read without
 * end (hmilockd hashing what a user runs). */
struct wl_hash_limits {
	/* 0: none. Otherwise a file whose size is larger, or that yields more
	 * bytes while being read (it grows), is refused with -EFBIG
	 * (WL_E_TOO_BIG) without reading more than max_bytes + one buffer. */
	uint64_t max_bytes;
	/* NULL: none. Read between two buffers (64 KiB); once true the hash
	 * stops with -ECANCELED (WL_E_CANCELED). */
	const atomic_bool *cancel;
	/* NULL: none. Else the bytes are read into keep (keep_cap bytes) at
	 * their offsets and hashed from there, so that the caller has the very
	 * bytes hashed (the prescan scans them): *kept gets how many when the
	 * whole file fit with a byte to spare (a file of size bytes needs
	 * keep_cap > size: the spare byte sees the end), else 0 (the rest was
	 * hashed as usual). */
	uint8_t *keep;
	uint64_t keep_cap;
	uint64_t *kept;
};

/* wl_hash_fd_stable within lim (may be NULL: no limits). */
int wl_hash_fd_stable_limited(int fd, const char *name, uint8_t out[WL_SHA256_LEN], struct stat *st,
                              const struct wl_hash_limits *lim, struct wl_err *err);

void wl_hex(const uint8_t h[WL_SHA256_LEN], char out[WL_HEX_LEN]);
int wl_unhex(const char *s, uint8_t out[WL_SHA256_LEN]); /* 0 or -EINVAL */
/* Any length: out gets 2n lowercase digits and a NUL; unhex takes exactly
 * 2n hex digits of either case (slen = 2n), 0 or -EINVAL (out may be
 * partly written then). */
void wl_hex_n(const uint8_t *b, size_t n, char *out);
int wl_unhex_n(const char *s, size_t slen, uint8_t *out, size_t n);
/* The value of one hex digit of either case, or -1 (also for '\0'). */
int wl_hex_digit(char c);

/* ---- %HH escapes of one-line text formats (pct.c) ----------------------- */

/* Encode the n bytes at s: every byte <= 0x20 or >= 0x7f, and '%' itself,
 * becomes %HH (upper-case hex); the rest is copied. out (outlen bytes, may
 * be NULL with outlen 0 to measure) gets a NUL-terminated prefix that never
 * ends inside an escape. Returns the length of the whole encoding, like
 * snprintf: a result >= outlen means out was cut. */
size_t wl_pct_encode(const char *s, size_t n, char *out, size_t outlen);
/* Decode exactly len bytes at s (no terminator needed, none read) into out
 * (len + 1 bytes; out == s decodes in place) and a NUL; *outlen (may be
 * NULL) gets the decoded length. Strict: '%' must be followed by two hex
 * digits of either case within len, and a NUL byte (raw, or %00) is
 * refused, as the result is a C string. Raw bytes other than NUL pass
 * through. 0, or -EINVAL with *bad (may be NULL) the offset of the bad
 * byte in s. */
int wl_pct_decode(const char *s, size_t len, char *out, size_t *outlen, size_t *bad);

/* ---- classification (classify.c) -------------------------------------- */

enum wl_type {
	WL_T_OTHER = 0, /* executable bit only (or a listed data file) */
	WL_T_EXEC, /* ELF ET_EXEC */
	WL_T_PIE, /* ELF ET_DYN with PT_INTERP */
	WL_T_SHLIB, /* ELF ET_DYN without PT_INTERP */
	WL_T_KMOD, /* ELF ET_REL with a .modinfo section */
	WL_T_ELF, /* other ELF (ET_REL object, core, broken ELF) */
	WL_T_SCRIPT, /* starts with "#!" */
	WL_T__MAX
};

const char *wl_type_name(enum wl_type t); /* "exec","pie","shlib","kmod","elf","script","other" */
int wl_type_parse(const char *s, enum wl_type *out);

struct wl_class {
	enum wl_type type;
	char interp[4096]; /* PT_INTERP of an ELF, or the #! interpreter path; "" if none */
	char interp_arg[256]; /* the one optional #! argument; "" if none */
	char **needed; /* DT_NEEDED names of an ELF (malloc'd), NULL if none */
	size_t n_needed;
};

/* Classify the file behind fd (reads with pread, never moves the offset).
 * Truncated or garbage ELF files are classified (WL_T_ELF), never fatal. */
int wl_classify_fd(int fd, struct wl_class *out, struct wl_err *err);
void wl_class_free(struct wl_class *c); /* frees needed[], keeps the struct */

/* Does a file with this class and mode belong on the list by default:
 * any ELF, any #! script, or any execute bit. */
bool wl_class_qualifies(const struct wl_class *c, mode_t mode);

/* ---- entries and the mutable set (set.c) ------------------------------- */

/* One approved file, as recorded at hashing time. The identity fields are
 * what hmilockd and the helper compare to decide whether a file can have
 * changed since: (dev, ino) name the inode, size/mtime/ctime move with it. */
struct wl_entry {
	char *path; /* absolute, as found (no symlinks resolved below the root) */
	uint8_t sha256[WL_SHA256_LEN];
	uint64_t size;
	enum wl_type type;
	uint32_t mode, uid, gid;
	char *interp; /* PT_INTERP or #! interpreter, NULL if none */
	uint64_t dev, ino; /* userspace st_dev, st_ino */
	int64_t ctime_sec, mtime_sec;
	uint32_t ctime_nsec, mtime_nsec;
};

/* Fill e from an open regular file: fstat, classify, stable hash. e->path is
 * strdup(path). Returns -EINVAL with WL_E_NOTREG for a non-regular file. */
int wl_entry_from_fd(int fd, const char *path, struct wl_entry *e, struct wl_class *cls,
                     struct wl_err *err);
/* The same, its hash within lim (may be NULL: wl_hash_limits). */
int wl_entry_from_fd_lim(int fd, const char *path, struct wl_entry *e, struct wl_class *cls,
                         const struct wl_hash_limits *lim, struct wl_err *err);
void wl_entry_free(struct wl_entry *e); /* frees path and interp */

struct wl_set; /* opaque: entries unique by path */

struct wl_set *wl_set_new(void);
/* The list flags (WL_DB_F_*) a set is written with; a new set has 0,
 * wl_db_to_set copies the list's. */
uint32_t wl_set_flags(const struct wl_set *s);
void wl_set_set_flags(struct wl_set *s, uint32_t flags);
void wl_set_free(struct wl_set *s);
/* Insert or replace (by path). Takes ownership of e->path/e->interp on
 * success and clears them in *e. */
int wl_set_put(struct wl_set *s, struct wl_entry *e);
int wl_set_remove(struct wl_set *s, const char *path); /* 0 or -ENOENT */
size_t wl_set_remove_tree(struct wl_set *s, const char *dir); /* dir itself and below */
size_t wl_set_count(const struct wl_set *s);
/* i-th entry in path order (sorted on demand); valid until the set changes. */
const struct wl_entry *wl_set_at(struct wl_set *s, size_t i);
const struct wl_entry *wl_set_find(struct wl_set *s, const char *path);

/* ---- tree scan (scan.c) ------------------------------------------------ */

enum wl_skip {
	WL_SKIP_NOT_EXEC = 0, /* regular, but not ELF, #! or +x */
	WL_SKIP_SPECIAL, /* FIFO, socket, char/block device */
	WL_SKIP_SYMLINK, /* symlinks are never followed */
	WL_SKIP_PSEUDOFS, /* proc, sysfs, devtmpfs, cgroup, bpf, debugfs, tracefs, securityfs */
	WL_SKIP_OTHER_FS, /* one_fs and a mount point below a root */
	WL_SKIP_UNREADABLE, /* open/read failed (EACCES, EIO...) */
	WL_SKIP_UNSTABLE, /* kept changing while hashed */
	WL_SKIP_TOO_LONG, /* path longer than PATH_MAX */
	WL_SKIP_KNOWN_BAD, /* the prescan named it (wl_scan_opts.prescan) */
	WL_SKIP_PRESCAN_FAILED, /* the prescan could not scan it: not approved */
	WL_SKIP__MAX
};
const char *wl_skip_name(enum wl_skip s); /* "not-executable", "special", ... */

struct wl_scan_progress {
	uint64_t files_total, files_done;
	uint64_t bytes_total, bytes_done;
	double elapsed; /* seconds */
};

struct wl_scan_stats {
	uint64_t files_seen, approved, bytes_hashed;
	/* approved without a look by the prescan's engine (larger than it
	 * scans); the blocklists were checked */
	uint64_t prescan_unscanned;
	uint64_t skipped[WL_SKIP__MAX];
	double seconds;
	/* Up to 16 remembered problems (unreadable, unstable, too long) for the
	 * caller to show; more are only counted. */
	size_t n_problems;
	char problems[16][600];
};

struct wl_scan_opts {
	bool one_fs; /* do not cross mount points below a root */
	bool all_files; /* list every regular file, not only qualifying ones */
	unsigned workers; /* 0 = one per online core */
	/* Called from the calling thread about every 100 ms and once at the end. */
	void (*progress)(const struct wl_scan_progress *p, void *arg);
	void *progress_arg;
	/* NULL: no prescan. Else every qualifying file is checked after it
	 * is hashed, on the same fd and thread; one it names is not put into
	 * the set (WL_SKIP_KNOWN_BAD) and known_bad (may be NULL) is called
	 * with its path and the signature, one call at a time, from a
	 * worker thread. */
	const struct wl_prescan *prescan;
	void (*known_bad)(const char *path, const char *sig, void *arg);
	void *known_bad_arg;
};

/* Walk each root (a file or a directory) without following symlinks, hash
 * qualifying regular files on `workers` threads and put them into out
 * (existing entries with the same path are replaced). Problems with single
 * files are counted in stats, never fatal; only a root that cannot be read
 * at all, or out of memory, fails the call. */
int wl_scan(const char *const *roots, size_t n_roots, const struct wl_scan_opts *opts,
            struct wl_set *out, struct wl_scan_stats *stats, struct wl_err *err);

/* ---- prescan (prescan.c) ----------------------------------------------------- */

/* What a file about to be approved is checked against: ClamAV signature
 * databases (libclamav) and plain SHA-256 blocklists. Loaded once, then
 * read-only and shared by threads. */
struct wl_prescan;

enum {
	WL_PRESCAN_CLEAN = 0, /* nothing named it */
	WL_PRESCAN_BAD = 1, /* named: sig holds the signature (or blocklist entry) */
	WL_PRESCAN_UNSCANNED = 2, /* too large for the engine; blocklists checked */
};

#define WL_PRESCAN_SIG_LEN 160 /* room for a signature name */

/* libclamav's process-wide start (cl_init), once: a sandboxed caller makes
 * it before its filter is in. wl_prescan_load makes it too. */
int wl_prescan_init(struct wl_err *err);
/* Load the databases (files or directories, as libclamav's cl_load takes
 * them) and blocklists (files, or directories of files: one SHA-256 per
 * line in hex, an optional name after blanks, '#' comments). Any one that
 * does not load, or holds nothing, fails the call with a message naming
 * it: a prescan never runs on part of what the operator configured. */
int wl_prescan_load(const char *const *databases, size_t n_databases, const char *const *blocklists,
                    size_t n_blocklists, struct wl_prescan **out, struct wl_err *err);
/* wl_prescan_load of what [prescan] of cfg names (config.h): *out NULL
 * and 0 when it names nothing. Here, not in config.c, which programs
 * linked without libclamav (the static VM test programs) use. */
struct hmd_config;
int wl_prescan_load_config(const struct hmd_config *cfg, struct wl_prescan **out,
                           struct wl_err *err);
void wl_prescan_free(struct wl_prescan *p); /* NULL is fine */
/* What was loaded, one line ("off" for NULL). */
const char *wl_prescan_describe(const struct wl_prescan *p);
/* The calling thread's buffer for a file of size bytes, for the hash to
 * read into (wl_hash_limits.keep) and wl_prescan_mem to scan: NULL when
 * the engine is not loaded or the file is larger than a kept buffer. Valid
 * until the thread's next call. */
uint8_t *wl_prescan_buf(const struct wl_prescan *p, uint64_t size);
/* The blocklists by sha256, then the engine on the len bytes at buf,
 * which must be the bytes sha256 was computed from. As wl_prescan_fd. */
int wl_prescan_mem(const struct wl_prescan *p, const uint8_t *buf, uint64_t len, const char *name,
                   const uint8_t sha256[WL_SHA256_LEN], char *sig, size_t siglen,
                   struct wl_err *err);
/* The blocklists only, by a hash already known: WL_PRESCAN_CLEAN or _BAD. */
int wl_prescan_hash(const struct wl_prescan *p, const uint8_t sha256[WL_SHA256_LEN], char *sig,
                    size_t siglen);
/* The blocklists by sha256 (the file's, computed by the caller), then the
 * engine on the file behind fd (size bytes; read with pread, the offset is
 * left alone): up to 128 MiB from a buffer whose bytes must hash to
 * sha256, larger ones through libclamav's map of fd, which must not change
 * meanwhile. WL_PRESCAN_*, or -errno (err names the file; the file must
 * not be approved): -ESTALE (WL_E_UNSTABLE) when it changed since it was
 * hashed, -EIO when the engine failed. */
int wl_prescan_fd(const struct wl_prescan *p, int fd, const char *name,
                  const uint8_t sha256[WL_SHA256_LEN], uint64_t size, char *sig, size_t siglen,
                  struct wl_err *err);

/* Is path dir itself or below it (io.c)? Both absolute and resolved; by
 * whole components: /a/bc is not below /a/b. Everything is below "/". */
bool wl_path_below(const char *dir, const char *path);

/* mkdir -p of the directory part of path (io.c); levels it creates get
 * mode. 0 or -errno; on failure `failed` (PATH_MAX bytes, may be NULL)
 * gets the directory that could not be made. */
int wl_mkparents(const char *path, mode_t mode, char *failed);

/* name in the directory holding path ("/a/b", "c" -> "/a/c") into out
 * (io.c): 0, -EINVAL when path has no '/', -ENAMETOOLONG. */
int wl_path_sibling(const char *path, const char *name, char *out, size_t len);

/* fsync the directory holding path, so a rename or unlink in it is durable
 * (io.c): 0 or -errno. */
int wl_fsync_dir_of(const char *path);
/* Replace path with buf atomically (io.c): path.tmp (a stale one removed,
 * then O_EXCL, exactly `mode`), write, fsync, rename, fsync of the
 * directory. A crash leaves the old file or the new one. 0 or -errno; the
 * tmp file is gone on failure. */
int wl_write_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* ---- key (key.c) ------------------------------------------------------- */

/* Create a new random key file (O_EXCL, mode 0600); -EEXIST if it exists. */
int wl_key_create(const char *path, struct wl_err *err);
/* Load a key; refuses a file of the wrong size or one that group/other can
 * read or write (WL_E_KEY). */
int wl_key_load(const char *path, uint8_t key[WL_KEY_LEN], struct wl_err *err);
/* HMAC-SHA256 of data with key as 64 lower-case hex digits and a NUL (a
 * small text file's authentication: the state file). 0 or -EIO. */
int wl_mac_hex(const uint8_t key[WL_KEY_LEN], const void *data, size_t len, char out[65]);
/* Does hex (64 digits) equal wl_mac_hex of data? Constant time. 0, -EBADMSG. */
int wl_mac_hex_check(const uint8_t key[WL_KEY_LEN], const void *data, size_t len, const char *hex);

/* ---- the approved-list file (db.c) ------------------------------------- */

#define WL_DB_VERSION 1

/* A view of one record inside the mapped file; pointers valid while the
 * wl_db is open. */
struct wl_rec {
	const char *path;
	const uint8_t *sha256;
	uint64_t size;
	enum wl_type type;
	uint32_t mode, uid, gid;
	const char *interp; /* "" if none */
	uint64_t dev, ino;
	int64_t ctime_sec, mtime_sec;
	uint32_t ctime_nsec, mtime_nsec;
};

struct wl_db; /* opaque, read-only mmap of one list file */

/* Map and verify a list: size, magic, version, MAC (over the whole file, in
 * constant time), then structure. A list that fails is refused with the
 * matching kind (WL_E_EMPTY/TRUNCATED/MAGIC/VERSION/MAC/CORRUPT) and a
 * message that says how to recover; the file is never modified. */
int wl_db_open(const char *path, const uint8_t key[WL_KEY_LEN], struct wl_db **out,
               struct wl_err *err);
/* The same, for a reader that cannot read the key (the kernel helper lets
 * only hmilockd read it while the box is locked): the file is taken when
 * its SHA-256 (the whole file) is sha256, the one hmilockd computed
 * (wl_db_digest) of the list it verified with the key; else WL_E_MAC. */
int wl_db_open_digest(const char *path, const uint8_t sha256[WL_SHA256_LEN], struct wl_db **out,
                      struct wl_err *err);
/* SHA-256 of the whole list file as mapped: 0, -ENODATA for an empty list
 * (wl_db_empty), -EIO. Reads every page. */
int wl_db_digest(const struct wl_db *db, uint8_t out[WL_SHA256_LEN]);
/* An empty list standing for `path` (which does not exist yet): generation
 * 0, no records, every lookup -ENOENT. hmilockd runs on it before the
 * first `hmilock init` (fresh install, audit mode). */
int wl_db_empty(const char *path, struct wl_db **out, struct wl_err *err);
void wl_db_close(struct wl_db *db);
/* Unmap the list's pages from this process (they stay in the page cache and
 * fault in again on the next lookup): keeps a long-running reader's RSS to
 * what it touches between two calls. Safe while other threads look up. */
void wl_db_drop_pages(const struct wl_db *db);

/* Provenance flags of a list (its header): */
#define WL_DB_F_PRESCANNED 0x1u /* every entry was prescanned when approved */
#define WL_DB_F_NO_PRESCAN 0x2u /* a change since init skipped it (--no-prescan) */
#define WL_DB_F_KNOWN (WL_DB_F_PRESCANNED | WL_DB_F_NO_PRESCAN)
/* The flags of the next generation when a change approves new content:
 * prescanned stays only while every change was; no_prescan is sticky. */
uint32_t wl_db_flags_after(uint32_t flags, bool prescanned, bool no_prescan);
/* "every entry prescanned", "not prescanned", ... (one phrase). */
const char *wl_db_flags_provenance(uint32_t flags);

uint64_t wl_db_generation(const struct wl_db *db);
uint32_t wl_db_flags(const struct wl_db *db);
size_t wl_db_count(const struct wl_db *db);
const char *wl_db_path(const struct wl_db *db);
/* The file the list was mapped from (st_dev, st_ino of the open file). */
void wl_db_file_id(const struct wl_db *db, uint64_t *dev, uint64_t *ino);
/* i-th record in path order. */
void wl_db_at(const struct wl_db *db, size_t i, struct wl_rec *out);
/* Exact path lookup, O(log n): 0 or -ENOENT. */
int wl_db_find_path(const struct wl_db *db, const char *path, struct wl_rec *out);
/* Hash lookup, O(log n): 0 (first record with that hash) or -ENOENT. */
int wl_db_find_hash(const struct wl_db *db, const uint8_t sha256[WL_SHA256_LEN],
                    struct wl_rec *out);

/* Copy every record into s (used to edit a list: open, copy, change, write). */
int wl_db_to_set(const struct wl_db *db, struct wl_set *s, struct wl_err *err);
/* Copy the records whose path s does not hold yet: lays the list under an
 * edit made first (`hmilock add` scans, then merges under the lock). */
int wl_db_merge_into(const struct wl_db *db, struct wl_set *s, struct wl_err *err);

/* ---- writing the approved list: one writer at a time (db_write.c) ------- */

/* Every writer of a list (hmilock init/add/remove/import, hmilockd at the
 * end of a maintenance window or trusted update) follows one protocol:
 *
 *   1. wl_db_lock(path, ...): flock(LOCK_EX) on the list's directory;
 *   2. read the generation the change is based on (wl_db_open, or the one
 *      the change was planned against earlier);
 *   3. wl_db_write(lk, set, next_gen, base_gen, key, err);
 *   4. wl_db_unlock(lk).
 *
 * Under the lock wl_db_write checks that the file on disk is still at
 * base_gen; a writer that read it before taking the lock (hmilockd plans
 * against the list it has loaded) fails with -ESTALE instead of silently
 * dropping another writer's change. Holding the lock from step 2 on (the
 * CLI) means the check always passes. Keep the lock short: do long work
 * (scans, hashing) before taking it. */
struct wl_db_lock; /* opaque: owned by the thread that took it */

/* Take the writer lock of the list at path (its directory must exist).
 * timeout_ms 0: try once, -EWOULDBLOCK (WL_E_LOCKED) when another writer
 * holds it; > 0: keep trying for that long, then the same; < 0: wait as
 * long as it takes. Other failures (the directory cannot be opened) are
 * -errno with WL_E_IO naming the directory. */
int wl_db_lock(const char *path, int timeout_ms, struct wl_db_lock **out, struct wl_err *err);
/* Release the lock and free lk (NULL is fine). */
void wl_db_unlock(struct wl_db_lock *lk);
/* Write s as the list lk was taken for, at `generation`: check the base
 * (below), write path.tmp.<pid>, fsync, keep the current file (if any) as
 * path.prev, rename over path, fsync the directory. A crash at any point
 * leaves the old or the new list.
 * expected_gen is the generation the change was made against (0: no list
 * existed). When the file on disk verifies and is at another generation,
 * or is gone while expected_gen is not 0, nothing is written: -ESTALE
 * (WL_E_STALE) and a message naming the file and both generations. A
 * current file that does not verify (tampered, another key) is replaced
 * whatever expected_gen says and kept as path.bad. */
int wl_db_write(struct wl_db_lock *lk, struct wl_set *s, uint64_t generation, uint64_t expected_gen,
                const uint8_t key[WL_KEY_LEN], struct wl_err *err);

/* ---- Ed25519 signatures for exported lists (sign.c) ---------------------- */

#define WL_SIG_LEN 64 /* Ed25519 signature, bytes */
#define WL_SIG_PUBLEN 32 /* Ed25519 public key, bytes */

struct wl_sign_key; /* opaque: an Ed25519 private or public key */

/* Make a new key pair: the private key as PKCS#8 PEM at priv (O_EXCL, mode
 * 0600), the public key as SubjectPublicKeyInfo PEM at pub (O_EXCL, 0644).
 * -EEXIST if either exists; nothing is left behind on failure. */
int wl_sign_keygen(const char *priv, const char *pub, struct wl_err *err);
/* Load a PEM key file. A private key file that group or other may read or
 * write is refused (WL_E_KEY), as is a key that is not Ed25519. */
int wl_sign_key_load(const char *path, bool private_key, struct wl_sign_key **out,
                     struct wl_err *err);
/* A key from its raw 32 bytes (the private seed or the public key). */
int wl_sign_key_raw(const uint8_t raw[32], bool private_key, struct wl_sign_key **out,
                    struct wl_err *err);
void wl_sign_key_free(struct wl_sign_key *k);
/* The raw public key (of a private key too). */
int wl_sign_key_public(const struct wl_sign_key *k, uint8_t pub[WL_SIG_PUBLEN], struct wl_err *err);
/* Sign msg with a private key. */
int wl_sign(const struct wl_sign_key *k, const void *msg, size_t len, uint8_t sig[WL_SIG_LEN],
            struct wl_err *err);
/* 0 when sig is k's signature of msg; -EBADMSG with WL_E_MAC when it is not
 * (tampered, or signed with another key). */
int wl_sign_verify(const struct wl_sign_key *k, const void *msg, size_t len,
                   const uint8_t sig[WL_SIG_LEN], struct wl_err *err);

/* ---- the signed export file (export.c) ------------------------------------ */

/* A list moved between boxes of one image as signed text; the format is
 * described at the top of export.c. Parsing and checking the signature are
 * separate steps so that a parser fed arbitrary bytes (a fuzz target) needs
 * no key. */
#define WL_EXPORT_VERSION 1
#define WL_EXPORT_MAX_ENTRIES 20000000ull

/* One exported record. The identity fields of a list entry are not
 * exported: an import hashes the file on its own box. */
struct wl_export_entry {
	uint8_t sha256[WL_SHA256_LEN];
	enum wl_type type;
	uint64_t size;
	uint32_t mode, uid, gid; /* mode: the permission bits, 07777 at most */
	char *path; /* decoded, absolute, shorter than PATH_MAX */
	char *interp; /* decoded; NULL when the record has none */
};

struct wl_export {
	uint64_t generation; /* of the list that was exported */
	size_t n;
	struct wl_export_entry *v; /* in path order (strcmp), each path once */
	size_t body_len; /* bytes the signature covers: the text before its line */
	uint8_t pub[WL_SIG_PUBLEN]; /* the signer's public key, as the file says */
	uint8_t sig[WL_SIG_LEN];
};

/* The whole export of db, signed with the private key k: *out (malloc'd,
 * NUL-terminated, *len bytes without the NUL). */
int wl_export_build(const struct wl_db *db, const struct wl_sign_key *k, char **out, size_t *len,
                    struct wl_err *err);
/* Parse len bytes of an export held in memory (no terminator needed, none
 * read; the filesystem is never touched) into x: the first line (magic,
 * then version: WL_E_MAGIC, WL_E_VERSION), the signature line at the end
 * (WL_E_TRUNCATED when it is missing or cut), the header lines and every
 * record (WL_E_CORRUPT; the message names the line and what is wrong: field
 * count, hash, type, numbers, a bad %HH escape, a relative path, path
 * order; WL_E_TRUNCATED for fewer records than the header says). The
 * signature itself is not checked: see wl_export_verify. 0, or -errno with
 * x empty (everything freed) on every failure. */
int wl_export_parse(const char *buf, size_t len, struct wl_export *x, struct wl_err *err);
/* Check x's signature over buf (the text x was parsed from) with k, this
 * box's public import key: 0, or -EBADMSG (WL_E_MAC) with "signed with
 * another key (key id HEX)" when the file names another signer, or the
 * "does not verify" message of wl_sign_verify (the text was changed). */
int wl_export_verify(const char *buf, const struct wl_export *x, const struct wl_sign_key *k,
                     struct wl_err *err);
/* Free x's entries (x itself is the caller's); x is left empty. */
void wl_export_free(struct wl_export *x);

/* ---- the admin password (passwd.c) --------------------------------------- */

/* Longest password, bytes (the control protocol carries it NUL-terminated
 * in 128 bytes). */
#define WL_PASSWD_MAX 127

/* Store a salted scrypt hash of pw at path as one line
 * "scrypt$N$r$p$SALT_HEX$HASH_HEX" (written to path.tmp, mode 0600, synced,
 * renamed over path). -EINVAL for an empty or too long password. */
int wl_passwd_set(const char *path, const char *pw, struct wl_err *err);
/* 0 when pw matches (constant-time compare), -EACCES when it does not,
 * -ENOENT when no password is set (path absent). A file that is not a
 * regular file, that group or other may write, or that does not parse is
 * an error (-EPERM / -EINVAL, WL_E_KEY or WL_E_CORRUPT), never a match. */
int wl_passwd_verify(const char *path, const char *pw, struct wl_err *err);
/* The same, only if the file path opens is inode ino on st_dev dev:
 * -ESTALE (WL_E_KEY) when another file is there (a mount over it). */
int wl_passwd_verify_id(const char *path, uint64_t dev, uint64_t ino, const char *pw,
                        struct wl_err *err);
/* Is a password set: 0 yes, -ENOENT no, other -errno: cannot tell. */
int wl_passwd_exists(const char *path, struct wl_err *err);
/* Remove the password file: 0, or -ENOENT when none was set. */
int wl_passwd_remove(const char *path, struct wl_err *err);
/* A password given in a file (--password-file, HMILOCK_PASSWORD_FILE): its
 * first line ('\r' before the '\n' dropped) into buf. The file must be a
 * regular file only its owner may read or write (WL_E_KEY, -EPERM); an
 * empty one is -ENODATA, a line longer than len - 1 bytes -EMSGSIZE
 * (WL_E_USAGE); err names the file. */
int wl_passwd_read_file(const char *file, char *buf, size_t len, struct wl_err *err);

#endif /* HMILOCK_WL_H */
