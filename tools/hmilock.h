/* hmilock.h - the operator CLI's internal header: global options and the
 * command table. tools/hmilock.c parses the global options and dispatches;
 * each cmd_*.c file owns one group of commands. */
#ifndef HMILOCK_CLI_H
#define HMILOCK_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes (documented in hmilock(8)). */
enum {
	EXIT_OK = 0,
	EXIT_NEGATIVE = 1, /* drift found, would deny, ... */
	EXIT_USAGE = 2,	   /* usage or bad input */
	EXIT_INTERNAL = 3, /* internal error */
};

struct cli {
	const char *db;	    /* --db, default /var/lib/hmilock/approved.db */
	const char *key;    /* --key, default /etc/hmilock/list.key */
	const char *config; /* --config, default /etc/hmilock/hmilock.conf */
	const char *socket; /* --socket, default /run/hmilock/hmilockd.sock */
	bool tty;	    /* stdout is a terminal */
};

/* A command: argv[0] is the command name; getopt_long may permute. */
typedef int (*cli_cmd_fn)(const struct cli *cli, int argc, char **argv);

/* cmd_list.c: init, add, remove, list, verify, check */
int cmd_init(const struct cli *cli, int argc, char **argv);
int cmd_add(const struct cli *cli, int argc, char **argv);
int cmd_remove(const struct cli *cli, int argc, char **argv);
int cmd_list(const struct cli *cli, int argc, char **argv);
int cmd_verify(const struct cli *cli, int argc, char **argv);
int cmd_check(const struct cli *cli, int argc, char **argv);

/* cmd_daemon.c: status, mode, reload, events (control socket) */
int cmd_status(const struct cli *cli, int argc, char **argv);
int cmd_mode(const struct cli *cli, int argc, char **argv);
int cmd_reload(const struct cli *cli, int argc, char **argv);
int cmd_events(const struct cli *cli, int argc, char **argv);

/* util.c: output helpers shared by the commands */
/* Print a path so it stays on one line: \n \t \\ and non-UTF-8 or control
 * bytes become C escapes (\n, \t, \\, \xHH). */
void util_print_path(FILE *f, const char *path);
void util_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* HMILOCK_CLI_H */
