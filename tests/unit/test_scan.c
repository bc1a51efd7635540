/* test_scan.c - unit tests for whitelist/scan.c and entry.c on a fixture
 * tree built here: special files, symlinks and loops, odd names, paths at
 * PATH_MAX, a tmpfs and a proc mount inside the tree (in a private mount
 * namespace, unmounted at the end), unreadable and changing files.
 * Owns its temp trees and the mounts in them. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "wl.h"

static char T[FX_DIR_LEN];
static bool mounted_tmpfs, mounted_proc;

#define DEEP_LEVELS 20
#define DEEP_NAME 200
#define N_APPROVED 12 /* what the fixture tree holds that qualifies */

/* ---- fixture ------------------------------------------------------------ */

static void put(const char *rel, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", T, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void put_text(const char *rel, const char *text, mode_t mode)
{
	put(rel, text, strlen(text), mode);
}

static void copy_file(const char *from, const char *rel, mode_t mode)
{
	char cmd[2 * PATH_MAX + 32], path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", T, rel);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void dir(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", T, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void link_to(const char *target, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", T, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void tpath(char *out, const char *rel)
{
	snprintf(out, PATH_MAX, "%s/%s", T, rel);
}

/* deep/ddd.../ddd...: "ok..." has a path of PATH_MAX - 1 bytes (listed),
 * "long..." one of PATH_MAX (too long), and dir "sub..." too. */
static void make_deep(void)
{
	char name[DEEP_NAME + 1], leaf[128], p[PATH_MAX];
	size_t len;
	int fd, d, i;

	tpath(p, "deep");
	d = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d >= 0);
	memset(name, 'd', DEEP_NAME);
	name[DEEP_NAME] = '\0';
	for (i = 0; i < DEEP_LEVELS; i++) {
		assert_int_equal(mkdirat(d, name, 0755), 0);
		fd = openat(d, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(fd >= 0);
		close(d);
		d = fd;
	}
	len = strlen(T) + strlen("/deep") + DEEP_LEVELS * (DEEP_NAME + 1) + 1;
	assert_true(len < PATH_MAX - 2);
	memset(leaf, 'o', sizeof(leaf));
	leaf[PATH_MAX - 1 - len] = '\0';
	fd = openat(d, leaf, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	memset(leaf, 'l', sizeof(leaf));
	leaf[PATH_MAX - len] = '\0';
	fd = openat(d, leaf, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	close(fd);
	memset(leaf, 's', sizeof(leaf));
	leaf[PATH_MAX - len + 10] = '\0';
	assert_int_equal(mkdirat(d, leaf, 0755), 0);
	fd = openat(d, leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(openat(fd, "inside", O_WRONLY | O_CREAT | O_CLOEXEC, 0755));
	close(fd);
	close(d);
}

static void make_specials(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char p[PATH_MAX];
	int s;

	tpath(p, "special/fifo");
	assert_int_equal(mkfifo(p, 0755), 0);
	tpath(p, "special/null");
	assert_int_equal(mknod(p, S_IFCHR | 0755, makedev(1, 3)), 0);
	tpath(p, "special/blk");
	assert_int_equal(mknod(p, S_IFBLK | 0755, makedev(7, 200)), 0);
	tpath(p, "special/sock");
	assert_true(strlen(p) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, p, strlen(p) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	assert_int_equal(chmod(p, 0755), 0);
}

static void make_mounts(void)
{
	char p[PATH_MAX];

	tpath(p, "mnt");
	if (mount("hmilock-test", p, "tmpfs", 0, "size=1m") == 0) {
		mounted_tmpfs = true;
		put_text("mnt/tool", "#!/bin/sh\necho tool\n", 0755);
	}
	tpath(p, "proc");
	mounted_proc = mount("proc", p, "proc", 0, NULL) == 0;
}

static int setup(void **state)
{
	static const char *const dirs[] = {"bin",   "lib",  "data", "special", "links",
	                                   "names", "deep", "mnt",  "proc"};
	char libm[PATH_MAX] = "";
	size_t i;
	FILE *f;

	(void)state;
	alarm(120); /* a FIFO opened by mistake would hang here, not forever */
	/* Our mounts live in a private namespace: gone if we die. */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (fx_mkdir(T, "hmilock-test-scan") < 0 || chmod(T, 0755) != 0)
		return -1;
	f = popen("cc -print-file-name=libm.so.6", "r");
	if (!f || !fgets(libm, sizeof(libm), f))
		return -1;
	pclose(f);
	libm[strcspn(libm, "\n")] = '\0';
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		dir(dirs[i]);
	copy_file("/bin/true", "bin/prog", 0755);
	put_text("bin/script.sh", "#!/bin/sh\necho hi\n", 0644);
	put_text("bin/xonly.txt", "hello\n", 0755);
	put_text("bin/empty-x", "", 0700);
	copy_file(libm, "lib/libm.so.6", 0644);
	put_text("data/readme.txt", "read me\n", 0644);
	put_text("data/empty", "", 0644);
	put("data/fakeelf.dat", "\177ELF\2\1\1garbage", 14, 0600);
	make_specials();
	link_to("../bin/prog", "links/tobin");
	link_to("/nonexistent/x", "links/dangling");
	link_to("loop2", "links/loop1");
	link_to("loop1", "links/loop2");
	link_to("..", "links/up");
	put_text("names/with space", "#!/bin/sh\n", 0755);
	put_text("names/new\nline", "#!/bin/sh\n", 0755);
	put_text("names/bad\xff\xfe", "#!/bin/sh\n", 0755);
	put_text("names/tab\there", "#!/bin/sh\n", 0755);
	make_deep();
	make_mounts();
	return 0;
}

static int teardown(void **state)
{
	char p[PATH_MAX];

	(void)state;
	tpath(p, "mnt");
	if (mounted_tmpfs && umount2(p, 0) != 0)
		return -1;
	tpath(p, "proc");
	if (mounted_proc && umount2(p, 0) != 0)
		return -1;
	alarm(0);
	return fx_rmtree(T);
}

/* ---- helpers ------------------------------------------------------------ */

static struct wl_set *scan1(const char *root, const struct wl_scan_opts *o,
                            struct wl_scan_stats *st)
{
	const char *roots[] = {root};
	struct wl_set *s = wl_set_new();
	struct wl_err err;

	assert_non_null(s);
	if (wl_scan(roots, 1, o, s, st, &err) != 0)
		fail_msg("scan of %s failed: %s", root, err.msg);
	return s;
}

static const struct wl_entry *find(struct wl_set *s, const char *rel)
{
	char p[PATH_MAX];

	tpath(p, rel);
	return wl_set_find(s, p);
}

static void assert_skips(const struct wl_scan_stats *st, const uint64_t want[WL_SKIP__MAX])
{
	int i;

	for (i = 0; i < WL_SKIP__MAX; i++)
		if (st->skipped[i] != want[i])
			fail_msg("skipped %s: %lu, want %lu", wl_skip_name((enum wl_skip)i),
			         (unsigned long)st->skipped[i], (unsigned long)want[i]);
}

/* The entry matches the file on disk: identity, mode and hash. */
static void assert_entry_is_file(const struct wl_entry *e)
{
	uint8_t h[WL_SHA256_LEN];
	struct stat st;
	int fd;

	assert_non_null(e);
	fd = open(e->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(wl_hash_fd(fd, h, NULL, NULL), 0);
	close(fd);
	assert_memory_equal(e->sha256, h, WL_SHA256_LEN);
	assert_int_equal(e->dev, st.st_dev);
	assert_int_equal(e->ino, st.st_ino);
	assert_int_equal(e->size, (uint64_t)st.st_size);
	assert_int_equal(e->mode, st.st_mode & 07777);
	assert_int_equal(e->uid, st.st_uid);
	assert_int_equal(e->mtime_sec, st.st_mtim.tv_sec);
	assert_int_equal(e->mtime_nsec, st.st_mtim.tv_nsec);
	assert_int_equal(e->ctime_sec, st.st_ctim.tv_sec);
	assert_int_equal(e->ctime_nsec, st.st_ctim.tv_nsec);
}

/* ---- the tree ------------------------------------------------------------ */

static void test_tree(void **state)
{
	uint64_t want[WL_SKIP__MAX] = {0};
	struct wl_scan_stats st;
	const struct wl_entry *e;
	struct wl_set *s;
	char p[PATH_MAX];

	(void)state;
	if (!mounted_tmpfs || !mounted_proc)
		skip();
	s = scan1(T, NULL, &st);
	want[WL_SKIP_NOT_EXEC] = 2;
	want[WL_SKIP_SPECIAL] = 4;
	want[WL_SKIP_SYMLINK] = 5;
	want[WL_SKIP_PSEUDOFS] = 1;
	want[WL_SKIP_TOO_LONG] = 2;
	assert_skips(&st, want);
	assert_int_equal(st.approved, N_APPROVED);
	assert_int_equal(wl_set_count(s), N_APPROVED);
	assert_int_equal(st.files_seen, N_APPROVED + 2 + 4 + 5 + 1);
	assert_true(st.seconds > 0);

	e = find(s, "bin/prog");
	assert_entry_is_file(e);
	assert_true(e->type == WL_T_PIE || e->type == WL_T_EXEC);
	assert_non_null(e->interp);
	e = find(s, "bin/script.sh");
	assert_entry_is_file(e);
	assert_int_equal(e->type, WL_T_SCRIPT);
	assert_string_equal(e->interp, "/bin/sh");
	assert_int_equal(e->mode, 0644);
	assert_int_equal(find(s, "bin/xonly.txt")->type, WL_T_OTHER);
	assert_null(find(s, "bin/xonly.txt")->interp);
	assert_int_equal(find(s, "bin/empty-x")->size, 0);
	assert_int_equal(find(s, "lib/libm.so.6")->type, WL_T_SHLIB);
	assert_entry_is_file(find(s, "lib/libm.so.6"));
	assert_int_equal(find(s, "data/fakeelf.dat")->type, WL_T_ELF);
	assert_int_equal(find(s, "mnt/tool")->type, WL_T_SCRIPT);
	assert_entry_is_file(find(s, "names/new\nline"));
	assert_entry_is_file(find(s, "names/bad\xff\xfe"));
	assert_entry_is_file(find(s, "names/with space"));
	assert_entry_is_file(find(s, "names/tab\there"));
	assert_null(find(s, "data/readme.txt"));
	assert_null(find(s, "links/tobin"));
	assert_null(find(s, "special/fifo"));
	tpath(p, "deep");
	assert_int_equal(wl_set_remove_tree(s, p), 1); /* the PATH_MAX - 1 file */
	wl_set_free(s);
}

static void test_one_fs(void **state)
{
	struct wl_scan_opts o = {.one_fs = true};
	uint64_t want[WL_SKIP__MAX] = {0};
	struct wl_scan_stats st;
	struct wl_set *s;

	(void)state;
	if (!mounted_tmpfs || !mounted_proc)
		skip();
	s = scan1(T, &o, &st);
	want[WL_SKIP_NOT_EXEC] = 2;
	want[WL_SKIP_SPECIAL] = 4;
	want[WL_SKIP_SYMLINK] = 5;
	want[WL_SKIP_PSEUDOFS] = 1; /* pseudo is named before other-fs */
	want[WL_SKIP_OTHER_FS] = 1;
	want[WL_SKIP_TOO_LONG] = 2;
	assert_skips(&st, want);
	assert_int_equal(st.approved, N_APPROVED - 1);
	assert_null(find(s, "mnt/tool"));
	wl_set_free(s);
}

/* A root on a mount: one_fs stops below the root, not at it. */
static void test_root_on_mount(void **state)
{
	struct wl_scan_opts o = {.one_fs = true};
	struct wl_scan_stats st;
	char p[PATH_MAX];
	struct wl_set *s;

	(void)state;
	if (!mounted_tmpfs)
		skip();
	tpath(p, "mnt");
	s = scan1(p, &o, &st);
	assert_int_equal(st.approved, 1);
	assert_non_null(find(s, "mnt/tool"));
	wl_set_free(s);
}

static void test_all_files(void **state)
{
	struct wl_scan_opts o = {.all_files = true, .one_fs = true};
	struct wl_scan_stats st;
	struct wl_set *s;

	(void)state;
	s = scan1(T, &o, &st);
	assert_int_equal(st.skipped[WL_SKIP_NOT_EXEC], 0);
	assert_int_equal(st.approved, N_APPROVED - 1 + 2);
	assert_int_equal(find(s, "data/readme.txt")->type, WL_T_OTHER);
	assert_int_equal(find(s, "data/empty")->size, 0);
	wl_set_free(s);
}

static void test_problems(void **state)
{
	struct wl_scan_stats st;
	struct wl_set *s;
	size_t i, too_long = 0;

	(void)state;
	s = scan1(T, NULL, &st);
	for (i = 0; i < st.n_problems; i++) {
		assert_true(strlen(st.problems[i]) < sizeof(st.problems[i]));
		if (strstr(st.problems[i], "PATH_MAX")) {
			assert_non_null(strstr(st.problems[i], "..."));
			too_long++;
		}
	}
	assert_int_equal(too_long, 2);
	wl_set_free(s);
}

/* ---- roots -------------------------------------------------------------- */

static void test_special_roots(void **state)
{
	const char *roots[] = {NULL, NULL, NULL, "/dev/null"};
	char fifo[PATH_MAX], sock[PATH_MAX], link[PATH_MAX];
	uint64_t want[WL_SKIP__MAX] = {0};
	struct wl_scan_stats st;
	struct wl_set *s = wl_set_new();

	(void)state;
	tpath(fifo, "special/fifo");
	tpath(sock, "special/sock");
	tpath(link, "links/loop1");
	roots[0] = fifo, roots[1] = sock, roots[2] = link;
	assert_int_equal(wl_scan(roots, 4, NULL, s, &st, NULL), 0);
	want[WL_SKIP_SPECIAL] = 3;
	want[WL_SKIP_SYMLINK] = 1;
	assert_skips(&st, want);
	assert_int_equal(st.files_seen, 4);
	assert_int_equal(wl_set_count(s), 0);
	wl_set_free(s);
}

static void test_pseudo_roots(void **state)
{
	static const char *const roots[] = {"/proc",       "/sys",      "/dev",
	                                    "/sys/kernel", "/proc/sys", "/sys/fs/cgroup/unified",
	                                    "/dev/pts"};
	uint64_t want[WL_SKIP__MAX] = {0};
	struct wl_scan_stats st;
	struct stat sb;
	struct wl_set *s;
	size_t i;

	(void)state;
	want[WL_SKIP_PSEUDOFS] = 1;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		if (lstat(roots[i], &sb) != 0 || !S_ISDIR(sb.st_mode))
			continue; /* not on this machine */
		s = scan1(roots[i], NULL, &st);
		if (st.skipped[WL_SKIP_PSEUDOFS] != 1)
			fail_msg("%s was entered", roots[i]);
		assert_skips(&st, want);
		assert_int_equal(wl_set_count(s), 0);
		wl_set_free(s);
	}
}

/* Symlinks above a root are resolved, the root's own name never is. */
static void test_root_paths(void **state)
{
	struct wl_scan_stats st;
	char p[PATH_MAX], cwd[PATH_MAX];
	struct wl_set *s;

	(void)state;
	link_to("bin", "binlink");
	tpath(p, "binlink/prog");
	s = scan1(p, NULL, &st);
	assert_int_equal(st.approved, 1);
	assert_non_null(find(s, "bin/prog"));
	wl_set_free(s);

	tpath(p, "binlink");
	s = scan1(p, NULL, &st);
	assert_int_equal(st.approved, 0);
	assert_int_equal(st.skipped[WL_SKIP_SYMLINK], 1);
	wl_set_free(s);

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(T), 0);
	s = scan1("./bin//", NULL, &st);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(st.approved, 4);
	assert_non_null(find(s, "bin/script.sh"));
	wl_set_free(s);
	tpath(p, "binlink");
	unlink(p);
}

static void test_bad_roots(void **state)
{
	const char *roots[] = {NULL};
	struct wl_set *s = wl_set_new();
	struct wl_scan_stats st;
	struct wl_err err;
	char p[PATH_MAX];

	(void)state;
	tpath(p, "no/such/file");
	roots[0] = p;
	memset(&err, 0, sizeof(err));
	assert_int_equal(wl_scan(roots, 1, NULL, s, &st, &err), -ENOENT);
	assert_int_equal(err.kind, WL_E_IO);
	assert_non_null(strstr(err.msg, p));
	roots[0] = "";
	assert_int_equal(wl_scan(roots, 1, NULL, s, &st, &err), -ENOENT);
	{ /* a good root before a bad one: refused before any work */
		const char *two[] = {T, p};

		assert_int_equal(wl_scan(two, 2, NULL, s, &st, &err), -ENOENT);
		assert_non_null(strstr(err.msg, p));
		assert_int_equal(st.approved, 0);
	}
	assert_int_equal(wl_scan(NULL, 1, NULL, s, &st, &err), -EINVAL);
	assert_int_equal(err.kind, WL_E_USAGE);
	assert_int_equal(wl_set_count(s), 0);
	wl_set_free(s);
}

/* ---- workers, progress, merging ----------------------------------------- */

static void assert_same_sets(struct wl_set *a, struct wl_set *b)
{
	size_t i;

	assert_int_equal(wl_set_count(a), wl_set_count(b));
	for (i = 0; i < wl_set_count(a); i++) {
		assert_string_equal(wl_set_at(a, i)->path, wl_set_at(b, i)->path);
		assert_memory_equal(wl_set_at(a, i)->sha256, wl_set_at(b, i)->sha256,
		                    WL_SHA256_LEN);
		assert_int_equal(wl_set_at(a, i)->type, wl_set_at(b, i)->type);
	}
}

static void test_workers(void **state)
{
	struct wl_scan_opts o1 = {.workers = 1}, o5 = {.workers = 5};
	struct wl_scan_stats st1, st5;
	struct wl_set *a, *b;

	(void)state;
	a = scan1(T, &o1, &st1);
	b = scan1(T, &o5, &st5);
	assert_same_sets(a, b);
	assert_memory_equal(st1.skipped, st5.skipped, sizeof(st1.skipped));
	assert_int_equal(st1.bytes_hashed, st5.bytes_hashed);
	wl_set_free(a);
	wl_set_free(b);
}

struct progress_log {
	int calls;
	struct wl_scan_progress last;
	bool monotonic;
};

static void on_progress(const struct wl_scan_progress *p, void *arg)
{
	struct progress_log *l = arg;

	if (l->calls && (p->files_done < l->last.files_done || p->elapsed < l->last.elapsed))
		l->monotonic = false;
	l->calls++;
	l->last = *p;
}

static void test_progress(void **state)
{
	struct progress_log log = {.monotonic = true};
	struct wl_scan_opts o = {.progress = on_progress, .progress_arg = &log};
	struct wl_scan_stats st;
	struct wl_set *s;

	(void)state;
	s = scan1(T, &o, &st);
	assert_true(log.calls >= 1);
	assert_true(log.monotonic);
	assert_int_equal(log.last.files_done, log.last.files_total);
	assert_int_equal(log.last.bytes_done, log.last.bytes_total);
	assert_true(log.last.files_total >= st.approved);
	assert_true(log.last.bytes_total >= st.bytes_hashed);
	wl_set_free(s);
}

static void test_merge(void **state)
{
	const char *roots[2] = {T, NULL};
	struct wl_entry e = {0};
	struct wl_scan_stats st;
	struct wl_set *s = wl_set_new();
	char p[PATH_MAX], bin[PATH_MAX];

	(void)state;
	tpath(p, "bin/prog");
	e.path = strdup(p);
	memset(e.sha256, 0xee, sizeof(e.sha256));
	assert_int_equal(wl_set_put(s, &e), 0);
	tpath(bin, "bin");
	roots[1] = bin; /* inside the first root: walked once */
	assert_int_equal(wl_scan(roots, 2, NULL, s, &st, NULL), 0);
	assert_int_equal(st.skipped[WL_SKIP_SYMLINK], 5);
	assert_entry_is_file(find(s, "bin/prog")); /* replaced */
	assert_int_equal(wl_set_count(s), st.approved);
	wl_set_free(s);
}

/* ---- unreadable and unstable -------------------------------------------- */

/* As nobody, in a child: files and a directory root cannot read. */
static void test_unreadable(void **state)
{
	uint64_t want[WL_SKIP__MAX] = {0}, got[WL_SKIP__MAX + 2];
	int pfd[2], status, i;
	char p[PATH_MAX];
	pid_t pid;

	(void)state;
	dir("perm");
	dir("perm/closed");
	put_text("perm/secret.sh", "#!/bin/sh\n", 0700);
	put("perm/secret.so", "\177ELF", 4, 0600);
	put_text("perm/closed/x", "#!/bin/sh\n", 0755);
	put_text("perm/open.sh", "#!/bin/sh\n", 0755);
	tpath(p, "perm/closed");
	assert_int_equal(chmod(p, 0700), 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct wl_scan_stats st;
		struct wl_set *s = wl_set_new();
		const char *roots[] = {p};

		tpath(p, "perm");
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534) || wl_scan(roots, 1, NULL, s, &st, NULL))
			_exit(1);
		memcpy(got, st.skipped, sizeof(st.skipped));
		got[WL_SKIP__MAX] = st.approved;
		got[WL_SKIP__MAX + 1] = st.n_problems;
		_exit(write(pfd[1], got, sizeof(got)) == sizeof(got) ? 0 : 1);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], got, sizeof(got)), sizeof(got));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	want[WL_SKIP_UNREADABLE] = 3; /* secret.sh, secret.so, closed/ */
	for (i = 0; i < WL_SKIP__MAX; i++)
		if (got[i] != want[i])
			fail_msg("skipped %s: %lu, want %lu", wl_skip_name((enum wl_skip)i),
			         (unsigned long)got[i], (unsigned long)want[i]);
	assert_int_equal(got[WL_SKIP__MAX], 1); /* open.sh */
	assert_int_equal(got[WL_SKIP__MAX + 1], 3);
}

/* A fanotify listener moves the file's mtime on every read: the scan
 * counts it unstable and names it. */
struct fan_ctl {
	int fan;
	atomic_bool stop;
	int changes;
};

static void *fan_thread(void *arg)
{
	struct fan_ctl *c = arg;
	char buf[4096] __attribute__((aligned(8)));
	struct fanotify_event_metadata *m;
	struct pollfd pfd = {.fd = c->fan, .events = POLLIN};
	struct fanotify_response r;
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}};
	ssize_t n;

	while (!atomic_load(&c->stop)) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(c->fan, buf, sizeof(buf));
		for (m = (void *)buf; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->fd < 0)
				continue;
			ts[1].tv_sec = 1000000000 + c->changes++;
			futimens(m->fd, ts);
			r = (struct fanotify_response){.fd = m->fd, .response = FAN_ALLOW};
			if (write(c->fan, &r, sizeof(r)) != sizeof(r))
				c->changes = -1000;
			close(m->fd);
		}
	}
	return NULL;
}

