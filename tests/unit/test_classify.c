/* test_classify.c - unit tests for whitelist/classify.c: every ELF type from
 * small programs compiled here with cc, system binaries, hand-made ELF
 * headers (32-bit, big-endian, DT_NEEDED edge cases), truncated and garbage
 * ELF, #! lines. Owns a temp directory of build products, removed at the end. */
#include <endian.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "wl.h"

static char dir[FX_DIR_LEN];

/* ---- helpers ------------------------------------------------------------ */

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("test_classify", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

static void classify_buf(const void *data, size_t len, struct wl_class *c)
{
	int fd = memfd_with(data, len);

	assert_int_equal(wl_classify_fd(fd, c, NULL), 0);
	close(fd);
}

static void classify_path(const char *path, struct wl_class *c)
{
	struct wl_err err;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(wl_classify_fd(fd, c, &err), 0);
	close(fd);
}

static bool has_needed(const struct wl_class *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_needed; i++)
		if (strcmp(c->needed[i], name) == 0)
			return true;
	return false;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void write_text(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void path_in(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

/* ---- compiled programs -------------------------------------------------- */

static const struct build {
	const char *out, *cmd; /* cmd: cc arguments, run in dir */
	enum wl_type type;
	bool interp; /* expects a PT_INTERP */
	const char *needed[3]; /* must all be in DT_NEEDED */
	bool no_needed; /* expects no DT_NEEDED at all */
} builds[] = {
    {"exec",
     "-no-pie -o exec main.c -Wl,--no-as-needed -lm",
     WL_T_EXEC,
     true,
     {"libm.so.6", "libc.so.6"},
     false},
    {"static", "-static -o static main.c -lm", WL_T_EXEC, false, {NULL}, true},
    {"pie",
     "-fPIE -pie -o pie main.c -Wl,--no-as-needed -lm",
     WL_T_PIE,
     true,
     {"libm.so.6", "libc.so.6"},
     false},
    {"static-pie", "-static-pie -fPIE -o static-pie main.c -lm", WL_T_SHLIB, false, {NULL}, true},
    {"lib.so",
     "-shared -fPIC -o lib.so lib.c -Wl,--no-as-needed -lm",
     WL_T_SHLIB,
     false,
     {"libm.so.6"},
     false},
    {"mod.o", "-c -o mod.o mod.c", WL_T_KMOD, false, {NULL}, true},
    {"obj.o", "-c -o obj.o lib.c", WL_T_ELF, false, {NULL}, true},
};

static int setup(void **state)
{
	char cmd[PATH_MAX + 256];
	size_t i;

	(void)state;
	if (fx_mkdir(dir, "hmilock-test-classify") < 0)
		return -1;
	write_text("main.c", "#include <math.h>\n"
	                     "int main(int argc, char **argv)\n"
	                     "{\n\t(void)argv;\n\treturn (int)sqrt((double)argc) - 1;\n}\n");
	write_text("lib.c", "#include <math.h>\n"
	                    "double lib_fn(double x) { return sqrt(x) + 1; }\n");
	write_text("mod.c", "static const char modinfo[] __attribute__((section(\".modinfo\"), "
	                    "used)) = \"license=GPL\";\n"
	                    "int init_module(void) { return 0; }\n");
	for (i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
		snprintf(cmd, sizeof(cmd), "cd '%s' && cc -O1 %s", dir, builds[i].cmd);
		if (system(cmd) != 0) {
			fprintf(stderr, "cannot build %s: %s\n", builds[i].out, cmd);
			return -1;
		}
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fx_rmtree(dir);
}

static void test_compiled(void **state)
{
	char path[PATH_MAX];
	struct wl_class c;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
		path_in(path, builds[i].out);
		classify_path(path, &c);
		if (c.type != builds[i].type)
			fail_msg("%s: type %s, want %s", builds[i].out, wl_type_name(c.type),
			         wl_type_name(builds[i].type));
		if (builds[i].interp) {
			assert_true(c.interp[0] == '/');
			assert_non_null(strstr(c.interp, "ld-"));
		} else {
			assert_string_equal(c.interp, "");
		}
		assert_string_equal(c.interp_arg, "");
		for (j = 0; builds[i].needed[j]; j++)
			if (!has_needed(&c, builds[i].needed[j]))
				fail_msg("%s: %s not in DT_NEEDED", builds[i].out,
				         builds[i].needed[j]);
		if (builds[i].no_needed) {
			assert_int_equal(c.n_needed, 0);
			assert_null(c.needed);
		}
		wl_class_free(&c);
		assert_null(c.needed);
		assert_int_equal(c.n_needed, 0);
	}
}

/* The interpreter recorded is exactly what readelf(1) says. */
static void test_interp_matches_readelf(void **state)
{
	char cmd[PATH_MAX + 128], line[PATH_MAX], path[PATH_MAX], *p;
	struct wl_class c;
	FILE *f;

	(void)state;
	path_in(path, "pie");
	snprintf(cmd, sizeof(cmd), "readelf -l '%s' | sed -n 's/.*interpreter: \\(.*\\)]/\\1/p'",
	         path);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	pclose(f);
	p = line + strspn(line, " ");
	p[strcspn(p, "\n")] = '\0';
	classify_path(path, &c);
	assert_string_equal(c.interp, p);
	wl_class_free(&c);
}

static void test_system_files(void **state)
{
	char libm[PATH_MAX] = "", real[PATH_MAX];
	struct wl_class c;
	FILE *p;

	(void)state;
	assert_non_null(realpath("/bin/sh", real));
	classify_path(real, &c);
	assert_true(c.type == WL_T_PIE || c.type == WL_T_EXEC);
	assert_true(c.interp[0] == '/');
	assert_true(has_needed(&c, "libc.so.6"));
	wl_class_free(&c);

	p = popen("cc -print-file-name=libm.so.6", "r");
	assert_non_null(p);
	assert_non_null(fgets(libm, sizeof(libm), p));
	pclose(p);
	libm[strcspn(libm, "\n")] = '\0';
	assert_non_null(realpath(libm, real));
	classify_path(real, &c);
	assert_int_equal(c.type, WL_T_SHLIB);
	assert_string_equal(c.interp, "");
	assert_true(has_needed(&c, "libc.so.6"));
	wl_class_free(&c);

	classify_path("/etc/passwd", &c);
	assert_int_equal(c.type, WL_T_OTHER);
	wl_class_free(&c);
}

static void test_offset_untouched(void **state)
{
	char path[PATH_MAX];
	struct wl_class c;
	int fd;

	(void)state;
	path_in(path, "pie");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 77, SEEK_SET), 77);
	assert_int_equal(wl_classify_fd(fd, &c, NULL), 0);
	assert_int_equal(c.type, WL_T_PIE);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 77);
	wl_class_free(&c);
	close(fd);
}

