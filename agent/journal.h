/* journal.h - the maintenance journal file next to the list (owned by journal.c). */
#ifndef HMD_JOURNAL_H
#define HMD_JOURNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/*
 * "<directory of the list>/maintenance.journal": what a window or update
 * session recorded, so a power cut or a crash loses nothing acknowledged.
 * A text file: the line JOURNAL_MAGIC, then lines starting with '#'
 * (the header: kind, start, timeout, list generation, mode before), then
 * one line per change:
 *
 *     <op> ' ' <path, percent-encoded> '\n'
 *
 * op is 'W' (written, present), 'D' (removed) or 'T' (a directory tree
 * removed or moved away). In the path every byte <= 0x20, 0x7f and '%' is
 * written as %HH, so a line never holds a space, a newline or a NUL of its
 * own.
 *
 * The fd and the path are journal.c's; every function takes the journal's
 * lock, so the recorder may append from whichever thread reads its events
 * while the main thread syncs or closes.
 */
#define JOURNAL_MAGIC "HMILOCK-JOURNAL 1"

/* At start: where the journal lives. 0 or -ENAMETOOLONG. */
int journal_init(const char *path);
const char *journal_path(void);
/* Create (truncate) the journal, write the header and fdatasync it. kind
 * is "maintenance" or "update", prev_mode the mode before the window.
 * 0 or -errno. */
int journal_create(const char *kind, uint32_t timeout_s, uint64_t generation,
                   const char *prev_mode);
/* Append one change (op 'W', 'D' or 'T'; path absolute). Reaches the disk
 * at the next journal_sync(). 0, -EBADF when the journal is not open,
 * or -errno of a failed write (logged, counted). */
int journal_append(char op, const char *path);
void journal_sync(void); /* fdatasync if anything was appended since the last */
void journal_close(void); /* sync and close; later appends get -EBADF */
void journal_remove(void); /* unlink (the window is over) */
/* Keep the journal of a window that timed out as <path>.expired; its
 * name in out. 0 or -errno. */
int journal_expire(char *out, size_t len);
/* Replay the journal on disk: fn(arg, op, path) for every good change
 * line, in order. Unreadable lines (a line cut by a power loss) are
 * skipped, counted in *bad and logged. 0, -EINVAL when the first line is
 * not JOURNAL_MAGIC, or -errno of opening or reading it. */
int journal_load(void (*fn)(void *arg, char op, const char *path), void *arg, size_t *bad);

#endif /* HMD_JOURNAL_H */
