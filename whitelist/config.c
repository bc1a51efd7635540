/* config.c - parses /etc/hmilock/hmilock.conf (INI, through inih) into a
 * struct hmd_config. Owns no state beyond the call: main() loads the config
 * once before anything else and every module reads the result, never writes it.
 *
 * Line numbers: Debian's libinih is built with INI_HANDLER_LINENO 0, so the
 * handler is not told its line. We hand inih our own reader (ini_parse_stream)
 * that counts the lines it passes on; inih calls the handler for a line
 * before it asks for the next one, so the count is the handler's line. The
 * reader also keeps the raw line (for syntax errors, whose line inih returns),
 * refuses over-long lines and NUL bytes instead of letting inih split them,
 * and checks section headers (inih never reports a section without keys). */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hmilock_ctl.h"
#include "config.h"

#define CONFIG_MAX_LINE 16384 /* one [watch] mounts line may be long */
#define CONFIG_SHOW_VALUE 80 /* bytes of a bad value quoted in a message */

struct config_ctx;

/* One key: where it lives, how its value is checked, and what the error
 * message says was expected. parse returns 0 or -EINVAL. */
struct config_key {
	const char *section;
	const char *name;
	int (*parse)(struct hmd_config *cfg, const char *v);
	const char *expected;
};

struct config_ctx {
	struct hmd_config *cfg;
	FILE *fp;
	int line; /* lines handed to inih so far */
	char *raw; /* the last of them, newline stripped */
	size_t raw_cap;
	int seen[40]; /* line each key was given on (0: not given) */
	char *msg;
	size_t msglen;
	int err; /* first error (-errno), 0 while none */
	int read_errno; /* getline() failed with this */
};

static int config_path_into(char *dst, size_t dstlen, const char *v)
{
	size_t n = strlen(v);

	if (v[0] != '/' || n >= dstlen)
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

static int config_unsigned(const char *v, unsigned long long lo, unsigned long long hi,
                           unsigned long long *out)
{
	unsigned long long x;
	char *end;

	if (v[0] < '0' || v[0] > '9') /* no sign, no blanks */
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end != '\0' || x < lo || x > hi)
		return -EINVAL;
	*out = x;
	return 0;
}

static int config_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -EINVAL;
}

int config_mode_parse(const char *s, enum hmd_mode *out)
{
	if (strcmp(s, "enforce") == 0)
		*out = HMD_MODE_ENFORCE;
	else if (strcmp(s, "audit") == 0)
		*out = HMD_MODE_AUDIT;
	else
		return -EINVAL;
	return 0;
}

const char *config_mode_name(enum hmd_mode m)
{
	switch (m) {
	case HMD_MODE_ENFORCE:
		return "enforce";
	case HMD_MODE_AUDIT:
		return "audit";
	case HMD_MODE_MAINTENANCE:
		return "maintenance";
	default:
		return "unknown";
	}
}

static int config_k_mode(struct hmd_config *cfg, const char *v)
{
	return config_mode_parse(v, &cfg->mode);
}

static int config_k_db(struct hmd_config *cfg, const char *v)
{
	return config_path_into(cfg->db, sizeof(cfg->db), v);
}

static int config_k_key(struct hmd_config *cfg, const char *v)
{
	return config_path_into(cfg->key, sizeof(cfg->key), v);
}

static int config_k_socket(struct hmd_config *cfg, const char *v)
{
	struct sockaddr_un sun;

	/* bind() needs the path (and its NUL) inside sun_path */
	return config_path_into(cfg->socket, sizeof(sun.sun_path), v);
}

static int config_k_match(struct hmd_config *cfg, const char *v)
{
	if (strcmp(v, "path+hash") == 0)
		cfg->match = HMD_MATCH_PATH_HASH;
	else if (strcmp(v, "hash") == 0)
		cfg->match = HMD_MATCH_HASH;
	else
		return -EINVAL;
	return 0;
}

static int config_k_on_error(struct hmd_config *cfg, const char *v)
{
	if (strcmp(v, "deny") == 0)
		cfg->on_error = HMD_ON_ERROR_DENY;
	else if (strcmp(v, "allow") == 0)
		cfg->on_error = HMD_ON_ERROR_ALLOW;
	else
		return -EINVAL;
	return 0;
}

