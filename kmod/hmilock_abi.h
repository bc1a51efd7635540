/* hmilock_abi.h - the one header shared by the kernel helper (kmod/hmilock.bpf.c)
 * and its loader (agent/helper.c): map keys and values, event records, mode and
 * flag constants. Owned by kmod/; change both sides together and bump
 * HMK_ABI_VERSION whenever a layout or a hook's behaviour changes (a pinned
 * helper of another version is replaced, not re-attached). */
#ifndef HMILOCK_ABI_H
#define HMILOCK_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define HMK_ABI_VERSION 10
#define HMK_PIN_DIR "/sys/fs/bpf/hmilock"
#define HMK_PF_SLOTS 16 /* room in hmk_config.files for the HMK_PF_* kinds */

/* Map sizes. The approved map is BPF_F_NO_PREALLOC: memory grows with use. */
#define HMK_APPROVED_MAX 262144
#define HMK_PROTECTED_MAX 1024
#define HMK_INTERP_MAX 64
#define HMK_WXEXEMPT_MAX 64
#define HMK_UPDATERS_MAX 16
#define HMK_UPDWRITES_MAX 65536
#define HMK_SELF_MAX 128 /* the helper's maps, links and programs (2 per hook), with room */
#define HMK_EVENTS_BYTES (256 * 1024)
#define HMK_IDENT_MAX 1024 /* hmilockd threads asking for an identity at once */

/* fcntl(fd, F_GETFL, HMK_IDENT_ARG) by hmilockd: the helper puts the
 * identity its hooks give fd's inode (struct hmk_inode_key: not stat(2)'s
 * on overlayfs and btrfs) in hmk_ident, keyed by the calling thread's id.
 * F_GETFL ignores its argument and is allowed on O_PATH fds. */
#define HMK_IDENT_ARG 0x686d6b6964656e74ULL /* "hmkident" */

/* Helper modes. 0 (OFF) is what a freshly created config map holds: the
 * programs are attached but allow everything and report nothing until the
 * loader has filled the maps and set a real mode. */
enum hmk_mode {
	HMK_MODE_OFF = 0,
	HMK_MODE_ENFORCE = 1,
	HMK_MODE_AUDIT = 2,
	HMK_MODE_MAINTENANCE = 3,
};

/* hmk_config flags */
#define HMK_CFG_STRICT_WX 0x1u /* deny PROT_EXEC on anonymous memory too */
#define HMK_CFG_UPDATING 0x2u /* a trusted update session is open: note its writes */
/* [helper] strict_identity: deny on filesystems whose identity the helper
 * cannot establish (HMK_ID_UNKNOWN) like anywhere else, gate or not */
#define HMK_CFG_STRICT_IDENT 0x8u
#define HMK_CFG_STOP_OK                                                                            \
	0x4u /* hmilockd agreed to stop: PID 1 may end it (any signal, cgroup.kill) */

/* While locked PID 1 (the service manager) may send the daemon SIGTERM and
 * SIGHUP, which hmilockd answers itself (agent/stop.c), and anything else
 * only once hmilockd set HMK_CFG_STOP_OK, or when it is hung: its reader
 * loop has not beaten (hmk_config.beat_ns) for this long, and the service
 * manager's watchdog (WatchdogSec=30s) must be able to end it. */
#define HMK_HUNG_NS (20ull * 1000000000ull)
#define HMK_CG_DEPTH 8 /* hmk_config.cgroups: the daemon's cgroup and its ancestors */

/* The single value of the hmk_config array (BPF_F_MMAPABLE: the loader writes
 * single fields in place, the task_free hook clears daemon_tgid). */
