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
 *     <op> ' ' <path, percent-encoded> ' uid=' <writer> [' mac=' <MAC>] '\n'
 *
 * MAC (with a list key; none before the first `hmilock init`): 64 hex
 * digits of HMAC-SHA256, with the list key, of the previous line's MAC
 * (the first line: of the header's bytes, the magic line included) and
 * this line up to the mac field. journal_load() replays nothing from the
 * first line that does not authenticate on (edited, or cut by a power
 * loss); journal_parse_line() takes the line without the field.
 *
 * op is 'W' (written, present), 'D' (removed) or 'T' (a directory tree
 * removed or moved away). In the path every byte <= 0x20, >= 0x7f and '%'
 * is written as %HH (two upper-case hex digits), so a line never holds a
 * space, a newline or a NUL of its own. writer is the uid the change is
 * attributed to (decimal), or '?' when it could not be attributed
 * (recorder.c); a line without the field (a journal written before it
 * existed) reads as '?': never approved without the operator.
 *
 * The fd and the path are journal.c's; every function but
 * journal_parse_line() takes the journal's lock, so the recorder may
 * append from whichever thread reads its events while the main thread
 * syncs or closes.
 */
#define JOURNAL_MAGIC "HMILOCK-JOURNAL 1"
/* The uid of a change nobody could be found for. */
#define JOURNAL_UID_NONE UINT32_MAX
#define JOURNAL_UID_FIELD_MAX 16 /* " uid=4294967294" */
#define JOURNAL_MAC_FIELD 69 /* " mac=" and 64 hex digits */
/* The longest line the writer makes: op, space, PATH_MAX - 1 bytes as %HH,
 * the uid field, the mac field, '\n'. */
#define JOURNAL_LINE_MAX (2 + 3 * (PATH_MAX - 1) + JOURNAL_UID_FIELD_MAX + JOURNAL_MAC_FIELD + 1)

/* At start: where the journal lives, and the list key that authenticates
 * it. 0 or -ENAMETOOLONG. */
int journal_init(const char *path, const char *key_path);
const char *journal_path(void);
/* Create (truncate) the journal, write the header and fdatasync it. kind
 * is "maintenance" or "update", prev_mode the mode before the window.
 * 0 or -errno. */
int journal_create(const char *kind, uint32_t timeout_s, uint64_t generation,
                   const char *prev_mode);
/* Append one change (op 'W', 'D' or 'T'; path absolute; the writer's uid
 * or JOURNAL_UID_NONE). Reaches the disk
 * at the next journal_sync(). 0, -EBADF when the journal is not open,
 * -ENAMETOOLONG, or -errno of a failed write (logged, counted). */
int journal_append(char op, const char *path, uint32_t uid);
void journal_sync(void); /* fdatasync if anything was appended since the last */
void journal_close(void); /* sync and close; later appends get -EBADF */
void journal_remove(void); /* unlink (the window is over) */
/* Keep the journal of a window that timed out as <path>.expired; its
 * name in out. 0 or -errno. */
int journal_expire(char *out, size_t len);
typedef void journal_fn(void *arg, char op, const char *path, uint32_t uid);
/* Replay the journal on disk: fn(arg, op, path, uid) for every good change
 * line, in order. Unreadable lines (a line cut by a power loss) are
 * skipped, counted in *bad and logged. 0, -EINVAL when the first line is
 * not JOURNAL_MAGIC, or -errno of opening or reading it. */
int journal_load(journal_fn *fn, void *arg, size_t *bad);

/*
 * Parse one journal line: the len bytes at line, with or without the
 * final '\n'. Pure: reads line[0 .. len-1] and nothing else (line need
 * not be NUL-terminated and may hold NULs), writes only *op and
 * path[0 .. pathlen-1], touches no file, keeps no state; any thread.
 * Returns
 *   0              a change: *op is 'W', 'D' or 'T', path holds the
 *                  decoded absolute path, NUL-terminated, *uid the
 *                  writer (JOURNAL_UID_NONE for "uid=?" or no field);
 *   1              a comment line ('#...'): nothing to record;
 *   -EINVAL        anything else: an empty line, an unknown op, no space
 *                  after it, a path not starting with '/', a raw byte
 *                  <= 0x20 or 0x7f (NUL included), a '%' not followed by
 *                  two hex digits within the line (a line cut after "%"
 *                  or "%4"), or %00, a field after the path other
 *                  than " uid=?" or " uid=N" (N decimal, below
 *                  JOURNAL_UID_NONE);
 *   -ENAMETOOLONG  the decoded path does not fit in pathlen bytes.
 * Raw bytes >= 0x80 are taken as they are (journals written before the
 * encoder escaped them). The JOURNAL_MAGIC line is journal_load()'s to
 * check; here it is -EINVAL. A fuzz target may call this on any bytes.
 */
int journal_parse_line(const char *line, size_t len, char *op, char *path, size_t pathlen,
                       uint32_t *uid);
#endif /* HMD_JOURNAL_H */
