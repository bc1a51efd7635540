/* test_state.c - the state file (agent/state.c: which mode wins at start,
 * what an interrupted window becomes, refusal of a broken file) and the
 * maintenance/update parts of the control protocol (hmc_duration_parse,
 * hmc_check_maint in include/hmilock_ctl.h), from tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "hmilock_ctl.h"
#include "state.h"
#include "update.h"

/* ---- durations ------------------------------------------------------------ */

static void test_duration_table(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint32_t secs;
	} t[] = {
	    {"90", 0, 90},       {"90s", 0, 90},
	    {"30m", 0, 1800},    {"2h", 0, 7200},
	    {"1d", 0, 86400},    {"7d", 0, 604800},
	    {"1s", 0, 1},        {"0", -EINVAL, 0},
	    {"8d", -EINVAL, 0},  {"", -EINVAL, 0},
	    {"m", -EINVAL, 0},   {"5x", -EINVAL, 0},
	    {"-5m", -EINVAL, 0}, {"1h30m", -EINVAL, 0},
	    {" 5m", -EINVAL, 0}, {"99999999999999", -EINVAL, 0},
	};
	uint32_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 0;
		assert_int_equal(hmc_duration_parse(t[i].in, &v), t[i].rc);
		if (!t[i].rc)
			assert_int_equal(v, t[i].secs);
	}
}

/* ---- protocol ---------------------------------------------------------------- */

static struct hmc_msg tm;

static size_t tm_valid(uint16_t type, enum hmc_dir dir)
{
	memset(&tm, 0, sizeof(tm));
	hmc_hdr_init(&tm.h, type, dir, 3);
	if (type == HMC_REP_UPDATE)
		tm.u.update.session = 1;
	if (type == HMC_REQ_KNOWN_BAD)
		snprintf(tm.u.known_bad.path, sizeof(tm.u.known_bad.path), "/usr/bin/x");
	return tm.h.length;
}

struct tm_case {
	const char *name;
	uint16_t type;
	enum hmc_dir dir;
	void (*change)(void);
	const char *why; /* NULL: valid */
};

static void c_none(void)
{
}
static void c_timeout_big(void)
{
	tm.u.maint_begin.timeout_s = HMC_TIMEOUT_MAX + 1;
}
static void c_timeout_ok(void)
{
	tm.u.maint_begin.timeout_s = 60;
}
static void c_begin_reserved(void)
{
	tm.u.maint_begin.reserved = 1;
}
static void c_begin_pw(void)
{
	memset(tm.u.maint_begin.auth.password, 'a', HMC_PASSWORD_LEN);
}
static void c_end_flags(void)
{
	tm.u.maint_end.flags = 16;
}
static void c_end_noprescan(void)
{
	tm.u.maint_end.flags = HMC_END_NO_PRESCAN;
}
static void c_end_many(void)
{
	tm.u.maint_end.n_drop = HMC_PLAN_PER_MSG + 1;
}
static void c_end_rel(void)
{
	tm.u.maint_end.n_drop = 1;
	strcpy(tm.u.maint_end.drop[0], "relative/path");
}
static void c_end_unterminated(void)
{
	tm.u.maint_end.n_drop = 1;
	memset(tm.u.maint_end.drop[0], '/', HMC_PATH_LEN);
}
static void c_end_ok(void)
{
	tm.u.maint_end.flags = HMC_END_MORE;
	tm.u.maint_end.n_drop = 2;
	strcpy(tm.u.maint_end.drop[0], "/a");
	strcpy(tm.u.maint_end.drop[1], "/b c\nd");
}
static void c_upd_neg(void)
{
	tm.u.update_begin.pid = -1;
}
static void c_commit_ok2(void)
{
	tm.u.update_commit.ok = 2;
}
static void c_commit_flags(void)
{
	tm.u.update_commit.flags = HMC_UC_KEEP | HMC_UC_NO_PRESCAN;
}
static void c_commit_flag4(void)
{
	tm.u.update_commit.flags = 4;
}
static void c_kb_rel(void)
{
	snprintf(tm.u.known_bad.path, sizeof(tm.u.known_bad.path), "usr/bin/x");
}
static void c_kb_sig(void)
{
	memset(tm.u.known_bad.sig, 'S', sizeof(tm.u.known_bad.sig));
}
static void c_plan_many(void)
{
	tm.u.maint_plan.n = HMC_PLAN_PER_MSG + 1;
}
static void c_plan_more_than_total(void)
{
	tm.u.maint_plan.n = 2, tm.u.maint_plan.total = 1;
}
static void c_plan_kind(void)
{
	tm.u.maint_plan.n = tm.u.maint_plan.total = 1;
	tm.u.maint_plan.e[0].kind = HMC_PK__MAX;
}
static void c_status_state(void)
{
	tm.u.maint_status.state = HMC_MS__MAX;
}
static void c_update_nosession(void)
{
	tm.u.update.session = 0;
}

