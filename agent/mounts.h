/* mounts.h - which mounts are marked; /proc/self/mountinfo watch (owned by mounts.c). */
#ifndef HMD_MOUNTS_H
#define HMD_MOUNTS_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "wl.h"

struct mnt_info {
	int id, parent;
	unsigned major, minor;
	char mountpoint[PATH_MAX]; /* unescaped */
	char fstype[256]; /* truncated when longer: never a pseudo name then */
	bool ro; /* mounted read-only (mount or superblock option "ro") */
};

/* Parse one mountinfo line (modifies line). 0 or -EINVAL. */
int mounts_parse_line(char *line, struct mnt_info *out);
/* The first mount point of a filesystem of type fstype in
 * /proc/self/mountinfo into out ("" for none): 0, or -errno when it cannot
 * be read. */
int mounts_find_fstype(const char *fstype, char *out, size_t len);
bool mounts_fstype_pseudo(const char *fstype);
/* Left out of the change recorder by rule (pseudo, ramfs, FUSE views). */
bool mounts_fstype_unrecorded(const char *fstype);
int mounts_init(const struct hmd_config *cfg, char *msg, size_t msglen); /* initial marks */
/* What stays open about mounts when only fanotify enforces (no helper):
 * mounts made in other mount namespaces, mountinfo lines not understood.
 * "" when nothing; for hmilock status. */
void mounts_gaps(char *buf, size_t len);
int mounts_fd(void); /* poll for POLLPRI */
void mounts_handle(void);
void mounts_fini(void);
#endif /* HMD_MOUNTS_H */
