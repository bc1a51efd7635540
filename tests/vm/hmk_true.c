/* hmk_true.c - the smallest static program: the thing the guest tests
 * execute, copy and alter. Prints its argument when given one. */
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc > 1)
		puts(argv[1]);
	return 0;
}
