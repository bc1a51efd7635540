/* classify.c - what kind of file is behind an fd: ELF (parsed with libelf
 * over bounded buffers filled by pread, so the fd offset never moves and a
 * file truncated under us cannot SIGBUS us as an mmap could), #! script (Linux
 * binfmt_script rules), or other. Owns only the struct wl_class it fills;
 * the fd stays the caller's. Any thread may call these. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wl.h"

#define CLASS_HEAD 4096 /* first read: ELF header + phdrs, or the #! line */
#define CLASS_SLACK 64 /* zero bytes after every buffer handed to libelf */
#define CLASS_MAX_TABLE (4u << 20) /* largest phdr/shdr/dynamic table we read */
#define CLASS_MAX_STRTAB (1u << 20) /* largest section-name table we read */
#define CLASS_MAX_NEEDED 1024
#define CLASS_NAME_MAX 4096 /* longest DT_NEEDED name we record */
#define SCRIPT_BUF 256 /* Linux BINPRM_BUF_SIZE */

static pthread_once_t class_once = PTHREAD_ONCE_INIT;
static bool class_libelf_ok;

static void class_init_once(void)
{
	class_libelf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

/* One ELF file being classified. */
struct class_elf {
	int fd;
	uint64_t fsize;
	unsigned char *buf; /* ELF header and phdrs (at least CLASS_HEAD bytes) */
	size_t len; /* bytes of buf that hold file data */
	Elf *elf; /* elf_memory over buf */
	GElf_Ehdr eh;
};

/* pread len bytes at off (fewer only at EOF); bytes read or -errno. */
static ssize_t class_pread(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Is [off, off + len) inside a file of size fsize (no overflow)? */
static bool class_in_file(uint64_t off, uint64_t len, uint64_t fsize)
{
	return off <= fsize && len <= fsize - off;
}

/* Read up to len bytes at off: from the head buffer when it holds them
 * (PT_INTERP and often .dynstr live in the first page), else with pread. */
static ssize_t class_get(const struct class_elf *ce, void *dst, size_t len, uint64_t off)
{
	if (off <= ce->len && len <= ce->len - off) {
		memcpy(dst, ce->buf + off, len);
		return (ssize_t)len;
	}
	return class_pread(ce->fd, dst, len, off);
}

/* Read [off, off + len) completely into a new zero-padded buffer: 0, -ERANGE
 * when the range is not inside the file, or -errno. */
static int class_read_range(const struct class_elf *ce, uint64_t off, uint64_t len,
                            unsigned char **out)
{
	unsigned char *p;
	ssize_t n;

	if (!class_in_file(off, len, ce->fsize) || len > CLASS_MAX_TABLE)
		return -ERANGE;
	p = calloc(1, (size_t)len + CLASS_SLACK);
	if (!p)
		return -ENOMEM;
	n = class_get(ce, p, (size_t)len, off);
	if (n < 0 || (uint64_t)n != len) {
		free(p);
		return n < 0 ? (int)n : -ERANGE;
	}
	*out = p;
	return 0;
}

/* ---- #! scripts ------------------------------------------------------- */

static bool class_spacetab(char c)
{
	return c == ' ' || c == '\t';
}

static char *class_next_non_spacetab(char *first, const char *last)
{
	for (; first <= last; first++)
		if (!class_spacetab(*first))
			return first;
	return NULL;
}

static char *class_next_terminator(char *first, const char *last)
{
	for (; first <= last; first++)
		if (class_spacetab(*first) || !*first)
			return first;
	return NULL;
}

/* The interpreter and its one optional argument, parsed exactly as Linux
 * fs/binfmt_script.c does: the first 256 bytes, the line ends at '\n' (a NUL
 * first means no newline), trailing blanks go, the first word is the
 * interpreter and the rest of the line is the argument. A '\r' stays part of
 * the line, as for the kernel (a CRLF script fails to exec). When the kernel
 * would refuse the line (no interpreter, or one cut off at 255 bytes) interp
 * stays "". */
static void class_script(const unsigned char *head, size_t n, struct wl_class *out)
{
	char buf[SCRIPT_BUF] = {0};
	char *end = buf + SCRIPT_BUF - 1, *i_end, *name, *sep, *arg = NULL;

	out->type = WL_T_SCRIPT;
	memcpy(buf, head, n < SCRIPT_BUF ? n : SCRIPT_BUF);
	for (i_end = buf; i_end <= end && *i_end && *i_end != '\n'; i_end++)
		;
	if (i_end > end || *i_end != '\n') {
		name = class_next_non_spacetab(buf + 2, end);
		if (!name || !class_next_terminator(name, end))
			return;
		i_end = end;
	}
	while (class_spacetab(i_end[-1]))
		i_end--;
	*i_end = '\0';
	name = class_next_non_spacetab(buf + 2, i_end);
	if (!name || name == i_end)
		return;
	sep = class_next_terminator(name, i_end);
	if (sep && *sep)
		arg = class_next_non_spacetab(sep, i_end);
	if (sep)
		*sep = '\0';
	snprintf(out->interp, sizeof(out->interp), "%s", name);
	if (arg)
		snprintf(out->interp_arg, sizeof(out->interp_arg), "%s", arg);
}

/* ---- ELF: DT_NEEDED --------------------------------------------------- */

/* File offset of virtual address va through the PT_LOAD segments. */
static int class_vaddr_to_off(struct class_elf *ce, size_t phnum, uint64_t va, uint64_t *off)
{
	GElf_Phdr ph;
	size_t i;

	for (i = 0; i < phnum; i++) {
		if (!gelf_getphdr(ce->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (va >= ph.p_vaddr && va - ph.p_vaddr < ph.p_filesz) {
			*off = ph.p_offset + (va - ph.p_vaddr);
			return 0;
		}
	}
	return -ERANGE;
}

/* The part of the dynamic string table that holds the DT_NEEDED names,
 * read once when it is small (it usually is), else name by name. */
struct class_strtab {
	uint64_t off, size; /* whole table in the file */
	uint64_t lo; /* window: table bytes [lo, lo + len) */
	size_t len;
	char *win;
};

#define CLASS_STR_WINDOW (16 * 1024)

static int class_strtab_window(struct class_elf *ce, struct class_strtab *t, const uint64_t *idx,
                               size_t k)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	ssize_t n;
	size_t i;

	for (i = 0; i < k; i++) {
		if (idx[i] >= t->size)
			continue;
		lo = idx[i] < lo ? idx[i] : lo;
		hi = idx[i] + 256 > hi ? idx[i] + 256 : hi;
	}
	hi = hi < t->size ? hi : t->size;
	if (lo >= hi || hi - lo > CLASS_STR_WINDOW)
		return 0;
	t->win = malloc(hi - lo);
	if (!t->win)
		return -ENOMEM;
	n = class_get(ce, t->win, (size_t)(hi - lo), t->off + lo);
	if (n < 0)
		return (int)n;
	t->lo = lo;
	t->len = (size_t)n;
	return 0;
}

/* Append the NUL-terminated name at table offset idx to out->needed. */
static int class_add_needed(struct class_elf *ce, const struct class_strtab *t, uint64_t idx,
                            struct wl_class *out)
{
	char buf[CLASS_NAME_MAX];
	const char *name = buf;
	size_t want;
	ssize_t n;
	char **v;

	if (idx >= t->size || out->n_needed >= CLASS_MAX_NEEDED)
		return 0;
	if (t->win && idx >= t->lo && idx - t->lo < t->len &&
	    memchr(t->win + (idx - t->lo), '\0', t->len - (size_t)(idx - t->lo))) {
		name = t->win + (idx - t->lo);
	} else {
		want = t->size - idx < sizeof(buf) ? (size_t)(t->size - idx) : sizeof(buf);
		n = class_get(ce, buf, want, t->off + idx);
		if (n < 0)
			return (int)n;
		if (!memchr(buf, '\0', (size_t)n))
			return 0; /* cut off: not a name the loader could use */
	}
	if (!name[0])
		return 0;
	v = realloc(out->needed, (out->n_needed + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->needed = v;
	v[out->n_needed] = strdup(name);
	if (!v[out->n_needed])
		return -ENOMEM;
	out->n_needed++;
	return 0;
}

/* Decode the dynamic table dyn (n entries of the file's class, in file byte
 * order) into DT_STRTAB, DT_STRSZ and the DT_NEEDED offsets. */
static size_t class_scan_dynamic(struct class_elf *ce, unsigned char *dyn, size_t n,
                                 uint64_t *strtab, uint64_t *strsz, uint64_t *needed)
{
	size_t esz = gelf_fsize(ce->elf, ELF_T_DYN, 1, EV_CURRENT), i, k = 0;
	Elf_Data d = {.d_buf = dyn, .d_type = ELF_T_DYN, .d_version = EV_CURRENT};
	int64_t tag;
	uint64_t val;

	d.d_size = n * esz;
	if (!esz || !gelf_xlatetom(ce->elf, &d, &d, ce->eh.e_ident[EI_DATA]))
		return 0;
	for (i = 0; i < n; i++) {
		if (ce->eh.e_ident[EI_CLASS] == ELFCLASS64) {
			tag = ((Elf64_Dyn *)dyn)[i].d_tag;
			val = ((Elf64_Dyn *)dyn)[i].d_un.d_val;
		} else {
			tag = ((Elf32_Dyn *)dyn)[i].d_tag;
			val = ((Elf32_Dyn *)dyn)[i].d_un.d_val;
		}
		if (tag == DT_NULL)
			break;
		if (tag == DT_STRTAB)
			*strtab = val;
		else if (tag == DT_STRSZ)
			*strsz = val;
		else if (tag == DT_NEEDED && k < CLASS_MAX_NEEDED)
			needed[k++] = val;
	}
	return k;
}

/* Record DT_NEEDED from the PT_DYNAMIC segment at [off, off + size).
 * Best effort: a damaged table yields fewer names, never an error. */
static int class_needed(struct class_elf *ce, size_t phnum, uint64_t off, uint64_t size,
                        struct wl_class *out)
{
	size_t esz = gelf_fsize(ce->elf, ELF_T_DYN, 1, EV_CURRENT), n, k, i;
	uint64_t strtab = 0, *needed = NULL;
	struct class_strtab t = {0};
	unsigned char *dyn = NULL;
	int ret;

	if (!esz || size < esz)
		return 0;
	n = (size_t)((size < CLASS_MAX_TABLE ? size : CLASS_MAX_TABLE) / esz);
	ret = class_read_range(ce, off, (uint64_t)n * esz, &dyn);
	if (ret)
		return ret == -ERANGE ? 0 : ret;
	needed = malloc((n < CLASS_MAX_NEEDED ? n : CLASS_MAX_NEEDED) * sizeof(*needed));
	ret = -ENOMEM;
	if (!needed)
		goto free_dyn;
	ret = 0;
	k = class_scan_dynamic(ce, dyn, n, &strtab, &t.size, needed);
	if (!k || !t.size || class_vaddr_to_off(ce, phnum, strtab, &t.off) ||
	    !class_in_file(t.off, t.size, ce->fsize))
		goto free_needed;
	ret = class_strtab_window(ce, &t, needed, k);
	for (i = 0; i < k && !ret; i++)
		ret = class_add_needed(ce, &t, needed[i], out);
free_needed:
	free(t.win);
	free(needed);
free_dyn:
	free(dyn);
	return ret;
}

/* ---- ELF: executables and shared objects ------------------------------ */

/* PT_INTERP's string (cut at its first NUL or at sizeof(interp) - 1). */
static int class_interp(struct class_elf *ce, const GElf_Phdr *ph, struct wl_class *out)
{
	size_t len = sizeof(out->interp) - 1;
	ssize_t n;

	if (ph->p_filesz < len)
		len = (size_t)ph->p_filesz;
	n = class_get(ce, out->interp, len, ph->p_offset);
	if (n < 0)
		return (int)n;
	out->interp[n] = '\0';
	return (size_t)n == len ? 0 : -ERANGE;
}

/* ET_EXEC / ET_DYN: walk the program headers. -ERANGE means broken. */
static int class_dyn(struct class_elf *ce, struct wl_class *out)
{
	uint64_t dyn_off = 0, dyn_size = 0;
	bool interp = false, dynamic = false;
	GElf_Phdr ph;
	size_t phnum, i;
	int ret;

	if (elf_getphdrnum(ce->elf, &phnum) != 0)
		return -ERANGE;
	for (i = 0; i < phnum; i++) {
		if (!gelf_getphdr(ce->elf, (int)i, &ph))
			return -ERANGE;
		if ((ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC || ph.p_type == PT_INTERP) &&
		    !class_in_file(ph.p_offset, ph.p_filesz, ce->fsize))
			return -ERANGE; /* truncated: the loader would read past EOF */
		if (ph.p_type == PT_INTERP && !interp) {
			interp = true;
			ret = class_interp(ce, &ph, out);
			if (ret)
				return ret;
		} else if (ph.p_type == PT_DYNAMIC && !dynamic) {
			dynamic = true;
			dyn_off = ph.p_offset;
			dyn_size = ph.p_filesz;
		}
	}
	if (ce->eh.e_type == ET_EXEC)
		out->type = WL_T_EXEC;
	else
		out->type = interp ? WL_T_PIE : WL_T_SHLIB;
	return dynamic ? class_needed(ce, phnum, dyn_off, dyn_size, out) : 0;
}

/* ---- ELF: relocatable objects and kernel modules ---------------------- */

static void class_shdr_get(const struct class_elf *ce, const unsigned char *tab, size_t i,
                           uint64_t *name, uint64_t *off, uint64_t *size, uint64_t *link)
{
	if (ce->eh.e_ident[EI_CLASS] == ELFCLASS64) {
		const Elf64_Shdr *s = (const Elf64_Shdr *)tab + i;

		*name = s->sh_name, *off = s->sh_offset, *size = s->sh_size, *link = s->sh_link;
	} else {
		const Elf32_Shdr *s = (const Elf32_Shdr *)tab + i;

		*name = s->sh_name, *off = s->sh_offset, *size = s->sh_size, *link = s->sh_link;
	}
}

/* Read and translate n section headers into *tab. */
static int class_shdrs(struct class_elf *ce, size_t n, unsigned char **tab)
{
	size_t esz = gelf_fsize(ce->elf, ELF_T_SHDR, 1, EV_CURRENT);
	Elf_Data d = {.d_type = ELF_T_SHDR, .d_version = EV_CURRENT};
	int ret;

	if (!esz || ce->eh.e_shentsize != esz || n > CLASS_MAX_TABLE / esz)
		return -ERANGE;
	ret = class_read_range(ce, ce->eh.e_shoff, (uint64_t)n * esz, tab);
	if (ret)
		return ret;
	d.d_buf = *tab;
	d.d_size = n * esz;
	if (!gelf_xlatetom(ce->elf, &d, &d, ce->eh.e_ident[EI_DATA])) {
		free(*tab);
		return -ERANGE;
	}
	return 0;
}

/* Does the section table name a ".modinfo" section? 1 yes, 0 no, -ERANGE
 * broken, -errno. */
static int class_has_modinfo(struct class_elf *ce, unsigned char *tab, size_t n, size_t stridx)
{
	static const char want[] = ".modinfo";
	uint64_t name, off, size, link, strsz;
	unsigned char *str = NULL;
	size_t i;
	int ret;

	if (stridx >= n)
		return -ERANGE;
	class_shdr_get(ce, tab, stridx, &name, &off, &strsz, &link);
	if (strsz > CLASS_MAX_STRTAB)
		return -ERANGE;
	ret = class_read_range(ce, off, strsz, &str);
	if (ret)
		return ret;
	for (i = 0; i < n && !ret; i++) {
		class_shdr_get(ce, tab, i, &name, &off, &size, &link);
		ret = name < strsz && strsz - name >= sizeof(want) &&
		      memcmp(str + name, want, sizeof(want)) == 0;
	}
	free(str);
	return ret;
}

/* ET_REL: a kernel module when it carries .modinfo. */
static int class_rel(struct class_elf *ce, struct wl_class *out)
{
	uint64_t name, off, size, link;
	unsigned char *tab = NULL;
	size_t n = ce->eh.e_shnum, stridx = ce->eh.e_shstrndx;
	int ret;

	if (n == 0 && ce->eh.e_shoff) { /* extended numbering: count in shdr[0] */
		ret = class_shdrs(ce, 1, &tab);
		if (ret)
			return ret;
		class_shdr_get(ce, tab, 0, &name, &off, &size, &link);
		free(tab);
		n = size > SIZE_MAX ? SIZE_MAX : (size_t)size;
		if (stridx == SHN_XINDEX)
			stridx = link;
	}
	if (n == 0)
		return 0; /* no sections: a plain ELF object */
	ret = class_shdrs(ce, n, &tab);
	if (ret)
		return ret;
	if (stridx == SHN_XINDEX) {
		class_shdr_get(ce, tab, 0, &name, &off, &size, &link);
		stridx = link;
	}
	ret = class_has_modinfo(ce, tab, n, stridx);
	free(tab);
	if (ret > 0)
		out->type = WL_T_KMOD;
	return ret < 0 ? ret : 0;
}

/* ---- ELF: entry -------------------------------------------------------- */

/* Make ce->buf hold the whole program header table (it usually does). */
static int class_load_phdrs(struct class_elf *ce)
{
	uint64_t end = ce->eh.e_phoff + (uint64_t)ce->eh.e_phnum * ce->eh.e_phentsize;
	unsigned char *p;
	int ret;

	if (ce->eh.e_phoff > ce->fsize || end <= ce->len)
		return 0;
	ret = class_read_range(ce, 0, end, &p);
	if (ret)
		return ret;
	elf_end(ce->elf);
	free(ce->buf);
	ce->buf = p;
	ce->len = (size_t)end;
	ce->elf = elf_memory((char *)ce->buf, ce->len);
	if (!ce->elf || !gelf_getehdr(ce->elf, &ce->eh))
		return -ERANGE;
	return 0;
}

/* Classify an ELF file whose first len bytes are in buf (ownership moves
 * here). Anything structurally wrong leaves it WL_T_ELF. */
static int class_elf(int fd, unsigned char *buf, size_t len, struct wl_class *out)
{
	struct class_elf ce = {.fd = fd, .buf = buf, .len = len};
	struct stat st;
	int ret = 0;

	out->type = WL_T_ELF;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto free_buf;
	}
	ce.fsize = (uint64_t)st.st_size;
	ce.elf = elf_memory((char *)ce.buf, ce.len);
	if (!ce.elf || !gelf_getehdr(ce.elf, &ce.eh))
		goto end_elf;
	ret = class_load_phdrs(&ce);
	if (!ret && (ce.eh.e_type == ET_EXEC || ce.eh.e_type == ET_DYN))
		ret = class_dyn(&ce, out);
	else if (!ret && ce.eh.e_type == ET_REL)
		ret = class_rel(&ce, out);
end_elf:
	elf_end(ce.elf);
free_buf:
	free(ce.buf);
	if (ret == -ERANGE) { /* broken, not an error: forget what was half read */
		wl_class_free(out);
		out->type = WL_T_ELF;
		out->interp[0] = '\0';
		ret = 0;
	}
	return ret;
}

int wl_classify_fd(int fd, struct wl_class *out, struct wl_err *err)
{
	unsigned char *head;
	ssize_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	pthread_once(&class_once, class_init_once);
	if (!class_libelf_ok)
		return wl_err_set(err, -ENOSYS, WL_E_IO, "libelf refuses ELF version %d",
		                  EV_CURRENT);
	head = calloc(1, CLASS_HEAD + CLASS_SLACK);
	if (!head)
		return wl_err_set(err, -ENOMEM, WL_E_NOMEM, "out of memory classifying fd %d", fd);
	n = class_pread(fd, head, CLASS_HEAD, 0);
	if (n < 0) {
		free(head);
		return wl_err_set(err, (int)n, WL_E_IO, "cannot read fd %d to classify it: %s", fd,
		                  strerror((int)-n));
	}
	if (n >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0) {
		ret = class_elf(fd, head, (size_t)n, out);
		if (ret)
			return wl_err_set(err, ret, ret == -ENOMEM ? WL_E_NOMEM : WL_E_IO,
			                  "cannot read ELF file behind fd %d: %s", fd,
			                  strerror(-ret));
		return 0;
	}
	if (n >= 2 && head[0] == '#' && head[1] == '!')
		class_script(head, (size_t)n, out);
	free(head);
	return 0;
}

void wl_class_free(struct wl_class *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_needed; i++)
		free(c->needed[i]);
	free(c->needed);
	c->needed = NULL;
	c->n_needed = 0;
}

bool wl_class_qualifies(const struct wl_class *c, mode_t mode)
{
	return c->type != WL_T_OTHER || (mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
}

static const char *const class_type_names[WL_T__MAX] = {
    [WL_T_OTHER] = "other", [WL_T_EXEC] = "exec", [WL_T_PIE] = "pie",       [WL_T_SHLIB] = "shlib",
    [WL_T_KMOD] = "kmod",   [WL_T_ELF] = "elf",   [WL_T_SCRIPT] = "script",
};

const char *wl_type_name(enum wl_type t)
{
	if ((unsigned)t >= WL_T__MAX)
		return "unknown";
	return class_type_names[t];
}

int wl_type_parse(const char *s, enum wl_type *out)
{
	int t;

	for (t = 0; s && t < WL_T__MAX; t++) {
		if (strcmp(s, class_type_names[t]) == 0) {
			*out = (enum wl_type)t;
			return 0;
		}
	}
	return -EINVAL;
}
