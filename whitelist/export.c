/* export.c - the signed export file that carries an approved list between
 * boxes of one image: wl_export_build writes it from a list, wl_export_parse
 * reads it from memory (never the filesystem; a fuzz target's entry point),
 * wl_export_verify checks its signature. Owns the text while it is built
 * and the parsed struct wl_export until wl_export_free; stateless otherwise.
 *
 * Format, version 1 (ASCII, one record a line):
 *   hmilock-export 1
 *   generation G                     (of the list that was exported)
 *   entries N
 *   SHA256 TYPE SIZE MODE UID GID PATH INTERP      (N lines, path order)
 *   signature ed25519 PUBKEY_HEX SIGNATURE_HEX
 * MODE is octal; PATH and INTERP have every byte outside '!'..'~' and '%'
 * written as %HH (pct.c); INTERP is "-" when there is none (a literal "-"
 * is %2D). Fields are separated by one space. The Ed25519 signature covers
 * every byte before the signature line. The identity fields of a list
 * entry (dev, ino, ctime, mtime) belong to one box and are not exported:
 * an import hashes each file on the box it runs on. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

#define EXP_MAGIC "hmilock-export"
#define EXP_SIG_TAG "signature ed25519 "
#define EXP_SIG_LINE (sizeof(EXP_SIG_TAG) - 1 + 2 * WL_SIG_PUBLEN + 1 + 2 * WL_SIG_LEN + 1)
#define EXP_NUM_MAX 24 /* longest number token: 22 octal digits of 2^64 */
#define EXP_SHOW 40 /* bytes of a bad first line quoted in a message */

_Static_assert(WL_EXPORT_VERSION == 1, "the format described above is version 1");

/* ---- writing ---------------------------------------------------------------- */

/* s as one token: "" as "-", a literal "-" as %2D, else the %HH form. */
static int export_token(FILE *f, const char *s)
{
	size_t n = strlen(s), elen;
	char *enc;

	if (n == 0)
		return fputc('-', f) == EOF ? -ENOMEM : 0;
	if (strcmp(s, "-") == 0)
		return fputs("%2D", f) == EOF ? -ENOMEM : 0;
	elen = wl_pct_encode(s, n, NULL, 0);
	enc = malloc(elen + 1);
	if (!enc)
		return -ENOMEM;
	wl_pct_encode(s, n, enc, elen + 1);
	n = fputs(enc, f) == EOF;
	free(enc);
	return n ? -ENOMEM : 0;
}

/* The signed part: header and one line per record, into *buf. */
static int export_body(const struct wl_db *db, char **buf, size_t *len)
{
	size_t i, n = wl_db_count(db);
	char hex[WL_HEX_LEN];
	struct wl_rec r;
	int ret = 0;
	FILE *f = open_memstream(buf, len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "%s %d\ngeneration %llu\nentries %zu\n", EXP_MAGIC, WL_EXPORT_VERSION,
	        (unsigned long long)wl_db_generation(db), n);
	for (i = 0; i < n && !ret; i++) {
		wl_db_at(db, i, &r);
		wl_hex(r.sha256, hex);
		fprintf(f, "%s %s %llu %04o %u %u ", hex, wl_type_name(r.type),
		        (unsigned long long)r.size, (unsigned)(r.mode & 07777), (unsigned)r.uid,
		        (unsigned)r.gid);
		ret = export_token(f, r.path);
		if (!ret && fputc(' ', f) == EOF)
			ret = -ENOMEM;
		if (!ret)
			ret = export_token(f, r.interp ? r.interp : "");
		if (!ret && fputc('\n', f) == EOF)
			ret = -ENOMEM;
	}
	if (fclose(f) != 0 && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	return ret;
}

/* Append the signature line of the body in *buf (realloc'd). */
static int export_sign(const struct wl_sign_key *k, char **buf, size_t *len, struct wl_err *err)
{
	uint8_t sig[WL_SIG_LEN], pub[WL_SIG_PUBLEN];
	char line[EXP_SIG_LINE + 1], *nb;
	int ret;

	ret = wl_sign(k, *buf, *len, sig, err);
	if (!ret)
		ret = wl_sign_key_public(k, pub, err);
	if (ret)
		return ret;
	memcpy(line, EXP_SIG_TAG, sizeof(EXP_SIG_TAG) - 1);
	wl_hex_n(pub, sizeof(pub), line + sizeof(EXP_SIG_TAG) - 1);
	line[sizeof(EXP_SIG_TAG) - 1 + 2 * WL_SIG_PUBLEN] = ' ';
	wl_hex_n(sig, sizeof(sig), line + sizeof(EXP_SIG_TAG) + 2 * WL_SIG_PUBLEN);
	line[EXP_SIG_LINE - 1] = '\n';
	nb = realloc(*buf, *len + EXP_SIG_LINE + 1);
	if (!nb)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory signing the export");
	memcpy(nb + *len, line, EXP_SIG_LINE);
	*len += EXP_SIG_LINE;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

int wl_export_build(const struct wl_db *db, const struct wl_sign_key *k, char **out, size_t *len,
                    struct wl_err *err)
{
	int ret;

	if (!db || !k || !out || !len)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_export_build: missing argument");
	*out = NULL;
	*len = 0;
	if (export_body(db, out, len) < 0)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM,
		                  "out of memory writing the export of %zu entries",
		                  wl_db_count(db));
	ret = export_sign(k, out, len, err);
	if (ret) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return ret;
}

/* ---- reading: the frame ------------------------------------------------------ */

/* Line number (from 1) of offset off in buf. */
static size_t export_lineno(const char *buf, size_t off)
{
	size_t n = 1, i;

	for (i = 0; i < off; i++)
		n += buf[i] == '\n';
	return n;
}

/* Up to EXP_SHOW bytes of s for a message: printable ASCII as is, other
 * bytes as \xHH, "..." when cut. */
static void export_quote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < EXP_SHOW && o + 5 < outlen; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			out[o++] = s[i];
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", (unsigned char)s[i]);
	}
	snprintf(out + o, outlen - o, "%s", n > EXP_SHOW ? "..." : "");
}

