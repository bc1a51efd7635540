/* hmk_dlbench.c - dynamically linked guest program: dlopen()s and
 * dlclose()s a library n times (the benchmark's mmap-heavy workload and the
 * tests' dlopen case). Exit 0: every dlopen worked; 3: a dlopen failed. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	long i, n;
	void *h;

	if (argc < 3) {
		fprintf(stderr, "usage: hmk_dlbench LIBRARY COUNT\n");
		return 2;
	}
	n = strtol(argv[2], NULL, 10);
	for (i = 0; i < n; i++) {
		h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "hmk_dlbench: %s\n", dlerror());
			return 3;
		}
		dlclose(h);
	}
	return 0;
}
