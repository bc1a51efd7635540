/* pct.c - the %HH escape of one-line text formats (the maintenance journal,
 * the export file): a path becomes one blank-free token of printable ASCII
 * and back. Stateless; any thread. The decoder never reads past the length
 * it is given, so it can run on lines cut short by a power loss. */
#include <errno.h>
#include <stdint.h>

#include "wl.h"

static const char pct_digits[] = "0123456789ABCDEF";

static bool pct_plain(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '%';
}

size_t wl_pct_encode(const char *s, size_t n, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, o = 0, w = 0, need;
	bool full = !out || outlen == 0;

	for (i = 0; i < n; i++) {
		need = pct_plain(p[i]) ? 1 : 3;
		full = full || w + need >= outlen; /* never half an escape */
		if (!full && need == 1) {
			out[w++] = (char)p[i];
		} else if (!full) {
			out[w++] = '%';
			out[w++] = pct_digits[p[i] >> 4];
			out[w++] = pct_digits[p[i] & 15];
		}
		o += need;
	}
	if (out && outlen)
		out[w] = '\0';
	return o;
}

int wl_pct_decode(const char *s, size_t len, char *out, size_t *outlen, size_t *bad)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%' && s[i] != '\0') {
			out[o++] = s[i];
			continue;
		}
		/* two hex digits inside len, and never a NUL (raw or %00) */
		if (s[i] == '\0' || len - i < 3 || (hi = wl_hex_digit(s[i + 1])) < 0 ||
		    (lo = wl_hex_digit(s[i + 2])) < 0 || (hi | lo) == 0) {
			if (bad)
				*bad = i;
			out[o] = '\0';
			return -EINVAL;
		}
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return 0;
}
