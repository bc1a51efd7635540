/* state.c - run-time state that the control socket reads or changes: the
 * mode (an atomic any thread reads on every decision), readiness, start
 * time, the table of mode-change handlers, and the state file that keeps
 * the mode and an open maintenance window across restarts (state_cur, main
 * thread only). The mode is written only by state_init() at start and
 * state_set_mode() (main thread: control socket, window.c), which announces
 * it to the subscribers (the kernel helper) without knowing them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "decide.h"
#include "log.h"
#include "state.h"
#include "stats.h"
#include "written.h"
#include "../kmod/hmilock_abi.h"

static _Atomic int state_mode_now; /* enum hmd_mode */
static atomic_bool state_is_ready;
static uint64_t state_start;
static const struct hmd_config *state_cfg;
static struct state_file state_cur;
static char state_path[PATH_MAX];
static bool state_untrusted; /* the file at start did not authenticate */
static bool state_signed; /* the last write carried a MAC */

#define STATE_MAX_HANDLERS 4
static struct {
	state_mode_handler fn;
	void *arg;
} state_handlers[STATE_MAX_HANDLERS];
static size_t state_n_handlers;

int state_mode(void)
{
	return atomic_load_explicit(&state_mode_now, memory_order_relaxed);
}

int state_add_mode_handler(state_mode_handler fn, void *arg)
{
	if (state_n_handlers == STATE_MAX_HANDLERS)
		return -ENOSPC;
	state_handlers[state_n_handlers].fn = fn;
	state_handlers[state_n_handlers].arg = arg;
	state_n_handlers++;
	return 0;
}

void state_set_ready(void)
{
	atomic_store(&state_is_ready, true);
}

bool state_ready(void)
{
	return atomic_load(&state_is_ready);
}

uint64_t state_uptime_ns(void)
{
	return stats_now_ns() - state_start;
}

/*
 * Switching mode needs no flush, and loses no event:
 *  - the verdict cache stores list outcomes (listed, not listed, hash
 *    mismatch, unresolved), and every answer - cache hit or fresh - applies
 *    the mode read at answer time (decide_verdict), so an unlisted file
 *    cached in audit mode is denied on its next exec after the switch to
 *    enforce;
 *  - ignore marks are placed only after allowing a *listed* file, and listed
 *    files are allowed in every mode, so no ignore mark encodes a verdict
 *    that a mode change could invalidate;
 *  - an event being decided while the mode changes is answered by the mode
 *    its worker read, once; nothing is dropped or answered twice.
 */
void state_set_mode(enum hmd_mode m)
{
	int old;

	if ((unsigned)m >= HMD_MODE__MAX)
		return;
	old = atomic_exchange(&state_mode_now, (int)m);
	if (old == (int)m)
		return;
	log_msg(LOG_NOTICE, "mode changed from %s to %s", config_mode_name(old),
	        config_mode_name(m));
	/* Subscribers keep their own copy (the kernel helper). */
	for (size_t i = 0; i < state_n_handlers; i++)
		state_handlers[i].fn(m, state_handlers[i].arg);
	/* Maintenance is a window (window.c keeps it in the file); the mode
	 * outside windows is what a restart must come back to. */
	if (m != HMD_MODE_MAINTENANCE && state_cur.mode != m && state_path[0]) {
		struct state_file f = state_cur;

		f.mode = m;
		state_file_put(&f);
	}
}

/* ---- the state file -------------------------------------------------------
 *
 * <directory of the list>/state, a few "key=value" lines:
 *   mode=enforce|audit        the mode outside windows
 *   window=none|maintenance|update|pending
 *   start=, deadline=         CLOCK_REALTIME seconds of the open window
 *   generation=               list generation the window began on
 *   last=                     one line: how the last window ended
 *   mac=                      HMAC-SHA256 of every byte before this line
 *                             with the list key (hex); last line
 * It wins over the config's mode at start (a mode set at run time stays
 * set); the config's mode applies only while no state file exists. The
 * file is replaced atomically, so a power cut leaves the old or the new
 * one. One that does not authenticate (edited, no MAC while a list key
 * exists) is not taken: hmilockd starts in enforce, and a pinned kernel
 * helper's mode, the last good state, then wins (helper.c). Only the main
 * thread reads or writes it. */

int state_sibling(const char *name, char *out, size_t len)
{
	return wl_path_sibling(state_cfg ? state_cfg->db : HMD_DEFAULT_DB, name, out, len);
}

#define STATE_MAX_FILE 4096 /* what state_format() writes is under 1 KiB */

