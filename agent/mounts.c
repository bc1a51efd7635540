/* mounts.c - which mounts carry our FAN_OPEN_EXEC_PERM mark, and the watch on
 * /proc/self/mountinfo (mnt_fd, POLLPRI) that marks new mounts and tidies
 * unmounted ones. Main thread only: mounts_init at start, mounts_handle
 * from the poll loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fan.h"
#include "helper_mnt.h"
#include "log.h"
#include "mounts.h"
#include "stats.h"

/*
 * What gets marked:
 *  - no [watch] mounts: every filesystem that can hold executables, one
 *    FAN_MARK_FILESYSTEM per superblock (all its mounts, bind mounts
 *    included, and every later mount of it), FAN_MARK_MOUNT where the
 *    kernel refuses a superblock mark; pseudo filesystems are left out;
 *  - [watch] mounts = A B: exactly the mounts at A and B and every mount
 *    at or below them, each with FAN_MARK_MOUNT. A mount mark is the safe
 *    choice there: it covers that mount and nothing else, so a watch point
 *    that is a bind mount of a bigger filesystem (or of /) never extends
 *    enforcement to the rest of that filesystem, the way a superblock mark
 *    would; for a tmpfs of its own the two cover the same files anyway.
 *    Every watch point must be a mount point, or the daemon refuses to start
 *    (a plain directory would silently mean "the mount it lives on").
 *
 * A mount stacked under another at the same point is marked through its
 * path, i.e. the top one; what is hidden below cannot be reached by path.
 */
struct mnt_mark {
	int id;
	unsigned major, minor;
	char *mountpoint;
	const char *kind; /* "mount", "filesystem", "covered", "failed" */
	bool owns_mark; /* counts in hmd_stats.marks */
	bool seen; /* present in the latest scan */
};

static int mnt_fd = -1;
static struct mnt_mark *mnt_tab;
static size_t mnt_n, mnt_cap;
static char (*mnt_roots)[PATH_MAX];
static size_t mnt_n_roots;

bool mounts_fstype_pseudo(const char *fstype)
{
	static const char *const pseudo[] = {
	    "proc",       "sysfs",       "cgroup", "cgroup2",  "bpf",      "debugfs",
	    "tracefs",    "securityfs",  "pstore", "configfs", "fusectl",  "mqueue",
	    "devpts",     "binfmt_misc", "autofs", "nsfs",     "efivarfs", "selinuxfs",
	    "rpc_pipefs", "hugetlbfs",   "nfsd",   "sockfs",   "pipefs",
	};

	for (size_t i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++)
		if (!strcmp(fstype, pseudo[i]))
			return true;
	return false;
}

/* Filesystems the change recorder (recorder.c) leaves out by rule: every
 * pseudo filesystem above, and special ones that cannot take its
 * filesystem mark (no file handles, or no fsid): ramfs (systemd's
 * credential mounts, /run/credentials/<unit>), and FUSE views of files
 * that live elsewhere (the desktop's document portal and gvfs). Nothing
 * is installed there: what a package or installer puts on the box lands
 * on a real filesystem, which is recorded. */
bool mounts_fstype_unrecorded(const char *fstype)
{
	static const char *const special[] = {"ramfs", "fuse.portal", "fuse.gvfsd-fuse"};

	if (mounts_fstype_pseudo(fstype))
		return true;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (!strcmp(fstype, special[i]))
			return true;
	return false;
}

