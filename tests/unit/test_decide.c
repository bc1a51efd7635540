/* test_decide.c - unit tests for agent/decide.c: one table of (mode, match,
 * on_error, what the reader/worker found) -> (verdict, reason, cache,
 * ignore mark, log), plus the verdict for every outcome in every mode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "decide.h"

#define E HMD_MODE_ENFORCE
#define A HMD_MODE_AUDIT
#define M HMD_MODE_MAINTENANCE
#define PH HMD_MATCH_PATH_HASH
#define H HMD_MATCH_HASH
#define OD HMD_ON_ERROR_DENY
#define OA HMD_ON_ERROR_ALLOW

/* found: regular, error, queue_full, resolved, path_listed, path_hash_eq,
 * hash_listed, multi_link */
struct row {
	const char *name;
	struct decide_in in;
	enum hmd_verdict verdict;
	enum hmd_reason reason;
	bool cache, ignore, log;
};

#define IN(mo, ma, oe, reg, err, qf, res, pl, pe, hl, ml)                                          \
	{                                                                                          \
		.mode = mo, .match = ma, .on_error = oe, .regular = reg, .error = err,             \
		.queue_full = qf, .resolved = res, .path_listed = pl, .path_hash_eq = pe,          \
		.hash_listed = hl, .multi_link = ml                                                \
	}

/* A multiply linked file (listed when listed) with links_listed set, or
 * an unhashed file with too_large set. */
#define IN2(mo, ma, listed, big)                                                                   \
	{                                                                                          \
		.mode = mo, .match = ma, .on_error = OD, .regular = 1, .resolved = 1,              \
		.path_listed = listed, .path_hash_eq = listed, .hash_listed = listed,              \
		.multi_link = 1, .links_listed = !(big), .too_large = big                          \
	}

