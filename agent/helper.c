/* helper.c - loader of the kernel helper (kmod/hmilock.bpf.c, a BPF LSM):
 * probes support, loads or re-attaches what is pinned under HMK_PIN_DIR and
 * keeps its maps in step with the approved list and the mode (its events are
 * read by helper_ev.c). Owns the skeleton and the mapped hmk_config. One
 * file over the ~800-line soft cap: the skeleton and the mapping are private
 * here, and splitting the map setters off would expose both. helper_init,
 * helper_fini, helper_unpin and helper_sync run on the main thread; the map
 * setters (approve, forget, mode) may be called from any thread: each is one
 * bpf() call or one aligned store, and an approval's epoch is read under
 * helper_epoch_lock (helper_sync). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "anchor.h"
#include "helper.h"
#include "helper_ev.h"
#include "list.h"
#include "log.h"
#include "protect.h"
#include "state.h"
#include "written.h"
#include "stats.h"
#include "../kmod/hmilock_abi.h"
#include "hmilock.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static struct {
	struct hmilock_bpf *skel;
	struct hmk_config *cfg; /* hmk_config value, mmap'd */
	struct bpf_link *links[32];
	size_t n_links;
	bool active, reattached;
	bool refused; /* a pinned helper that enforces refused this configuration */
	struct hmc_helper_counters base; /* hmk_stats when this daemon attached */
	const struct hmd_config *dcfg; /* the daemon's, for re-protecting after a reload */
	char status[600];
} hp;

/* What is open when the helper is not there (hmilock status, the log). */
static const char helper_gap_list[] =
    "unlisted libraries mapped executable (dlopen, LD_PRELOAD, ld.so ./prog, mmap/mprotect "
    "PROT_EXEC); exec of memfd and of filesystems not yet marked; writes, truncation, "
    "rename and unlink of approved files and of hmilock's own files, mounts over them; kill "
    "and ptrace of hmilockd; scripts run by listed interpreters; machine code a listed "
    "program writes into memory and runs (W^X, /proc/PID/mem); enforcement while hmilockd is "
    "not running";

static const char *const helper_default_interp[] = {
    "/usr/bin/sh",     "/usr/bin/bash",   "/usr/bin/dash", "/usr/bin/python3*", "/usr/bin/perl",
    "/usr/bin/perl5*", "/usr/bin/ruby*",  "/usr/bin/lua*", "/usr/bin/tclsh*",   "/usr/bin/php*",
    "/usr/bin/node",   "/usr/bin/nodejs", "/usr/bin/gawk", "/usr/bin/mawk",     "/bin/sh",
    "/bin/bash",       "/bin/dash",
};

/* ---- small pieces ------------------------------------------------------- */

/* Userspace st_dev -> the kernel's dev_t (major << 20 | minor). */
uint64_t helper_kdev(uint64_t st_dev)
{
	return ((uint64_t)major(st_dev) << 20) | minor(st_dev);
}

static struct hmk_inode_key helper_key(uint64_t st_dev, uint64_t ino)
{
	struct hmk_inode_key k = {.dev = helper_kdev(st_dev), .ino = ino};

	return k;
}

/* ---- identities ---------------------------------------------------------- */

/*
 * On overlayfs and btrfs the helper's hooks name an inode otherwise than
 * stat(2) does (kmod/hmilock.bpf.c, inode_key_layered: an overlay file by
 * its layer's inode, a btrfs file with its subvolume): hmilockd asks the
 * kernel there (HMK_IDENT_ARG) and uses stat's identity everywhere else.
 */
static bool helper_fs_layered(int fd)
{
	struct statfs sf;

	return !fstatfs(fd, &sf) &&
	       (sf.f_type == OVERLAYFS_SUPER_MAGIC || sf.f_type == BTRFS_SUPER_MAGIC);
}

/* Ask the kernel what identity its hooks give fd's inode (HMK_IDENT_ARG).
 * 0 or -errno. */
static int helper_ident_ask(int fd, struct hmk_ident *id)
{
	int mfd = bpf_map__fd(hp.skel->maps.hmk_ident), err = 0;
	__u32 tid = (__u32)gettid();

	if (fcntl(fd, F_GETFL, (unsigned long)HMK_IDENT_ARG) < 0 ||
	    bpf_map_lookup_elem(mfd, &tid, id))
		err = -errno;
	bpf_map_delete_elem(mfd, &tid); /* never read by the next question */
	return err;
}

/* The helper's key for fd's inode (st: its fstat), and in *gen (when not
 * NULL) the generation the helper compares: the kernel's on overlayfs and
 * btrfs, else -1 (the caller asks FS_IOC_GETVERSION). 0, or -errno when the
 * kernel did not answer (then k holds stat's identity, which its hooks do
 * not match on those filesystems: the file stays denied). */
static int helper_ident_fd(int fd, const struct stat *st, struct hmk_inode_key *k, int64_t *gen)
{
	struct hmk_ident id;
	int err;

	*k = helper_key(st->st_dev, st->st_ino);
	if (gen)
		*gen = -1;
	if (!hp.active || !helper_fs_layered(fd))
		return 0;
	err = helper_ident_ask(fd, &id);
	if (err)
		return err;
	*k = id.key;
	if (gen)
		*gen = id.gen;
	return 0;
}

/* The helper's key for what path names (symlinks followed when follow),
 * its stat in st. want: the identity the caller means; when path names
 * another inode now, want's stat identity is all there is. */
static int helper_ident_path(const char *path, bool follow, const struct stat *want,
                             struct stat *st, struct hmk_inode_key *k)
{
	int fd, err;

	if (want)
		*k = helper_key(want->st_dev, want->st_ino);
	fd = open(path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return -errno;
	if (fstat(fd, st))
		err = -errno;
	else if (want && (st->st_dev != want->st_dev || st->st_ino != want->st_ino))
		err = -ESTALE;
	else
		err = helper_ident_fd(fd, st, k, NULL);
	close(fd);
	return err;
}

static bool helper_key_approved(const struct hmk_inode_key *k)
{
	struct hmk_approved v;

	return hp.active && !bpf_map_lookup_elem(bpf_map__fd(hp.skel->maps.hmk_approved), k, &v);
}

static void helper_set_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void helper_set_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hp.status, sizeof(hp.status), fmt, ap);
	va_end(ap);
}

/* libbpf's warnings to the log, one line each; of a long verifier log only
 * the last lines, which say why it refused. */
static int helper_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg = NULL, *line, *save = NULL;
	size_t n = 0, skip;

	if (level != LIBBPF_WARN || vasprintf(&msg, fmt, ap) < 0)
		return 0;
	for (line = msg; (line = strchr(line, '\n')); line++)
		n++;
	skip = n > 24 ? n - 24 : 0;
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (skip ? (skip--, false) : true)
			log_msg(LOG_WARNING, "libbpf: %s", line);
	free(msg);
	return 0;
}

static uint32_t helper_hmk_mode(enum hmd_mode m)
{
	switch (m) {
	case HMD_MODE_ENFORCE:
		return HMK_MODE_ENFORCE;
	case HMD_MODE_AUDIT:
		return HMK_MODE_AUDIT;
	default:
		return HMK_MODE_MAINTENANCE;
	}
}

/* ---- probe -------------------------------------------------------------- */

static bool helper_lsm_has_bpf(const char *list)
{
	char buf[512], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (!strcmp(tok, "bpf"))
			return true;
	return false;
}