/* ---- broken ELF ------------------------------------------------------- */

static void assert_broken(const struct wl_class *c)
{
	assert_int_equal(c->type, WL_T_ELF);
	assert_string_equal(c->interp, "");
	assert_int_equal(c->n_needed, 0);
}

static void test_truncated(void **state)
{
	static const char *const progs[] = {"pie", "exec", "lib.so", "mod.o"};
	char path[PATH_MAX];
	struct wl_class c;
	uint8_t *buf;
	size_t len, cut[5], i, j;

	(void)state;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		path_in(path, progs[i]);
		buf = read_file(path, &len);
		cut[0] = 4, cut[1] = 20, cut[2] = 64, cut[3] = 200, cut[4] = len / 2;
		for (j = 0; j < 5; j++) {
			classify_buf(buf, cut[j], &c);
			assert_broken(&c);
			wl_class_free(&c);
		}
		free(buf);
	}
}

static void test_garbage(void **state)
{
	uint8_t buf[8192];
	struct wl_class c;
	unsigned seed = 1;
	size_t i, j;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, ELFMAG, SELFMAG);
	classify_buf(buf, 64, &c); /* magic then zeros */
	assert_broken(&c);
	memset(buf + 4, 0xff, sizeof(buf) - 4);
	classify_buf(buf, sizeof(buf), &c);
	assert_broken(&c);
	for (i = 0; i < 500; i++) { /* valid ident, random rest */
		buf[EI_CLASS] = (uint8_t)(1 + i % 2);
		buf[EI_DATA] = (uint8_t)(1 + (i / 2) % 2);
		for (j = EI_VERSION; j < sizeof(buf); j++)
			buf[j] = (uint8_t)rand_r(&seed);
		classify_buf(buf, 64 + (size_t)rand_r(&seed) % (sizeof(buf) - 64), &c);
		assert_true(c.type != WL_T_OTHER && c.type != WL_T_SCRIPT && c.type < WL_T__MAX);
		assert_true(strnlen(c.interp, sizeof(c.interp)) < sizeof(c.interp));
		wl_class_free(&c);
	}
}

