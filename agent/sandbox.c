/* sandbox.c - self-confinement after start-up (chrony's order): every
 * capability not needed at run time is dropped from all sets, then a
 * libseccomp filter with a kill-process default and an allow-list grouped
 * by purpose is loaded (TSYNC). Owns no state after sandbox_enter() but its
 * one-line summary (sandbox_describe()). Main thread only, after the
 * fanotify group, the marks, the list and the socket exist, and before any
 * thread starts: every thread inherits both, so none has to drop anything
 * itself (sandbox_enter() still checks that none holds more). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <cap-ng.h>

#include "../kmod/hmilock_abi.h"
#include "log.h"
#include "sandbox.h"

/* Sanitizer builds (make FLAVOR=test) run extra code at run time and at
 * exit; see sandbox_sanitizer below. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif
#ifndef SANDBOX_SANITIZER
#define SANDBOX_SANITIZER 0
#endif

/*
 * Capabilities kept at run time, and why. Everything else goes from the
 * effective, permitted, inheritable, ambient and bounding sets.
 *   CAP_SYS_ADMIN        fanotify_mark() of mounts that appear later
 *                        (FAN_MARK_FILESYSTEM/MOUNT) and FAN_MARK_FLUSH on
 *                        reload; the BPF helper (issue 4) will need it too.
 *   CAP_DAC_READ_SEARCH  open a new mount point and place inode marks on
 *                        files root cannot read by mode (fanotify_mark
 *                        checks read permission on the object); reload a
 *                        list or key whatever their directory modes.
 *   CAP_AUDIT_WRITE      send USER_AVC records (log.c).
 *   CAP_SYS_PTRACE       readlink /proc/<pid>/exe of other users'
 *                        processes, for the exe= of an event (log.c).
 *   CAP_LEASE            a read lease, taken and dropped at once, on a
 *                        listed file another user owns: refused while
 *                        anyone has it open for writing (exec.c).
 */
/* The kernel's first real-time signal (SIGRTMIN as the kernel numbers it;
 * glibc reserves it and the next one and reports SIGRTMIN as 34). */
#define SIGRTMIN_GLIBC 32

static const int sandbox_keep[] = {CAP_SYS_ADMIN, CAP_DAC_READ_SEARCH, CAP_AUDIT_WRITE,
                                   CAP_SYS_PTRACE, CAP_LEASE};
#define SANDBOX_NKEEP (sizeof(sandbox_keep) / sizeof(sandbox_keep[0]))

static uint64_t sandbox_keep_mask(void)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < SANDBOX_NKEEP; i++)
		m |= 1ull << sandbox_keep[i];
	return m;
}

/* Reduce the calling thread's capabilities (all sets, bounding included)
 * to sandbox_keep. Capabilities belong to each thread, not the process:
 * that is why no thread may start before sandbox_enter(). */
static int sandbox_thread_caps(void)
{
	size_t i;

	capng_clear(CAPNG_SELECT_ALL);
	for (i = 0; i < SANDBOX_NKEEP; i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
		                 (unsigned)sandbox_keep[i]) < 0)
			return -EINVAL;
	if (capng_apply(CAPNG_SELECT_ALL) < 0)
		return -EPERM;
	return 0;
}

static void sandbox_read_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "re");

	out[0] = '\0';
	if (f) {
		if (!fgets(out, (int)outlen, f))
			out[0] = '\0';
		fclose(f);
	}
	out[strcspn(out, "\n")] = '\0';
}

/* Read the capability lines of a status file. */
static int sandbox_status_caps(const char *path, uint64_t *eff, uint64_t *prm, uint64_t *bnd)
{
	char line[256];
	unsigned long long v;
	FILE *f = fopen(path, "re");
	int found = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			*eff = v, found |= 1;
		else if (sscanf(line, "CapPrm: %llx", &v) == 1)
			*prm = v, found |= 2;
		else if (sscanf(line, "CapBnd: %llx", &v) == 1)
			*bnd = v, found |= 4;
	}
	fclose(f);
	return found == 7 ? 0 : -EINVAL;
}

/* Every thread of the process should be down to the kept set; a thread
 * started before sandbox_enter() that did not call sandbox_thread_caps()
 * keeps everything. Such threads are named in warn (empty when none). */