/* Can this kernel run the helper at all? 0, or -errno with why filled. */
static int helper_probe(char *why, size_t len)
{
	char lsm[512] = "";
	struct statfs sf;
	ssize_t n;
	int fd;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, len, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s)",
		         strerror(errno));
		return -ENOTSUP;
	}
	fd = open("/sys/kernel/security/lsm", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len,
		         "cannot read /sys/kernel/security/lsm (%s): securityfs not mounted?",
		         strerror(errno));
		return -ENOTSUP;
	}
	n = read(fd, lsm, sizeof(lsm) - 1);
	close(fd);
	lsm[n > 0 ? n : 0] = 0;
	if (!helper_lsm_has_bpf(lsm)) {
		lsm[strcspn(lsm, "\n")] = 0;
		snprintf(why, len,
		         "BPF LSM not active (active LSMs: %.100s); to turn it on, boot with "
		         "lsm=%.100s%sbpf on the kernel command line (Debian: GRUB_CMDLINE_LINUX "
		         "in /etc/default/grub, update-grub, reboot)",
		         lsm[0] ? lsm : "none", lsm, lsm[0] ? "," : "");
		return -ENOTSUP;
	}
	if (statfs("/sys/fs/bpf", &sf) || sf.f_type != BPF_FS_MAGIC) {
		snprintf(why, len,
		         "no bpf filesystem mounted at /sys/fs/bpf (needed to pin the helper)");
		return -ENOTSUP;
	}
	return 0;
}

/* ---- load or re-attach -------------------------------------------------- */

/* Number of arguments the kernel's hook takes, from its BTF; -1 if unknown. */
static int helper_hook_nargs(struct btf *vb, const char *sec)
{
	char fn[96];
	const struct btf_type *t;
	int id;

	if (strncmp(sec, "lsm/", 4))
		return -1;
	snprintf(fn, sizeof(fn), "bpf_lsm_%s", sec + 4);
	id = btf__find_by_name_kind(vb, fn, BTF_KIND_FUNC);
	if (id < 0)
		return -1;
	t = btf__type_by_id(vb, btf__type_by_id(vb, id)->type);
	return t ? btf_vlen(t) : -1;
}

/* A program named *_a<N> fits only a kernel whose hook takes N arguments. */
static bool helper_prog_fits(struct btf *vb, const struct bpf_program *p)
{
	const char *name = bpf_program__name(p), *s = strrchr(name, '_');

	if (!s || s[1] != 'a' || s[2] < '0' || s[2] > '9')
		return true;
	return helper_hook_nargs(vb, bpf_program__section_name(p)) == atoi(s + 2);
}

static void helper_link_path(const struct bpf_program *p, char *out, size_t len)
{
	snprintf(out, len, "%s/link_%s", HMK_PIN_DIR, bpf_program__name(p));
}

/* The pinned config map's value: 1, 0 when nothing is pinned, -errno. */
static int helper_pinned_cfg(struct hmk_config *c)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);
	uint32_t k = 0;
	int fd, err = 1;

	memset(c, 0, sizeof(*c));
	fd = bpf_obj_get_opts(HMK_PIN_DIR "/hmk_config", &o);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_map_lookup_elem(fd, &k, c))
		err = -errno;
	close(fd);
	return err;
}

/* ABI of what is pinned: 0 if nothing is, -errno if it cannot be read. */
static int helper_pinned_abi(uint32_t *abi)
{
	struct hmk_config c;
	int err = helper_pinned_cfg(&c);

	*abi = err > 0 ? c.abi : 0;
	return err < 0 ? err : 0;
}

bool helper_pinned_stop_ok(void)
{
	struct hmk_config c;

	return helper_pinned_cfg(&c) > 0 && c.abi == HMK_ABI_VERSION && (c.flags & HMK_CFG_STOP_OK);
}

/* Open the skeleton, reuse pinned maps (libbpf does that for maps pinned by
 * name), load only programs whose link is not pinned yet, attach and pin them. */
static int helper_load(char *why, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = HMK_PIN_DIR);
	struct bpf_program *p;
	struct btf *vb;
	char path[256];
	int err = 0;

	vb = btf__load_vmlinux_btf();
	if (!vb) {
		snprintf(why, len, "cannot read the kernel's BTF: %s", strerror(errno));
		return -errno;
	}
	hp.skel = hmilock_bpf__open_opts(&oo);
	if (!hp.skel) {
		err = -errno;
		snprintf(why, len, "cannot open the BPF object: %s", strerror(-err));
		goto free_btf;
	}
	bpf_object__for_each_program(p, hp.skel->obj)
	{
		helper_link_path(p, path, sizeof(path));
		if (!helper_prog_fits(vb, p)) {
			bpf_program__set_autoload(p, false);
		} else if (!access(path, F_OK)) {
			bpf_program__set_autoload(p, false);
			hp.reattached = true;
		}
	}
	err = hmilock_bpf__load(hp.skel);
	if (err) {
		snprintf(why, len, "cannot load the BPF LSM (%s); the libbpf log has the details",
		         strerror(-err));
		goto free_btf;
	}
	bpf_object__for_each_program(p, hp.skel->obj)
	{
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		helper_link_path(p, path, sizeof(path));
		l = bpf_program__attach(p);
		if (!l || hp.n_links == sizeof(hp.links) / sizeof(hp.links[0])) {
			err = l ? -E2BIG : -errno;
			bpf_link__destroy(l);
			/* ENOTSUPP (524, kernel-internal): no BPF trampoline,
			 * e.g. arm64 before 6.4 (Debian 12's own 6.1) */
			snprintf(why, len, "cannot attach %s: %s", bpf_program__name(p),
			         err == -524
			             ? "this kernel cannot attach BPF LSM programs (error 524: "
			               "no BPF trampolines; arm64 has them from Linux 6.4, "
			               "Debian 12: the bookworm-backports kernel)"
			             : strerror(-err));
			goto free_btf;
		}
		hp.links[hp.n_links++] = l;
		err = bpf_link__pin(l, path);
		if (err) {
			snprintf(why, len, "cannot pin link_%s: %s", bpf_program__name(p),
			         strerror(-err));
			goto free_btf;
		}
	}
free_btf:
	btf__free(vb);
	return err;
}

/* The pinned maps open only for the registered daemon or, once it is gone,
 * for the hmilockd binary. The kernel forgets a crashed daemon when its task
 * is freed, an RCU grace period after it was reaped: a restart that quick
 * waits up to 2 s for that; a daemon that is still running keeps the helper. */
static int helper_load_retry(char *why, size_t len)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);
	struct hmk_config c = {0};
	uint32_t k = 0;
	int err, tries, fd;

	for (tries = 0;; tries++) {
		hp.reattached = false;
		err = helper_load(why, len);
		if (err != -EPERM || hp.n_links || access(HMK_PIN_DIR "/hmk_config", F_OK) ||
		    tries == 40)
			break;
		hmilock_bpf__destroy(hp.skel);
		hp.skel = NULL;
		usleep(50 * 1000);
	}
	if (err != -EPERM)
		return err;
	fd = bpf_obj_get_opts(HMK_PIN_DIR "/hmk_config", &o);
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &k, &c) && c.daemon_tgid)
		snprintf(why, len, "the pinned helper belongs to another running hmilockd (pid %u)",
		         c.daemon_tgid);
	else
		snprintf(why, len,
		         "the pinned helper refuses this process: it is not the hmilockd "
		         "binary that pinned it");
	if (fd >= 0)
		close(fd);
	return err;
}

