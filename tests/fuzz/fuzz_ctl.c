/* fuzz_ctl.c - libFuzzer target for the control-protocol validator
 * (hmc_check/hmc_parse in include/hmilock_ctl.h), the first code hmilockd
 * runs on bytes from a control-socket peer. Owns nothing. Built and run by
 * `make fuzz` (tests/fuzz/fuzz.mk); a crash, a sanitizer report or a failed
 * invariant (abort) is a bug.
 *
 * FUZZ_CTL_SEEDS=DIR build/fuzz/fuzz_ctl -runs=0 writes one valid message of
 * most types into DIR: that is how tests/fuzz/corpus/ctl was made (the two
 * largest replies, EVENTS and MAINT_PLAN, are left out to keep it small). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmilock_ctl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hmc_msg fuzz_out;

/* Write m (header filled for type and d) as DIR/NAME; abort unless it is a
 * message hmc_parse accepts. */
static void fuzz_seed(const char *dir, const char *name, struct hmc_msg *m, uint16_t type,
                      enum hmc_dir d)
{
	char path[4200];
	const char *why;
	FILE *f;

	hmc_hdr_init(&m->h, type, d, 7);
	if (hmc_parse(m, m->h.length, d, &fuzz_out, &why))
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(m, 1, m->h.length, f) != m->h.length || fclose(f))
		abort();
	memset(m, 0, sizeof(*m));
}

static void fuzz_seeds(const char *dir)
{
	static struct hmc_msg m;

	fuzz_seed(dir, "req-status", &m, HMC_REQ_STATUS, HMC_REQUEST);
	fuzz_seed(dir, "req-reload", &m, HMC_REQ_RELOAD, HMC_REQUEST);
	m.u.set_mode.mode = HMC_MODE_AUDIT;
	strcpy(m.u.set_mode.auth.password, "secret");
	fuzz_seed(dir, "req-set-mode", &m, HMC_REQ_SET_MODE, HMC_REQUEST);
	m.u.events_req.after_id = 40;
	m.u.events_req.until_id = 90;
	m.u.events_req.max = 50;
	fuzz_seed(dir, "req-events", &m, HMC_REQ_EVENTS, HMC_REQUEST);
	m.u.maint_begin.timeout_s = 7200;
	fuzz_seed(dir, "req-maint-begin", &m, HMC_REQ_MAINT_BEGIN, HMC_REQUEST);
	fuzz_seed(dir, "req-maint-status", &m, HMC_REQ_MAINT_STATUS, HMC_REQUEST);
	m.u.maint_plan_req.offset = 12;
	fuzz_seed(dir, "req-maint-plan", &m, HMC_REQ_MAINT_PLAN, HMC_REQUEST);
	m.u.maint_end.flags = HMC_END_MORE;
	m.u.maint_end.n_drop = 2;
	strcpy(m.u.maint_end.drop[0], "/opt/hmi/bin/tool");
	strcpy(m.u.maint_end.drop[1], "/usr/lib/x.so");
	fuzz_seed(dir, "req-maint-end", &m, HMC_REQ_MAINT_END, HMC_REQUEST);
	fuzz_seed(dir, "req-maint-sync", &m, HMC_REQ_MAINT_SYNC, HMC_REQUEST);
	m.u.update_begin.pid = 4242;
	fuzz_seed(dir, "req-update-begin", &m, HMC_REQ_UPDATE_BEGIN, HMC_REQUEST);
	fuzz_seed(dir, "req-update-info", &m, HMC_REQ_UPDATE_INFO, HMC_REQUEST);
	m.u.update_commit.session = 3;
	m.u.update_commit.ok = 1;
	fuzz_seed(dir, "req-update-commit", &m, HMC_REQ_UPDATE_COMMIT, HMC_REQUEST);
	m.u.result.error = -EACCES;
	strcpy(m.u.result.msg, "wrong password");
	fuzz_seed(dir, "rep-result", &m, HMC_REP_RESULT, HMC_REPLY);
	m.u.status.mode = HMC_MODE_ENFORCE;
	m.u.status.ready = 1;
	strcpy(m.u.status.list_path, "/var/lib/hmilock/approved.db");
	strcpy(m.u.status.sandbox, "seccomp");
	fuzz_seed(dir, "rep-status", &m, HMC_REP_STATUS, HMC_REPLY);
	m.u.maint_status.state = HMC_MS_OPEN;
	m.u.maint_status.prev_mode = HMC_MODE_ENFORCE;
	strcpy(m.u.maint_status.journal, "/var/lib/hmilock/maint.journal");
	fuzz_seed(dir, "rep-maint-status", &m, HMC_REP_MAINT_STATUS, HMC_REPLY);
	m.u.update.session = 3;
	strcpy(m.u.update.cgroup, "/sys/fs/cgroup/hmilock-update/3");
	strcpy(m.u.update.origin, "/sys/fs/cgroup/user.slice");
	fuzz_seed(dir, "rep-update", &m, HMC_REP_UPDATE, HMC_REPLY);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("FUZZ_CTL_SEEDS");

	(void)argc;
	(void)argv;
	if (seeds)
		fuzz_seeds(seeds);
	return 0;
}

/* What an accepted message must satisfy, whatever the bytes were. */
static void fuzz_invariants(const uint8_t *data, size_t size, enum hmc_dir dir)
{
	long body = hmc_body_size(fuzz_out.h.type, dir);
	uint32_t i;

	if (body < 0 || size != sizeof(struct hmc_hdr) + (size_t)body)
		abort();
	if (fuzz_out.h.magic != HMC_MAGIC || fuzz_out.h.version != HMC_VERSION ||
	    fuzz_out.h.length != size || memcmp(&fuzz_out, data, size) != 0)
		abort();
	if (dir == HMC_REQUEST && fuzz_out.h.type == HMC_REQ_SET_MODE &&
	    fuzz_out.u.set_mode.mode >= HMC_MODE__MAX)
		abort();
	/* hmc_result.error is "0 or -errno": a client may negate it */
	if (dir == HMC_REPLY && fuzz_out.h.type == HMC_REP_RESULT &&
	    (fuzz_out.u.result.error > 0 || fuzz_out.u.result.error < -HMC_MAX_ERRNO))
		abort();
	if (dir == HMC_REPLY && fuzz_out.h.type == HMC_REP_EVENTS) {
		if (fuzz_out.u.events.n > HMC_EVENTS_PER_MSG)
			abort();
		for (i = 0; i < fuzz_out.u.events.n; i++)
			if (strlen(fuzz_out.u.events.ev[i].path) >= HMC_PATH_LEN)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	int rc;

	for (int d = HMC_REQUEST; d <= HMC_REPLY; d++) {
		rc = hmc_parse(data, size, (enum hmc_dir)d, &fuzz_out, &why);
		if (rc == 0)
			fuzz_invariants(data, size, (enum hmc_dir)d);
		else if (!why || (rc != -EBADMSG && rc != -EPROTONOSUPPORT))
			abort();
	}
	return 0;
}
