// SPDX-License-Identifier: GPL-2.0
/* hmilock.bpf.c - the kernel helper: a BPF LSM that closes what fanotify
 * cannot see (executable mappings, memfd exec, writes to approved files,
 * signals and ptrace against hmilockd, scripts fed to interpreters).
 * Owns no state of its own: everything lives in the pinned maps below, which
 * only agent/helper.c (the loader inside hmilockd) writes.
 *
 * One object, many kernels (CO-RE): every kernel struct is read through the
 * few types declared in hmk_kernel.h, marked preserve_access_index, so clang
 * records each field access as a relocation and libbpf rewrites the offsets
 * against the running kernel's BTF (/sys/kernel/btf/vmlinux) at load time.
 * No vmlinux.h: the build needs no kernel's BTF. A field used here must be
 * declared there. Hook prototypes are not relocatable: the two hooks whose
 * argument lists changed (inode_setattr gained idmap in 6.8, bpf gained
 * `kernel` in 6.14) have one program per prototype, named *_a<N> for N
 * arguments, and the loader autoloads the one matching the kernel's
 * bpf_lsm_<hook>.
 *
 * Kernel floor: 5.11 (BPF LSM 5.7, ring buffer 5.8, task local storage and
 * bpf_get_current_task_btf 5.11), CONFIG_BPF_LSM=y, CONFIG_DEBUG_INFO_BTF=y
 * and "bpf" in the active LSM list (lsm= or CONFIG_LSM). No sleepable hooks
 * (lsm.s/) and no kfuncs are used, so nothing newer is needed; bpf_loop
 * (5.17) is used where the kernel has it (hmk_script_match searches all of
 * an interpreter's argv with it, else only its first 256 bytes).
 *
 * Every hook that returns int takes the previous BPF LSM program's verdict as
 * its last argument (`ret`) and passes a non-zero one on unchanged. */
#include "hmk_kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "hmilock_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define HMK_ARGV_CHUNK 256 /* argv bytes read and searched per step */
#define HMK_ARGV_SCAN 512 /* steps: argv beyond 128 KiB is not searched (fail closed) */
#define HMK_FORK_DEPTH 4 /* generations a forked interpreter process looks up (task_state_forked) */
#define HMK_NAME_MAX 256 /* a file name (NAME_MAX) and its NUL */
#define HMK_WALK_MAX 24 /* dentry steps (components + mount crossings) per path */
#define HMK_GOLDEN 0x9e3779b97f4a7c15ULL /* 2^64 / the golden ratio */

/* ---- maps (all pinned by name under HMK_PIN_DIR) ------------------------ */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hmk_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, HMK_APPROVED_MAX);
	__type(key, struct hmk_inode_key);
	__type(value, struct hmk_approved);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_approved SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HMK_PROTECTED_MAX);
	__type(key, struct hmk_inode_key);
	__type(value, __u32); /* HMK_P_* */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_protected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HMK_INTERP_MAX);
	__type(key, struct hmk_inode_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_interp SEC(".maps");

/* The programs exempt from W^X ([agent] wx_exempt: JIT runtimes), by the
 * inode of their executable. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HMK_WXEXEMPT_MAX);
	__type(key, struct hmk_inode_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_wxexempt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HMK_UPDATERS_MAX);
	__type(key, __u64); /* cgroup v2 id */
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_updaters SEC(".maps");

/* While a trusted update session is open (HMK_CFG_UPDATING): the inodes its
 * cgroup opened for writing, and that nothing outside it has written since
 * (upd_note). hmilockd asks it about a change whose writer was reaped
 * before the event was read (`tar x && ./install.sh`: tar is gone at once),
 * which /proc can no longer place; the kernel saw the writer here. Not
 * preallocated (memory as sessions use it, not 5 MB for ever); when it is
 * full a note is not taken and that change, if its writer is gone, stays
 * unattributed: refused, never approved. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, HMK_UPDWRITES_MAX);
	__type(key, struct hmk_inode_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_updwrites SEC(".maps");

/* Filesystems (kernel dev_t of the superblock) whose identity is unknown
 * (HMK_ID_UNKNOWN) and that hmilockd's exec gate covers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HMK_GATED_MAX);
	__type(key, __u64);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_gated SEC(".maps");

/* The identities hmilockd asked for (HMK_IDENT_ARG), by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HMK_IDENT_MAX);
	__type(key, __u32);
	__type(value, struct hmk_ident);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_ident SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HMK_SELF_MAX);
	__type(key, struct hmk_obj_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_self SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HMK_ST__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HMK_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct hmk_task);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} hmk_taskst SEC(".maps");

/* The state of one scan of an interpreter's argv (hmk_argv_chunk), kept in
 * the scratch map value and only read and written through volatile
 * accesses: the verifier does not track map memory, so flags the compiler
 * would turn into 0/1 constants do not split its states byte after byte
 * (kept in registers, they made a 256-byte loop cost it more than 300,000
 * instructions on 6.1). */
struct hmk_argscan {
	__u64 off, end; /* next argv byte to read, end of the argv area */
	__u64 h, ph, lasth; /* FNV-1a of the current component, dotted piece, last component */
	__u64 pos, argi, fl; /* byte within the argument, its index, HMK_S_* */
	__u64 nh, sh, dh, l0, l1; /* targets: name, stem, module dir, followed symlinks */
	__u64 exact, mod, modm; /* first argument naming the file / its module / after -m */
	__u64 ic, codei; /* the interpreter's HMK_IC_*; the first code argument (after it: data) */
};

#define HMK_M_EXACT 0x1 /* the file's name (or a symlink's) is an argument's last component */
#define HMK_M_MODULE 0x2 /* a module named by -m/-M, or a __main__ file */
#define HMK_M_MODARG 0x4 /* HMK_M_MODULE, through the argument that follows -m */
#define HMK_M_UNSEEN 0x8 /* argv not searched to its end: whether it names the file is unknown */

#define HMK_S_OPT 0x1 /* in the option letters of a "-xyz" argument */
#define HMK_S_MODREST 0x2 /* the rest of this argument names a module (-mNAME) */
#define HMK_S_MODARG 0x4 /* this argument names a module (it follows "-m") */
#define HMK_S_MLAST 0x8 /* this argument so far ends with the module option letter */
#define HMK_S_CODE 0x10 /* this argument is code (-c CMD, -e CODE): it names no file */
#define HMK_S_CLAST 0x20 /* this argument so far ends with a code option letter */
#define HMK_S_DATA 0x40 /* this argument is an option's data file (php -c INI), no script */
#define HMK_S_DLAST 0x80 /* this argument so far ends with such an option letter */

/* Per-task scratch: an event is built here, then copied to hmk_events with
 * bpf_ringbuf_output(). Building it in a bpf_ringbuf_reserve()d record would
 * hold a reference across the path walk, and before 6.3 the verifier cannot
 * prune states that hold references: the walk would not verify. Per task,
 * not per CPU, so that preemption (preempt=full) cannot mix two tasks'
 * records. Created on a task's first event or interpreter check, freed with
 * the task. */
struct hmk_scratch {
	struct hmk_event ev;
	char argv[HMK_ARGV_CHUNK];
	char name[HMK_NAME_MAX];
	struct hmk_argscan scan;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct hmk_scratch);
} hmk_scratch SEC(".maps");

static __always_inline struct hmk_scratch *scratch_get(void)
{
	return bpf_task_storage_get(&hmk_scratch, bpf_get_current_task_btf(), 0,
	                            BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/* The interpreter state of the current process (hmk_task), kept on its
 * thread group leader: every thread of `python3 app.py in.csv` sees that
 * app.py has been opened. exec (bprm_committed_creds) makes the exec'ing
 * thread the leader and drops its state. flags: 0 or
 * BPF_LOCAL_STORAGE_GET_F_CREATE. */
static __always_inline struct hmk_task *task_state(__u64 flags)
{
	return bpf_task_storage_get(&hmk_taskst, bpf_get_current_task_btf()->group_leader, 0,
	                            flags);
}

/* ---- small helpers ------------------------------------------------------ */

static __always_inline struct hmk_config *cfg_get(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&hmk_config, &k);
}

/* The modes in which hooks act at all (OFF and MAINTENANCE allow). */
static __always_inline bool cfg_locked(const struct hmk_config *c)
{
	return c && (c->mode == HMK_MODE_ENFORCE || c->mode == HMK_MODE_AUDIT);
}

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&hmk_stats, &idx);

	if (v)
		*v += 1;
}

