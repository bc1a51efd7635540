/* fuzz_classify.c - libFuzzer target for wl_classify_fd(): the input is the
 * whole file, served through a memfd. Owns that memfd for one input. Built
 * and run by `make fuzz` (tests/fuzz/fuzz.mk); seeds from tests/fuzz/mkseeds.sh.
 *
 * Invariants (a failed one traps): classifying a memfd never fails (broken
 * ELF is a type, not an error; only ENOMEM may fail); the fd offset does not
 * move; the type is
 * one of the ELF types exactly when the file starts with the ELF magic,
 * WL_T_SCRIPT exactly when it starts with "#!", WL_T_OTHER otherwise; the
 * strings are NUL-terminated inside their arrays; a #! argument comes only
 * with an interpreter; an ELF interpreter only with exec or pie; DT_NEEDED
 * names only for exec, pie or shlib, each non-empty. */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void fuzz_invariants(const uint8_t *data, size_t size, const struct wl_class *c)
{
	bool elf = size >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0;
	bool script = size >= 2 && data[0] == '#' && data[1] == '!';
	bool dyn = c->type == WL_T_EXEC || c->type == WL_T_PIE || c->type == WL_T_SHLIB;
	size_t i;

	fuzz_check(c->type < WL_T__MAX);
	fuzz_check(strnlen(c->interp, sizeof(c->interp)) < sizeof(c->interp));
	fuzz_check(strnlen(c->interp_arg, sizeof(c->interp_arg)) < sizeof(c->interp_arg));
	if (elf)
		fuzz_check(dyn || c->type == WL_T_KMOD || c->type == WL_T_ELF);
	else if (script)
		fuzz_check(c->type == WL_T_SCRIPT);
	else
		fuzz_check(c->type == WL_T_OTHER && !c->interp[0]);
	if (c->interp_arg[0])
		fuzz_check(c->type == WL_T_SCRIPT && c->interp[0]);
	if (elf && c->interp[0])
		fuzz_check(c->type == WL_T_EXEC || c->type == WL_T_PIE);
	fuzz_check(dyn || (c->n_needed == 0 && !c->needed));
	for (i = 0; i < c->n_needed; i++)
		fuzz_check(c->needed[i] && c->needed[i][0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct wl_class c;
	int rc;

	if (fd < 0)
		fd = memfd_create("fuzz_classify", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	if (lseek(fd, 3, SEEK_SET) != 3)
		return 0;
	rc = wl_classify_fd(fd, &c, NULL);
	fuzz_check(rc == 0 || rc == -ENOMEM);
	if (rc == 0) {
		fuzz_check(lseek(fd, 0, SEEK_CUR) == 3);
		fuzz_invariants(data, size, &c);
		wl_class_free(&c);
	}
	return 0;
}
