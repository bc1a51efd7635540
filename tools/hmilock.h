/* hmilock.h - the operator CLI's internal header: global options and the
 * command table. tools/hmilock.c parses the global options and dispatches;
 * each cmd_*.c file owns one group of commands. */
#ifndef HMILOCK_CLI_H
#define HMILOCK_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "wl.h"

/* Exit codes (documented in hmilock(8)). */
enum {
	EXIT_OK = 0,
	EXIT_NEGATIVE = 1, /* drift found, would deny, ... */
	EXIT_USAGE = 2, /* usage or bad input */
	EXIT_INTERNAL = 3, /* internal error */
};

struct hmd_config;

/* What every command works on. main() fills it before the command runs:
 * the configuration (--config FILE, or /etc/hmilock/hmilock.conf when that
 * exists, else the built-in defaults) through config_load(), then db, key
 * and socket from it unless --db, --key, --socket override them. */
struct cli {
	const char *config; /* the configuration file read, or the default's path */
	const struct hmd_config *conf; /* as loaded: [agent] paths, [init] roots */
	const char *db; /* --db, else [agent] db */
	const char *key; /* --key, else [agent] key */
	const char *socket; /* --socket, else [agent] socket */
	const char *password_file; /* [agent] admin_password_file */
	const char *import_pubkey; /* [agent] import_pubkey */
	bool tty; /* stdout is a terminal */
};

/* A command: argv[0] is the command name; getopt_long may permute. */
typedef int (*cli_cmd_fn)(const struct cli *cli, int argc, char **argv);

/* knownbad.c: the prescan of init, add and import */
struct knownbad_hit {
	char *path, *sig;
};
struct knownbad {
	struct wl_prescan *ps; /* NULL: none configured, or --no-prescan */
	bool no_prescan;
	struct knownbad_hit *hits; /* the files it refused */
	size_t n, cap, lost;
};
/* Load [prescan] into kb and hook it into opts (may be NULL: the caller
 * checks files itself with kb->ps). No [prescan], or no_prescan (then
 * logged to syslog with `what`), is a note on stderr and no prescan.
 * 0, or an exit code after an error naming what did not load. */
int knownbad_start(const struct cli *cli, bool no_prescan, const char *what, struct knownbad *kb,
                   struct wl_scan_opts *opts);
/* A refusal found outside wl_scan (import): as the scan's callback. */
void knownbad_add(struct knownbad *kb, const char *path, const char *sig);
/* The list flags after this change, of a list that was at old (a new list:
 * WL_DB_F_PRESCANNED, nothing on it unscanned yet). */
uint32_t knownbad_flags(const struct knownbad *kb, uint32_t old);
/* "approved N, refused K as known-bad: PATH (SIG), ..." on stderr when it
 * refused any (or failed to scan some): EXIT_NEGATIVE; else EXIT_OK. */
int knownbad_report(const struct knownbad *kb, uint64_t approved, uint64_t failed);
void knownbad_end(struct knownbad *kb);

/* wxpropose.c: the wx_exempt line for the JIT runtimes in set (after init) */
void wxpropose_print(struct wl_set *set, const struct hmd_config *conf);

/* cmd_list.c: init, add, remove, list */
int cmd_init(const struct cli *cli, int argc, char **argv);
int cmd_add(const struct cli *cli, int argc, char **argv);
int cmd_remove(const struct cli *cli, int argc, char **argv);
int cmd_list(const struct cli *cli, int argc, char **argv);

/* cmd_verify.c: verify, check */
int cmd_verify(const struct cli *cli, int argc, char **argv);
int cmd_check(const struct cli *cli, int argc, char **argv);

/* cmd_list.c: helpers shared by the list commands (cmd_list.c, cmd_verify.c) */
#define LIST_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
struct json_object;
struct list_ctx {
	uint8_t key[WL_KEY_LEN];
	struct wl_db *db;
};
/* Print the library's message; returns the exit code for its kind. */
int list_fail(const struct wl_err *e);
/* Load the key and open (verify) the list; 0 or an exit code. */
int list_open(const struct cli *cli, struct list_ctx *ctx);
/* For commands that only read the list: the same, and while the box is
 * locked (the key unreadable but to hmilockd) the list hmilockd has loaded,
 * checked against the SHA-256 hmilockd vouches for. ctx->key stays zero. */