static const struct row rows[] = {
    /* match = path+hash */
    {"listed runs", IN(E, PH, OD, 1, 0, 0, 1, 1, 1, 1, 0), HMD_V_ALLOW, HMD_R_LISTED, 1, 1, 0},
    {"one byte changed", IN(E, PH, OD, 1, 0, 0, 1, 1, 0, 0, 0), HMD_V_DENY, HMD_R_HASH_MISMATCH, 1,
     0, 1},
    {"copy elsewhere, path+hash", IN(E, PH, OD, 1, 0, 0, 1, 0, 0, 1, 0), HMD_V_DENY,
     HMD_R_NOT_LISTED, 1, 0, 1},
    {"unlisted", IN(E, PH, OD, 1, 0, 0, 1, 0, 0, 0, 0), HMD_V_DENY, HMD_R_NOT_LISTED, 1, 0, 1},
    {"deleted, path+hash, hash listed", IN(E, PH, OD, 1, 0, 0, 0, 0, 0, 1, 0), HMD_V_DENY,
     HMD_R_UNRESOLVED, 1, 0, 1},
    {"listed, second link, path+hash", IN(E, PH, OD, 1, 0, 0, 1, 1, 1, 1, 1), HMD_V_ALLOW,
     HMD_R_LISTED, 1, 0, 0},
    {"listed, every link listed, path+hash", IN2(E, PH, 1, 0), HMD_V_ALLOW, HMD_R_LISTED, 1, 1, 0},
    {"links_listed alone does not list", IN2(E, PH, 0, 0), HMD_V_DENY, HMD_R_NOT_LISTED, 1, 0, 1},
    /* too large for an unlisted file: refused unhashed, remembered */
    {"too large", IN2(E, PH, 0, 1), HMD_V_DENY, HMD_R_TOO_LARGE, 1, 0, 1},
    {"too large, hash", IN2(E, H, 0, 1), HMD_V_DENY, HMD_R_TOO_LARGE, 1, 0, 1},
    {"too large, audit", IN2(A, PH, 0, 1), HMD_V_WOULD_DENY, HMD_R_TOO_LARGE, 1, 0, 1},
    {"too large, maintenance", IN2(M, PH, 0, 1), HMD_V_ALLOW, HMD_R_TOO_LARGE, 1, 0, 1},

    {"listed path, hash of another listed file", IN(E, PH, OD, 1, 0, 0, 1, 1, 0, 1, 0), HMD_V_DENY,
     HMD_R_HASH_MISMATCH, 1, 0, 1},
    /* match = hash */
    {"copy elsewhere, hash", IN(E, H, OD, 1, 0, 0, 1, 0, 0, 1, 0), HMD_V_ALLOW, HMD_R_LISTED, 1, 1,
     0},
    {"deleted, hash listed", IN(E, H, OD, 1, 0, 0, 0, 0, 0, 1, 0), HMD_V_ALLOW, HMD_R_LISTED, 1, 1,
     0},
    {"deleted, hash unlisted", IN(E, H, OD, 1, 0, 0, 0, 0, 0, 0, 0), HMD_V_DENY, HMD_R_NOT_LISTED,
     1, 0, 1},
    {"listed path, other content, hash", IN(E, H, OD, 1, 0, 0, 1, 1, 0, 0, 0), HMD_V_DENY,
     HMD_R_HASH_MISMATCH, 1, 0, 1},
    {"listed, second link, hash", IN(E, H, OD, 1, 0, 0, 1, 1, 1, 1, 1), HMD_V_ALLOW, HMD_R_LISTED,
     1, 1, 0},
    /* modes */
    {"audit: unlisted would be denied", IN(A, PH, OD, 1, 0, 0, 1, 0, 0, 0, 0), HMD_V_WOULD_DENY,
     HMD_R_NOT_LISTED, 1, 0, 1},
    {"audit: listed", IN(A, PH, OD, 1, 0, 0, 1, 1, 1, 1, 0), HMD_V_ALLOW, HMD_R_LISTED, 1, 1, 0},
    {"audit: mismatch", IN(A, PH, OD, 1, 0, 0, 1, 1, 0, 0, 0), HMD_V_WOULD_DENY,
     HMD_R_HASH_MISMATCH, 1, 0, 1},
    {"maintenance: unlisted runs, logged", IN(M, PH, OD, 1, 0, 0, 1, 0, 0, 0, 0), HMD_V_ALLOW,
     HMD_R_NOT_LISTED, 1, 0, 1},
    {"maintenance: listed", IN(M, H, OD, 1, 0, 0, 1, 1, 1, 1, 0), HMD_V_ALLOW, HMD_R_LISTED, 1, 1,
     0},
    /* errors and on_error */
    {"error, deny", IN(E, PH, OD, 1, 1, 0, 1, 1, 1, 1, 0), HMD_V_DENY, HMD_R_ERROR, 0, 0, 1},
    {"error, allow", IN(E, PH, OA, 1, 1, 0, 1, 0, 0, 0, 0), HMD_V_ALLOW, HMD_R_ERROR, 0, 0, 1},
    {"error in audit, deny", IN(A, PH, OD, 1, 1, 0, 1, 0, 0, 0, 0), HMD_V_WOULD_DENY, HMD_R_ERROR,
     0, 0, 1},
    {"queue full, deny", IN(E, PH, OD, 1, 0, 1, 0, 0, 0, 0, 0), HMD_V_DENY, HMD_R_QUEUE_FULL, 0, 0,
     1},
    {"queue full, allow", IN(E, H, OA, 1, 0, 1, 0, 0, 0, 0, 0), HMD_V_ALLOW, HMD_R_QUEUE_FULL, 0, 0,
     1},
    {"queue full wins over error", IN(E, PH, OA, 1, 1, 1, 1, 1, 1, 1, 0), HMD_V_ALLOW,
     HMD_R_QUEUE_FULL, 0, 0, 1},
    {"queue full in audit", IN(A, PH, OD, 1, 0, 1, 0, 0, 0, 0, 0), HMD_V_WOULD_DENY,
     HMD_R_QUEUE_FULL, 0, 0, 1},
    /* not a regular file: refused like any unlisted file, on_error aside */
    {"not regular", IN(E, PH, OD, 0, 0, 0, 1, 0, 0, 0, 0), HMD_V_DENY, HMD_R_NOT_REGULAR, 0, 0, 1},
    {"not regular, on_error allow", IN(E, H, OA, 0, 0, 0, 1, 0, 0, 0, 0), HMD_V_DENY,
     HMD_R_NOT_REGULAR, 0, 0, 1},
    {"not regular, audit", IN(A, PH, OD, 0, 0, 0, 1, 0, 0, 0, 0), HMD_V_WOULD_DENY,
     HMD_R_NOT_REGULAR, 0, 0, 1},
};

/* The rows the exec gate adds around the list rule: the trusted update's
 * override (updater_wrote) and when the kernel helper must approve first. */
struct row2 {
	const char *name;
	struct decide_in in;
	enum hmd_verdict verdict;
	enum hmd_reason reason;
	bool log, approve;
};

#define UP(in_)                                                                                    \
	{                                                                                          \
		.mode = (in_).mode, .match = (in_).match, .on_error = (in_).on_error,              \
		.regular = (in_).regular, .error = (in_).error, .queue_full = (in_).queue_full,    \
		.resolved = (in_).resolved, .path_listed = (in_).path_listed,                      \
		.path_hash_eq = (in_).path_hash_eq, .hash_listed = (in_).hash_listed,              \
		.multi_link = (in_).multi_link, .updater_wrote = true                              \
	}

