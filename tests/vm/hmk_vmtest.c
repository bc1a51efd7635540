/* hmk_vmtest.c - tests of the kernel helper (kmod/hmilock.bpf.c through
 * agent/helper.c), run as root inside the qemu guest by tests/vm/init.sh.
 * Prints "PASS: name" / "FAIL: name: why" per case; exits 1 on any FAIL.
 * Each phase is its own process so that pinning is tested:
 *   phase1 DIR  write the test files and list in DIR (a tmpfs), fresh load,
 *               every hook, exit leaving the pins in place
 *   daemon DIR  re-attach, create DIR/daemon.ready, wait to be SIGKILLed
 *   phase2 DIR  enforcement survived; re-attach; pinned mode; strict_wx; unpin
 * The process running the tests is the registered daemon; every attempt
 * that must be refused runs in a forked child, which is not. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "anchor.h"
#include "vmcommon.h"
#include "hmilock_abi.h"
#include "wl.h"

static const char *W;
static int n_fail;

#define PIN HMK_PIN_DIR
#define VM_PASSWORD "vm-admin-password"
#define LINK_PIN PIN "/link_hmk_bprm_check"

static void report(const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: %s\n", name);
	} else {
		n_fail++;
		printf("FAIL: %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static const char *wp(const char *name)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", W, name);
	return buf[i];
}

/* Exec path (with optional arguments); status, or -1 with exec_errno. */
static struct vm_run *run(const char *path, const char *a1, const char *a2, char *const *env)
{
	static struct vm_run r;
	char *argv[] = {(char *)path, (char *)a1, (char *)a2, NULL};

	vm_exec(&r, -1, argv, env);
	return &r;
}

static void expect_exec(const char *name, const char *path, int want_errno)
{
	struct vm_run *r = run(path, NULL, NULL, NULL);

	if (want_errno)
		report(name, r->status == -1 && r->exec_errno == want_errno,
		       "exec %s: status %d, errno %d (%s), want errno %d", path, r->status,
		       r->exec_errno, strerror(r->exec_errno), want_errno);
	else
		report(name, r->status == 0, "exec %s: status %d, errno %d (%s), out: %.200s", path,
		       r->status, r->exec_errno, strerror(r->exec_errno), r->out);
}

static void expect_event(const char *name, const char *op, enum hmd_verdict v, const char *suf)
{
	report(name, vmstub_wait_event(op, v, suf, 3000),
	       "no %s event (verdict %d) for ...%s among %zu events", op, v, suf ? suf : "",
	       vmstub_event_count());
}

static bool approved(const char *path)
{
	return helper_approved_path(path);
}

static void config(struct hmd_config *c, enum hmd_mode mode, bool strict_wx)
{
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->helper = HMD_HELPER_REQUIRED;
	c->strict_wx = strict_wx;
	snprintf(c->db, sizeof(c->db), "%s", wp("approved.db"));
	snprintf(c->key, sizeof(c->key), "%s", wp("list.key"));
	snprintf(c->path, sizeof(c->path), "%s", wp("hmilock.conf"));
	snprintf(c->admin_password_file, sizeof(c->admin_password_file), "%s",
	         wp("etc/admin.pass"));
	if (!stat(c->path, &st)) { /* as config_load() records it */
		c->path_dev = st.st_dev;
		c->path_ino = st.st_ino;
	}
}

/* ---- attempts run in a child: 0 or errno -------------------------------- */

static int try_open_write(const void *p)
{
	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0)
		return errno;
	if (write(fd, "x", 1) != 1) {
		close(fd);
		return EIO;
	}
	close(fd);
	return 0;
}

static int try_open_rdwr(const void *p)
{
	int fd = open(p, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int try_open_read(const void *p)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int try_truncate(const void *p)
{
	return truncate(p, 0) ? errno : 0;
}

static int try_unlink(const void *p)
{
	return unlink(p) ? errno : 0;
}

static int try_chmod(const void *p)
{
	return chmod(p, 0700) ? errno : 0;
}

static int try_rename_away(const void *p)
{
	return rename(p, wp("moved")) ? errno : 0;
}

static int try_link(const void *p)
{
	int e = link(p, wp("linked")) ? errno : 0;

	if (!e)
		unlink(wp("linked"));
	return e;
}

static int try_rename_over(const void *p)
{
	return rename(wp("blob2"), p) ? errno : 0;
}

static int map_file(const char *path, int prot, void **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	*out = mmap(NULL, 4096, prot, MAP_PRIVATE, fd, 0);
	close(fd);
	return *out == MAP_FAILED ? errno : 0;
}

static int try_mmap_exec(const void *p)
{
	void *m;

	return map_file(p, PROT_READ | PROT_EXEC, &m);
}

static int try_mprotect_exec(const void *p)
{
	void *m;
	int e = map_file(p, PROT_READ, &m);

	if (e)
		return e | 0x80; /* the plain mapping failed: not what is tested */
	return mprotect(m, 4096, PROT_READ | PROT_EXEC) ? errno : 0;
}

static int try_anon_exec(const void *p)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	               -1, 0);

	(void)p;
	return m == MAP_FAILED ? errno : 0;
}

static int try_anon_mprotect(const void *p)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)p;
	if (m == MAP_FAILED)
		return errno | 0x80;
	return mprotect(m, 4096, PROT_READ | PROT_EXEC) ? errno : 0;
}

static int try_memfd_exec(const void *p)
{
	char *argv[] = {"memfd", NULL};
	int fd = memfd_create("hmk", MFD_CLOEXEC), src;
	char buf[65536];
	ssize_t n;

	src = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || src < 0)
		return 0x80;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return 0x81;
	fexecve(fd, argv, environ);
	return errno;
}

struct sig_arg {
	pid_t pid;
	int sig;
};

static int try_kill(const void *p)
{
	const struct sig_arg *a = p;

	return kill(a->pid, a->sig) ? errno : 0;
}

/* F_SETOWN a pipe's read end to the pid, F_SETSIG(sig), O_ASYNC, write:
 * the kernel's send_sigio() signals the owner (sig 0: SIGIO). */
static int try_sigio(const void *p)
{
	const struct sig_arg *a = p;
	int fd[2];

	if (pipe(fd) || fcntl(fd[0], F_SETOWN, a->pid) || fcntl(fd[0], F_SETSIG, a->sig) ||
	    fcntl(fd[0], F_SETFL, O_ASYNC | O_NONBLOCK) || write(fd[1], "x", 1) != 1)
		return 0x80;
	return 0;
}