static int helper_map_cfg(char *why, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED,
	         bpf_map__fd(hp.skel->maps.hmk_config), 0);
	if (m == MAP_FAILED) {
		snprintf(why, len, "cannot map hmk_config: %s", strerror(errno));
		return -errno;
	}
	hp.cfg = m;
	return 0;
}

/* ---- the helper's own objects (guarded in the kernel) ------------------- */

static int helper_self_add(uint32_t kind, uint32_t id)
{
	struct hmk_obj_key k = {.kind = kind, .id = id};
	uint32_t one = 1;

	if (!id)
		return 0;
	return bpf_map_update_elem(bpf_map__fd(hp.skel->maps.hmk_self), &k, &one, BPF_ANY) ? -errno
	                                                                                   : 0;
}

static int helper_self_link(int fd)
{
	struct bpf_link_info li;
	uint32_t len = sizeof(li);

	memset(&li, 0, sizeof(li));
	if (bpf_obj_get_info_by_fd(fd, &li, &len))
		return -errno;
	return helper_self_add(HMK_OBJ_LINK, li.id) ?: helper_self_add(HMK_OBJ_PROG, li.prog_id);
}

/* Record ids of every map, program and link of ours, fresh or pinned. */
static int helper_self_register(void)
{
	struct bpf_map_info mi;
	struct bpf_program *p;
	struct bpf_map *m;
	char path[256];
	uint32_t len;
	int err = 0;

	bpf_object__for_each_map(m, hp.skel->obj)
	{
		len = sizeof(mi);
		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(bpf_map__fd(m), &mi, &len))
			return -errno;
		err = helper_self_add(HMK_OBJ_MAP, mi.id);
		if (err)
			return err;
	}
	bpf_object__for_each_program(p, hp.skel->obj)
	{
		int fd;

		helper_link_path(p, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* a variant not for this kernel */
		err = helper_self_link(fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/* ---- inode sets: protected, interpreters -------------------------------- */

/* Delete the entries of the inode-keyed hash map at fd for which stale()
 * says so. The keys are collected first and deleted after the walk: a
 * deleted key would restart bpf_map_get_next_key from the first one. */
static int helper_map_prune(int fd, bool (*stale)(int fd, const struct hmk_inode_key *k, void *arg),
                            void *arg)
{
	struct hmk_inode_key cur, next, *del = NULL, *grown;
	size_t n = 0, cap = 0, i;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (stale(fd, &next, arg)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 256;
				grown = realloc(del, cap * sizeof(*del));
				if (!grown) {
					err = -ENOMEM;
					goto free_del;
				}
				del = grown;
			}
			del[n++] = next;
		}
		cur = next;
		prev = &cur;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &del[i]) && errno != ENOENT && !err)
			err = -errno;
free_del:
	free(del);
	return err;
}

struct helper_keyset {
	const struct hmk_inode_key *keys;
	size_t n;
};

static bool helper_not_in(int fd, const struct hmk_inode_key *k, void *arg)
{
	const struct helper_keyset *ks = arg;

	(void)fd;
	for (size_t i = 0; i < ks->n; i++)
		if (!memcmp(&ks->keys[i], k, sizeof(*k)))
			return false;
	return true;
}

/* Make the hash map at fd hold exactly keys[i] -> vals[i]: new entries first,
 * then stale ones removed, so nothing is unprotected in between. */
static int helper_map_replace(int fd, const struct hmk_inode_key *keys, const uint32_t *vals,
                              size_t n)
{
	struct helper_keyset ks = {keys, n};

	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY))
			return -errno;
	return helper_map_prune(fd, helper_not_in, &ks);
}

struct helper_iset {
	struct hmk_inode_key keys[HMK_PROTECTED_MAX];
	uint32_t vals[HMK_PROTECTED_MAX];
	size_t n;
};

/* Add (or OR the flags of) an inode. */
static void helper_iset_add_key(struct helper_iset *s, struct hmk_inode_key k, const char *path,
                                uint32_t flags)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!memcmp(&s->keys[i], &k, sizeof(k))) {
			s->vals[i] |= flags;
			return;
		}
	}
	if (s->n == HMK_PROTECTED_MAX) {
		log_msg(LOG_ERR, "kernel helper: too many protected files, %s left out", path);
		return;
	}
	s->keys[s->n] = k;
	s->vals[s->n++] = flags;
}

/* Add the inode behind path (symlinks followed unless nofollow); a missing
 * path is skipped. want: see helper_ident_path. */
static void helper_iset_add_path(struct helper_iset *s, const char *path, bool follow,
                                 const struct stat *want, uint32_t flags)
{
	struct hmk_inode_key k;
	struct stat st;
	int err = helper_ident_path(path, follow, want, &st, &k);

	if (!err || (want && err == -ESTALE))
		helper_iset_add_key(s, k, path, flags);
}

static void helper_iset_add(struct helper_iset *s, const char *path, uint32_t flags)
{
	if (path && path[0])
		helper_iset_add_path(s, path, true, NULL, flags);
}

/* Every directory above path, as named (a symlink such as /lib itself) and
 * as resolved: none of them can be renamed away while locked. */
static void helper_iset_add_dirs(struct helper_iset *s, const char *path)
{
	char dir[PATH_MAX], *slash;

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 0 && snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
			continue;
		if (pass == 1 && !realpath(path, dir))
			continue;
		while ((slash = strrchr(dir, '/')) && slash != dir) {
			*slash = '\0';
			helper_iset_add_path(s, dir, false, NULL, HMK_P_DIR);
		}
	}
}

/* The files of use (an identity per kind, chosen by helper_protect_choose)
 * and the directories above each path. */
static void helper_iset_add_files(struct helper_iset *s, const struct protect_file *f,
                                  const uint64_t use[HMK_PF__MAX][2])
{
	for (int i = 0; i < HMK_PF__MAX; i++) {
		struct stat st = {.st_dev = (dev_t)use[i][0], .st_ino = (ino_t)use[i][1]};

		if (!use[i][1])
			continue;
		/* HMK_P_DAEMON only for the running binary and an approved
		 * one at its path (helper_iset_add_installed): an unapproved
		 * file put there by an update must not be trusted as hmilockd */
		helper_iset_add_path(s, f[i].path, true, &st,
		                     HMK_P_FILE | (f[i].pkg ? HMK_P_PKG : 0) |
		                         (i == HMK_PF_KEY ? HMK_P_SECRET : 0));
		helper_iset_add_dirs(s, f[i].path);
	}
}

/* After an upgrade of hmilock through the trusted update the daemon's path
 * (protect_paths: the running binary's, "(deleted)" taken off) names a new
 * binary. Once the update's commit approved it, it is the daemon binary
 * too: the restart into it must re-attach (cur_is_daemon in
 * kmod/hmilock.bpf.c). Runs after the approvals of helper_sync; an
 * unapproved file there gains nothing. */
static void helper_iset_add_installed(struct helper_iset *s, const char *path)
{
	struct hmk_inode_key k;
	struct stat st;

	if (path[0] != '/' || helper_ident_path(path, true, NULL, &st, &k) ||
	    !S_ISREG(st.st_mode) || !helper_key_approved(&k))
		return;
	helper_iset_add_key(s, k, path, HMK_P_FILE | HMK_P_DAEMON | HMK_P_PKG);
}

