/* err.c - struct wl_err: the typed error every fallible library call fills.
 * Stateless; any thread may call these on its own struct wl_err. */
#include <stdarg.h>
#include <stdio.h>

#include "wl.h"

int wl_err_set(struct wl_err *err, int code, enum wl_ekind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

static const char *const err_names[] = {
    [WL_E_NONE] = "none",           [WL_E_IO] = "io",
    [WL_E_USAGE] = "usage",         [WL_E_EMPTY] = "empty",
    [WL_E_TRUNCATED] = "truncated", [WL_E_MAGIC] = "magic",
    [WL_E_VERSION] = "version",     [WL_E_MAC] = "mac",
    [WL_E_CORRUPT] = "corrupt",     [WL_E_KEY] = "key",
    [WL_E_UNSTABLE] = "unstable",   [WL_E_NOTREG] = "not-regular",
    [WL_E_NOMEM] = "nomem",         [WL_E_STALE] = "stale",
    [WL_E_LOCKED] = "locked",       [WL_E_TOO_BIG] = "too-big",
    [WL_E_CANCELED] = "canceled",
};

_Static_assert(sizeof(err_names) / sizeof(err_names[0]) == WL_E__MAX,
               "err_names must name every enum wl_ekind");

const char *wl_ekind_name(enum wl_ekind kind)
{
	if ((unsigned)kind >= sizeof(err_names) / sizeof(err_names[0]) || !err_names[kind])
		return "unknown";
	return err_names[kind];
}
