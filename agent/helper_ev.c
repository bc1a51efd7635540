/* helper_ev.c - the "helper ring reader" thread: reads the kernel helper's
 * events from its ring buffer (hmk_events) and hands each to log_event() as
 * a struct hmd_event, so that they leave by the same audit and log path as
 * fanotify's. Owns the ring buffer reader and the thread; started and
 * stopped by helper.c only. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "decide.h"
#include "hmilock_ctl.h"
#include "helper_ev.h"
#include "log.h"
#include "../kmod/hmilock_abi.h"

static struct ring_buffer *ev_rb;
static pthread_t ev_thread;
static sem_t ev_up; /* posted once the reader runs */
static bool ev_running;
static atomic_bool ev_stop;

/* The control protocol names the helper's operations (hmc_op_name) in the
 * helper's own order. */
#define HELPER_EV_SAME(a, b) _Static_assert((int)(a) == (int)(b), #a " is " #b)
HELPER_EV_SAME(HMC_OP__MAX, HMK_OP__MAX);
HELPER_EV_SAME(HMC_OP_EXEC, HMK_OP_EXEC);
HELPER_EV_SAME(HMC_OP_MMAP, HMK_OP_MMAP);
HELPER_EV_SAME(HMC_OP_MPROTECT, HMK_OP_MPROTECT);
HELPER_EV_SAME(HMC_OP_ANON_EXEC, HMK_OP_ANON_EXEC);
HELPER_EV_SAME(HMC_OP_WRITE, HMK_OP_WRITE);
HELPER_EV_SAME(HMC_OP_TRUNCATE, HMK_OP_TRUNCATE);
HELPER_EV_SAME(HMC_OP_SETATTR, HMK_OP_SETATTR);
HELPER_EV_SAME(HMC_OP_UNLINK, HMK_OP_UNLINK);
HELPER_EV_SAME(HMC_OP_RENAME, HMK_OP_RENAME);
HELPER_EV_SAME(HMC_OP_KILL, HMK_OP_KILL);
HELPER_EV_SAME(HMC_OP_PTRACE, HMK_OP_PTRACE);
HELPER_EV_SAME(HMC_OP_SCRIPT, HMK_OP_SCRIPT);
HELPER_EV_SAME(HMC_OP_BPF, HMK_OP_BPF);
HELPER_EV_SAME(HMC_OP_UMOUNT, HMK_OP_UMOUNT);
HELPER_EV_SAME(HMC_OP_WX, HMK_OP_WX);
HELPER_EV_SAME(HMC_OP_PROCMEM, HMK_OP_PROCMEM);
HELPER_EV_SAME(HMC_OP_LINK, HMK_OP_LINK);
HELPER_EV_SAME(HMC_OP_MOUNT, HMK_OP_MOUNT);
HELPER_EV_SAME(HMC_OP_READ, HMK_OP_READ);

