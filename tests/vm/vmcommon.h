/* vmcommon.h - small helpers shared by the static guest programs
 * (hmk_vmtest, hmk_bench): file copies, the test list, running children.
 * Everything is static inline so that each program is one object. */
#ifndef HMK_VMCOMMON_H
#define HMK_VMCOMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmstub.h"

/* The guest's dynamic loader (PT_INTERP of hmk_dlbench) and C library: the
 * target's, at the paths Debian gives them (tests/vm/run.sh copies them
 * there, from the build machine or the cross build's sysroot). */
#if defined(__x86_64__)
#define VM_LDSO "/lib64/ld-linux-x86-64.so.2"
#define VM_LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#elif defined(__aarch64__)
#define VM_LDSO "/lib/ld-linux-aarch64.so.1"
#define VM_LIBC "/lib/aarch64-linux-gnu/libc.so.6"
#else
#error "the VM tests know x86-64 and AArch64 guests only"
#endif

extern char **environ;

/* Copy src to dst (mode 0755); flip one byte at offset flip when >= 0. */
static inline int vm_copy(const char *src, const char *dst, long flip)
{
	char buf[65536];
	int in, out, err = 0;
	ssize_t n;
	long off = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0) {
		err = -errno;
		goto close_in;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (flip >= off && flip < off + n)
			buf[flip - off] ^= 0x55;
		off += n;
		if (write(out, buf, n) != n) {
			err = -EIO;
			break;
		}
	}
	if (n < 0)
		err = -errno;
	close(out);
close_in:
	close(in);
	return err;
}

static inline int vm_write(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* Write a list of the given files (each hashed now) to db, with a new key. */
static inline int vm_make_list(const char *db, const char *key, const char *const *files, size_t n)
{
	uint8_t k[WL_KEY_LEN];
	struct wl_set *s = wl_set_new();
	struct wl_db_lock *lk = NULL;
	struct wl_entry e;
	struct wl_err err;
	size_t i;
	int fd, r = s ? 0 : -ENOMEM;

	unlink(key);
	if (!r)
		r = wl_key_create(key, &err);
	if (!r)
		r = wl_key_load(key, k, &err);
	for (i = 0; !r && i < n; i++) {
		fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "vm_make_list: %s: %s\n", files[i], strerror(errno));
			r = -errno;
			break;
		}
		r = wl_entry_from_fd(fd, files[i], &e, NULL, &err);
		close(fd);
		if (!r)
			r = wl_set_put(s, &e);
	}
	if (!r) /* a new key: whatever list is there does not verify and is replaced */
		r = wl_db_lock(db, -1, &lk, &err);
	if (!r)
		r = wl_db_write(lk, s, 1, 0, k, &err);
	wl_db_unlock(lk);
	if (r)
		fprintf(stderr, "vm_make_list: %s\n", err.msg);
	wl_set_free(s);
	return r;
}

struct vm_run {
	int status; /* exit status, 128+signal when killed, -1 if exec failed */
	int exec_errno; /* errno of a failed execve */
	char out[4096]; /* stdout and stderr */
};

/* The standard input vm_exec gives the program when >= 0 (else ours). */
static int vm_exec_stdin = -1;

/* fork + execve(argv[0]) with extra environment (NULL-terminated list of
 * "K=V" put before ours); fd >= 0: fexecve(fd) instead. */
static inline void vm_exec(struct vm_run *r, int fd, char *const argv[], char *const env[])
{
	int out[2], ep[2], st, e = 0;
	ssize_t n, got = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(out, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		r->status = -1;
		r->exec_errno = errno;
		return;
	}
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (vm_exec_stdin >= 0)
			dup2(vm_exec_stdin, 0);
		for (; env && *env; env++)
			putenv(*env);
		if (fd >= 0)
			fexecve(fd, argv, environ);
		else
			execve(argv[0], argv, environ);
		e = errno;
		if (write(ep[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(out[1]);
	close(ep[1]);
	while (pid > 0 && (n = read(out[0], r->out + got, sizeof(r->out) - 1 - got)) > 0)
		got += n;
	r->out[got] = 0;
	if (read(ep[0], &e, sizeof(e)) == sizeof(e))
		r->exec_errno = e;
	close(out[0]);
	close(ep[0]);
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		r->status = -1;
		return;
	}
	r->status = r->exec_errno ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run fn(arg) in a forked child (a process that is not the daemon); its
 * return value (0 or an errno) is the result. */
static inline int vm_in_child(int (*fn)(const void *), const void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(fn(arg) & 0xff);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static inline double vm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
