/* test_config.c - config.c: every key's good values parse, every bad key or
 * value is refused with a message naming file, line, section, key and value;
 * the packaged default config parses. Table-driven; writes files under a
 * private temporary directory. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fixture.h"

static char tc_dir[FX_DIR_LEN];
static char tc_file[PATH_MAX];
static struct hmd_config tc_cfg; /* large: keep it off the stack */

static void tc_write(const char *text, size_t len)
{
	FILE *f = fopen(tc_file, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Canonical "key=value;" dump of everything config_load fills. */
static void tc_dump(const struct hmd_config *c, char *out, size_t outlen)
{
	size_t o, i;

	o = (size_t)snprintf(out, outlen,
	                     "mode=%s;db=%s;key=%s;socket=%s;match=%d;on_error=%d;workers=%u;"
	                     "queue=%u;cache_entries=%zu;max_unlisted=%llu;helper=%d;strict_wx=%d;"
	                     "strict_identity=%d;n_watch=%zu;",
	                     config_mode_name(c->mode), c->db, c->key, c->socket, (int)c->match,
	                     (int)c->on_error, c->workers, c->queue_len, c->cache_entries,
	                     c->max_unlisted_size, (int)c->helper, (int)c->strict_wx,
	                     (int)c->strict_identity, c->n_watch);
	for (i = 0; i < c->n_watch && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "watch%zu=%s;", i, c->watch[i]);
	if (o < outlen)
		o += (size_t)snprintf(out + o, outlen - o, "interp_set=%d;n_interp=%zu;",
		                      (int)c->interp_set, c->n_interp);
	for (i = 0; i < c->n_interp && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "interp%zu=%s;", i, c->interp[i]);
	if (o < outlen)
		o += (size_t)snprintf(out + o, outlen - o, "n_wx_exempt=%zu;userns_off=%d;",
		                      c->n_wx_exempt, (int)c->userns_off);
	for (i = 0; i < c->n_wx_exempt && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "wx%zu=%s;", i, c->wx_exempt[i]);
	if (o < outlen)
		o += (size_t)snprintf(out + o, outlen - o, "n_roots=%zu;", c->n_roots);
	for (i = 0; i < c->n_roots && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "root%zu=%s;", i, c->roots[i]);
	if (o < outlen)
		o += (size_t)snprintf(out + o, outlen - o,
		                      "admin_password_file=%s;import_pubkey=%s;",
		                      c->admin_password_file, c->import_pubkey);
	if (o < outlen)
		o += (size_t)snprintf(out + o, outlen - o,
		                      "metrics=%s;metrics_interval=%u;events=%s;events_group=%s;"
		                      "notify=%s;notify_interval=%u;",
		                      c->metrics_textfile, c->metrics_interval_s, c->events_socket,
		                      c->events_group, c->notify_message, c->notify_interval_s);
}

struct tc_good {
	const char *text;
	const char *want; /* substrings of the dump, separated by '|' */
};

static const struct tc_good tc_goods[] = {
    {"", "mode=enforce;|db=" HMD_DEFAULT_DB ";|socket=" HMD_DEFAULT_SOCKET ";|n_watch=0;"},
    {"; only a comment\n# another\n\n", "mode=enforce;|match=0;|on_error=0;"},
    {"[agent]\nmode = enforce\n", "mode=enforce;"},
    {"[agent]\nmode = audit\n", "mode=audit;"},
    {"[agent]\nmode=audit ; trailing comment\n", "mode=audit;"},
    {"[agent]\nmode: audit\n", "mode=audit;"},
    {"[agent]\ndb = /var/lib/x/approved.db\n", "db=/var/lib/x/approved.db;"},
    {"[agent]\ndb = /a b/c\n", "db=/a b/c;"},
    {"[agent]\nkey = /etc/k\n", "key=/etc/k;"},
    {"[agent]\nsocket = /tmp/t/s.sock\n", "socket=/tmp/t/s.sock;"},
    {"[agent]\nmatch = path+hash\n", "match=0;"},
    {"[agent]\nmatch = hash\n", "match=1;"},
    {"[agent]\non_error = deny\n", "on_error=0;"},
    {"[agent]\non_error = allow\n", "on_error=1;"},
    {"[agent]\nworkers = 0\n", "workers=0;"},
    {"[agent]\nworkers = 8\n", "workers=8;"},
    {"[agent]\nworkers = 256\n", "workers=256;"},
    {"[agent]\nqueue = 16\n", "queue=16;"},
    {"[agent]\nqueue = 1048576\n", "queue=1048576;"},
    {"[agent]\ncache_entries = 64\n", "cache_entries=64;"},
    {"[agent]\ncache_entries = 16777216\n", "cache_entries=16777216;"},
    {"", "max_unlisted=268435456;"},
    {"[agent]\nmax_unlisted_size = 1048576\n", "max_unlisted=1048576;"},
    {"[agent]\nmax_unlisted_size = 1024K\n", "max_unlisted=1048576;"},
    {"[agent]\nmax_unlisted_size = 64M\n", "max_unlisted=67108864;"},
    {"[agent]\nmax_unlisted_size = 2G\n", "max_unlisted=2147483648;"},
    {"[agent]\nmax_unlisted_size = 1T\n", "max_unlisted=1099511627776;"},
    {"[agent]\nhelper = auto\n", "helper=0;"},
    {"[agent]\nhelper = required\n", "helper=1;"},
    {"[agent]\nhelper = off\n", "helper=2;"},
    {"[agent]\nstrict_wx = yes\n", "strict_wx=1;"},
    {"[agent]\nstrict_wx = no\n", "strict_wx=0;"},
    {"[agent]\nstrict_wx = true\n", "strict_wx=1;"},
    {"[agent]\nstrict_wx = Off\n", "strict_wx=0;"},
    {"[agent]\nstrict_identity = yes\n", "strict_identity=1;"},
    {"[agent]\nstrict_identity = no\n", "strict_identity=0;"},
    {"[agent]\ninterpreters = /usr/bin/python3* /bin/sh\n",
     "interp_set=1;n_interp=2;interp0=/usr/bin/python3*;interp1=/bin/sh;"},
    {"[agent]\ninterpreters =\n", "interp_set=1;n_interp=0;"},
    {"[agent]\nmode = audit\n", "strict_wx=1;|n_wx_exempt=0;userns_off=0;"},
    {"[agent]\nwx_exempt = /usr/bin/node /usr/lib/jvm/*/bin/java\n",
     "n_wx_exempt=2;|wx0=/usr/bin/node;wx1=/usr/lib/jvm/*/bin/java;"},
    {"[agent]\nuser_namespaces = off\n", "userns_off=1;"},
    {"[agent]\nuser_namespaces = keep\n", "userns_off=0;"},
    {"[watch]\nmounts =\n", "n_watch=0;"},
    {"[watch]\nmounts = /mnt/a\n", "n_watch=1;|watch0=/mnt/a;"},
    {"[watch]\nmounts = /mnt/a  \t/srv/b /c\n",
     "n_watch=3;|watch0=/mnt/a;|watch1=/srv/b;|watch2=/c;"},
    {"\xef\xbb\xbf[agent]\r\nmode = audit\r\n", "mode=audit;"},
    {"[init]\nroots = /usr /opt/hmi\n[agent]\nmode = audit\n",
     "mode=audit;|n_roots=2;root0=/usr;root1=/opt/hmi;"},
    {"[init]\nroots = \t/a  /b\t/c \n", "n_roots=3;root0=/a;root1=/b;root2=/c;"},
    {"[init]\n# roots = /usr\n", "mode=enforce;|n_roots=0;"},
    {"", "admin_password_file=" HMD_DEFAULT_PASSWORD_FILE
         ";import_pubkey=" HMD_DEFAULT_IMPORT_PUBKEY ";"},
    {"[agent]\nadmin_password_file = /t/pw\nimport_pubkey = /t/pub\n",
     "admin_password_file=/t/pw;import_pubkey=/t/pub;"},
    {"[agent]\nmode = audit\n[watch]\nmounts = /m\n[agent]\nworkers = 3\n",
     "mode=audit;|workers=3;|watch0=/m;"},
    {"", "metrics=" HMD_DEFAULT_METRICS ";metrics_interval=5;"},
    {"[metrics]\ntextfile = off\ninterval = 1m\n", "metrics=;metrics_interval=60;"},
    {"[metrics]\ntextfile = /srv/m/x.prom\ninterval = 1\n",
     "metrics=/srv/m/x.prom;metrics_interval=1;"},
    {"[metrics]\ninterval = 1h\n", "metrics_interval=3600;"},
    {"", "events=" HMD_DEFAULT_EVENTS_SOCKET ";events_group=" HMD_DEFAULT_EVENTS_GROUP ";"},
    {"[events]\nsocket = off\ngroup = hmi_ops-2\n", "events=;events_group=hmi_ops-2;"},
    {"[events]\nsocket = /run/x/e.sock\n", "events=/run/x/e.sock;"},
    {"", "notify=" HMD_DEFAULT_NOTIFY_MESSAGE ";notify_interval=30;"},
    {"[notify]\nmessage = Call Anna, ext. 4711 (Störung)\ninterval = 1m\n",
     "notify=Call Anna, ext. 4711 (Störung);notify_interval=60;"},
};

static void test_good_values(void **state)
{
	char dump[8192], msg[512], want[512], *tok, *save;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(tc_goods) / sizeof(tc_goods[0]); i++) {
		tc_write(tc_goods[i].text, strlen(tc_goods[i].text));
		rc = config_load(&tc_cfg, tc_file, msg, sizeof(msg));
		if (rc)
			fail_msg("case %zu: unexpected error %d: %s", i, rc, msg);
		tc_dump(&tc_cfg, dump, sizeof(dump));
		snprintf(want, sizeof(want), "%s", tc_goods[i].want);
		for (tok = strtok_r(want, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
			if (!strstr(dump, tok))
				fail_msg("case %zu: want '%s' in '%s'", i, tok, dump);
	}
}

struct tc_bad {
	const char *text;
	const char *want; /* substring of msg after "<file>:" */
};

static const struct tc_bad tc_bads[] = {
    {"[agent]\nmode = lock\n", "2: [agent] mode: bad value 'lock' (expected enforce or audit)"},
    {"[agent]\nmode = maintenance\n", "2: [agent] mode: bad value 'maintenance'"},
    {"[agent]\nmode = Enforce\n", "2: [agent] mode: bad value 'Enforce'"},
    {"[agent]\nmode =\n", "2: [agent] mode: bad value ''"},
    {"\n\n[agent]\ndb = relative/path\n",
     "4: [agent] db: bad value 'relative/path' (expected an absolute path"},
    {"[agent]\ndb =\n", "2: [agent] db: bad value ''"},
    {"[agent]\nkey = key.bin\n", "2: [agent] key: bad value 'key.bin'"},
    {"[agent]\nsocket = x.sock\n", "2: [agent] socket: bad value 'x.sock'"},
    {"[agent]\nsocket = /tmp/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "2: [agent] socket: bad value '/tmp/aaaa"},
    {"[agent]\nmatch = path\n", "2: [agent] match: bad value 'path' (expected path+hash or hash)"},
    {"[agent]\non_error = ignore\n",
     "2: [agent] on_error: bad value 'ignore' (expected deny or allow)"},
    {"[agent]\nworkers = 257\n", "2: [agent] workers: bad value '257' (expected a number from 0"},
    {"[agent]\nworkers = -1\n", "2: [agent] workers: bad value '-1'"},
    {"[agent]\nworkers = +4\n", "2: [agent] workers: bad value '+4'"},
    {"[agent]\nworkers = 4x\n", "2: [agent] workers: bad value '4x'"},
    {"[agent]\nworkers = 0x10\n", "2: [agent] workers: bad value '0x10'"},
    {"[agent]\nworkers = 99999999999999999999999\n", "2: [agent] workers: bad value '9999"},
    {"[agent]\nqueue = 15\n",
     "2: [agent] queue: bad value '15' (expected a number from 16 to 1048576)"},
    {"[agent]\nqueue = 1048577\n", "2: [agent] queue: bad value '1048577'"},
    {"[agent]\ncache_entries = 63\n", "2: [agent] cache_entries: bad value '63'"},
    {"[agent]\ncache_entries = 16777217\n", "2: [agent] cache_entries: bad value '16777217'"},
    {"[agent]\nmax_unlisted_size = 1048575\n",
     "2: [agent] max_unlisted_size: bad value '1048575' (expected a size from 1M to 1T"},
    {"[agent]\nmax_unlisted_size = 1023K\n", "2: [agent] max_unlisted_size: bad value '1023K'"},
    {"[agent]\nmax_unlisted_size = 2T\n", "2: [agent] max_unlisted_size: bad value '2T'"},
    {"[agent]\nmax_unlisted_size = 1025G\n", "2: [agent] max_unlisted_size: bad value '1025G'"},
    {"[agent]\nmax_unlisted_size = 256MB\n", "2: [agent] max_unlisted_size: bad value '256MB'"},
    {"[agent]\nmax_unlisted_size = 256m\n", "2: [agent] max_unlisted_size: bad value '256m'"},
    {"[agent]\nmax_unlisted_size = M\n", "2: [agent] max_unlisted_size: bad value 'M'"},
    {"[agent]\nmax_unlisted_size = -1M\n", "2: [agent] max_unlisted_size: bad value '-1M'"},
    {"[agent]\nmax_unlisted_size = 99999999999999999999999999999999M\n",
     "2: [agent] max_unlisted_size: bad value '9999"},
    {"[agent]\nmax_unlisted_size = 18446744073709551615K\n",
     "2: [agent] max_unlisted_size: bad value '18446744073709551615K'"},
    {"[agent]\nhelper = on\n",
     "2: [agent] helper: bad value 'on' (expected auto, required or off)"},
    {"[agent]\nwx_exempt = node\n",
     "2: [agent] wx_exempt: bad value 'node' (expected absolute glob patterns"},
    {"[agent]\nuser_namespaces = no\n",
     "2: [agent] user_namespaces: bad value 'no' (expected keep or off)"},
    {"[agent]\ninterpreters = python3\n",
     "2: [agent] interpreters: bad value 'python3' (expected absolute glob patterns"},
    {"[agent]\nstrict_wx = maybe\n",
     "2: [agent] strict_wx: bad value 'maybe' (expected yes or no)"},
    {"[agent]\nstrict_identity = sometimes\n",
     "2: [agent] strict_identity: bad value 'sometimes' (expected yes or no)"},
    {"[watch]\nmounts = /a rel\n",
     "2: [watch] mounts: bad value '/a rel' (expected absolute paths"},
    {"[init]\nroots = usr\n", "2: [init] roots: bad value 'usr' (expected absolute paths"},
    {"[init]\nroots =\n", "2: [init] roots: bad value ''"},
    {"[init]\nroots = /a rel\n", "2: [init] roots: bad value '/a rel' (expected absolute paths"},
    {"[init]\nroot = /usr\n", "2: [init] root: unknown key (known: roots)"},
    {"[agent]\nmode = audit\nmod = enforce\n",
     "3: [agent] mod: unknown key (known: mode, db, key,"},
    {"[agent]\nmounts = /a\n", "2: [agent] mounts: unknown key"},
    {"[watch]\nmode = audit\n", "2: [watch] mode: unknown key (known: mounts)"},
    {"[agents]\nmode = audit\n",
     "1: [agents]: unknown section (known: [agent], [watch], [init], [prescan], [maintenance], "
     "[update], [events], [notify], [metrics])"},
    {"[prescan]\ndatabases = clamav\n",
     "2: [prescan] databases: bad value 'clamav' (expected absolute paths of ClamAV"},
    {"[prescan]\nblocklists =\n", "2: [prescan] blocklists: bad value ''"},
    {"[prescan]\ndatabase = /x\n",
     "2: [prescan] database: unknown key (known: databases, blocklists)"},
    {"[notify]\nmessage =\n", "2: [notify] message: bad value '' (expected one line of text"},
    {"[notify]\nmessage = call\x01x\n", "2: [notify] message: bad value 'call\\x01x'"},
    {"[notify]\ninterval = 2h\n",
     "2: [notify] interval: bad value '2h' (expected a duration from 1s to 1h"},
    {"[events]\nsocket = events.sock\n",
     "2: [events] socket: bad value 'events.sock' (expected off or an absolute path of at most "
     "107 bytes)"},
    {"[events]\ngroup = Operators\n",
     "2: [events] group: bad value 'Operators' (expected a group name"},
    {"[events]\ngroup = -x\n", "2: [events] group: bad value '-x'"},
    {"[events]\ngroup =\n", "2: [events] group: bad value ''"},
    {"[events]\ngroup = a b\n", "2: [events] group: bad value 'a b'"},
    {"[metrics]\ntextfile = hmilock.prom\n",
     "2: [metrics] textfile: bad value 'hmilock.prom' (expected off or an absolute path ending "
     "in .prom"},
    {"[metrics]\ntextfile = /var/lib/x.txt\n", "2: [metrics] textfile: bad value '/var/lib/x.txt'"},
    {"[metrics]\ntextfile = /var/lib/.prom\n", "2: [metrics] textfile: bad value"},
    {"[metrics]\ntextfile =\n", "2: [metrics] textfile: bad value ''"},
    {"[metrics]\ninterval = 0\n",
     "2: [metrics] interval: bad value '0' (expected a duration from 1s to 1h"},
    {"[metrics]\ninterval = 2h\n", "2: [metrics] interval: bad value '2h'"},
    {"[metrics]\ninterval = 5x\n", "2: [metrics] interval: bad value '5x'"},
    {"[metrics]\nfile = /x.prom\n", "2: [metrics] file: unknown key (known: textfile, interval)"},
    {"[agent]\n[extra]\n", "2: [extra]: unknown section"},
    {"mode = audit\n", "1: mode: key outside a section"},
    {"[agent]\nmode = audit\nmode = enforce\n", "3: [agent] mode: given twice (first on line 2)"},
    {"[agent]\nthis is not a key\n", "2: syntax error: 'this is not a key'"},
    {"[agent\nmode = audit\n", "1: syntax error: '[agent'"},
    {"[agent]\nmode = audit\n  enforce\n", "3: syntax error: '  enforce'"},
    {"[agent]\nmode = \x01\xff\n", "2: [agent] mode: bad value '\\x01\\xff'"},
    {"[agent]\n# fine\n; fine\nworkers = 1\nworkers = 2\n", "5: [agent] workers: given twice"},
};

static void test_bad_values(void **state)
{
	char msg[512], prefix[PATH_MAX + 2];
	size_t i;
	int rc;

	(void)state;
	snprintf(prefix, sizeof(prefix), "%s:", tc_file);
	for (i = 0; i < sizeof(tc_bads) / sizeof(tc_bads[0]); i++) {
		tc_write(tc_bads[i].text, strlen(tc_bads[i].text));
		memset(msg, 0, sizeof(msg));
		rc = config_load(&tc_cfg, tc_file, msg, sizeof(msg));
		if (rc != -EINVAL)
			fail_msg("case %zu: rc %d, want -EINVAL (msg '%s')", i, rc, msg);
		if (strncmp(msg, prefix, strlen(prefix)) != 0 ||
		    !strstr(msg + strlen(prefix), tc_bads[i].want) ||
		    strncmp(msg + strlen(prefix), tc_bads[i].want, 2) != 0)
			fail_msg("case %zu: msg '%s', want '%s%s'", i, msg, prefix,
			         tc_bads[i].want);
		if (strchr(msg, '\n'))
			fail_msg("case %zu: msg spans lines: '%s'", i, msg);
	}
}

static void test_nul_and_long_lines(void **state)
{
	static const char nul[] = "[agent]\nmode = au\0dit\n";
	static char big[20000 + 32];
	size_t n = 20000;
	char msg[512];
	int rc;

	(void)state;
	tc_write(nul, sizeof(nul) - 1);
	rc = config_load(&tc_cfg, tc_file, msg, sizeof(msg));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(msg, ":2: NUL byte in line"));

	memcpy(big, "[agent]\ndb = /", 14);
	memset(big + 14, 'a', n);
	memcpy(big + 14 + n, "\n", 2);
	tc_write(big, strlen(big));
	rc = config_load(&tc_cfg, tc_file, msg, sizeof(msg));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(msg, ":2: line longer than"));
}

static void test_long_path_value(void **state)
{
	static char text[PATH_MAX + 10 + 64];
	size_t n = PATH_MAX + 10;
	char msg[512];
	int rc;

	(void)state;
	strcpy(text, "[agent]\ndb = /");
	memset(text + strlen(text), 'b', n);
	strcpy(text + 14 + n, "\n");
	tc_write(text, strlen(text));
	rc = config_load(&tc_cfg, tc_file, msg, sizeof(msg));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(msg, ":2: [agent] db: bad value '/bbbb"));
	assert_non_null(strstr(msg, "...'")); /* quoted value is cut */
}

/* key = max blank-separated paths parse; one more is refused. */
static void tc_too_many(const char *section, const char *key, size_t max, const size_t *count)
{
	char text[1024], msg[512], want[64]; /* max <= 64: " /mNN" each */
	size_t i, o;
	int rc;

	o = (size_t)snprintf(text, sizeof(text), "[%s]\n%s =", section, key);
	for (i = 0; i < max; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, " /m%zu", i);
	snprintf(text + o, sizeof(text) - o, "\n");
	tc_write(text, strlen(text));
	rc = config_load(&tc_cfg, tc_file, msg, sizeof(msg));
	assert_int_equal(rc, 0);
	assert_int_equal(*count, max);

	snprintf(text + o, sizeof(text) - o, " /one-more\n");
	tc_write(text, strlen(text));
	rc = config_load(&tc_cfg, tc_file, msg, sizeof(msg));
	assert_int_equal(rc, -EINVAL);
	snprintf(want, sizeof(want), ":2: [%s] %s: bad value", section, key);
	assert_non_null(strstr(msg, want));
}

static void test_too_many_paths(void **state)
{
	(void)state;
	tc_too_many("watch", "mounts", HMD_MAX_WATCH, &tc_cfg.n_watch);
	tc_too_many("init", "roots", HMD_MAX_ROOTS, &tc_cfg.n_roots);
}

static void test_missing_file(void **state)
{
	char path[PATH_MAX + 16], msg[512];
	int rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.conf", tc_dir);
	rc = config_load(&tc_cfg, path, msg, sizeof(msg));
	assert_int_equal(rc, -ENOENT);
	assert_non_null(strstr(msg, path));
	assert_non_null(strstr(msg, "No such file or directory"));

	rc = config_load(&tc_cfg, tc_dir, msg, sizeof(msg)); /* a directory */
	assert_true(rc < 0);
	assert_non_null(strstr(msg, tc_dir));
}

static void test_mode_names(void **state)
{
	enum hmd_mode m;

	(void)state;
	assert_int_equal(config_mode_parse("enforce", &m), 0);
	assert_int_equal(m, HMD_MODE_ENFORCE);
	assert_string_equal(config_mode_name(m), "enforce");
	assert_int_equal(config_mode_parse("audit", &m), 0);
	assert_int_equal(m, HMD_MODE_AUDIT);
	assert_string_equal(config_mode_name(m), "audit");
	assert_int_equal(config_mode_parse("locked", &m), -EINVAL);
	assert_int_equal(config_mode_parse("", &m), -EINVAL);
	assert_string_equal(config_mode_name(HMD_MODE_MAINTENANCE), "maintenance");
	assert_string_equal(config_mode_name(HMD_MODE__MAX), "unknown");
}

/* The commented default config in packaging/ must parse and give the
 * built-in defaults (it documents them), except that a fresh install starts
 * in audit mode (issue 6). */
static void test_packaged_default(void **state)
{
	char path[PATH_MAX], msg[512], a[8192], b[8192];
	const char *top = getenv("HMILOCK_TOP");
	static struct hmd_config def;
	int rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/packaging/hmilock.conf", top ? top : ".");
	if (access(path, R_OK) != 0)
		fail_msg("%s not readable (set HMILOCK_TOP to the source tree)", path);
	rc = config_load(&tc_cfg, path, msg, sizeof(msg));
	if (rc)
		fail_msg("packaged config: %s", msg);
	config_defaults(&def);
	assert_int_equal(def.mode, HMD_MODE_ENFORCE);
	assert_int_equal(tc_cfg.mode, HMD_MODE_AUDIT);
	def.mode = HMD_MODE_AUDIT;
	tc_dump(&tc_cfg, a, sizeof(a));
	tc_dump(&def, b, sizeof(b));
	assert_string_equal(a, b);
	assert_string_equal(tc_cfg.path, path);
}

static int tc_setup(void **state)
{
	(void)state;
	if (fx_mkdir(tc_dir, "test_config") < 0)
		return -1;
	snprintf(tc_file, sizeof(tc_file), "%s/hmilock.conf", tc_dir);
	return 0;
}

static int tc_teardown(void **state)
{
	(void)state;
	return fx_rmtree(tc_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_values),        cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_nul_and_long_lines), cmocka_unit_test(test_long_path_value),
	    cmocka_unit_test(test_too_many_paths),     cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_mode_names),         cmocka_unit_test(test_packaged_default),
	};

	return cmocka_run_group_tests(tests, tc_setup, tc_teardown);
}
