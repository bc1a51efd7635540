/* hmk_bench.c - the kernel helper's overhead, measured inside the qemu guest
 * (tests/bench/40-helper-overhead.sh): an exec storm and a dlopen/dlclose
 * loop, each timed with the helper's programs attached (enforce, list
 * filled) and not attached at all, alternating A/B and B/A over the rounds;
 * prints the medians and their ratio as "BENCH:" lines. Never passes or fails
 * on times. The helper is loaded once through helper_init(); its links are
 * then replaced by links this program creates and closes, so switching costs
 * microseconds instead of a verification.
 * "hmk_bench spawn N PROG" and "hmk_bench dl N PROG LIB" time one workload
 * alone and print microseconds per exec or per dlopen: the timings of the
 * daemon benchmark (tests/bench/41-daemon-vm.sh), whose /init
 * (tests/vm/daemon-bench-init.sh) starts and stops hmilockd between them. */
#include <dirent.h>
#include <spawn.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vmcommon.h"
#include "hmilock_abi.h"

#define MAX_ROUNDS 31

static const char *W;

static const char *wpath(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", W, name);
	return buf[i];
}

static int setup(void)
{
	const char *files[] = {"/t/hmk_bench",
	                       "/t/hmk_dlbench",
	                       "/t/hmk_preload.so",
	                       "/bin/busybox",
	                       VM_LDSO,
	                       VM_LIBC,
	                       NULL};
	char bt[256];

	snprintf(bt, sizeof(bt), "%s", wpath("bt"));
	files[6] = bt;
	if (vm_copy("/t/hmk_true", bt, -1))
		return -1;
	if (vm_make_list(wpath("approved.db"), wpath("list.key"), files, 7))
		return -1;
	return vmstub_list_open(wpath("approved.db"), wpath("list.key"));
}

/* Microseconds per exec of a listed static binary. */
static double exec_storm(int n)
{
	char *argv[] = {(char *)wpath("bt"), NULL};
	double t0 = vm_now();
	int i, st;
	pid_t pid;

	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid == 0) {
			execve(argv[0], argv, environ);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			return -1;
	}
	return (vm_now() - t0) * 1e6 / n;
}

/* Microseconds per posix_spawn+wait of prog (no arguments), as bench 20's
 * spawnloop: the exec's own cost, not a fork's copy of this process. */
