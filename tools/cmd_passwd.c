/* cmd_passwd.c - hmilock passwd: set, change or remove the admin password
 * ([agent] admin_password_file, a salted scrypt hash, whitelist/passwd.c),
 * and passwd_gate(), the CLI-side check of commands that change the list
 * file directly. Owns the password buffers below and wipes them. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hmilock.h"
#include "wl.h"

#define PASSWD_USAGE "hmilock passwd [--remove] [--password-file FILE]"
#define PASSWD_BUF (WL_PASSWD_MAX + 1)
#define PASSWD_WRONG_SLEEP 2 /* s: the CLI's own brake on guessing */

/* Verify the current password (prompt "what"). 0, or an exit code. */
static int passwd_current(const char *path, const char *pwfile, const char *what)
{
	char pw[PASSWD_BUF] = "", prompt[160];
	struct wl_err err = {0};
	int rc;

	snprintf(prompt, sizeof(prompt), "admin password (%s): ", what);
	rc = util_get_password(pwfile, prompt, pw, sizeof(pw));
	if (rc)
		return rc;
	rc = wl_passwd_verify(path, pw, &err);
	explicit_bzero(pw, sizeof(pw));
	if (rc == -EACCES) {
		sleep(PASSWD_WRONG_SLEEP);
		util_err("wrong admin password; %s refused, nothing changed", what);
		return EXIT_NEGATIVE;
	}
	if (rc) {
		util_err("%s", err.msg);
		return rc == -ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
	}
	return 0;
}

int passwd_gate(const struct cli *cli, const char *pwfile, const char *what)
{
	const char *path = cli->password_file;
	struct wl_err err = {0};
	int rc;

	rc = wl_passwd_exists(path, &err);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		util_err("%s; %s refused", err.msg, what);
		return EXIT_USAGE;
	}
	return passwd_current(path, pwfile, what);
}

/* The new password: twice on a terminal, once from a pipe. */
static int passwd_new(char *pw, size_t len)
{
	char again[PASSWD_BUF];
	int rc;

	rc = util_read_password("new admin password: ", pw, len);
	if (rc == -EMSGSIZE || (!rc && strlen(pw) > WL_PASSWD_MAX)) {
		util_err("the password is longer than %d bytes; nothing changed", WL_PASSWD_MAX);
		return EXIT_USAGE;
	}
	if (rc || !pw[0]) {
		util_err("no new password given (an empty one is not allowed); nothing changed");
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO))
		return 0;
	rc = util_read_password("new admin password again: ", again, sizeof(again));
	if (rc || strcmp(pw, again) != 0) {
		explicit_bzero(again, sizeof(again));
		util_err("the two passwords differ; nothing changed");
		return EXIT_USAGE;
	}
	explicit_bzero(again, sizeof(again));
	return 0;
}

static int passwd_opts(int argc, char **argv, bool *remove, const char **pwfile, int *rc)
{
	static const struct option longopts[] = {
	    {"remove", no_argument, NULL, 'r'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'r') {
			*remove = true;
		} else if (c == 'p') {
			*pwfile = optarg;
		} else {
			*rc = c == 'h' ? util_help(PASSWD_USAGE) : util_usage(PASSWD_USAGE, NULL);
			return -1;
		}
	}
	if (optind < argc) {
		*rc = util_usage(PASSWD_USAGE, "passwd: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

int cmd_passwd(const struct cli *cli, int argc, char **argv)
{
	const char *path = cli->password_file, *pwfile = NULL;
	char pw[PASSWD_BUF] = "";
	struct wl_err err = {0};
	bool remove = false, set;
	int rc = EXIT_OK;

	if (passwd_opts(argc, argv, &remove, &pwfile, &rc) < 0)
		return rc;
	rc = wl_passwd_exists(path, &err);
	if (rc && rc != -ENOENT) {
		util_err("%s", err.msg);
		return EXIT_USAGE;
	}
	set = rc == 0;
	if (set) {
		rc = passwd_current(path, pwfile, remove ? "remove it" : "change it");
		if (rc)
			return rc;
	}
	if (remove) {
		if (!set) {
			printf("no admin password is set (%s); nothing to remove\n", path);
			return EXIT_OK;
		}
		if (wl_passwd_remove(path, &err) < 0)
			goto fail;
		printf("admin password removed (%s); root alone may now change the mode\n", path);
		return EXIT_OK;
	}
	rc = passwd_new(pw, sizeof(pw));
	if (!rc && wl_passwd_set(path, pw, &err) < 0)
		rc = -1;
	explicit_bzero(pw, sizeof(pw));
	if (rc > 0)
		return rc;
	if (rc < 0)
		goto fail;
	printf("admin password %s (%s): hmilock mode and import ask for it from now on\n",
	       set ? "changed" : "set", path);
	return EXIT_OK;
fail:
	util_err("%s; nothing changed", err.msg);
	/* While the box is locked the kernel helper lets only hmilockd (and a
	 * maintenance window, opened with the current password) change it. */
	if (err.code == -EPERM)
		util_err("the admin password file is write-protected while the box is locked: "
		         "change or remove it inside hmilock maintenance begin ... end");
	return err.kind == WL_E_NOMEM ? EXIT_INTERNAL : EXIT_USAGE;
}
