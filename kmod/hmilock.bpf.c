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
 * (lsm.s/) and no kfuncs are used, so nothing newer is needed.
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
#define HMK_ARGV_MAX 256 /* bytes of an interpreter's argv searched */
#define HMK_WALK_MAX 24 /* dentry steps (components + mount crossings) per path */

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

/* Per-task scratch: an event is built here, then copied to hmk_events with
 * bpf_ringbuf_output(). Building it in a bpf_ringbuf_reserve()d record would
 * hold a reference across the path walk, and before 6.3 the verifier cannot
 * prune states that hold references: the walk would not verify. Per task,
 * not per CPU, so that preemption (preempt=full) cannot mix two tasks'
 * records. Created on a task's first event or interpreter check, freed with
 * the task. */
struct hmk_scratch {
	struct hmk_event ev;
	char argv[HMK_ARGV_MAX];
	__u64 h, past0, found; /* argv scan state, kept in memory: see hmk_argv_names */
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

/* Hot paths read kernel structs by direct (BTF-checked, fault-safe) loads,
 * not bpf_probe_read_kernel() calls: every open(2) goes through here. */
static __always_inline void inode_key(struct inode *inode, struct hmk_inode_key *k)
{
	k->dev = inode->i_sb->s_dev;
	k->ino = inode->i_ino;
}

static __always_inline bool inode_approved(struct inode *inode)
{
	struct hmk_inode_key k;
	struct hmk_approved *a;

	if (!inode)
		return false;
	inode_key(inode, &k);
	a = bpf_map_lookup_elem(&hmk_approved, &k);
	if (!a)
		return false;
	if ((a->flags & HMK_A_GEN) && a->gen != inode->i_generation)
		return false; /* same number, another inode: not the approved file */
	return true;
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
	e->pad = 0;
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

	stat_inc(op);
	event_emit(op, enforce ? HMK_V_DENY : HMK_V_WOULD_DENY, inode, d, mnt, target, arg);
	return enforce ? -EPERM : 0;
}

/* ---- execution: exec, executable mappings ------------------------------- */

SEC("lsm/bprm_check_security")
int BPF_PROG(hmk_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct hmk_config *c;
	struct file *f;

	if (ret)
		return ret;
	c = cfg_get();
	if (!cfg_locked(c))
		return 0;
	f = bprm->file;
	if (inode_approved(f->f_inode))
		return 0;
	return violation(c, HMK_OP_EXEC, f->f_inode, f->f_path.dentry, f->f_path.mnt, 0, 0);
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

SEC("lsm/mmap_file")
int BPF_PROG(hmk_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
             unsigned long flags, int ret)
{
	struct hmk_config *c;

	if (ret)
		return ret;
	if (!(prot & PROT_EXEC))
		return 0;
	c = cfg_get();
	if (!cfg_locked(c))
		return 0;
	if ((prot & PROT_WRITE) && wx_applies(c))
		return violation(c, HMK_OP_WX, 0, 0, 0, 0, prot);
	/* `file` is NULL for an anonymous mapping, but kernels that mark LSM
	 * arguments trusted (6.12) let the verifier assume it is not and
	 * drop a plain `!file` test as dead code: the dereference below then
	 * oopses. Test a copy the verifier cannot reason about. */
	if (!scalar_of(file))
		return 0; /* fresh anonymous memory, not writable: zeroes */
	if (inode_approved(file->f_inode) && !inode_has_writers(file->f_inode))
		return 0;
	return violation(c, HMK_OP_MMAP, file->f_inode, file->f_path.dentry, file->f_path.mnt, 0,
	                 prot);
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
	if (inode_approved(file->f_inode) && !inode_has_writers(file->f_inode))
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
	bool approved;
	int err = 0;

	if (!c || c->mode == HMK_MODE_OFF || !inode)
		return 0;
	inode_key(inode, &k);
	approved = bpf_map_lookup_elem(&hmk_approved, &k) != NULL;
	if (!approved && !bpf_map_lookup_elem(&hmk_protected, &k))
		return 0;
	if (c->mode == HMK_MODE_ENFORCE && !cur_is_daemon(c) && !cur_in_updater())
		return violation(c, op, inode, d, mnt, 0, 0);
	if (c->mode == HMK_MODE_AUDIT && !cur_is_daemon(c) && !cur_in_updater())
		err = violation(c, op, inode, d, mnt, 0, 0);
	if (approved && drop && bpf_map_delete_elem(&hmk_approved, &k) == 0)
		event_emit(op, HMK_V_CHANGED, inode, d, mnt, 0, 0);
	return err;
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

int hmk_argv_names(__u64 dentry);

/* Interpreter control, the rule: a process whose exe is a listed interpreter
 * may not open, for reading, a regular file that is not approved when that
 * file's name is the last component of one of its own argv[1..] entries and
 * it has not yet opened such a file. That first argv-named file is taken as
 * its script (`python3 /tmp/x.py`, `sh -e ./x.sh`); once it is open the
 * process is "resolved" and later opens are data (`python3 app.py input.csv`
 * reads input.csv). exec() starts over.
 * Limits, stated plainly: code given with -c/-e, on stdin or through a pipe,
 * read by an approved script from a file (exec(open(..).read()), `. file`),
 * or named through a symlink or /dev/fd/N is not seen; a multi-call binary
 * (busybox) listed as interpreter treats every applet's file arguments as
 * scripts. argv pages that are not resident cannot be read here (counted in
 * HMK_ST_ARGV_UNREAD, the open is allowed). */
static __always_inline int interp_check(struct hmk_config *c, struct file *file)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct hmk_inode_key k;
	struct hmk_task *ts;
	struct inode *exe = t->mm->exe_file->f_inode;

	if (!exe)
		return 0;
	inode_key(exe, &k);
	if (!bpf_map_lookup_elem(&hmk_interp, &k))
		return 0;
	ts = bpf_task_storage_get(&hmk_taskst, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts)
		stat_inc(HMK_ST_TASK_NOSTORE); /* fail closed: treated as unresolved */
	else if (ts->flags & HMK_T_RESOLVED)
		return 0;
	if (!hmk_argv_names(scalar_of(file->f_path.dentry)))
		return 0;
	if (ts)
		ts->flags |= HMK_T_RESOLVED;
	if (inode_approved(file->f_inode))
		return 0;
	return violation(c, HMK_OP_SCRIPT, file->f_inode, file->f_path.dentry, file->f_path.mnt, 0,
	                 0);
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

SEC("lsm/file_open")
int BPF_PROG(hmk_file_open, struct file *file, int ret)
{
	struct hmk_config *c;
	struct inode *inode;

	if (ret)
		return ret;
	c = cfg_get();
	if (!c || c->mode == HMK_MODE_OFF)
		return 0;
	inode = file->f_inode;
	if ((file->f_mode & FMODE_WRITE) && procmem_write(c, file))
		return violation(c, HMK_OP_PROCMEM, inode, file->f_path.dentry, file->f_path.mnt, 0,
		                 0);
	if (file->f_mode & FMODE_WRITE)
		return write_check(c, HMK_OP_WRITE, inode, file->f_path.dentry, file->f_path.mnt,
		                   true);
	if (!c->n_interp || !cfg_locked(c) || (file->f_mode & FMODE_EXEC))
		return 0;
	if ((inode->i_mode & S_IFMT) != S_IFREG)
		return 0;
	return interp_check(c, file);
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

/* ---- self-protection: signals, ptrace, the helper's own BPF objects ------ */

/* Allowed to act on the daemon: the daemon itself, PID 1 (the service
 * manager stopping it), anyone outside enforce/audit (maintenance). */
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
	if (guard_exempt(c))
		return 0;
	return violation(c, HMK_OP_KILL, 0, 0, 0, c->daemon_tgid, sig);
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
 * (kprobe, tracing, LSM, extension). Opening our maps for writing is refused
 * in the bpf_map hook; unpinning in inode_unlink/inode_rename (pins are
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
		    type != BPF_PROG_TYPE_LSM && type != BPF_PROG_TYPE_EXT)
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
	if (!(fmode & FMODE_WRITE))
		return 0; /* read-only fds (bpftool map dump) stay allowed */
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
	return 0;
}

/* ---- interpreter argv matching ------------------------------------------ */

/* Does the name of d equal the last path component of one of the current
 * process's argv[1..] (first HMK_ARGV_MAX bytes)? Compared by 64-bit FNV-1a
 * hash in one pass. A global function, verified once. The scan's state lives
 * in the scratch map value, read and written through volatile accesses: the
 * verifier does not track map memory, so the flags the compiler turns into
 * 0/1 constants do not split its states byte after byte (kept in registers,
 * they made this loop cost it more than 300,000 instructions on 6.1). */
__noinline int hmk_argv_names(__u64 dentry)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct dentry *d = (struct dentry *)dentry;
	volatile __u64 *h, *past0, *found;
	char name[HMK_NAME_LEN];
	unsigned long start, end, n;
	struct hmk_scratch *s;
	__u64 nh = FNV_OFFSET;
	int r;

	r = bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(d, d_name.name));
	if (r <= 1)
		return 0;
	for (int i = 0; i < HMK_NAME_LEN; i++) {
		if (i >= r - 1)
			break;
		nh = (nh ^ (__u8)name[i]) * FNV_PRIME;
	}
	s = scratch_get();
	if (!s) {
		stat_inc(HMK_ST_TASK_NOSTORE);
		return 0;
	}
	start = BPF_CORE_READ(t, mm, arg_start);
	end = BPF_CORE_READ(t, mm, arg_end);
	if (end <= start)
		return 0;
	n = end - start;
	if (n > HMK_ARGV_MAX)
		n = HMK_ARGV_MAX;
	if (bpf_probe_read_user(s->argv, n, (void *)start)) {
		stat_inc(HMK_ST_ARGV_UNREAD);
		return 0;
	}
	h = &s->h;
	past0 = &s->past0;
	found = &s->found;
	*h = FNV_OFFSET;
	*past0 = 0;
	*found = 0;
	for (int i = 0; i < HMK_ARGV_MAX; i++) {
		__u8 c;

		if (i >= n)
			break;
		c = s->argv[i];
		if (c == 0) {
			/* the end of an argument: compare all but argv[0] */
			if (*past0 && *h == nh)
				*found = 1;
			*past0 = 1;
			*h = FNV_OFFSET;
		} else if (c == '/') {
			*h = FNV_OFFSET; /* keep only the last component */
		} else {
			*h = (*h ^ c) * FNV_PRIME;
		}
	}
	/* A last argument cut at HMK_ARGV_MAX is not compared: it may be longer. */
	return *found != 0;
}