/* Is "ro" one of the comma-separated options? */
static bool mounts_opt_ro(const char *opts)
{
	size_t n;

	for (const char *p = opts; p && *p; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		if (n == 2 && !strncmp(p, "ro", 2))
			return true;
	}
	return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static int mounts_unescape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *p = in; *p; p++) {
		char c = *p;

		if (c == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			c = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		}
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

/* "36 35 98:0 /root /mnt/point rw,noatime master:1 - ext3 /dev/sda1 rw" */
int mounts_parse_line(char *line, struct mnt_info *out)
{
	char *save = NULL, *tok[6], *t;
	int i;

	for (i = 0; i < 6; i++) {
		tok[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!tok[i])
			return -EINVAL;
	}
	if (sscanf(tok[0], "%d", &out->id) != 1 || sscanf(tok[1], "%d", &out->parent) != 1 ||
	    sscanf(tok[2], "%u:%u", &out->major, &out->minor) != 2 || tok[4][0] != '/')
		return -EINVAL;
	if (mounts_unescape(tok[4], out->mountpoint, sizeof(out->mountpoint)) < 0)
		return -EINVAL;
	/* Optional fields up to the lone "-", then the fs type. */
	while ((t = strtok_r(NULL, " ", &save)) && strcmp(t, "-"))
		;
	t = t ? strtok_r(NULL, " \n", &save) : NULL;
	if (!t)
		return -EINVAL;
	/* A type too long to keep (FUSE's "fuse.<subtype>" is the user's to
	 * choose) is kept truncated: no pseudo type is that long, so the mount
	 * is marked like any other. Skipping it would leave it unchecked. */
	snprintf(out->fstype, sizeof(out->fstype), "%s", t);
	/* read-only: the mount's options (tok[5]) or the superblock's (after
	 * the source) */
	out->ro = mounts_opt_ro(tok[5]);
	if (strtok_r(NULL, " \n", &save) && (t = strtok_r(NULL, " \n", &save)))
		out->ro = out->ro || mounts_opt_ro(t);
	return 0;
}

int mounts_find_fstype(const char *fstype, char *out, size_t len)
{
	char line[2 * PATH_MAX];
	struct mnt_info mi;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	out[0] = '\0';
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (mounts_parse_line(line, &mi) == 0 && !strcmp(mi.fstype, fstype)) {
			snprintf(out, len, "%s", mi.mountpoint);
			break;
		}
	fclose(f);
	return 0;
}

static bool mounts_wanted(const struct mnt_info *mi)
{
	if (mounts_fstype_pseudo(mi->fstype))
		return false;
	if (mnt_n_roots == 0)
		return true;
	for (size_t i = 0; i < mnt_n_roots; i++)
		if (wl_path_below(mnt_roots[i], mi->mountpoint))
			return true;
	return false;
}

static struct mnt_mark *mounts_find(const struct mnt_info *mi)
{
	for (size_t i = 0; i < mnt_n; i++)
		if (mnt_tab[i].id == mi->id && mnt_tab[i].major == mi->major &&
		    mnt_tab[i].minor == mi->minor && !strcmp(mnt_tab[i].mountpoint, mi->mountpoint))
			return &mnt_tab[i];
	return NULL;
}

/* Another live entry already holding a superblock mark for this device? */
static bool mounts_sb_marked(unsigned major, unsigned minor)
{
	for (size_t i = 0; i < mnt_n; i++)
		if (mnt_tab[i].major == major && mnt_tab[i].minor == minor &&
		    mnt_tab[i].owns_mark && !strcmp(mnt_tab[i].kind, "filesystem"))
			return true;
	return false;
}

/* Mark one newly seen mount and remember it. */
static int mounts_add(const struct mnt_info *mi, bool later)
{
	struct mnt_mark *e;
	const char *kind = "mount";
	int rc = 0;

	if (mnt_n == mnt_cap) {
		size_t cap = mnt_cap ? 2 * mnt_cap : 32;
		struct mnt_mark *t = realloc(mnt_tab, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		mnt_tab = t;
		mnt_cap = cap;
	}
	e = &mnt_tab[mnt_n];
	memset(e, 0, sizeof(*e));
	e->mountpoint = strdup(mi->mountpoint);
	if (!e->mountpoint)
		return -ENOMEM;
	e->id = mi->id;
	e->major = mi->major;
	e->minor = mi->minor;
	e->seen = true;
	mnt_n++;
	if (mnt_n_roots == 0 && mounts_sb_marked(mi->major, mi->minor)) {
		e->kind = "covered"; /* its superblock is marked already */
		helper_mnt_seen(mi->major, mi->minor, mi->mountpoint, mi->fstype, true, later);
		return 0;
	}
	rc = mnt_n_roots ? fan_mark_mount(mi->mountpoint) : fan_mark_fs(mi->mountpoint, &kind);
	helper_mnt_seen(mi->major, mi->minor, mi->mountpoint, mi->fstype, rc == 0, later);
	if (rc < 0) {
		e->kind = "failed";
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR, "cannot mark %s (%s): %s - execs there are NOT checked",
		        mi->mountpoint, mi->fstype, strerror(-rc));
		return rc;
	}
	e->kind = kind;
	e->owns_mark = true;
	atomic_fetch_add(&hmd_stats.marks, 1);
	if (later) {
		atomic_fetch_add(&hmd_stats.mounts_marked_later, 1);
		log_msg(LOG_NOTICE, "new mount %s (%s) marked (%s)", mi->mountpoint, mi->fstype,
		        kind);
	}
	return 0;
}

/* Forget a mount that is gone; the kernel dropped its mark with it. */
static void mounts_remove(size_t i)
{
	struct mnt_mark *e = &mnt_tab[i];

	if (e->owns_mark) {
		/* A superblock mark lives on while another mount of it does. */
		for (size_t j = 0; j < mnt_n; j++) {
			if (j != i && mnt_tab[j].seen && mnt_tab[j].major == e->major &&
			    mnt_tab[j].minor == e->minor && !strcmp(mnt_tab[j].kind, "covered") &&
			    !strcmp(e->kind, "filesystem")) {
				mnt_tab[j].kind = "filesystem";
				mnt_tab[j].owns_mark = true;
				e->owns_mark = false;
				break;
			}
		}
		if (e->owns_mark)
			atomic_fetch_sub(&hmd_stats.marks, 1);
	}
	log_msg(LOG_INFO, "unmounted: %s", e->mountpoint);
	helper_mnt_gone(e->major, e->minor, e->mountpoint);
	free(e->mountpoint);
	mnt_tab[i] = mnt_tab[--mnt_n];
}

/* Read all of mountinfo from the start. */
static char *mounts_read(void)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap), *t;
	ssize_t n;

	if (!buf)
		return NULL;
	if (lseek(mnt_fd, 0, SEEK_SET) < 0)
		goto free_buf;
	for (;;) {
		n = read(mnt_fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (cap - len - 1 == 0) {
			t = realloc(buf, cap * 2);
			if (!t)
				goto free_buf;
			buf = t;
			cap *= 2;
		}
	}
	if (n < 0)
		goto free_buf;
	buf[len] = 0;
	return buf;
free_buf:
	free(buf);
	return NULL;
}