/* The inode an overlayfs inode shows: the upper layer's once the file was
 * copied up, else the top lower layer's (the kernel maps and reads that
 * file). NULL when the module's types were not there at load time. */
static __always_inline struct inode *ovl_real_inode(struct inode *inode)
{
	struct ovl_inode *oi;
	struct dentry *d;

	if (!bpf_core_type_exists(struct ovl_inode))
		return 0;
	oi = (void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode);
	d = BPF_CORE_READ(oi, __upperdentry);
	if (!d && bpf_core_field_exists(struct ovl_inode___v61, lowerpath))
		d = BPF_CORE_READ((struct ovl_inode___v61 *)oi, lowerpath.dentry);
	else if (!d && bpf_core_field_exists(struct ovl_inode___v65, oe))
		d = BPF_CORE_READ((struct ovl_inode___v65 *)oi, oe, __lowerstack[0].dentry);
	return d ? BPF_CORE_READ(d, d_inode) : 0;
}

/*
 * The identity of a file on overlayfs or btrfs, where the superblock's
 * (s_dev, i_ino) does not name one file:
 * - overlayfs: the real inode's (upper or lower layer), so that an approval
 *   holds for every overlay over the same layers (each container start is
 *   a new overlay mount with a new device number), a file copied up is
 *   another file (approved again only by its hash), and a write to a layer
 *   through another path (the upper directory) reaches the same approval;
 * - btrfs: inode numbers restart in every subvolume under one superblock,
 *   so the subvolume's id is mixed into the number (a product with the
 *   golden ratio: two (subvolume, inode) pairs only collide for inode
 *   numbers no btrfs hands out). s_dev stays the superblock's, which
 *   sb_delete sweeps.
 * hmilockd asks the kernel for this identity (HMK_IDENT_ARG, hmk_ident)
 * instead of computing it from stat(2).
 */
static __noinline __u32 inode_key_layered(struct inode *inode, __u64 magic, struct hmk_inode_key *k)
{
	struct btrfs_inode *bi;
	struct inode *real = inode;
	__u32 gen = inode->i_generation;

	if (magic == OVERLAYFS_SUPER_MAGIC) {
		real = ovl_real_inode(inode);
		if (!real)
			return gen;
		k->dev = BPF_CORE_READ(real, i_sb, s_dev);
		k->ino = BPF_CORE_READ(real, i_ino);
		gen = BPF_CORE_READ(real, i_generation);
		magic = BPF_CORE_READ(real, i_sb, s_magic);
	}
	if (magic != BTRFS_SUPER_MAGIC || !bpf_core_type_exists(struct btrfs_inode))
		return gen;
	bi = (void *)real - bpf_core_field_offset(struct btrfs_inode, vfs_inode);
	k->ino ^= BPF_CORE_READ(bi, root, root_key.objectid) * HMK_GOLDEN;
	return gen;
}

/* The key of an inode, and the generation of the inode it names (the
 * layer's on overlayfs). Hot paths read kernel structs by direct
 * (BTF-checked, fault-safe) loads, not bpf_probe_read_kernel() calls: every
 * open(2) goes through here. */
static __always_inline __u32 inode_key(struct inode *inode, struct hmk_inode_key *k)
{
	struct super_block *sb = inode->i_sb;
	__u64 magic = sb->s_magic;

	k->dev = sb->s_dev;
	k->ino = inode->i_ino;
	if (magic == OVERLAYFS_SUPER_MAGIC || magic == BTRFS_SUPER_MAGIC)
		return inode_key_layered(inode, magic, k);
	return inode->i_generation;
}

/* HMK_ID_UNKNOWN: no identity the helper can stand by (hmilock_abi.h). */
static __always_inline __u32 inode_ident_flags(struct inode *inode)
{
	__u64 m = inode->i_sb->s_magic;

	if (m == NFS_SUPER_MAGIC || m == SMB_SUPER_MAGIC || m == CIFS_SUPER_MAGIC ||
	    m == SMB2_SUPER_MAGIC || m == V9FS_MAGIC || m == CEPH_SUPER_MAGIC ||
	    m == AFS_FS_MAGIC || m == AFS_SUPER_MAGIC || m == CODA_SUPER_MAGIC ||
	    m == FUSE_SUPER_MAGIC)
		return HMK_ID_UNKNOWN;
	if (m == OVERLAYFS_SUPER_MAGIC && !bpf_core_type_exists(struct ovl_inode))
		return HMK_ID_UNKNOWN;
	if (m == BTRFS_SUPER_MAGIC && !bpf_core_type_exists(struct btrfs_inode))
		return HMK_ID_UNKNOWN;
	return 0;
}

/* The approved map's entry for inode, NULL when it has none or the
 * generation says it is another inode with the same number. */
static __always_inline struct hmk_approved *inode_approval(struct inode *inode)
{
	struct hmk_inode_key k;
	struct hmk_approved *a;
	__u32 gen;

	if (!inode)
		return 0;
	gen = inode_key(inode, &k);
	a = bpf_map_lookup_elem(&hmk_approved, &k);
	if (!a)
		return 0;
	if ((a->flags & HMK_A_GEN) && a->gen != gen)
		return 0; /* same number, another inode: not the approved file */
	return a;
}

static __always_inline bool inode_approved(struct inode *inode)
{
	return inode_approval(inode) != 0;
}

/* Someone may still change the inode: a write fd (opened before it was
 * approved, or before the box was locked) or a shared writable mapping. An
 * approved inode in that state is not mapped executable: what would run is
 * not what was hashed. (execve itself refuses such a file: ETXTBSY.) */
static __always_inline bool inode_has_writers(struct inode *inode)
{
	return inode->i_writecount.counter > 0;
}

static __always_inline __u32 inode_protected(struct inode *inode)
{
	struct hmk_inode_key k;
	__u32 *p;

	if (!inode)
		return 0;
	inode_key(inode, &k);
	p = bpf_map_lookup_elem(&hmk_protected, &k);
	return p ? *p : 0;
}

/* An unapproved file the helper leaves to hmilockd's exec gate: its
 * filesystem's identity is unknown (inode_ident_flags), the gate covers it
 * (hmk_gated: hmilockd marked it) and the operator did not ask for strict
 * denial. Only asked on the way to a refusal. */
static __always_inline bool inode_deferred(const struct hmk_config *c, struct inode *inode)
{
	__u64 dev;

	if ((c->flags & HMK_CFG_STRICT_IDENT) || !inode_ident_flags(inode))
		return false;
	dev = inode->i_sb->s_dev;
	if (!bpf_map_lookup_elem(&hmk_gated, &dev))
		return false;
	stat_inc(HMK_ST_DEFERRED);
	return true;
}

static __always_inline __u32 cur_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* The exe inode of the current process, NULL for kernel threads. */
static __always_inline struct inode *cur_exe_inode(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->mm->exe_file->f_inode;
}

/* The daemon is trusted: the registered tgid, or, while none is registered
 * (it exited: task_free cleared it), a process running the protected
 * hmilockd binary, so that a restarted daemon can re-attach. */
static __always_inline bool cur_is_daemon(const struct hmk_config *c)
{
	__u32 tgid = c->daemon_tgid;

	if (bpf_get_current_task_btf()->ptrace)
		return false; /* a traced process runs its tracer's will too */
	if (tgid)
		return cur_tgid() == tgid;
	return inode_protected(cur_exe_inode()) & HMK_P_DAEMON;
}

static __always_inline bool cur_in_updater(void)
{
	__u64 cg = bpf_get_current_cgroup_id();

	return bpf_map_lookup_elem(&hmk_updaters, &cg) != NULL;
}

/* ---- events ------------------------------------------------------------- */

/* Record the path of dentry d, leaf first, one step per comp[] entry: a
 * name, or "" where the walk crossed from a mount's root to its mount point.
 * With a vfsmount the walk reaches the namespace root (an absolute path);
 * without one it stops at the filesystem root (HMK_EF_FSREL). The pointers
 * are copied into plain scalars first and the step index is the only value
 * that varies between the loop's states: that keeps the verifier's work
 * linear (a state per pointer type or per component count multiplies). */
static __always_inline void event_path(struct hmk_event *e, struct dentry *dentry,
                                       struct vfsmount *vmnt)
{
	unsigned long in[2] = {(unsigned long)dentry, (unsigned long)vmnt}, sc[2] = {};
	struct dentry *d, *mroot = 0, *parent;
	struct mount *m = 0, *up;
	struct vfsmount *v;
	bool done = false;

