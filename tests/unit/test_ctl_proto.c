/* test_ctl_proto.c - the control protocol validator (include/hmilock_ctl.h)
 * without a daemon: a table of messages, each made from a valid one by one
 * change (bad magic, version, type, short, long, wrong length field, bad
 * body), and the result hmc_parse() must give in each direction. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hmilock_ctl.h"

static unsigned char tp_buf[HMC_MAX_MSG + 64]; /* the message under test */
static struct hmc_msg tp_out;

/* A valid message of type t in direction dir; returns its length. */
static size_t tp_valid(uint16_t t, enum hmc_dir dir)
{
	struct hmc_msg *m = (struct hmc_msg *)tp_buf;

	memset(tp_buf, 0, sizeof(tp_buf));
	hmc_hdr_init(&m->h, t, dir, 7);
	if (t == HMC_REQ_SET_MODE && dir == HMC_REQUEST)
		m->u.set_mode.mode = HMC_MODE_AUDIT;
	if (t == HMC_REQ_EVENTS && dir == HMC_REQUEST)
		m->u.events_req.max = 20;
	if (t == HMC_REP_EVENTS && dir == HMC_REPLY)
		m->u.events.n = 1;
	return m->h.length;
}

/* One case: start from a valid (type, dir) message, apply change, expect rc
 * and a reason containing why (NULL: success). */
struct tp_case {
	const char *name;
	uint16_t type;
	enum hmc_dir dir;
	size_t (*change)(struct hmc_msg *m, size_t len);
	int rc;
	const char *why;
};

