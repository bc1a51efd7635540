/* log.h - non-blocking event log -> audit (libaudit) + syslog (owned by log.c). */
#ifndef HMD_LOG_H
#define HMD_LOG_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "decide.h"
#include "wl.h"

const char *log_verdict_name(enum hmd_verdict v);
const char *log_reason_name(enum hmd_reason r);

struct hmd_event {
	uint64_t time_ns; /* CLOCK_REALTIME */
	int32_t pid;
	uint8_t verdict; /* enum hmd_verdict */
	uint8_t reason; /* enum hmd_reason */
	uint8_t has_hash;
	uint8_t has_uid;
	uint32_t uid; /* the subject's real uid, when has_uid */
	uint8_t sha256[WL_SHA256_LEN];
	char op[16]; /* "exec", "mmap", "write", ... */
	char exe[256]; /* exe of pid, best effort, filled by the logger */
	char path[PATH_MAX];
};

int log_init(const struct hmd_config *cfg); /* no thread yet: messages go out at once */
/* A file a prescan named (op "approve": a commit did not approve it; op
 * "verify": a listed file `hmilock verify --prescan` flagged): an event
 * (deny, known-bad) and hmd_stats.known_bad. Any thread. */
void log_known_bad(const char *op, pid_t pid, const char *path, const uint8_t *sha256);
/* Is stderr the journal (JOURNAL_STREAM names it)? Then lines go to
 * syslog only, which journald receives too: one line per message. */
bool log_stderr_is_journal(void);
int log_start(void); /* the logger thread; after sandbox_enter() */
/* Queue an event; never blocks, never does I/O. Drops (counted) when full.
 * Call only after the permission event has been answered. */
void log_event(const struct hmd_event *ev);
/* Daemon diagnostics (errors, mode changes...): also through the ring. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copy up to max most recent events (oldest first); returns how many. */
size_t log_recent(struct hmd_event *out, size_t max);
void log_fini(void);
/* For ctl.c: recent events carry increasing ids (the paging of struct
 * hmc_events_req). Of the events with after < id <= until (until 0: no
 * bound) take the newest max; copy the oldest outmax of those to out.
 * *remaining gets how many of the max were not copied, *until_out the
 * window's upper id for the next page. Returns how many were copied. */
struct hmd_event_rec {
	uint64_t id;
	struct hmd_event ev;
};
size_t log_events(uint64_t after, uint64_t until, size_t max, struct hmd_event_rec *out,
                  size_t outmax, uint64_t *remaining, uint64_t *until_out);
struct log_info {
	bool audit_ok; /* deny records reach the audit system */
	uint64_t audit_records, audit_failed;
	char audit[128]; /* "on (auditd pid N)", "unavailable - ..." */
};
void log_info(struct log_info *out);
#endif /* HMD_LOG_H */
