/* helper.h - loader of the kernel helper (BPF LSM, kmod/) (owned by helper.c). */
#ifndef HMD_HELPER_H
#define HMD_HELPER_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "hmilock_ctl.h"
#include "wl.h"

/* Probe BPF LSM support, load the helper or re-attach to the one pinned under
 * /sys/fs/bpf/hmilock, protect hmilock's own files, approve the listed files
 * (list_get()) in the kernel, register this process as the daemon, set the
 * mode, subscribe to list reloads and mode changes (list.h, state.h).
 * Returns -errno only when cfg->helper is REQUIRED and the
 * helper is unavailable, else 0: check helper_active(). On re-attach the
 * pinned mode stays in force (read it with helper_mode()). cfg must stay
 * valid until helper_fini (helper_sync re-protects the files it names). */
int helper_init(const struct hmd_config *cfg);
/* Start the event reader thread (events go to log_event()); after
 * sandbox_enter(). 0; a failure is logged and shown in status. */
int helper_start(void);
void helper_fini(void); /* stops the reader; the pinned helper keeps enforcing */
const char *helper_state(void); /* "active (pinned)" or "unavailable — <reason>" */
int helper_unpin(void); /* uninstall: stop enforcing, remove every pin */
bool helper_active(void);
int helper_sync(void); /* re-approve the list in force (after list_reload) */
/* The setters below are no-ops returning 0 while the helper is not active. */
int helper_set_mode(enum hmd_mode m);
int helper_mode(enum hmd_mode *out); /* the kernel's mode; -ENODEV if inactive */
/* Approve fd's inode, under the identity the helper's hooks give it (asked
 * of the kernel on overlayfs and btrfs) and its FS_IOC_GETVERSION
 * generation. Call BEFORE answering allow: the kernel checks the same exec
 * right after. */
int helper_approve_fd(int fd);
int helper_forget_fd(int fd); /* the approval of fd's inode goes */
bool helper_approved_path(const char *path); /* the inode path names (followed) is approved */
/* The helper holds fd's inode approved (same generation) and fd is on
 * overlayfs (the layer file it shows), or, with unseen, on any filesystem:
 * the caller found that fd's path leads elsewhere in hmilockd's mount
 * namespace (a file reached through a mount hmilockd cannot see: from 6.8
 * on, overlayfs's own open of a layer file, named inside its private
 * clone of the layer's mount). */
bool helper_layer_approved(int fd, bool unseen);
int helper_protect_path(const char *path, bool daemon_binary);
/* Main thread, each second and after each request: protect the files of
 * HMK_PROTECTED_FILES anew when a path names another inode than at the last
 * fill (a state file or list written, a first admin password made). */
void helper_protect_tick(void);
/* Per protected file one line "what\tpath\tprotected|not protected|absent\n"
 * (path "-" where this box has none), for status. */
void helper_protected_describe(const struct hmd_config *cfg, char *out, size_t len);
/* HMK_IC_* of the interpreter at path, by its name (python3.11: python):
 * which option letters take code, whether scripts come only through -f. */
uint32_t helper_interp_dialect(const char *path);
int helper_set_interpreters(const char *const *patterns, size_t n); /* glob(3) patterns */
int helper_set_daemon(pid_t tgid);
/* The daemon's heartbeat (CLOCK_MONOTONIC ns of its reader loop's last
 * round) and its cgroups (cgroup2 ids, n of them), every second: the helper
 * lets PID 1 end a daemon whose heartbeat went stale, and guards those
 * cgroups' cgroup.kill and cgroup.freeze (stop.c). */
void helper_beat(uint64_t beat_ns, const uint64_t *cgroups, size_t n);
/* hmilockd agreed to stop: PID 1 may end it from now on. */
void helper_allow_stop(void);
/* Did the last registered hmilockd agree to stop (read from the pins, by
 * a standby once it exited)? */
bool helper_pinned_stop_ok(void);
int helper_set_updater_cgroup(const char *cgroup_dir, bool on);
/* Did the update session's cgroup write this inode, with nobody else
 * writing it since (the helper's notes; false without the helper)? */
bool helper_update_wrote_path(const char *path); /* not followed; a regular file */
/* For helper_mnt.c: the hmk_gated map's fd (-1 when the helper is not
 * active), [agent] strict_identity, and the HMK_ID_* flags the helper gives
 * fd's inode (0 or -errno; *flags 0 then). */
int helper_gated_fd(void);
bool helper_strict_identity(void);
int helper_ident_flags(int fd, uint32_t *flags);
/* What the helper refused, by operation, since this daemon attached
 * (zeroes and -ENODEV when it is not active). */
int helper_counters(struct hmc_helper_counters *out);
/* "active (pinned)" or "unavailable — <reason>; open gaps: ..." */
void helper_status(char *buf, size_t len);
const char *helper_gaps(void); /* what is open without the helper; NULL when active */
/* With the helper active: the W^X rules that are off or waived by
 * configuration ("" when none), for hmilock status. */
void helper_wx_gaps(char *buf, size_t len);
uint64_t helper_kdev(uint64_t st_dev); /* st_dev -> kernel dev_t (major << 20 | minor) */
#endif /* HMD_HELPER_H */
