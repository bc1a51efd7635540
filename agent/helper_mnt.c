/* helper_mnt.c - the mounts where the kernel helper cannot establish file
 * identity (HMK_ID_UNKNOWN: network filesystems, FUSE; overlayfs or btrfs
 * without their module's types): named in the log and in status, and,
 * unless [agent] strict_identity, entered in the helper's hmk_gated map
 * when the exec gate covers them, so that the helper leaves unapproved
 * programs there to the gate. Owns the table of those mounts, the table of
 * fresh mounts not asked about yet and the answer per filesystem type.
 * Main thread only (mounts.c, the timer, ctl.c's status).
 *
 * A fresh mount is never opened at once. Asking the kernel about a mount
 * holds it open for a moment, and a runtime that mounts and at once
 * unmounts (podman's overlay feature checks, at every boot) gets EBUSY when
 * its umount falls in that moment: podman then leaves the mount behind, and
 * every maintenance window after it refuses to open over an overlay it
 * cannot record. So:
 *  - the answer depends on the filesystem's type alone (the helper's
 *    inode_ident_flags): network filesystems and FUSE are unknown by name,
 *    any other type is asked once, through one of its mounts;
 *  - a fresh mount of a type not asked yet is asked about when it is
 *    HELPER_MNT_AGE_NS old, on the timer, and only if it is still there
 *    (a feature check is long gone by then). Until then it is in hmk_gated
 *    already when the gate covers it: the helper reads that map only for
 *    files whose identity it cannot establish, so an answer pending never
 *    turns into a refusal the final answer would not give. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "helper.h"
#include "helper_mnt.h"
#include "log.h"
#include "stats.h"
#include "../kmod/hmilock_abi.h"

#define HELPER_MNT_MAX 64
#define HELPER_MNT_TYPES 32
#define HELPER_MNT_AGE_NS 1000000000ull

struct helper_mnt_ent {
	uint64_t kdev; /* the kernel's dev_t of the superblock */
	uint64_t seen_ns; /* when mounts.c saw it (pending) */
	unsigned maj, min;
	bool covered; /* the exec gate marked it */
	bool gated; /* its kdev is in hmk_gated */
	char fstype[32];
	char *mountpoint;
};

static struct {
	struct helper_mnt_ent unknown[HELPER_MNT_MAX], pending[HELPER_MNT_MAX];
	size_t n_unknown, n_pending;
	struct {
		char fstype[32];
		uint32_t flags;
	} types[HELPER_MNT_TYPES];
	size_t n_types;
} hmn;

/* Types the helper cannot name files on whatever the kernel: their magic
 * is in inode_ident_flags's first list (NFS, SMB/CIFS, 9p, Ceph, AFS,
 * Coda, FUSE and virtiofs, which is FUSE). */
static bool helper_mnt_type_remote(const char *fstype)
{
	static const char *const remote[] = {"nfs", "nfs4", "cifs",     "smb3", "9p",     "ceph",
	                                     "afs", "coda", "virtiofs", "fuse", "fuseblk"};

	if (!strncmp(fstype, "fuse.", 5))
		return true;
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if (!strcmp(fstype, remote[i]))
			return true;
	return false;
}

/* The HMK_ID_* flags of fstype when known without asking. */
static bool helper_mnt_type_known(const char *fstype, uint32_t *flags)
{
	if (helper_mnt_type_remote(fstype))
		return *flags = HMK_ID_UNKNOWN, true;
	for (size_t i = 0; i < hmn.n_types; i++)
		if (!strcmp(hmn.types[i].fstype, fstype))
			return *flags = hmn.types[i].flags, true;
	return false;
}

static void helper_mnt_type_learn(const char *fstype, uint32_t flags)
{
	uint32_t f;

	if (hmn.n_types == HELPER_MNT_TYPES || strlen(fstype) >= sizeof(hmn.types[0].fstype) ||
	    helper_mnt_type_known(fstype, &f))
		return;
	strcpy(hmn.types[hmn.n_types].fstype, fstype);
	hmn.types[hmn.n_types++].flags = flags;
}

