/* hmilock.c - main() of the operator CLI: parses the global options (only
 * before the command), loads the configuration, fills struct cli and
 * dispatches to the command table. Owns the loaded configuration (read-only
 * for the commands); each cmd_*.c owns its commands and their options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
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
    {"stop", cmd_stop, "stop hmilockd on a locked box (admin password); the helper stays"},
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

	fprintf(f,
	        "usage: hmilock [--db FILE] [--key FILE] [--config FILE] [--socket PATH] "
	        "COMMAND [ARGS]\n"
	        "       hmilock --help | --version\n\n"
	        "Global options (before the command):\n"
	        "  --config FILE   configuration (default " HMD_DEFAULT_CONFIG " if it exists);\n"
	        "                  the list, key, socket, password file, import key and init\n"
	        "                  roots come from its [agent] and [init] keys\n"
	        "  --db FILE       approved list (default [agent] db, " HMD_DEFAULT_DB ")\n"
	        "  --key FILE      list MAC key (default [agent] key, " HMD_DEFAULT_KEY ")\n"
	        "  --socket PATH   daemon control socket (default [agent] socket,\n"
	        "                  " HMD_DEFAULT_SOCKET ")\n"
	        "  -h, --help      this text; -V, --version  the version\n\n"
	        "Commands (hmilock COMMAND --help for details):\n");
	for (i = 0; i < MAIN_NCMDS; i++)
		fprintf(f, "  %-11s %s\n", main_cmds[i].name, main_cmds[i].help);
	fprintf(f, "\nExit status: 0 ok, 1 negative answer (drift, would deny), "
	           "2 usage or bad input, 3 internal error.\n");
}

/* The global options as given (NULL: not given). */
struct main_opts {
	const char *db, *key, *config, *socket;
};

/* Parse the global options into o; returns the index of the command or
 * -1 after printing help/version (*rc set). */
static int main_globals(int argc, char **argv, struct main_opts *o, int *rc)
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
			o->db = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->socket = optarg;
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

/* Load the configuration and fill cli from it and the global options.
 * Without --config a missing default file means the built-in defaults;
 * a named file must be there and valid, like for hmilockd. 0 or an exit
 * code after a message. */
static int main_config(const struct main_opts *o, struct hmd_config *conf, struct cli *cli)
{
	char msg[768];
	int rc;

	rc = config_load(conf, o->config ? o->config : HMD_DEFAULT_CONFIG, msg, sizeof(msg));
	if (rc == -ENOENT && !o->config) {
		config_defaults(conf);
	} else if (rc < 0) {
		util_err("%s", msg);
		return EXIT_USAGE;
	}
	cli->config = conf->path;
	cli->conf = conf;
	cli->db = o->db ? o->db : conf->db;
	cli->key = o->key ? o->key : conf->key;
	cli->socket = o->socket ? o->socket : conf->socket;
	cli->password_file = conf->admin_password_file;
	cli->import_pubkey = conf->import_pubkey;
	return 0;
}

int main(int argc, char **argv)
{
	static struct hmd_config conf; /* large: off the stack */
	struct main_opts o = {0};
	struct cli cli = {.tty = isatty(STDOUT_FILENO)};
	int rc = EXIT_OK, first;
	size_t i;

	first = main_globals(argc, argv, &o, &rc);
	if (first < 0)
		return rc;
	if (first >= argc) {
		util_err("no command given");
		main_usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < MAIN_NCMDS; i++) {
		if (strcmp(argv[first], main_cmds[i].name) != 0)
			continue;
		rc = main_config(&o, &conf, &cli);
		if (rc)
			return rc;
		/* The command re-initialises getopt (optind = 0) and may
		 * permute its own argv. */
		optind = 0;
		return main_cmds[i].fn(&cli, argc - first, argv + first);
	}
	util_err("unknown command '%s'; try 'hmilock --help'", argv[first]);
	return EXIT_USAGE;
}
