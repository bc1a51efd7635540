/* prescan.c - the prescan: what a file about to be approved is checked
 * against first, so that malware already on a box is never approved. Two
 * sources, both loaded once per change of the list and read-only after:
 * ClamAV signature databases (libclamav: .cvd/.cld sets, .hdb/.hsb hash
 * signatures, .ndb body signatures, ...), scanned on the caller's open fd,
 * and plain SHA-256 blocklists, looked up in memory by the hash the caller
 * computed anyway. A loaded struct wl_prescan is shared by the scan's
 * worker threads (libclamav's compiled engine is safe to share). */
#include <clamav.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "wl.h"

/* Files larger than this are not given to the engine (libclamav would
 * count them clean without a look); the blocklists still apply. */
#define PRESCAN_MAX_FILE (512ull << 20)
#define PRESCAN_NAME_LEN 96 /* a blocklist entry's name, kept */
/* Files up to PRESCAN_BUF_KEEP are read into a buffer of the scanning
 * thread, kept from file to file, and scanned from memory: libclamav's own
 * map of a descriptor reads pages into private memory whose write faults
 * (each a TLB shootdown on every CPU the process runs on) cost as much as
 * its matchers once several threads scan (bench 12). Files up to
 * PRESCAN_BUF_MAX get a buffer of their own, freed after; larger ones go
 * by fd. */
#define PRESCAN_BUF_KEEP (32u << 20)
#define PRESCAN_BUF_MAX (128u << 20)

struct prescan_hash {
	uint8_t sha256[WL_SHA256_LEN];
	char name[PRESCAN_NAME_LEN];
};

struct wl_prescan {
	struct cl_engine *engine; /* NULL: no signature database */
	unsigned int sigs; /* signatures libclamav loaded */
	struct prescan_hash *hashes; /* blocklists, sorted by sha256 */
	size_t n_hashes, cap_hashes;
	char desc[512];
};

/* ---- libclamav's messages ----------------------------------------------- */

/* libclamav logs through one process-wide callback, on the thread that
 * called it: each thread keeps the last error said to it. Loads run one at
 * a time (prescan_lock). */
static pthread_mutex_t prescan_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread char prescan_last_error[400];
static pthread_once_t prescan_once = PTHREAD_ONCE_INIT;
static cl_error_t prescan_init_rc = CL_SUCCESS;

/* The scanning thread's buffer (freed when the thread ends). */
struct prescan_buf {
	uint8_t *p;
	size_t cap;
};
static pthread_key_t prescan_buf_key;

static void prescan_buf_free(void *arg)
{
	struct prescan_buf *b = arg;

	free(b->p);
	free(b);
}

static void prescan_msg(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
	size_t n;

	(void)fullmsg;
	(void)ctx;
	if (severity != CL_MSG_ERROR || !msg)
		return;
	snprintf(prescan_last_error, sizeof(prescan_last_error), "%s", msg);
	n = strlen(prescan_last_error);
	while (n && (prescan_last_error[n - 1] == '\n' || prescan_last_error[n - 1] == ' '))
		prescan_last_error[--n] = '\0';
}

static void prescan_init_once(void)
{
	if (pthread_key_create(&prescan_buf_key, prescan_buf_free) != 0) {
		prescan_init_rc = CL_EMEM;
		return;
	}
	cl_set_clcb_msg(prescan_msg);
	prescan_init_rc = cl_init(CL_INIT_DEFAULT);
}

int wl_prescan_init(struct wl_err *err)
{
	pthread_once(&prescan_once, prescan_init_once);
	if (prescan_init_rc != CL_SUCCESS)
		return wl_err_set(err, -EIO, WL_E_IO, "cannot start libclamav: %s",
		                  cl_strerror(prescan_init_rc));
	return 0;
}

/* ---- SHA-256 blocklists ---------------------------------------------------- */

static int prescan_hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, WL_SHA256_LEN);
}