struct hmk_config {
	__u32 abi; /* HMK_ABI_VERSION of the loader that created the maps */
	__u32 mode; /* enum hmk_mode */
	__u32 flags; /* HMK_CFG_* */
	__u32 daemon_tgid; /* 0: no daemon registered (or it exited) */
	__u32 n_interp; /* entries in hmk_interp; 0 skips interpreter checks */
	__u32 epoch; /* loader's current fill pass (see hmk_approved.epoch) */
	__u64 pin_dev; /* kernel dev_t of the bpffs holding HMK_PIN_DIR */
	/* Per HMK_PF_* kind (HMK_PROTECTED_FILES below), the file the
	 * registered daemon protects: st_dev as userspace sees it, inode
	 * number; 0, 0 for none. Not read by the programs: it carries the
	 * daemon's choice across restarts. While the helper enforces, a new
	 * inode at a path is taken only when hmilockd wrote it, none was there,
	 * or a trusted update installed a package file - not a file mounted
	 * over the path; hmilockd starts (and --unpin acts) only with the
	 * configuration file recorded here, and --unpin checks the admin
	 * password against the file recorded here (agent/anchor.c). */
	__u64 files[HMK_PF_SLOTS][2];
	/* The daemon's mount namespace (its /proc/self/ns/mnt inode number): a
	 * mount there, or on a shared mount that propagates to it, over one of
	 * hmilock's files or the directories above them is refused while
	 * locked. Last, so that --unpin's read of files[] holds across ABIs. */
	__u32 mntns;
	__u32 pad;
	/* bpf_ktime_get_ns() of the daemon reader loop's last round, written
	 * every second by the main loop: stale when either hangs */
	__u64 beat_ns;
	/* cgroup2 ids (directory inode numbers) of the daemon's cgroup and
	 * every ancestor but the root, refreshed every second; 0: unused.
	 * Writes to their cgroup.kill and cgroup.freeze are refused while
	 * locked, as a kill of the daemon. */
	__u64 cgroups[HMK_CG_DEPTH];
};

/* An inode as the kernel names it: dev is the kernel's dev_t
 * (major << 20 | minor, i.e. inode->i_sb->s_dev), not userspace st_dev. */
struct hmk_inode_key {
	__u64 dev;
	__u64 ino;
};

/* hmk_ident values: what HMK_IDENT_ARG asked about an inode. */
struct hmk_ident {
	struct hmk_inode_key key;
	__u32 gen; /* i_generation of the inode the key names (the layer's) */
	__u32 flags; /* HMK_ID_* */
};

/* The helper cannot establish a file's identity on this filesystem: its
 * content can change with no hook of this kernel seeing it (NFS, SMB/CIFS,
 * 9p, Ceph, AFS, Coda, FUSE and virtiofs: the server decides), or the
 * helper lacks the module types that name its files (overlayfs or btrfs
 * loaded after the helper was). There the helper denies nothing on
 * identity grounds while hmilockd's exec gate covers the filesystem
 * (hmk_gated, filled by hmilockd) unless HMK_CFG_STRICT_IDENT; hmilockd
 * names each such mount at start and in status. */
#define HMK_ID_UNKNOWN 0x1u
#define HMK_GATED_MAX 1024

#define HMK_A_GEN 0x1u /* gen is valid: compare with inode->i_generation */
#define HMK_A_ELF 0x2u /* an ELF file: never an interpreter's script (see HMK_T_RESOLVED) */

struct hmk_approved {
	__u32 gen;
	__u16 flags; /* HMK_A_* */
	__u16 epoch; /* loader's fill pass; entries of older passes are swept */
};

/* hmk_protected values: why an inode is protected (bit set). While locked
 * nobody but hmilockd writes, truncates, renames or unlinks such an inode;
 * a trusted update may replace HMK_P_PKG files (the package's own) only. */
#define HMK_P_FILE 0x1u /* one of HMK_PROTECTED_FILES */
#define HMK_P_DAEMON 0x2u /* the hmilockd binary: trusted when no daemon is registered */
#define HMK_P_PIN 0x4u /* a pin under HMK_PIN_DIR */
#define HMK_P_DIR 0x8u /* a directory above a protected file: never renamed away */
#define HMK_P_PKG 0x10u /* shipped by the package: an upgrade replaces it */
#define HMK_P_SECRET 0x20u /* the list key: read by the daemon only while locked */

/*
 * The files that decide enforcement: what hmilockd protects (each that
 * exists, and every directory above it) and `hmilock status` lists. X(kind,
 * what, pkg): pkg 1 for a file the package ships (a trusted update of
 * hmilock replaces it); the others only hmilockd itself writes while
 * locked. The paths come from the configuration (agent/protect.c).
 */