static int config_k_workers(struct hmd_config *cfg, const char *v)
{
	unsigned long long x;

	if (config_unsigned(v, 0, HMD_MAX_WORKERS, &x))
		return -EINVAL;
	cfg->workers = (unsigned)x;
	return 0;
}

static int config_k_queue(struct hmd_config *cfg, const char *v)
{
	unsigned long long x;

	if (config_unsigned(v, HMD_MIN_QUEUE, HMD_MAX_QUEUE, &x))
		return -EINVAL;
	cfg->queue_len = (unsigned)x;
	return 0;
}

static int config_k_cache(struct hmd_config *cfg, const char *v)
{
	unsigned long long x;

	if (config_unsigned(v, HMD_MIN_CACHE, HMD_MAX_CACHE, &x))
		return -EINVAL;
	cfg->cache_entries = (size_t)x;
	return 0;
}

/* A size in bytes: digits, then optionally K, M, G or T (powers of 1024). */
static int config_k_max_unlisted(struct hmd_config *cfg, const char *v)
{
	static const char units[] = "KMGT";
	unsigned long long x, mul = 1;
	char num[32];
	size_t n = strspn(v, "0123456789");
	const char *u;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	if (v[n] != '\0') {
		u = strchr(units, v[n]);
		if (!u || v[n + 1] != '\0')
			return -EINVAL;
		mul = 1ull << (10 * (u - units + 1));
	}
	memcpy(num, v, n);
	num[n] = '\0';
	if (config_unsigned(num, 1, HMD_MAX_MAX_UNLISTED, &x) || x > HMD_MAX_MAX_UNLISTED / mul ||
	    x * mul < HMD_MIN_MAX_UNLISTED)
		return -EINVAL;
	cfg->max_unlisted_size = x * mul;
	return 0;
}

static int config_k_helper(struct hmd_config *cfg, const char *v)
{
	if (strcmp(v, "auto") == 0)
		cfg->helper = HMD_HELPER_AUTO;
	else if (strcmp(v, "required") == 0)
		cfg->helper = HMD_HELPER_REQUIRED;
	else if (strcmp(v, "off") == 0)
		cfg->helper = HMD_HELPER_OFF;
	else
		return -EINVAL;
	return 0;
}

static int config_k_strict_identity(struct hmd_config *cfg, const char *v)
{
	return config_bool(v, &cfg->strict_identity);
}

static int config_k_strict_wx(struct hmd_config *cfg, const char *v)
{
	return config_bool(v, &cfg->strict_wx);
}

static int config_k_user_namespaces(struct hmd_config *cfg, const char *v)
{
	if (strcmp(v, "keep") == 0)
		cfg->userns_off = false;
	else if (strcmp(v, "off") == 0)
		cfg->userns_off = true;
	else
		return -EINVAL;
	return 0;
}

static int config_k_admin_password_file(struct hmd_config *cfg, const char *v)
{
	return config_path_into(cfg->admin_password_file, sizeof(cfg->admin_password_file), v);
}

static int config_k_import_pubkey(struct hmd_config *cfg, const char *v)
{
	return config_path_into(cfg->import_pubkey, sizeof(cfg->import_pubkey), v);
}

/* Space- or tab-separated absolute paths; an empty value means every
 * filesystem. Existence is checked when the marks are placed (mounts.c). */
static int config_k_mounts(struct hmd_config *cfg, const char *v)
{
	char tok[PATH_MAX];
	size_t n, len;

	cfg->n_watch = 0;
	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			return 0;
		len = strcspn(v, " \t");
		if (len >= sizeof(tok) || cfg->n_watch >= HMD_MAX_WATCH)
			return -EINVAL;
		memcpy(tok, v, len);
		tok[len] = '\0';
		n = cfg->n_watch;
		if (config_path_into(cfg->watch[n], sizeof(cfg->watch[n]), tok))
			return -EINVAL;
		cfg->n_watch++;
		v += len;
	}
}

/* Blank-separated absolute glob(3) patterns (the kernel helper's script
 * interpreters); an empty value means none. */
