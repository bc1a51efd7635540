/* decide.h - the decision for one exec as a pure function of what was
 * found (no state, no I/O, no locks), shared by hmilockd's exec gate and
 * `hmilock check`, so both answer by the same rule. Owned by decide.c;
 * tests/unit/test_decide.c pins it down with a table. */
#ifndef HMILOCK_DECIDE_H
#define HMILOCK_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "wl.h"

enum hmd_verdict { HMD_V_ALLOW = 0, HMD_V_DENY, HMD_V_WOULD_DENY };
enum hmd_reason {
	HMD_R_LISTED = 0, /* path and hash match (or hash, match = hash) */
	HMD_R_NOT_LISTED,
	HMD_R_HASH_MISMATCH,
	HMD_R_UNRESOLVED, /* deleted / path unknown, match = path+hash */
	HMD_R_NOT_REGULAR,
	HMD_R_ERROR, /* internal error, answered by on_error */
	HMD_R_QUEUE_FULL, /* answered by on_error */
	HMD_R_HELPER, /* reported by the kernel helper */
	HMD_R_TOO_LARGE, /* larger than max_unlisted_size, no entry of that size */
	HMD_R_KNOWN_BAD, /* the prescan named it (not approved, or flagged on the list) */
	HMD_R__MAX
};

/* What the worker (or the reader, for a non-regular file or an error) found. */
struct decide_in {
	enum hmd_mode mode;
	enum hmd_match match;
	enum hmd_on_error on_error;
	bool regular; /* S_ISREG */
	bool error; /* internal error (hash failed, ...) */
	bool queue_full; /* work queue full, never looked at */
	bool resolved; /* path known: not deleted, readlink worked */
	bool path_listed; /* wl_db_find_path() found the path */
	bool path_hash_eq; /* ... and that record's hash equals the file's */
	bool hash_listed; /* wl_db_find_hash() found the hash */
	bool multi_link; /* st_nlink > 1: other paths lead to this inode */
	/* ... and every one of them is a listed path with this hash, and no
	 * one but root can add another (exec.c: exec_links_listed) */
	bool links_listed;
	/* Larger than [agent] max_unlisted_size and no entry of the list has
	 * its size, so it cannot be listed: refused without being hashed. */
	bool too_large;
	/* The listed path, as hmilockd itself reaches it, is another inode:
	 * the subject reached this file through a mount of its own over the
	 * listed path (a bind mount in a namespace of its own). */
	bool path_elsewhere;
	/* An overlayfs file (a container's, or an overlay root's) whose layer
	 * file the kernel helper holds approved: hmilockd approved that inode
	 * by its listed path and hash, and the helper drops an approval at any
	 * write. Its path in the overlay is not the listed one. Also such an
	 * approved inode reached through a mount hmilockd cannot see (its
	 * path leads elsewhere here): the layer file itself, when overlayfs
	 * opens it for an exec (kernels 6.8+ report that open, named inside
	 * overlayfs's private mount of the layer). */
	bool layer_listed;
	/* The subject runs in the open trusted-update session and the session
	 * wrote this file (update.c): what the updater installed may run. */
	bool updater_wrote;
};

struct decide_out {
	enum hmd_verdict verdict;
	enum hmd_reason reason;
	bool cache; /* outcome may be remembered by inode */
	bool ignore; /* place an ignore mark on the inode */
	bool log; /* log_event() after the reply */
	bool approve; /* the kernel helper must approve the inode before the allow */
};

/* The list outcome alone (no mode): LISTED, NOT_LISTED, HASH_MISMATCH,
 * UNRESOLVED, NOT_REGULAR, TOO_LARGE, ERROR or QUEUE_FULL. */
enum hmd_reason decide_reason(const struct decide_in *in);
/* Verdict for an outcome in a mode; used on cache hits too. */
void decide_verdict(enum hmd_mode mode, enum hmd_on_error on_error, enum hmd_reason reason,
                    struct decide_out *out);
void decide(const struct decide_in *in, struct decide_out *out);
/* Fill the list part of in (path_listed, path_hash_eq, hash_listed) for a
 * file hashed to sha and reached at path (in->resolved and in->match set). */
void decide_lookup(const struct wl_db *db, const char *path, const uint8_t sha[WL_SHA256_LEN],
                   struct decide_in *in);

#endif /* HMILOCK_DECIDE_H */
