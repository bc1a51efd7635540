/* wxpropose.c - after `hmilock init`: which of the programs just approved
 * compile code at run time (JIT runtimes) and so need a W^X exemption
 * ([agent] wx_exempt) before the box is locked, printed as the line to put
 * in hmilock.conf. Owned by tools/; reads the set and the configuration. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "hmilock.h"

/* Basenames of the runtimes Debian ships that map memory they wrote as
 * code: V8 (node), HotSpot (java), .NET, LuaJIT, PyPy, Mono, Erlang's JIT. */
static const char *const wxpropose_jit[] = {
    "node", "nodejs", "java", "dotnet", "luajit*", "pypy*", "mono", "mono-sgen", "beam.smp",
};

static bool wxpropose_is_jit(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(wxpropose_jit) / sizeof(wxpropose_jit[0]); i++)
		if (!fnmatch(wxpropose_jit[i], base, 0))
			return true;
	return false;
}

static bool wxpropose_exempt(const struct hmd_config *conf, const char *path)
{
	for (size_t i = 0; conf && i < conf->n_wx_exempt; i++)
		if (!fnmatch(conf->wx_exempt[i], path, FNM_PATHNAME))
			return true;
	return false;
}

void wxpropose_print(struct wl_set *set, const struct hmd_config *conf)
{
	size_t n = 0, count = wl_set_count(set);

	for (size_t i = 0; i < count; i++) {
		const struct wl_entry *e = wl_set_at(set, i);

		if ((e->type != WL_T_EXEC && e->type != WL_T_PIE) || !wxpropose_is_jit(e->path) ||
		    wxpropose_exempt(conf, e->path))
			continue;
		if (!n++)
			printf("W^X: these programs compile code at run time and are refused in "
			       "enforce "
			       "mode unless exempted (status names each exemption as an open gap); "
			       "to exempt them, add to hmilock.conf [agent]:\n  wx_exempt =");
		printf(" %s", e->path);
	}
	if (n)
		putchar('\n');
}