/* Blank-separated absolute glob patterns into pat[]; *n set to how many. */
static int config_patterns(const char *v, char (*pat)[HMD_INTERP_LEN], size_t *n)
{
	size_t len;

	*n = 0;
	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			return 0;
		len = strcspn(v, " \t");
		if (v[0] != '/' || len >= HMD_INTERP_LEN || *n >= HMD_MAX_INTERP)
			return -EINVAL;
		memcpy(pat[*n], v, len);
		pat[(*n)++][len] = '\0';
		v += len;
	}
}

static int config_k_interpreters(struct hmd_config *cfg, const char *v)
{
	cfg->interp_set = true;
	return config_patterns(v, cfg->interp, &cfg->n_interp);
}

static int config_k_wx_exempt(struct hmd_config *cfg, const char *v)
{
	return config_patterns(v, cfg->wx_exempt, &cfg->n_wx_exempt);
}

/* [init] roots is read by `hmilock init` (the trees it scans by default),
 * not by the daemon; the daemon checks it like every other key so that a
 * typo in the shared file is caught by --check-config too. Blank-separated
 * absolute paths, at least one; whether they exist is init's business. */
static int config_paths(const char *v, char (*out)[PATH_MAX], size_t max, size_t *n)
{
	size_t len;

	*n = 0;
	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			return *n ? 0 : -EINVAL;
		len = strcspn(v, " \t");
		if (v[0] != '/' || len >= PATH_MAX || *n >= max)
			return -EINVAL;
		memcpy(out[*n], v, len);
		out[(*n)++][len] = '\0';
		v += len;
	}
}

static int config_k_roots(struct hmd_config *cfg, const char *v)
{
	return config_paths(v, cfg->roots, HMD_MAX_ROOTS, &cfg->n_roots);
}

/* [prescan]: read by whatever approves files (the CLI's init and add,
 * hmilockd's maintenance end and update); whether they load is theirs to
 * say, naming the file, when they do. */
static int config_k_prescan_db(struct hmd_config *cfg, const char *v)
{
	return config_paths(v, cfg->prescan_db, HMD_MAX_PRESCAN, &cfg->n_prescan_db);
}

static int config_k_blocklists(struct hmd_config *cfg, const char *v)
{
	return config_paths(v, cfg->blocklists, HMD_MAX_PRESCAN, &cfg->n_blocklists);
}

static int config_k_maint_timeout(struct hmd_config *cfg, const char *v)
{
	uint32_t secs;

	if (hmc_duration_parse(v, &secs) < 0)
		return -EINVAL;
	cfg->maint_timeout_s = secs;
	return 0;
}

/* Blank-separated uids (decimal, below 2^32 - 1); root is always one of
 * them, listed or not. */
static int config_k_writers(struct hmd_config *cfg, const char *v)
{
	unsigned long long u;
	char *end;

	cfg->n_writers = 1; /* writers[0] is root */
	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			return 0;
		if (*v < '0' || *v > '9' || cfg->n_writers >= HMD_MAX_WRITERS)
			return -EINVAL;
		errno = 0;
		u = strtoull(v, &end, 10);
		if (errno || u >= UINT32_MAX || (*end && *end != ' ' && *end != '\t'))
			return -EINVAL;
		cfg->writers[cfg->n_writers++] = (uint32_t)u;
		v = end;
	}
}

bool config_is_writer(const struct hmd_config *cfg, uint32_t uid)
{
	size_t i;

	for (i = 0; i < cfg->n_writers; i++)
		if (cfg->writers[i] == uid)
			return true;
	return false;
}

/* "auto" (the cgroup2 mount's hmilock-update) or an absolute path; that it
 * lies below the cgroup2 mount is checked at start (update.c). */
static int config_k_cgroup_root(struct hmd_config *cfg, const char *v)
{
	if (!strcmp(v, "auto")) {
		cfg->cgroup_root[0] = '\0';
		return 0;
	}
	return config_path_into(cfg->cgroup_root, sizeof(cfg->cgroup_root), v);
}

/* One line of printable text (UTF-8 allowed), not empty. */
static int config_k_notify_message(struct hmd_config *cfg, const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0 || n >= sizeof(cfg->notify_message))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return -EINVAL;
	memcpy(cfg->notify_message, v, n + 1);
	return 0;
}