static double spawn_loop(const char *prog, int n)
{
	char *argv[] = {(char *)prog, NULL};
	double t0 = vm_now();
	int i, st;
	pid_t pid;

	for (i = 0; i < n; i++) {
		if (posix_spawn(&pid, prog, NULL, NULL, argv, environ) ||
		    waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			return -1;
	}
	return (vm_now() - t0) * 1e6 / n;
}

/* Microseconds per dlopen+dlclose of lib in prog (hmk_dlbench, one process). */
static double dl_loop(const char *prog, const char *lib, int n)
{
	char count[16];
	struct vm_run r;
	char *argv[] = {(char *)prog, (char *)lib, count, NULL};
	double t0;

	snprintf(count, sizeof(count), "%d", n);
	t0 = vm_now();
	vm_exec(&r, -1, argv, NULL);
	if (r.status) {
		fprintf(stderr, "hmk_bench: %s: status %d: %s\n", prog, r.status, r.out);
		return -1;
	}
	return (vm_now() - t0) * 1e6 / n;
}

static int prog_fd[32], link_fd[32], n_prog;

/* Load the helper, keep its programs (by fd), drop its pinned links. */
static int helper_load_progs(void)
{
	static struct hmd_config c; /* helper.c keeps a pointer */
	struct dirent *de;
	char path[300];
	DIR *d;

	memset(&c, 0, sizeof(c));
	c.mode = HMD_MODE_ENFORCE;
	c.helper = HMD_HELPER_REQUIRED;
	snprintf(c.db, sizeof(c.db), "%s", wpath("approved.db"));
	snprintf(c.key, sizeof(c.key), "%s", wpath("list.key"));
	if (helper_init(&c) || !helper_active() || helper_start())
		return -1;
	d = opendir(HMK_PIN_DIR);
	while (d && (de = readdir(d)) && n_prog < 32) {
		struct bpf_link_info li;
		uint32_t len = sizeof(li);
		int fd;

		if (strncmp(de->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", HMK_PIN_DIR, de->d_name);
		fd = bpf_obj_get(path);
		memset(&li, 0, sizeof(li));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &li, &len))
			return -1;
		prog_fd[n_prog] = bpf_prog_get_fd_by_id(li.prog_id);
		if (prog_fd[n_prog++] < 0)
			return -1;
		close(fd);
		unlink(path);
	}
	if (d)
		closedir(d);
	helper_fini(); /* closes the helper's own link fds: nothing attached now */
	return n_prog ? 0 : -1;
}

static int attach(bool on)
{
	int i;

	for (i = 0; i < n_prog; i++) {
		if (on) {
			link_fd[i] = bpf_link_create(prog_fd[i], 0, BPF_LSM_MAC, NULL);
			if (link_fd[i] < 0)
				return -1;
		} else {
			close(link_fd[i]);
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Medians of each condition, and the median of the per-round ratios (each
 * round measures both conditions back to back, which cancels slow drift of
 * the emulated machine's speed). */
static void print(const char *what, double *off, double *on, int n)
{
	double ratio[MAX_ROUNDS], a, b, q;
	int i;

	for (i = 0; i < n; i++)
		ratio[i] = on[i] / off[i];
	q = median(ratio, n);
	a = median(off, n);
	b = median(on, n);
	printf("BENCH: %s: without helper %.1f us, with helper %.1f us (medians of %d rounds); "
	       "ratio %.3f (median of paired rounds; target <= 1.05: %s)\n",
	       what, a, b, n, q, q <= 1.05 ? "met" : "NOT met");
}

/* One measurement of both workloads with the programs attached or not. */
static int sample(int on, int n_exec, int n_dl, double *ex, double *dl)
{
	if (on && attach(true))
		return -1;
	*ex = exec_storm(n_exec);
	*dl = dl_loop("/t/hmk_dlbench", "/t/hmk_preload.so", n_dl);
	if (on)
		attach(false);
	return *ex < 0 || *dl < 0 ? -1 : 0;
}

/* The switch works: an unlisted copy runs with the programs off only. */
static int check_switch(void)
{
	char *argv[] = {(char *)wpath("unlisted"), NULL};
	struct vm_run off, on;

	if (vm_copy("/t/hmk_true", argv[0], -1))
		return -1;
	vm_exec(&off, -1, argv, NULL);
	if (attach(true))
		return -1;
	vm_exec(&on, -1, argv, NULL);
	attach(false);
	printf("BENCH-CHECK: unlisted exec with programs off: status %d; on: errno %d (%s)\n",
	       off.status, on.exec_errno, on.exec_errno == EPERM ? "denied, as it must" : "WRONG");
	return off.status == 0 && on.exec_errno == EPERM ? 0 : -1;
}

/* One timing of the daemon benchmark: spawn N PROG, or dl N PROG LIB. */
static int timing(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0;
	double us = -1;

	if (n < 1)
		return 2;
	if (argc == 4 && !strcmp(argv[1], "spawn"))
		us = spawn_loop(argv[3], n);
	else if (argc == 5 && !strcmp(argv[1], "dl"))
		us = dl_loop(argv[3], argv[4], n);
	else
		return 2;
	if (us < 0) {
		fprintf(stderr, "hmk_bench: %s %s failed\n", argv[1], argv[3]);
		return 1;
	}
	printf("%.1f\n", us);
	return 0;
}

int main(int argc, char **argv)
{
	double ex[2][MAX_ROUNDS], dl[2][MAX_ROUNDS], x, y;
	int rounds, n_exec, n_dl, r, k, on;

	if (argc > 1 && (!strcmp(argv[1], "spawn") || !strcmp(argv[1], "dl"))) {
		r = timing(argc, argv);
		if (r == 2)
			fprintf(stderr, "usage: hmk_bench spawn N PROG | dl N PROG LIB\n");
		return r;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: hmk_bench DIR ROUNDS EXECS DLOPENS\n"
		                "       hmk_bench spawn N PROG | dl N PROG LIB\n");
		return 2;
	}
	W = argv[1];
	rounds = atoi(argv[2]);
	n_exec = atoi(argv[3]);
	n_dl = atoi(argv[4]);
	if (rounds < 1 || rounds > MAX_ROUNDS || n_exec < 1 || n_dl < 1)
		return 2;
	vmstub_verbose = false;
	if (setup()) {
		fprintf(stderr, "hmk_bench: writing the test list failed\n");
		return 1;
	}
	if (helper_load_progs()) {
		fprintf(stderr, "hmk_bench: loading the helper failed: %s\n", helper_state());
		return 1;
	}
	if (check_switch()) {
		fprintf(stderr, "hmk_bench: switching the programs on and off does not work\n");
		return 1;
	}
	/* warm-up, not counted: page cache, the emulator's translation cache */
	if (sample(0, n_exec, n_dl, &x, &y) || sample(1, n_exec, n_dl, &x, &y))
		return 1;
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < 2; k++) {
			on = (r + k) % 2; /* off,on then on,off */
			if (sample(on, n_exec, n_dl, &ex[on][r], &dl[on][r]))
				return 1;
		}
		printf("round %d: exec %.1f/%.1f us, dlopen %.1f/%.1f us (without/with)\n", r,
		       ex[0][r], ex[1][r], dl[0][r], dl[1][r]);
	}
	print("exec storm", ex[0], ex[1], rounds);
	print("dlopen+dlclose", dl[0], dl[1], rounds);
	return 0;
}
