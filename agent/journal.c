/* journal.c - the maintenance journal (journal.h): owns the journal's fd
 * (jour.fd, open while a window or session records), its path, and the
 * percent codec of its lines. jour.lock guards the fd: the recorder appends
 * from the thread that reads its events (main or an exec-gate worker), the
 * main thread creates, syncs, closes and replays. */
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

static struct {
	pthread_mutex_t lock;
	int fd; /* -1 when closed */
	bool dirty; /* appended since the last fdatasync */
	char path[PATH_MAX];
} jour = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

/* ---- the codec ----------------------------------------------------------- */

/* Bytes that would break a line (and '%' itself) become %XX. */
static void jn_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 4 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c <= 0x20 || c == 0x7f || c == '%')
			o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

static int jn_unescape(char *s)
{
	char *o = s;
	unsigned v;

	for (; *s; s++) {
		if (*s == '%') {
			if (sscanf(s + 1, "%2x", &v) != 1 || !v)
				return -EINVAL;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
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
unlock:
	pthread_mutex_unlock(&jour.lock);
	return rc;
}

int journal_append(char op, const char *path)
{
	char line[3 * PATH_MAX + 8];
	size_t n;
	int rc;

	line[0] = op;
	line[1] = ' ';
	jn_escape(path, line + 2, sizeof(line) - 3);
	n = strlen(line);
	line[n++] = '\n';
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
}

int journal_expire(char *out, size_t len)
{
	snprintf(out, len, "%s.expired", jour.path);
	return rename(jour.path, out) < 0 ? -errno : 0;
}

int journal_load(void (*fn)(void *arg, char op, const char *path), void *arg, size_t *bad)
{
	char line[3 * PATH_MAX + 8];
	size_t lineno = 0;
	FILE *f = fopen(jour.path, "re");

	*bad = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (lineno == 1 && strcmp(line, JOURNAL_MAGIC)) {
			fclose(f);
			return -EINVAL;
		}
		if (lineno == 1 || line[0] == '#')
			continue;
		if ((line[0] != 'W' && line[0] != 'D' && line[0] != 'T') || line[1] != ' ' ||
		    line[2] != '/' || jn_unescape(line + 2) < 0) {
			(*bad)++; /* a line cut by the power loss */
			continue;
		}
		fn(arg, line[0], line + 2);
	}
	fclose(f);
	if (*bad)
		log_msg(LOG_WARNING, "maintenance journal %s: %zu unreadable lines skipped",
		        jour.path, *bad);
	return 0;
}