/* What the protected files' paths name now: (dev, ino) per kind, 0 where
 * absent. helper_protect_tick() compares it with the last fill. */
static void helper_protect_print(const struct protect_file *f, uint64_t out[HMK_PF__MAX][2])
{
	struct stat st;

	for (int i = 0; i < HMK_PF__MAX; i++) {
		out[i][0] = out[i][1] = 0;
		if (f[i].path[0] && !stat(f[i].path, &st)) {
			out[i][0] = st.st_dev;
			out[i][1] = st.st_ino;
		}
	}
}

/* The identity each kind's protection holds is what the last fill chose,
 * kept in the pinned config map (hp.cfg->files: a restarted daemon starts
 * from it). The one last refused per kind is logged once. */
static uint64_t helper_protect_refused[HMK_PF__MAX][2];

/* Another inode (or none) at a protected path. While the helper enforces
 * nothing but hmilockd can write, remove or rename onto these files, so
 * the change is hmilockd's own (written.c: written or removed), a file
 * where none was (a first admin password), a package file a trusted update
 * installed or removed - or another file (or directory) mounted over the
 * path, which the helper does not see as a write. That one is not taken:
 * the old inode, alive under the mount, stays protected and is what
 * hmilockd trusts (anchors, list check). A removed file must not stay
 * protected: its inode number is given out again. */
static bool helper_protect_takes(const struct protect_file *f, int i, const uint64_t now[2],
                                 unsigned own)
{
	if (__atomic_load_n(&hp.cfg->mode, __ATOMIC_RELAXED) != HMK_MODE_ENFORCE)
		return true;
	if (own & (1u << i))
		return true; /* written or removed by hmilockd itself */
	if (!hp.cfg->files[i][1])
		return now[1] != 0;
	/* a package file: removed by the package's removal, or replaced */
	return f[i].pkg &&
	       (!now[1] || helper_approved_path(f[i].path) || helper_update_wrote_path(f[i].path));
}

static void helper_protect_choose(const struct protect_file *f, const uint64_t now[HMK_PF__MAX][2],
                                  uint64_t use[HMK_PF__MAX][2])
{
	unsigned own = written_take();

	for (int i = 0; i < HMK_PF__MAX; i++) {
		if (!memcmp(now[i], hp.cfg->files[i], sizeof(now[i])) ||
		    helper_protect_takes(f, i, now[i], own)) {
			memcpy(use[i], now[i], sizeof(use[i]));
			continue;
		}
		memcpy(use[i], hp.cfg->files[i], sizeof(use[i]));
		if (!memcmp(now[i], helper_protect_refused[i], sizeof(now[i])))
			continue;
		memcpy(helper_protect_refused[i], now[i], sizeof(now[i]));
		atomic_fetch_add(&hmd_stats.errors, 1);
		log_msg(LOG_ERR,
		        "kernel helper: the %s path %s names %s while the box is locked (another "
		        "file mounted over it?): not taken; the file that was there stays "
		        "protected and is the one hmilockd trusts",
		        f[i].what, f[i].path, now[i][1] ? "another file" : "nothing");
	}
}

/* Fill hmk_protected: the files use names, the directories above them,
 * the running binary, an approved upgrade of it, the pins; and record the
 * choice in the pinned config map (the next daemon starts from it; the
 * configuration and password there are anchor.c's). */
static int helper_protect_fill(const struct protect_file *f, const uint64_t use[HMK_PF__MAX][2])
{
	struct helper_iset *s = calloc(1, sizeof(*s));
	struct dirent *de;
	DIR *d;
	int err;

	if (!s)
		return -ENOMEM;
	helper_iset_add_files(s, f, use);
	helper_iset_add(s, "/proc/self/exe", HMK_P_FILE | HMK_P_DAEMON | HMK_P_PKG);
	helper_iset_add_installed(s, f[HMK_PF_DAEMON].path);
	/* the directories above the pins: not renamed, nothing mounted over */
	helper_iset_add_dirs(s, HMK_PIN_DIR "/hmk_config");
	d = opendir(HMK_PIN_DIR);
	while (d && (de = readdir(d))) {
		char path[sizeof(HMK_PIN_DIR) + 260];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", HMK_PIN_DIR, de->d_name);
		helper_iset_add(s, path, HMK_P_PIN);
	}
	if (d)
		closedir(d);
	err = helper_map_replace(bpf_map__fd(hp.skel->maps.hmk_protected), s->keys, s->vals, s->n);
	free(s);
	memcpy(hp.cfg->files, use, sizeof(use[0]) * HMK_PF__MAX);
	return err;
}

/* At start: while a pinned helper enforces, the files the last daemon
 * protected are the ones held (not what a mount may show now). */
static int helper_protect_defaults(const struct hmd_config *cfg, const struct hmk_config *pinned)
{
	struct protect_file f[HMK_PF__MAX];
	uint64_t now[HMK_PF__MAX][2], use[HMK_PF__MAX][2];

	if (pinned->mode != HMK_MODE_ENFORCE) /* else hp.cfg->files holds the pinned set */
		memset(hp.cfg->files, 0, sizeof(hp.cfg->files));
	protect_paths(cfg, f);
	helper_protect_print(f, now);
	helper_protect_choose(f, now, use);
	return helper_protect_fill(f, use);
}

void helper_protect_tick(void)
{
	struct protect_file f[HMK_PF__MAX];
	uint64_t now[HMK_PF__MAX][2], use[HMK_PF__MAX][2];

	if (!hp.active || !hp.dcfg)
		return;
	protect_paths(hp.dcfg, f);
	helper_protect_print(f, now);
	if (!memcmp(now, hp.cfg->files, sizeof(now)) && !written_pending())
		return;
	helper_protect_choose(f, now, use);
	if (!memcmp(use, hp.cfg->files, sizeof(use)))
		return;
	if (helper_protect_fill(f, use) < 0)
		log_msg(LOG_ERR, "kernel helper: cannot protect hmilock's files anew");
}