/* Flip bytes in the headers of real binaries: never a crash, always ELF. */
static void test_mutated(void **state)
{
	static const char *const progs[] = {"pie", "exec", "lib.so", "mod.o", "static"};
	unsigned seed = 42;
	char path[PATH_MAX];
	struct wl_class c;
	uint8_t *orig, *buf;
	size_t len, i, k, n, off;

	(void)state;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		path_in(path, progs[i]);
		orig = read_file(path, &len);
		buf = malloc(len);
		assert_non_null(buf);
		for (k = 0; k < 300; k++) {
			memcpy(buf, orig, len);
			for (n = 1 + (size_t)rand_r(&seed) % 8; n > 0; n--) {
				off = 4 + (size_t)rand_r(&seed) % (len < 4096 ? len - 4 : 4092);
				if (k % 3 == 0) /* also hit the tables far into the file */
					off = 4 + (size_t)rand_r(&seed) % (len - 4);
				buf[off] = (uint8_t)rand_r(&seed);
			}
			classify_buf(buf, len, &c);
			assert_true(c.type != WL_T_OTHER && c.type != WL_T_SCRIPT);
			for (n = 0; n < c.n_needed; n++)
				assert_non_null(c.needed[n]);
			wl_class_free(&c);
		}
		free(buf);
		free(orig);
	}
}

/* ---- hand-made ELF ------------------------------------------------------ */

/* ELF64 little-endian ET_DYN: PT_LOAD over the file, PT_DYNAMIC with
 * DT_NEEDED entries, one of them past DT_STRSZ (ignored). */
static size_t make_elf64_dyn(uint8_t *img, bool with_interp)
{
	static const char strtab[] = "\0libfoo.so.1\0libbar.so.2\0";
	const uint64_t base = 0x400000, stroff = 512, dynoff = 1024, interpoff = 256;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + 64);
	Elf64_Dyn *dyn = (Elf64_Dyn *)(img + dynoff);
	int n = 0;

	memset(img, 0, 2048);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = 64;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	ph[n++] =
	    (Elf64_Phdr){.p_type = PT_LOAD, .p_vaddr = base, .p_filesz = 2048, .p_memsz = 2048};
	ph[n++] = (Elf64_Phdr){.p_type = PT_DYNAMIC,
	                       .p_offset = dynoff,
	                       .p_vaddr = base + dynoff,
	                       .p_filesz = 6 * sizeof(*dyn)};
	if (with_interp) {
		ph[n++] = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = interpoff, .p_filesz = 14};
		memcpy(img + interpoff, "/lib/ld-x.so\0", 13);
	}
	eh->e_phnum = (Elf64_Half)n;
	memcpy(img + stroff, strtab, sizeof(strtab));
	dyn[0] = (Elf64_Dyn){DT_NEEDED, {1}};
	dyn[1] = (Elf64_Dyn){DT_NEEDED, {999}}; /* beyond DT_STRSZ */
	dyn[2] = (Elf64_Dyn){DT_NEEDED, {13}};
	dyn[3] = (Elf64_Dyn){DT_STRTAB, {base + stroff}};
	dyn[4] = (Elf64_Dyn){DT_STRSZ, {sizeof(strtab)}};
	dyn[5] = (Elf64_Dyn){DT_NULL, {0}};
	return 2048;
}