int list_open_ro(const struct cli *cli, struct list_ctx *ctx);
void list_close(struct list_ctx *ctx); /* also wipes the key */
/* Take the writer lock of cli->db (wl.h: one writer at a time), making its
 * directory first when create (a new list); when another writer holds it,
 * say so once and wait. 0 or an exit code after a message. */
int list_lock(const struct cli *cli, bool create, struct wl_db_lock **lk);
/* Write set as generation gen under lk, the list having been read at gen - 1
 * (0: none) under the same lock. 0 or an exit code after a message. */
int list_write(struct wl_db_lock *lk, struct wl_set *set, uint64_t gen,
               const uint8_t key[WL_KEY_LEN]);
enum { LO_JSON = 1, LO_SCAN = 2, LO_FORCE = 4, LO_PRESCAN = 8 }; /* option groups for list_getopt */
struct list_opts {
	bool json, force;
	bool no_prescan; /* --no-prescan: approve without [prescan] */
	bool prescan; /* verify --prescan: the list against [prescan] */
	struct wl_scan_opts scan;
};
/* getopt_long (GNU permutation) over the option groups in mask plus --help;
 * returns the index of the first operand, or -1 with *rc = exit code. */
int list_getopt(int argc, char **argv, unsigned mask, const char *usage, struct list_opts *lo,
                int *rc);
/* Add a path-valued string; also "<key>_escaped": true when not UTF-8. */
int list_json_path(struct json_object *o, const char *key, const char *path);
/* One list record as a JSON object (path, sha256, type, size, mode, ...). */
struct json_object *list_rec_json(const struct wl_rec *r);

/* cmd_daemon.c: status, mode, reload, events (control socket) */
int cmd_status(const struct cli *cli, int argc, char **argv);
int cmd_mode(const struct cli *cli, int argc, char **argv);
int cmd_reload(const struct cli *cli, int argc, char **argv);
int cmd_stop(const struct cli *cli, int argc, char **argv);
int cmd_events(const struct cli *cli, int argc, char **argv);

/* ctlc.c: the control-socket client (include/hmilock_ctl.h) shared by the
 * commands that talk to hmilockd: one connection at a time, its request and
 * reply buffers, the admin password. Exit codes as the commands return them:
 * 1 the daemon refused, 2 usage, 3 cannot talk to the daemon or a malformed
 * reply. */
struct hmc_msg;
struct hmd_ctl_auth;
/* Connect to cli->socket; send and receive
 * time out after timeout_s. 0 or an exit code after a message. */
int ctlc_connect(const struct cli *cli, unsigned timeout_s);
/* Quiet mode (a follower that reconnects): the messages of ctlc_connect
 * and ctlc_call go to errbuf instead of stderr; len 0 ends it. */
void ctlc_quiet(char *errbuf, size_t len);
/* Close the connection (if any) and wipe the admin password. */
void ctlc_close(void);
/* The request to fill in before ctlc_call(), and the last checked reply. */
struct hmc_msg *ctlc_req(void);
const struct hmc_msg *ctlc_rep(void);
/* Send the request (its body already filled) as type and receive a reply
 * checked by hmc_parse() and for its sequence number. A RESULT with an
 * error is left to the caller; seq 0 marks a refusal sent before any
 * request was read. 0 or an exit code after a message. */
int ctlc_call(uint16_t type);
/* --password-file of the command, for ctlc_call_auth(); NULL: none. */
void ctlc_password_file(const char *file);
/* ctlc_call() for a request that carries the admin password at auth: the
 * one given (--password-file, $HMILOCK_PASSWORD) or, when the daemon says
 * one is needed, the one asked for, then sent again. auth is wiped after. */
int ctlc_call_auth(uint16_t type, struct hmd_ctl_auth *auth);
/* The reply must be of type want. A RESULT error is printed (and as JSON
 * {"ok": false, "error", "message"} when json) and gives 1. */
int ctlc_expect(uint16_t want, bool json);
/* ctlc_call(type), then ctlc_expect(want, json). */
int ctlc_request(uint16_t type, uint16_t want, bool json);
/* Print a RESULT's message, or {"ok": true, [extra_key: extra,] "message"}. */
int ctlc_print_result(bool json, const char *extra_key, const char *extra);

