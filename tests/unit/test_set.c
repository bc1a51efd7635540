/* test_set.c - unit tests for whitelist/set.c: unique-by-path insert and
 * replace, remove, remove_tree boundaries (table-driven), path order on
 * demand, and a 100,000-entry run. Owns only its own sets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

static void put(struct wl_set *s, const char *path, uint64_t size, const char *interp)
{
	struct wl_entry e = {0};

	e.path = strdup(path);
	e.interp = interp ? strdup(interp) : NULL;
	e.size = size;
	e.sha256[0] = (uint8_t)size;
	assert_non_null(e.path);
	assert_int_equal(wl_set_put(s, &e), 0);
	assert_null(e.path);
	assert_null(e.interp);
}

static void test_put_find_replace(void **state)
{
	struct wl_set *s = wl_set_new();
	const struct wl_entry *e;

	(void)state;
	assert_non_null(s);
	assert_int_equal(wl_set_count(s), 0);
	assert_null(wl_set_at(s, 0));
	assert_null(wl_set_find(s, "/bin/sh"));
	put(s, "/bin/sh", 1, "/lib64/ld-linux-x86-64.so.2");
	put(s, "/bin/ls", 2, NULL);
	assert_int_equal(wl_set_count(s), 2);
	e = wl_set_find(s, "/bin/sh");
	assert_non_null(e);
	assert_int_equal(e->size, 1);
	assert_string_equal(e->interp, "/lib64/ld-linux-x86-64.so.2");
	/* Same path again: replaced, not added; the old strings are freed
	 * (LeakSanitizer would say otherwise). */
	put(s, "/bin/sh", 3, "/other/interp");
	assert_int_equal(wl_set_count(s), 2);
	e = wl_set_find(s, "/bin/sh");
	assert_int_equal(e->size, 3);
	assert_string_equal(e->interp, "/other/interp");
	assert_null(wl_set_find(s, "/bin/s"));
	assert_null(wl_set_find(s, "/bin/sh/"));
	wl_set_free(s);
}

static void test_put_bad(void **state)
{
	struct wl_set *s = wl_set_new();
	struct wl_entry e = {0};

	(void)state;
	assert_int_equal(wl_set_put(s, &e), -EINVAL);
	e.path = (char *)"";
	assert_int_equal(wl_set_put(s, &e), -EINVAL);
	assert_int_equal(wl_set_put(NULL, &e), -EINVAL);
	assert_int_equal(wl_set_count(s), 0);
	wl_set_free(s);
	wl_set_free(NULL);
}

static void test_remove(void **state)
{
	struct wl_set *s = wl_set_new();

	(void)state;
	put(s, "/a", 1, NULL);
	put(s, "/b", 2, "/i");
	put(s, "/c", 3, NULL);
	assert_int_equal(wl_set_remove(s, "/b"), 0);
	assert_int_equal(wl_set_remove(s, "/b"), -ENOENT);
	assert_int_equal(wl_set_remove(s, "/zzz"), -ENOENT);
	assert_int_equal(wl_set_count(s), 2);
	assert_null(wl_set_find(s, "/b"));
	assert_int_equal(wl_set_find(s, "/a")->size, 1);
	assert_int_equal(wl_set_find(s, "/c")->size, 3);
	assert_string_equal(wl_set_at(s, 0)->path, "/a");
	assert_string_equal(wl_set_at(s, 1)->path, "/c");
	assert_null(wl_set_at(s, 2));
	put(s, "/b", 4, NULL);
	assert_string_equal(wl_set_at(s, 1)->path, "/b");
	wl_set_free(s);
}

static const char *const tree_paths[] = {
    "/a",       "/a/b",   "/a/b/c", "/a/b/d/e", "/a/bc", "/a/bc/x",
    "/a/b.txt", "/a/b-x", "/a/b\n", "/b",       "/ab",   "/a/b/\xff",
};
#define N_TREE (sizeof(tree_paths) / sizeof(tree_paths[0]))

#define ALL_A                                                                                      \
	"/a", "/a/b", "/a/b/c", "/a/b/d/e", "/a/bc", "/a/bc/x", "/a/b.txt", "/a/b-x", "/a/b\n",    \
	    "/a/b/\xff"

static const struct {
	const char *dir;
	size_t removed;
	const char *gone[N_TREE + 1]; /* every other path of tree_paths must stay */
} tree_cases[] = {
    {"/a/b", 4, {"/a/b", "/a/b/c", "/a/b/d/e", "/a/b/\xff"}},
    {"/a/b/", 4, {"/a/b", "/a/b/c", "/a/b/d/e", "/a/b/\xff"}},
    {"/a/b//", 4, {"/a/b", "/a/b/c", "/a/b/d/e", "/a/b/\xff"}},
    {"/a/bc", 2, {"/a/bc", "/a/bc/x"}},
    {"/a/b/c", 1, {"/a/b/c"}},
    {"/a/b/d", 1, {"/a/b/d/e"}},
    {"/a/b.txt", 1, {"/a/b.txt"}},
    {"/a/b\n", 1, {"/a/b\n"}},
    {"/a/x", 0, {NULL}},
    {"/a/", 10, {ALL_A}},
    {"/", N_TREE, {ALL_A, "/b", "/ab"}},
    {"", 0, {NULL}},
};

