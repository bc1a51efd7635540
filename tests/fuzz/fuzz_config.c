/* fuzz_config.c - libFuzzer target for the configuration parser
 * (config_load_stream in whitelist/config.c): the input is the whole file,
 * fed through fmemopen. Owns the stream and a copy of the input for one run.
 * Built and run by `make fuzz` (tests/fuzz/fuzz.mk).
 *
 * Each input is parsed twice, with the daemon's message buffer (1024 bytes)
 * and with a short one, so that cutting a message short is exercised too.
 * Invariants (a failed one aborts): the result is 0 or a negative errno and
 * does not depend on the message buffer's size; after an error the message
 * is non-empty and NUL-terminated inside the buffer; after success every
 * string is NUL-terminated inside its array, every path the parser checks is
 * absolute (the socket fits sun_path), and every number and enum is within
 * the range config.h documents. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "hmilock_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hmd_config fuzz_cfg; /* large: keep it off the stack */

#define FUZZ_NAME "/etc/hmilock/fuzz.conf"
#define FUZZ_SHORT_MSG 24

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

/* s is a NUL-terminated string inside its size bytes, and absolute. */
static void fuzz_abs(const char *s, size_t size)
{
	fuzz_check(memchr(s, '\0', size) != NULL && s[0] == '/');
}

static void fuzz_success(const struct hmd_config *c)
{
	struct sockaddr_un sun;
	size_t i;

	fuzz_abs(c->db, sizeof(c->db));
	fuzz_abs(c->key, sizeof(c->key));
	fuzz_abs(c->socket, sizeof(c->socket));
	fuzz_check(strlen(c->socket) < sizeof(sun.sun_path));
	fuzz_abs(c->admin_password_file, sizeof(c->admin_password_file));
	fuzz_abs(c->import_pubkey, sizeof(c->import_pubkey));
	fuzz_check(strcmp(c->path, FUZZ_NAME) == 0);
	fuzz_check(memchr(c->cgroup_root, '\0', sizeof(c->cgroup_root)) != NULL);
	fuzz_check(c->cgroup_root[0] == '\0' || c->cgroup_root[0] == '/');
	fuzz_check(c->n_watch <= HMD_MAX_WATCH);
	for (i = 0; i < c->n_watch; i++)
		fuzz_abs(c->watch[i], sizeof(c->watch[i]));
	fuzz_check(c->n_interp <= HMD_MAX_INTERP && (c->interp_set || c->n_interp == 0));
	for (i = 0; i < c->n_interp; i++)
		fuzz_abs(c->interp[i], sizeof(c->interp[i]));
	fuzz_check(c->mode == HMD_MODE_ENFORCE || c->mode == HMD_MODE_AUDIT);
	fuzz_check(c->match == HMD_MATCH_PATH_HASH || c->match == HMD_MATCH_HASH);
	fuzz_check(c->on_error == HMD_ON_ERROR_DENY || c->on_error == HMD_ON_ERROR_ALLOW);
	fuzz_check(c->helper == HMD_HELPER_AUTO || c->helper == HMD_HELPER_REQUIRED ||
	           c->helper == HMD_HELPER_OFF);
	fuzz_check(c->workers <= HMD_MAX_WORKERS);
	fuzz_check(c->queue_len >= HMD_MIN_QUEUE && c->queue_len <= HMD_MAX_QUEUE);
	fuzz_check(c->cache_entries >= HMD_MIN_CACHE && c->cache_entries <= HMD_MAX_CACHE);
	fuzz_check(c->maint_timeout_s >= HMC_TIMEOUT_MIN && c->maint_timeout_s <= HMC_TIMEOUT_MAX);
}

/* Parse buf with a message buffer of msglen bytes (poisoned first, so that
 * a message left without its NUL shows); returns the result. */
static int fuzz_parse(char *buf, size_t size, size_t msglen)
{
	char msg[1024];
	FILE *fp;
	int rc;

	memset(msg, 'X', sizeof(msg));
	fp = fmemopen(buf, size, "r");
	if (!fp)
		abort();
	rc = config_load_stream(&fuzz_cfg, fp, FUZZ_NAME, msg, msglen);
	fclose(fp);
	fuzz_check(rc <= 0 && rc > -4096);
	if (rc < 0)
		fuzz_check(msg[0] != '\0' && memchr(msg, '\0', msglen) != NULL);
	else
		fuzz_success(&fuzz_cfg);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1); /* exact size: ASan sees overreads */
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = fuzz_parse(buf, size, 1024);
	fuzz_check(fuzz_parse(buf, size, FUZZ_SHORT_MSG) == rc);
	free(buf);
	return 0;
}
