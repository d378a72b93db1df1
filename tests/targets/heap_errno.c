/* heap_errno.c: the allocation functions keep errno where C and POSIX say they do; exits 1 with a
 * line naming the first deviation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int deviations;

static void deviation(const char *what)
{
	write(STDERR_FILENO, "heap_errno: ", 12);
	write(STDERR_FILENO, what, strlen(what));
	write(STDERR_FILENO, "\n", 1);
	deviations++;
}

int main(void)
{
	char *p = malloc(64);
	if (!p)
		deviation("malloc(64) failed");
	__asm__ volatile("" : : "r"(p) : "memory");
	/* POSIX.1-2024: free() does not change errno. */
	errno = EDOM;
	free(p);
	if (errno != EDOM)
		deviation("free changed errno");
	errno = ERANGE;
	free(NULL);
	if (errno != ERANGE)
		deviation("free(NULL) changed errno");
	/* glibc: realloc(p, 0) frees p and returns NULL. */
	volatile size_t zero = 0;
	char *q = malloc(32);
	__asm__ volatile("" : : "r"(q) : "memory");
	errno = EDOM;
	if (realloc(q, zero) != NULL)
		deviation("realloc(p, 0) did not return NULL");
	/* A failed allocation reports ENOMEM. */
	volatile size_t huge = (size_t)-1 / 2;
	errno = 0;
	void *r = malloc(huge);
	if (r != NULL || errno != ENOMEM)
		deviation("a failed malloc did not set ENOMEM");
	free(r);
	return deviations ? 1 : 0;
}