static size_t tp_none(struct hmc_msg *m, size_t len)
{
	(void)m;
	return len;
}
static size_t tp_empty(struct hmc_msg *m, size_t len)
{
	(void)m, (void)len;
	return 0;
}
static size_t tp_one_byte(struct hmc_msg *m, size_t len)
{
	(void)m, (void)len;
	return 1;
}
static size_t tp_hdr_minus_one(struct hmc_msg *m, size_t len)
{
	(void)m, (void)len;
	return sizeof(struct hmc_hdr) - 1;
}
static size_t tp_magic(struct hmc_msg *m, size_t len)
{
	m->h.magic = 0x48544150; /* "PATH" */
	return len;
}
static size_t tp_magic_swapped(struct hmc_msg *m, size_t len)
{
	m->h.magic = __builtin_bswap32(HMC_MAGIC);
	return len;
}
static size_t tp_version0(struct hmc_msg *m, size_t len)
{
	m->h.version = 0;
	return len;
}
static size_t tp_version2(struct hmc_msg *m, size_t len)
{
	m->h.version = HMC_VERSION + 1;
	return len;
}
static size_t tp_type0(struct hmc_msg *m, size_t len)
{
	m->h.type = 0;
	return len;
}
static size_t tp_type_ffff(struct hmc_msg *m, size_t len)
{
	m->h.type = 0xffff;
	return len;
}
static size_t tp_type_reply_as_request(struct hmc_msg *m, size_t len)
{
	m->h.type = HMC_REP_RESULT;
	return len;
}
static size_t tp_type_request_as_reply(struct hmc_msg *m, size_t len)
{
	m->h.type = HMC_REQ_SET_MODE;
	return len;
}
static size_t tp_length_plus(struct hmc_msg *m, size_t len)
{
	m->h.length = (uint32_t)len + 1;
	return len;
}
static size_t tp_length_minus(struct hmc_msg *m, size_t len)
{
	m->h.length = (uint32_t)len - 1;
	return len;
}
static size_t tp_length_zero(struct hmc_msg *m, size_t len)
{
	m->h.length = 0;
	return len;
}
static size_t tp_length_huge(struct hmc_msg *m, size_t len)
{
	m->h.length = 0xffffffffu;
	return len;
}
static size_t tp_truncated(struct hmc_msg *m, size_t len)
{
	m->h.length = (uint32_t)len - 4; /* consistent length, body cut short */
	return len - 4;
}
static size_t tp_extra(struct hmc_msg *m, size_t len)
{
	m->h.length = (uint32_t)len + 8; /* consistent length, body too long */
	return len + 8;
}
static size_t tp_too_long(struct hmc_msg *m, size_t len)
{
	(void)len;
	m->h.length = HMC_MAX_MSG + 1;
	return HMC_MAX_MSG + 1;
}
static size_t tp_mode3(struct hmc_msg *m, size_t len)
{
	m->u.set_mode.mode = HMC_MODE__MAX;
	return len;
}
static size_t tp_mode_huge(struct hmc_msg *m, size_t len)
{
	m->u.set_mode.mode = 0x80000000u;
	return len;
}
static size_t tp_mode_reserved(struct hmc_msg *m, size_t len)
{
	m->u.set_mode.reserved = 1;
	return len;
}
static size_t tp_events_zero(struct hmc_msg *m, size_t len)
{
	m->u.events_req.max = 0;
	return len;
}
static size_t tp_events_many(struct hmc_msg *m, size_t len)
{
	m->u.events_req.max = HMC_EVENTS_MAX + 1;
	return len;
}
static size_t tp_events_max(struct hmc_msg *m, size_t len)
{
	m->u.events_req.max = HMC_EVENTS_MAX;
	return len;
}
static size_t tp_events_reserved(struct hmc_msg *m, size_t len)
{
	m->u.events_req.reserved = 9;
	return len;
}
static size_t tp_result_positive(struct hmc_msg *m, size_t len)
{
	m->u.result.error = EPERM;
	return len;
}
static size_t tp_result_errno_max(struct hmc_msg *m, size_t len)
{
	m->u.result.error = -HMC_MAX_ERRNO;
	return len;
}
/* Found by fuzz_ctl: any negative value passed, and a client negates it. */
static size_t tp_result_int_min(struct hmc_msg *m, size_t len)
{
	m->u.result.error = INT32_MIN;
	return len;
}
static size_t tp_result_not_errno(struct hmc_msg *m, size_t len)
{
	m->u.result.error = -HMC_MAX_ERRNO - 1;
	return len;
}
static size_t tp_result_unterminated(struct hmc_msg *m, size_t len)
{
	memset(m->u.result.msg, 'x', sizeof(m->u.result.msg));
	return len;
}
static size_t tp_status_unterminated(struct hmc_msg *m, size_t len)
{
	memset(m->u.status.sandbox, 'x', sizeof(m->u.status.sandbox));
	return len;
}
static size_t tp_unrecorded_unterminated(struct hmc_msg *m, size_t len)
{
	m->u.maint_status.n_unrecorded = 2;
	memset(m->u.maint_status.unrecorded[1].fstype, 'x',
	       sizeof(m->u.maint_status.unrecorded[1].fstype));
	return len;
}
static size_t tp_unrecorded_unused(struct hmc_msg *m, size_t len)
{
	m->u.maint_status.n_unrecorded = 1; /* only [0] is read */
	memset(m->u.maint_status.unrecorded[1].why, 'x',
	       sizeof(m->u.maint_status.unrecorded[1].why));
	return len;
}
static size_t tp_unrecorded_many(struct hmc_msg *m, size_t len)
{
	m->u.maint_status.n_unrecorded = 1000; /* more than sent: a count */
	return len;
}
static size_t tp_status_mode(struct hmc_msg *m, size_t len)
{
	m->u.status.mode = 77;
	return len;
}
static size_t tp_events_n_full(struct hmc_msg *m, size_t len)
{
	m->u.events.n = HMC_EVENTS_PER_MSG;
	return len;
}
static size_t tp_events_n_over(struct hmc_msg *m, size_t len)
{
	m->u.events.n = HMC_EVENTS_PER_MSG + 1;
	return len;
}
static size_t tp_event_verdict(struct hmc_msg *m, size_t len)
{
	m->u.events.ev[0].verdict = HMC_V__MAX;
	return len;
}
static size_t tp_event_reason(struct hmc_msg *m, size_t len)
{
	m->u.events.ev[0].reason = HMC_R__MAX;
	return len;
}
static size_t tp_event_path(struct hmc_msg *m, size_t len)
{
	memset(m->u.events.ev[0].path, '/', sizeof(m->u.events.ev[0].path));
	return len;
}
static size_t tp_event_unused_garbage(struct hmc_msg *m, size_t len)
{
	/* entries past n are not looked at */
	memset(&m->u.events.ev[1], 0xff, sizeof(m->u.events.ev[1]));
	return len;
}