static void test_handmade_needed(void **state)
{
	uint8_t img[2048];
	struct wl_class c;
	size_t len;

	(void)state;
	len = make_elf64_dyn(img, false);
	classify_buf(img, len, &c);
	assert_int_equal(c.type, WL_T_SHLIB);
	assert_int_equal(c.n_needed, 2);
	assert_string_equal(c.needed[0], "libfoo.so.1");
	assert_string_equal(c.needed[1], "libbar.so.2");
	wl_class_free(&c);

	len = make_elf64_dyn(img, true);
	classify_buf(img, len, &c);
	assert_int_equal(c.type, WL_T_PIE);
	assert_string_equal(c.interp, "/lib/ld-x.so");
	assert_int_equal(c.n_needed, 2);
	wl_class_free(&c);

	/* DT_STRTAB pointing outside every PT_LOAD: no names, still a PIE. */
	((Elf64_Dyn *)(img + 1024))[3].d_un.d_ptr = 0x900000;
	classify_buf(img, len, &c);
	assert_int_equal(c.type, WL_T_PIE);
	assert_int_equal(c.n_needed, 0);
	wl_class_free(&c);

	/* A PT_LOAD reaching past the end of the file: truncated, so broken. */
	len = make_elf64_dyn(img, true);
	((Elf64_Phdr *)(img + 64))[0].p_filesz = 4096;
	classify_buf(img, len, &c);
	assert_broken(&c);
	wl_class_free(&c);

	/* Program headers far past the end. */
	len = make_elf64_dyn(img, true);
	((Elf64_Ehdr *)img)->e_phoff = UINT64_MAX - 8;
	classify_buf(img, len, &c);
	assert_broken(&c);
	wl_class_free(&c);
}

/* ELF64 big-endian ET_EXEC with a PT_INTERP: libelf translates. */
static void test_handmade_big_endian(void **state)
{
	uint8_t img[512] = {0};
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + 64);
	struct wl_class c;

	(void)state;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = htobe16(ET_EXEC);
	eh->e_machine = htobe16(EM_S390);
	eh->e_version = htobe32(EV_CURRENT);
	eh->e_phoff = htobe64(64);
	eh->e_ehsize = htobe16(sizeof(*eh));
	eh->e_phentsize = htobe16(sizeof(*ph));
	eh->e_phnum = htobe16(1);
	ph->p_type = htobe32(PT_INTERP);
	ph->p_offset = htobe64(200);
	ph->p_filesz = htobe64(17);
	memcpy(img + 200, "/lib/ld64.so.1", 15);
	classify_buf(img, sizeof(img), &c);
	assert_int_equal(c.type, WL_T_EXEC);
	assert_string_equal(c.interp, "/lib/ld64.so.1");
	wl_class_free(&c);
}

