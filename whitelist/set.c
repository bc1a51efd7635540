/* set.c - struct wl_set, the mutable in-memory list being built or edited:
 * entries unique by path (open-addressing hash table over an entry array),
 * path order computed on demand. Owned by one caller; not thread-safe. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

#define SET_MIN_SLOTS 64

struct wl_set {
	struct wl_entry *ents; /* n entries, unordered */
	uint64_t *hashes; /* hashes[i] = set_hash(ents[i].path) */
	size_t n, cap;
	uint32_t *slots; /* index + 1 into ents, 0 = empty; linear probing */
	size_t nslots; /* power of two, at least 2 * n */
	const struct wl_entry **order; /* cap pointers; path order when !dirty */
	bool dirty;
	uint32_t flags; /* WL_DB_F_*, written with the set */
};

/* FNV-1a: a table hash, not a security boundary (paths come from the
 * operator's own trees). */
static uint64_t set_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint32_t wl_set_flags(const struct wl_set *s)
{
	return s->flags;
}

void wl_set_set_flags(struct wl_set *s, uint32_t flags)
{
	s->flags = flags;
}

struct wl_set *wl_set_new(void)
{
	struct wl_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->slots = calloc(SET_MIN_SLOTS, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	s->nslots = SET_MIN_SLOTS;
	return s;
}

void wl_set_free(struct wl_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		wl_entry_free(&s->ents[i]);
	free(s->ents);
	free(s->hashes);
	free(s->slots);
	free(s->order);
	free(s);
}

/* Slot holding path, or the empty slot where it would go. */
static size_t set_probe(const struct wl_set *s, const char *path, uint64_t h)
{
	size_t mask = s->nslots - 1, i = h & mask;
	uint32_t v;

	while ((v = s->slots[i]) != 0) {
		if (s->hashes[v - 1] == h && strcmp(s->ents[v - 1].path, path) == 0)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int set_rehash(struct wl_set *s, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	size_t i, j, mask = nslots - 1;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		for (j = s->hashes[i] & mask; slots[j]; j = (j + 1) & mask)
			;
		slots[j] = (uint32_t)(i + 1);
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = nslots;
	return 0;
}

/* Room for one more entry: arrays and a table at most half full. */
static int set_reserve(struct wl_set *s)
{
	size_t cap;
	void *p;

	if (s->n >= UINT32_MAX - 1)
		return -ENOMEM;
	if (s->n == s->cap) {
		cap = s->cap ? 2 * s->cap : 64;
		p = realloc(s->ents, cap * sizeof(*s->ents));
		if (!p)
			return -ENOMEM;
		s->ents = p;
		p = realloc(s->hashes, cap * sizeof(*s->hashes));
		if (!p)
			return -ENOMEM;
		s->hashes = p;
		p = realloc(s->order, cap * sizeof(*s->order));
		if (!p)
			return -ENOMEM;
		s->order = p;
		s->cap = cap;
	}
	if (2 * (s->n + 1) > s->nslots)
		return set_rehash(s, 2 * s->nslots);
	return 0;
}

int wl_set_put(struct wl_set *s, struct wl_entry *e)
{
	uint64_t h;
	size_t slot;
	int ret;

	if (!s || !e || !e->path || !e->path[0])
		return -EINVAL;
	ret = set_reserve(s);
	if (ret)
		return ret;
	h = set_hash(e->path);
	slot = set_probe(s, e->path, h);
	if (s->slots[slot]) {
		/* Same path: replace in place; the path order does not change. */
		wl_entry_free(&s->ents[s->slots[slot] - 1]);
		s->ents[s->slots[slot] - 1] = *e;
	} else {
		s->ents[s->n] = *e;
		s->hashes[s->n] = h;
		s->slots[slot] = (uint32_t)(++s->n);
		s->dirty = true;
	}
	e->path = NULL;
	e->interp = NULL;
	return 0;
}

/* Empty slot i, then shift later members of its probe run back so that
 * every entry stays reachable from its home slot (no tombstones). */
static void set_slot_clear(struct wl_set *s, size_t i)
{
	size_t mask = s->nslots - 1, j = i, home;

	for (;;) {
		s->slots[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!s->slots[j])
				return;
			home = s->hashes[s->slots[j] - 1] & mask;
			/* j's entry may move to i unless its home lies in (i, j]. */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		s->slots[i] = s->slots[j];
		i = j;
	}
}

/* Remove ents[idx] (found in slot): free it, move the last entry into it. */
static void set_remove_at(struct wl_set *s, size_t slot, size_t idx)
{
	size_t last = s->n - 1;

	wl_entry_free(&s->ents[idx]);
	set_slot_clear(s, slot);
	if (idx != last) {
		slot = set_probe(s, s->ents[last].path, s->hashes[last]);
		s->ents[idx] = s->ents[last];
		s->hashes[idx] = s->hashes[last];
		s->slots[slot] = (uint32_t)(idx + 1);
	}
	s->n--;
	s->dirty = true;
}

int wl_set_remove(struct wl_set *s, const char *path)
{
	size_t slot;

	if (!s || !path)
		return -EINVAL;
	slot = set_probe(s, path, set_hash(path));
	if (!s->slots[slot])
		return -ENOENT;
	set_remove_at(s, slot, s->slots[slot] - 1);
	return 0;
}

/* Is path dir itself or below it? dir has no trailing '/' (len may be 0 for
 * the root, which contains every absolute path). */
static bool set_in_tree(const char *path, const char *dir, size_t len)
{
	return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

size_t wl_set_remove_tree(struct wl_set *s, const char *dir)
{
	size_t len, i, removed = 0;

	if (!s || !dir || !dir[0])
		return 0;
	len = strlen(dir);
	while (len > 0 && dir[len - 1] == '/')
		len--;
	/* Walk down: the entry moved into slot i by a removal was already seen. */
	for (i = s->n; i-- > 0;) {
		if (!set_in_tree(s->ents[i].path, dir, len))
			continue;
		set_remove_at(s, set_probe(s, s->ents[i].path, s->hashes[i]), i);
		removed++;
	}
	return removed;
}

size_t wl_set_count(const struct wl_set *s)
{
	return s ? s->n : 0;
}

static int set_cmp_path(const void *a, const void *b)
{
	const struct wl_entry *x = *(const struct wl_entry *const *)a;
	const struct wl_entry *y = *(const struct wl_entry *const *)b;

	return strcmp(x->path, y->path);
}

const struct wl_entry *wl_set_at(struct wl_set *s, size_t i)
{
	size_t k;

	if (!s || i >= s->n)
		return NULL;
	if (s->dirty) {
		for (k = 0; k < s->n; k++)
			s->order[k] = &s->ents[k];
		qsort(s->order, s->n, sizeof(*s->order), set_cmp_path);
		s->dirty = false;
	}
	return s->order[i];
}

const struct wl_entry *wl_set_find(struct wl_set *s, const char *path)
{
	size_t slot;

	if (!s || !path)
		return NULL;
	slot = set_probe(s, path, set_hash(path));
	return s->slots[slot] ? &s->ents[s->slots[slot] - 1] : NULL;
}