static void test_unstable(void **state)
{
	struct fan_ctl c = {0};
	struct wl_scan_stats st;
	char p[PATH_MAX];
	struct wl_set *s;
	pthread_t t;

	(void)state;
	dir("moving");
	put_text("moving/busy.sh", "#!/bin/sh\necho busy\n", 0755);
	put_text("moving/calm.sh", "#!/bin/sh\necho calm\n", 0755);
	tpath(p, "moving/busy.sh");
	c.fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
	if (c.fan < 0 || fanotify_mark(c.fan, FAN_MARK_ADD, FAN_ACCESS_PERM, AT_FDCWD, p) < 0)
		skip();
	assert_int_equal(pthread_create(&t, NULL, fan_thread, &c), 0);
	tpath(p, "moving");
	s = scan1(p, NULL, &st);
	atomic_store(&c.stop, true);
	pthread_join(t, NULL);
	close(c.fan);
	assert_int_equal(st.skipped[WL_SKIP_UNSTABLE], 1);
	assert_int_equal(st.approved, 1);
	assert_int_equal(st.n_problems, 1);
	assert_non_null(strstr(st.problems[0], "busy.sh"));
	assert_non_null(find(s, "moving/calm.sh"));
	wl_set_free(s);
}

/* Scanning leaves access times alone (O_NOATIME): nothing is written to
 * the disk for files merely looked at. */