static int sandbox_check_threads(char *warn, size_t warnlen)
{
	uint64_t keep = sandbox_keep_mask(), eff = 0, prm = 0, bnd = 0;
	char path[64], comm[32];
	struct dirent *d;
	size_t o = 0;
	DIR *dir;
	int rc;

	warn[0] = '\0';
	dir = opendir("/proc/self/task");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.16s/status", d->d_name);
		rc = sandbox_status_caps(path, &eff, &prm, &bnd);
		if (rc == 0 && !((eff | prm | bnd) & ~keep))
			continue;
		if (rc == -ENOENT || rc == -ESRCH) /* the thread ended meanwhile */
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.16s/comm", d->d_name);
		sandbox_read_line(path, comm, sizeof(comm));
		if (o < warnlen)
			o += (size_t)snprintf(warn + o, warnlen - o, "%sthread %s (%s)",
			                      o ? ", " : "", d->d_name, comm);
	}
	closedir(dir);
	return 0;
}

static int sandbox_caps(char *msg, size_t msglen, char *warn, size_t warnlen)
{
	int rc;

	rc = sandbox_thread_caps();
	if (rc) {
		snprintf(msg, msglen, "cannot drop capabilities (libcap-ng capng_apply failed)");
		return rc;
	}
	rc = sandbox_check_threads(warn, warnlen);
	if (rc)
		snprintf(msg, msglen, "cannot check the threads' capabilities: %s", strerror(-rc));
	return rc;
}

/* ---- seccomp ------------------------------------------------------------ */

/* Plain allow rules, by purpose: what `strace -f` of the daemon shows after
 * seccomp() through start, allowed, denied and cached execs, audit mode, a
 * mode switch, good and broken reloads (control socket and SIGHUP), a
 * mount appearing and going below the watched one, status, events, a
 * malformed request and SIGTERM, and every control request of test 38
 * (maintenance windows, reviews, trusted updates, import, passwords) with
 * a list of hundreds of entries, where libc takes other paths; plus the
 * variants libc picks on other architectures or kernels (marked "alt"). A
 * name the running architecture does not have (e.g. "open" on arm64) is
 * skipped. Test 37 and 38 run the release build under this filter. */
static const char *const sandbox_allow[] = {
    /* fanotify: read events, write responses, ignore marks and new-mount
	 * marks, FAN_MARK_FLUSH on reload; fstat and readlink of the event fd */
    "read",
    "write",
    "close",
    "fanotify_mark",
    "newfstatat",
    "fstat" /* alt */,
    "readlink",
    "readlinkat" /* alt */,
    /* hashing through the event fd (pread, fadvise); opening the list and
	 * key on reload and /proc/self/mountinfo on a mount change */
    "pread64",
    "lseek",
    "fadvise64",
    "openat",
    "open" /* alt */,
    /* the approved list is mmap'd; malloc. mmap and mprotect are allowed
	 * only without PROT_EXEC, see sandbox_add_args */
    "munmap",
    "mremap",
    "madvise",
    "brk",
    /* threads (workers, the reader, and window.c's committer for each
	 * commit or plan, start after the filter): futexes, signal masks;
	 * rt_sigreturn for any signal handler */
    "clone3",
    "futex",
    "set_robust_list",
    "rseq",
    "rt_sigprocmask",
    "rt_sigreturn",
    "getpid",
    /* event loops over signalfd, timerfd, eventfd, mountinfo, sockets */
    "poll",
    "ppoll" /* alt */,
    "epoll_wait",
    "epoll_pwait" /* alt */,
    "epoll_ctl",
    /* control socket (accept, SO_PEERCRED, request, reply); audit netlink
	 * (send, ack); syslog via /dev/log (connect, send); sd_notify (sendmsg;
	 * it compares real and effective ids to decide on sending credentials) */
    "accept4",
    "getsockopt",
    "recvfrom",
    "sendto",
    "connect",
    "sendmsg",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    /* stop.c asks systemd over its private socket (sd-bus: connect, SASL,
	 * one call, replies) whether the system is shutting down, and after a
	 * refused stop for the unit's state and a start */
    "recvmsg",
    "getsockname",
    /* time: vDSO fallbacks, short sleeps (fan.c backs off 1 ms) */
    "clock_gettime",
    "gettimeofday",
    "clock_nanosleep",
    "nanosleep" /* alt */,
    /* OpenSSL may ask for randomness */
    "getrandom",
    /* leaving: threads end, the process exits; restarted sleeps after
	 * SIGSTOP/SIGCONT */
    "exit",
    "exit_group",
    "restart_syscall",
    /* main() detaches from the terminal once ready (stdio onto /dev/null) */
    "dup2",
    "dup3" /* alt */,
    NULL,
};