/* ELF32 little-endian ET_DYN with PT_INTERP, and a 32-bit module. */
static void test_handmade_elf32(void **state)
{
	uint8_t img[1024] = {0};
	Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
	Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof(*eh));
	Elf32_Shdr *sh = (Elf32_Shdr *)(img + 512);
	static const char shstr[] = "\0.text\0.modinfo\0.shstrtab\0";
	struct wl_class c;

	(void)state;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_386;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	*ph = (Elf32_Phdr){.p_type = PT_INTERP, .p_offset = 300, .p_filesz = 19};
	memcpy(img + 300, "/lib/ld-linux.so.2", 19);
	classify_buf(img, sizeof(img), &c);
	assert_int_equal(c.type, WL_T_PIE);
	assert_string_equal(c.interp, "/lib/ld-linux.so.2");
	wl_class_free(&c);

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_REL;
	eh->e_machine = EM_386;
	eh->e_version = EV_CURRENT;
	eh->e_ehsize = sizeof(*eh);
	eh->e_shoff = 512;
	eh->e_shentsize = sizeof(*sh);
	eh->e_shnum = 4;
	eh->e_shstrndx = 3;
	sh[1] = (Elf32_Shdr){.sh_name = 1, .sh_type = SHT_PROGBITS};
	sh[2] = (Elf32_Shdr){.sh_name = 7, .sh_type = SHT_PROGBITS};
	sh[3] = (Elf32_Shdr){
	    .sh_name = 16, .sh_type = SHT_STRTAB, .sh_offset = 400, .sh_size = sizeof(shstr)};
	memcpy(img + 400, shstr, sizeof(shstr));
	classify_buf(img, sizeof(img), &c);
	assert_int_equal(c.type, WL_T_KMOD);
	wl_class_free(&c);

	sh[2].sh_name = 1000; /* name outside the string table */
	classify_buf(img, sizeof(img), &c);
	assert_int_equal(c.type, WL_T_ELF);
	sh[2].sh_name = 7;
	eh->e_shstrndx = 9; /* no such section */
	classify_buf(img, sizeof(img), &c);
	assert_int_equal(c.type, WL_T_ELF);
	eh->e_shstrndx = 3;
	eh->e_shnum = 60000; /* table runs past the end of the file */
	classify_buf(img, sizeof(img), &c);
	assert_int_equal(c.type, WL_T_ELF);
}

/* ---- #! scripts and other files ----------------------------------------- */

static const struct script_case {
	const char *name, *text;
	size_t len; /* 0: strlen(text) */
	enum wl_type type;
	const char *interp, *arg;
} scripts[] = {
    {"plain", "#!/bin/sh\necho hi\n", 0, WL_T_SCRIPT, "/bin/sh", ""},
    {"arg", "#!/usr/bin/env python3\n", 0, WL_T_SCRIPT, "/usr/bin/env", "python3"},
    {"arg with spaces", "#! /usr/bin/env -S python3 -u  \n", 0, WL_T_SCRIPT, "/usr/bin/env",
     "-S python3 -u"},
    {"tabs", "#!\t/bin/bash\t-x\t\n", 0, WL_T_SCRIPT, "/bin/bash", "-x"},
    /* Linux keeps a '\r': such a script fails to exec, and we record why. */
    {"crlf", "#!/bin/sh\r\necho\r\n", 0, WL_T_SCRIPT, "/bin/sh\r", ""},
    {"crlf arg", "#!/usr/bin/env bash\r\n", 0, WL_T_SCRIPT, "/usr/bin/env", "bash\r"},
    {"no newline", "#!/bin/sh", 0, WL_T_SCRIPT, "/bin/sh", ""},
    {"nul ends the line", "#!/bin/sh\0 -x\n", 14, WL_T_SCRIPT, "/bin/sh", ""},
    {"empty line", "#!\n", 0, WL_T_SCRIPT, "", ""},
    {"only blanks", "#!   \t \n", 0, WL_T_SCRIPT, "", ""},
    {"just #!", "#!", 0, WL_T_SCRIPT, "", ""},
    {"text", "hello world\n", 0, WL_T_OTHER, "", ""},
    {"hash only", "#", 0, WL_T_OTHER, "", ""},
    {"bang first", "!#/bin/sh\n", 0, WL_T_OTHER, "", ""},
    {"empty", "", 0, WL_T_OTHER, "", ""},
    {"elf-ish text", "\177EL", 0, WL_T_OTHER, "", ""},
};

static void test_scripts(void **state)
{
	struct wl_class c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		const struct script_case *t = &scripts[i];

		classify_buf(t->text, t->len ? t->len : strlen(t->text), &c);
		if (c.type != t->type || strcmp(c.interp, t->interp) != 0 ||
		    strcmp(c.interp_arg, t->arg) != 0)
			fail_msg("%s: got %s '%s' '%s'", t->name, wl_type_name(c.type), c.interp,
			         c.interp_arg);
		assert_int_equal(c.n_needed, 0);
	}
}