static void test_atime_kept(void **state)
{
	static const char *const files[] = {"quiet/tool.sh", "quiet/data.txt", "quiet/lib.so"};
	struct timespec ts[2] = {{.tv_sec = 1000}, {.tv_nsec = UTIME_OMIT}};
	struct wl_scan_stats st;
	struct stat sb;
	char p[PATH_MAX], c;
	struct wl_set *s;
	size_t i;
	int fd;

	(void)state;
	dir("quiet");
	put_text("quiet/tool.sh", "#!/bin/sh\n", 0755);
	put_text("quiet/data.txt", "plain data\n", 0644);
	put("quiet/lib.so", "\177ELF\2\1\1", 7, 0644);
	put_text("quiet/control", "control\n", 0644);
	for (i = 0; i < 4; i++) {
		tpath(p, i < 3 ? files[i] : "quiet/control");
		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	}
	fd = open(p, O_RDONLY | O_CLOEXEC); /* the control: a plain read moves atime */
	assert_int_equal(read(fd, &c, 1), 1);
	close(fd);
	assert_int_equal(stat(p, &sb), 0);
	if (sb.st_atim.tv_sec == 1000)
		skip(); /* mounted noatime: nothing to show */
	tpath(p, "quiet");
	s = scan1(p, NULL, &st);
	assert_int_equal(st.approved, 2);
	for (i = 0; i < 3; i++) {
		tpath(p, files[i]);
		assert_int_equal(stat(p, &sb), 0);
		if (sb.st_atim.tv_sec != 1000)
			fail_msg("%s: atime moved", files[i]);
	}
	wl_set_free(s);
}

