/* helper_mnt.h - mounts where the kernel helper cannot establish file
 * identity (owned by helper_mnt.c). */
#ifndef HMD_HELPER_MNT_H
#define HMD_HELPER_MNT_H

#include <stdbool.h>
#include <stddef.h>

/* mounts.c: a mount in scope appeared (gated: the exec gate marked it;
 * fresh: it appeared while hmilockd runs, not in its start-up scan) or
 * went. Where the helper cannot establish file identity (HMK_ID_UNKNOWN:
 * network, FUSE; overlayfs or btrfs without their module types) it is
 * named in the log and in status, and the helper leaves unapproved files
 * there to the exec gate when the gate covers it ([agent] strict_identity
 * = no, the default). A fresh mount is not opened before it is a second
 * old (helper_mnt.c says why). */
void helper_mnt_seen(unsigned maj, unsigned min, const char *mountpoint, const char *fstype,
                     bool gated, bool fresh);
void helper_mnt_gone(unsigned maj, unsigned min, const char *mountpoint);
/* Every second (hmilockd.c's timer): ask about the fresh mounts that are
 * old enough. */
void helper_mnt_tick(void);
void helper_mnt_gaps(char *buf, size_t len); /* "" when none; for hmilock status */
void helper_mnt_fini(void);
#endif /* HMD_HELPER_MNT_H */
