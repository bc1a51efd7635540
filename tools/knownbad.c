/* knownbad.c - the prescan as the CLI's approving commands (init, add,
 * import) use it: load what [prescan] names, collect the files it refuses
 * while wl_scan's workers run, and say at the end what was not approved
 * and why. Also the list's provenance flags such a change writes, and the
 * record (syslog) of an approval made with --no-prescan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "hmilock.h"
#include "wl.h"

void knownbad_add(struct knownbad *kb, const char *path, const char *sig)
{
	struct knownbad_hit *h;

	if (kb->n == kb->cap) {
		size_t cap = kb->cap ? 2 * kb->cap : 16;
		h = realloc(kb->hits, cap * sizeof(*h));
		if (!h) {
			kb->lost++;
			return;
		}
		kb->hits = h;
		kb->cap = cap;
	}
	h = &kb->hits[kb->n];
	h->path = strdup(path);
	h->sig = strdup(sig);
	if (!h->path || !h->sig) {
		free(h->path);
		free(h->sig);
		kb->lost++;
		return;
	}
	kb->n++;
}

/* wl_scan's known_bad callback: called one at a time (the scan's lock). */
static void knownbad_note(const char *path, const char *sig, void *arg)
{
	knownbad_add(arg, path, sig);
}

int knownbad_start(const struct cli *cli, bool no_prescan, const char *what, struct knownbad *kb,
                   struct wl_scan_opts *opts)
{
	struct wl_err err = {0};

	memset(kb, 0, sizeof(*kb));
	kb->no_prescan = no_prescan;
	if (no_prescan) {
		openlog("hmilock", LOG_PID, LOG_AUTH);
		syslog(LOG_WARNING,
		       "%s with --no-prescan by uid %u: files approved without a prescan", what,
		       (unsigned)getuid());
		closelog();
		fprintf(
		    stderr,
		    "hmilock: note: --no-prescan: files are approved without a prescan; the list "
		    "says so in hmilock status\n");
		return 0;
	}
	if (!config_has_prescan(cli->conf)) {
		fprintf(stderr,
		        "hmilock: note: %s names no [prescan] databases or blocklists: files are "
		        "approved without a prescan\n",
		        cli->config);
		return 0;
	}
	if (wl_prescan_load_config(cli->conf, &kb->ps, &err) < 0) {
		util_err("%s: [prescan]: %s", cli->config, err.msg);
		return err.kind == WL_E_NOMEM ? EXIT_INTERNAL : EXIT_USAGE;
	}
	fprintf(stderr, "hmilock: prescan: %s\n", wl_prescan_describe(kb->ps));
	if (opts) {
		opts->prescan = kb->ps;
		opts->known_bad = knownbad_note;
		opts->known_bad_arg = kb;
	}
	return 0;
}

uint32_t knownbad_flags(const struct knownbad *kb, uint32_t old)
{
	return wl_db_flags_after(old, kb->ps != NULL, kb->no_prescan);
}

int knownbad_report(const struct knownbad *kb, uint64_t approved, uint64_t failed)
{
	size_t i;

	if (!kb->n && !kb->lost && !failed)
		return EXIT_OK;
	fprintf(stderr, "hmilock: approved %llu, refused %zu as known-bad",
	        (unsigned long long)approved, kb->n + kb->lost);
	for (i = 0; i < kb->n; i++) {
		fputs(i ? ", " : ": ", stderr);
		util_print_path(stderr, kb->hits[i].path);
		fprintf(stderr, " (%s)", kb->hits[i].sig);
	}
	if (kb->lost)
		fprintf(stderr, "%s%zu more not named (out of memory)", kb->n ? ", " : ": ",
		        kb->lost);
	if (failed)
		fprintf(stderr, "; %llu more NOT approved: the prescan could not scan them",
		        (unsigned long long)failed);
	fputc('\n', stderr);
	return EXIT_NEGATIVE;
}

void knownbad_end(struct knownbad *kb)
{
	size_t i;

	for (i = 0; i < kb->n; i++) {
		free(kb->hits[i].path);
		free(kb->hits[i].sig);
	}
	free(kb->hits);
	wl_prescan_free(kb->ps);
	memset(kb, 0, sizeof(*kb));
}