static const struct decide_in unlisted_e = IN(E, PH, OD, 1, 0, 0, 1, 0, 0, 0, 0);
static const struct decide_in unlisted_a = IN(A, PH, OD, 1, 0, 0, 1, 0, 0, 0, 0);
static const struct decide_in error_e = IN(E, PH, OD, 1, 1, 0, 1, 0, 0, 0, 0);
static const struct decide_in qfull_e = IN(E, PH, OD, 1, 0, 1, 0, 0, 0, 0, 0);
static const struct decide_in notreg_e = IN(E, PH, OD, 0, 0, 0, 1, 0, 0, 0, 0);
static const struct decide_in listed_e = IN(E, PH, OD, 1, 0, 0, 1, 1, 1, 1, 0);
static const struct decide_in copy_h = IN(E, H, OD, 1, 0, 0, 1, 0, 0, 1, 0);

static const struct row2 rows2[] = {
    {"unlisted, not the updater's", IN(E, PH, OD, 1, 0, 0, 1, 0, 0, 0, 0), HMD_V_DENY,
     HMD_R_NOT_LISTED, 1, 0},
    {"unlisted, written by the update that runs it", UP(unlisted_e), HMD_V_ALLOW, HMD_R_NOT_LISTED,
     1, 0},
    {"audit: the update's file is a would-deny, not overridden", UP(unlisted_a), HMD_V_WOULD_DENY,
     HMD_R_NOT_LISTED, 1, 0},
    {"update: an error stays an error", UP(error_e), HMD_V_DENY, HMD_R_ERROR, 1, 0},
    {"update: queue full stays refused", UP(qfull_e), HMD_V_DENY, HMD_R_QUEUE_FULL, 1, 0},
    {"update: not regular stays refused", UP(notreg_e), HMD_V_DENY, HMD_R_NOT_REGULAR, 1, 0},
    {"listed: approved in the kernel first", IN(E, PH, OD, 1, 0, 0, 1, 1, 1, 1, 0), HMD_V_ALLOW,
     HMD_R_LISTED, 0, 1},
    {"listed copy under match = hash: approved", IN(E, H, OD, 1, 0, 0, 1, 0, 0, 1, 0), HMD_V_ALLOW,
     HMD_R_LISTED, 0, 1},
    {"listed, updater too: approved", UP(listed_e), HMD_V_ALLOW, HMD_R_LISTED, 0, 1},
    {"listed copy, updater: approved", UP(copy_h), HMD_V_ALLOW, HMD_R_LISTED, 0, 1},
    {"error allowed by on_error: never approved", IN(E, PH, OA, 1, 1, 0, 1, 0, 0, 0, 0),
     HMD_V_ALLOW, HMD_R_ERROR, 1, 0},
    {"maintenance: unlisted runs, never approved", IN(M, PH, OD, 1, 0, 0, 1, 0, 0, 0, 0),
     HMD_V_ALLOW, HMD_R_NOT_LISTED, 1, 0},
};

static void test_update_and_approval(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows2) / sizeof(rows2[0]); i++) {
		const struct row2 *r = &rows2[i];
		struct decide_out out;

		decide(&r->in, &out);
		if (out.verdict != r->verdict || out.reason != r->reason || out.log != r->log ||
		    out.approve != r->approve) {
			print_error("row '%s': got verdict %d reason %d log %d approve %d,"
			            " want %d %d %d %d\n",
			            r->name, out.verdict, out.reason, out.log, out.approve,
			            r->verdict, r->reason, r->log, r->approve);
			fail();
		}
	}
}

/* Class 2 of issue 9: a user's copy of a listed program bind-mounted over
 * the listed path in a namespace of its own reads back as the listed path
 * with the listed hash. Under path+hash it is not the listed file (not
 * allowed, not approved, no ignore mark); under hash its content decides. */
static void test_path_elsewhere(void **state)
{
	struct decide_in in = listed_e;
	struct decide_out out;

	(void)state;
	in.path_elsewhere = true;
	decide(&in, &out);
	assert_int_equal(out.verdict, HMD_V_DENY);
	assert_int_equal(out.reason, HMD_R_NOT_LISTED);
	assert_false(out.approve);
	assert_false(out.ignore);
	assert_true(out.log);
	in.mode = HMD_MODE_AUDIT;
	decide(&in, &out);
	assert_int_equal(out.verdict, HMD_V_WOULD_DENY);
	in = copy_h;
	in.path_listed = in.path_hash_eq = true;
	in.path_elsewhere = true;
	decide(&in, &out);
	assert_int_equal(out.verdict, HMD_V_ALLOW);
	assert_true(out.approve);
}