void helper_protected_describe(const struct hmd_config *cfg, char *out, size_t len)
{
	struct protect_file f[HMK_PF__MAX];
	struct hmk_inode_key k;
	struct stat st;
	uint32_t v;
	size_t off = 0;
	int n;

	out[0] = '\0';
	protect_paths(cfg, f);
	for (int i = 0; i < HMK_PF__MAX && off < len; i++) {
		const char *how = "absent";

		if (f[i].path[0] && !helper_ident_path(f[i].path, true, NULL, &st, &k)) {
			how = hp.active && !bpf_map_lookup_elem(
			                       bpf_map__fd(hp.skel->maps.hmk_protected), &k, &v)
			          ? "protected"
			          : "not protected";
		}
		n = snprintf(out + off, len - off, "%s\t%s\t%s\n", f[i].what,
		             f[i].path[0] ? f[i].path : "-", how);
		if (n < 0 || (size_t)n >= len - off) {
			out[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
}

static bool helper_is_elf(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool elf;

	if (fd < 0)
		return false;
	elf = read(fd, magic, 4) == 4 && !memcmp(magic, "\177ELF", 4);
	close(fd);
	return elf;
}

/* How the interpreter at path reads its command line (HMK_IC_*), by its
 * name: "python3.11" is python. An interpreter not named here (awk among
 * them: mawk -W exec FILE and gawk --file FILE name a script in ways a
 * letter table cannot follow) takes no code options: every argument may
 * name its script. */
uint32_t helper_interp_dialect(const char *path)
{
	static const struct {
		const char *name;
		uint32_t ic;
	} d[] = {
	    {"python", HMK_IC_C | HMK_IC_STDIN},
	    {"sh", HMK_IC_C},
	    {"bash", HMK_IC_C},
	    {"dash", HMK_IC_C},
	    {"ash", HMK_IC_C},
	    {"ksh", HMK_IC_C},
	    {"mksh", HMK_IC_C},
	    {"zsh", HMK_IC_C},
	    {"busybox", HMK_IC_C},
	    {"perl", HMK_IC_E | HMK_IC_EE | HMK_IC_STDIN},
	    {"ruby", HMK_IC_E | HMK_IC_STDIN},
	    {"lua", HMK_IC_E | HMK_IC_STDIN},
	    {"node", HMK_IC_E | HMK_IC_P | HMK_IC_STDIN},
	    {"nodejs", HMK_IC_E | HMK_IC_P | HMK_IC_STDIN},
	    {"php", HMK_IC_R},
	};
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		n = strlen(d[i].name);
		/* the name, or the name and a version: python3, perl5.36.0 */
		if (!strncmp(b, d[i].name, n) &&
		    (!b[n] || strspn(b + n, "0123456789.") == strlen(b + n)))
			return HMK_IC_LISTED | d[i].ic;
	}
	return HMK_IC_LISTED;
}

/* The ELF programs matching patterns, at most max, into the inode set s
 * (valued by their dialect when interp, else 1). */
static void helper_iset_glob(struct helper_iset *s, const char *const *patterns, size_t n,
                             size_t max, bool interp)
{
	glob_t g;
	size_t i, j;

	for (i = 0; i < n && s->n < max; i++) {
		if (glob(patterns[i], GLOB_NOSORT, NULL, &g))
			continue;
		for (j = 0; j < g.gl_pathc && s->n < max; j++)
			if (helper_is_elf(g.gl_pathv[j]))
				helper_iset_add(s, g.gl_pathv[j],
				                interp ? helper_interp_dialect(g.gl_pathv[j]) : 1);
		globfree(&g);
	}
}

int helper_set_interpreters(const char *const *patterns, size_t n)
{
	struct helper_iset *s;
	int err;

	if (!hp.active)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	helper_iset_glob(s, patterns, n, HMK_INTERP_MAX, true);
	err = helper_map_replace(bpf_map__fd(hp.skel->maps.hmk_interp), s->keys, s->vals, s->n);
	if (!err)
		__atomic_store_n(&hp.cfg->n_interp, (uint32_t)s->n, __ATOMIC_RELAXED);
	free(s);
	return err;
}

/* [agent] wx_exempt: the JIT runtimes W^X does not apply to. */
static int helper_config_wx_exempt(const struct hmd_config *cfg)
{
	const char *p[HMD_MAX_INTERP];
	struct helper_iset *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_wx_exempt; i++)
		p[i] = cfg->wx_exempt[i];
	helper_iset_glob(s, p, cfg->n_wx_exempt, HMK_WXEXEMPT_MAX, false);
	err = helper_map_replace(bpf_map__fd(hp.skel->maps.hmk_wxexempt), s->keys, s->vals, s->n);
	free(s);
	return err;
}

int helper_protect_path(const char *path, bool daemon_binary)
{
	uint32_t v = HMK_P_FILE | (daemon_binary ? HMK_P_DAEMON : 0), old = 0;
	struct hmk_inode_key k;
	struct stat st;
	int fd, err;

	if (!hp.active)
		return 0;
	err = helper_ident_path(path, true, NULL, &st, &k);
	if (err)
		return err;
	fd = bpf_map__fd(hp.skel->maps.hmk_protected);
	if (!bpf_map_lookup_elem(fd, &k, &old))
		v |= old;
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0;
}

/* ---- approved inodes ---------------------------------------------------- */

static int helper_approve_epoch(struct hmk_inode_key k, int64_t gen, uint16_t epoch, uint16_t flags)
{
	struct hmk_approved v = {.epoch = epoch, .flags = flags};

	if (gen >= 0) {
		v.gen = (uint32_t)gen;
		v.flags |= HMK_A_GEN;
	}
	if (!bpf_map_update_elem(bpf_map__fd(hp.skel->maps.hmk_approved), &k, &v, BPF_ANY))
		return 0;
	if (errno == E2BIG || errno == ENOMEM)
		log_msg(
		    LOG_ERR,
		    "kernel helper: approved-inode map full (%d entries): inode %llu on %llu:%llu "
		    "stays denied by the helper",
		    HMK_APPROVED_MAX, (unsigned long long)k.ino, (unsigned long long)(k.dev >> 20),
		    (unsigned long long)(k.dev & 0xfffff));
	return -errno;
}

/*
 * An approval made at exec time (a worker) carries the current epoch; a
 * sync (a new list) starts a new one and sweeps entries of older ones once
 * it has approved the whole list. A worker that read the old epoch and
 * wrote its entry after the sync had approved the same inode would leave a
 * listed inode (ld.so, met at every exec) with the old epoch, and the sweep
 * would take its approval: the daemon, which has it in its cache and under
 * an ignore mark, never approves it again, and every exec then dies at
 * the kernel's mapping of ld.so. So the epoch is read and the entry
 * written under the read side of this lock; helper_sync moves to the new
 * epoch under the write side, before it approves anything.
 */
static pthread_rwlock_t helper_epoch_lock = PTHREAD_RWLOCK_INITIALIZER;

static int helper_approve_now(struct hmk_inode_key k, int64_t gen, uint16_t flags)
{
	int err;

	pthread_rwlock_rdlock(&helper_epoch_lock);
	err = helper_approve_epoch(
	    k, gen, (uint16_t)__atomic_load_n(&hp.cfg->epoch, __ATOMIC_RELAXED), flags);
	pthread_rwlock_unlock(&helper_epoch_lock);
	return err;
}

/* HMK_A_ELF when the file starts with the ELF magic: an interpreter that
 * opens it (the dynamic loader loading a library named in its argv) has not
 * opened its script (interp_check in kmod/hmilock.bpf.c). */
static uint16_t helper_fd_flags(int fd)
{
	static const unsigned char elf[4] = {0x7f, 'E', 'L', 'F'};
	unsigned char m[4];

	if (pread(fd, m, sizeof(m), 0) == (ssize_t)sizeof(m) && !memcmp(m, elf, sizeof(m)))
		return HMK_A_ELF;
	return 0;
}

/* The inode generation when the filesystem tells it (ext4, xfs, btrfs), else -1. */
static int64_t helper_fd_gen(int fd)
{
	int gen;

	if (ioctl(fd, FS_IOC_GETVERSION, &gen))
		return -1;
	return (uint32_t)gen;
}

int helper_approve_fd(int fd)
{
	struct hmk_inode_key k;
	struct stat st;
	int64_t gen;
	int err;

	if (!hp.active)
		return 0;
	if (fstat(fd, &st))
		return -errno;
	err = helper_ident_fd(fd, &st, &k, &gen);
	if (err)
		return err;
	return helper_approve_now(k, gen < 0 ? helper_fd_gen(fd) : gen, helper_fd_flags(fd));
}

int helper_forget_fd(int fd)
{
	struct hmk_inode_key k;
	struct stat st;

	if (!hp.active)
		return 0;
	if (fstat(fd, &st))
		return -errno;
	helper_ident_fd(fd, &st, &k, NULL); /* on error: stat's key, which nothing holds there */
	if (bpf_map_delete_elem(bpf_map__fd(hp.skel->maps.hmk_approved), &k) && errno != ENOENT)
		return -errno;
	return 0;
}

bool helper_layer_approved(int fd, bool unseen)
{
	struct hmk_approved v;
	struct hmk_ident id;
	struct statfs sf;

	/* the kernel's own key and generation, as inode_approval reads them */
	if (!hp.active || fstatfs(fd, &sf) || (sf.f_type != OVERLAYFS_SUPER_MAGIC && !unseen) ||
	    helper_ident_ask(fd, &id) ||
	    bpf_map_lookup_elem(bpf_map__fd(hp.skel->maps.hmk_approved), &id.key, &v))
		return false;
	return !(v.flags & HMK_A_GEN) || v.gen == id.gen;
}

bool helper_approved_path(const char *path)
{
	struct hmk_inode_key k;
	struct stat st;

	return hp.active && !helper_ident_path(path, true, NULL, &st, &k) &&
	       helper_key_approved(&k);
}

static bool helper_rec_same(const struct wl_rec *r, const struct stat *st)
{
	return r->dev == st->st_dev && r->ino == st->st_ino && r->size == (uint64_t)st->st_size &&
	       r->mtime_sec == st->st_mtim.tv_sec && r->mtime_nsec == st->st_mtim.tv_nsec &&
	       r->ctime_sec == st->st_ctim.tv_sec && r->ctime_nsec == st->st_ctim.tv_nsec;
}

/* Approve one listed file if it still is what was listed: same identity, or
 * else the same SHA-256 after re-hashing. 1 approved, 0 not, -errno on error. */
static int helper_sync_one(const struct wl_rec *r, uint16_t epoch)
{
	uint8_t sha[WL_SHA256_LEN];
	struct hmk_inode_key k;
	struct wl_err werr;
	struct stat st;
	int64_t gen;
	int fd, err;

	fd = open(r->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0; /* gone or unreadable: nothing to approve */
	err = fstat(fd, &st) ? -errno : 0;
	if (err || !S_ISREG(st.st_mode))
		goto close_fd;
	if (!helper_rec_same(r, &st)) {
		err = wl_hash_fd_stable(fd, r->path, sha, &st, &werr);
		if (err) {
			log_msg(LOG_WARNING, "kernel helper: %s", werr.msg);
			goto close_fd;
		}
		if (memcmp(sha, r->sha256, WL_SHA256_LEN)) {
			log_msg(LOG_WARNING,
			        "kernel helper: %s changed since it was listed (hash differs); not "
			        "approved",
			        r->path);
			goto close_fd;
		}
	}
	err = helper_ident_fd(fd, &st, &k, &gen);
	if (!err)
		err = helper_approve_epoch(k, gen < 0 ? helper_fd_gen(fd) : gen, epoch,
		                           helper_fd_flags(fd));
	err = err ? err : 1;
close_fd:
	close(fd);
	return err;
}

static bool helper_older_epoch(int fd, const struct hmk_inode_key *k, void *arg)
{
	struct hmk_approved v;

	return !bpf_map_lookup_elem(fd, k, &v) && v.epoch != *(const uint16_t *)arg;
}

/* Remove entries of earlier fill passes. */
static int helper_sweep(int fd, uint16_t epoch)
{
	return helper_map_prune(fd, helper_older_epoch, &epoch);
}

int helper_sync(void)
{
	struct hmd_list *l;
	const struct wl_db *db;
	size_t i, n, ok = 0;
	uint16_t epoch;
	struct wl_rec r;
	int err = 0, e;

	if (!hp.active)
		return 0;
	pthread_rwlock_wrlock(&helper_epoch_lock); /* see helper_approve_now */
	epoch = (uint16_t)(hp.cfg->epoch + 1);
	__atomic_store_n(&hp.cfg->epoch, epoch, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&helper_epoch_lock);
	l = list_get();
	db = list_db(l);
	n = wl_db_count(db);
	for (i = 0; i < n; i++) {
		wl_db_at(db, i, &r);
		e = helper_sync_one(&r, epoch);
		if (e > 0)
			ok++;
		else if (e < 0 && !err)
			err = e;
	}
	list_put(l);
	e = helper_sweep(bpf_map__fd(hp.skel->maps.hmk_approved), epoch);
	/* a new list file is a new inode: protect it (by the tick's rules) */
	if (!e)
		helper_protect_tick();
	log_msg(LOG_INFO, "kernel helper: %zu of %zu listed files approved in the kernel", ok, n);
	return err ? err : e;
}

/* ---- init, fini --------------------------------------------------------- */

/* While the helper enforces, a list is loaded only from the file it
 * protects: while locked nobody but hmilockd writes the list, so another
 * file at its path was mounted over it (a list root signed with the key
 * it can read). hmilockd's own new list is taken first (the tick). */
static int helper_list_ok(const struct wl_db *db, const struct hmk_config *c, struct wl_err *err)
{
	struct hmk_inode_key k;
	struct stat want = {0}, st;
	uint64_t dev, ino;
	uint32_t v = 0;

	wl_db_file_id(db, &dev, &ino);
	if (c->mode != HMK_MODE_ENFORCE || !ino)
		return 0; /* unlocked, or the empty list of a fresh install */
	want.st_dev = (dev_t)dev;
	want.st_ino = (ino_t)ino;
	helper_ident_path(wl_db_path(db), true, &want, &st, &k);
	if (!bpf_map_lookup_elem(bpf_map__fd(hp.skel->maps.hmk_protected), &k, &v) &&
	    (v & HMK_P_FILE))
		return 0;
	return wl_err_set(err, -EPERM, WL_E_KEY,
	                  "approved list %s is not the file the kernel helper protects (another "
	                  "file mounted or put in its place): not loaded while the box is locked",
	                  wl_db_path(db));
}

static int helper_list_check(const struct wl_db *db, struct wl_err *err)
{
	if (!hp.active)
		return 0;
	helper_protect_tick();
	return helper_list_ok(db, hp.cfg, err);
}

static void helper_on_list(enum list_event ev, void *arg)
{
	(void)arg;
	/* The helper approves by inode: bring it to the new list. */
	if (ev == LIST_LOADED && helper_sync() < 0)
		log_msg(LOG_ERR, "reload: kernel helper could not take the new list");
}

static void helper_on_mode(enum hmd_mode m, void *arg)
{
	(void)arg;
	if (helper_set_mode(m) < 0)
		log_msg(LOG_ERR, "kernel helper did not take mode %s", config_mode_name(m));
}

/* [agent] interpreters when set (possibly to none), else the built-in list. */
static int helper_config_interpreters(const struct hmd_config *cfg)
{
	const char *p[HMD_MAX_INTERP];
	size_t i;

	if (!cfg->interp_set)
		return helper_set_interpreters(helper_default_interp,
		                               sizeof(helper_default_interp) /
		                                   sizeof(helper_default_interp[0]));
	for (i = 0; i < cfg->n_interp; i++)
		p[i] = cfg->interp[i];
	return helper_set_interpreters(p, cfg->n_interp);
}

/* The list this daemon loaded, against the set the pinned helper protects. */
static int helper_start_list_ok(const struct hmk_config *pinned, char *why, size_t len)
{
	struct hmd_list *l = list_get();
	struct wl_err e = {0};
	int err = helper_list_ok(list_db(l), pinned, &e);

	list_put(l);
	if (err)
		snprintf(why, len, "%s", e.msg);
	return err;
}

/* Configuration, protection and list, then the mode: a fresh helper holds
 * HMK_MODE_OFF (allow all) until here. While no daemon runs the pinned mode
 * stays in force; a (re)started daemon sets its own (see state.c). */
static int helper_setup(const struct hmd_config *cfg, char *why, size_t len)
{
	struct hmk_config pinned = *hp.cfg; /* all zero (OFF) when freshly made */
	struct timespec now;
	struct stat st;
	int err;

	err = anchor_check(&pinned, cfg, why, len);
	if (!err)
		err = helper_start_list_ok(&pinned, why, len);
	if (err) {
		hp.refused = true;
		return err;
	}
	hp.active = true;
	if (!stat("/sys/fs/bpf", &st))
		hp.cfg->pin_dev = helper_kdev(st.st_dev);
	hp.cfg->abi = HMK_ABI_VERSION;
	hp.cfg->flags = (cfg->strict_wx ? HMK_CFG_STRICT_WX : 0) |
	                (cfg->strict_identity ? HMK_CFG_STRICT_IDENT : 0);
	hp.cfg->daemon_tgid = (uint32_t)getpid();
	/* beats from now: a daemon that hangs before its first beat goes stale */
	clock_gettime(CLOCK_MONOTONIC, &now);
	hp.cfg->beat_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (!stat("/proc/self/ns/mnt", &st))
		hp.cfg->mntns = (uint32_t)st.st_ino;
	hp.dcfg = cfg;
	err = helper_self_register();
	if (!err)
		err = helper_protect_defaults(cfg, &pinned);
	if (!err)
		err = helper_config_interpreters(cfg);
	if (!err)
		err = helper_config_wx_exempt(cfg);
	if (err) {
		snprintf(why, len, "cannot fill the helper's maps: %s", strerror(-err));
		return err;
	}
	err = helper_sync();
	if (err)
		log_msg(LOG_WARNING, "kernel helper: approving listed files: %s", strerror(-err));
	/* The daemon's mode (state file, else config; state_init() ran first)
	 * is the operator's last choice: a pinned mode from before a crash or
	 * an interrupted maintenance window gives way to it - but never lowers
	 * an enforcing one: the lock is the last good state, and a state file
	 * is not trusted above it (it may be another file mounted over the
	 * path, or one written while the daemon was away). */
	if (!state_authentic() && pinned.mode == HMK_MODE_AUDIT) {
		log_msg(LOG_WARNING, "kernel helper: the state file was not taken; the pinned "
		                     "helper's mode audit is the last good state");
		state_set_mode(HMD_MODE_AUDIT);
	}
	if (pinned.mode == HMK_MODE_ENFORCE && state_mode() != HMD_MODE_ENFORCE) {
		log_msg(LOG_WARNING,
		        "kernel helper: the pinned helper enforces; the state file's mode %s "
		        "does not lower it: staying in enforce (unlock with the admin password: "
		        "hmilock mode audit)",
		        config_mode_name(state_mode()));
		state_set_mode(HMD_MODE_ENFORCE);
	}
	__atomic_store_n(&hp.cfg->mode, helper_hmk_mode((enum hmd_mode)state_mode()),
	                 __ATOMIC_RELAXED);
	return 0;
}

static void helper_teardown(void)
{
	size_t i;

	helper_ev_stop();
	if (hp.cfg)
		munmap(hp.cfg, sysconf(_SC_PAGESIZE));
	hp.cfg = NULL;
	/* Closes our fds only: a pinned link stays attached through its pin. */
	for (i = 0; i < hp.n_links; i++)
		bpf_link__destroy(hp.links[i]);
	hp.n_links = 0;
	hmilock_bpf__destroy(hp.skel);
	hp.skel = NULL;
	hp.active = false;
	hp.dcfg = NULL;
}

int helper_init(const struct hmd_config *cfg)
{
	char why[512] = "";
	uint32_t abi;
	int err;

	memset(&hp, 0, sizeof(hp));
	if (cfg->helper == HMD_HELPER_OFF) {
		helper_set_status("unavailable — turned off in the configuration (helper = off)");
		log_msg(LOG_WARNING, "kernel helper off by configuration; open gaps: %s",
		        helper_gap_list);
		return 0;
	}
	libbpf_set_print(helper_libbpf_print);
	err = helper_probe(why, sizeof(why));
	if (!err)
		err = helper_pinned_abi(&abi);
	if (!err && abi && abi != HMK_ABI_VERSION) {
		log_msg(LOG_WARNING,
		        "kernel helper: pinned helper has ABI %u, this is %u: replacing it", abi,
		        HMK_ABI_VERSION);
		err = helper_unpin();
	}
	if (err && !why[0])
		snprintf(why, sizeof(why), "cannot inspect %s: %s", HMK_PIN_DIR, strerror(-err));
	if (!err)
		err = helper_load_retry(why, sizeof(why));
	if (!err)
		err = helper_map_cfg(why, sizeof(why));
	if (!err)
		err = helper_setup(cfg, why, sizeof(why));
	if (err) {
		helper_teardown();
		helper_set_status("unavailable — %s", why);
		log_msg(cfg->helper == HMD_HELPER_REQUIRED ? LOG_ERR : LOG_WARNING,
		        "kernel helper unavailable: %s; open gaps: %s", why, helper_gap_list);
		/* refused by a locked helper: never run beside it unregistered */
		return cfg->helper == HMD_HELPER_REQUIRED || hp.refused ? err : 0;
	}
	helper_set_status("active (pinned)");
	log_msg(LOG_INFO, "kernel helper active (pinned under %s%s)", HMK_PIN_DIR,
	        hp.reattached ? ", re-attached" : "");
	/* Subscribe: a reload re-approves, a mode change is copied. */
	list_add_handler(helper_on_list, NULL);
	list_set_checker(helper_list_check);
	state_add_mode_handler(helper_on_mode, NULL);
	return 0;
}

/* The helper's counters now, summed over CPUs (see hmk_stats). */
static int helper_stats_read(struct hmc_helper_counters *out)
{
	int ncpu = libbpf_num_possible_cpus(), fd, i;
	uint64_t *v, sum;
	uint32_t k;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	fd = bpf_map__fd(hp.skel->maps.hmk_stats);
	for (k = 0; k < HMK_ST__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (i = 0, sum = 0; i < ncpu; i++)
			sum += v[i];
		if (k < HMK_OP__MAX)
			out->denied[k] = sum;
		else if (k < HMK_ST_WOULD_DENY + HMK_OP__MAX)
			out->would_deny[k - HMK_ST_WOULD_DENY] = sum;
		else if (k == HMK_ST_RB_DROPPED)
			out->events_lost += sum;
		else
			out->unchecked += sum;
	}
	free(v);
	return 0;
}

/* Counters since this daemon attached: a re-attached helper's maps hold
 * what it counted before (hmk_stats lives in the pin). */
int helper_counters(struct hmc_helper_counters *out)
{
	struct hmc_helper_counters now;
	int err, op;

	memset(out, 0, sizeof(*out));
	if (!hp.active)
		return -ENODEV;
	err = helper_stats_read(&now);
	if (err)
		return err;
	for (op = 0; op < HMC_OP__MAX; op++) {
		out->denied[op] = now.denied[op] - hp.base.denied[op];
		out->would_deny[op] = now.would_deny[op] - hp.base.would_deny[op];
	}
	out->events_lost = now.events_lost - hp.base.events_lost;
	out->unchecked = now.unchecked - hp.base.unchecked;
	return 0;
}

/* After sandbox_enter(), with the other threads: the event reader. The
 * helper enforces without it; only its events would not be logged. */
int helper_start(void)
{
	char why[512] = "";
	int err;

	if (!hp.active)
		return 0;
	if (helper_stats_read(&hp.base))
		log_msg(LOG_WARNING, "kernel helper: its counters cannot be read: status counts "
		                     "since it was loaded");
	err = helper_ev_start(bpf_map__fd(hp.skel->maps.hmk_events), why, sizeof(why));
	if (err) {
		helper_set_status("active (pinned); its events are not read: %s", why);
		log_msg(LOG_ERR, "kernel helper: event reader not started: %s", why);
	}
	return 0;
}

/* The daemon goes; the pinned helper stays and keeps enforcing. */
void helper_fini(void)
{
	if (hp.cfg && hp.cfg->daemon_tgid == (uint32_t)getpid())
		__atomic_store_n(&hp.cfg->daemon_tgid, 0, __ATOMIC_RELAXED);
	helper_teardown();
}

/* Clean uninstall: stop enforcing, remove every pin (detaching the links
 * once our own fds are closed), then tear down. */
int helper_unpin(void)
{
	struct dirent *de;
	char path[sizeof(HMK_PIN_DIR) + 260];
	int err = 0, fd;
	uint32_t k = 0;
	struct hmk_config c;
	DIR *d;

	fd = hp.skel ? dup(bpf_map__fd(hp.skel->maps.hmk_config))
	             : bpf_obj_get(HMK_PIN_DIR "/hmk_config");
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &k, &c)) {
		c.mode = HMK_MODE_OFF;
		bpf_map_update_elem(fd, &k, &c, BPF_ANY);
	}
	if (fd >= 0)
		close(fd);
	d = opendir(HMK_PIN_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", HMK_PIN_DIR, de->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (!err && rmdir(HMK_PIN_DIR))
		err = -errno;
	if (err)
		log_msg(LOG_ERR, "kernel helper: removing %s: %s", HMK_PIN_DIR, strerror(-err));
	helper_teardown();
	if (!err)
		helper_set_status("unavailable — removed (helper_unpin)");
	return err;
}

/* ---- run time ----------------------------------------------------------- */

bool helper_active(void)
{
	return hp.active;
}

int helper_set_mode(enum hmd_mode m)
{
	if (!hp.active)
		return 0;
	__atomic_store_n(&hp.cfg->mode, helper_hmk_mode(m), __ATOMIC_RELAXED);
	return 0;
}

int helper_mode(enum hmd_mode *out)
{
	uint32_t m;

	if (!hp.active)
		return -ENODEV;
	m = __atomic_load_n(&hp.cfg->mode, __ATOMIC_RELAXED);
	*out = m == HMK_MODE_ENFORCE ? HMD_MODE_ENFORCE
	       : m == HMK_MODE_AUDIT ? HMD_MODE_AUDIT
	                             : HMD_MODE_MAINTENANCE;
	return 0;
}

void helper_beat(uint64_t beat_ns, const uint64_t *cgroups, size_t n)
{
	if (!hp.active ||
	    __atomic_load_n(&hp.cfg->daemon_tgid, __ATOMIC_RELAXED) != (uint32_t)getpid())
		return;
	__atomic_store_n(&hp.cfg->beat_ns, beat_ns, __ATOMIC_RELAXED);
	for (size_t i = 0; i < HMK_CG_DEPTH; i++)
		__atomic_store_n(&hp.cfg->cgroups[i], i < n ? cgroups[i] : 0, __ATOMIC_RELAXED);
}

void helper_allow_stop(void)
{
	if (hp.active)
		__atomic_or_fetch(&hp.cfg->flags, HMK_CFG_STOP_OK, __ATOMIC_RELAXED);
}

int helper_set_daemon(pid_t tgid)
{
	if (!hp.active)
		return 0;
	__atomic_store_n(&hp.cfg->daemon_tgid, (uint32_t)tgid, __ATOMIC_RELAXED);
	return 0;
}

static bool helper_any(int fd, const struct hmk_inode_key *k, void *arg)
{
	(void)fd, (void)k, (void)arg;
	return true;
}

int helper_set_updater_cgroup(const char *cgroup_dir, bool on)
{
	struct stat st;
	uint64_t id;
	uint32_t one = 1;
	int fd, err;

	if (!hp.active)
		return 0;
	if (stat(cgroup_dir, &st))
		return -errno;
	id = st.st_ino; /* a cgroup v2 directory's inode number is its cgroup id */
	fd = bpf_map__fd(hp.skel->maps.hmk_updaters);
	if (!on) {
		__atomic_and_fetch(&hp.cfg->flags, ~HMK_CFG_UPDATING, __ATOMIC_RELAXED);
		return bpf_map_delete_elem(fd, &id) && errno != ENOENT ? -errno : 0;
	}
	/* a new session starts with no notes */
	helper_map_prune(bpf_map__fd(hp.skel->maps.hmk_updwrites), helper_any, NULL);
	err = bpf_map_update_elem(fd, &id, &one, BPF_ANY) ? -errno : 0;
	if (!err)
		__atomic_or_fetch(&hp.cfg->flags, HMK_CFG_UPDATING, __ATOMIC_RELAXED);
	return err;
}

bool helper_update_wrote_path(const char *path)
{
	struct hmk_inode_key k;
	struct stat st;
	uint32_t v;

	return hp.active && !helper_ident_path(path, false, NULL, &st, &k) && S_ISREG(st.st_mode) &&
	       !bpf_map_lookup_elem(bpf_map__fd(hp.skel->maps.hmk_updwrites), &k, &v);
}

const char *helper_state(void)
{
	return hp.status;
}

void helper_status(char *buf, size_t len)
{
	if (hp.active)
		snprintf(buf, len, "%s", hp.status);
	else
		snprintf(buf, len, "%s; open gaps: %s",
		         hp.status[0] ? hp.status : "unavailable — not started", helper_gap_list);
}

void helper_wx_gaps(char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	if (!hp.active || !hp.dcfg)
		return;
	if (!hp.dcfg->strict_wx) {
		snprintf(buf, len,
		         "W^X off (strict_wx = no): a listed interpreter with an FFI "
		         "(python3 ctypes) can run machine code it writes");
		return;
	}
	for (size_t i = 0; i < hp.dcfg->n_wx_exempt && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s",
		                      i ? " "
		                        : "W^X exempt (wx_exempt; they may run code they write): ",
		                      hp.dcfg->wx_exempt[i]);
}

/* ---- for helper_mnt.c --------------------------------------------------- */

int helper_gated_fd(void)
{
	return hp.active ? bpf_map__fd(hp.skel->maps.hmk_gated) : -1;
}

bool helper_strict_identity(void)
{
	return hp.dcfg && hp.dcfg->strict_identity;
}

int helper_ident_flags(int fd, uint32_t *flags)
{
	struct hmk_ident id = {0};
	int rc;

	if (!hp.active)
		return -ENODEV;
	rc = helper_ident_ask(fd, &id);
	*flags = rc ? 0 : id.flags;
	return rc;
}

const char *helper_gaps(void)
{
	return hp.active ? NULL : helper_gap_list;
}