static int try_prlimit(const void *p)
{
	const struct rlimit one = {1, 1};

	return prlimit(*(const pid_t *)p, RLIMIT_CPU, &one, NULL) ? errno : 0;
}

/* pid (a child of ours) is still running, 100 ms after a signal went out */
static bool child_alive(pid_t pid)
{
	int st;

	usleep(100000);
	return waitpid(pid, &st, WNOHANG) == 0;
}

static int try_ptrace(const void *p)
{
	pid_t pid = *(const pid_t *)p;

	if (ptrace(PTRACE_ATTACH, pid, 0, 0))
		return errno;
	waitpid(pid, NULL, 0);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return 0;
}

/* ---- phase 1 ------------------------------------------------------------ */

static int make_files(void)
{
	static const char *const listed[] = {
	    "listed",  "listed_m",   "audit_t",       "upd_t",   "lib.bin",
	    "good.sh", "dyn_listed", "lib_listed.so", "fork.sh", "fork-exec.sh"};
	const char *files[32];
	struct wl_err err = {0};
	size_t n = 0, i;
	int r = 0;

	r |= vm_copy("/t/hmk_true", wp("listed"), -1);
	r |= vm_copy("/t/hmk_true", wp("listed_m"), -1);
	r |= vm_copy("/t/hmk_true", wp("audit_t"), -1);
	r |= vm_copy("/t/hmk_true", wp("upd_t"), -1);
	r |= vm_copy("/t/hmk_true", wp("unlisted"), -1);
	r |= vm_copy("/t/hmk_true", wp("full_t"), -1);
	r |= vm_copy("/t/hmk_true", wp("altered"), 200);
	r |= vm_copy("/t/hmk_dlbench", wp("dyn_listed"), -1);
	r |= vm_copy("/t/hmk_dlbench", wp("dyn_unlisted"), -1);
	r |= vm_copy("/t/hmk_preload.so", wp("lib_listed.so"), -1);
	r |= vm_copy("/t/hmk_preload.so", wp("lib_unlisted.so"), -1);
	r |= vm_copy("/t/hmk_true", wp("lib.bin"), -1);
	r |= vm_copy("/t/hmk_true", wp("blob"), -1);
	r |= vm_copy("/t/hmk_true", wp("blob2"), -1);
	r |= vm_write(wp("good.sh"), "read x < \"$1\"; echo \"GOOD $x\"\n", 0644);
	/* a subshell (a fork, no exec) reads the data file */
	r |= vm_write(wp("fork.sh"), "(read x < \"$1\"; echo \"FORK $x\")\n", 0644);
	/* a subshell that execs the interpreter again: a new program */
	r |= vm_write(wp("fork-exec.sh"), "(exec /bin/busybox sh \"$1\"); echo ALIVE\n", 0644);
	r |= vm_write(wp("evil.sh"), "echo EVIL\n", 0644);
	r |= vm_write(wp("data.txt"), "data\n", 0644);
	/* files HMK_PROTECTED_FILES names (agent/protect.c) */
	r |= vm_write(wp("hmilock.conf"), "[agent]\n", 0644);
	r |= vm_write(wp("state"), "mode=enforce\n", 0600);
	r |= mkdir(wp("etc"), 0755) ? -1 : 0;
	if (r)
		return -EIO;
	r = wl_passwd_set(wp("etc/admin.pass"), VM_PASSWORD, &err);
	if (r) {
		fprintf(stderr, "hmk_vmtest: admin password: %s\n", err.msg);
		return r;
	}
	files[n++] = strdup("/t/hmk_vmtest");
	files[n++] = strdup("/bin/busybox");
	files[n++] = strdup(VM_LDSO);
	files[n++] = strdup(VM_LIBC);
	for (i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		files[n++] = strdup(wp(listed[i])); /* wp() reuses its buffers */
	r = vm_make_list(wp("approved.db"), wp("list.key"), files, n);
	for (i = 0; i < n; i++)
		free((void *)files[i]);
	return r;
}

static void t_load(void)
{
	static struct hmd_config c; /* helper.c keeps a pointer */
	char st[512];
	int r;

	config(&c, HMD_MODE_ENFORCE, false);
	r = helper_init(&c);
	if (r == 0)
		helper_start();
	helper_status(st, sizeof(st));
	report("helper-load", r == 0 && helper_active() && !strcmp(st, "active (pinned)"),
	       "helper_init %d, status \"%s\"", r, st);
	report("helper-pinned",
	       !access(PIN "/hmk_config", F_OK) && !access(LINK_PIN, F_OK) &&
	           !access(PIN "/link_hmk_file_open", F_OK),
	       "pins missing under %s", PIN);
	report("helper-list-approved",
	       approved(wp("listed")) && approved("/bin/busybox") && !approved(wp("unlisted")),
	       "listed %d busybox %d unlisted %d", approved(wp("listed")), approved("/bin/busybox"),
	       approved(wp("unlisted")));
	/* In this guest /bin/sh is busybox: no interpreter until the test wants one. */
	helper_set_interpreters(NULL, 0);
}

static void t_exec(void)
{
	expect_exec("exec-listed-runs", wp("listed"), 0);
	expect_exec("exec-unlisted-denied", wp("unlisted"), EPERM);
	expect_event("event-exec-deny-path", "exec", HMD_V_DENY, wp("unlisted"));
	expect_exec("exec-altered-copy-denied", wp("altered"), EPERM);
	/* a filesystem that appeared after the helper was loaded */
	if (mkdir(wp("newfs"), 0755) || mount("hmk", wp("newfs"), "tmpfs", 0, "mode=0755") ||
	    vm_copy("/t/hmk_true", wp("newfs/x"), -1))
		report("exec-new-tmpfs-denied", false, "cannot set up a new tmpfs: %s",
		       strerror(errno));
	else
		expect_exec("exec-new-tmpfs-denied", wp("newfs/x"), EPERM);
	report("memfd-fexecve-denied", vm_in_child(try_memfd_exec, "/t/hmk_true") == EPERM,
	       "fexecve of a memfd copy of a listed binary was not refused with EPERM");
}

static void t_mmap(void)
{
	int e;

	e = vm_in_child(try_mmap_exec, wp("blob"));
	report("mmap-exec-unlisted-denied", e == EPERM, "mmap PROT_EXEC: %d", e);
	e = vm_in_child(try_mmap_exec, wp("lib.bin"));
	report("mmap-exec-listed-allowed", e == 0, "mmap PROT_EXEC of listed: %d", e);
	e = vm_in_child(try_mprotect_exec, wp("blob"));
	report("mprotect-exec-unlisted-denied", e == EPERM, "mprotect PROT_EXEC: %d", e);
	e = vm_in_child(try_anon_exec, NULL);
	report("anon-exec-allowed-without-strict-wx", e == 0, "anonymous PROT_EXEC: %d", e);
	e = vm_in_child(try_anon_mprotect, NULL);
	report("anon-mprotect-allowed-without-strict-wx", e == 0, "anonymous mprotect: %d", e);
}

/* dlopen, LD_PRELOAD and ld.so ./prog through the real dynamic loader. */
static void t_loader(void)
{
	char mark[300], env_pre[320], env_mark[320];
	char *env[] = {env_pre, env_mark, NULL};
	struct vm_run *r;

	r = run(wp("dyn_listed"), wp("lib_listed.so"), "3", NULL);
	report("dlopen-listed-allowed", r->status == 0, "status %d: %.300s", r->status, r->out);
	r = run(wp("dyn_listed"), wp("lib_unlisted.so"), "1", NULL);
	report("dlopen-unlisted-denied", r->status == 3, "status %d: %.300s", r->status, r->out);
	r = run(VM_LDSO, wp("dyn_unlisted"), NULL, NULL);
	report("ldso-unlisted-program-denied", r->status != 0 && r->status != -1,
	       "ld.so ./x: status %d: %.300s", r->status, r->out);
	r = run(VM_LDSO, wp("dyn_listed"), NULL, NULL);
	report("ldso-listed-program-runs", r->status == 2,
	       "ld.so listed (usage exit 2): %d: %.300s", r->status, r->out);
	snprintf(mark, sizeof(mark), "%s", wp("preload.mark"));
	snprintf(env_mark, sizeof(env_mark), "HMK_MARK=%s", mark);
	snprintf(env_pre, sizeof(env_pre), "LD_PRELOAD=%s", wp("lib_unlisted.so"));
	unlink(mark);
	r = run(wp("dyn_listed"), VM_LIBC, "1", env);
	report("ld-preload-unlisted-not-loaded", r->status == 0 && access(mark, F_OK),
	       "status %d, marker %s: %.300s", r->status, access(mark, F_OK) ? "absent" : "present",
	       r->out);
	snprintf(env_pre, sizeof(env_pre), "LD_PRELOAD=%s", wp("lib_listed.so"));
	r = run(wp("dyn_listed"), VM_LIBC, "1", env);
	report("ld-preload-listed-loaded", r->status == 0 && !access(mark, F_OK),
	       "status %d, marker %s", r->status, access(mark, F_OK) ? "absent" : "present");
}

static void t_write(void)
{
	const char *l = wp("listed");

	report("write-open-denied", vm_in_child(try_open_write, l) == EPERM, "O_WRONLY allowed");
	report("rdwr-open-denied", vm_in_child(try_open_rdwr, l) == EPERM, "O_RDWR allowed");
	expect_event("event-write-deny-path", "write", HMD_V_DENY, wp("listed"));
	report("truncate-denied", vm_in_child(try_truncate, l) == EPERM, "truncate allowed");
	report("rename-away-denied", vm_in_child(try_rename_away, l) == EPERM, "rename allowed");
	report("rename-over-denied", vm_in_child(try_rename_over, l) == EPERM,
	       "rename onto an approved file allowed");
	report("unlink-denied", vm_in_child(try_unlink, l) == EPERM, "unlink allowed");
	expect_event("event-unlink-deny-path", "unlink", HMD_V_DENY, wp("listed"));
	report("chmod-denied", vm_in_child(try_chmod, l) == EPERM, "chmod allowed");
	report("protected-key-unlink-denied", vm_in_child(try_unlink, wp("list.key")) == EPERM,
	       "unlink of the list key allowed");
	report("protected-list-write-denied",
	       vm_in_child(try_open_write, wp("approved.db")) == EPERM,
	       "write to the approved list allowed");
	expect_exec("listed-still-runs-after-attempts", l, 0);
	report("unlisted-write-allowed", vm_in_child(try_open_write, wp("data.txt")) == 0,
	       "writing an unlisted file was refused");
	/* (after the checks of l: wp() reuses its buffers) */
	report("protected-password-unlink-denied",
	       vm_in_child(try_unlink, wp("etc/admin.pass")) == EPERM,
	       "unlink of the admin password allowed");
	report("protected-password-rename-over-denied",
	       vm_in_child(try_rename_over, wp("etc/admin.pass")) == EPERM,
	       "rename onto the admin password allowed");
	report("protected-state-write-denied", vm_in_child(try_open_write, wp("state")) == EPERM,
	       "write to the state file allowed");
	report("protected-password-link-denied",
	       vm_in_child(try_link, wp("etc/admin.pass")) == EPERM,
	       "a hard link of the admin password was made");
	expect_event("event-link-deny-path", "link", HMD_V_DENY, wp("etc/admin.pass"));
	report("plain-link-allowed", vm_in_child(try_link, wp("data.txt")) == 0,
	       "a hard link of a plain file refused");
	report("protected-dir-rename-denied", vm_in_child(try_rename_away, wp("etc")) == EPERM,
	       "the directory above the admin password was renamed away");
	report("protected-dir-chmod-allowed", vm_in_child(try_chmod, wp("etc")) == 0,
	       "chmod of a directory above a protected file refused");
	report("protected-key-read-denied", vm_in_child(try_open_read, wp("list.key")) == EPERM,
	       "another process read the list key");
	expect_event("event-read-deny-path", "read", HMD_V_DENY, wp("list.key"));
	report("protected-key-read-daemon-allowed", try_open_read(wp("list.key")) == 0,
	       "the daemon could not read the list key");
	report("protected-list-read-allowed", vm_in_child(try_open_read, wp("approved.db")) == 0,
	       "reading the approved list refused");
}

static pid_t standin(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void t_self(void)
{
	pid_t d = standin(), me = getpid();
	struct sig_arg a = {d, SIGKILL};
	int st, e;

	helper_set_daemon(d);
	report("kill-9-daemon-denied", vm_in_child(try_kill, &a) == EPERM, "SIGKILL delivered");
	a.sig = SIGTERM;
	report("kill-term-daemon-denied", vm_in_child(try_kill, &a) == EPERM, "SIGTERM delivered");
	a.sig = SIGSTOP;
	report("kill-stop-daemon-denied", vm_in_child(try_kill, &a) == EPERM, "SIGSTOP delivered");
	a.sig = 0;
	report("kill-0-probe-allowed", vm_in_child(try_kill, &a) == 0, "kill(pid, 0) refused");
	report("ptrace-attach-daemon-denied", vm_in_child(try_ptrace, &d) == EPERM,
	       "PTRACE_ATTACH allowed");
	a.sig = SIGKILL;
	e = vm_in_child(try_sigio, &a);
	report("sigio-kill-daemon-denied", e == 0 && child_alive(d),
	       "F_SETOWN + F_SETSIG(SIGKILL) + I/O: %d, the daemon %s", e,
	       child_alive(d) ? "lives" : "was killed");
	a.sig = 0;
	e = vm_in_child(try_sigio, &a);
	report("sigio-plain-daemon-denied", e == 0 && child_alive(d),
	       "F_SETOWN + O_ASYNC + I/O (SIGIO ends a process): %d, the daemon %s", e,
	       child_alive(d) ? "lives" : "was killed");
	e = vm_in_child(try_prlimit, &d);
	report("prlimit-cpu-daemon-denied", e == EPERM, "prlimit(daemon, RLIMIT_CPU, 1 s): %d", e);
	expect_event("event-kill-deny", "kill", HMD_V_DENY, NULL);
	expect_event("event-sigio-deny-names-signal", "kill", HMD_V_DENY, ", signal 29");
	expect_event("event-prlimit-deny-names-rlimit", "kill", HMD_V_DENY, ", rlimit 0");
	helper_set_mode(HMD_MODE_MAINTENANCE);
	a.pid = d;
	a.sig = SIGTERM;
	report("kill-daemon-allowed-in-maintenance", vm_in_child(try_kill, &a) == 0,
	       "SIGTERM refused in maintenance");
	helper_set_mode(HMD_MODE_ENFORCE);
	helper_set_daemon(me);
	{
		struct rlimit cur;

		e = getrlimit(RLIMIT_CORE, &cur) || prlimit(me, RLIMIT_CORE, &cur, NULL) ? errno
		                                                                         : 0;
		report("prlimit-daemon-own-allowed", e == 0, "the daemon's own prlimit: %d", e);
	}
	kill(d, SIGKILL);
	waitpid(d, &st, 0);
}

static int map_id(const char *pin, bool link)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = link ? 0 : BPF_F_RDONLY);
	struct bpf_link_info li;
	struct bpf_map_info mi;
	uint32_t len = link ? sizeof(li) : sizeof(mi);
	int fd = bpf_obj_get_opts(pin, &o), r;

	if (fd < 0)
		return -errno;
	memset(&li, 0, sizeof(li));
	memset(&mi, 0, sizeof(mi));
	r = bpf_obj_get_info_by_fd(fd, link ? (void *)&li : (void *)&mi, &len);
	close(fd);
	return r ? -errno : (int)(link ? li.id : mi.id);
}