static void test_proto_table(void **state)
{
	static const struct tm_case t[] = {
	    {"begin default timeout", HMC_REQ_MAINT_BEGIN, HMC_REQUEST, c_none, NULL},
	    {"begin 60 s", HMC_REQ_MAINT_BEGIN, HMC_REQUEST, c_timeout_ok, NULL},
	    {"begin timeout too long", HMC_REQ_MAINT_BEGIN, HMC_REQUEST, c_timeout_big, "timeout"},
	    {"begin reserved", HMC_REQ_MAINT_BEGIN, HMC_REQUEST, c_begin_reserved, "reserved"},
	    {"begin password unterminated", HMC_REQ_MAINT_BEGIN, HMC_REQUEST, c_begin_pw,
	     "password"},
	    {"end plain", HMC_REQ_MAINT_END, HMC_REQUEST, c_none, NULL},
	    {"end with drops", HMC_REQ_MAINT_END, HMC_REQUEST, c_end_ok, NULL},
	    {"end unknown flag", HMC_REQ_MAINT_END, HMC_REQUEST, c_end_flags, "flags"},
	    {"end too many drops", HMC_REQ_MAINT_END, HMC_REQUEST, c_end_many, "too many"},
	    {"end relative drop", HMC_REQ_MAINT_END, HMC_REQUEST, c_end_rel, "dropped path"},
	    {"end unterminated drop", HMC_REQ_MAINT_END, HMC_REQUEST, c_end_unterminated,
	     "dropped path"},
	    {"update begin negative pid", HMC_REQ_UPDATE_BEGIN, HMC_REQUEST, c_upd_neg,
	     "malformed"},
	    {"update commit ok=2", HMC_REQ_UPDATE_COMMIT, HMC_REQUEST, c_commit_ok2, "malformed"},
	    {"update commit keep, no prescan", HMC_REQ_UPDATE_COMMIT, HMC_REQUEST, c_commit_flags,
	     NULL},
	    {"update commit unknown flag", HMC_REQ_UPDATE_COMMIT, HMC_REQUEST, c_commit_flag4,
	     "malformed"},
	    {"end no prescan", HMC_REQ_MAINT_END, HMC_REQUEST, c_end_noprescan, NULL},
	    {"known-bad report", HMC_REQ_KNOWN_BAD, HMC_REQUEST, c_none, NULL},
	    {"known-bad relative path", HMC_REQ_KNOWN_BAD, HMC_REQUEST, c_kb_rel, "known-bad"},
	    {"known-bad unterminated", HMC_REQ_KNOWN_BAD, HMC_REQUEST, c_kb_sig, "known-bad"},
	    {"status request", HMC_REQ_MAINT_STATUS, HMC_REQUEST, c_none, NULL},
	    {"sync request", HMC_REQ_MAINT_SYNC, HMC_REQUEST, c_none, NULL},
	    {"plan reply too many", HMC_REP_MAINT_PLAN, HMC_REPLY, c_plan_many, "too many"},
	    {"plan reply n > total", HMC_REP_MAINT_PLAN, HMC_REPLY, c_plan_more_than_total,
	     "too many"},
	    {"plan reply bad kind", HMC_REP_MAINT_PLAN, HMC_REPLY, c_plan_kind, "plan entry"},
	    {"status reply bad state", HMC_REP_MAINT_STATUS, HMC_REPLY, c_status_state,
	     "maintenance status"},
	    {"update reply", HMC_REP_UPDATE, HMC_REPLY, c_none, NULL},
	    {"update reply no session", HMC_REP_UPDATE, HMC_REPLY, c_update_nosession,
	     "update reply"},
	};
	static struct hmc_msg out;
	const char *why;
	size_t i, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		len = tm_valid(t[i].type, t[i].dir);
		t[i].change();
		rc = hmc_parse(&tm, len, t[i].dir, &out, &why);
		if (!t[i].why) {
			if (rc)
				fail_msg("%s: refused: %s", t[i].name, why);
			continue;
		}
		if (rc != -EBADMSG || !why || !strstr(why, t[i].why))
			fail_msg("%s: rc %d why '%s', want -EBADMSG '%s'", t[i].name, rc,
			         why ? why : "", t[i].why);
	}
	/* A request type is not a reply and the other way round. */
	len = tm_valid(HMC_REQ_MAINT_END, HMC_REQUEST);
	assert_int_equal(hmc_parse(&tm, len, HMC_REPLY, &out, &why), -EBADMSG);
}

