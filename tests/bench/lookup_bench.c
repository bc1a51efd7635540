/* lookup_bench.c - built by tests/bench/11-check-lookups.sh against
 * libwhitelist.a: opens one list, then times wl_db_find_path and
 * wl_db_find_hash over its own records (hits) and over absent paths
 * (misses). Owns nothing but its own process; prints one line per figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wl.h"

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Copy every record's path and hash out of the mapping, so the timed loops
 * measure lookups, not wl_db_at. */
static int bench_keys(const struct wl_db *db, char ***paths, uint8_t (**hashes)[WL_SHA256_LEN])
{
	size_t n = wl_db_count(db), i;
	struct wl_rec r;

	*paths = calloc(n, sizeof(**paths));
	*hashes = calloc(n, sizeof(**hashes));
	if (!*paths || !*hashes)
		return -1;
	for (i = 0; i < n; i++) {
		wl_db_at(db, i, &r);
		(*paths)[i] = strdup(r.path);
		if (!(*paths)[i])
			return -1;
		memcpy((*hashes)[i], r.sha256, WL_SHA256_LEN);
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t key[WL_KEY_LEN], (*hashes)[WL_SHA256_LEN] = NULL;
	unsigned long lookups = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000, i, found = 0;
	struct wl_err err = {0};
	struct wl_db *db;
	char **paths = NULL, miss[4200];
	struct wl_rec r;
	size_t n;
	double t0, t;

	if (argc < 3) {
		fprintf(stderr, "usage: lookup_bench LIST KEY [LOOKUPS]\n");
		return 2;
	}
	if (wl_key_load(argv[2], key, &err) < 0)
		goto fail;
	t0 = bench_now();
	if (wl_db_open(argv[1], key, &db, &err) < 0)
		goto fail;
	printf("open + MAC check of %zu entries: %.2f ms\n", wl_db_count(db),
	       (bench_now() - t0) * 1e3);
	n = wl_db_count(db);
	if (!n || bench_keys(db, &paths, &hashes) < 0) {
		fprintf(stderr, "lookup_bench: empty list or out of memory\n");
		return 3;
	}
	t0 = bench_now();
	for (i = 0; i < lookups; i++)
		found += wl_db_find_path(db, paths[(i * 7919) % n], &r) == 0;
	t = bench_now() - t0;
	printf("wl_db_find_path hits:   %.0f lookups/s (%lu of %lu found)\n", lookups / t, found,
	       lookups);
	found = 0;
	t0 = bench_now();
	for (i = 0; i < lookups; i++) {
		snprintf(miss, sizeof(miss), "%s.absent", paths[(i * 7919) % n]);
		found += wl_db_find_path(db, miss, &r) == 0;
	}
	t = bench_now() - t0;
	printf("wl_db_find_path misses: %.0f lookups/s (incl. snprintf; %lu found)\n", lookups / t,
	       found);
	found = 0;
	t0 = bench_now();
	for (i = 0; i < lookups; i++)
		found += wl_db_find_hash(db, hashes[(i * 7919) % n], &r) == 0;
	t = bench_now() - t0;
	printf("wl_db_find_hash hits:   %.0f lookups/s (%lu of %lu found)\n", lookups / t, found,
	       lookups);
	wl_db_close(db);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(hashes);
	return 0;
fail:
	fprintf(stderr, "lookup_bench: %s\n", err.msg);
	return 2;
}
