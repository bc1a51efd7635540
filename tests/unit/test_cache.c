/* test_cache.c - unit tests for agent/cache.c: hits need the whole identity
 * (inode, size, times, list serial, path hash); drop by inode; flush;
 * bounded size with LRU replacement; consistent under concurrent use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "decide.h"
#include "cache.h"

static struct stat mkstat(uint64_t dev, uint64_t ino)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_dev = dev;
	st.st_ino = ino;
	st.st_size = 1000 + (off_t)ino;
	st.st_ctim.tv_sec = 100;
	st.st_ctim.tv_nsec = 5;
	st.st_mtim.tv_sec = 90;
	st.st_mtim.tv_nsec = 7;
	st.st_nlink = 1;
	return st;
}

static struct cache_val mkval(uint64_t ino, enum hmd_reason r)
{
	struct cache_val v = {.reason = (uint8_t)r};

	(void)ino;
	return v;
}

static int setup(void **state)
{
	(void)state;
	return cache_init(1024, 8);
}

static int teardown(void **state)
{
	(void)state;
	cache_fini();
	return 0;
}

static void test_init_args(void **state)
{
	(void)state;
	cache_fini();
	assert_int_equal(cache_init(100, 3), -EINVAL);
	assert_int_equal(cache_init(100, 4), 0);
	assert_int_equal(cache_capacity(), 128); /* rounded up to a power of two */
	cache_fini();
	assert_int_equal(cache_init(1, 1), 0);
	assert_int_equal(cache_capacity(), 64); /* the minimum */
	cache_fini();
	assert_int_equal(cache_init(1024, 8), 0);
}

static void test_hit_needs_whole_identity(void **state)
{
	struct stat st = mkstat(8, 42), o;
	struct cache_key k, q;
	struct cache_val v = mkval(42, HMD_R_LISTED), got;

	(void)state;
	cache_key_from_stat(&k, &st, 3, 0);
	cache_insert(&k, &v);
	assert_true(cache_lookup(&k, &got));
	assert_memory_equal(&got, &v, sizeof(v));
	assert_int_equal(cache_count(), 1);

	/* Each field that can move with the content, or the list, misses. */
	o = st, o.st_size++;
	cache_key_from_stat(&q, &o, 3, 0);
	assert_false(cache_lookup(&q, &got));
	o = st, o.st_mtim.tv_nsec++;
	cache_key_from_stat(&q, &o, 3, 0);
	assert_false(cache_lookup(&q, &got));
	o = st, o.st_ctim.tv_sec++;
	cache_key_from_stat(&q, &o, 3, 0);
	assert_false(cache_lookup(&q, &got));
	o = st, o.st_ino++;
	cache_key_from_stat(&q, &o, 3, 0);
	assert_false(cache_lookup(&q, &got));
	o = st, o.st_dev++;
	cache_key_from_stat(&q, &o, 3, 0);
	assert_false(cache_lookup(&q, &got));
	cache_key_from_stat(&q, &st, 4, 0); /* a reload */
	assert_false(cache_lookup(&q, &got));
	cache_key_from_stat(&q, &st, 3, cache_path_hash("/other/link"));
	assert_false(cache_lookup(&q, &got));
	/* nlink and mode are not part of the identity */
	o = st, o.st_nlink = 1, o.st_mode = 0755;
	cache_key_from_stat(&q, &o, 3, 0);
	assert_true(cache_lookup(&q, &got));
}

static void test_replace_same_inode(void **state)
{
	struct stat st = mkstat(1, 7);
	struct cache_key k;
	struct cache_val v1 = mkval(7, HMD_R_LISTED), v2 = mkval(7, HMD_R_HASH_MISMATCH), got;

	(void)state;
	cache_key_from_stat(&k, &st, 1, 0);
	cache_insert(&k, &v1);
	st.st_mtim.tv_sec++; /* file changed: new outcome replaces the old */
	cache_key_from_stat(&k, &st, 1, 0);
	cache_insert(&k, &v2);
	assert_int_equal(cache_count(), 1);
	assert_true(cache_lookup(&k, &got));
	assert_int_equal(got.reason, HMD_R_HASH_MISMATCH);
}

