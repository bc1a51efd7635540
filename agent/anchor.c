/* anchor.c - the rest of the trust the kernel helper gives the hmilockd
 * binary. While no daemon is registered (it was stopped, or it crashed) the
 * helper lets any process running the protected hmilockd binary open its
 * maps and pins, so that a restarted daemon re-attaches. That process is our
 * code, but root chooses its arguments: this file makes it go on only with
 * the configuration file the helper was locked under (which the helper
 * protects, and with it the list, state, key and password files it names),
 * and remove the helper (--unpin) only with the admin password of the
 * password file it was locked with. Both are recorded in the pinned config
 * map (hmk_config.files, which only the daemon writes: helper.c). Stateless;
 * main thread. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "anchor.h"
#include "wl.h"

static const char *anchor_pwfile(const struct hmd_config *cfg)
{
	return cfg->admin_password_file[0] ? cfg->admin_password_file : HMD_DEFAULT_PASSWORD_FILE;
}

int anchor_check(const struct hmk_config *pinned, const struct hmd_config *cfg, char *why,
                 size_t len)
{
	const __u64 *conf = pinned->files[HMK_PF_CONFIG];

	if (pinned->mode != HMK_MODE_ENFORCE || !conf[1])
		return 0;
	if (conf[0] == (uint64_t)cfg->path_dev && conf[1] == (uint64_t)cfg->path_ino)
		return 0;
	snprintf(why, len,
	         "the pinned helper enforces under another configuration file (inode %llu on "
	         "device %llu:%llu), not %s: start hmilockd with the configuration it was "
	         "locked with, or unlock it first (hmilock mode audit, or a maintenance window)",
	         (unsigned long long)conf[1], (unsigned long long)major((dev_t)conf[0]),
	         (unsigned long long)minor((dev_t)conf[0]), cfg->path);
	return -EPERM;
}

static int anchor_pinned(struct hmk_config *out, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);
	uint32_t k = 0;
	int fd, err = 0;

	fd = bpf_obj_get_opts(HMK_PIN_DIR "/hmk_config", &o);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			snprintf(why, len, "cannot open %s/hmk_config: %s", HMK_PIN_DIR,
			         strerror(-err));
		return err;
	}
	if (bpf_map_lookup_elem(fd, &k, out)) {
		err = -errno;
		snprintf(why, len, "cannot read %s/hmk_config: %s", HMK_PIN_DIR, strerror(-err));
	}
	close(fd);
	return err;
}

int anchor_unpin(const struct hmd_config *cfg, const char *cfg_msg, const char *password, char *why,
                 size_t len)
{
	struct hmk_config c;
	struct wl_err e = {0};
	int rc;

	rc = anchor_pinned(&c, why, len);
	if (rc == -ENOENT)
		return 0; /* nothing pinned: nothing to guard */
	if (rc < 0)
		return rc;
	if (c.mode != HMK_MODE_ENFORCE)
		return 0; /* audit, maintenance, off: the helper refuses nothing */
	if (c.daemon_tgid) {
		snprintf(why, len,
		         "hmilockd (pid %u) is running and holds the helper: only it removes the "
		         "helper (stop it first, with the box unlocked or in a maintenance window)",
		         c.daemon_tgid);
		return -EBUSY;
	}
	if (!cfg) {
		snprintf(why, len, "the helper enforces and the configuration cannot be read: %s",
		         cfg_msg);
		return -EPERM;
	}
	rc = anchor_check(&c, cfg, why, len);
	if (rc < 0)
		return rc;
	if (!c.files[HMK_PF_PASSWORD][1])
		return 0; /* no admin password was set: root alone is enough */
	if (!password || !password[0]) {
		snprintf(why, len,
		         "the helper enforces and an admin password is set: give it "
		         "(--password-file, HMILOCK_PASSWORD_FILE or HMILOCK_PASSWORD), or open a "
		         "maintenance window first (hmilock maintenance begin)");
		return -ENOKEY;
	}
	rc = wl_passwd_verify_id(anchor_pwfile(cfg), c.files[HMK_PF_PASSWORD][0],
	                         c.files[HMK_PF_PASSWORD][1], password, &e);
	if (rc < 0)
		snprintf(why, len, "%s", e.msg);
	return rc;
}

int anchor_password(const char *file, char *out, size_t len, char *why, size_t wlen)
{
	const char *env = getenv("HMILOCK_PASSWORD");
	struct wl_err err = {0};

	out[0] = '\0';
	if (!file || !file[0])
		file = getenv("HMILOCK_PASSWORD_FILE");
	if (file && file[0]) {
		if (wl_passwd_read_file(file, out, len, &err) < 0) {
			snprintf(why, wlen, "password file %s", err.msg);
			return err.code;
		}
		return 0;
	}
	if (!env)
		return 0;
	if (!env[0] || strlen(env) >= len) {
		snprintf(why, wlen, "HMILOCK_PASSWORD: %s",
		         env[0] ? "longer than the longest password" : "empty");
		return -EINVAL;
	}
	memcpy(out, env, strlen(env) + 1);
	return 0;
}