/* Ask through the mount at mp, if it is still the filesystem maj:min.
 * 0 with *flags, -ESTALE when another filesystem is there now (the mount
 * went), or -errno. */
static int helper_mnt_ask(const char *mp, unsigned maj, unsigned min, uint32_t *flags)
{
	struct stat st;
	int fd, rc;

	fd = open(mp, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		rc = -errno;
	else if (major(st.st_dev) != maj || minor(st.st_dev) != min)
		rc = -ESTALE;
	else
		rc = helper_ident_flags(fd, flags);
	close(fd);
	return rc;
}

/* Is kdev in hmk_gated for a mount still in one of the tables? */
static bool helper_mnt_kdev_gated(uint64_t kdev)
{
	for (size_t i = 0; i < hmn.n_unknown; i++)
		if (hmn.unknown[i].kdev == kdev && hmn.unknown[i].gated)
			return true;
	for (size_t i = 0; i < hmn.n_pending; i++)
		if (hmn.pending[i].kdev == kdev && hmn.pending[i].gated)
			return true;
	return false;
}

/* Put kdev in hmk_gated; false when it cannot be (map full: the helper
 * denies there). */
static bool helper_mnt_gate(uint64_t kdev)
{
	uint32_t one = 1;
	int fd = helper_gated_fd();

	return fd >= 0 && !helper_strict_identity() &&
	       !bpf_map_update_elem(fd, &kdev, &one, BPF_ANY);
}

/* Take kdev out of hmk_gated unless a mount in the tables still needs it. */
static void helper_mnt_ungate(uint64_t kdev)
{
	int fd = helper_gated_fd();

	if (fd >= 0 && !helper_mnt_kdev_gated(kdev))
		bpf_map_delete_elem(fd, &kdev);
}

static void helper_mnt_log_unknown(const struct helper_mnt_ent *e)
{
	bool strict = helper_strict_identity();

	log_msg(LOG_WARNING, "kernel helper: cannot establish file identity on %s (%s)%s",
	        e->mountpoint, e->fstype,
	        strict ? ": strict_identity = yes, every unapproved program and library there is "
	                 "denied"
	        : e->gated
	            ? ": programs there are left to the exec gate (checked by hash at each "
	              "exec), libraries mapped there are not checked ([agent] "
	              "strict_identity = yes denies them instead)"
	            : ": the exec gate does not cover it, so the helper denies every unapproved "
	              "program and library there");
}

/* Is mountpoint in tab already? */
static bool helper_mnt_has(const struct helper_mnt_ent *tab, size_t n, const char *mountpoint)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tab[i].mountpoint, mountpoint))
			return true;
	return false;
}

/* Enter e (its mountpoint taken over) as a mount of unknown identity. */
static void helper_mnt_add_unknown(struct helper_mnt_ent *e)
{
	if (helper_mnt_has(hmn.unknown, hmn.n_unknown, e->mountpoint)) {
		free(e->mountpoint);
		return;
	}
	e->gated = e->covered && helper_mnt_gate(e->kdev);
	helper_mnt_log_unknown(e);
	if (hmn.n_unknown < HELPER_MNT_MAX)
		hmn.unknown[hmn.n_unknown++] = *e;
	else
		free(e->mountpoint);
}

/* Hold a fresh mount for the timer (its mountpoint taken over); false when
 * the table is full (e untouched). */
static bool helper_mnt_pend(struct helper_mnt_ent *e)
{
	if (helper_mnt_has(hmn.pending, hmn.n_pending, e->mountpoint)) {
		free(e->mountpoint);
		return true;
	}
	if (hmn.n_pending == HELPER_MNT_MAX)
		return false;
	e->seen_ns = stats_now_ns();
	e->gated = e->covered && helper_mnt_gate(e->kdev);
	hmn.pending[hmn.n_pending++] = *e;
	return true;
}