	bpf_probe_read_kernel(sc, sizeof(sc), in);
	d = (struct dentry *)sc[0];
	v = (struct vfsmount *)sc[1];
	if (v) {
		m = (void *)v - bpf_core_field_offset(struct mount, mnt);
		mroot = BPF_CORE_READ(v, mnt_root);
	} else {
		e->flags |= HMK_EF_FSREL;
	}
	for (int i = 0; i < HMK_PATH_DEPTH && !done; i++) {
		e->comp[i][0] = 0;
		if (m && d == mroot) {
			up = BPF_CORE_READ(m, mnt_parent);
			done = !up || up == m; /* the namespace root */
			if (done)
				break;
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = up;
			mroot = BPF_CORE_READ(m, mnt.mnt_root);
		} else {
			parent = BPF_CORE_READ(d, d_parent);
			done = !parent || parent == d; /* the filesystem root */
			if (done)
				break;
			bpf_probe_read_kernel_str(e->comp[i], HMK_NAME_LEN,
			                          BPF_CORE_READ(d, d_name.name));
			d = parent;
		}
		e->depth = i + 1;
	}
	if (!done)
		e->flags |= HMK_EF_TRUNC;
}

/* A pointer as a plain scalar, for the global functions below (the verifier
 * accepts only scalars as their arguments) and for NULL tests the verifier
 * must not fold away. */
static __always_inline __u64 scalar_of(const void *p)
{
	__u64 in = (__u64)p, out = 0;

	bpf_probe_read_kernel(&out, sizeof(out), &in);
	return out;
}

/* Build an event in the task's scratch and copy it to hmk_events. A global
 * function: the verifier checks it once per program instead of once per
 * call site, which keeps the hooks with several call sites small. */
__noinline int hmk_emit(__u64 op_verdict, __u64 inode_p, __u64 dentry_p, __u64 mnt_p,
                        __u64 target_arg)
{
	struct hmk_scratch *s = scratch_get();
	struct inode *inode = (struct inode *)inode_p;
	__u64 id = bpf_get_current_pid_tgid();
	struct hmk_event *e;

	if (!s) {
		stat_inc(HMK_ST_RB_DROPPED);
		return 0;
	}
	e = &s->ev;
	e->ktime_ns = bpf_ktime_get_ns();
	e->dev = 0;
	e->ino = 0;
	if (inode) {
		e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
		e->ino = BPF_CORE_READ(inode, i_ino);
	}
	e->tgid = id >> 32;
	e->pid = (__u32)id;
	e->target = target_arg >> 32;
	e->arg = (__u32)target_arg;
	e->op = op_verdict & 0xff;
	e->verdict = (op_verdict >> 8) & 0xff;
	e->depth = 0;
	e->flags = 0;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (dentry_p)
		event_path(e, (struct dentry *)dentry_p, (struct vfsmount *)mnt_p);
	if (bpf_ringbuf_output(&hmk_events, e, sizeof(*e), 0))
		stat_inc(HMK_ST_RB_DROPPED);
	return 0;
}

static __always_inline void event_emit(__u8 op, __u8 verdict, struct inode *inode, struct dentry *d,
                                       struct vfsmount *mnt, __u32 target, __u32 arg)
{
	hmk_emit(op | (__u32)verdict << 8, scalar_of(inode), scalar_of(d), scalar_of(mnt),
	         (__u64)target << 32 | arg);
}

/* A violation: -EPERM in enforce, allowed but reported in audit. Callers
 * have checked cfg_locked(). */
static __always_inline int violation(const struct hmk_config *c, __u8 op, struct inode *inode,
                                     struct dentry *d, struct vfsmount *mnt, __u32 target,
                                     __u32 arg)
{
	bool enforce = c->mode == HMK_MODE_ENFORCE;

	stat_inc(enforce ? op : HMK_ST_WOULD_DENY + op);
	event_emit(op, enforce ? HMK_V_DENY : HMK_V_WOULD_DENY, inode, d, mnt, target, arg);
	return enforce ? -EPERM : 0;
}

/* ---- execution: exec, executable mappings ------------------------------- */

/*
 * The trusted update's cgroup (hmk_updaters: `hmilock update`, the apt hook)
 * runs what it has just installed before it is approved: a package's
 * maintainer scripts and new programs, an installer's own steps, and after
 * a self-upgrade the new hmilock CLI in the Post-Invoke hook. Its execs
 * are still decided by hmilockd's fanotify gate, which allows only what the
 * session wrote (update.c); the helper defers to it there, and maps what
 * the session runs. W^X still applies. What the session wrote is approved
 * when it commits; nothing outside the cgroup runs it before.
 */