/* A duration from 1 s to HMD_MAX_INTERVAL ([notify], [metrics]). */
static int config_interval(const char *v, unsigned *out)
{
	uint32_t secs;

	if (hmc_duration_parse(v, &secs) < 0 || secs > HMD_MAX_INTERVAL)
		return -EINVAL;
	*out = secs;
	return 0;
}

static int config_k_notify_interval(struct hmd_config *cfg, const char *v)
{
	return config_interval(v, &cfg->notify_interval_s);
}

/* "off", or an absolute path that fits a sockaddr_un. */
static int config_k_events_socket(struct hmd_config *cfg, const char *v)
{
	if (!strcmp(v, "off")) {
		cfg->events_socket[0] = '\0';
		return 0;
	}
	/* as config_k_socket: bind() needs the path and its NUL in sun_path */
	return config_path_into(cfg->events_socket, sizeof(((struct sockaddr_un *)0)->sun_path), v);
}

/* A group name as useradd(8) takes it: [a-z_][a-z0-9_-]*, at most 32. */
static int config_k_events_group(struct hmd_config *cfg, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n ||
	    v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
		return -EINVAL;
	memcpy(cfg->events_group, v, n + 1);
	return 0;
}

/* "off", or an absolute path ending in ".prom" (the node exporter reads
 * nothing else). */
static int config_k_metrics_textfile(struct hmd_config *cfg, const char *v)
{
	size_t n = strlen(v);

	if (!strcmp(v, "off")) {
		cfg->metrics_textfile[0] = '\0';
		return 0;
	}
	if (n <= 5 || strcmp(v + n - 5, ".prom") || v[n - 6] == '/')
		return -EINVAL;
	return config_path_into(cfg->metrics_textfile, sizeof(cfg->metrics_textfile), v);
}

static int config_k_metrics_interval(struct hmd_config *cfg, const char *v)
{
	return config_interval(v, &cfg->metrics_interval_s);
}

#define CONFIG_STR(x) CONFIG_STR2(x)
#define CONFIG_STR2(x) #x