static int prescan_hash_add(struct wl_prescan *p, const uint8_t sha[WL_SHA256_LEN],
                            const char *name, size_t nlen)
{
	struct prescan_hash *h;

	if (p->n_hashes == p->cap_hashes) {
		size_t cap = p->cap_hashes ? 2 * p->cap_hashes : 256;
		h = realloc(p->hashes, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		p->hashes = h;
		p->cap_hashes = cap;
	}
	h = &p->hashes[p->n_hashes++];
	memcpy(h->sha256, sha, WL_SHA256_LEN);
	if (nlen >= sizeof(h->name))
		nlen = sizeof(h->name) - 1;
	memcpy(h->name, name, nlen);
	h->name[nlen] = '\0';
	return 0;
}

/* One line of a blocklist: blank, "# comment", or 64 hex digits and an
 * optional name after blanks (sha256sum's output too: "HASH  file", "HASH
 * *file"). 0, 1 (nothing on it), -EINVAL, -ENOMEM. */
static int prescan_line(struct wl_prescan *p, char *s)
{
	uint8_t sha[WL_SHA256_LEN];
	size_t n;

	s += strspn(s, " \t");
	n = strcspn(s, "\r\n");
	s[n] = '\0';
	if (*s == '\0' || *s == '#')
		return 1;
	if (strspn(s, "0123456789abcdefABCDEF") != 2 * WL_SHA256_LEN ||
	    (s[64] != '\0' && s[64] != ' ' && s[64] != '\t') ||
	    wl_unhex_n(s, 2 * WL_SHA256_LEN, sha, WL_SHA256_LEN) < 0)
		return -EINVAL;
	s += 64;
	s += strspn(s, " \t*");
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return prescan_hash_add(p, sha, n ? s : "blocklisted", n ? n : strlen("blocklisted"));
}

static int prescan_load_blocklist(struct wl_prescan *p, const char *path, struct wl_err *err)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0, before = p->n_hashes;
	int rc = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return wl_err_set(err, -errno, WL_E_IO, "cannot read blocklist %s: %s", path,
		                  strerror(errno));
	errno = 0;
	while (rc >= 0 && getline(&line, &cap, f) > 0) {
		lineno++;
		rc = prescan_line(p, line);
	}
	if (rc >= 0 && ferror(f))
		rc = wl_err_set(err, -EIO, WL_E_IO, "cannot read blocklist %s: %s", path,
		                strerror(errno ? errno : EIO));
	else if (rc == -EINVAL)
		wl_err_set(err, rc, WL_E_USAGE,
		           "blocklist %s line %zu: expected a SHA-256 (64 hex digits) and an "
		           "optional name; nothing was approved",
		           path, lineno);
	else if (rc == -ENOMEM)
		wl_err_set(err, rc, WL_E_NOMEM, "out of memory reading blocklist %s", path);
	else if (p->n_hashes == before)
		rc = wl_err_set(err, -ENODATA, WL_E_EMPTY,
		                "blocklist %s has no SHA-256 in it; nothing was approved", path);
	free(line);
	fclose(f);
	return rc < 0 ? rc : 0;
}

/* A blocklist path: a file, or a directory whose regular files (not
 * starting with '.') are each one blocklist. */
