/* auth.c - operator access for control requests that change enforcement
 * (mode, maintenance end, update): checks the admin password against
 * [agent] admin_password_file and rate-limits wrong ones. Owns the failure
 * count and the refusal deadline below; main thread only (ctl.c), never
 * sleeps: a request inside the delay is refused at once with the wait. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "log.h"
#include "stats.h"

#define AUTH_DELAY_MAX_S 60ull /* 1, 2, 4 ... 32, 60, 60 s after each wrong one */

static struct {
	const char *path; /* the password file (config); NULL: default */
	unsigned failures; /* wrong passwords since the last right one */
	uint64_t until_ns; /* CLOCK_MONOTONIC: refuse every attempt before this */
} auth;

void auth_init(const struct hmd_config *cfg)
{
	auth.path = cfg->admin_password_file;
	auth.failures = 0;
	auth.until_ns = 0;
}

static uint64_t auth_delay_s(unsigned failures)
{
	if (failures == 0)
		return 0;
	if (failures > 7)
		return AUTH_DELAY_MAX_S;
	return (1ull << (failures - 1)) < AUTH_DELAY_MAX_S ? 1ull << (failures - 1)
	                                                   : AUTH_DELAY_MAX_S;
}

/* Seconds left of the refusal delay, rounded up; 0 when none. */
static uint64_t auth_wait_s(uint64_t now)
{
	if (now >= auth.until_ns)
		return 0;
	return (auth.until_ns - now + 999999999ull) / 1000000000ull;
}

static int auth_wrong(char *msg, size_t len)
{
	uint64_t delay;

	auth.failures++;
	delay = auth_delay_s(auth.failures);
	auth.until_ns = stats_now_ns() + delay * 1000000000ull;
	log_msg(LOG_WARNING,
	        "control socket: wrong admin password (%u in a row); further attempts refused "
	        "for %llu s",
	        auth.failures, (unsigned long long)delay);
	snprintf(msg, len, "wrong admin password; the next attempt is refused for %llu s",
	         (unsigned long long)delay);
	return -EACCES;
}

int auth_check(const char *password, char *msg, size_t len)
{
	const char *path = auth.path && auth.path[0] ? auth.path : HMD_DEFAULT_PASSWORD_FILE;
	struct wl_err err = {0};
	uint64_t wait;
	int rc;

	msg[0] = '\0';
	rc = wl_passwd_exists(path, &err);
	if (rc == -ENOENT)
		return 0; /* no password set: root alone is enough */
	wait = auth_wait_s(stats_now_ns());
	if (wait) {
		log_msg(LOG_WARNING,
		        "control socket: admin password attempt refused: %llu s "
		        "left of the delay after a wrong one",
		        (unsigned long long)wait);
		snprintf(msg, len, "too soon after a wrong admin password: try again in %llu s",
		         (unsigned long long)wait);
		return -EAGAIN;
	}
	if (!password || !password[0]) {
		snprintf(msg, len, "the admin password is required (hmilock passwd set one)");
		return -ENOKEY;
	}
	rc = wl_passwd_verify(path, password, &err);
	if (rc == -EACCES)
		return auth_wrong(msg, len);
	if (rc) {
		/* an unreadable or broken file refuses: never fall open */
		log_msg(LOG_ERR, "control socket: %s", err.msg);
		snprintf(msg, len, "%s", err.msg);
		return rc == -ENOENT ? -EACCES : rc;
	}
	auth.failures = 0;
	auth.until_ns = 0;
	return 0;
}

void auth_wipe(void *buf, size_t len)
{
	OPENSSL_cleanse(buf, len);
}