#define Q HMC_REQUEST
#define P HMC_REPLY
#define BAD -EBADMSG
static const struct tp_case tp_cases[] = {
    {"status request", HMC_REQ_STATUS, Q, tp_none, 0, NULL},
    {"reload request", HMC_REQ_RELOAD, Q, tp_none, 0, NULL},
    {"set_mode request", HMC_REQ_SET_MODE, Q, tp_none, 0, NULL},
    {"events request", HMC_REQ_EVENTS, Q, tp_none, 0, NULL},
    {"events request max", HMC_REQ_EVENTS, Q, tp_events_max, 0, NULL},
    {"result reply", HMC_REP_RESULT, P, tp_none, 0, NULL},
    {"status reply", HMC_REP_STATUS, P, tp_none, 0, NULL},
    {"events reply", HMC_REP_EVENTS, P, tp_none, 0, NULL},
    {"events reply full", HMC_REP_EVENTS, P, tp_events_n_full, 0, NULL},
    {"events reply unused", HMC_REP_EVENTS, P, tp_event_unused_garbage, 0, NULL},
    {"empty", HMC_REQ_STATUS, Q, tp_empty, BAD, "shorter than its header"},
    {"one byte", HMC_REQ_STATUS, Q, tp_one_byte, BAD, "shorter than its header"},
    {"header-1", HMC_REQ_STATUS, Q, tp_hdr_minus_one, BAD, "shorter than its header"},
    {"magic", HMC_REQ_STATUS, Q, tp_magic, BAD, "bad magic"},
    {"magic byte-swapped", HMC_REQ_SET_MODE, Q, tp_magic_swapped, BAD, "bad magic"},
    {"version 0", HMC_REQ_STATUS, Q, tp_version0, -EPROTONOSUPPORT, "version"},
    {"version+1", HMC_REQ_STATUS, Q, tp_version2, -EPROTONOSUPPORT, "version"},
    {"version+1 reply", HMC_REP_RESULT, P, tp_version2, -EPROTONOSUPPORT, "version"},
    {"type 0", HMC_REQ_STATUS, Q, tp_type0, BAD, "unknown message type"},
    {"type ffff", HMC_REQ_STATUS, Q, tp_type_ffff, BAD, "unknown message type"},
    {"reply type as request", HMC_REQ_STATUS, Q, tp_type_reply_as_request, BAD,
     "unknown message type"},
    {"request type as reply", HMC_REP_RESULT, P, tp_type_request_as_reply, BAD,
     "unknown message type"},
    {"length+1", HMC_REQ_STATUS, Q, tp_length_plus, BAD, "length field"},
    {"length-1", HMC_REQ_EVENTS, Q, tp_length_minus, BAD, "length field"},
    {"length 0", HMC_REQ_SET_MODE, Q, tp_length_zero, BAD, "length field"},
    {"length huge", HMC_REQ_STATUS, Q, tp_length_huge, BAD, "length field"},
    {"set_mode truncated", HMC_REQ_SET_MODE, Q, tp_truncated, BAD, "does not match its type"},
    {"events truncated", HMC_REQ_EVENTS, Q, tp_truncated, BAD, "does not match its type"},
    {"status with body", HMC_REQ_STATUS, Q, tp_extra, BAD, "does not match its type"},
    {"set_mode too long", HMC_REQ_SET_MODE, Q, tp_extra, BAD, "does not match its type"},
    {"result truncated", HMC_REP_RESULT, P, tp_truncated, BAD, "does not match its type"},
    {"status reply truncated", HMC_REP_STATUS, P, tp_truncated, BAD, "does not match its type"},
    {"over max", HMC_REQ_STATUS, Q, tp_too_long, BAD, "longer than"},
    {"mode out of range", HMC_REQ_SET_MODE, Q, tp_mode3, BAD, "unknown mode"},
    {"mode huge", HMC_REQ_SET_MODE, Q, tp_mode_huge, BAD, "unknown mode"},
    {"set_mode reserved", HMC_REQ_SET_MODE, Q, tp_mode_reserved, BAD, "reserved"},
    {"events max 0", HMC_REQ_EVENTS, Q, tp_events_zero, BAD, "out of range"},
    {"events max+1", HMC_REQ_EVENTS, Q, tp_events_many, BAD, "out of range"},
    {"events reserved", HMC_REQ_EVENTS, Q, tp_events_reserved, BAD, "reserved"},
    {"result positive error", HMC_REP_RESULT, P, tp_result_positive, BAD, "malformed result"},
    {"result error -4095", HMC_REP_RESULT, P, tp_result_errno_max, 0, NULL},
    {"result error INT32_MIN", HMC_REP_RESULT, P, tp_result_int_min, BAD, "malformed result"},
    {"result error -4096", HMC_REP_RESULT, P, tp_result_not_errno, BAD, "malformed result"},
    {"result unterminated", HMC_REP_RESULT, P, tp_result_unterminated, BAD, "malformed result"},
    {"status unterminated", HMC_REP_STATUS, P, tp_status_unterminated, BAD, "malformed status"},
    {"status bad mode", HMC_REP_STATUS, P, tp_status_mode, BAD, "malformed status"},
    {"maint status", HMC_REP_MAINT_STATUS, P, tp_none, 0, NULL},
    {"unrecorded unterminated", HMC_REP_MAINT_STATUS, P, tp_unrecorded_unterminated, BAD,
     "malformed unrecorded mount"},
    {"unrecorded beyond n", HMC_REP_MAINT_STATUS, P, tp_unrecorded_unused, 0, NULL},
    {"unrecorded total", HMC_REP_MAINT_STATUS, P, tp_unrecorded_many, 0, NULL},
    {"events n over", HMC_REP_EVENTS, P, tp_events_n_over, BAD, "too many events"},
    {"event verdict", HMC_REP_EVENTS, P, tp_event_verdict, BAD, "malformed event"},
    {"event reason", HMC_REP_EVENTS, P, tp_event_reason, BAD, "malformed event"},
    {"event path", HMC_REP_EVENTS, P, tp_event_path, BAD, "malformed event"},
};

