/* protect.h - the files that decide enforcement on this box (owned by protect.c). */
#ifndef HMD_PROTECT_H
#define HMD_PROTECT_H

#include <limits.h>
#include <stdbool.h>

#include "config.h"
#include "../kmod/hmilock_abi.h"

struct protect_file {
	const char *what; /* "admin password", ... */
	bool pkg; /* shipped by the package (a trusted update replaces it) */
	char path[PATH_MAX]; /* "" where this box has none */
};

/* The path of each kind of HMK_PROTECTED_FILES, from cfg and the daemon's
 * own (state file, journal, binaries, unit), into out[HMK_PF__MAX]. */
void protect_paths(const struct hmd_config *cfg, struct protect_file out[HMK_PF__MAX]);

#endif