static const char *const state_wnames[] = {"none", "maintenance", "update", "pending"};

static int state_parse_line(struct state_file *f, const char *k, const char *v)
{
	enum hmd_mode m;
	char *end;
	size_t i;

	if (!strcmp(k, "mode"))
		return config_mode_parse(v, &m) || m == HMD_MODE_MAINTENANCE ? -EINVAL
		                                                             : (f->mode = m, 0);
	if (!strcmp(k, "window")) {
		for (i = 0; i < sizeof(state_wnames) / sizeof(state_wnames[0]); i++)
			if (!strcmp(v, state_wnames[i]))
				return f->window = (enum state_window)i, 0;
		return -EINVAL;
	}
	if (!strcmp(k, "last"))
		return snprintf(f->last, sizeof(f->last), "%s", v), 0;
	if (!strcmp(k, "mac"))
		return 0; /* checked by state_authenticate() */
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end || end == v)
		return -EINVAL;
	if (!strcmp(k, "start"))
		f->start = n;
	else if (!strcmp(k, "deadline"))
		f->deadline = n;
	else if (!strcmp(k, "generation"))
		f->generation = n;
	else
		return -EINVAL;
	return 0;
}

int state_parse(const char *buf, size_t len, const char *name, struct state_file *f, char *msg,
                size_t msglen)
{
	char line[512], *eq;
	const char *p = buf, *end = buf + len, *nl;
	size_t n;
	int lineno = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		lineno++;
		if (n >= sizeof(line) || memchr(p, '\0', n)) {
			snprintf(msg, msglen, "state file %s:%d: line too long or not text", name,
			         lineno);
			return -EINVAL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		if (!line[0] || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (eq)
			*eq = '\0';
		if (!eq || state_parse_line(f, line, eq + 1) < 0) {
			snprintf(msg, msglen,
			         "state file %s:%d: cannot read '%.80s' (fix or remove the file;"
			         " the config's mode then applies)",
			         name, lineno, line);
			return -EINVAL;
		}
	}
	return 0;
}

/* Is the text authentic? 0 yes (or no list key yet: nothing to check
 * with), -ENOMSG no mac= line, -EBADMSG a MAC that does not verify (or a
 * key that cannot be read). The mac= line must be the last. */
static int state_authenticate(const char *buf, size_t len)
{
	uint8_t key[WL_KEY_LEN];
	struct wl_err err = {0};
	char hex[65] = "";
	const char *m = NULL, *p;
	int rc;

	for (p = buf; p < buf + len;) {
		const char *nl = memchr(p, '\n', (size_t)(buf + len - p));

		if ((size_t)(buf + len - p) > 4 && !memcmp(p, "mac=", 4))
			m = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	rc = wl_key_load(state_cfg->key, key, &err);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return -EBADMSG;
	if (!m) {
		rc = -ENOMSG;
	} else {
		size_t n = strcspn(m + 4, "\n");

		if (n == 64 && m + 4 + n + (m[4 + n] == '\n') == buf + len)
			memcpy(hex, m + 4, 64);
		rc = wl_mac_hex_check(key, buf, (size_t)(m - buf), hex) ? -EBADMSG : 0;
	}
	explicit_bzero(key, sizeof(key));
	return rc;
}

/* 0, -ENOENT (no file) or -errno with msg naming the file (and line);
 * *auth: state_authenticate()'s answer. */
static int state_read(struct state_file *f, int *auth, char *msg, size_t msglen)
{
	char buf[STATE_MAX_FILE];
	ssize_t n;
	int fd = open(state_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0) {
		rc = -errno;
		if (rc != -ENOENT)
			snprintf(msg, msglen, "state file %s: %s", state_path, strerror(-rc));
		return rc;
	}
	n = read(fd, buf, sizeof(buf));
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return snprintf(msg, msglen, "state file %s: %s", state_path, strerror(-rc)), rc;
	if ((size_t)n == sizeof(buf))
		return snprintf(msg, msglen, "state file %s: larger than %d bytes", state_path,
		                STATE_MAX_FILE),
		       -EFBIG;
	rc = state_parse(buf, (size_t)n, state_path, f, msg, msglen);
	if (!rc)
		*auth = state_authenticate(buf, (size_t)n);
	return rc;
}

void state_resign(void)
{
	struct stat st;

	if (state_path[0] && !state_signed && !stat(state_path, &st))
		state_file_put(&state_cur);
}

int state_init(const struct hmd_config *cfg, char *msg, size_t msglen)
{
	struct state_file f = {.mode = cfg->mode == HMD_MODE_MAINTENANCE ? HMD_MODE_ENFORCE
	                                                                 : cfg->mode};
	int rc, auth = 0;

	state_cfg = cfg;
	state_start = stats_now_ns();
	atomic_store(&state_mode_now, (int)f.mode);
	rc = state_sibling("state", state_path, sizeof(state_path));
	if (rc < 0)
		return snprintf(msg, msglen, "state file next to %s: %s", cfg->db, strerror(-rc)),
		       rc;
	rc = state_read(&f, &auth, msg, msglen);
	if (rc == -ENOENT) {
		log_msg(LOG_INFO, "mode %s from the config %s (no state file %s yet)",
		        config_mode_name(cfg->mode), cfg->path, state_path);
		state_cur = f;
		atomic_store(&state_mode_now, (int)cfg->mode);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (auth < 0) {
		log_msg(
		    LOG_WARNING,
		    "state file %s %s: not taken; starting in enforce (a pinned kernel helper's "
		    "mode, the last good state, wins)",
		    state_path,
		    auth == -ENOMSG ? "carries no MAC while a list key exists"
		                    : "does not authenticate with the list key (edited, or "
		                      "written with another key)");
		atomic_fetch_add(&hmd_stats.errors, 1);
		f = (struct state_file){.mode = HMD_MODE_ENFORCE};
		state_untrusted = true;
	}
	if (f.window == STATE_W_MAINT || f.window == STATE_W_UPDATE) {
		log_msg(LOG_WARNING,
		        "hmilockd stopped during a %s (started %llu): back in mode %s with the "
		        "old list; the recorded changes wait for `hmilock maintenance end "
		        "--review`",
		        f.window == STATE_W_MAINT ? "maintenance window" : "trusted update",
		        (unsigned long long)f.start, config_mode_name(f.mode));
		f.window = STATE_W_PENDING;
	}
	state_cur = f;
	atomic_store(&state_mode_now, (int)f.mode);
	if (!state_untrusted)
		log_msg(LOG_NOTICE, "mode %s from the state file %s (it wins over the config's %s)",
		        config_mode_name(f.mode), state_path, config_mode_name(cfg->mode));
	/* not fatal: the mode is in force; a file that cannot be written
	 * (a mount over it) is logged, counted and tried again at each change */
	state_file_put(&f);
	return 0;
}

bool state_authentic(void)
{
	return !state_untrusted;
}

void state_file_get(struct state_file *out)
{
	*out = state_cur;
}

/* The file's text; with a list key (none before the first `hmilock init`)
 * a last line mac= authenticates it. */
static int state_format(const struct state_file *f, char *buf, size_t len)
{
	uint8_t key[WL_KEY_LEN];
	struct wl_err err = {0};
	char hex[65];
	int m, n = snprintf(
	           buf, len,
	           "# hmilockd run-time state; written by hmilockd, read at its start\n"
	           "mode=%s\nwindow=%s\nstart=%llu\ndeadline=%llu\ngeneration=%llu\nlast=%s\n",
	           config_mode_name(f->mode), state_wnames[f->window], (unsigned long long)f->start,
	           (unsigned long long)f->deadline, (unsigned long long)f->generation, f->last);

	if (n < 0 || (size_t)n >= len)
		return -EOVERFLOW;
	m = wl_key_load(state_cfg->key, key, &err);
	state_signed = m == 0;
	if (m == -ENOENT)
		return n;
	if (m == 0)
		m = wl_mac_hex(key, buf, (size_t)n, hex);
	explicit_bzero(key, sizeof(key));
	if (m < 0)
		return m;
	m = snprintf(buf + n, len - (size_t)n, "mac=%s\n", hex);
	return m < 0 || (size_t)m >= len - (size_t)n ? -EOVERFLOW : n + m;
}

int state_file_put(const struct state_file *in)
{
	struct state_file f = *in;
	char buf[1024];
	int rc;

	f.last[strcspn(f.last, "\n")] = '\0';
	rc = state_format(&f, buf, sizeof(buf));
	if (rc >= 0)
		rc = wl_write_atomic(state_path, buf, (size_t)rc, 0600);
	if (!rc) {
		state_cur = f;
		written_note(HMK_PF_STATE);
		return 0;
	}
	atomic_fetch_add(&hmd_stats.errors, 1);
	log_msg(LOG_ERR, "cannot write the state file %s: %s (a restart would not keep it)",
	        state_path, strerror(-rc));
	return rc;
}