static void test_table(void **state)
{
	const struct tp_case *c;
	const char *why;
	size_t i, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(tp_cases) / sizeof(tp_cases[0]); i++) {
		c = &tp_cases[i];
		len = c->change((struct hmc_msg *)tp_buf, tp_valid(c->type, c->dir));
		rc = hmc_parse(tp_buf, len, c->dir, &tp_out, &why);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d (why: %s)", c->name, rc, c->rc,
			         why ? why : "-");
		if (c->why && (!why || !strstr(why, c->why)))
			fail_msg("%s: why '%s', want '%s'", c->name, why ? why : "(null)", c->why);
		if (!c->why && why)
			fail_msg("%s: unexpected why '%s'", c->name, why);
		if (rc == 0 && memcmp(&tp_out, tp_buf, len) != 0)
			fail_msg("%s: parsed copy differs", c->name);
	}
}

/* Every truncation of every valid message is refused. */
static void test_every_truncation(void **state)
{
	static const struct {
		uint16_t t;
		enum hmc_dir d;
	} types[] = {
	    {HMC_REQ_STATUS, Q}, {HMC_REQ_SET_MODE, Q}, {HMC_REQ_RELOAD, Q},
	    {HMC_REQ_EVENTS, Q}, {HMC_REP_RESULT, P},   {HMC_REP_STATUS, P},
	};
	const char *why;
	size_t i, len, cut;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		len = tp_valid(types[i].t, types[i].d);
		for (cut = 0; cut < len; cut++)
			if (hmc_parse(tp_buf, cut, types[i].d, &tp_out, &why) != -EBADMSG)
				fail_msg("type %#x cut to %zu accepted", types[i].t, cut);
	}
}