static int prescan_blocklist_path(struct wl_prescan *p, const char *path, struct wl_err *err)
{
	char file[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int rc = 0;
	DIR *d;

	if (stat(path, &st) < 0)
		return wl_err_set(err, -errno, WL_E_IO, "cannot read blocklist %s: %s", path,
		                  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return prescan_load_blocklist(p, path, err);
	d = opendir(path);
	if (!d)
		return wl_err_set(err, -errno, WL_E_IO, "cannot read blocklist directory %s: %s",
		                  path, strerror(errno));
	while (!rc && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
			rc = prescan_load_blocklist(p, file, err);
	}
	closedir(d);
	return rc;
}

/* ---- ClamAV databases -------------------------------------------------------- */

static int prescan_load_db(struct wl_prescan *p, const char *path, struct wl_err *err)
{
	unsigned int before = p->sigs;
	struct stat st;
	cl_error_t rc;

	if (stat(path, &st) < 0)
		return wl_err_set(err, -errno, WL_E_IO, "cannot read signature database %s: %s",
		                  path, strerror(errno));
	if (!p->engine) {
		p->engine = cl_engine_new();
		if (!p->engine)
			return wl_err_set(err, -ENOMEM, WL_E_NOMEM,
			                  "out of memory starting libclamav for %s", path);
	}
	prescan_last_error[0] = '\0';
	rc = cl_load(path, p->engine, &p->sigs, CL_DB_STDOPT);
	if (rc != CL_SUCCESS)
		return wl_err_set(err, rc == CL_EMEM ? -ENOMEM : -EINVAL, WL_E_CORRUPT,
		                  "signature database %s does not load: %s%s%s; nothing was "
		                  "approved",
		                  path, cl_strerror(rc), prescan_last_error[0] ? ": " : "",
		                  prescan_last_error);
	if (p->sigs == before)
		return wl_err_set(err, -ENODATA, WL_E_EMPTY,
		                  "signature database %s holds no signature libclamav knows (a "
		                  "file's name must end in .cvd, .cld, .hdb, .hsb, .ndb, ...); "
		                  "nothing was approved",
		                  path);
	return 0;
}

static int prescan_compile(struct wl_prescan *p, struct wl_err *err)
{
	cl_error_t rc;

	if (!p->engine)
		return 0;
	cl_engine_set_num(p->engine, CL_ENGINE_MAX_FILESIZE, (long long)PRESCAN_MAX_FILE);
	cl_engine_set_num(p->engine, CL_ENGINE_MAX_SCANSIZE, (long long)PRESCAN_MAX_FILE);
	prescan_last_error[0] = '\0';
	rc = cl_engine_compile(p->engine);
	if (rc != CL_SUCCESS)
		return wl_err_set(err, -EINVAL, WL_E_CORRUPT,
		                  "the signature databases do not compile: %s%s%s; nothing was "
		                  "approved",
		                  cl_strerror(rc), prescan_last_error[0] ? ": " : "",
		                  prescan_last_error);
	return 0;
}

static void prescan_describe(struct wl_prescan *p, size_t n_db, size_t n_bl)
{
	int n = 0;

	if (p->engine)
		n = snprintf(p->desc, sizeof(p->desc), "libclamav %s, %u signatures from %zu %s",
		             cl_retver(), p->sigs, n_db, n_db == 1 ? "database" : "databases");
	if (n_bl)
		snprintf(p->desc + n, sizeof(p->desc) - (size_t)n, "%s%zu SHA-256 from %zu %s",
		         n ? "; " : "", p->n_hashes, n_bl, n_bl == 1 ? "blocklist" : "blocklists");
}

int wl_prescan_load(const char *const *databases, size_t n_db, const char *const *blocklists,
                    size_t n_bl, struct wl_prescan **out, struct wl_err *err)
{
	struct wl_prescan *p;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (n_db + n_bl == 0)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "prescan: no database or blocklist");
	p = calloc(1, sizeof(*p));
	if (!p)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory loading the prescan");
	for (i = 0; !rc && i < n_bl; i++)
		rc = prescan_blocklist_path(p, blocklists[i], err);
	if (!rc && n_db)
		rc = wl_prescan_init(err);
	pthread_mutex_lock(&prescan_lock);
	for (i = 0; !rc && i < n_db; i++)
		rc = prescan_load_db(p, databases[i], err);
	if (!rc)
		rc = prescan_compile(p, err);
	pthread_mutex_unlock(&prescan_lock);
	if (rc) {
		wl_prescan_free(p);
		return rc;
	}
	if (p->n_hashes)
		qsort(p->hashes, p->n_hashes, sizeof(*p->hashes), prescan_hash_cmp);
	prescan_describe(p, n_db, n_bl);
	*out = p;
	return 0;
}

int wl_prescan_load_config(const struct hmd_config *cfg, struct wl_prescan **out,
                           struct wl_err *err)
{
	const char *db[HMD_MAX_PRESCAN], *bl[HMD_MAX_PRESCAN];
	size_t i;

	*out = NULL;
	if (!config_has_prescan(cfg))
		return 0;
	for (i = 0; i < cfg->n_prescan_db; i++)
		db[i] = cfg->prescan_db[i];
	for (i = 0; i < cfg->n_blocklists; i++)
		bl[i] = cfg->blocklists[i];
	return wl_prescan_load(db, cfg->n_prescan_db, bl, cfg->n_blocklists, out, err);
}

void wl_prescan_free(struct wl_prescan *p)
{
	if (!p)
		return;
	if (p->engine)
		cl_engine_free(p->engine);
	free(p->hashes);
	free(p);
}

const char *wl_prescan_describe(const struct wl_prescan *p)
{
	return p ? p->desc : "off";
}

/* ---- checks ---------------------------------------------------------------- */

int wl_prescan_hash(const struct wl_prescan *p, const uint8_t sha256[WL_SHA256_LEN], char *sig,
                    size_t siglen)
{
	const struct prescan_hash *h;

	if (!p || !p->n_hashes)
		return 0;
	h = bsearch(sha256, p->hashes, p->n_hashes, sizeof(*h), prescan_hash_cmp);
	if (!h)
		return 0;
	snprintf(sig, siglen, "%s (blocklist)", h->name);
	return WL_PRESCAN_BAD;
}

/* The calling thread's buffer, at least len bytes; NULL when it cannot be. */
static uint8_t *prescan_buf_get(size_t len)
{
	struct prescan_buf *b = pthread_getspecific(prescan_buf_key);
	uint8_t *n;

	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || pthread_setspecific(prescan_buf_key, b) != 0) {
			free(b);
			return NULL;
		}
	}
	if (b->cap < len) {
		n = realloc(b->p, len);
		if (!n)
			return NULL;
		b->p = n;
		b->cap = len;
	}
	return b->p;
}

