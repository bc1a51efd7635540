/* SPDX-License-Identifier: GPL-2.0 */
/* hmk_kernel.h - the kernel types, fields and constants kmod/hmilock.bpf.c
 * uses, declared here instead of a vmlinux.h dumped from some kernel's BTF, so
 * that building the helper needs no BTF at all (not the build machine's, not
 * the target's). Included by the BPF program only.
 *
 * Every kernel-internal struct lists only the fields the program reads and is
 * marked preserve_access_index: clang records each access as a CO-RE
 * relocation by field *name*, and libbpf resolves it against the running
 * kernel's BTF at load time, through the anonymous structs and unions the
 * kernel wraps some fields in (vm_flags since 6.3, f_path in recent kernels,
 * most of mm_struct). Order, padding and the other fields do not matter; a
 * field missing on the target fails the load, naming it. So a field read here
 * must exist on every kernel from the floor (5.11) up, and its declared type
 * should be the kernel's (direct loads are sized by it).
 * Hook *prototypes* are not relocated: see the per-prototype programs in
 * hmilock.bpf.c.
 *
 * BPF map, command and program-type constants come from the UAPI
 * <linux/bpf.h> (linux-libc-dev: a fixed ABI, not the running kernel).
 * Do not declare `struct key` here: hmilock_abi.h's map keys are hmk_*. */
#ifndef HMK_KERNEL_H
#define HMK_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <stdbool.h>

/* Kernel typedefs (include/linux/types.h). dev_t is the kernel's 32-bit
 * major << 20 | minor, not userspace's st_dev. */
typedef __u32 dev_t;
typedef int pid_t;
typedef unsigned short umode_t;
typedef unsigned int fmode_t;
typedef struct {
	__u32 val;
} kuid_t;

/* Macros in the kernel, hence in no BTF. */
#define EPERM 1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define MAY_WRITE 0x2
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define PROC_SUPER_MAGIC 0x9fa0
#define CGROUP2_SUPER_MAGIC 0x63677270
#define SIGHUP 1
#define SIGTERM 15
#define VM_EXEC 0x4
#define S_IFMT 00170000
#define S_IFREG 0100000
#define S_IWGRP 00020
#define S_IWOTH 00002
#define MNT_NOSUID 0x01
#define MNT_SHARED 0x1000
#define MS_REMOUNT 32
#define MS_UNBINDABLE (1 << 17)
#define MS_PRIVATE (1 << 18)
#define MS_SLAVE (1 << 19)
#define MS_SHARED (1 << 20)
#define PTRACE_MODE_ATTACH 0x02
#define ATTR_MODE (1 << 0)
#define ATTR_UID (1 << 1)
#define ATTR_GID (1 << 2)
#define ATTR_SIZE (1 << 3)
#define ATTR_MTIME (1 << 5)
#define ATTR_MTIME_SET (1 << 8)
#define SIGCHLD 17
#define SIGCONT 18
#define SIGURG 23
#define SIGWINCH 28
#define SIGIO 29
#define F_GETFL 3
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define BTRFS_SUPER_MAGIC 0x9123683e
#define NFS_SUPER_MAGIC 0x6969
#define SMB_SUPER_MAGIC 0x517b
#define CIFS_SUPER_MAGIC 0xff534d42
#define SMB2_SUPER_MAGIC 0xfe534d42
#define V9FS_MAGIC 0x01021997
#define CEPH_SUPER_MAGIC 0x00c36400
#define AFS_FS_MAGIC 0x6b414653
#define AFS_SUPER_MAGIC 0x5346414f
#define CODA_SUPER_MAGIC 0x73757245
#define FUSE_SUPER_MAGIC 0x65735546

/* Only passed through as hook arguments, never read. */
struct cred;
struct kernel_siginfo;
struct fown_struct;
struct rlimit;

struct super_block {
	dev_t s_dev;
	unsigned long s_magic;
} __attribute__((preserve_access_index));

/* include/linux/types.h */
typedef struct {
	int counter;
} atomic_t;

struct inode {
	umode_t i_mode;
	kuid_t i_uid;
	struct super_block *i_sb;
	unsigned long i_ino;
	__u32 i_generation;
	atomic_t i_writecount; /* > 0: open for write or mapped shared writable */
} __attribute__((preserve_access_index));

/* In the kernel, name shares a union with the hash; only name is read. */
struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
	struct super_block *mnt_sb;
	int mnt_flags;
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

/* fs/mount.h: the mount that embeds a vfsmount (walked up for paths; its
 * namespace for mounts over hmilock's files). */
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
	struct inode *f_inode;
	fmode_t f_mode;
} __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	struct file *exe_file;
} __attribute__((preserve_access_index));

struct task_struct {
	unsigned int ptrace;
	__u64 parent_exec_id; /* the parent's self_exec_id when it forked this task */
	__u64 self_exec_id; /* counts this task's execs */
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	pid_t pid;
	pid_t tgid;
} __attribute__((preserve_access_index));

/* is_check (6.14+, execveat AT_EXECVE_CHECK) is read only where
 * bpf_core_field_exists() finds it on the running kernel. */
struct linux_binprm {
	struct file *file;
	unsigned int is_check : 1;
} __attribute__((preserve_access_index));

struct vm_area_struct {
	unsigned long vm_flags;
	struct file *vm_file;
	void *anon_vma; /* not NULL once a page was written (copy-on-write) */
} __attribute__((preserve_access_index));

struct iattr {
	unsigned int ia_valid;
} __attribute__((preserve_access_index));

/* Module types (overlay.ko, btrfs.ko), relocated against the module's BTF
 * (libbpf reads /sys/kernel/btf/<module>): when the module was not loaded
 * when the helper was, bpf_core_type_exists() says so and its files keep
 * the superblock's identity (see inode_key). Fields differ by version:
 * ovl_inode___v61 is 6.1-6.4 (one lower path), ___v65 6.5+ (an entry
 * with the lower stack). */
struct ovl_path {
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct ovl_entry {
	struct ovl_path __lowerstack[0];
} __attribute__((preserve_access_index));

struct ovl_inode {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

struct ovl_inode___v61 {
	struct ovl_path lowerpath;
} __attribute__((preserve_access_index));

struct ovl_inode___v65 {
	struct ovl_entry *oe;
} __attribute__((preserve_access_index));

struct btrfs_key {
	__u64 objectid;
} __attribute__((preserve_access_index));

struct btrfs_root {
	struct btrfs_key root_key; /* objectid: the subvolume's id */
} __attribute__((preserve_access_index));

struct btrfs_inode {
	struct btrfs_root *root;
	struct inode vfs_inode;
} __attribute__((preserve_access_index));

/* The kernel's map object (include/linux/bpf.h), not UAPI. */
struct bpf_map {
	__u32 id;
} __attribute__((preserve_access_index));

#endif /* HMK_KERNEL_H */