#define HMK_PROTECTED_FILES(X)                                                                     \
	X(HMK_PF_CONFIG, "configuration", 1)                                                       \
	X(HMK_PF_LIST, "approved list", 0)                                                         \
	X(HMK_PF_LIST_PREV, "previous list", 0)                                                    \
	X(HMK_PF_KEY, "list key", 0)                                                               \
	X(HMK_PF_PASSWORD, "admin password", 0)                                                    \
	X(HMK_PF_STATE, "state file", 0)                                                           \
	X(HMK_PF_JOURNAL, "maintenance journal", 0)                                                \
	X(HMK_PF_IMPORT_KEY, "import public key", 0)                                               \
	X(HMK_PF_UNIT, "systemd unit", 1)                                                          \
	X(HMK_PF_DAEMON, "hmilockd binary", 1)                                                     \
	X(HMK_PF_CLI, "hmilock binary", 1)

enum hmk_pfile {
#define HMK_PF_ENUM(kind, what, pkg) kind,
	HMK_PROTECTED_FILES(HMK_PF_ENUM)
#undef HMK_PF_ENUM
	    HMK_PF__MAX
};

/* hmk_self keys: the helper's own BPF objects, guarded against other bpf() users. */
enum hmk_obj_kind { HMK_OBJ_MAP = 1, HMK_OBJ_PROG = 2, HMK_OBJ_LINK = 3 };
struct hmk_obj_key {
	__u32 kind;
	__u32 id;
};

/* hmk_interp values (never 0): how the interpreter reads its command line,
 * by its name (agent/helper.c, helper_interp_dialect). HMK_IC_C and friends:
 * that option letter takes code (the rest of its argument, or the next
 * argument), and every argument after the code is data (python3 -c CODE
 * data.json, perl -e CODE f, sh -c CMD ARG0 ARG); so is everything after a
 * lone "-" where that means the program on stdin. An option letter not listed for the
 * interpreter is not code: bash -e x.sh and python3 -E x.py name a script.
 * awk has none: mawk -W exec FILE and gawk --file FILE name its script in
 * ways a letter table cannot follow, so every argument may. */
#define HMK_IC_LISTED 0x01u /* a listed interpreter, no code options */
#define HMK_IC_C 0x02u /* -c CODE: python, sh, bash, dash, busybox */
#define HMK_IC_E 0x04u /* -e CODE: perl, ruby, lua, node */
#define HMK_IC_EE 0x08u /* -E CODE: perl */
#define HMK_IC_P 0x10u /* -p CODE: node */
#define HMK_IC_R 0x20u /* -r CODE: php (and -c INI: a data file) */
/* A lone "-" is the program on stdin: python, perl, ruby, lua, node (for a
 * shell it ends the options: the script follows). */
#define HMK_IC_STDIN 0x80u

/* Per-task state of an interpreter process (task storage). */
#define HMK_T_RESOLVED 0x1u /* its approved script has been opened: later opens are data */
#define HMK_T_INTERP 0x2u /* runs a listed interpreter it mapped itself (ld.so /usr/bin/python3) */
#define HMK_T_MODULE 0x4u /* runs a system module named by -m: argv after mod_arg is data */
struct hmk_task {
	__u32 flags;
	__u32 mod_arg; /* HMK_T_MODULE: the argv index that named the module */
	__u32 ic; /* HMK_T_INTERP: the mapped interpreter's HMK_IC_* */
	__u32 pad;
	__u64 link[2]; /* name hashes of the first and last symlink followed since the last open */
};

/* What an event is about. */
enum hmk_op {
	HMK_OP_EXEC = 0, /* bprm_check_security */
	HMK_OP_MMAP, /* mmap_file PROT_EXEC, file-backed */
	HMK_OP_MPROTECT, /* file_mprotect PROT_EXEC, file-backed */
	HMK_OP_ANON_EXEC, /* strict_wx: PROT_EXEC on anonymous memory */
	HMK_OP_WRITE, /* file_open for write */
	HMK_OP_TRUNCATE, /* path_truncate */
	HMK_OP_SETATTR, /* inode_setattr */
	HMK_OP_UNLINK, /* inode_unlink */
	HMK_OP_RENAME, /* inode_rename */
	HMK_OP_KILL, /* a signal to the daemon: task_kill, file_send_sigiotask, or
	              * task_setrlimit by another process (arg HMK_ARG_RLIMIT + resource) */
	HMK_OP_PTRACE, /* ptrace_access_check against the daemon */
	HMK_OP_SCRIPT, /* interpreter opening an unapproved script */
	HMK_OP_BPF, /* bpf()/bpf_map guard */
	HMK_OP_UMOUNT, /* unmounting the bpffs that holds the pins */
	HMK_OP_WX, /* W^X: writable and executable at once, or written memory made executable */
	HMK_OP_PROCMEM, /* W^X: opening /proc/<pid>/mem for writing */
	HMK_OP_LINK, /* inode_link: a hard link of one of hmilock's own files */
	HMK_OP_MOUNT, /* sb_mount, move_mount: a mount over one of hmilock's files or
	               * a directory above one, where the daemon would see it */
	HMK_OP_READ, /* file_open for reading of the list key by another than the daemon */
	HMK_OP__MAX
};