/* ---- the state file -------------------------------------------------------- */

static char ts_dir[FX_DIR_LEN];
static struct hmd_config ts_cfg;

static int ts_setup(void **state)
{
	(void)state;
	if (fx_mkdir(ts_dir, "test_state") < 0)
		return -1;
	config_defaults(&ts_cfg);
	snprintf(ts_cfg.db, sizeof(ts_cfg.db), "%s/approved.db", ts_dir);
	return 0;
}

static int ts_teardown(void **state)
{
	(void)state;
	return fx_rmtree(ts_dir);
}

static void ts_write(const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/state", ts_dir);
	if (!text) {
		unlink(p);
		return;
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_state_table(void **state)
{
	static const struct {
		const char *name;
		enum hmd_mode cfg_mode;
		const char *file; /* NULL: none */
		int rc;
		enum hmd_mode mode;
		enum state_window window;
		const char *msg; /* part of the error */
	} t[] = {
	    {"no file: config enforce", HMD_MODE_ENFORCE, NULL, 0, HMD_MODE_ENFORCE, STATE_W_NONE,
	     NULL},
	    {"no file: config audit", HMD_MODE_AUDIT, NULL, 0, HMD_MODE_AUDIT, STATE_W_NONE, NULL},
	    {"file wins (audit over enforce)", HMD_MODE_ENFORCE, "mode=audit\n", 0, HMD_MODE_AUDIT,
	     STATE_W_NONE, NULL},
	    {"file wins (enforce over audit)", HMD_MODE_AUDIT, "mode=enforce\nwindow=none\n", 0,
	     HMD_MODE_ENFORCE, STATE_W_NONE, NULL},
	    {"open window -> pending, mode before", HMD_MODE_AUDIT,
	     "mode=enforce\nwindow=maintenance\nstart=5\ndeadline=9\ngeneration=3\n", 0,
	     HMD_MODE_ENFORCE, STATE_W_PENDING, NULL},
	    {"open update -> pending", HMD_MODE_ENFORCE, "mode=enforce\nwindow=update\n", 0,
	     HMD_MODE_ENFORCE, STATE_W_PENDING, NULL},
	    {"pending stays pending", HMD_MODE_ENFORCE, "mode=enforce\nwindow=pending\n", 0,
	     HMD_MODE_ENFORCE, STATE_W_PENDING, NULL},
	    {"comments and blank lines", HMD_MODE_ENFORCE, "# x\n\nmode=audit\n", 0, HMD_MODE_AUDIT,
	     STATE_W_NONE, NULL},
	    {"bad mode", HMD_MODE_ENFORCE, "mode=sideways\n", -EINVAL, 0, 0, "state:1"},
	    {"maintenance is not a mode outside windows", HMD_MODE_ENFORCE, "mode=maintenance\n",
	     -EINVAL, 0, 0, "state:1"},
	    {"bad window", HMD_MODE_ENFORCE, "mode=audit\nwindow=ajar\n", -EINVAL, 0, 0, "state:2"},
	    {"unknown key", HMD_MODE_ENFORCE, "colour=red\n", -EINVAL, 0, 0, "colour"},
	    {"no =", HMD_MODE_ENFORCE, "mode audit\n", -EINVAL, 0, 0, "state:1"},
	    {"bad number", HMD_MODE_ENFORCE, "start=12x\n", -EINVAL, 0, 0, "state:1"},
	};
	struct state_file f;
	char msg[512];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ts_write(t[i].file);
		ts_cfg.mode = t[i].cfg_mode;
		msg[0] = '\0';
		rc = state_init(&ts_cfg, msg, sizeof(msg));
		if (rc != t[i].rc)
			fail_msg("%s: rc %d (%s), want %d", t[i].name, rc, msg, t[i].rc);
		if (rc) {
			if (!strstr(msg, t[i].msg))
				fail_msg("%s: message '%s' lacks '%s'", t[i].name, msg, t[i].msg);
			continue;
		}
		state_file_get(&f);
		if ((enum hmd_mode)state_mode() != t[i].mode || f.window != t[i].window)
			fail_msg("%s: mode %d window %d, want %d %d", t[i].name, state_mode(),
			         f.window, t[i].mode, t[i].window);
	}
}

/* A mode set at run time is in the file a restart reads. */
/* state_parse() on bytes: what it takes, what it refuses (and names). */
static void test_state_parse(void **state)
{
	static char longline[700];
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		int rc;
		enum hmd_mode mode;
		enum state_window window;
		const char *msg; /* in the message when refused */
	} t[] = {
	    {"mode=audit\nwindow=maintenance\nstart=5\n", 0, 0, HMD_MODE_AUDIT, STATE_W_MAINT,
	     NULL},
	    {"# comment\n\nmode=enforce", 0, 0, HMD_MODE_ENFORCE, STATE_W_NONE, NULL},
	    {"window=pending\nlast=ended 5: 1 added\n", 0, 0, HMD_MODE_ENFORCE, STATE_W_PENDING,
	     NULL},
	    {"", 0, 0, HMD_MODE_ENFORCE, STATE_W_NONE, NULL},
	    {"mode=maintenance\n", 0, -EINVAL, 0, 0, "S:1: cannot read 'mode'"},
	    {"mode=enforce\nwindow=open\n", 0, -EINVAL, 0, 0, "S:2:"},
	    {"start=12x\n", 0, -EINVAL, 0, 0, "S:1:"},
	    {"start=\n", 0, -EINVAL, 0, 0, "S:1:"},
	    {"colour=blue\n", 0, -EINVAL, 0, 0, "S:1:"},
	    {"no equals sign\n", 0, -EINVAL, 0, 0, "S:1:"},
	    {"mode=audit\0\n", 12, -EINVAL, 0, 0, "not text"},
	    {longline, 0, -EINVAL, 0, 0, "too long"},
	    {"generation=18446744073709551616\n", 0, -EINVAL, 0, 0, "S:1:"},
	    /* the MAC line is read by state_authenticate(), not here */
	    {"mode=audit\nmac=00\n", 0, 0, HMD_MODE_AUDIT, STATE_W_NONE, NULL},
	};
	char msg[256];

	(void)state;
	memset(longline, 'a', sizeof(longline) - 1);
	memcpy(longline, "last=", 5);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct state_file f = {.mode = HMD_MODE_ENFORCE};
		size_t len = t[i].len ? t[i].len : strlen(t[i].text);
		int rc;

		msg[0] = '\0';
		rc = state_parse(t[i].text, len, "S", &f, msg, sizeof(msg));
		if (rc != t[i].rc)
			print_error("row %zu: rc %d, want %d (%s)\n", i, rc, t[i].rc, msg);
		assert_int_equal(rc, t[i].rc);
		if (rc == 0) {
			assert_int_equal(f.mode, t[i].mode);
			assert_int_equal(f.window, t[i].window);
		} else {
			assert_non_null(strstr(msg, t[i].msg));
		}
	}
}