/* Maintenance windows and trusted updates (recorder.c, journal.c,
 * window.c and its committer thread, update.c, state.c):
 * naming a changed file from its directory handle; the journal and the
 * state file (append, fdatasync, tmp + rename); writing the next list
 * generation at the end (wl_db_lock's flock; wl_db_write: tmp, fsync, link
 * to .prev, rename, unlink, and the stale-tmp sweep that lists the directory and asks
 * kill(pid, 0) whether a tmp file's writer lives, see sandbox_add_args);
 * the session cgroups (mkdir, rmdir). */
static const char *const sandbox_allow_maint[] = {
    "open_by_handle_at",
    "fchmod" /* wl_write_atomic: the state file's exact mode */,
    "fstatfs",
    "fsync",
    "fdatasync",
    "rename",
    "renameat" /* alt */,
    "renameat2" /* alt */,
    "link",
    "linkat" /* alt */,
    "unlink",
    "unlinkat" /* alt */,
    "getdents64",
    "flock" /* wl_db_lock: one writer of the list at a time */,
    "mkdir",
    "mkdirat" /* alt */,
    "rmdir",
    /* glibc's qsort (2.36, Debian 12's) sorts arrays of 1 KiB and more by
	 * merging through a buffer, and sizes that buffer against the machine's
	 * memory: sysconf(_SC_PHYS_PAGES), i.e. sysinfo(2), once per process.
	 * The committer sorts the next list generation (wl_set's path order,
	 * wl_db_write's hash index): any list of more than ~130 entries got
	 * there and was killed (test 38). sysinfo only reads load and memory
	 * figures. */
    "sysinfo",
    NULL,
};

/* Only while the kernel helper (helper.c) is active: its maps are updated
 * with bpf(2) from the workers and after a reload (which also opens each
 * listed file and reads its i_generation with FS_IOC_GETVERSION, see
 * sandbox_add_args); its ring buffer is read with epoll, set up by
 * helper_start() (ring_buffer__new) after the filter is in. */
static const char *const sandbox_allow_helper[] = {
    "bpf",
    "epoll_create1",
    "gettid" /* helper_ident_fd: the thread an identity is asked for */,
    NULL,
};

/* Extra syscalls of sanitizer builds only: ASan/LSan/UBSan report through
 * stderr after reading /proc/self/maps; LSan's leak check at exit stops the
 * world by cloning a tracer task that ptraces every thread and waits for
 * it, and walks /proc/self/task (getdents); every new thread asks for its
 * CPU affinity; sigaltstack and sigaction for their signal handlers.
 * A release build never gets these. */
static const char *const sandbox_allow_sanitizer[] = {
    "ptrace",
    "wait4",
    "waitid",
    "sigaltstack",
    "getppid",
    "sched_getparam",
    "process_vm_readv",
    "mincore",
    "uname",
    "getdents64",
    "getdents",
    "sched_yield",
    "gettid",
    "sched_getaffinity",
    "rt_sigaction",
    "prctl",
    "clone",
    NULL,
};

static int sandbox_add(scmp_filter_ctx ctx, const char *const *names, const char **bad)
{
	int nr, rc;

	for (; *names; names++) {
		nr = seccomp_syscall_resolve_name(*names);
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0 && rc != -EEXIST) {
			*bad = *names;
			return rc;
		}
	}
	return 0;
}

#define SANDBOX_RULE(...)                                                                          \
	do {                                                                                       \
		int r_ = seccomp_rule_add(ctx, __VA_ARGS__);                                       \
		if (r_ < 0 && r_ != -EEXIST && !rc)                                                \
			rc = r_;                                                                   \
	} while (0)