uint8_t *wl_prescan_buf(const struct wl_prescan *p, uint64_t size)
{
	if (!p || !p->engine || size == 0 || size >= PRESCAN_BUF_KEEP)
		return NULL;
	return prescan_buf_get((size_t)size + 1);
}

/* The whole file (size bytes, as fstat said) into buf: 0, or -1 (a read
 * failed or came short: the descriptor is scanned instead). */
static int prescan_read(int fd, uint8_t *buf, uint64_t size)
{
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		n = pread(fd, buf + off, (size_t)size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Do the bytes read for the engine hash to sha256 (what is approved)? A
 * file changed between its hash and its scan must not be approved on the
 * scan of other bytes. */
static bool prescan_same(const uint8_t *buf, uint64_t size, const uint8_t sha256[WL_SHA256_LEN])
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	return EVP_Digest(buf, (size_t)size, h, &hlen, EVP_sha256(), NULL) == 1 &&
	       hlen == WL_SHA256_LEN && memcmp(h, sha256, WL_SHA256_LEN) == 0;
}

/* Did the file change while the engine read it by fd? */
static bool prescan_moved(int fd, const struct stat *a)
{
	struct stat b;

	return fstat(fd, &b) < 0 || b.st_size != a->st_size ||
	       b.st_mtim.tv_sec != a->st_mtim.tv_sec || b.st_mtim.tv_nsec != a->st_mtim.tv_nsec ||
	       b.st_ctim.tv_sec != a->st_ctim.tv_sec || b.st_ctim.tv_nsec != a->st_ctim.tv_nsec;
}

/* Every parser on, no heuristic alert: a heuristic ("broken ELF") refuses
 * files no signature names, and a false refusal of a program the plant
 * needs is what a prescan must not cause. */
static void prescan_opts(struct cl_scan_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->parse = ~0u;
}

/* libclamav on the len bytes at buf. */
static cl_error_t prescan_scan_mem(const struct wl_prescan *p, const uint8_t *buf, uint64_t len,
                                   const char *name, const char **virname)
{
	struct cl_scan_options opts;
	unsigned long scanned = 0;
	cl_fmap_t *map = cl_fmap_open_memory(buf, (size_t)len);
	cl_error_t rc;

	if (!map)
		return CL_EMEM;
	prescan_opts(&opts);
	rc = cl_scanmap_callback(map, name, virname, &scanned, p->engine, &opts, NULL);
	cl_fmap_close(map);
	return rc;
}

/* libclamav on the file: from memory when it fits a buffer (checked to be
 * the bytes that were hashed), else through its own map of fd (checked
 * not to have changed meanwhile). CL_ESTAT: it changed. */
static cl_error_t prescan_engine(const struct wl_prescan *p, int fd, const char *name,
                                 const uint8_t sha256[WL_SHA256_LEN], uint64_t size,
                                 const char **virname)
{
	struct cl_scan_options opts;
	uint8_t *own = NULL, *buf = NULL;
	unsigned long scanned = 0;
	struct stat st;
	cl_error_t rc;

	if (size > 0 && size <= PRESCAN_BUF_KEEP)
		buf = prescan_buf_get((size_t)size);
	else if (size > 0 && size <= PRESCAN_BUF_MAX)
		buf = own = malloc((size_t)size);
	if (buf && prescan_read(fd, buf, size) == 0) {
		rc = prescan_same(buf, size, sha256) ? prescan_scan_mem(p, buf, size, name, virname)
		                                     : CL_ESTAT;
		free(own);
		return rc;
	}
	free(own);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size)
		return CL_ESTAT;
	prescan_opts(&opts);
	rc = cl_scandesc(fd, name, virname, &scanned, p->engine, &opts);
	return rc == CL_CLEAN && prescan_moved(fd, &st) ? CL_ESTAT : rc;
}