/* HMK_OP_KILL's arg: the signal, or this plus the rlimit resource. */
#define HMK_ARG_RLIMIT 0x10000u
#define HMK_ARG_CGROUP_KILL 0x20000u /* a write to cgroup.kill above the daemon */
#define HMK_ARG_CGROUP_FREEZE 0x20001u /* a write to cgroup.freeze above the daemon */

enum hmk_verdict {
	HMK_V_DENY = 0, /* enforce: -EPERM returned */
	HMK_V_WOULD_DENY, /* audit: allowed, reported */
	HMK_V_CHANGED, /* allowed write: the inode left the approved map */
};

/* hmk_stats (per-CPU array) indices: HMK_OP_* counts the denials of that
 * operation (enforce), HMK_ST_WOULD_DENY + HMK_OP_* its would-denials
 * (audit), then the helper's own troubles. */
enum hmk_stat {
	HMK_ST_WOULD_DENY = HMK_OP__MAX,
	HMK_ST_RB_DROPPED = 2 * HMK_OP__MAX, /* ring buffer full: event lost */
	HMK_ST_ARGV_UNREAD, /* interpreter argv not read to its end (unresident, > HMK_ARGV_SCAN) */
	HMK_ST_TASK_NOSTORE, /* task storage full: treated as unresolved */
	HMK_ST_DEFERRED, /* left to the exec gate: identity unknown (HMK_ID_UNKNOWN) */
	HMK_ST__MAX
};

#define HMK_PATH_DEPTH 20 /* path steps kept per event, leaf first ("" = mount crossing) */
#define HMK_NAME_LEN 64 /* bytes per component, NUL included */

#define HMK_EF_FSREL 0x1u /* path is relative to the filesystem root (no mount known) */
#define HMK_EF_TRUNC 0x2u /* more steps than HMK_PATH_DEPTH: the path's top is missing */

struct hmk_event {
	__u64 ktime_ns; /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u64 dev; /* kernel dev_t of the file, 0 if none */
	__u64 ino;
	__u32 tgid, pid; /* who did it */
	__u32 target; /* kill/ptrace: the daemon tgid */
	__u32 arg; /* signal, prot, ptrace mode, bpf cmd */
	__u8 op; /* enum hmk_op */
	__u8 verdict; /* enum hmk_verdict */
	__u8 depth; /* entries used in comp[] */
	__u8 flags; /* HMK_EF_* */
	__u32 uid; /* who did it: real uid (the kernel's, not a namespace's) */
	char comm[16];
	char comp[HMK_PATH_DEPTH][HMK_NAME_LEN];
};

#ifndef __bpf__
_Static_assert(sizeof(struct hmk_config) == 32 + HMK_PF_SLOTS * 16 + 16 + 8 * HMK_CG_DEPTH,
               "hmk_config layout");
_Static_assert(HMK_PF__MAX <= HMK_PF_SLOTS, "hmk_config.files too small");
_Static_assert(sizeof(struct hmk_inode_key) == 16, "hmk_inode_key layout");
_Static_assert(sizeof(struct hmk_approved) == 8, "hmk_approved layout");
_Static_assert(sizeof(struct hmk_ident) == 24, "hmk_ident layout");
_Static_assert(sizeof(struct hmk_obj_key) == 8, "hmk_obj_key layout");
_Static_assert(sizeof(struct hmk_event) == 48 + 16 + HMK_PATH_DEPTH * HMK_NAME_LEN,
               "hmk_event layout");
#endif

#endif /* HMILOCK_ABI_H */
