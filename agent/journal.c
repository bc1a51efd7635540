/* journal.c - the maintenance journal (journal.h): owns the journal's fd
 * (jour.fd, open while a window or session records), its path, and the
 * percent codec of its lines. jour.lock guards the fd: the recorder appends
 * from the thread that reads its events (main or an exec-gate worker), the
 * main thread creates, syncs, closes and replays. journal_parse_line()
 * is pure and touches none of it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "stats.h"
#include "written.h"
#include "../kmod/hmilock_abi.h"

static struct {
	pthread_mutex_t lock;
	int fd; /* -1 when closed */
	bool dirty; /* appended since the last fdatasync */
	char path[PATH_MAX];
} jour = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

/* ---- the codec: the library's %HH escapes (wl_pct_encode/decode) ------ */

/* The optional " uid=N" or " uid=?" after the path (len bytes at f, the
 * space included). 0 or -EINVAL. */
static int jn_parse_uid(const char *f, size_t len, uint32_t *uid)
{
	uint64_t v = 0;
	size_t i;

	*uid = JOURNAL_UID_NONE;
	if (len == 0)
		return 0; /* a journal written before writers were recorded */
	if (len < 6 || memcmp(f, " uid=", 5))
		return -EINVAL;
	if (len == 6 && f[5] == '?')
		return 0;
	if (len > 15)
		return -EINVAL;
	for (i = 5; i < len; i++) {
		if (f[i] < '0' || f[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(f[i] - '0');
	}
	if (v >= JOURNAL_UID_NONE)
		return -EINVAL;
	*uid = (uint32_t)v;
	return 0;
}

int journal_parse_line(const char *line, size_t len, char *op, char *path, size_t pathlen,
                       uint32_t *uid)
{
	char buf[JOURNAL_LINE_MAX];
	const char *sp;
	size_t n, plen;

	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[0] == '#')
		return 1;
	if (len < 3 || (line[0] != 'W' && line[0] != 'D' && line[0] != 'T') || line[1] != ' ' ||
	    line[2] != '/')
		return -EINVAL;
	sp = memchr(line + 2, ' ', len - 2);
	plen = sp ? (size_t)(sp - line) - 2 : len - 2;
	if (jn_parse_uid(line + 2 + plen, len - 2 - plen, uid) < 0)
		return -EINVAL;
	if (plen >= sizeof(buf))
		return -ENAMETOOLONG;
	/* The writer escapes every byte <= 0x20 and 0x7f: one raw in a path
	 * means it is not a line the journal wrote. (Raw bytes >= 0x80 are
	 * taken: journals written before they were escaped.) */
	for (size_t i = 2; i < 2 + plen; i++)
		if ((unsigned char)line[i] <= 0x20 || line[i] == 0x7f)
			return -EINVAL;
	if (wl_pct_decode(line + 2, plen, buf, &n, NULL) < 0)
		return -EINVAL;
	if (n >= pathlen)
		return -ENAMETOOLONG;
	memcpy(path, buf, n + 1);
	*op = line[0];
	return 0;
}

/* ---- the file ------------------------------------------------------------ */

int journal_init(const char *path)
{
	if (snprintf(jour.path, sizeof(jour.path), "%s", path) >= (int)sizeof(jour.path))
		return -ENAMETOOLONG;
	return 0;
}

const char *journal_path(void)
{
	return jour.path;
}

/* Under jour.lock. */
static int jn_write(const char *buf, size_t n)
{
	ssize_t w;

	if (jour.fd < 0)
		return -EBADF;
	w = write(jour.fd, buf, n);
	if (w != (ssize_t)n) {
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR, "maintenance journal %s: write failed: %s", jour.path,
		        w < 0 ? strerror(errno) : "short write");
		return w < 0 ? -errno : -EIO;
	}
	jour.dirty = true;
	return 0;
}

/* Under jour.lock. */
static void jn_sync(void)
{
	if (jour.dirty && jour.fd >= 0 && fdatasync(jour.fd) < 0)
		log_msg(LOG_ERR, "maintenance journal %s: fdatasync: %s", jour.path,
		        strerror(errno));
	jour.dirty = false;
}

