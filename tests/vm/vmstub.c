/* vmstub.c - test-side implementations of the daemon services that
 * agent/helper.c needs, for the static guest programs (never linked into
 * hmilockd): events and messages are kept in memory for the tests to check;
 * the list is a real libwhitelist list file. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "stats.h"
#include "vmstub.h"

#define VMSTUB_EVENTS 512
#define VMSTUB_MSGS 256

bool vmstub_verbose = true;

static pthread_mutex_t vs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hmd_event vs_events[VMSTUB_EVENTS];
static size_t vs_n_events;
static char vs_msgs[VMSTUB_MSGS][256];
static size_t vs_n_msgs;
static struct wl_db *vs_db;
static char vs_db_path[PATH_MAX];

void log_event(const struct hmd_event *ev)
{
	pthread_mutex_lock(&vs_lock);
	if (vs_n_events < VMSTUB_EVENTS)
		vs_events[vs_n_events++] = *ev;
	pthread_mutex_unlock(&vs_lock);
}

void log_msg(int prio, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (vmstub_verbose)
		fprintf(stderr, "log<%d>: %s\n", prio, buf);
	pthread_mutex_lock(&vs_lock);
	if (vs_n_msgs < VMSTUB_MSGS)
		memcpy(vs_msgs[vs_n_msgs++], buf, sizeof(buf));
	pthread_mutex_unlock(&vs_lock);
}

/* The daemon's mode as state.c would give it (state file, else config). */
enum hmd_mode vmstub_state_mode = HMD_MODE_ENFORCE;

int state_mode(void)
{
	return (int)vmstub_state_mode;
}

bool state_authentic(void)
{
	return true;
}

void state_set_mode(enum hmd_mode m)
{
	vmstub_state_mode = m;
}

/* The list is never reloaded and the mode is set by the tests directly:
 * nobody to announce to. */
int list_add_handler(list_handler fn, void *arg)
{
	(void)fn;
	(void)arg;
	return 0;
}

int state_add_mode_handler(state_mode_handler fn, void *arg)
{
	(void)fn;
	(void)arg;
	return 0;
}

struct hmd_stats hmd_stats; /* stats.c's: helper.c counts its errors */

/* The reload check helper.c sets; the tests call it on lists they open. */
list_checker vmstub_list_checker;

void list_set_checker(list_checker fn)
{
	vmstub_list_checker = fn;
}

/* One list, never swapped: a reference is the list itself. */
struct hmd_list *list_get(void)
{
	return (struct hmd_list *)vs_db;
}

void list_put(struct hmd_list *l)
{
	(void)l;
}

const struct wl_db *list_db(const struct hmd_list *l)
{
	return (const struct wl_db *)l;
}

int vmstub_list_open(const char *db, const char *key)
{
	uint8_t k[WL_KEY_LEN];
	struct wl_err err;
	int r;

	snprintf(vs_db_path, sizeof(vs_db_path), "%s", db);
	r = wl_key_load(key, k, &err);
	if (!r)
		r = wl_db_open(db, k, &vs_db, &err);
	if (r)
		fprintf(stderr, "vmstub: %s\n", err.msg);
	return r;
}

void vmstub_list_close(void)
{
	wl_db_close(vs_db);
	vs_db = NULL;
}

bool vmstub_event(size_t n, struct hmd_event *out)
{
	bool ok;

	pthread_mutex_lock(&vs_lock);
	ok = n < vs_n_events;
	if (ok)
		*out = vs_events[n];
	pthread_mutex_unlock(&vs_lock);
	return ok;
}

size_t vmstub_event_count(void)
{
	size_t n;

	pthread_mutex_lock(&vs_lock);
	n = vs_n_events;
	pthread_mutex_unlock(&vs_lock);
	return n;
}

static bool vs_match(const struct hmd_event *e, const char *op, enum hmd_verdict v,
                     const char *suffix)
{
	size_t pl = strlen(e->path), sl = suffix ? strlen(suffix) : 0;

	return !strcmp(e->op, op) && e->verdict == v && e->reason == HMD_R_HELPER &&
	       (!suffix || (pl >= sl && !strcmp(e->path + pl - sl, suffix)));
}

bool vmstub_wait_event(const char *op, enum hmd_verdict v, const char *suffix, int ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct hmd_event e;
	size_t i;

	for (; ms >= 0; ms -= 10) {
		for (i = 0; vmstub_event(i, &e); i++)
			if (vs_match(&e, op, v, suffix))
				return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

bool vmstub_msg_seen(const char *s)
{
	bool seen = false;
	size_t i;

	pthread_mutex_lock(&vs_lock);
	for (i = 0; i < vs_n_msgs && !seen; i++)
		seen = strstr(vs_msgs[i], s) != NULL;
	pthread_mutex_unlock(&vs_lock);
	return seen;
}

/* state.c's: name next to the list (the test's directory). */
int state_sibling(const char *name, char *out, size_t len)
{
	return wl_path_sibling(vs_db_path, name, out, len);
}

/* journal.c's: no journal in the guest programs. */
const char *journal_path(void)
{
	return "";
}
