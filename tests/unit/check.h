/* check.h: the few assertion macros the unit tests share; a failed check prints where and why. */
#ifndef SC_TEST_CHECK_H
#define SC_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		check_count++;                                                                     \
		if (check_a_ != check_b_) {                                                        \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,      \
			        __LINE__, #a, check_a_, #b, check_b_);                             \
		}                                                                                  \
	} while (0)

/* |a - b| <= tol; tol states the justified tolerance at each call. */
#define CHECK_NEAR(a, b, tol)                                                                      \
	do {                                                                                       \
		double check_a_ = (double)(a), check_b_ = (double)(b);                             \
		check_count++;                                                                     \
		if (!(fabs(check_a_ - check_b_) <= (tol))) {                                       \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s == %.17g, expected %.17g +- %g\n", __FILE__,    \
			        __LINE__, #a, check_a_, check_b_, (double)(tol));                  \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		check_count++;                                                                     \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                   \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
			        __LINE__, #a, check_a_ ? check_a_ : "(null)",                      \
			        check_b_ ? check_b_ : "(null)");                                   \
		}                                                                                  \
	} while (0)

/* Ends main: prints "N passed, M failed" and returns the exit status. */
#define CHECK_DONE()                                                                               \
	(printf("%d passed, %d failed\n", check_count - check_failures, check_failures),           \
	 check_failures ? 1 : 0)

#endif