static __always_inline int exec_check(struct linux_binprm *bprm)
{
	struct hmk_config *c = cfg_get();
	struct file *f;

	if (!cfg_locked(c))
		return 0;
	f = bprm->file;
	if (inode_approved(f->f_inode) || cur_in_updater() || inode_deferred(c, f->f_inode))
		return 0;
	return violation(c, HMK_OP_EXEC, f->f_inode, f->f_path.dentry, f->f_path.mnt, 0, 0);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(hmk_bprm_check, struct linux_binprm *bprm, int ret)
{
	return ret ? ret : exec_check(bprm);
}

/* A new program image: forget the interpreter state of the old one. */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(hmk_bprm_committed, struct linux_binprm *bprm)
{
	bpf_task_storage_delete(&hmk_taskst, bpf_get_current_task_btf());
	return 0;
}

/*
 * W^X (strict_wx, on by default): no memory is writable and executable at
 * once, and memory the process wrote never becomes executable. That is
 * what a userland loader needs (a listed interpreter with an FFI maps
 * memory, copies machine code into it, makes it executable) and what a JIT
 * does; JIT runtimes are exempted by program (hmk_wxexempt). Anonymous
 * memory is all written by the process; a private file mapping is once a
 * page of it was copied on write (anon_vma set).
 */
static __always_inline bool wx_applies(const struct hmk_config *c)
{
	struct hmk_inode_key k;

	if (!(c->flags & HMK_CFG_STRICT_WX))
		return false;
	inode_key(cur_exe_inode(), &k);
	return !bpf_map_lookup_elem(&hmk_wxexempt, &k);
}

/* The dynamic loader run as a program (`/lib64/ld-linux-x86-64.so.2
 * /usr/bin/python3 x.py`) maps the interpreter itself: the process's exe is
 * ld.so, so interp_check would not know it. A task that maps a listed
 * interpreter executable, other than its own exe, runs that interpreter from
 * now on (until exec). Part of hmk_mmap_file, not a program of its own: a
 * second program on the hook costs a trampoline round trip on every mmap. */
static __always_inline void mmap_interp_note(const struct hmk_config *c, struct file *file)
{
	struct task_struct *t;
	struct hmk_inode_key k;
	struct hmk_task *ts;
	__u32 *ic;

	if (!c->n_interp)
		return;
	inode_key(file->f_inode, &k);
	ic = bpf_map_lookup_elem(&hmk_interp, &k);
	if (!ic)
		return;
	t = bpf_get_current_task_btf();
	if (t->mm->exe_file->f_inode == file->f_inode)
		return; /* the kernel mapping the exe at exec */
	ts = task_state(BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ts) {
		ts->flags |= HMK_T_INTERP;
		ts->ic = *ic;
	} else {
		stat_inc(HMK_ST_TASK_NOSTORE);
	}
}

SEC("lsm/mmap_file")
int BPF_PROG(hmk_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
             unsigned long flags, int ret)
{
	struct hmk_config *c;
	bool locked;

	if (ret)
		return ret;
	if (!(prot & PROT_EXEC))
		return 0;
	c = cfg_get();
	if (!c)
		return 0;
	locked = cfg_locked(c);
	if (locked && (prot & PROT_WRITE) && wx_applies(c))
		return violation(c, HMK_OP_WX, 0, 0, 0, 0, prot);
	/* `file` is NULL for an anonymous mapping, but kernels that mark LSM
	 * arguments trusted (6.12) let the verifier assume it is not and
	 * drop a plain `!file` test as dead code: the dereference below then
	 * oopses. Test a copy the verifier cannot reason about. */
	if (!scalar_of(file))
		return 0; /* fresh anonymous memory, not writable: zeroes */
	if (locked && !(inode_approved(file->f_inode) && !inode_has_writers(file->f_inode)) &&
	    !cur_in_updater() && !inode_deferred(c, file->f_inode) &&
	    violation(c, HMK_OP_MMAP, file->f_inode, file->f_path.dentry, file->f_path.mnt, 0,
	              prot))
		return -EPERM;
	mmap_interp_note(c, file);
	return 0;
}

SEC("lsm/file_mprotect")
int BPF_PROG(hmk_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
             unsigned long prot, int ret)
{
	struct hmk_config *c;
	struct file *file;

	if (ret)
		return ret;
	if (!(prot & PROT_EXEC))
		return 0;
	c = cfg_get();
	if (!cfg_locked(c))
		return 0;
	file = vma->vm_file;
	if (wx_applies(c)) {
		if (prot & PROT_WRITE)
			return violation(c, HMK_OP_WX, 0, 0, 0, 0, prot);
		/* anonymous memory turning executable, or file pages the
		 * process has written: what would run is its own bytes */
		if ((!scalar_of(file) && !(vma->vm_flags & VM_EXEC)) || scalar_of(vma->anon_vma))
			return violation(c, HMK_OP_WX, 0, 0, 0, 0, prot);
	}
	if (!scalar_of(file)) /* as in hmk_mmap_file */
		return 0;
	if ((inode_approved(file->f_inode) && !inode_has_writers(file->f_inode)) ||
	    cur_in_updater() || inode_deferred(c, file->f_inode))
		return 0;
	return violation(c, HMK_OP_MPROTECT, file->f_inode, file->f_path.dentry, file->f_path.mnt,
	                 0, prot);
}

/* ---- write protection of approved and protected inodes ------------------ */

/* A change to inode (op). Allowed for the daemon, in maintenance and for the
 * trusted updater's cgroup; in audit allowed and reported; then, when `drop`
 * (the content may change or the inode may be freed and its number reused),
 * the inode leaves the approved map until hmilockd re-hashes it. */
static __always_inline int write_check(struct hmk_config *c, __u8 op, struct inode *inode,
                                       struct dentry *d, struct vfsmount *mnt, bool drop)
{
	struct hmk_inode_key k;
	bool approved, allowed;
	__u32 *pv, pf;
	int err = 0;

	if (!c || c->mode == HMK_MODE_OFF || !inode)
		return 0;
	inode_key(inode, &k);
	approved = bpf_map_lookup_elem(&hmk_approved, &k) != NULL;
	barrier_var(approved); /* else clang ORs the two map pointers: rejected */
	pv = bpf_map_lookup_elem(&hmk_protected, &k);
	pf = pv ? *pv : 0;
	if (!approved && !pf)
		return 0;
	/* a directory above a protected file: only never renamed away */
	if (!approved && pf == HMK_P_DIR && op != HMK_OP_RENAME)
		return 0;
	/* The trusted update replaces approved files and the package's own
	 * (HMK_P_PKG), never the list, key, password, state, journal or pins. */
	allowed = cur_is_daemon(c) || (cur_in_updater() && (!pf || (pf & HMK_P_PKG)));
	if (c->mode == HMK_MODE_ENFORCE && !allowed)
		return violation(c, op, inode, d, mnt, 0, 0);
	if (c->mode == HMK_MODE_AUDIT && !allowed)
		err = violation(c, op, inode, d, mnt, 0, 0);
	if (approved && drop && bpf_map_delete_elem(&hmk_approved, &k) == 0)
		event_emit(op, HMK_V_CHANGED, inode, d, mnt, 0, 0);
	return err;
}

/* An open for writing, or a write, of inode while an update session is
 * open: the session's cgroup notes it, anyone else takes the note away (a
 * change by another writer is never the session's, whenever it is read). */
static __always_inline void upd_note(const struct hmk_config *c, struct inode *inode)
{
	struct hmk_inode_key k;
	__u32 one = 1;

	if (!(c->flags & HMK_CFG_UPDATING))
		return;
	inode_key(inode, &k);
	if (cur_in_updater())
		bpf_map_update_elem(&hmk_updwrites, &k, &one, BPF_ANY);
	else
		bpf_map_delete_elem(&hmk_updwrites, &k);
}

/* A write through an fd opened before the inode was approved (file_open
 * checked it then, when there was nothing to protect): refused like any
 * change while locked, and the approval goes in every mode, so whatever the
 * fd wrote is hashed again before it can run. Reads return at once: this
 * hook runs on every read(2). */
SEC("lsm/file_permission")
int BPF_PROG(hmk_file_permission, struct file *file, int mask, int ret)
{
	struct hmk_config *c;
	struct hmk_inode_key k;
	struct inode *inode;
	int err = 0;

	if (ret || !(mask & MAY_WRITE))
		return ret;
	c = cfg_get();
	if (!c || c->mode == HMK_MODE_OFF)
		return 0;
	inode = file->f_inode;
	upd_note(c, inode);
	inode_key(inode, &k);
	if (!bpf_map_lookup_elem(&hmk_approved, &k))
		return 0;
	if (c->mode != HMK_MODE_MAINTENANCE && !cur_is_daemon(c) && !cur_in_updater())
		err =
		    violation(c, HMK_OP_WRITE, inode, file->f_path.dentry, file->f_path.mnt, 0, 0);
	if (bpf_map_delete_elem(&hmk_approved, &k) == 0)
		event_emit(HMK_OP_WRITE, HMK_V_CHANGED, inode, file->f_path.dentry,
		           file->f_path.mnt, 0, 0);
	return err;
}

/* ---- interpreter argv matching ------------------------------------------ */

static __always_inline __u64 fnv(__u64 h, __u8 c)
{
	return (h ^ c) * FNV_PRIME;
}

/* A dotted piece of an argument ends: does it name the file (mod for
 * mod.py) or its package directory (pkg for pkg/__init__.py)? Any argument
 * may name a module (`python3 -m runpy mod`); one given to -m (modm) makes
 * a system module's arguments data. */
static __always_inline void scan_piece(volatile struct hmk_argscan *a)
{
	if (a->ph != a->sh && a->ph != a->dh)
		return;
	if (!a->mod)
		a->mod = a->argi;
	if (!a->modm && (a->fl & (HMK_S_MODREST | HMK_S_MODARG)))
		a->modm = a->argi;
}

/* Can the current argument name a script: not argv[0], not code or an
 * option's data file, not after the code (data)? */
static __always_inline bool scan_named(volatile struct hmk_argscan *a)
{
	return a->argi && !(a->fl & (HMK_S_CODE | HMK_S_DATA)) && !a->codei;
}

/* An argument ends: compare its last non-empty component (all but argv[0]).
 * Code (-c CODE), or a lone "-" where it is the program on stdin, makes the
 * arguments after it data. */
static __always_inline void scan_arg_end(volatile struct hmk_argscan *a)
{
	__u64 last = a->h != FNV_OFFSET ? a->h : a->lasth;

	if (scan_named(a)) {
		if (!a->exact && (last == a->nh || last == a->l0 || last == a->l1))
			a->exact = a->argi;
		scan_piece(a);
	}
	if (a->argi && !a->codei &&
	    ((a->fl & HMK_S_CODE) ||
	     ((a->fl & HMK_S_OPT) && a->pos == 1 && (a->ic & HMK_IC_STDIN))))
		a->codei = a->argi;
	a->fl = ((a->fl & HMK_S_MLAST) ? HMK_S_MODARG : 0) |
	        ((a->fl & HMK_S_CLAST) ? HMK_S_CODE : 0) | ((a->fl & HMK_S_DLAST) ? HMK_S_DATA : 0);
	a->argi += 1;
	a->pos = 0;
	a->h = FNV_OFFSET;
	a->ph = FNV_OFFSET;
	a->lasth = FNV_OFFSET;
}

/* Option letters that take a value: what follows is not an option (-W ARG,
 * -X OPT; perl -I DIR; bash -o/-O NAME). */
static __always_inline bool opt_takes_value(__u8 c)
{
	return c == 'W' || c == 'X' || c == 'I' || c == 'o' || c == 'O';
}

/* Option letters whose value is code, not a file, for this interpreter
 * (HMK_IC_*: python -c CMD, perl -e CODE; bash -e is not one). */
static __always_inline bool opt_takes_code(__u64 ic, __u8 c)
{
	return (c == 'c' && (ic & HMK_IC_C)) || (c == 'e' && (ic & HMK_IC_E)) ||
	       (c == 'E' && (ic & HMK_IC_EE)) || (c == 'p' && (ic & HMK_IC_P)) ||
	       (c == 'r' && (ic & HMK_IC_R));
}

/* Option letters whose value is a data file the interpreter reads before
 * its script (php -c INI): neither code nor a script. */
static __always_inline bool opt_takes_data(__u64 ic, __u8 c)
{
	return c == 'c' && (ic & HMK_IC_R);
}

/* One argv byte. Short options are followed to find the module option
 * (python -m NAME / -mNAME / -Bm NAME, perl -MNAME / -mNAME) and code given
 * on the command line (-c CMD: its text is not a file name). */
static __always_inline void scan_byte(volatile struct hmk_argscan *a, __u8 c)
{
	if (c == 0) {
		scan_arg_end(a);
		return;
	}
	if (a->argi && a->pos == 0 && c == '-') {
		a->fl |= HMK_S_OPT;
	} else if (a->fl & HMK_S_OPT) {
		a->fl &= ~(__u64)(HMK_S_MLAST | HMK_S_CLAST | HMK_S_DLAST);
		if (a->pos == 1 && c == '-') {
			a->fl &= ~(__u64)HMK_S_OPT; /* a long option */
		} else if (c == 'm' || c == 'M') {
			a->fl = (a->fl & ~(__u64)HMK_S_OPT) | HMK_S_MODREST | HMK_S_MLAST;
			a->pos += 1;
			a->h = FNV_OFFSET;
			a->ph = FNV_OFFSET;
			return;
		} else if (opt_takes_data(a->ic, c)) {
			a->fl = (a->fl & ~(__u64)HMK_S_OPT) | HMK_S_DATA | HMK_S_DLAST;
		} else if (opt_takes_code(a->ic, c)) {
			a->fl = (a->fl & ~(__u64)HMK_S_OPT) | HMK_S_CODE | HMK_S_CLAST;
		} else if (opt_takes_value(c)) {
			a->fl &= ~(__u64)HMK_S_OPT;
		}
	} else {
		a->fl &= ~(__u64)(HMK_S_MLAST | HMK_S_CLAST | HMK_S_DLAST);
	}
	if (c == '/') {
		if (a->h != FNV_OFFSET)
			a->lasth = a->h;
		a->h = FNV_OFFSET;
		a->ph = FNV_OFFSET;
	} else if (c == '.') {
		if (scan_named(a))
			scan_piece(a);
		a->h = fnv(a->h, c);
		a->ph = FNV_OFFSET;
	} else {
		a->h = fnv(a->h, c);
		a->ph = fnv(a->ph, c);
	}
	a->pos += 1;
}

/* Search the next HMK_ARGV_CHUNK bytes of the current process's argv. A
 * global function, verified once; 1 when the scan is over. */
__noinline int hmk_argv_chunk(__u64 unused)
{
	volatile struct hmk_argscan *a;
	struct hmk_scratch *s = scratch_get();
	__u64 off, n;

	if (!s)
		return 1;
	a = &s->scan;
	off = a->off;
	if (off >= a->end)
		return 1;
	n = a->end - off;
	if (n > HMK_ARGV_CHUNK)
		n = HMK_ARGV_CHUNK;
	if (bpf_probe_read_user(s->argv, n, (void *)off))
		return 1; /* not resident: the scan stops short (HMK_M_UNSEEN) */
	for (int i = 0; i < HMK_ARGV_CHUNK; i++) {
		if (i >= n)
			break;
		scan_byte(a, s->argv[i]);
	}
	a->off = off + n;
	return a->off >= a->end;
}

static long argv_step(__u32 i, void *ctx)
{
	return hmk_argv_chunk(i) ? 1 : 0; /* bpf_loop accepts only 0 or 1 */
}

/* Do the first n bytes of name equal lit? */
static __always_inline bool name_is(const char *name, const char *lit, int n)
{
	for (int i = 0; i < n; i++)
		if (name[i] != lit[i])
			return false;
	return true;
}

/* FNV-1a of the name of d (all of it, up to NAME_MAX), into *h; the part
 * before its first '.' into *stem when stem is set (~0 when empty: matches
 * nothing). 1 when the name starts with "__main__" followed by '.' or its
 * end, else 0; -1 when it cannot be read. */
static __always_inline int dname_hash(struct hmk_scratch *s, struct dentry *d, volatile __u64 *h,
                                      volatile __u64 *stem)
{
	__u64 x = FNV_OFFSET, st = ~0ULL;
	bool dot = false;
	int r;

	r = bpf_probe_read_kernel_str(s->name, sizeof(s->name), BPF_CORE_READ(d, d_name.name));
	if (r <= 1)
		return -1;
	for (int i = 0; i < HMK_NAME_MAX; i++) {
		__u8 c;

		if (i >= r - 1)
			break;
		c = s->name[i];
		if (c == '.' && !dot && i) {
			dot = true;
			st = x;
		}
		x = fnv(x, c);
	}
	*h = x;
	if (stem)
		*stem = dot ? st : x;
	return name_is(s->name, "__main__", 8) && (s->name[8] == '.' || s->name[8] == 0);
}

/* Does the current process's argv name the file at dentry (HMK_M_*)? Its
 * name, its stem (mod.py for -m mod) and its directory (pkg/ for -m pkg; the
 * one above __pycache__ for a .pyc) are hashed, then all of argv is
 * searched in HMK_ARGV_CHUNK steps (bpf_loop; one step where the kernel has
 * no bpf_loop, 5.11 to 5.16). A global function, verified once. */
__noinline int hmk_script_match(__u64 dentry, __u64 ic)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct dentry *d = (struct dentry *)dentry, *dir;
	volatile struct hmk_argscan *a;
	struct hmk_scratch *s;
	struct hmk_task *ts;
	int main, r = 0;

	s = scratch_get();
	if (!s) {
		stat_inc(HMK_ST_TASK_NOSTORE);
		return HMK_M_UNSEEN;
	}
	a = &s->scan;
	main = dname_hash(s, d, &a->nh, &a->sh);
	if (main < 0)
		return 0;
	dir = BPF_CORE_READ(d, d_parent);
	a->dh = ~0ULL;
	if (dname_hash(s, dir, &a->dh, 0) >= 0 && name_is(s->name, "__pycache__", 12))
		dname_hash(s, BPF_CORE_READ(dir, d_parent), &a->dh, 0);
	ts = task_state(0);
	a->l0 = ts ? ts->link[0] : 0;
	a->l1 = ts ? ts->link[1] : 0;
	a->off = BPF_CORE_READ(t, mm, arg_start);
	a->end = BPF_CORE_READ(t, mm, arg_end);
	a->h = FNV_OFFSET;
	a->ph = FNV_OFFSET;
	a->lasth = FNV_OFFSET;
	a->pos = 0;
	a->argi = 0;
	a->fl = 0;
	a->exact = 0;
	a->mod = 0;
	a->modm = 0;
	a->ic = ic;
	a->codei = 0;
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop))
		bpf_loop(HMK_ARGV_SCAN, argv_step, 0, 0);
	else
		hmk_argv_chunk(0);
	if (a->off < a->end) {
		stat_inc(HMK_ST_ARGV_UNREAD);
		r |= HMK_M_UNSEEN;
	}
	if (a->exact)
		r |= HMK_M_EXACT;
	if (a->mod)
		r |= HMK_M_MODULE;
	if (a->modm)
		r |= HMK_M_MODARG;
	if (main > 0)
		r |= HMK_M_MODULE;
	return r;
}

