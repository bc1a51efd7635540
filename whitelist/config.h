/* config.h - the configuration (/etc/hmilock/hmilock.conf, INI through
 * inih) as one parsed struct, shared by hmilockd and the hmilock CLI: both
 * read db, key, socket and the rest from the same file by the same code.
 * Owned by config.c; a loaded struct is read-only for everyone else. */
#ifndef HMILOCK_CONFIG_H
#define HMILOCK_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define HMD_DEFAULT_CONFIG "/etc/hmilock/hmilock.conf"
#define HMD_DEFAULT_DB "/var/lib/hmilock/approved.db"
#define HMD_DEFAULT_KEY "/etc/hmilock/list.key"
#define HMD_DEFAULT_SOCKET "/run/hmilock/hmilockd.sock"
#define HMD_DEFAULT_PASSWORD_FILE "/etc/hmilock/admin.pass"
#define HMD_DEFAULT_IMPORT_PUBKEY "/etc/hmilock/import.pub"
#define HMD_MAX_WATCH 64
#define HMD_MAX_WRITERS 32 /* [maintenance] writers, root included */
#define HMD_MAX_ROOTS 64 /* [init] roots */
#define HMD_MAX_PRESCAN 16 /* [prescan] databases, and blocklists */

enum hmd_mode { HMD_MODE_ENFORCE = 0, HMD_MODE_AUDIT, HMD_MODE_MAINTENANCE, HMD_MODE__MAX };
enum hmd_match { HMD_MATCH_PATH_HASH = 0, HMD_MATCH_HASH };
enum hmd_on_error { HMD_ON_ERROR_DENY = 0, HMD_ON_ERROR_ALLOW };
enum hmd_helper_want { HMD_HELPER_AUTO = 0, HMD_HELPER_REQUIRED, HMD_HELPER_OFF };

/* ---- config.c: parsed /etc/hmilock/hmilock.conf (inih) ----------------- */

/* Limits and defaults of the numeric keys (plain literals: config.c quotes
 * them in its error messages). */
#define HMD_MAX_WORKERS 256
#define HMD_DEFAULT_QUEUE 1024
#define HMD_MIN_QUEUE 16
#define HMD_MAX_QUEUE 1048576
#define HMD_DEFAULT_CACHE 8192
#define HMD_MIN_CACHE 64
#define HMD_MAX_CACHE 16777216
#define HMD_MAX_INTERP 32 /* [agent] interpreters patterns */
#define HMD_INTERP_LEN 256
#define HMD_DEFAULT_MAINT_TIMEOUT 3600 /* [maintenance] default_timeout: 1h */
/* [agent] max_unlisted_size: 256 MiB hash in ~0.2 s at 1.5 GB/s, more than
 * any program an HMI box runs, and bounds what one exec can make us read. */
#define HMD_DEFAULT_MAX_UNLISTED (256ull << 20)
#define HMD_MIN_MAX_UNLISTED (1ull << 20) /* 1M */
#define HMD_MAX_MAX_UNLISTED (1ull << 40) /* 1T */

/* [events] socket and group: the read-only events socket (hmilock-notify) */
#define HMD_DEFAULT_EVENTS_SOCKET "/run/hmilockd-events.sock"
#define HMD_DEFAULT_EVENTS_GROUP "hmilock-events"

/* [notify] message and interval: hmilock-notify's text and rate */
#define HMD_DEFAULT_NOTIFY_MESSAGE "If the panel needs this program, call your maintenance team."
#define HMD_DEFAULT_NOTIFY_INTERVAL 30 /* seconds */
#define HMD_NOTIFY_MESSAGE_LEN 256

/* [metrics] textfile: where Debian's prometheus-node-exporter reads
 * textfile metrics (its --collector.textfile.directory) */
#define HMD_DEFAULT_METRICS "/var/lib/prometheus/node-exporter/hmilock.prom"
#define HMD_DEFAULT_METRICS_INTERVAL 5 /* seconds */
#define HMD_MAX_INTERVAL 3600 /* [metrics] and [notify] interval: 1 h */