/* follow.c: a live stream of the daemon's decisions (events --follow,
 * hmilock-notify). It polls until *stop and calls back: event for each
 * decision, oldest first (backlog: how many recent ones at the first
 * contact; 0: only what happens from now on); lost when ids were skipped
 * (the follower fell behind the daemon's ring); down once when the daemon
 * cannot be reached (it keeps trying); up at the first contact and when the
 * daemon is back (restarted: another hmilockd). flush after every poll: < 0
 * stops (the output is gone). Returns 0 when stopped, 3 after flush < 0. */
struct hmc_event;
struct follow_ops {
	void (*event)(void *arg, const struct hmc_event *e);
	void (*lost)(void *arg, uint64_t n);
	void (*down)(void *arg, const char *why);
	void (*up)(void *arg, int32_t pid, bool restarted);
	int (*flush)(void *arg);
};
int follow_run(const struct cli *cli, const struct follow_ops *ops, void *arg,
               volatile sig_atomic_t *stop, unsigned backlog);

/* util.c: output helpers shared by the commands */
/* Print a path so it stays on one line: \n \t \\ and non-UTF-8 or control
 * bytes become C escapes (\n, \t, \\, \xHH). */
void util_print_path(FILE *f, const char *path);
/* "PROG: message" on stderr; PROG is util_prog ("hmilock" unless the
 * program sets it). */
extern const char *util_prog;
void util_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A command's usage error, the one tail of every option parser: the
 * message (fmt, may be NULL) as util_err prints it, then "usage: USAGE" and
 * where the global options go, on stderr. Returns EXIT_USAGE. */
int util_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A command's --help: "usage: USAGE" on stdout. Returns EXIT_OK. */
int util_help(const char *usage);
/* A path for a JSON string: valid UTF-8 is returned as is (malloc'd copy);
 * otherwise the util_print_path form and *escaped = true. NULL: no memory. */
char *util_json_path(const char *path, bool *escaped);
/* Progress bar on stderr, redrawn in place (call only when stderr is a TTY):
 * files done/total, MB/s, ETA. util_bar_end() ends the line; util_err()
 * calls it so messages never land inside the bar. */
void util_bar(uint64_t done, uint64_t total, uint64_t bytes_done, uint64_t bytes_total,
              double elapsed);
void util_bar_end(void);
/* wl_scan_opts.progress callback drawing util_bar(); arg unused. */
void util_scan_progress(const struct wl_scan_progress *p, void *arg);
/* Read one line into buf (at most len - 1 bytes, newline stripped): from
 * the terminal with echo off after printing prompt on stderr, or, when
 * standard input is not a terminal (scripts, tests), as the next line of
 * standard input (no prompt). 0, -ENODATA (end of input), -EMSGSIZE. */
int util_read_password(const char *prompt, char *buf, size_t len);
/* The admin password for a command: the first line of file (from a
 * --password-file option; must be mode 0600 or stricter) when file is not
 * NULL, else $HMILOCK_PASSWORD when set, else util_read_password(prompt).
 * 0, or an exit code after a message. */
int util_get_password(const char *file, const char *prompt, char *buf, size_t len);
/* cmd_maint.c: maintenance begin|status|end, update (control socket) */
int cmd_maintenance(const struct cli *cli, int argc, char **argv);
int cmd_update(const struct cli *cli, int argc, char **argv);

/* cmd_export.c: keygen, export, import (signed list transfer) */
int cmd_keygen(const struct cli *cli, int argc, char **argv);
int cmd_export(const struct cli *cli, int argc, char **argv);
int cmd_import(const struct cli *cli, int argc, char **argv);

/* cmd_passwd.c: passwd, and the admin password check of CLI-side commands */
int cmd_passwd(const struct cli *cli, int argc, char **argv);
/* When an admin password is set ([agent] admin_password_file), get it
 * (util_get_password(pwfile, ...)) and verify it. 0 when none is set or it
 * matches; else an exit code after a message (1: wrong password). For
 * commands that change the list file directly (import): a speed bump, as
 * root can write that file anyway; the daemon's own check (auth.c) is what
 * guards mode changes. */
int passwd_gate(const struct cli *cli, const char *pwfile, const char *what);

#endif /* HMILOCK_CLI_H */