/* ---- interpreter control ------------------------------------------------ */

/* Could nobody but root have written this file? Owned by root (the kernel's
 * uid, not one mapped in a user namespace), writable by nobody else, and not
 * on a nosuid mount (FUSE mounts made by users are nosuid and report any
 * owner they like). */
static __always_inline bool file_system_owned(struct file *file)
{
	struct inode *inode = file->f_inode;

	return inode->i_uid.val == 0 && !(inode->i_mode & (S_IWGRP | S_IWOTH)) &&
	       !(file->f_path.mnt->mnt_flags & MNT_NOSUID);
}

/* Is the current task running a listed interpreter: its exe, or one it
 * mapped itself through the dynamic loader (mmap_interp_note)? Its HMK_IC_*,
 * 0 when not. */
static __always_inline __u32 task_interp(struct task_struct *t, struct hmk_task *ts)
{
	struct inode *exe = t->mm->exe_file->f_inode;
	struct hmk_inode_key k;
	__u32 *ic;

	if (ts && (ts->flags & HMK_T_INTERP))
		return ts->ic | HMK_IC_LISTED;
	if (!exe)
		return 0;
	inode_key(exe, &k);
	ic = bpf_map_lookup_elem(&hmk_interp, &k);
	return ic ? *ic | HMK_IC_LISTED : 0;
}

