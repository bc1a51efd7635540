/* follow.c - a live stream of hmilockd's decisions, for `hmilock events
 * --follow` and hmilock-notify: every FOLLOW_POLL_MS it asks the daemon for
 * the events after the last id it has seen, over a fresh connection, so a
 * follower holds no connection slot between polls and never makes the
 * daemon wait (the daemon answers from its ring of recent events, sends
 * with MSG_DONTWAIT and drops a client that does not read). What a
 * follower must be told is reported through its ops: events lost (ids
 * skipped: more events came between two polls than the ring keeps), the
 * daemon gone (it keeps trying), and the daemon back, restarted or not (a
 * new hmilockd numbers its events from 1 again). Owns nothing but the
 * follow state; the connection is ctlc.c's. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hmilock.h"
#include "hmilock_ctl.h"

#define FOLLOW_POLL_MS 250
#define FOLLOW_TIMEOUT_S 5

struct follow_state {
	uint64_t last_id; /* newest event handed on */
	int32_t pid; /* the daemon's, 0 before the first contact */
	uint64_t uptime_s;
	bool down; /* the last poll failed: said once */
	uint64_t backlog; /* recent events shown at the first contact */
	char why[600];
};

/* The reply must be of type want; else f->why says what came instead
 * ("hmilockd refused<what>: <its message>"). */
static int follow_expect(struct follow_state *f, uint16_t want, const char *what)
{
	if (ctlc_rep()->h.type == want)
		return EXIT_OK;
	snprintf(f->why, sizeof(f->why), "hmilockd refused%s: %.512s", what,
	         ctlc_rep()->h.type == HMC_REP_RESULT ? ctlc_rep()->u.result.msg
	                                              : "unexpected reply");
	return EXIT_NEGATIVE;
}

/* The daemon's pid and uptime, to tell a restart. */
static int follow_status(struct follow_state *f, bool *restarted)
{
	const struct hmc_status *s;
	int rc = ctlc_call(HMC_REQ_STATUS);

	if (rc)
		return rc;
	rc = follow_expect(f, HMC_REP_STATUS, "");
	if (rc)
		return rc;
	s = &ctlc_rep()->u.status;
	*restarted = f->pid && (s->pid != f->pid || s->uptime_s < f->uptime_s);
	f->pid = s->pid;
	f->uptime_s = s->uptime_s;
	return EXIT_OK;
}

/* One page: the newest max events after after_id, up to until_id (0: the
 * newest there is). */
static int follow_page(struct follow_state *f, uint64_t after, uint64_t until, uint64_t max)
{
	struct hmc_events_req *q = &ctlc_req()->u.events_req;
	int rc;

	memset(q, 0, sizeof(*q));
	q->after_id = after;
	q->until_id = until;
	q->max = (uint32_t)(max < HMC_EVENTS_MAX ? max : HMC_EVENTS_MAX);
	rc = ctlc_call(HMC_REQ_EVENTS);
	if (rc)
		return rc;
	return follow_expect(f, HMC_REP_EVENTS, " the events request");
}

/* Hand on, oldest first, the newest `want` events after f->last_id (a gap
 * in the ids told first, unless this is the backlog of the first contact,
 * which starts where it starts). want 0: none, only learn the newest id. */
static int follow_events(struct follow_state *f, const struct follow_ops *ops, void *arg,
                         uint64_t want, bool backlog)
{
	const struct hmc_events *r;
	uint64_t until = 0, max = want ? want : 1;
	uint32_t i;
	int rc;

	for (;;) {
		rc = follow_page(f, f->last_id, until, max);
		if (rc)
			return rc;
		r = &ctlc_rep()->u.events;
		for (i = 0; i < r->n; i++) {
			if (!backlog && r->ev[i].id > f->last_id + 1 && ops->lost)
				ops->lost(arg, r->ev[i].id - f->last_id - 1);
			if (want)
				ops->event(arg, &r->ev[i]);
			backlog = false;
			f->last_id = r->ev[i].id;
		}
		until = r->until_id;
		if (r->n == 0 || r->remaining == 0 || r->remaining >= max || !want)
			return EXIT_OK;
		max = r->remaining;
	}
}

/* One poll: status, then the new events; any failure is the daemon gone. */
static int follow_poll(const struct cli *cli, struct follow_state *f, const struct follow_ops *ops,
                       void *arg, bool first)
{
	bool restarted = false;
	int rc;

	f->why[0] = '\0';
	ctlc_quiet(f->why, sizeof(f->why));
	rc = ctlc_connect(cli, FOLLOW_TIMEOUT_S);
	if (!rc)
		rc = follow_status(f, &restarted);
	if (!rc && (f->down || restarted || first) && ops->up)
		ops->up(arg, f->pid, restarted);
	if (!rc && restarted)
		f->last_id = 0; /* the new daemon's events are all new */
	if (!rc)
		f->down = false;
	if (!rc && first)
		rc = follow_events(f, ops, arg, f->backlog, true);
	else if (!rc)
		rc = follow_events(f, ops, arg, HMC_EVENTS_MAX, false);
	ctlc_close();
	ctlc_quiet(NULL, 0);
	if (rc && !f->down) {
		f->down = true;
		if (ops->down)
			ops->down(arg, f->why[0] ? f->why : "hmilockd not reachable");
	}
	return rc;
}

int follow_run(const struct cli *cli, const struct follow_ops *ops, void *arg,
               volatile sig_atomic_t *stop, unsigned backlog)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = FOLLOW_POLL_MS * 1000000L};
	struct follow_state f = {.backlog = backlog};
	bool first = true;

	while (!*stop) {
		if (follow_poll(cli, &f, ops, arg, first) == EXIT_OK)
			first = false;
		if (ops->flush && ops->flush(arg) < 0)
			return EXIT_INTERNAL;
		if (!*stop)
			nanosleep(&ts, NULL);
	}
	return EXIT_OK;
}