void helper_mnt_seen(unsigned maj, unsigned min, const char *mountpoint, const char *fstype,
                     bool gated, bool fresh)
{
	struct helper_mnt_ent e = {
	    .kdev = ((uint64_t)maj << 20) | min, .maj = maj, .min = min, .covered = gated};
	uint32_t flags = 0;

	if (helper_gated_fd() < 0)
		return;
	e.mountpoint = strdup(mountpoint);
	if (!e.mountpoint)
		return; /* out of memory: as a known type (the helper denies there) */
	snprintf(e.fstype, sizeof(e.fstype), "%s", fstype);
	if (!helper_mnt_type_known(fstype, &flags)) {
		if (fresh && helper_mnt_pend(&e))
			return;
		if (helper_mnt_ask(mountpoint, maj, min, &flags))
			flags = 0; /* not answered: as a known type */
		else
			helper_mnt_type_learn(fstype, flags);
	}
	if (flags & HMK_ID_UNKNOWN)
		helper_mnt_add_unknown(&e);
	else
		free(e.mountpoint);
}

/* The pending mount e is old enough (taken out of the table): ask. */
static void helper_mnt_resolve(struct helper_mnt_ent *e)
{
	uint32_t flags = 0;
	bool known = helper_mnt_type_known(e->fstype, &flags);
	int rc = 0;

	if (!known) {
		rc = helper_mnt_ask(e->mountpoint, e->maj, e->min, &flags);
		if (!rc) {
			helper_mnt_type_learn(e->fstype, flags);
			log_msg(
			    LOG_INFO,
			    "kernel helper: asked about %s filesystems through %s (mounted %.1f s "
			    "before): %s file identity",
			    e->fstype, e->mountpoint, (stats_now_ns() - e->seen_ns) / 1e9,
			    flags & HMK_ID_UNKNOWN ? "unknown" : "known");
		}
	}
	if (!rc && (flags & HMK_ID_UNKNOWN)) {
		helper_mnt_add_unknown(e);
		return;
	}
	/* known, or gone (-ESTALE, -ENOENT: mounts.c says so), or not answered */
	if (e->gated) {
		e->gated = false;
		helper_mnt_ungate(e->kdev);
	}
	free(e->mountpoint);
}

void helper_mnt_tick(void)
{
	uint64_t now = stats_now_ns();
	struct helper_mnt_ent e;

	for (size_t i = 0; i < hmn.n_pending; i++) {
		if (now - hmn.pending[i].seen_ns < HELPER_MNT_AGE_NS)
			continue;
		e = hmn.pending[i];
		hmn.pending[i--] = hmn.pending[--hmn.n_pending];
		helper_mnt_resolve(&e);
	}
}

/* Drop the entries for mountpoint from tab; true when one was gated. */
static bool helper_mnt_drop(struct helper_mnt_ent *tab, size_t *n, const char *mountpoint)
{
	bool gated = false;

	for (size_t i = 0; i < *n; i++) {
		if (strcmp(tab[i].mountpoint, mountpoint))
			continue;
		gated |= tab[i].gated;
		free(tab[i].mountpoint);
		tab[i--] = tab[--*n];
	}
	return gated;
}

void helper_mnt_gone(unsigned maj, unsigned min, const char *mountpoint)
{
	uint64_t kdev = ((uint64_t)maj << 20) | min;
	bool gated = helper_mnt_drop(hmn.unknown, &hmn.n_unknown, mountpoint);

	gated |= helper_mnt_drop(hmn.pending, &hmn.n_pending, mountpoint);
	if (gated)
		helper_mnt_ungate(kdev);
}

void helper_mnt_gaps(char *buf, size_t len)
{
	size_t o = 0;
	int n;

	buf[0] = 0;
	for (size_t i = 0; i < hmn.n_unknown && o < len; i++) {
		n = snprintf(buf + o, len - o, "%sfile identity unknown on %s (%s): %s",
		             o ? "; " : "", hmn.unknown[i].mountpoint, hmn.unknown[i].fstype,
		             hmn.unknown[i].gated
		                 ? "programs checked by the exec gate only, libraries not checked"
		                 : "every unapproved program and library denied");
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

void helper_mnt_fini(void)
{
	for (size_t i = 0; i < hmn.n_unknown; i++)
		free(hmn.unknown[i].mountpoint);
	for (size_t i = 0; i < hmn.n_pending; i++)
		free(hmn.pending[i].mountpoint);
	hmn.n_unknown = hmn.n_pending = 0;
}