static int g_map_rw(const void *p)
{
	int fd = bpf_obj_get(p);

	return fd < 0 ? errno : (close(fd), 0);
}

static int g_map_ro(const void *p)
{
	return map_id(p, false) > 0 ? 0 : -map_id(p, false);
}

/* p: the map's id, read by the caller (the daemon: a child gets no fd of
 * the map, not even a read-only one to ask for its id) */
static int g_map_by_id(const void *p)
{
	int id = *(const int *)p, fd;

	if (id <= 0)
		return 0x80;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? errno : (close(fd), 0);
}

static int g_link_by_id(const void *p)
{
	int id = map_id(p, true), fd;

	if (id <= 0)
		return 0x80;
	fd = bpf_link_get_fd_by_id(id);
	return fd < 0 ? errno : (close(fd), 0);
}

static int g_link_detach(const void *p)
{
	int fd = bpf_obj_get(p);

	if (fd < 0)
		return 0x80;
	return bpf_link_detach(fd) ? errno : 0;
}

static int g_prog_load(const void *p)
{
	struct bpf_insn insns[] = {
	    {.code = 0xb7, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
	    {.code = 0x95}, /* exit */
	};
	int fd = bpf_prog_load(*(const enum bpf_prog_type *)p, NULL, "GPL", insns, 2, NULL);

	return fd < 0 ? errno : (close(fd), 0);
}

static int g_umount(const void *p)
{
	return umount2(p, MNT_DETACH) ? errno : 0;
}

/* ---- mounts over hmilock's files ---------------------------------------- */

static int m_bind(const void *p)
{
	return mount(wp("data.txt"), p, NULL, MS_BIND, NULL) ? errno : (umount2(p, MNT_DETACH), 0);
}

static int m_tmpfs(const void *p)
{
	return mount("t", p, "tmpfs", 0, NULL) ? errno : (umount2(p, MNT_DETACH), 0);
}

/* the new mount API: a clone of data.txt's mount put over p */
static int m_move_mount(const void *p)
{
	int fd = open_tree(AT_FDCWD, wp("data.txt"), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (move_mount(fd, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH))
		e = errno;
	else
		umount2(p, MNT_DETACH);
	close(fd);
	return e;
}

/* mount --move of a plain mount onto p */
static int m_move(const void *p)
{
	int e = 0;

	if (mount("t", wp("mnt"), "tmpfs", 0, NULL))
		return errno;
	if (mount(wp("mnt"), p, NULL, MS_MOVE, NULL))
		e = errno;
	umount2(e ? wp("mnt") : p, MNT_DETACH);
	return e;
}

static int m_remount(const void *p)
{
	return mount("w", p, NULL, MS_REMOUNT, "mode=0755") ? errno : 0;
}

/* In a mount namespace of its own (private, or keeping its peers): a bind
 * mount over p. */
static int m_ns_bind(const void *p, bool private)
{
	if (unshare(CLONE_NEWNS))
		return errno;
	if (private && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return errno;
	return m_bind(p);
}

static int m_private_ns_bind(const void *p)
{
	return m_ns_bind(p, true);
}

static int m_shared_ns_bind(const void *p)
{
	return m_ns_bind(p, false);
}

static void t_mount(void)
{
	char pw[256], st[256], dir[256];
	int e;

	snprintf(pw, sizeof(pw), "%s", wp("etc/admin.pass"));
	snprintf(st, sizeof(st), "%s", wp("state"));
	snprintf(dir, sizeof(dir), "%s", wp("etc"));
	mkdir(wp("mnt"), 0755);
	e = vm_in_child(m_bind, pw);
	report("mount-bind-over-password-denied", e == EPERM, "bind mount over admin.pass: %d", e);
	expect_event("event-mount-deny-path", "mount", HMD_V_DENY, "etc/admin.pass");
	e = vm_in_child(m_tmpfs, dir);
	report("mount-over-protected-dir-denied", e == EPERM,
	       "tmpfs over the directory above admin.pass: %d", e);
	e = vm_in_child(m_move_mount, st);
	report("move-mount-over-state-denied", e == EPERM,
	       "open_tree + move_mount over the state file: %d", e);
	e = vm_in_child(m_move, dir);
	report("mount-move-onto-protected-dir-denied", e == EPERM, "mount --move onto etc/: %d", e);
	e = vm_in_child(m_tmpfs, "/sys/fs/bpf");
	report("mount-over-pin-dir-denied", e == EPERM, "tmpfs over /sys/fs/bpf: %d", e);
	e = vm_in_child(m_tmpfs, wp("mnt"));
	report("mount-plain-allowed", e == 0, "tmpfs on a plain directory: %d", e);
	e = vm_in_child(m_remount, W);
	report("remount-protected-dir-allowed", e == 0, "remount of %s: %d", W, e);
	e = vm_in_child(m_private_ns_bind, pw);
	report("mount-private-ns-allowed", e == 0,
	       "bind over admin.pass in a private mount namespace: %d", e);
	if (mount(NULL, W, NULL, MS_SHARED, NULL)) {
		report("mount-shared-ns-denied", false, "cannot make %s shared: %s", W,
		       strerror(errno));
		return;
	}
	e = vm_in_child(m_shared_ns_bind, pw);
	report("mount-shared-ns-denied", e == EPERM,
	       "bind over admin.pass in a namespace whose mount propagates back: %d", e);
	mount(NULL, W, NULL, MS_PRIVATE, NULL);
	expect_exec("mount-helper-still-enforcing", wp("unlisted"), EPERM);
}

static void t_guard(void)
{
	enum bpf_prog_type kp = BPF_PROG_TYPE_KPROBE, sf = BPF_PROG_TYPE_SOCKET_FILTER,
	                   sc = BPF_PROG_TYPE_SYSCALL;
	int e, id;

	e = vm_in_child(g_map_rw, PIN "/hmk_approved");
	report("guard-map-open-rw-denied", e == EPERM, "bpf_obj_get rw: %d", e);
	e = vm_in_child(g_map_ro, PIN "/hmk_approved");
	report("guard-map-open-ro-denied", e == EPERM, "bpf_obj_get read-only: %d", e);
	id = map_id(PIN "/hmk_approved", false);
	e = vm_in_child(g_map_by_id, &id);
	report("guard-map-by-id-denied", e == EPERM, "BPF_MAP_GET_FD_BY_ID: %d", e);
	e = vm_in_child(g_link_by_id, LINK_PIN);
	report("guard-link-by-id-denied", e == EPERM, "BPF_LINK_GET_FD_BY_ID: %d", e);
	e = vm_in_child(g_link_detach, LINK_PIN);
	report("guard-link-detach-denied", e == EPERM, "BPF_LINK_DETACH: %d", e);
	e = vm_in_child(try_unlink, PIN "/hmk_config");
	report("guard-unpin-denied", e == EPERM, "unlink of a pin: %d", e);
	e = vm_in_child(g_umount, "/sys/fs/bpf");
	report("guard-bpffs-umount-denied", e == EPERM, "umount /sys/fs/bpf: %d", e);
	e = vm_in_child(g_prog_load, &kp);
	report("guard-kprobe-load-denied", e == EPERM, "kprobe program load: %d", e);
	e = vm_in_child(g_prog_load, &sc);
	report("guard-syscall-prog-load-denied", e == EPERM, "syscall program load: %d", e);
	e = vm_in_child(g_prog_load, &sf);
	report("guard-socket-filter-load-allowed", e == 0, "socket filter load: %d", e);
	expect_exec("guard-helper-still-enforcing", wp("unlisted"), EPERM);
}

/* busybox sh ARGS: the script must be denied, and nothing it says printed. */
static void interp_denied(const char *name, char *const argv[])
{
	struct vm_run r;

	vm_exec(&r, -1, argv, NULL);
	report(name, !strstr(r.out, "EVIL"), "status %d: %.300s", r.status, r.out);
}

/* vm_exec of argv with the file at path (in W) as its standard input. */
static void exec_stdin(struct vm_run *r, char *const argv[], const char *name)
{
	vm_exec_stdin = open(wp(name), O_RDONLY | O_CLOEXEC);
	if (vm_exec_stdin < 0)
		report("interp-bypass-setup", false, "cannot open %s: %s", name, strerror(errno));
	vm_exec(r, -1, argv, NULL);
	if (vm_exec_stdin >= 0)
		close(vm_exec_stdin);
	vm_exec_stdin = -1;
}

/* Interpreter control (issue 9, class 4) where busybox sh can show it: a
 * first denied open does not let the second through (the commands on
 * stdin: -s, not code); a long argument, a long file name and a symlink do
 * not hide the script; -e (errexit, not code for a shell) and "-" (the end
 * of its options) do not either. */
static void t_interp_bypass(void)
{
	static char longarg[2200], longname[160];
	static char evil[256]; /* not wp(): its buffers go round */
	char *twice[] = {"/bin/busybox", "sh", "-s", evil, NULL};
	char *flag_e[] = {"/bin/busybox", "sh", "-e", evil, NULL};
	char *dash[] = {"/bin/busybox", "sh", "-", evil, NULL};
	char *longa[] = {"/bin/busybox", "sh", longarg, NULL};
	char *longn[] = {"/bin/busybox", "sh", longname, NULL};
	char *lnk[] = {"/bin/busybox", "sh", (char *)wp("lnk"), NULL};
	struct vm_run r;
	size_t n;

	snprintf(evil, sizeof(evil), "%s/evil.sh", W);
	n = (size_t)snprintf(longarg, sizeof(longarg), "%s/", W);
	while (n + 2 < sizeof(longarg) - 16)
		n += (size_t)snprintf(longarg + n, sizeof(longarg) - n, "./");
	snprintf(longarg + n, sizeof(longarg) - n, "evil.sh");
	snprintf(longname, sizeof(longname), "%s/evil-%0100d.sh", W, 0);
	if (vm_write(longname, "echo EVIL\n", 0644) || symlink(wp("evil.sh"), wp("lnk")))
		report("interp-bypass-setup", false, "cannot write %s or the symlink: %s", longname,
		       strerror(errno));
	if (vm_write(wp("fork.in"), "(command . /w/evil.sh); echo ALIVE\n", 0644) ||
	    vm_write(wp("twice.in"), "command . /w/evil.sh; command . /w/evil.sh; echo ALIVE\n",
	             0644))
		report("interp-bypass-setup", false, "cannot write twice.in: %s", strerror(errno));
	exec_stdin(&r, twice, "twice.in");
	report("interp-denied-twice", strstr(r.out, "ALIVE") && !strstr(r.out, "EVIL"),
	       "the second open of a denied script: status %d: %.300s", r.status, r.out);
	exec_stdin(&r, twice, "fork.in");
	report("interp-fork-of-unresolved-denied", strstr(r.out, "ALIVE") && !strstr(r.out, "EVIL"),
	       "a subshell of an unresolved shell: status %d: %.300s", r.status, r.out);
	interp_denied("interp-flag-e-denied", flag_e);
	interp_denied("interp-dash-script-denied", dash); /* "-" ends a shell's options */
	interp_denied("interp-long-argument-denied", longa);
	interp_denied("interp-long-name-denied", longn);
	interp_denied("interp-symlink-denied", lnk);
	unlink(longname);
	unlink(wp("lnk"));
}

static void t_interp(void)
{
	const char *bb[] = {"/bin/busybox"};
	struct vm_run r;
	char *evil[] = {"/bin/busybox", "sh", (char *)wp("evil.sh"), NULL};
	char *good[] = {"/bin/busybox", "sh", (char *)wp("good.sh"), (char *)wp("data.txt"), NULL};
	char *fork[] = {"/bin/busybox", "sh", (char *)wp("fork.sh"), (char *)wp("data.txt"), NULL};
	char *fork_exec[] = {"/bin/busybox", "sh", (char *)wp("fork-exec.sh"),
	                     (char *)wp("evil.sh"), NULL};
	char *code[] = {
	    "/bin/busybox",         "sh", "-c", "read x < \"$1\"; echo \"CODE $x\"", "sh",
	    (char *)wp("data.txt"), NULL};

	helper_set_interpreters(bb, 1);
	vm_exec(&r, -1, evil, NULL);
	report("interp-unlisted-script-denied", r.status != 0 && !strstr(r.out, "EVIL"),
	       "status %d: %.300s", r.status, r.out);
	expect_event("event-script-deny", "script", HMD_V_DENY, wp("evil.sh"));
	vm_exec(&r, -1, good, NULL);
	report("interp-listed-script-reads-data", r.status == 0 && strstr(r.out, "GOOD data"),
	       "status %d: %.300s", r.status, r.out);
	/* code on the command line: what follows it is data (find -exec sh -c) */
	vm_exec(&r, -1, code, NULL);
	report("interp-code-arg-reads-data", r.status == 0 && strstr(r.out, "CODE data"),
	       "sh -c CODE sh FILE: status %d: %.300s", r.status, r.out);
	/* a fork of a resolved script reads as the script does */
	vm_exec(&r, -1, fork, NULL);
	report("interp-fork-of-listed-reads-data", r.status == 0 && strstr(r.out, "FORK data"),
	       "a subshell of a listed script: status %d: %.300s", r.status, r.out);
	vm_exec(&r, -1, fork_exec, NULL);
	report("interp-exec-from-listed-denied", strstr(r.out, "ALIVE") && !strstr(r.out, "EVIL"),
	       "a listed script's subshell exec'ing sh on a script: status %d: %.300s", r.status,
	       r.out);
	t_interp_bypass();
	helper_set_interpreters(NULL, 0);
	evil[2] = (char *)wp("evil.sh"); /* wp's buffers went round since */
	vm_exec(&r, -1, evil, NULL);
	report("interp-off-script-runs", r.status == 0 && strstr(r.out, "EVIL"),
	       "status %d: %.300s", r.status, r.out);
}

static void t_audit(void)
{
	int e;

	helper_set_mode(HMD_MODE_AUDIT);
	expect_exec("audit-unlisted-exec-allowed", wp("unlisted"), 0);
	expect_event("audit-would-deny-event", "exec", HMD_V_WOULD_DENY, wp("unlisted"));
	e = vm_in_child(try_mmap_exec, wp("blob"));
	report("audit-mmap-exec-allowed", e == 0, "mmap PROT_EXEC in audit: %d", e);
	e = vm_in_child(try_open_write, wp("audit_t"));
	report("audit-write-allowed-and-unapproved", e == 0 && !approved(wp("audit_t")),
	       "write %d, still approved %d", e, approved(wp("audit_t")));
	/* the operator's hmilock init and add read the key before the lock */
	e = vm_in_child(try_open_read, wp("list.key"));
	report("audit-key-read-allowed",
	       e == 0 && !vmstub_wait_event("read", HMD_V_WOULD_DENY, NULL, 300),
	       "reading the list key in audit: %d (or a would-deny was reported)", e);
	helper_set_mode(HMD_MODE_ENFORCE);
}

static void t_maintenance(void)
{
	const char *f = wp("listed_m");
	int e, fd;

	helper_set_mode(HMD_MODE_MAINTENANCE);
	e = vm_in_child(try_open_write, f);
	report("maintenance-write-allowed", e == 0, "write in maintenance: %d", e);
	e = vm_in_child(try_open_read, wp("list.key"));
	report("maintenance-key-read-allowed", e == 0, "reading the list key in maintenance: %d",
	       e);
	report("maintenance-write-leaves-approved-map", !approved(f), "inode still approved");
	expect_event("event-changed", "changed", HMD_V_ALLOW, wp("listed_m"));
	helper_set_mode(HMD_MODE_ENFORCE);
	expect_exec("relock-rewritten-file-denied", f, EPERM);
	fd = open(f, O_RDONLY | O_CLOEXEC);
	e = helper_approve_fd(fd);
	close(fd);
	report("reapprove-fd", e == 0, "helper_approve_fd: %d", e);
	expect_exec("reapproved-file-runs", f, 0);
}

static int upd_write(const void *p)
{
	if (vm_write("/sys/fs/cgroup/hmk-upd/cgroup.procs", "0\n", 0644))
		return 0x80;
	return try_open_write(p);
}

static void t_updater(void)
{
	int e;

	if (mkdir("/sys/fs/cgroup/hmk-upd", 0755) && errno != EEXIST) {
		report("updater-cgroup-write-allowed", false, "mkdir cgroup: %s", strerror(errno));
		return;
	}
	e = helper_set_updater_cgroup("/sys/fs/cgroup/hmk-upd", true);
	report("updater-cgroup-set", e == 0, "helper_set_updater_cgroup: %d", e);
	e = vm_in_child(upd_write, wp("upd_t"));
	report("updater-cgroup-write-allowed", e == 0 && !approved(wp("upd_t")),
	       "write from the updater cgroup: %d, still approved %d", e, approved(wp("upd_t")));
	report("outside-updater-write-denied", vm_in_child(try_open_write, wp("listed")) == EPERM,
	       "write outside the updater cgroup allowed");
	e = vm_in_child(upd_write, wp("list.key"));
	report("updater-list-key-write-denied", e == EPERM,
	       "the list key from the updater cgroup: %d", e);
	e = vm_in_child(upd_write, wp("state"));
	report("updater-state-write-denied", e == EPERM,
	       "the state file from the updater cgroup: %d", e);
	e = vm_in_child(upd_write, wp("hmilock.conf"));
	report("updater-package-config-write-allowed", e == 0,
	       "the package's configuration from the updater cgroup: %d", e);
	helper_set_updater_cgroup("/sys/fs/cgroup/hmk-upd", false);
}

/* Fill the approved map to its limit: an inode that cannot be added stays
 * denied (maps full -> deny), and works once there is room again. */
static void t_full(void)
{
	uint32_t n = HMK_APPROVED_MAX, cnt = 0, i, batch;
	struct hmk_inode_key *keys = calloc(n, sizeof(*keys)), k, *prev = NULL;
	struct hmk_approved *vals = calloc(n, sizeof(*vals));
	int fd = bpf_obj_get(PIN "/hmk_approved"), e, f;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &k)) {
		keys[0] = k;
		prev = &keys[0];
		cnt++;
	}
	for (i = 0; keys && vals && i < n; i++) {
		keys[i].dev = 0xfffffffffULL; /* no such device */
		keys[i].ino = i + 1;
	}
	batch = n - cnt;
	e = fd < 0 || !keys || !vals ? -1 : bpf_map_update_batch(fd, keys, vals, &batch, NULL);
	f = open(wp("full_t"), O_RDONLY | O_CLOEXEC);
	report("map-full-approve-fails", e == 0 && helper_approve_fd(f) < 0,
	       "filling %u entries: %d (%s)", n - cnt, e, strerror(errno));
	expect_exec("map-full-file-denied", wp("full_t"), EPERM);
	batch = n - cnt;
	if (fd >= 0 && keys)
		bpf_map_delete_batch(fd, keys, &batch, NULL);
	report("map-room-approve-works", helper_approve_fd(f) == 0, "approve after emptying");
	expect_exec("map-room-file-runs", wp("full_t"), 0);
	close(f);
	if (fd >= 0)
		close(fd);
	free(keys);
	free(vals);
}

static int phase1(void)
{
	if (make_files()) {
		report("setup", false, "cannot write the test files in %s", W);
		return 1;
	}
	if (vmstub_list_open(wp("approved.db"), wp("list.key"))) {
		report("setup", false, "cannot open the test list");
		return 1;
	}
	t_load();
	if (!helper_active())
		return 1;
	t_exec();
	t_mmap();
	t_loader();
	t_write();
	t_self();
	t_guard();
	t_mount();
	t_interp();
	t_audit();
	t_maintenance();
	t_updater();
	t_full();
	helper_fini(); /* leaves everything pinned and enforcing */
	return n_fail ? 1 : 0;
}

/* ---- daemon, phase 2 ---------------------------------------------------- */

static int daemon_phase(void)
{
	static struct hmd_config c; /* helper.c keeps a pointer */
	int r;

	config(&c, HMD_MODE_ENFORCE, false);
	if (vmstub_list_open(wp("approved.db"), wp("list.key")))
		return 1;
	r = helper_init(&c);
	if (r == 0)
		helper_start();
	report("daemon-reattach", r == 0 && helper_active(), "helper_init: %d", r);
	helper_set_interpreters(NULL, 0);
	if (vm_write(wp("daemon.ready"), "1\n", 0644))
		return 1;
	/* beat as hmilockd does (PID 1 may not end a live daemon), until
	 * init.sh asks for a hang: then the beat goes stale, as a hung
	 * daemon's, and PID 1 (the watchdog) may end it */
	for (;;) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		if (!access(wp("daemon.hang"), F_OK)) {
			helper_beat(now - HMK_HUNG_NS - 1000000000ull, NULL, 0);
			vm_write(wp("daemon.hung"), "1\n", 0644);
			for (;;)
				pause();
		}
		helper_beat(now, NULL, 0);
		usleep(200000);
	}
}