/* First line: the magic, then exactly this version. */
static int export_first_line(const char *buf, size_t len, struct wl_err *err)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) : len, want = strlen(EXP_MAGIC " 1");
	char shown[4 * EXP_SHOW + 8];

	if (len < sizeof(EXP_MAGIC) || memcmp(buf, EXP_MAGIC " ", sizeof(EXP_MAGIC)) != 0)
		return wl_err_set(err, -EINVAL, WL_E_MAGIC,
		                  "not an hmilock export (line 1 is not '" EXP_MAGIC " %d')",
		                  WL_EXPORT_VERSION);
	if (n == want && memcmp(buf, EXP_MAGIC " 1", want) == 0)
		return 0;
	export_quote(buf, n, shown, sizeof(shown));
	return wl_err_set(err, -EPROTONOSUPPORT, WL_E_VERSION,
	                  "export format '%s' is not the one this hmilock reads (" EXP_MAGIC " %d)",
	                  shown, WL_EXPORT_VERSION);
}

/* The last line is the signature line: x->body_len, x->pub, x->sig. */
static int export_sig_line(const char *buf, size_t len, struct wl_export *x, struct wl_err *err)
{
	const char *last, *p;
	size_t start;

	if (buf[len - 1] != '\n')
		return wl_err_set(err, -EINVAL, WL_E_TRUNCATED,
		                  "truncated: the file does not end with a signature line");
	for (start = len - 1; start > 0 && buf[start - 1] != '\n'; start--)
		;
	last = buf + start;
	p = last + sizeof(EXP_SIG_TAG) - 1;
	if (start == 0 || len - start != EXP_SIG_LINE ||
	    memcmp(last, EXP_SIG_TAG, sizeof(EXP_SIG_TAG) - 1) != 0 ||
	    wl_unhex_n(p, 2 * WL_SIG_PUBLEN, x->pub, WL_SIG_PUBLEN) < 0 ||
	    p[2 * WL_SIG_PUBLEN] != ' ' ||
	    wl_unhex_n(p + 2 * WL_SIG_PUBLEN + 1, 2 * WL_SIG_LEN, x->sig, WL_SIG_LEN) < 0)
		return wl_err_set(
		    err, -EINVAL, WL_E_TRUNCATED,
		    "truncated or unsigned: the last line (line %zu) is not a signature "
		    "line ('" EXP_SIG_TAG "KEY SIGNATURE', in hex)",
		    export_lineno(buf, start));
	x->body_len = start;
	return 0;
}

/* ---- reading: the body ------------------------------------------------------- */

/* A cursor over the lines of the body (each ends with '\n'). */
struct export_cur {
	const char *buf, *p, *end;
	size_t line; /* number of the line last returned */
};

static bool export_next(struct export_cur *c, const char **s, size_t *n)
{
	const char *nl;

	if (c->p >= c->end)
		return false;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*s = c->p;
	*n = (size_t)(nl - c->p); /* the body ends with a '\n': nl is found */
	c->p = nl + 1;
	c->line++;
	return true;
}