static void test_paths_of_one_inode(void **state)
{
	struct stat st = mkstat(1, 9);
	struct cache_key a, b;
	struct cache_val va = mkval(9, HMD_R_LISTED), vb = mkval(9, HMD_R_NOT_LISTED), got;

	(void)state;
	cache_key_from_stat(&a, &st, 1, cache_path_hash("/w/bin/true"));
	cache_key_from_stat(&b, &st, 1, cache_path_hash("/w/tmp/true"));
	cache_insert(&a, &va);
	cache_insert(&b, &vb);
	assert_true(cache_lookup(&a, &got));
	assert_int_equal(got.reason, HMD_R_LISTED);
	assert_true(cache_lookup(&b, &got));
	assert_int_equal(got.reason, HMD_R_NOT_LISTED);
	/* a close-write drops every entry of the inode */
	assert_int_equal(cache_drop_inode(1, 9), 2);
	assert_false(cache_lookup(&a, &got));
	assert_false(cache_lookup(&b, &got));
	assert_int_equal(cache_count(), 0);
}

static void test_path_hash(void **state)
{
	(void)state;
	assert_int_not_equal(cache_path_hash(""), 0);
	assert_int_not_equal(cache_path_hash("/a"), cache_path_hash("/b"));
	assert_int_equal(cache_path_hash("/usr/bin/x"), cache_path_hash("/usr/bin/x"));
}

static void test_drop_and_flush(void **state)
{
	struct cache_key k;
	struct cache_val v, got;

	(void)state;
	for (uint64_t i = 1; i <= 100; i++) {
		struct stat st = mkstat(2, i);

		v = mkval(i, HMD_R_NOT_LISTED);
		cache_key_from_stat(&k, &st, 1, 0);
		cache_insert(&k, &v);
	}
	assert_true(cache_count() > 90); /* a few may collide in a 4-way set */
	{
		struct stat st = mkstat(2, 5);
		size_t before = cache_count();
		bool had;

		cache_key_from_stat(&k, &st, 1, 0);
		had = cache_lookup(&k, &got);
		assert_int_equal(cache_drop_inode(2, 5), had);
		assert_int_equal(cache_drop_inode(2, 5), 0);
		assert_int_equal(cache_count(), before - had);
		assert_false(cache_lookup(&k, &got));
	}
	cache_flush();
	assert_int_equal(cache_count(), 0);
	for (uint64_t i = 1; i <= 100; i++) {
		struct stat st = mkstat(2, i);

		cache_key_from_stat(&k, &st, 1, 0);
		assert_false(cache_lookup(&k, &got));
	}
}

/* A table of 64 holds at most 64; recently used entries survive. */
static void test_bounded_lru(void **state)
{
	struct cache_key k, hot;
	struct cache_val v, got;
	struct stat st = mkstat(3, 1);
	size_t hot_hits = 0;

	(void)state;
	cache_fini();
	assert_int_equal(cache_init(64, 1), 0);
	cache_key_from_stat(&hot, &st, 1, 0);
	v = mkval(1, HMD_R_LISTED);
	cache_insert(&hot, &v);
	for (uint64_t i = 2; i < 5000; i++) {
		struct stat s2 = mkstat(3, i);

		v = mkval(i, HMD_R_NOT_LISTED);
		cache_key_from_stat(&k, &s2, 1, 0);
		cache_insert(&k, &v);
		assert_true(cache_count() <= 64);
		hot_hits += cache_lookup(&hot, &got); /* keeps it recently used */
	}
	assert_int_equal(cache_count(), 64);
	assert_int_equal(hot_hits, 4998);
	assert_true(cache_lookup(&hot, &got));
	assert_int_equal(got.reason, HMD_R_LISTED);
}

/* Four threads insert and look up overlapping inodes; a hit must always
 * return the value stored for that very key (each inode stores its own
 * outcome: no torn or misplaced entries). */
static void *hammer(void *arg)
{
	uintptr_t seed = (uintptr_t)arg;
	struct cache_key k;
	struct cache_val v, got;

	for (uint64_t n = 0; n < 200000; n++) {
		uint64_t ino = (n * 2654435761u + seed) % 3000;
		struct stat st = mkstat(4, ino);

		cache_key_from_stat(&k, &st, 1, 0);
		if (cache_lookup(&k, &got)) {
			if (got.reason != ino % HMD_R__MAX)
				return (void *)1;
		} else {
			v.reason = (uint8_t)(ino % HMD_R__MAX);
			cache_insert(&k, &v);
		}
		if (n % 997 == 0)
			cache_drop_inode(4, ino);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	pthread_t t[4];
	void *rc;

	(void)state;
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)i), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_null(rc);
	}
	assert_true(cache_count() <= cache_capacity());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hit_needs_whole_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_same_inode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths_of_one_inode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path_hash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_and_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bounded_lru, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