static void t_survived(void)
{
	char cmd[300], *sh[] = {"/bin/busybox", "sh", "-c", cmd, NULL};
	struct vm_run r;
	char buf[16] = "";
	int fd = open(wp("daemon.status"), O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	if (fd >= 0)
		close(fd);
	report("daemon-sigkilled-by-pid1", atoi(buf) == 137, "daemon exit status \"%s\"", buf);
	report("pins-survive-loader-exit", !access(PIN "/hmk_config", F_OK), "pins gone");
	expect_exec("survived-unlisted-still-denied", wp("unlisted"), EPERM);
	expect_exec("survived-listed-still-runs", wp("listed"), 0);
	/* Not from a child of this process: with no daemon registered, a process
	 * running the daemon's binary (this one) is trusted. */
	snprintf(cmd, sizeof(cmd), "echo x >>%s", wp("listed"));
	vm_exec(&r, -1, sh, NULL);
	report("survived-write-still-denied", r.status != 0 && strstr(r.out, "not permitted"),
	       "shell append to a listed file: status %d: %.200s", r.status, r.out);
}

/* hmilockd started by root with another configuration file while the
 * pinned helper enforces and no daemon is registered (agent/anchor.c): it
 * is refused, and so is --unpin, without the admin password too. */
static void t_anchor(void)
{
	static struct hmd_config o; /* helper.c keeps a pointer */
	char why[600] = "";
	struct stat st;
	int r;

	config(&o, HMD_MODE_AUDIT, true);
	if (!stat(wp("list.key"), &st)) {
		o.path_dev = st.st_dev; /* another file as the configuration */
		o.path_ino = st.st_ino;
	}
	vmstub_state_mode = HMD_MODE_AUDIT;
	r = helper_init(&o);
	report("anchor-other-config-refused",
	       r < 0 && !helper_active() && vmstub_msg_seen("enforces under another configuration"),
	       "helper_init with another configuration file: %d", r);
	expect_exec("anchor-still-enforcing", wp("unlisted"), EPERM);
	r = anchor_unpin(&o, "", VM_PASSWORD, why, sizeof(why));
	report("anchor-unpin-other-config-refused", r == -EPERM, "%d: %s", r, why);
	config(&o, HMD_MODE_AUDIT, true);
	r = anchor_unpin(&o, "", "", why, sizeof(why));
	report("anchor-unpin-no-password-refused", r == -ENOKEY, "%d: %s", r, why);
	r = anchor_unpin(&o, "", "not-the-password", why, sizeof(why));
	report("anchor-unpin-wrong-password-refused", r == -EACCES, "%d: %s", r, why);
	why[0] = '\0';
	r = anchor_unpin(&o, "", VM_PASSWORD, why, sizeof(why));
	report("anchor-unpin-password-allowed", r == 0, "%d: %s", r, why);
}

/* Root signs a list of its own with the key (it can read it), mounts it
 * over the list path and asks for a reload: while the helper enforces the
 * list is taken only from the file the helper protects. */
static void t_forged_list(void)
{
	uint8_t key[WL_KEY_LEN];
	struct wl_err err = {0};
	struct wl_db *db = NULL;
	int r = -1;

	if (vm_copy(wp("approved.db"), wp("forged.db"), -1) ||
	    mount(wp("forged.db"), wp("approved.db"), NULL, MS_BIND, NULL)) {
		report("reload-forged-list-refused", false, "cannot set up the bind mount: %s",
		       strerror(errno));
		return;
	}
	if (!wl_key_load(wp("list.key"), key, &err) &&
	    !wl_db_open(wp("approved.db"), key, &db, &err))
		r = vmstub_list_checker ? vmstub_list_checker(db, &err) : 0;
	report("reload-forged-list-refused",
	       r == -EPERM && strstr(err.msg, "not the file the kernel helper protects"),
	       "reload check of a list mounted over the path: %d: %s", r, err.msg);
	wl_db_close(db);
	db = NULL;
	umount2(wp("approved.db"), MNT_DETACH);
	err.msg[0] = '\0';
	r = -1;
	if (!wl_db_open(wp("approved.db"), key, &db, &err))
		r = vmstub_list_checker ? vmstub_list_checker(db, &err) : -ENOSYS;
	report("reload-protected-list-ok", r == 0, "reload check of the list itself: %d: %s", r,
	       err.msg);
	wl_db_close(db);
	explicit_bzero(key, sizeof(key));
}

static int phase2(void)
{
	int link_before = map_id(LINK_PIN, true), link_after, r, e;
	static struct hmd_config c; /* helper.c keeps a pointer */
	enum hmd_mode m = HMD_MODE__MAX;
	char st[512];

	t_survived();
	if (vmstub_list_open(wp("approved.db"), wp("list.key")))
		return 1;
	t_anchor();
	config(&c, HMD_MODE_AUDIT, true);
	/* a state file saying audit under a pinned helper that enforces */
	vmstub_state_mode = HMD_MODE_AUDIT;
	r = helper_init(&c);
	if (r == 0)
		helper_start();
	helper_set_interpreters(NULL, 0);
	helper_status(st, sizeof(st));
	link_after = map_id(LINK_PIN, true);
	report("reattach",
	       r == 0 && !strcmp(st, "active (pinned)") && vmstub_msg_seen("re-attached"),
	       "helper_init %d, status \"%s\"", r, st);
	report("reattach-keeps-links", link_before > 0 && link_before == link_after,
	       "link id before %d, after %d", link_before, link_after);
	report("reattach-enforce-not-lowered",
	       !helper_mode(&m) && m == HMD_MODE_ENFORCE && vmstub_state_mode == HMD_MODE_ENFORCE &&
	           vmstub_msg_seen("does not lower it"),
	       "mode %d, daemon %d (state file said audit, pinned enforce)", m, vmstub_state_mode);
	report("reattach-list-approved", approved(wp("listed")) && !approved(wp("unlisted")),
	       "approved map out of step");
	expect_exec("reattach-unlisted-denied", wp("unlisted"), EPERM);
	t_forged_list();
	e = vm_in_child(try_anon_exec, NULL);
	report("strict-wx-anon-exec-denied", e == EPERM, "anonymous PROT_EXEC: %d", e);
	e = vm_in_child(try_anon_mprotect, NULL);
	report("strict-wx-anon-mprotect-denied", e == EPERM, "anonymous mprotect: %d", e);
	r = helper_unpin();
	report("unpin", r == 0 && access(PIN, F_OK) && !helper_active(), "helper_unpin %d", r);
	expect_exec("unpinned-unlisted-runs", wp("unlisted"), 0);
	report("unpinned-write-allowed", vm_in_child(try_open_write, wp("listed")) == 0,
	       "write refused after unpin");
	/* A fresh load holds its own link fds: unpin must close them too. */
	config(&c, HMD_MODE_ENFORCE, false);
	r = helper_init(&c);
	if (r == 0)
		helper_start();
	helper_set_interpreters(NULL, 0);
	expect_exec("fresh-load-denies-again", wp("unlisted"), EPERM);
	r = r ? r : helper_unpin();
	report("fresh-load-unpin", r == 0 && access(PIN, F_OK), "helper_init/unpin: %d", r);
	expect_exec("fresh-load-unpinned-unlisted-runs", wp("unlisted"), 0);
	return n_fail ? 1 : 0;
}

/* "try OP ARG": one attempt for tests/vm/daemon.sh (the real hmilockd),
 * exit status 0 when it worked, else its errno (EPERM: 1). */
static int try_op(const char *op, const char *arg)
{
	static const struct {
		const char *name;
		int (*fn)(const void *);
	} ops[] = {
	    {"mmap", try_mmap_exec},
	    {"mprotect", try_mprotect_exec},
	    {"memfd", try_memfd_exec},
	    {"write", try_open_write},
	};
	pid_t pid = atoi(arg);
	size_t i;

	if (!strcmp(op, "ptrace"))
		return try_ptrace(&pid);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i].name))
			return ops[i].fn(arg);
	fprintf(stderr, "hmk_vmtest: unknown attempt %s\n", op);
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "try"))
		return try_op(argv[2], argv[3]);
	if (argc != 3) {
		fprintf(stderr, "usage: hmk_vmtest phase1|daemon|phase2 DIR\n"
		                "       hmk_vmtest try mmap|mprotect|memfd|write PATH\n"
		                "       hmk_vmtest try ptrace PID\n");
		return 2;
	}
	W = argv[2];
	if (!strcmp(argv[1], "phase1"))
		return phase1();
	if (!strcmp(argv[1], "daemon"))
		return daemon_phase();
	if (!strcmp(argv[1], "phase2"))
		return phase2();
	fprintf(stderr, "hmk_vmtest: unknown phase %s\n", argv[1]);
	return 2;
}