/* Requests are never accepted as replies and vice versa. */
static void test_direction(void **state)
{
	static const uint16_t req[] = {HMC_REQ_STATUS, HMC_REQ_SET_MODE, HMC_REQ_RELOAD,
	                               HMC_REQ_EVENTS};
	static const uint16_t rep[] = {HMC_REP_RESULT, HMC_REP_STATUS, HMC_REP_EVENTS};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		assert_true(hmc_body_size(req[i], HMC_REQUEST) >= 0);
		assert_int_equal(hmc_body_size(req[i], HMC_REPLY), -1);
	}
	for (i = 0; i < sizeof(rep) / sizeof(rep[0]); i++) {
		assert_true(hmc_body_size(rep[i], HMC_REPLY) > 0);
		assert_int_equal(hmc_body_size(rep[i], HMC_REQUEST), -1);
	}
}

static void test_names(void **state)
{
	uint32_t i;

	(void)state;
	for (i = 0; i < HMC_MODE__MAX; i++)
		assert_string_not_equal(hmc_mode_name(i), "unknown");
	for (i = 0; i < HMC_V__MAX; i++)
		assert_string_not_equal(hmc_verdict_name(i), "unknown");
	for (i = 0; i < HMC_R__MAX; i++)
		assert_string_not_equal(hmc_reason_name(i), "unknown");
	assert_string_equal(hmc_mode_name(HMC_MODE__MAX), "unknown");
	assert_string_equal(hmc_verdict_name(HMC_V__MAX), "unknown");
	assert_string_equal(hmc_reason_name(HMC_R__MAX), "unknown");
	assert_string_equal(hmc_reason_name(HMC_R_NOT_LISTED), "not-listed");
	assert_string_equal(hmc_verdict_name(HMC_V_WOULD_DENY), "would-deny");
	for (i = 0; i < HMC_OP__MAX; i++) {
		assert_string_not_equal(hmc_op_name(i), "unknown");
		for (uint32_t j = 0; j < i; j++)
			assert_string_not_equal(hmc_op_name(i), hmc_op_name(j));
	}
	assert_string_equal(hmc_op_name(HMC_OP__MAX), "unknown");
	assert_string_equal(hmc_op_name(HMC_OP_PROCMEM), "proc-mem");
	assert_string_equal(hmc_op_name(HMC_OP_LINK), "link");
	assert_string_equal(hmc_op_name(HMC_OP_MOUNT), "mount");
	assert_string_equal(hmc_op_name(HMC_OP_READ), "read");
}

/* denied / would-deny in status: both layers, each op once, the two
 * verdicts kept apart. */
static void test_status_refused(void **state)
{
	static struct hmc_status s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(hmc_status_refused(&s, true), 0);
	s.c.denied = 3;
	s.c.would_deny = 100;
	s.h.denied[HMC_OP_MMAP] = 5;
	s.h.denied[HMC_OP_PROCMEM] = 7;
	s.h.would_deny[HMC_OP_EXEC] = 11;
	s.h.events_lost = 1000; /* not a refusal */
	assert_int_equal(hmc_status_refused(&s, true), 15);
	assert_int_equal(hmc_status_refused(&s, false), 111);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),          cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_direction),      cmocka_unit_test(test_names),
	    cmocka_unit_test(test_status_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
