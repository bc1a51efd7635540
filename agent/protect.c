/* protect.c - where the files that decide enforcement (HMK_PROTECTED_FILES
 * of kmod/hmilock_abi.h) are on this box: the configuration's paths, the
 * state file and journal next to the list, the binaries next to the running
 * hmilockd and the systemd unit. helper.c protects them in the kernel;
 * this file only names them. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "protect.h"
#include "state.h"
#include "wl.h"

static const struct {
	const char *what;
	bool pkg;
} protect_kinds[HMK_PF__MAX] = {
#define PROTECT_KIND(kind, w, p) [kind] = {w, p},
    HMK_PROTECTED_FILES(PROTECT_KIND)
#undef PROTECT_KIND
};

/* Where systemd finds the unit: an administrator's copy first. */
static const char *const protect_units[] = {
    "/etc/systemd/system/hmilockd.service",
    "/lib/systemd/system/hmilockd.service",
    "/usr/lib/systemd/system/hmilockd.service",
};

static void protect_set(struct protect_file *f, const char *path)
{
	if (snprintf(f->path, sizeof(f->path), "%s", path ? path : "") >= (int)sizeof(f->path))
		f->path[0] = '\0';
}

static char protect_daemon[PATH_MAX], protect_cli[PATH_MAX];

/* The running hmilockd (after an upgrade the link reads "... (deleted)":
 * the path is the new binary's) and the CLI next to it; read once. */
static void protect_self(void)
{
	static const char del[] = " (deleted)";
	const size_t dl = sizeof(del) - 1;
	ssize_t n = readlink("/proc/self/exe", protect_daemon, sizeof(protect_daemon) - 1);

	protect_cli[0] = '\0';
	if (n <= 0) {
		protect_daemon[0] = '\0';
		return;
	}
	protect_daemon[n] = '\0';
	if ((size_t)n > dl && !strcmp(protect_daemon + n - dl, del))
		protect_daemon[n - dl] = '\0';
	if (wl_path_sibling(protect_daemon, "hmilock", protect_cli, sizeof(protect_cli)))
		protect_cli[0] = '\0';
}

void protect_paths(const struct hmd_config *cfg, struct protect_file out[HMK_PF__MAX])
{
	char path[PATH_MAX];
	struct stat st;

	for (int i = 0; i < HMK_PF__MAX; i++) {
		out[i].what = protect_kinds[i].what;
		out[i].pkg = protect_kinds[i].pkg;
		out[i].path[0] = '\0';
	}
	protect_set(&out[HMK_PF_CONFIG], cfg->path);
	protect_set(&out[HMK_PF_LIST], cfg->db);
	if (snprintf(path, sizeof(path), "%s.prev", cfg->db) < (int)sizeof(path))
		protect_set(&out[HMK_PF_LIST_PREV], path);
	protect_set(&out[HMK_PF_KEY], cfg->key);
	protect_set(&out[HMK_PF_PASSWORD], cfg->admin_password_file);
	if (state_sibling("state", path, sizeof(path)) == 0)
		protect_set(&out[HMK_PF_STATE], path);
	protect_set(&out[HMK_PF_JOURNAL], journal_path());
	protect_set(&out[HMK_PF_IMPORT_KEY], cfg->import_pubkey);
	for (size_t i = 0; i < sizeof(protect_units) / sizeof(protect_units[0]); i++)
		if (!lstat(protect_units[i], &st)) {
			protect_set(&out[HMK_PF_UNIT], protect_units[i]);
			break;
		}
	if (!protect_daemon[0])
		protect_self();
	protect_set(&out[HMK_PF_DAEMON], protect_daemon);
	protect_set(&out[HMK_PF_CLI], protect_cli);
}