/* mounts_parse_line for a scan: a line it does not understand is a mount
 * nobody marks, so it is counted and logged (bad->lines, and every line
 * each time the set of such lines changes); true when line was bad. */
struct mounts_bad {
	uint64_t lines, hash;
	char text[8][160];
};

static bool mounts_parse_bad(char *line, struct mnt_info *mi, struct mounts_bad *bad)
{
	char copy[160];

	snprintf(copy, sizeof(copy), "%s", line);
	if (mounts_parse_line(line, mi) == 0)
		return false;
	for (const char *p = copy; *p; p++)
		bad->hash = (bad->hash ^ (unsigned char)*p) * 0x100000001b3ULL;
	if (bad->lines < sizeof(bad->text) / sizeof(bad->text[0]))
		memcpy(bad->text[bad->lines], copy, sizeof(copy));
	bad->lines++;
	return true;
}

static void mounts_bad_report(const struct mounts_bad *bad)
{
	static uint64_t last_hash, last_lines;
	size_t n = sizeof(bad->text) / sizeof(bad->text[0]);

	atomic_store(&hmd_stats.mountinfo_unparsed, bad->lines);
	if (bad->lines == last_lines && bad->hash == last_hash)
		return;
	last_lines = bad->lines;
	last_hash = bad->hash;
	for (size_t i = 0; i < bad->lines && i < n; i++)
		log_msg(LOG_ERR,
		        "mountinfo line not understood, its mount is NOT marked (execs there are "
		        "checked only by the kernel helper): %s",
		        bad->text[i]);
	if (bad->lines > n)
		log_msg(LOG_ERR, "%llu more mountinfo lines not understood",
		        (unsigned long long)(bad->lines - n));
}