static void test_state_persists_mode(void **state)
{
	struct state_file f;
	char msg[256];

	(void)state;
	ts_write(NULL);
	ts_cfg.mode = HMD_MODE_ENFORCE;
	assert_int_equal(state_init(&ts_cfg, msg, sizeof(msg)), 0);
	state_set_mode(HMD_MODE_AUDIT);
	state_set_mode(HMD_MODE_MAINTENANCE); /* a window is not the mode to keep */
	assert_int_equal(state_init(&ts_cfg, msg, sizeof(msg)), 0);
	assert_int_equal(state_mode(), HMD_MODE_AUDIT);
	f = (struct state_file){.mode = HMD_MODE_ENFORCE, .window = STATE_W_MAINT, .start = 7};
	snprintf(f.last, sizeof(f.last), "a\nb");
	assert_int_equal(state_file_put(&f), 0);
	assert_int_equal(state_init(&ts_cfg, msg, sizeof(msg)), 0);
	state_file_get(&f);
	assert_int_equal(f.window, STATE_W_PENDING);
	assert_int_equal(f.start, 7);
	assert_string_equal(f.last, "a"); /* one line only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_table),
	    cmocka_unit_test(test_proto_table),
	    cmocka_unit_test(test_state_parse),
	    cmocka_unit_test_setup_teardown(test_state_table, ts_setup, ts_teardown),
	    cmocka_unit_test_setup_teardown(test_state_persists_mode, ts_setup, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