/* The state of an interpreter process at its first check (created here):
 * a process forked from another runs the same program until either execs
 * (exec drops the state), so it starts with the state of its nearest
 * ancestor, up to HMK_FORK_DEPTH generations, that has one, as long as no
 * process on the way has exec'd since the fork (self_exec_id, counted by
 * the kernel at each exec, is still the parent_exec_id the fork recorded;
 * an exec of the same interpreter binary must not inherit: bash running a
 * listed script that runs `bash x.sh`) and all run the same executable: a
 * worker of an approved script (multiprocessing, a shell's subshell) reads
 * what the script may read, and a fork of an unresolved process is held as
 * its parent is. */
static __always_inline struct hmk_task *task_state_forked(struct task_struct *t)
{
	struct hmk_task *ts = task_state(BPF_LOCAL_STORAGE_GET_F_CREATE), *ps;
	struct inode *exe = t->mm->exe_file->f_inode;
	struct task_struct *c = t->group_leader, *p;

	if (!ts)
		return 0;
	for (int i = 0; i < HMK_FORK_DEPTH; i++) {
		p = c->real_parent->group_leader;
		if (!p || c->self_exec_id != c->parent_exec_id ||
		    p->self_exec_id != c->parent_exec_id || p->mm->exe_file->f_inode != exe)
			break;
		c = p;
		ps = bpf_task_storage_get(&hmk_taskst, p, 0, 0);
		if (ps) {
			ts->flags = ps->flags;
			ts->mod_arg = ps->mod_arg;
			ts->ic = ps->ic;
			break;
		}
	}
	return ts;
}

/* Interpreter control, the rule. A process running a listed interpreter
 * (its exe, or mapped by ld.so: `ld.so /usr/bin/python3 x.py`) may not open
 * for reading, until it has opened an approved script, a regular file that
 *  - is named by one of its argv[1..] (last path component, or the name of
 *    a symlink followed to reach it: `python3 /tmp/x.py`, `sh ./x.sh`,
 *    `python3 x.zip`, `python3 /dev/fd/3`) and is not approved; or
 *  - is a module it was told to run (`python3 -m mod`: mod.py, mod/...;
 *    `python3 DIR` or a zip: __main__.py) and is neither approved nor
 *    system-owned (file_system_owned: `python3 -m json.tool` runs).
 * When its argv is too long to search to the end (HMK_ARGV_SCAN), every
 * user-owned unapproved file counts as such a module: fail closed.
 * The process is resolved (later opens are data: `python3 app.py in.csv`)
 * only by an approved file that is not ELF: the dynamic loader opens
 * libraries before any script, and a library named in argv must not resolve
 * it. A denied open never resolves it: python opens its script twice and
 * bash opens BASH_ENV before the script, the second try is denied too.
 * A system module run with -m marks arguments after its name as data
 * (`python3 -m json.tool in.json`), nothing else.
 * exec() starts over (bprm_committed_creds).
 * Limits, stated plainly (docs/helper.md): code given with -c/-e, on stdin
 * or through a pipe, read by approved code from a file (exec(open(..)),
 * `. file`, `python3 -m pdb x.py`), or loaded through the environment
 * (PYTHONPATH, BASH_ENV with an approved script, PERL5OPT) is not seen. */
static __always_inline int interp_check(struct hmk_config *c, struct file *file)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct hmk_approved *a;
	struct hmk_scratch *s;
	struct hmk_task *ts;
	__u32 ic;
	int m;

	ts = task_state(0);
	ic = task_interp(t, ts);
	if (!ic)
		return 0;
	if (!ts)
		ts = task_state_forked(t);
	if (!ts)
		stat_inc(HMK_ST_TASK_NOSTORE); /* fail closed: treated as unresolved */
	else if (ts->flags & HMK_T_RESOLVED)
		return 0;
	m = hmk_script_match(scalar_of(file->f_path.dentry), ic);
	if (ts) {
		ts->link[0] = 0; /* the symlinks followed are this open's */
		ts->link[1] = 0;
	}
	if (!m)
		return 0;
	a = inode_approval(file->f_inode);
	if (m & HMK_M_EXACT) {
		s = scratch_get();
		if (ts && s && (ts->flags & HMK_T_MODULE) && s->scan.exact > ts->mod_arg)
			return 0; /* an argument of a system module run with -m */
	} else if (!a && file_system_owned(file)) {
		if (ts && (m & HMK_M_MODARG) && !(ts->flags & HMK_T_MODULE)) {
			s = scratch_get();
			ts->flags |= HMK_T_MODULE;
			ts->mod_arg = s ? s->scan.modm : ~0u;
		}
		return 0;
	}
	if (a) {
		if (ts && !(a->flags & HMK_A_ELF))
			ts->flags |= HMK_T_RESOLVED;
		return 0;
	}
	return violation(c, HMK_OP_SCRIPT, file->f_inode, file->f_path.dentry, file->f_path.mnt, 0,
	                 0);
}

/* An unresolved interpreter following a symlink: remember the link's name
 * (the first and the last of one walk), so that `python3 /tmp/link` to
 * x.py and `python3 /dev/fd/3` count as naming the file opened through
 * them. interp_check forgets them at the next open. */
SEC("lsm/inode_follow_link")
int BPF_PROG(hmk_follow_link, struct dentry *dentry, struct inode *inode, bool rcu, int ret)
{
	struct task_struct *t;
	struct hmk_config *c;
	struct hmk_scratch *s;
	struct hmk_task *ts;
	__u64 h;

	if (ret)
		return ret;
	c = cfg_get();
	if (!c || !c->n_interp || !cfg_locked(c))
		return 0;
	t = bpf_get_current_task_btf();
	ts = task_state(0);
	if (!task_interp(t, ts))
		return 0;
	if (!ts)
		ts = task_state(BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts || (ts->flags & HMK_T_RESOLVED))
		return 0;
	s = scratch_get();
	if (!s || dname_hash(s, dentry, &h, 0) < 0)
		return 0;
	if (!ts->link[0])
		ts->link[0] = h;
	ts->link[1] = h;
	return 0;
}

/* execveat(fd, "", AT_EMPTY_PATH | AT_EXECVE_CHECK) (6.14+): an interpreter
 * asking whether it may run a script. The kernel stops after this hook
 * (bprm_check_security is not reached), so the decision is made here, as
 * for an exec. Where the kernel has no is_check, nothing to do. */
SEC("lsm/bprm_creds_for_exec")
int BPF_PROG(hmk_bprm_creds, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	if (!bpf_core_field_exists(bprm->is_check) ||
	    !BPF_CORE_READ_BITFIELD_PROBED(bprm, is_check))
		return 0;
	return exec_check(bprm);
}

/* W^X: /proc/<pid>/mem opened for writing patches any mapping, approved
 * text included, with no mmap or mprotect hook on the way (the kernel's
 * FOLL_FORCE). Only a debugger does that: allowed in maintenance only. */
static __always_inline bool procmem_write(const struct hmk_config *c, struct file *file)
{
	const unsigned char *name;
	char buf[4] = {};

	if (!cfg_locked(c) || file->f_inode->i_sb->s_magic != PROC_SUPER_MAGIC || !wx_applies(c))
		return false;
	name = file->f_path.dentry->d_name.name;
	bpf_probe_read_kernel(buf, sizeof(buf), name);
	return buf[0] == 'm' && buf[1] == 'e' && buf[2] == 'm' && buf[3] == 0;
}

/* PID 1 ending the daemon: only once hmilockd agreed to stop
 * (HMK_CFG_STOP_OK), or when it hangs and the watchdog must end it. */
static __always_inline bool pid1_may_end(const struct hmk_config *c)
{
	__u64 beat = c->beat_ns;

	return (c->flags & HMK_CFG_STOP_OK) || (beat && bpf_ktime_get_ns() - beat > HMK_HUNG_NS);
}

/* A write open of cgroup.kill or cgroup.freeze of the daemon's cgroup or
 * one above it: a kill (or a freeze) the signal guards never see. *arg gets
 * the event's argument. */
static __always_inline bool cgroup_guarded(const struct hmk_config *c, struct file *file,
                                           __u32 *arg)
{
	struct dentry *d = file->f_path.dentry;
	char buf[16] = {};
	__u64 id;

	if (!c->cgroups[0] || file->f_inode->i_sb->s_magic != CGROUP2_SUPER_MAGIC)
		return false;
	bpf_probe_read_kernel_str(buf, sizeof(buf), BPF_CORE_READ(d, d_name.name));
	if (name_is(buf, "cgroup.kill", 12))
		*arg = HMK_ARG_CGROUP_KILL;
	else if (name_is(buf, "cgroup.freeze", 14))
		*arg = HMK_ARG_CGROUP_FREEZE;
	else
		return false;
	id = BPF_CORE_READ(d, d_parent, d_inode, i_ino);
	for (int i = 0; i < HMK_CG_DEPTH; i++)
		if (c->cgroups[i] == id)
			return true;
	return false;
}