/* ---- entry.c ------------------------------------------------------------ */

static void test_entry_from_fd(void **state)
{
	struct wl_entry e;
	struct wl_class c;
	struct wl_err err;
	char p[PATH_MAX];
	int fd;

	(void)state;
	tpath(p, "bin/prog");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
	assert_int_equal(wl_entry_from_fd(fd, p, &e, &c, &err), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 5);
	close(fd);
	assert_string_equal(e.path, p);
	assert_entry_is_file(&e);
	assert_int_equal(e.type, c.type);
	assert_string_equal(e.interp, c.interp);
	assert_true(c.n_needed >= 1);
	wl_class_free(&c);
	wl_entry_free(&e);
	assert_null(e.path);
	wl_entry_free(NULL);

	tpath(p, "data/readme.txt");
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_int_equal(wl_entry_from_fd(fd, p, &e, NULL, &err), 0);
	assert_null(e.interp);
	assert_int_equal(e.type, WL_T_OTHER);
	close(fd);
	wl_entry_free(&e);

	fd = open(T, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(&err, 0, sizeof(err));
	assert_int_equal(wl_entry_from_fd(fd, T, &e, NULL, &err), -EINVAL);
	assert_int_equal(err.kind, WL_E_NOTREG);
	assert_non_null(strstr(err.msg, T));
	assert_null(e.path);
	close(fd);
	tpath(p, "special/fifo");
	fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(wl_entry_from_fd(fd, p, &e, NULL, &err), -EINVAL);
	assert_int_equal(err.kind, WL_E_NOTREG);
	close(fd);
	assert_int_equal(wl_entry_from_fd(-1, "x", &e, NULL, &err), -EBADF);
	assert_int_equal(wl_entry_from_fd(0, NULL, &e, NULL, &err), -EINVAL);
	assert_int_equal(err.kind, WL_E_USAGE);
}

static void test_skip_names(void **state)
{
	static const char *const names[] = {
	    "not-executable", "special",  "symlink",  "pseudo-fs", "other-fs",
	    "unreadable",     "unstable", "too-long", "known-bad", "prescan-failed"};
	int i;

	(void)state;
	for (i = 0; i < WL_SKIP__MAX; i++)
		assert_string_equal(wl_skip_name((enum wl_skip)i), names[i]);
	assert_string_equal(wl_skip_name(WL_SKIP__MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree),          cmocka_unit_test(test_one_fs),
	    cmocka_unit_test(test_root_on_mount), cmocka_unit_test(test_all_files),
	    cmocka_unit_test(test_problems),      cmocka_unit_test(test_special_roots),
	    cmocka_unit_test(test_pseudo_roots),  cmocka_unit_test(test_root_paths),
	    cmocka_unit_test(test_bad_roots),     cmocka_unit_test(test_workers),
	    cmocka_unit_test(test_progress),      cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_unreadable),    cmocka_unit_test(test_unstable),
	    cmocka_unit_test(test_atime_kept),    cmocka_unit_test(test_entry_from_fd),
	    cmocka_unit_test(test_skip_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