static const struct config_key config_keys[] = {
    {"agent", "mode", config_k_mode, "enforce or audit"},
    {"agent", "db", config_k_db, "an absolute path shorter than PATH_MAX"},
    {"agent", "key", config_k_key, "an absolute path shorter than PATH_MAX"},
    {"agent", "socket", config_k_socket, "an absolute path of at most 107 bytes"},
    {"agent", "match", config_k_match, "path+hash or hash"},
    {"agent", "on_error", config_k_on_error, "deny or allow"},
    {"agent", "workers", config_k_workers,
     "a number from 0 (one per core) to " CONFIG_STR(HMD_MAX_WORKERS)},
    {"agent", "queue", config_k_queue,
     "a number from " CONFIG_STR(HMD_MIN_QUEUE) " to " CONFIG_STR(HMD_MAX_QUEUE)},
    {"agent", "cache_entries", config_k_cache,
     "a number from " CONFIG_STR(HMD_MIN_CACHE) " to " CONFIG_STR(HMD_MAX_CACHE)},
    {"agent", "max_unlisted_size", config_k_max_unlisted,
     "a size from 1M to 1T: bytes, or a number with K, M, G or T (powers of 1024)"},
    {"agent", "helper", config_k_helper, "auto, required or off"},
    {"agent", "strict_wx", config_k_strict_wx, "yes or no"},
    {"agent", "strict_identity", config_k_strict_identity, "yes or no"},
    {"agent", "user_namespaces", config_k_user_namespaces, "keep or off"},
    {"agent", "interpreters", config_k_interpreters,
     "absolute glob patterns separated by blanks, each under " CONFIG_STR(
         HMD_INTERP_LEN) " bytes, at most " CONFIG_STR(HMD_MAX_INTERP)},
    {"agent", "wx_exempt", config_k_wx_exempt,
     "absolute glob patterns separated by blanks, each under " CONFIG_STR(
         HMD_INTERP_LEN) " bytes, at most " CONFIG_STR(HMD_MAX_INTERP)},
    {"agent", "admin_password_file", config_k_admin_password_file,
     "an absolute path shorter than PATH_MAX"},
    {"agent", "import_pubkey", config_k_import_pubkey, "an absolute path shorter than PATH_MAX"},
    {"watch", "mounts", config_k_mounts,
     "absolute paths separated by blanks, at most " CONFIG_STR(HMD_MAX_WATCH)},
    {"init", "roots", config_k_roots,
     "absolute paths separated by blanks, at most " CONFIG_STR(
         HMD_MAX_ROOTS) " (for hmilock init)"},
    {"prescan", "databases", config_k_prescan_db,
     "absolute paths of ClamAV signature files or directories separated by blanks, at "
     "most " CONFIG_STR(HMD_MAX_PRESCAN)},
    {"prescan", "blocklists", config_k_blocklists,
     "absolute paths of SHA-256 blocklist files or directories separated by blanks, at "
     "most " CONFIG_STR(HMD_MAX_PRESCAN)},
    {"maintenance", "default_timeout", config_k_maint_timeout,
     "a duration from 1s to 7d (e.g. 90s, 30m, 2h, 1d)"},
    {"maintenance", "writers", config_k_writers,
     "uids separated by blanks, at most " CONFIG_STR(HMD_MAX_WRITERS) " with root (always one)"},
    {"update", "cgroup_root", config_k_cgroup_root,
     "auto or an absolute path below the cgroup v2 mount"},
    {"events", "socket", config_k_events_socket, "off or an absolute path of at most 107 bytes"},
    {"events", "group", config_k_events_group,
     "a group name: lower-case letters, digits, _ and -, at most 32"},
    {"notify", "message", config_k_notify_message,
     "one line of text, at most " CONFIG_STR(HMD_NOTIFY_MESSAGE_LEN) " bytes less one"},
    {"notify", "interval", config_k_notify_interval, "a duration from 1s to 1h (e.g. 30s)"},
    {"metrics", "textfile", config_k_metrics_textfile,
     "off or an absolute path ending in .prom, shorter than PATH_MAX"},
    {"metrics", "interval", config_k_metrics_interval, "a duration from 1s to 1h (e.g. 5s, 1m)"},
};
#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))
_Static_assert(CONFIG_NKEYS <= sizeof(((struct config_ctx *)0)->seen) / sizeof(int),
               "config_ctx.seen too small for the key table");

void config_defaults(struct hmd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = HMD_MODE_ENFORCE;
	snprintf(cfg->db, sizeof(cfg->db), "%s", HMD_DEFAULT_DB);
	snprintf(cfg->key, sizeof(cfg->key), "%s", HMD_DEFAULT_KEY);
	snprintf(cfg->socket, sizeof(cfg->socket), "%s", HMD_DEFAULT_SOCKET);
	cfg->match = HMD_MATCH_PATH_HASH;
	cfg->on_error = HMD_ON_ERROR_DENY;
	cfg->workers = 0;
	cfg->queue_len = HMD_DEFAULT_QUEUE;
	cfg->cache_entries = HMD_DEFAULT_CACHE;
	cfg->max_unlisted_size = HMD_DEFAULT_MAX_UNLISTED;
	cfg->helper = HMD_HELPER_AUTO;
	cfg->strict_wx = true; /* W^X: on unless the configuration says no */
	snprintf(cfg->admin_password_file, sizeof(cfg->admin_password_file), "%s",
	         HMD_DEFAULT_PASSWORD_FILE);
	snprintf(cfg->import_pubkey, sizeof(cfg->import_pubkey), "%s", HMD_DEFAULT_IMPORT_PUBKEY);
	cfg->n_watch = 0;
	cfg->maint_timeout_s = HMD_DEFAULT_MAINT_TIMEOUT;
	cfg->writers[0] = 0; /* root */
	cfg->n_writers = 1;
	snprintf(cfg->events_socket, sizeof(cfg->events_socket), "%s", HMD_DEFAULT_EVENTS_SOCKET);
	snprintf(cfg->events_group, sizeof(cfg->events_group), "%s", HMD_DEFAULT_EVENTS_GROUP);
	snprintf(cfg->notify_message, sizeof(cfg->notify_message), "%s",
	         HMD_DEFAULT_NOTIFY_MESSAGE);
	cfg->notify_interval_s = HMD_DEFAULT_NOTIFY_INTERVAL;
	snprintf(cfg->metrics_textfile, sizeof(cfg->metrics_textfile), "%s", HMD_DEFAULT_METRICS);
	cfg->metrics_interval_s = HMD_DEFAULT_METRICS_INTERVAL;
	snprintf(cfg->path, sizeof(cfg->path), "%s", HMD_DEFAULT_CONFIG);
}