SEC("lsm/file_open")
int BPF_PROG(hmk_file_open, struct file *file, int ret)
{
	struct hmk_config *c;
	struct inode *inode;
	__u32 arg = 0;

	if (ret)
		return ret;
	c = cfg_get();
	if (!c || c->mode == HMK_MODE_OFF)
		return 0;
	inode = file->f_inode;
	if ((file->f_mode & FMODE_WRITE) && procmem_write(c, file))
		return violation(c, HMK_OP_PROCMEM, inode, file->f_path.dentry, file->f_path.mnt, 0,
		                 0);
	/* PID 1: cgroup.kill once the daemon agreed (or hangs); cgroup.freeze
	 * always, as it thaws the unit and its slices before every stop */
	if ((file->f_mode & FMODE_WRITE) && cfg_locked(c) && cgroup_guarded(c, file, &arg) &&
	    !cur_is_daemon(c) &&
	    !(cur_tgid() == 1 && (arg == HMK_ARG_CGROUP_FREEZE || pid1_may_end(c))))
		return violation(c, HMK_OP_KILL, inode, file->f_path.dentry, file->f_path.mnt,
		                 c->daemon_tgid, arg);
	if (file->f_mode & FMODE_WRITE) {
		upd_note(c, inode);
		return write_check(c, HMK_OP_WRITE, inode, file->f_path.dentry, file->f_path.mnt,
		                   true);
	}
	if (!cfg_locked(c) || (file->f_mode & FMODE_EXEC))
		return 0; /* an exec open needs an x bit: never the key's */
	/* The list key, read by anyone but the daemon while enforcing: with it
	 * root could sign a list (or a state file) of its own. In audit the
	 * operator's hmilock init and add read it. */
	if (c->mode == HMK_MODE_ENFORCE && (inode_protected(inode) & HMK_P_SECRET) &&
	    !cur_is_daemon(c))
		return violation(c, HMK_OP_READ, inode, file->f_path.dentry, file->f_path.mnt, 0,
		                 0);
	if (!c->n_interp)
		return 0;
	if ((inode->i_mode & S_IFMT) != S_IFREG || cur_in_updater())
		return 0; /* the updater runs its new scripts (hmk_bprm_check) */
	return interp_check(c, file);
}

/* hmilockd asks what identity fd's inode has here (HMK_IDENT_ARG). */
SEC("lsm/file_fcntl")
int BPF_PROG(hmk_file_fcntl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	struct hmk_ident id = {};
	struct hmk_config *c;
	__u32 tid;

	if (ret || cmd != F_GETFL || arg != HMK_IDENT_ARG)
		return ret;
	c = cfg_get();
	if (!c || !cur_is_daemon(c))
		return 0;
	id.gen = inode_key(file->f_inode, &id.key);
	id.flags = inode_ident_flags(file->f_inode);
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&hmk_ident, &tid, &id, BPF_ANY);
	return 0;
}

SEC("lsm/path_truncate")
int BPF_PROG(hmk_path_truncate, const struct path *path, int ret)
{
	struct dentry *d;

	if (ret)
		return ret;
	d = path->dentry;
	return write_check(cfg_get(), HMK_OP_TRUNCATE, d->d_inode, d, path->mnt, true);
}

static __always_inline int setattr_check(struct dentry *d, struct iattr *attr)
{
	unsigned int valid = attr->ia_valid;

	if (!(valid & (ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE | ATTR_MTIME | ATTR_MTIME_SET)))
		return 0; /* atime/ctime only */
	return write_check(cfg_get(), HMK_OP_SETATTR, d->d_inode, d, 0, valid & ATTR_SIZE);
}

SEC("lsm/inode_setattr")
int BPF_PROG(hmk_setattr_a2, struct dentry *dentry, struct iattr *attr, int ret)
{
	return ret ? ret : setattr_check(dentry, attr);
}

SEC("lsm/inode_setattr")
int BPF_PROG(hmk_setattr_a3, void *idmap, struct dentry *dentry, struct iattr *attr, int ret)
{
	return ret ? ret : setattr_check(dentry, attr);
}

SEC("lsm/inode_unlink")
int BPF_PROG(hmk_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return write_check(cfg_get(), HMK_OP_UNLINK, dentry->d_inode, dentry, 0, true);
}

SEC("lsm/inode_rename")
int BPF_PROG(hmk_inode_rename, struct inode *old_dir, struct dentry *old_dentry,
             struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	struct hmk_config *c;

	if (ret)
		return ret;
	c = cfg_get();
	/* Moving an approved file keeps its content: it stays approved. */
	ret = write_check(c, HMK_OP_RENAME, old_dentry->d_inode, old_dentry, 0, false);
	if (ret)
		return ret;
	/* The file replaced at the target loses a name and may be freed. */
	return write_check(c, HMK_OP_RENAME, new_dentry->d_inode, new_dentry, 0, true);
}

/* A new name for one of hmilock's own files (HMK_P_FILE, a pin): refused
 * like a rename while locked. A hard link of a plain approved file names
 * the same approved content: it stays allowed. */
SEC("lsm/inode_link")
int BPF_PROG(hmk_inode_link, struct dentry *old_dentry, struct inode *dir,
             struct dentry *new_dentry, int ret)
{
	struct hmk_inode_key k;
	struct inode *inode;
	__u32 *pv;

	if (ret)
		return ret;
	inode = old_dentry->d_inode;
	if (!inode)
		return 0;
	inode_key(inode, &k);
	pv = bpf_map_lookup_elem(&hmk_protected, &k);
	if (!pv || !(*pv & (HMK_P_FILE | HMK_P_PIN)))
		return 0;
	return write_check(cfg_get(), HMK_OP_LINK, inode, old_dentry, 0, false);
}

/* ---- mounts over hmilock's files ---------------------------------------- */

/* A mount at `to` (sb_mount's mount point, move_mount's target) over one of
 * hmilock's files, a pin, or a directory above one of them puts other
 * content at the path hmilockd and its CLI read (a list signed by root, a
 * state file saying audit): refused while locked, for all but the daemon,
 * where the daemon can see it - the target mount is in the daemon's mount
 * namespace, or shared and so propagates to peers (the host's among them).
 * A mount in a private or slave namespace (systemd's sandboxing, a
 * container) changes no path the daemon reads: allowed. */
static __always_inline int mount_check(struct dentry *d, struct vfsmount *v)
{
	struct hmk_config *c = cfg_get();
	struct inode *inode;
	struct mount *m;
	__u32 ns;

	if (!c || !cfg_locked(c) || cur_is_daemon(c) || !d || !v)
		return 0;
	inode = d->d_inode;
	if (!(inode_protected(inode) & (HMK_P_FILE | HMK_P_PIN | HMK_P_DIR)))
		return 0;
	m = (void *)v - bpf_core_field_offset(struct mount, mnt);
	ns = BPF_CORE_READ(m, mnt_ns, ns.inum);
	if (ns != c->mntns && !(BPF_CORE_READ(v, mnt_flags) & MNT_SHARED))
		return 0;
	return violation(c, HMK_OP_MOUNT, inode, d, v, 0, 0);
}

/* mount(2): a new mount, a bind or a move (MS_MOVE: path is where it goes).
 * A remount and a change of propagation put nothing new at the path. */
SEC("lsm/sb_mount")
int BPF_PROG(hmk_sb_mount, const char *dev_name, const struct path *path, const char *type,
             unsigned long flags, void *data, int ret)
{
	if (ret)
		return ret;
	if (flags & (MS_REMOUNT | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE))
		return 0;
	return mount_check(path->dentry, path->mnt);
}

/* move_mount(2): a mount made by fsmount(2) or open_tree(OPEN_TREE_CLONE),
 * or an attached one, put at to_path. */
SEC("lsm/move_mount")
int BPF_PROG(hmk_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	return mount_check(to_path->dentry, to_path->mnt);
}

/* ---- self-protection: signals, ptrace, the helper's own BPF objects ------ */

/* Allowed to trace the daemon, set its limits, use the helper's maps and
 * unmount bpffs: the daemon itself, PID 1 (the service manager, which
 * unmounts everything at shutdown), anyone outside enforce/audit
 * (maintenance). PID 1's signals have task_kill's own rule. */
static __always_inline bool guard_exempt(const struct hmk_config *c)
{
	return !cfg_locked(c) || cur_tgid() == 1 || cur_is_daemon(c);
}