/* What the blocklists and the size decide before the engine looks: a
 * WL_PRESCAN_* result, or -1 (ask the engine). */
static int prescan_before(const struct wl_prescan *p, const uint8_t sha256[WL_SHA256_LEN],
                          uint64_t size, char *sig, size_t siglen)
{
	if (wl_prescan_hash(p, sha256, sig, siglen))
		return WL_PRESCAN_BAD;
	if (!p || !p->engine)
		return WL_PRESCAN_CLEAN;
	return size > PRESCAN_MAX_FILE ? WL_PRESCAN_UNSCANNED : -1;
}

/* The engine's answer as a WL_PRESCAN_* result or -errno. */
static int prescan_verdict(cl_error_t rc, const char *virname, const char *name, char *sig,
                           size_t siglen, struct wl_err *err)
{
	if (!name)
		name = "(file)";
	if (rc == CL_VIRUS) {
		snprintf(sig, siglen, "%s", virname ? virname : "unnamed signature");
		return WL_PRESCAN_BAD;
	}
	if (rc == CL_ESTAT)
		return wl_err_set(err, -ESTALE, WL_E_UNSTABLE,
		                  "%s: changed since it was hashed: not scanned, not approved",
		                  name);
	if (rc == CL_EMEM)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "%s: out of memory for the prescan",
		                  name);
	if (rc != CL_CLEAN)
		return wl_err_set(err, -EIO, WL_E_IO, "%s: the prescan could not scan it: %s", name,
		                  cl_strerror(rc));
	return WL_PRESCAN_CLEAN;
}

int wl_prescan_fd(const struct wl_prescan *p, int fd, const char *name,
                  const uint8_t sha256[WL_SHA256_LEN], uint64_t size, char *sig, size_t siglen,
                  struct wl_err *err)
{
	const char *virname = NULL;
	int pre = prescan_before(p, sha256, size, sig, siglen);
	cl_error_t rc;

	if (pre >= 0)
		return pre;
	rc = prescan_engine(p, fd, name, sha256, size, &virname);
	return prescan_verdict(rc, virname, name, sig, siglen, err);
}

int wl_prescan_mem(const struct wl_prescan *p, const uint8_t *buf, uint64_t len, const char *name,
                   const uint8_t sha256[WL_SHA256_LEN], char *sig, size_t siglen,
                   struct wl_err *err)
{
	const char *virname = NULL;
	int pre = prescan_before(p, sha256, len, sig, siglen);
	cl_error_t rc;

	if (pre >= 0)
		return pre;
	rc = prescan_scan_mem(p, buf, len, name, &virname);
	return prescan_verdict(rc, virname, name, sig, siglen, err);
}