/* A decimal or octal number token; no sign, no blanks. */
static int export_num(const char *s, size_t n, int base, uint64_t max, uint64_t *out)
{
	char tmp[EXP_NUM_MAX + 1], *end;

	if (n == 0 || n > EXP_NUM_MAX || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtoull(tmp, &end, base);
	return errno || *end || *out > max ? -EINVAL : 0;
}

/* "NAME N": a header line. */
static int export_header(struct export_cur *c, const char *name, uint64_t max, uint64_t *out,
                         struct wl_err *err)
{
	size_t nlen = strlen(name), n = 0;
	const char *s = NULL;
	bool got = export_next(c, &s, &n);

	if (!got || n <= nlen || memcmp(s, name, nlen) != 0 || s[nlen] != ' ' ||
	    export_num(s + nlen + 1, n - nlen - 1, 10, max, out) < 0)
		return wl_err_set(err, -EINVAL, WL_E_CORRUPT,
		                  "line %zu: want '%s N' (a number up to %llu)",
		                  got ? c->line : c->line + 1, name, (unsigned long long)max);
	return 0;
}

/* Decode a path-like token into a malloc'd string; "-" is NULL when
 * dash_none. 0, -ENOMEM, or -EINVAL with *bad the offset in the token. */
static int export_decode(const char *s, size_t n, bool dash_none, char **out, size_t *bad)
{
	*out = NULL;
	*bad = 0;
	if (dash_none && n == 1 && s[0] == '-')
		return 0;
	*out = malloc(n + 1);
	if (!*out)
		return -ENOMEM;
	if (wl_pct_decode(s, n, *out, NULL, bad) < 0) {
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

/* Split a record line into exactly 8 tokens separated by one space. */
static bool export_split(const char *s, size_t n, const char *tok[8], size_t len[8])
{
	const char *end = s + n, *sp;
	int i;

	for (i = 0; i < 8; i++) {
		sp = memchr(s, ' ', (size_t)(end - s));
		if (i < 7 && !sp)
			return false;
		tok[i] = s;
		len[i] = i < 7 ? (size_t)(sp - s) : (size_t)(end - s);
		if (len[i] == 0 || (i == 7 && sp))
			return false;
		if (i < 7)
			s = sp + 1; /* the last token has no space after it: sp is NULL */
	}
	return true;
}

/* The numeric and enum fields of a record (tokens 0-5). NULL or what is
 * wrong, for the message. */
static const char *export_fields(const char *const tok[8], const size_t len[8],
                                 struct wl_export_entry *e)
{
	char type[16];
	uint64_t v;

	if (len[0] != 2 * WL_SHA256_LEN || wl_unhex_n(tok[0], len[0], e->sha256, WL_SHA256_LEN))
		return "bad sha256 (want 64 hex digits)";
	if (len[1] >= sizeof(type))
		return "unknown type";
	memcpy(type, tok[1], len[1]);
	type[len[1]] = '\0';
	if (wl_type_parse(type, &e->type) < 0)
		return "unknown type";
	if (export_num(tok[2], len[2], 10, UINT64_MAX, &e->size) < 0)
		return "bad size (want a decimal number)";
	if (export_num(tok[3], len[3], 8, 07777, &v) < 0)
		return "bad mode (want octal 0000 to 7777)";
	e->mode = (uint32_t)v;
	if (export_num(tok[4], len[4], 10, UINT32_MAX, &v) < 0)
		return "bad uid";
	e->uid = (uint32_t)v;
	if (export_num(tok[5], len[5], 10, UINT32_MAX, &v) < 0)
		return "bad gid";
	e->gid = (uint32_t)v;
	return NULL;
}

/* One record line into e (its strings malloc'd, freed by the caller on
 * failure too); prev is the path of the record before (NULL for the first). */
static int export_record(const struct export_cur *c, const char *s, size_t n, const char *prev,
                         struct wl_export_entry *e, struct wl_err *err)
{
	const char *tok[8], *what;
	size_t len[8], bad;
	int ret;

	if (!export_split(s, n, tok, len))
		return wl_err_set(err, -EINVAL, WL_E_CORRUPT,
		                  "line %zu: want 8 fields separated by single spaces (SHA256 TYPE "
		                  "SIZE MODE UID GID PATH INTERP)",
		                  c->line);
	what = export_fields(tok, len, e);
	if (what)
		return wl_err_set(err, -EINVAL, WL_E_CORRUPT, "line %zu: %s", c->line, what);
	ret = export_decode(tok[6], len[6], false, &e->path, &bad);
	if (!ret && (e->path[0] != '/' || strlen(e->path) >= PATH_MAX))
		return wl_err_set(err, -EINVAL, WL_E_CORRUPT,
		                  "line %zu: the path is not absolute or longer than %d bytes",
		                  c->line, PATH_MAX - 1);
	if (!ret)
		ret = export_decode(tok[7], len[7], true, &e->interp, &bad);
	if (ret == -ENOMEM)
		return wl_err_set(err, ret, WL_E_NOMEM, "line %zu: out of memory", c->line);
	if (ret)
		return wl_err_set(
		    err, ret, WL_E_CORRUPT,
		    "line %zu: bad %%HH escape in the %s at byte %zu (want %% and two "
		    "hex digits, never %%00)",
		    c->line, e->path ? "interpreter" : "path", bad + 1);
	if (prev && strcmp(prev, e->path) >= 0)
		return wl_err_set(err, -EINVAL, WL_E_CORRUPT,
		                  "line %zu: the path does not sort after the one before (entries "
		                  "are in path order, each path once)",
		                  c->line);
	return 0;
}

/* Room for one more entry in x->v (doubling). */
static int export_grow(struct wl_export *x, size_t *cap)
{
	struct wl_export_entry *nv;
	size_t ncap = *cap ? 2 * *cap : 64;

	if (x->n < *cap)
		return 0;
	nv = realloc(x->v, ncap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	x->v = nv;
	*cap = ncap;
	return 0;
}

/* Lines 2 and 3, then exactly N records up to the signature line. */
static int export_body_parse(const char *buf, struct wl_export *x, struct wl_err *err)
{
	struct export_cur c = {.buf = buf, .p = buf, .end = buf + x->body_len};
	struct wl_export_entry *e;
	uint64_t n;
	size_t len, cap = 0;
	const char *s;
	int ret;

	export_next(&c, &s, &len); /* the first line, checked already */
	ret = export_header(&c, "generation", UINT64_MAX, &x->generation, err);
	if (!ret)
		ret = export_header(&c, "entries", WL_EXPORT_MAX_ENTRIES, &n, err);
	while (!ret && export_next(&c, &s, &len)) {
		if (x->n == n)
			return wl_err_set(err, -EINVAL, WL_E_CORRUPT,
			                  "line %zu: more entries than line 3 says (%llu)", c.line,
			                  (unsigned long long)n);
		if (export_grow(x, &cap) < 0)
			return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "line %zu: out of memory",
			                  c.line);
		e = &x->v[x->n++];
		memset(e, 0, sizeof(*e));
		ret = export_record(&c, s, len, x->n > 1 ? x->v[x->n - 2].path : NULL, e, err);
	}
	if (!ret && x->n != n)
		ret = wl_err_set(err, -EINVAL, WL_E_TRUNCATED, "%zu entries where line 3 says %llu",
		                 x->n, (unsigned long long)n);
	return ret;
}

int wl_export_parse(const char *buf, size_t len, struct wl_export *x, struct wl_err *err)
{
	const char *nul;
	int ret;

	if (!x)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_export_parse: missing argument");
	memset(x, 0, sizeof(*x));
	if (!buf || len == 0)
		return wl_err_set(err, -EINVAL, WL_E_EMPTY, "empty: not an hmilock export");
	ret = export_first_line(buf, len, err);
	if (ret)
		return ret;
	nul = memchr(buf, '\0', len);
	if (nul)
		return wl_err_set(err, -EINVAL, WL_E_CORRUPT, "line %zu: a NUL byte",
		                  export_lineno(buf, (size_t)(nul - buf)));
	ret = export_sig_line(buf, len, x, err);
	if (!ret)
		ret = export_body_parse(buf, x, err);
	if (ret)
		wl_export_free(x);
	return ret;
}

void wl_export_free(struct wl_export *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->n; i++) {
		free(x->v[i].path);
		free(x->v[i].interp);
	}
	free(x->v);
	memset(x, 0, sizeof(*x));
}

/* ---- the signature ---------------------------------------------------------- */

int wl_export_verify(const char *buf, const struct wl_export *x, const struct wl_sign_key *k,
                     struct wl_err *err)
{
	uint8_t mine[WL_SIG_PUBLEN];
	char hex[2 * WL_SIG_PUBLEN + 1];
	int ret;

	if (!buf || !x || !k)
		return wl_err_set(err, -EINVAL, WL_E_USAGE, "wl_export_verify: missing argument");
	ret = wl_sign_verify(k, buf, x->body_len, x->sig, err);
	if (ret != -EBADMSG)
		return ret;
	if (wl_sign_key_public(k, mine, NULL) == 0 && memcmp(mine, x->pub, sizeof(mine)) != 0) {
		wl_hex_n(x->pub, sizeof(x->pub), hex);
		return wl_err_set(err, ret, WL_E_MAC, "signed with another key (key id %s)", hex);
	}
	return ret;
}
