/* fuzz_classify.c - libFuzzer target for wl_classify_fd(): the input is the
 * whole file, served through a memfd. Owns that memfd for one input. Built
 * and run by `make fuzz` (tests/fuzz/fuzz.mk); seeds from tests/fuzz/mkseeds.sh. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct wl_class c;
	size_t i;

	if (fd < 0)
		fd = memfd_create("fuzz_classify", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	if (lseek(fd, 3, SEEK_SET) != 3)
		return 0;
	if (wl_classify_fd(fd, &c, NULL) == 0) {
		if (c.type >= WL_T__MAX || lseek(fd, 0, SEEK_CUR) != 3 ||
		    strnlen(c.interp, sizeof(c.interp)) == sizeof(c.interp) ||
		    strnlen(c.interp_arg, sizeof(c.interp_arg)) == sizeof(c.interp_arg))
			__builtin_trap();
		for (i = 0; i < c.n_needed; i++)
			if (!c.needed[i] || !c.needed[i][0])
				__builtin_trap();
		wl_class_free(&c);
	}
	return 0;
}