/* Mount point of the filesystem with kernel dev kdev, from mountinfo. */
static bool helper_ev_mountpoint(uint64_t kdev, char *out, size_t len)
{
	unsigned maj, mnr;
	char root[PATH_MAX], mnt[PATH_MAX], line[3 * PATH_MAX];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && !found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u %4095s %4095s", &maj, &mnr, root, mnt) != 4)
			continue;
		if (((uint64_t)maj << 20 | mnr) == kdev && !strcmp(root, "/")) {
			snprintf(out, len, "%s", strcmp(mnt, "/") ? mnt : "");
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static void helper_ev_path(const struct hmk_event *e, char *out, size_t len)
{
	size_t off = 0;
	int i;

	out[0] = 0;
	if (e->op == HMK_OP_KILL &&
	    (e->arg == HMK_ARG_CGROUP_KILL || e->arg == HMK_ARG_CGROUP_FREEZE)) {
		snprintf(out, len, "hmilockd (pid %u), %s", e->target,
		         e->arg == HMK_ARG_CGROUP_KILL ? "cgroup.kill" : "cgroup.freeze");
		return;
	}
	if (e->op == HMK_OP_KILL && e->arg >= HMK_ARG_RLIMIT) {
		snprintf(out, len, "hmilockd (pid %u), rlimit %u", e->target,
		         e->arg - HMK_ARG_RLIMIT);
		return;
	}
	if (e->op == HMK_OP_KILL) {
		snprintf(out, len, "hmilockd (pid %u), signal %u", e->target, e->arg);
		return;
	}
	if (e->op == HMK_OP_PTRACE) {
		snprintf(out, len, "hmilockd (pid %u)", e->target);
		return;
	}
	if (e->op == HMK_OP_BPF) {
		snprintf(out, len, "bpf(cmd %u)", e->arg);
		return;
	}
	if (e->flags & HMK_EF_FSREL && !helper_ev_mountpoint(e->dev, out, len))
		snprintf(out, len, "[dev %u:%u]", (unsigned)(e->dev >> 20),
		         (unsigned)(e->dev & 0xfffff));
	off = strlen(out);
	if (e->flags & HMK_EF_TRUNC)
		off += snprintf(out + off, len - off, "/...");
	for (i = (int)e->depth - 1; i >= 0 && i < HMK_PATH_DEPTH && off < len; i--)
		if (e->comp[i][0]) /* "" marks a mount crossing */
			off += snprintf(out + off, len - off, "/%.*s", HMK_NAME_LEN, e->comp[i]);
	if (!out[0])
		snprintf(out, len,
		         e->op == HMK_OP_ANON_EXEC || e->op == HMK_OP_WX ? "[anonymous memory]"
		                                                         : "/");
}

static int helper_ev_on_event(void *ctx, void *data, size_t len)
{
	const struct hmk_event *e = data;
	struct timespec rt, mt;
	struct hmd_event ev;

	(void)ctx;
	if (len < sizeof(*e) || e->op >= HMK_OP__MAX)
		return 0;
	memset(&ev, 0, sizeof(ev));
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	ev.time_ns = e->ktime_ns + (uint64_t)(rt.tv_sec - mt.tv_sec) * 1000000000ull +
	             (uint64_t)(rt.tv_nsec - mt.tv_nsec);
	ev.pid = (int32_t)e->tgid;
	ev.uid = e->uid;
	ev.has_uid = 1;
	ev.verdict = e->verdict == HMK_V_DENY         ? HMD_V_DENY
	             : e->verdict == HMK_V_WOULD_DENY ? HMD_V_WOULD_DENY
	                                              : HMD_V_ALLOW;
	ev.reason = HMD_R_HELPER;
	snprintf(ev.op, sizeof(ev.op), "%s",
	         e->verdict == HMK_V_CHANGED ? "changed" : hmc_op_name(e->op));
	helper_ev_path(e, ev.path, sizeof(ev.path));
	log_event(&ev);
	return 0;
}

static void *helper_ev_reader(void *arg)
{
	sigset_t all;
	int r;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	sem_post(&ev_up);
	while (!atomic_load(&ev_stop)) {
		r = ring_buffer__poll(ev_rb, 200);
		if (r < 0 && r != -EINTR) {
			log_msg(LOG_ERR, "kernel helper: reading events failed: %s", strerror(-r));
			break;
		}
	}
	return NULL;
}

int helper_ev_start(int ring_fd, char *why, size_t len)
{
	int err;

	ev_rb = ring_buffer__new(ring_fd, helper_ev_on_event, NULL, NULL);
	if (!ev_rb) {
		snprintf(why, len, "cannot open the event ring buffer: %s", strerror(errno));
		return -errno;
	}
	atomic_store(&ev_stop, false);
	sem_init(&ev_up, 0, 0);
	err = pthread_create(&ev_thread, NULL, helper_ev_reader, NULL);
	if (err) {
		snprintf(why, len, "cannot start the event reader: %s", strerror(err));
		return -err;
	}
	while (sem_wait(&ev_up) < 0 && errno == EINTR)
		;
	ev_running = true;
	return 0;
}

void helper_ev_stop(void)
{
	if (ev_running) {
		atomic_store(&ev_stop, true);
		pthread_join(ev_thread, NULL);
		ev_running = false;
	}
	ring_buffer__free(ev_rb);
	ev_rb = NULL;
}