/* Issue 12: a container's file (overlayfs) at an unlisted path whose layer
 * file the kernel helper holds approved runs under path+hash, approved and
 * marked like a listed file; an unresolved one stays unresolved. */
static void test_layer_listed(void **state)
{
	struct decide_in in = listed_e;
	struct decide_out out;

	(void)state;
	in.path_listed = in.path_hash_eq = false;
	decide(&in, &out);
	assert_int_equal(out.verdict, HMD_V_DENY);
	in.layer_listed = true;
	decide(&in, &out);
	assert_int_equal(out.verdict, HMD_V_ALLOW);
	assert_int_equal(out.reason, HMD_R_LISTED);
	assert_true(out.approve);
	assert_false(out.log);
	in.path_listed = in.path_elsewhere = true;
	decide(&in, &out);
	assert_int_equal(out.reason, HMD_R_LISTED);
	in.resolved = false;
	decide(&in, &out);
	assert_int_equal(out.reason, HMD_R_UNRESOLVED);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct decide_out out;

		decide(&r->in, &out);
		if (out.verdict != r->verdict || out.reason != r->reason || out.cache != r->cache ||
		    out.ignore != r->ignore || out.log != r->log) {
			print_error("row '%s': got verdict %d reason %d cache %d ignore %d log %d,"
			            " want %d %d %d %d %d\n",
			            r->name, out.verdict, out.reason, out.cache, out.ignore,
			            out.log, r->verdict, r->reason, r->cache, r->ignore, r->log);
			fail();
		}
		assert_int_equal(decide_reason(&r->in), r->reason);
	}
}

/* Cache hits re-apply the mode to a remembered outcome: every outcome in
 * every mode, with both on_error settings. */
static void test_verdict_grid(void **state)
{
	static const enum hmd_verdict want[HMD_R__MAX][HMD_MODE__MAX][2] = {
	    /* enforce(deny, allow), audit(deny, allow), maintenance(deny, allow) */
	    [HMD_R_LISTED] = {{0, 0}, {0, 0}, {0, 0}},
	    [HMD_R_NOT_LISTED] = {{1, 1}, {2, 2}, {0, 0}},
	    [HMD_R_HASH_MISMATCH] = {{1, 1}, {2, 2}, {0, 0}},
	    [HMD_R_UNRESOLVED] = {{1, 1}, {2, 2}, {0, 0}},
	    [HMD_R_NOT_REGULAR] = {{1, 1}, {2, 2}, {0, 0}},
	    [HMD_R_ERROR] = {{1, 0}, {2, 0}, {0, 0}},
	    [HMD_R_QUEUE_FULL] = {{1, 0}, {2, 0}, {0, 0}},
	    [HMD_R_TOO_LARGE] = {{1, 1}, {2, 2}, {0, 0}},
	};

	(void)state;
	for (int r = HMD_R_LISTED; r < HMD_R__MAX; r++) {
		if (r == HMD_R_HELPER || r == HMD_R_KNOWN_BAD) /* events of the helper and of
		                                                   * the prescan: never decided here */
			continue;
		for (int m = 0; m < HMD_MODE__MAX; m++) {
			for (int oe = 0; oe < 2; oe++) {
				struct decide_out out;

				decide_verdict(m, oe, r, &out);
				if (out.verdict != want[r][m][oe]) {
					print_error(
					    "reason %d mode %d on_error %d: verdict %d, want %d\n",
					    r, m, oe, out.verdict, want[r][m][oe]);
					fail();
				}
				assert_int_equal(out.reason, r);
				/* Only plain allows of listed files go unlogged. */
				assert_int_equal(out.log, r != HMD_R_LISTED);
			}
		}
	}
}

/* The verdict never depends on the mode for a listed file, which is what
 * lets ignore marks survive a mode switch (state.c). */
static void test_listed_allowed_in_every_mode(void **state)
{
	(void)state;
	for (int m = 0; m < HMD_MODE__MAX; m++) {
		for (int ma = 0; ma < 2; ma++) {
			struct decide_in in = IN(m, ma, OD, 1, 0, 0, 1, 1, 1, 1, 0);
			struct decide_out out;

			decide(&in, &out);
			assert_int_equal(out.verdict, HMD_V_ALLOW);
			assert_true(out.ignore);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_path_elsewhere),
	    cmocka_unit_test(test_layer_listed),
	    cmocka_unit_test(test_update_and_approval),
	    cmocka_unit_test(test_verdict_grid),
	    cmocka_unit_test(test_listed_allowed_in_every_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