int journal_create(const char *kind, uint32_t timeout_s, uint64_t generation, const char *prev_mode)
{
	char hdr[512];
	int n, rc = 0;

	pthread_mutex_lock(&jour.lock);
	if (jour.fd >= 0)
		close(jour.fd);
	jour.fd =
	    open(jour.path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (jour.fd < 0) {
		rc = -errno;
		goto unlock;
	}
	n = snprintf(hdr, sizeof(hdr),
	             JOURNAL_MAGIC "\n# kind=%s start=%lld timeout=%u generation=%llu "
	                           "prev_mode=%s\n",
	             kind, (long long)time(NULL), timeout_s, (unsigned long long)generation,
	             prev_mode);
	if (jn_write(hdr, (size_t)n) < 0 || fdatasync(jour.fd) < 0) {
		close(jour.fd);
		jour.fd = -1;
		rc = -EIO;
	}
	jour.dirty = false;
	if (!rc)
		written_note(HMK_PF_JOURNAL);
unlock:
	pthread_mutex_unlock(&jour.lock);
	return rc;
}

int journal_append(char op, const char *path, uint32_t uid)
{
	char line[JOURNAL_LINE_MAX + 1];
	size_t n;
	int rc;

	line[0] = op;
	line[1] = ' ';
	n = wl_pct_encode(path, strlen(path), line + 2, sizeof(line) - 3 - JOURNAL_UID_FIELD_MAX);
	if (n >= sizeof(line) - 3 - JOURNAL_UID_FIELD_MAX) {
		log_msg(LOG_ERR, "maintenance journal: a path too long to record (%.64s...)", path);
		return -ENAMETOOLONG;
	}
	n += 2;
	if (uid == JOURNAL_UID_NONE)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " uid=?\n");
	else
		n += (size_t)snprintf(line + n, sizeof(line) - n, " uid=%u\n", uid);
	pthread_mutex_lock(&jour.lock);
	rc = jn_write(line, n);
	pthread_mutex_unlock(&jour.lock);
	return rc;
}

void journal_sync(void)
{
	pthread_mutex_lock(&jour.lock);
	jn_sync();
	pthread_mutex_unlock(&jour.lock);
}

void journal_close(void)
{
	pthread_mutex_lock(&jour.lock);
	jn_sync();
	if (jour.fd >= 0)
		close(jour.fd);
	jour.fd = -1;
	pthread_mutex_unlock(&jour.lock);
}

void journal_remove(void)
{
	if (unlink(jour.path) < 0 && errno != ENOENT)
		log_msg(LOG_WARNING, "maintenance journal %s: cannot remove it: %s", jour.path,
		        strerror(errno));
	written_note(HMK_PF_JOURNAL); /* gone by our hand: nothing to protect there */
}

int journal_expire(char *out, size_t len)
{
	snprintf(out, len, "%s.expired", jour.path);
	written_note(HMK_PF_JOURNAL);
	return rename(jour.path, out) < 0 ? -errno : 0;
}

int journal_load(journal_fn *fn, void *arg, size_t *bad)
{
	const size_t magic = sizeof(JOURNAL_MAGIC) - 1;
	char path[PATH_MAX], op;
	uint32_t uid;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;
	FILE *f = fopen(jour.path, "re");

	*bad = 0;
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (++lineno == 1) {
			if ((size_t)n < magic || memcmp(line, JOURNAL_MAGIC, magic) ||
			    ((size_t)n > magic &&
			     ((size_t)n != magic + 1 || line[magic] != '\n'))) {
				rc = -EINVAL;
				break;
			}
			continue;
		}
		rc = journal_parse_line(line, (size_t)n, &op, path, sizeof(path), &uid);
		if (rc == 0)
			fn(arg, op, path, uid);
		else if (rc < 0)
			(*bad)++; /* a line cut by the power loss */
		rc = 0;
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	free(line);
	fclose(f);
	if (*bad)
		log_msg(LOG_WARNING, "maintenance journal %s: %zu unreadable lines skipped",
		        jour.path, *bad);
	return rc;
}