/* Rules that look at arguments. */
static int sandbox_add_args(scmp_filter_ctx ctx, bool helper)
{
	int rc = 0;

	/* clone: threads only (pthread_create on older glibc), never fork */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	/* memory: never executable (no code is loaded after start-up) */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	             SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* sockets: AF_UNIX only (syslog and sd_notify datagrams, systemd's
	 * private bus); sd_notify enlarges its socket's send buffer */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	             SCMP_A2(SCMP_CMP_EQ, SO_SNDBUF));
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	             SCMP_A2(SCMP_CMP_EQ, SO_SNDBUFFORCE));
	/* sd-bus (stop.c) enlarges both buffers of its socket */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	             SCMP_A2(SCMP_CMP_EQ, SO_RCVBUF));
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
	             SCMP_A2(SCMP_CMP_EQ, SO_RCVBUFFORCE));
	/* signals: only to ourselves (abort(), raise()) */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	             SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* glibc's first pthread_create() (threads start after the filter)
	 * installs its own two handlers, SIGCANCEL and SIGSETXID (nptl
	 * late_init): those two signals only, no handler of ours. */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(rt_sigaction), 1,
	             SCMP_A0(SCMP_CMP_EQ, SIGRTMIN_GLIBC));
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(rt_sigaction), 1,
	             SCMP_A0(SCMP_CMP_EQ, SIGRTMIN_GLIBC + 1));
	/* thread names (pthread_setname_np on the calling thread) */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	if (helper) {
		SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		             SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)FS_IOC_GETVERSION));
		/* asking the helper for an identity (helper.c, HMK_IDENT_ARG) */
		SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 2, SCMP_A1(SCMP_CMP_EQ, F_GETFL),
		             SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)HMK_IDENT_ARG));
	}
	/* exec.c's writer probe: a read lease, taken and dropped */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1, SCMP_A1(SCMP_CMP_EQ, F_SETLEASE));
	/* wl_db_write's stale-tmp sweep: kill(pid, 0) only, a liveness probe */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, SCMP_A1(SCMP_CMP_EQ, 0));
	/* the change recorder: is a writer's pidfd still its process
	 * (recorder_pidfd_alive)? Signal 0 only, a liveness probe */
	SANDBOX_RULE(SCMP_ACT_ALLOW, SCMP_SYS(pidfd_send_signal), 1, SCMP_A1(SCMP_CMP_EQ, 0));
	/* the prescan of a commit (libclamav, window.c): its per-scan temp
	 * directory is chmod'ed before it is removed, the result unused; a
	 * chmod by path fails here instead of being allowed. chmod(3) is the
	 * chmod syscall on x86-64 and fchmodat on arm64, which has no chmod:
	 * there the missing rule killed hmilockd at its first prescan (the
	 * arm64 guest, test 85). */
	SANDBOX_RULE(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(chmod), 0);
	SANDBOX_RULE(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fchmodat), 0);
	return rc;
}

static int sandbox_seccomp(bool helper, char *msg, size_t msglen)
{
	const char *bad = NULL;
	scmp_filter_ctx ctx;
	int rc;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return snprintf(msg, msglen, "seccomp_init failed"), -ENOMEM;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!rc)
		rc = sandbox_add(ctx, sandbox_allow, &bad);
	if (!rc)
		rc = sandbox_add(ctx, sandbox_allow_maint, &bad);
	if (!rc && helper)
		rc = sandbox_add(ctx, sandbox_allow_helper, &bad);
	if (!rc && SANDBOX_SANITIZER)
		rc = sandbox_add(ctx, sandbox_allow_sanitizer, &bad);
	if (!rc)
		rc = sandbox_add_args(ctx, helper);
	if (!rc)
		rc = seccomp_load(ctx);
	if (rc)
		snprintf(msg, msglen, "seccomp filter: %s%s%s", strerror(-rc),
		         bad ? " adding " : "", bad ? bad : "");
	seccomp_release(ctx);
	return rc;
}

static char sandbox_summary[128]; /* the size of hmc_status.sandbox */

const char *sandbox_describe(void)
{
	return sandbox_summary[0] ? sandbox_summary : "not entered";
}

int sandbox_enter(bool helper, char *msg, size_t msglen)
{
	char warn[256];
	int rc;

	msg[0] = '\0';
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rc = -errno;
		snprintf(msg, msglen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return rc;
	}
	rc = sandbox_caps(msg, msglen, warn, sizeof(warn));
	if (rc)
		return rc;
	rc = sandbox_seccomp(helper, msg, msglen);
	if (rc)
		return rc;
	/* A thread that kept its capabilities weakens the sandbox but is no
	 * reason to leave the box unprotected: say so in status and the log. */
	if (warn[0])
		log_msg(LOG_WARNING, "sandbox: capabilities not dropped in %s", warn);
	if (snprintf(sandbox_summary, sizeof(sandbox_summary),
	             "seccomp kill-default allow-list%s; caps %s%s%s",
	             SANDBOX_SANITIZER ? " (+sanitizer)" : "",
	             "sys_admin,dac_read_search,audit_write,sys_ptrace",
	             warn[0] ? "; NOT dropped in " : "", warn) >= (int)sizeof(sandbox_summary))
		memcpy(sandbox_summary + sizeof(sandbox_summary) - 4, "...", 4);
	log_msg(LOG_INFO, "sandbox: %s", sandbox_summary);
	return 0;
}
