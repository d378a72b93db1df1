/* cpu_quick.c: `cpu_quick` prints one line and exits at once, well within a millisecond. */
#include <stdio.h>

/*
 * A sampler must cope with a command that is gone before its first sample is due: the profile is
 * valid (no samples, or a handful), the collector does not wait for samples that never come, and
 * the output and exit status are the program's own.
 */
int main(void)
{
	puts("cpu_quick: done");
	return 0;
}