static bool tree_gone(size_t c, const char *path)
{
	size_t k;

	for (k = 0; tree_cases[c].gone[k]; k++)
		if (strcmp(tree_cases[c].gone[k], path) == 0)
			return true;
	return false;
}

static void test_remove_tree(void **state)
{
	size_t c, i;

	(void)state;
	for (c = 0; c < sizeof(tree_cases) / sizeof(tree_cases[0]); c++) {
		struct wl_set *s = wl_set_new();

		for (i = 0; tree_cases[c].gone[i]; i++)
			; /* the table agrees with itself */
		assert_int_equal(i, tree_cases[c].removed);
		for (i = 0; i < N_TREE; i++)
			put(s, tree_paths[i], i, "/x");
		assert_int_equal(wl_set_remove_tree(s, tree_cases[c].dir), tree_cases[c].removed);
		assert_int_equal(wl_set_count(s), N_TREE - tree_cases[c].removed);
		for (i = 0; i < N_TREE; i++) {
			const struct wl_entry *e = wl_set_find(s, tree_paths[i]);

			if (tree_gone(c, tree_paths[i])) {
				if (e)
					fail_msg("case %zu (%s): %s still there", c,
					         tree_cases[c].dir, tree_paths[i]);
			} else if (!e || e->size != i) {
				fail_msg("case %zu (%s): %s lost", c, tree_cases[c].dir,
				         tree_paths[i]);
			}
		}
		wl_set_free(s);
	}
}

/* Path order is strcmp order on raw (unsigned) bytes: '\n' < '-' < '.' < '/' < 'c' < 0xff. */
static void test_order(void **state)
{
	static const char *const sorted[] = {"/a",       "/a/b",    "/a/b\n",   "/a/b-x",
	                                     "/a/b.txt", "/a/b/c",  "/a/b/d/e", "/a/b/\xff",
	                                     "/a/bc",    "/a/bc/x", "/ab",      "/b"};
	struct wl_set *s = wl_set_new();
	size_t i;

	(void)state;
	assert_int_equal(N_TREE, sizeof(sorted) / sizeof(sorted[0]));
	for (i = N_TREE; i-- > 0;)
		put(s, tree_paths[i], i, NULL);
	for (i = 0; i < N_TREE; i++)
		assert_string_equal(wl_set_at(s, i)->path, sorted[i]);
	wl_set_free(s);
}

/* 100,000 entries inserted in scrambled order: found, sorted, removed. */
static void test_large(void **state)
{
	const size_t n = 100000;
	struct wl_set *s = wl_set_new();
	char path[64];
	size_t i, k;

	(void)state;
	for (i = 0; i < n; i++) {
		k = (i * 7919) % n; /* 7919 is prime: a permutation of 0..n-1 */
		snprintf(path, sizeof(path), "/usr/lib/d%03zu/f%06zu", k % 997, k);
		put(s, path, k, (k % 3) ? "/lib/ld.so" : NULL);
	}
	assert_int_equal(wl_set_count(s), n);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/usr/lib/d%03zu/f%06zu", i % 997, i);
		assert_non_null(wl_set_find(s, path));
		assert_int_equal(wl_set_find(s, path)->size, i);
	}
	for (i = 1; i < n; i++)
		assert_true(strcmp(wl_set_at(s, i - 1)->path, wl_set_at(s, i)->path) < 0);
	for (i = 0; i < n; i += 2) {
		snprintf(path, sizeof(path), "/usr/lib/d%03zu/f%06zu", i % 997, i);
		assert_int_equal(wl_set_remove(s, path), 0);
	}
	assert_int_equal(wl_set_count(s), n / 2);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/usr/lib/d%03zu/f%06zu", i % 997, i);
		assert_true((wl_set_find(s, path) != NULL) == (i % 2 == 1));
	}
	/* d000 holds k = 0, 997, 1994, ...: the odd ones are left. */
	assert_int_equal(wl_set_remove_tree(s, "/usr/lib/d000"), (n / 997 + 1) / 2);
	assert_null(wl_set_find(s, "/usr/lib/d000/f000997"));
	assert_non_null(wl_set_find(s, "/usr/lib/d001/f000001"));
	assert_int_equal(wl_set_remove_tree(s, "/usr"), n / 2 - (n / 997 + 1) / 2);
	assert_int_equal(wl_set_count(s), 0);
	wl_set_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_find_replace),
	    cmocka_unit_test(test_put_bad),
	    cmocka_unit_test(test_remove),
	    cmocka_unit_test(test_remove_tree),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