/* The kernel reads 256 bytes: the line is cut at 255, an argument is cut
 * there, an interpreter cut there is refused. */
static void test_script_long_lines(void **state)
{
	char text[1024];
	struct wl_class c;
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "#!/bin/sh ");
	memset(text + n, 'x', 400);
	text[n + 400] = '\n';
	classify_buf(text, n + 401, &c);
	assert_int_equal(c.type, WL_T_SCRIPT);
	assert_string_equal(c.interp, "/bin/sh");
	assert_int_equal(strlen(c.interp_arg), 255 - n);

	memcpy(text, "#!/", 3);
	memset(text + 3, 'p', 400);
	text[403] = '\n';
	classify_buf(text, 404, &c);
	assert_int_equal(c.type, WL_T_SCRIPT);
	assert_string_equal(c.interp, ""); /* truncated interpreter: ENOEXEC */

	memset(text + 3, 'p', 200);
	text[203] = ' ';
	memset(text + 204, 'a', 300);
	classify_buf(text, 504, &c);
	assert_int_equal(strlen(c.interp), 201);
	assert_int_equal(strlen(c.interp_arg), 255 - 204);
}

static void test_errors(void **state)
{
	struct wl_class c;
	struct wl_err err;
	int fd;

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(wl_classify_fd(-1, &c, &err), -EBADF);
	assert_int_equal(err.kind, WL_E_IO);
	assert_true(strlen(err.msg) > 0);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(wl_classify_fd(fd, &c, NULL), -EISDIR);
	close(fd);
	wl_class_free(NULL);
}

/* ---- policy helpers ----------------------------------------------------- */

static void test_qualifies(void **state)
{
	static const struct {
		enum wl_type type;
		mode_t mode;
		bool want;
	} t[] = {
	    {WL_T_OTHER, 0644, false}, {WL_T_OTHER, 0744, true},   {WL_T_OTHER, 0654, true},
	    {WL_T_OTHER, 0645, true},  {WL_T_OTHER, 04644, false}, {WL_T_EXEC, 0644, true},
	    {WL_T_PIE, 0600, true},    {WL_T_SHLIB, 0644, true},   {WL_T_KMOD, 0644, true},
	    {WL_T_ELF, 0, true},       {WL_T_SCRIPT, 0644, true},  {WL_T_OTHER, 0, false},
	};
	struct wl_class c = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c.type = t[i].type;
		assert_int_equal(wl_class_qualifies(&c, t[i].mode | S_IFREG), t[i].want);
	}
}

static void test_type_names(void **state)
{
	static const char *const names[] = {"other", "exec", "pie",   "shlib",
	                                    "kmod",  "elf",  "script"};
	enum wl_type t;
	int i;

	(void)state;
	for (i = 0; i < WL_T__MAX; i++) {
		assert_string_equal(wl_type_name((enum wl_type)i), names[i]);
		assert_int_equal(wl_type_parse(names[i], &t), 0);
		assert_int_equal(t, i);
	}
	assert_string_equal(wl_type_name(WL_T__MAX), "unknown");
	assert_int_equal(wl_type_parse("binary", &t), -EINVAL);
	assert_int_equal(wl_type_parse("", &t), -EINVAL);
	assert_int_equal(wl_type_parse(NULL, &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compiled),
	    cmocka_unit_test(test_interp_matches_readelf),
	    cmocka_unit_test(test_system_files),
	    cmocka_unit_test(test_offset_untouched),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_mutated),
	    cmocka_unit_test(test_handmade_needed),
	    cmocka_unit_test(test_handmade_big_endian),
	    cmocka_unit_test(test_handmade_elf32),
	    cmocka_unit_test(test_scripts),
	    cmocka_unit_test(test_script_long_lines),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_qualifies),
	    cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