struct hmd_config {
	enum hmd_mode mode;
	char db[PATH_MAX];
	char key[PATH_MAX];
	char socket[PATH_MAX];
	enum hmd_match match;
	enum hmd_on_error on_error;
	unsigned workers; /* 0 = one per core */
	unsigned queue_len; /* bounded work queue; full -> on_error */
	size_t cache_entries;
	/* bytes: an exec of a larger file whose size no list entry has is
	 * refused (too-large) without being hashed (exec.c) */
	unsigned long long max_unlisted_size;
	enum hmd_helper_want helper;
	bool strict_wx;
	/* The kernel helper denies on filesystems whose identity it cannot
	 * establish (network, FUSE; overlayfs or btrfs without their module
	 * types) like anywhere else, instead of leaving them to the exec gate */
	bool strict_identity;
	/* [agent] user_namespaces = off: hmilockd sets the sysctl
	 * user.max_user_namespaces to 0 at start (mounts.c) */
	bool userns_off;
	/* [agent] interpreters: glob(3) patterns of the programs the helper
	 * treats as script interpreters; interp_set false = built-in list */
	bool interp_set;
	size_t n_interp;
	char interp[HMD_MAX_INTERP][HMD_INTERP_LEN];
	/* [agent] wx_exempt: glob(3) patterns of the programs (JIT runtimes)
	 * exempt from the helper's W^X rules (strict_wx) */
	size_t n_wx_exempt;
	char wx_exempt[HMD_MAX_INTERP][HMD_INTERP_LEN];
	char admin_password_file[PATH_MAX]; /* auth.c; absent file: no password */
	char import_pubkey[PATH_MAX]; /* read by `hmilock import`, checked here */
	/* [watch] mounts: empty = every filesystem that can hold executables */
	size_t n_watch;
	char watch[HMD_MAX_WATCH][PATH_MAX];
	/* [init] roots: the trees `hmilock init` scans when given none;
	 * n_roots 0 = the built-in list (the daemon only checks them) */
	size_t n_roots;
	char roots[HMD_MAX_ROOTS][PATH_MAX];
	/* [prescan] databases (ClamAV signature files or directories) and
	 * blocklists (SHA-256 lists): what every file is checked against
	 * before init, add, a maintenance end or an update approves it */
	size_t n_prescan_db, n_blocklists;
	char prescan_db[HMD_MAX_PRESCAN][PATH_MAX];
	char blocklists[HMD_MAX_PRESCAN][PATH_MAX];
	/* [maintenance] default_timeout: seconds a window stays open */
	unsigned maint_timeout_s;
	/* [maintenance] writers: the uids whose writes `maintenance end`
	 * approves; root (0) is always one of them */
	size_t n_writers;
	uint32_t writers[HMD_MAX_WRITERS];
	/* [update] cgroup_root: parent directory of the update cgroups;
	 * "" = <the cgroup2 mount>/hmilock-update */
	char cgroup_root[PATH_MAX];
	/* [events] socket ("" = off): status and events only, for the members
	 * of [events] group (mode 0660); the notifier's subscription */
	char events_socket[PATH_MAX];
	char events_group[64];
	/* [notify] message: the line hmilock-notify adds (whom to call);
	 * interval: seconds during which further denials make one
	 * notification with their count */
	char notify_message[HMD_NOTIFY_MESSAGE_LEN];
	unsigned notify_interval_s;
	/* [metrics] textfile ("" = off) and interval (seconds): the
	 * Prometheus text file hmilockd rewrites atomically (metrics.c) */
	char metrics_textfile[PATH_MAX];
	unsigned metrics_interval_s;
	/* where the config was read from, for messages, and the file's
	 * identity (st_dev, st_ino of the file parsed; 0 for a stream): a
	 * pinned, locked helper is taken over only by an hmilockd with the
	 * same configuration file (agent/anchor.c) */
	char path[PATH_MAX];
	dev_t path_dev;
	ino_t path_ino;
	/* not from the file: main sets it for --foreground; log_msg and events
	 * then go to stderr too (they always do when stderr is a terminal) */
	bool log_stderr;
};

/* Defaults, then the file. Unknown key or bad value: -EINVAL and msg names
 * the section, key, value and line. A missing file is an error too. */
int config_load(struct hmd_config *cfg, const char *path, char *msg, size_t msglen);
/* The same from an open stream (fmemopen for the fuzz target); name is
 * what messages call it. The stream stays open. */
int config_load_stream(struct hmd_config *cfg, FILE *fp, const char *name, char *msg,
                       size_t msglen);
void config_defaults(struct hmd_config *cfg);
const char *config_mode_name(enum hmd_mode m);
/* Is uid one of [maintenance] writers (root always is)? */
bool config_is_writer(const struct hmd_config *cfg, uint32_t uid);
int config_mode_parse(const char *s, enum hmd_mode *out);
/* Does the configuration name a prescan ([prescan] databases or
 * blocklists)? */
bool config_has_prescan(const struct hmd_config *cfg);

#endif /* HMILOCK_CONFIG_H */
