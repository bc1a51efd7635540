/* hmilock.c - main() of the operator CLI: parses the global options (only
 * before the command), fills struct cli and dispatches to the command table.
 * Owns nothing else; each cmd_*.c owns its commands and their options. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hmilock.h"

#ifndef HMILOCK_VERSION
#error "HMILOCK_VERSION comes from the Makefile (VERSION=)"
#endif

struct main_cmd {
	const char *name;
	cli_cmd_fn fn;
	const char *help;
};

static const struct main_cmd main_cmds[] = {
    {"init", cmd_init, "scan and hash the system trees (or PATHs), write a new approved list"},
    {"add", cmd_add, "approve files or trees, write the next generation"},
    {"remove", cmd_remove, "take files or trees off the list, write the next generation"},
    {"list", cmd_list, "print every entry: type, sha256, path"},
    {"verify", cmd_verify, "re-hash every listed file, report drift (exit 1 on drift)"},
    {"check", cmd_check, "would executing PATH be allowed by the list, and why"},
    {"status", cmd_status, "daemon state: mode, list, counters, sandbox, helper"},
    {"mode", cmd_mode, "show or switch the daemon's mode (enforce, audit)"},
    {"reload", cmd_reload, "make the daemon load the list file again"},
    {"events", cmd_events, "recent decisions from the daemon's event ring"},
    {"maintenance", cmd_maintenance, "open, show or end a maintenance window (begin|status|end)"},
    {"update", cmd_update, "run a command as a trusted updater: what it writes is approved"},
    {"keygen", cmd_keygen, "make an Ed25519 key pair for signing exported lists"},
    {"export", cmd_export, "write the list to a signed file for boxes of the same image"},
    {"import", cmd_import, "approve a signed export's files that match on this box"},
    {"passwd", cmd_passwd, "set, change or remove the admin password"},
};
#define MAIN_NCMDS (sizeof(main_cmds) / sizeof(main_cmds[0]))

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: hmilock [--db FILE] [--key FILE] [--config FILE] [--socket PATH] "
	           "COMMAND [ARGS]\n"
	           "       hmilock --help | --version\n\n"
	           "Global options (before the command):\n"
	           "  --db FILE       approved list (default /var/lib/hmilock/approved.db)\n"
	           "  --key FILE      list MAC key (default /etc/hmilock/list.key)\n"
	           "  --config FILE   configuration (default /etc/hmilock/hmilock.conf)\n"
	           "  --socket PATH   daemon control socket (default /run/hmilock/hmilockd.sock)\n"
	           "  -h, --help      this text; -V, --version  the version\n\n"
	           "Commands (hmilock COMMAND --help for details):\n");
	for (i = 0; i < MAIN_NCMDS; i++)
		fprintf(f, "  %-11s %s\n", main_cmds[i].name, main_cmds[i].help);
	fprintf(f, "\nExit status: 0 ok, 1 negative answer (drift, would deny), "
	           "2 usage or bad input, 3 internal error.\n");
}

/* Parse the global options into cli; returns the index of the command or
 * -1 after printing help/version (*rc set). */
static int main_globals(int argc, char **argv, struct cli *cli, int *rc)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"key", required_argument, NULL, 'k'},
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cli->db = optarg;
			break;
		case 'k':
			cli->key = optarg;
			break;
		case 'c':
			cli->config = optarg;
			break;
		case 's':
			cli->socket = optarg;
			break;
		case 'h':
			main_usage(stdout);
			*rc = EXIT_OK;
			return -1;
		case 'V':
			printf("hmilock %s\n", HMILOCK_VERSION);
			*rc = EXIT_OK;
			return -1;
		default:
			fprintf(stderr, "Try 'hmilock --help'.\n");
			*rc = EXIT_USAGE;
			return -1;
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct cli cli = {
	    .db = "/var/lib/hmilock/approved.db",
	    .key = "/etc/hmilock/list.key",
	    .config = "/etc/hmilock/hmilock.conf",
	    .socket = "/run/hmilock/hmilockd.sock",
	    .tty = isatty(STDOUT_FILENO),
	};
	int rc = EXIT_OK, first;
	size_t i;

	first = main_globals(argc, argv, &cli, &rc);
	if (first < 0)
		return rc;
	if (first >= argc) {
		util_err("no command given");
		main_usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < MAIN_NCMDS; i++) {
		if (strcmp(argv[first], main_cmds[i].name) == 0) {
			/* The command re-initialises getopt (optind = 0) and may
			 * permute its own argv. */
			optind = 0;
			return main_cmds[i].fn(&cli, argc - first, argv + first);
		}
	}
	util_err("unknown command '%s'; try 'hmilock --help'", argv[first]);
	return EXIT_USAGE;
}