/* Quote a value for a one-line message: printable ASCII as is, other bytes
 * as \xHH, cut after CONFIG_SHOW_VALUE bytes. */
static void config_quote(const char *v, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t o = 0, i;

	for (i = 0; s[i] && o + 8 < outlen; i++) {
		if (i == CONFIG_SHOW_VALUE) {
			o += (size_t)snprintf(out + o, outlen - o, "...");
			break;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			out[o++] = (char)s[i];
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", s[i]);
	}
	out[o] = '\0';
}

static void config_fail(struct config_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record the first error as "<file>:<line>: <text>". */
static void config_fail(struct config_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err)
		return;
	c->err = -EINVAL;
	n = snprintf(c->msg, c->msglen, "%s:%d: ", c->cfg->path, c->line);
	if (n < 0 || (size_t)n >= c->msglen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->msg + n, c->msglen - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool config_known_section(const char *s)
{
	return strcmp(s, "agent") == 0 || strcmp(s, "watch") == 0 || strcmp(s, "init") == 0 ||
	       strcmp(s, "prescan") == 0 || strcmp(s, "maintenance") == 0 ||
	       strcmp(s, "update") == 0 || strcmp(s, "events") == 0 || strcmp(s, "notify") == 0 ||
	       strcmp(s, "metrics") == 0;
}

static const struct config_key *config_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* The names of every key of section, comma separated, for messages. */
static void config_key_names(const char *section, char *out, size_t outlen)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < CONFIG_NKEYS && o < outlen; i++)
		if (strcmp(config_keys[i].section, section) == 0)
			o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "",
			                      config_keys[i].name);
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_ctx *c = user;
	const struct config_key *k;
	char q[CONFIG_SHOW_VALUE * 4 + 8], names[256];
	size_t idx;

	if (c->err)
		return 0;
	if (section[0] == '\0') {
		config_fail(
		    c, "%s: key outside a section (put it under [agent], [watch] or [init])", name);
		return 0;
	}
	if (!config_known_section(section)) {
		config_fail(c,
		            "[%s]: unknown section (known: [agent], [watch], [init], "
		            "[maintenance], [update], [events], [notify], [metrics])",
		            section);
		return 0;
	}
	k = config_find(section, name);
	if (!k) {
		config_key_names(section, names, sizeof(names));
		config_fail(c, "[%s] %s: unknown key (known: %s)", section, name, names);
		return 0;
	}
	idx = (size_t)(k - config_keys);
	if (c->seen[idx]) {
		config_fail(c, "[%s] %s: given twice (first on line %d)", section, name,
		            c->seen[idx]);
		return 0;
	}
	c->seen[idx] = c->line;
	if (k->parse(c->cfg, value)) {
		config_quote(value, q, sizeof(q));
		config_fail(c, "[%s] %s: bad value '%s' (expected %s)", section, name, q,
		            k->expected);
		return 0;
	}
	return 1;
}

/* A line that starts a section: check the name like inih will read it
 * (everything between '[' and the first ']'). */
static void config_check_header(struct config_ctx *c, const char *s)
{
	char name[64], q[CONFIG_SHOW_VALUE * 4 + 8];
	const char *end;
	size_t n;

	end = strchr(s, ']');
	if (!end)
		return; /* inih reports the syntax error */
	n = (size_t)(end - s - 1);
	if (n < sizeof(name)) {
		memcpy(name, s + 1, n);
		name[n] = '\0';
		if (config_known_section(name))
			return;
	}
	config_quote(s, q, sizeof(q));
	config_fail(
	    c,
	    "%s: unknown section (known: [agent], [watch], [init], [prescan], [maintenance], "
	    "[update], [events], [notify], [metrics])",
	    q);
}