SEC("lsm/task_kill")
int BPF_PROG(hmk_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
             const struct cred *cred, int ret)
{
	struct hmk_config *c;

	if (ret)
		return ret;
	c = cfg_get();
	if (!c || !c->daemon_tgid || p->tgid != c->daemon_tgid)
		return 0;
	if (sig == 0 || sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH)
		return 0; /* probes and signals that neither stop nor end it */
	if (!cfg_locked(c) || cur_is_daemon(c))
		return 0;
	/* the service manager: SIGTERM and SIGHUP hmilockd answers itself
	 * (a stop it may refuse, a reload); the rest once it agreed */
	if (cur_tgid() == 1 && (sig == SIGTERM || sig == SIGHUP || pid1_may_end(c)))
		return 0;
	return violation(c, HMK_OP_KILL, 0, 0, 0, c->daemon_tgid, sig);
}

/* A signal a file's owner gets for its I/O (F_SETOWN, F_SETSIG: SIGKILL
 * as easily as SIGIO, whose default action ends the process too); it goes
 * through send_sigio(), not task_kill. It may be sent from interrupt
 * context, where "current" says nothing about the sender: only maintenance
 * lets it reach the daemon, which asks for no such signal. */
SEC("lsm/file_send_sigiotask")
int BPF_PROG(hmk_sigiotask, struct task_struct *tsk, struct fown_struct *fown, int sig, int ret)
{
	struct hmk_config *c;

	if (ret)
		return ret;
	c = cfg_get();
	if (!c || !c->daemon_tgid || tsk->tgid != c->daemon_tgid || !cfg_locked(c))
		return 0;
	if (sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH)
		return 0; /* ignored by default */
	return violation(c, HMK_OP_KILL, 0, 0, 0, c->daemon_tgid, sig ? sig : SIGIO);
}

/* Another process's limits on the daemon (prlimit --cpu=1 ends it by
 * SIGXCPU and SIGKILL, --nofile=0 starves it): the same guard as a kill.
 * The event's arg is HMK_ARG_RLIMIT + the resource. */
SEC("lsm/task_setrlimit")
int BPF_PROG(hmk_setrlimit, struct task_struct *p, unsigned int resource, struct rlimit *new_rlim,
             int ret)
{
	struct hmk_config *c;

	if (ret)
		return ret;
	c = cfg_get();
	if (!c || !c->daemon_tgid || p->tgid != c->daemon_tgid || guard_exempt(c))
		return 0;
	return violation(c, HMK_OP_KILL, 0, 0, 0, c->daemon_tgid, HMK_ARG_RLIMIT + resource);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(hmk_ptrace_check, struct task_struct *child, unsigned int mode, int ret)
{
	struct hmk_config *c;

	if (ret)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0; /* read access (/proc/pid/stat, ps) stays allowed */
	c = cfg_get();
	if (!c || guard_exempt(c))
		return 0;
	/* the daemon, or the hmilockd binary before it registers */
	if ((!c->daemon_tgid || child->tgid != c->daemon_tgid) &&
	    !(inode_protected(child->mm->exe_file->f_inode) & HMK_P_DAEMON))
		return 0;
	return violation(c, HMK_OP_PTRACE, 0, 0, 0, child->tgid, mode);
}

/* The registered daemon is gone: forget its tgid before it can be reused. */
SEC("lsm/task_free")
int BPF_PROG(hmk_task_free, struct task_struct *task)
{
	struct hmk_config *c = cfg_get();
	__u32 tgid;

	if (!c || !c->daemon_tgid)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	/* A plain store: cmpxchg would raise the floor to 5.12 for a race
	 * (a new daemon registering within this instruction) that a
	 * restarted daemon's own registration repairs anyway. */
	if (tgid == c->daemon_tgid && BPF_CORE_READ(task, pid) == tgid)
		c->daemon_tgid = 0;
	return 0;
}

static __always_inline bool self_obj(__u32 kind, __u32 id)
{
	struct hmk_obj_key k = {.kind = kind, .id = id};

	return bpf_map_lookup_elem(&hmk_self, &k) != NULL;
}

/* bpf() guard. Denied to everyone but the daemon and PID 1 while locked:
 * detaching any BPF link (a link fd of ours can be had from its pin, and the
 * kernel does not tell which link an fd names here), an fd for one of our
 * links by id, and loading program types that could undo or blind us
 * (kprobe, tracing, LSM, extension; syscall programs, whose own bpf()
 * calls this hook waves through as the kernel's on 6.14+). Any fd of our
 * maps is refused in the bpf_map hook; unpinning in inode_unlink/inode_rename (pins are
 * protected inodes); unmounting their bpffs in sb_umount. */
static __always_inline int bpf_guard(int cmd, union bpf_attr *attr)
{
	struct hmk_config *c = cfg_get();
	__u32 type;

	if (guard_exempt(c))
		return 0;
	switch (cmd) {
	case BPF_LINK_DETACH:
		break;
	case BPF_LINK_GET_FD_BY_ID:
		if (!self_obj(HMK_OBJ_LINK, BPF_CORE_READ(attr, link_id)))
			return 0;
		break;
	case BPF_PROG_LOAD:
		type = BPF_CORE_READ(attr, prog_type);
		if (type != BPF_PROG_TYPE_KPROBE && type != BPF_PROG_TYPE_TRACING &&
		    type != BPF_PROG_TYPE_LSM && type != BPF_PROG_TYPE_EXT &&
		    type != BPF_PROG_TYPE_SYSCALL)
			return 0;
		break;
	default:
		return 0;
	}
	return violation(c, HMK_OP_BPF, 0, 0, 0, 0, cmd);
}

SEC("lsm/bpf")
int BPF_PROG(hmk_bpf_a3, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	return ret ? ret : bpf_guard(cmd, attr);
}

SEC("lsm/bpf")
int BPF_PROG(hmk_bpf_a4, int cmd, union bpf_attr *attr, unsigned int size, bool kernel, int ret)
{
	if (ret)
		return ret;
	return kernel ? 0 : bpf_guard(cmd, attr); /* in-kernel loaders are not users */
}

SEC("lsm/bpf_map")
int BPF_PROG(hmk_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	struct hmk_config *c;

	if (ret)
		return ret;
	/* Any fd, read-only too: a program of root's own may write a map
	 * through an fd it was given whatever the fd's mode (the verifier does
	 * not look), and a syscall program asks for fds from the kernel. */
	c = cfg_get();
	if (guard_exempt(c) || !self_obj(HMK_OBJ_MAP, map->id))
		return 0;
	return violation(c, HMK_OP_BPF, 0, 0, 0, 0, map->id);
}

SEC("lsm/sb_umount")
int BPF_PROG(hmk_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	struct hmk_config *c;

	if (ret)
		return ret;
	c = cfg_get();
	if (!c || !c->pin_dev || BPF_CORE_READ(mnt, mnt_sb, s_dev) != c->pin_dev)
		return 0;
	if (guard_exempt(c))
		return 0;
	return violation(c, HMK_OP_UMOUNT, 0, mnt->mnt_root, mnt, 0, flags);
}

/* ---- approvals die with their filesystem -------------------------------- */

struct sweep_ctx {
	__u64 dev;
};

static long sweep_one(struct bpf_map *map, struct hmk_inode_key *k, void *v, struct sweep_ctx *ctx)
{
	if (k->dev == ctx->dev)
		bpf_map_delete_elem(map, k);
	return 0;
}

/*
 * A superblock is being shut down: forget every approval and protection of
 * its inodes. Anonymous device numbers (tmpfs, FUSE, overlayfs, btrfs
 * subvolumes) are handed out again lowest first, and a fresh tmpfs numbers
 * its inodes from the start again, so an approval left behind would pass a
 * file of the next such mount, e.g. one a user mounts in a namespace of
 * their own, where no fanotify mark is. sb_delete runs in
 * generic_shutdown_super(), before kill_anon_super() frees the number, so
 * no new mount can hold it yet. The walk visits the whole map; unmounting
 * is rare. A stick with the same block device later is another superblock:
 * its files are approved again when hmilockd sees them (by hash).
 */
SEC("lsm/sb_delete")
int BPF_PROG(hmk_sb_delete, struct super_block *sb)
{
	struct sweep_ctx sc = {.dev = sb->s_dev};

	bpf_for_each_map_elem(&hmk_approved, sweep_one, &sc, 0);
	bpf_for_each_map_elem(&hmk_protected, sweep_one, &sc, 0);
	bpf_map_delete_elem(&hmk_gated,
	                    &sc.dev); /* a FUSE mount in a namespace may get the number */
	return 0;
}
