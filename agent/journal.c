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

#include <openssl/crypto.h>

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
	char key_path[PATH_MAX];
	/* While open, with a list key: the key and the MAC of the last line
	 * (hex), which the next line's MAC covers (journal.h). */
	bool keyed;
	uint8_t key[WL_KEY_LEN];
	char chain[65];
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

int journal_init(const char *path, const char *key_path)
{
	if (snprintf(jour.path, sizeof(jour.path), "%s", path) >= (int)sizeof(jour.path) ||
	    snprintf(jour.key_path, sizeof(jour.key_path), "%s", key_path) >=
	        (int)sizeof(jour.key_path))
		return -ENAMETOOLONG;
	return 0;
}

/* The MAC of a line: HMAC-SHA256 of the previous MAC (hex; the header's
 * for the first line) and the line without its '\n' and mac field. */
static int jn_mac(const uint8_t key[WL_KEY_LEN], const char prev[65], const char *body, size_t len,
                  char out[65])
{
	char buf[64 + JOURNAL_LINE_MAX];

	if (len > JOURNAL_LINE_MAX)
		return -EINVAL;
	memcpy(buf, prev, 64);
	memcpy(buf + 64, body, len);
	return wl_mac_hex(key, buf, 64 + len, out);
}

/* The list key, or none yet (a fresh install: the journal is not
 * authenticated then). 0 with *keyed set, or -errno (an unreadable key). */
static int jn_key(uint8_t key[WL_KEY_LEN], bool *keyed)
{
	struct wl_err err = {0};
	int rc = wl_key_load(jour.key_path, key, &err);

	*keyed = rc == 0;
	return rc == -ENOENT ? 0 : rc;
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
	rc = jn_key(jour.key, &jour.keyed);
	if (!rc && jour.keyed)
		rc = wl_mac_hex(jour.key, hdr, (size_t)n, jour.chain);
	if (rc || jn_write(hdr, (size_t)n) < 0 || fdatasync(jour.fd) < 0) {
		close(jour.fd);
		jour.fd = -1;
		rc = rc ? rc : -EIO;
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
	n = wl_pct_encode(path, strlen(path), line + 2,
	                  sizeof(line) - 3 - JOURNAL_UID_FIELD_MAX - JOURNAL_MAC_FIELD);
	if (n >= sizeof(line) - 3 - JOURNAL_UID_FIELD_MAX - JOURNAL_MAC_FIELD) {
		log_msg(LOG_ERR, "maintenance journal: a path too long to record (%.64s...)", path);
		return -ENAMETOOLONG;
	}
	n += 2;
	if (uid == JOURNAL_UID_NONE)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " uid=?");
	else
		n += (size_t)snprintf(line + n, sizeof(line) - n, " uid=%u", uid);
	pthread_mutex_lock(&jour.lock);
	rc = jour.fd < 0 ? -EBADF : 0;
	if (!rc && jour.keyed) {
		rc = jn_mac(jour.key, jour.chain, line, n, jour.chain);
		if (!rc)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " mac=%s", jour.chain);
	}
	if (!rc) {
		line[n++] = '\n';
		rc = jn_write(line, n);
	}
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
	explicit_bzero(jour.key, sizeof(jour.key));
	jour.keyed = false;
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

/* Load state: the key, the chain of MACs, where authentication broke. */
struct jn_auth {
	bool keyed;
	uint8_t key[WL_KEY_LEN];
	char chain[65];
	char hdr[1024]; /* the header's bytes, until the first change line */
	size_t hdr_len;
	bool started;
	size_t broken_at; /* line number; 0: every line so far authenticates */
};

/* A change line (n bytes, '\n' included) of a keyed journal: 0 and *body_len
 * when its mac field is the MAC of the chain and the rest, else -EBADMSG. */
static int jn_auth_line(struct jn_auth *a, const char *line, size_t n, size_t *body_len)
{
	const size_t field = 5 + 64; /* " mac=" and the hex */
	char want[65];

	if (!a->started) {
		a->started = true;
		if (wl_mac_hex(a->key, a->hdr, a->hdr_len, a->chain))
			return -EBADMSG;
	}
	if (n && line[n - 1] == '\n')
		n--;
	if (n <= field || memcmp(line + n - field, " mac=", 5) ||
	    jn_mac(a->key, a->chain, line, n - field, want) ||
	    CRYPTO_memcmp(want, line + n - 64, 64))
		return -EBADMSG;
	memcpy(a->chain, want, sizeof(a->chain));
	*body_len = n - field;
	return 0;
}

/* One line after the first: a header line is kept for the chain, a change
 * line authenticated (keyed), parsed and handed to fn. 0, or -1: bad. */
static int jn_load_line(struct jn_auth *a, const char *line, size_t n, size_t lineno,
                        journal_fn *fn, void *arg)
{
	char path[PATH_MAX], op;
	size_t len = n;
	uint32_t uid;
	int rc;

	if (a->keyed && !a->started && n && line[0] == '#') {
		if (a->hdr_len + n > sizeof(a->hdr))
			return -1;
		memcpy(a->hdr + a->hdr_len, line, n);
		a->hdr_len += n;
		return 0;
	}
	if (a->broken_at)
		return -1;
	if (a->keyed && jn_auth_line(a, line, n, &len) < 0) {
		a->broken_at = lineno;
		return -1;
	}
	rc = journal_parse_line(line, len, &op, path, sizeof(path), &uid);
	if (rc == 0)
		fn(arg, op, path, uid);
	return rc < 0 ? -1 : 0;
}

int journal_load(journal_fn *fn, void *arg, size_t *bad)
{
	const size_t magic = sizeof(JOURNAL_MAGIC) - 1;
	struct jn_auth a = {0};
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;
	FILE *f;

	*bad = 0;
	rc = jn_key(a.key, &a.keyed);
	if (rc < 0)
		return rc;
	f = fopen(jour.path, "re");
	if (!f) {
		rc = -errno;
		goto wipe;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (++lineno == 1) {
			if ((size_t)n < magic || memcmp(line, JOURNAL_MAGIC, magic) ||
			    ((size_t)n > magic &&
			     ((size_t)n != magic + 1 || line[magic] != '\n'))) {
				rc = -EINVAL;
				break;
			}
			memcpy(a.hdr, line, (size_t)n);
			a.hdr_len = (size_t)n;
			continue;
		}
		if (jn_load_line(&a, line, (size_t)n, lineno, fn, arg) < 0)
			(*bad)++; /* a line cut by the power loss, or not ours */
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	free(line);
	fclose(f);
	if (a.broken_at)
		log_msg(LOG_WARNING,
		        "maintenance journal %s: line %zu does not authenticate with the list key "
		        "(cut by a power loss, or edited): it and the lines after it are not "
		        "replayed",
		        jour.path, a.broken_at);
	if (*bad)
		log_msg(LOG_WARNING, "maintenance journal %s: %zu unreadable lines skipped",
		        jour.path, *bad);
wipe:
	explicit_bzero(&a, sizeof(a));
	return rc;
}