/* ini_reader: one line per call, counted; see the comment at the top. */
static char *config_reader(char *str, int num, void *stream)
{
	struct config_ctx *c = stream;
	ssize_t n;

	if (c->err)
		return NULL;
	n = getline(&c->raw, &c->raw_cap, c->fp);
	if (n < 0) {
		if (ferror(c->fp))
			c->read_errno = errno ? errno : EIO;
		return NULL;
	}
	c->line++;
	if (memchr(c->raw, '\0', (size_t)n)) {
		config_fail(c, "NUL byte in line");
		return NULL;
	}
	if (n >= num) { /* would not fit str with its NUL: inih would split it */
		config_fail(c, "line longer than %d bytes", num - 1);
		return NULL;
	}
	memcpy(str, c->raw, (size_t)n + 1);
	c->raw[strcspn(c->raw, "\r\n")] = '\0';
	if (c->raw[strspn(c->raw, " \t")] == '[')
		config_check_header(c, c->raw + strspn(c->raw, " \t"));
	return c->err ? NULL : str;
}

/* inih's behaviour is set through globals in Debian's build; set what this
 * parser relies on every time (the CLI may use inih differently). */
static void config_inih_setup(void)
{
	ini_max_line = CONFIG_MAX_LINE;
	ini_allow_multiline = false; /* an indented line is an error, not a value */
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;
	ini_allow_inline_comments = true; /* " ;" starts a comment */
}

/* Parse the open stream c->fp; the caller has set the defaults and path. */
static int config_parse(struct config_ctx *c)
{
	char q[CONFIG_SHOW_VALUE * 4 + 8];
	int rc;

	config_inih_setup();
	rc = ini_parse_stream(config_reader, c, config_handler, c);
	if (!c->err && c->read_errno) {
		c->err = -c->read_errno;
		snprintf(c->msg, c->msglen, "%s: cannot read configuration: %s", c->cfg->path,
		         strerror(c->read_errno));
	} else if (!c->err && rc > 0) {
		/* inih's own syntax error; with stop_on_first_error it is the
		 * last line we handed out */
		c->line = rc;
		config_quote(c->raw ? c->raw : "", q, sizeof(q));
		config_fail(c, "syntax error: '%s' (expected [section], key = value or a comment)",
		            q);
	} else if (!c->err && rc < 0) {
		snprintf(c->msg, c->msglen, "%s: cannot parse configuration (out of memory)",
		         c->cfg->path);
		c->err = -ENOMEM;
	}
	free(c->raw);
	return c->err;
}

static int config_set_path(struct hmd_config *cfg, const char *path, char *msg, size_t msglen)
{
	config_defaults(cfg);
	msg[0] = '\0';
	if (strlen(path) >= sizeof(cfg->path)) {
		snprintf(msg, msglen, "configuration path too long");
		return -ENAMETOOLONG;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	return 0;
}

int config_load_stream(struct hmd_config *cfg, FILE *fp, const char *name, char *msg, size_t msglen)
{
	struct config_ctx c = {.cfg = cfg, .msg = msg, .msglen = msglen, .fp = fp};
	int rc = config_set_path(cfg, name, msg, msglen);

	return rc < 0 ? rc : config_parse(&c);
}

int config_load(struct hmd_config *cfg, const char *path, char *msg, size_t msglen)
{
	struct config_ctx c = {.cfg = cfg, .msg = msg, .msglen = msglen};
	struct stat st;
	int rc;

	if (!path)
		path = HMD_DEFAULT_CONFIG;
	rc = config_set_path(cfg, path, msg, msglen);
	if (rc < 0)
		return rc;
	c.fp = fopen(path, "re");
	if (!c.fp) {
		rc = -errno;
		snprintf(msg, msglen, "%s: cannot read configuration: %s", path, strerror(-rc));
		return rc;
	}
	if (!fstat(fileno(c.fp), &st)) {
		cfg->path_dev = st.st_dev;
		cfg->path_ino = st.st_ino;
	}
	rc = config_parse(&c);
	fclose(c.fp);
	return rc;
}

bool config_has_prescan(const struct hmd_config *cfg)
{
	return cfg->n_prescan_db + cfg->n_blocklists > 0;
}