static int mounts_scan(bool later)
{
	char *buf = mounts_read(), *line, *save = NULL;
	struct mounts_bad bad = {.hash = 0xcbf29ce484222325ULL};
	struct mnt_info mi;
	struct mnt_mark *e;

	if (!buf)
		return -errno ? -errno : -ENOMEM;
	for (size_t i = 0; i < mnt_n; i++)
		mnt_tab[i].seen = false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (mounts_parse_bad(line, &mi, &bad) || !mounts_wanted(&mi))
			continue;
		e = mounts_find(&mi);
		if (e)
			e->seen = true;
		else if (mounts_add(&mi, later) == -ENOMEM)
			break;
	}
	free(buf);
	mounts_bad_report(&bad);
	for (size_t i = mnt_n; i-- > 0;)
		if (!mnt_tab[i].seen)
			mounts_remove(i);
	return 0;
}

/* Is path (already canonical) a mount point right now? */
static bool mounts_is_mountpoint(const char *path)
{
	char *buf = mounts_read(), *line, *save = NULL;
	struct mnt_info mi;
	bool found = false;

	if (!buf)
		return false;
	for (line = strtok_r(buf, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
		found = mounts_parse_line(line, &mi) == 0 && !strcmp(mi.mountpoint, path);
	free(buf);
	return found;
}

static int mounts_roots(const struct hmd_config *cfg, char *msg, size_t msglen)
{
	mnt_n_roots = 0;
	if (cfg->n_watch == 0)
		return 0;
	mnt_roots = calloc(cfg->n_watch, sizeof(*mnt_roots));
	if (!mnt_roots)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_watch; i++) {
		if (!realpath(cfg->watch[i], mnt_roots[i])) {
			snprintf(msg, msglen, "%s: [watch] mounts: %s: %s", cfg->path,
			         cfg->watch[i], strerror(errno));
			return -errno;
		}
		if (!mounts_is_mountpoint(mnt_roots[i])) {
			snprintf(msg, msglen,
			         "%s: [watch] mounts: %s is not a mount point (a watch point must"
			         " be one: mount the filesystem there, or watch its mount point)",
			         cfg->path, cfg->watch[i]);
			return -EINVAL;
		}
		mnt_n_roots++;
	}
	return 0;
}

/* ---- user namespaces -------------------------------------------------- */

#define MOUNTS_USERNS_SYSCTL "/proc/sys/user/max_user_namespaces"

/* user.max_user_namespaces now: -1 when it cannot be read. */
static long mounts_userns_max(void)
{
	char buf[32] = "";
	long v = -1;
	int fd = open(MOUNTS_USERNS_SYSCTL, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtol(buf, NULL, 10);
	close(fd);
	return v;
}

/*
 * [agent] user_namespaces = off. Any user who may create a user namespace
 * may mount a tmpfs of their own in it (unshare -Urm), and with [watch]
 * mounts reach a watched file through a copy of its mount that carries no
 * mark: no fanotify mark can follow either. The kernel helper checks every
 * exec whatever the mount; without it, this closes the hole at the source.
 * Writing the sysctl needs CAP_SYS_RESOURCE (the kernel's rule for user.*);
 * a failure is logged and shown in status, and the daemon still starts.
 */
static void mounts_userns_apply(const struct hmd_config *cfg)
{
	long was = mounts_userns_max();
	int fd, err = 0;

	if (!cfg->userns_off || was == 0)
		return;
	fd = open(MOUNTS_USERNS_SYSCTL, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0\n", 2) != 2)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err) {
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR,
		        "[agent] user_namespaces = off: cannot write 0 to " MOUNTS_USERNS_SYSCTL
		        ": %s%s; users may still mount in namespaces of their own",
		        strerror(err),
		        err == EPERM || err == EACCES
		            ? " (needs CAP_SYS_RESOURCE in hmilockd's capability bounding set)"
		            : "");
		return;
	}
	log_msg(LOG_NOTICE,
	        "[agent] user_namespaces = off: user.max_user_namespaces set to 0 (was %ld); "
	        "no new user namespaces on this box",
	        was);
}

void mounts_gaps(char *buf, size_t len)
{
	long userns = mounts_userns_max();
	uint64_t bad = atomic_load(&hmd_stats.mountinfo_unparsed);
	size_t o = 0;

	buf[0] = 0;
	if (userns != 0)
		o += (size_t)snprintf(
		    buf, len,
		    "exec from mounts made in other mount namespaces%s (user "
		    "namespaces allowed: user.max_user_namespaces=%ld; [agent] "
		    "user_namespaces = off closes it)",
		    mnt_n_roots ? " and from copies of the watched mounts there" : "", userns);
	if (bad && o < len)
		snprintf(buf + o, len - o,
		         "%s%llu mountinfo lines not understood (those mounts are "
		         "not marked; see the log)",
		         o ? "; " : "", (unsigned long long)bad);
}

int mounts_init(const struct hmd_config *cfg, char *msg, size_t msglen)
{
	int rc;

	mounts_userns_apply(cfg);

	mnt_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mnt_fd < 0) {
		rc = -errno;
		snprintf(msg, msglen, "/proc/self/mountinfo: %s", strerror(errno));
		return rc;
	}
	rc = mounts_roots(cfg, msg, msglen);
	if (rc < 0)
		return rc;
	rc = mounts_scan(false);
	if (rc < 0) {
		snprintf(msg, msglen, "reading /proc/self/mountinfo: %s", strerror(-rc));
		return rc;
	}
	/* A watch point that could not be marked is a start failure: that is
	 * exactly what the operator asked to protect. */
	for (size_t i = 0; i < mnt_n; i++) {
		for (size_t r = 0; r < mnt_n_roots; r++) {
			if (!strcmp(mnt_tab[i].mountpoint, mnt_roots[r]) &&
			    !strcmp(mnt_tab[i].kind, "failed")) {
				snprintf(msg, msglen, "cannot mark watch point %s", mnt_roots[r]);
				return -EIO;
			}
		}
	}
	if (atomic_load(&hmd_stats.marks) == 0) {
		snprintf(msg, msglen, "no filesystem could be marked");
		return -ENODEV;
	}
	log_msg(LOG_INFO, "%llu marks placed%s", (unsigned long long)atomic_load(&hmd_stats.marks),
	        mnt_n_roots ? " ([watch] mounts and below)" : " (every filesystem)");
	return 0;
}

int mounts_fd(void)
{
	return mnt_fd;
}

void mounts_handle(void)
{
	int rc = mounts_scan(true);

	if (rc < 0) {
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR, "rescanning /proc/self/mountinfo: %s", strerror(-rc));
	}
}

void mounts_fini(void)
{
	for (size_t i = 0; i < mnt_n; i++)
		free(mnt_tab[i].mountpoint);
	free(mnt_tab);
	free(mnt_roots);
	mnt_tab = NULL;
	mnt_roots = NULL;
	mnt_n = mnt_cap = mnt_n_roots = 0;
	helper_mnt_fini();
	if (mnt_fd >= 0)
		close(mnt_fd);
	mnt_fd = -1;
}
