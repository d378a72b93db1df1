/* test_compare.c: splitting command lines into words, ranking profiles (relative speed, its error,
 * significance, sort keys) and sc_compare in-process on workloads of known relative cost. */
#include "check.h"
#include "internal.h"

#include <stdint.h>

/* ---- word splitting ------------------------------------------------------------------------- */

/* Splits text and checks the words, given as one string with '|' between them. */
static void check_words(const char *text, size_t n_expected, const char *const *expected)
{
	char **words = NULL;
	size_t n = 99;
	char err[128];
	CHECK_INT(sc_split_words(text, &words, &n, err, sizeof err), 0);
	CHECK_INT(n, n_expected);
	for (size_t i = 0; words && i < n && i < n_expected; i++)
		CHECK_STR(words[i], expected[i]);
	CHECK(words && words[n] == NULL);
	sc_words_free(words);
}

static void check_split_error(const char *text, const char *message)
{
	char **words = (char **)1;
	size_t n = 99;
	char err[128];
	CHECK_INT(sc_split_words(text, &words, &n, err, sizeof err), SC_EPARSE);
	CHECK(words == NULL);
	CHECK_INT(n, 0);
	CHECK_STR(err, message);
}

static void test_split_words(void)
{
	check_words("spin 10", 2, (const char *[]){"spin", "10"});
	check_words("  a \t b\n c  ", 3, (const char *[]){"a", "b", "c"});
	/* Single quotes keep everything, double quotes everything but \" \\ \$ \` */
	check_words("python -c 'print(\"hi there\")'", 3,
	            (const char *[]){"python", "-c", "print(\"hi there\")"});
	check_words("echo \"a \\\"b\\\" \\n $HOME\"", 2,
	            (const char *[]){"echo", "a \"b\" \\n $HOME"});
	/* Outside quotes a backslash escapes anything; quotes join with what touches them. */
	check_words("a\\ b c\\\\d e'f g'h", 3, (const char *[]){"a b", "c\\d", "ef gh"});
	/* Empty quotes are an (empty) word; nothing is expanded. */
	check_words("x '' \"\" $PATH ~ *", 6, (const char *[]){"x", "", "", "$PATH", "~", "*"});
	/* A backslash-newline joins lines. */
	check_words("a\\\nb", 1, (const char *[]){"ab"});
	check_words("", 0, NULL);
	check_words("   ", 0, NULL);

	check_split_error("echo 'x", "unterminated single quote opened at position 6");
	check_split_error("say \"hi", "unterminated double quote opened at position 5");
	check_split_error("trail\\", "backslash at the end at position 6");
	char **w;
	size_t n;
	CHECK_INT(sc_split_words(NULL, &w, &n, NULL, 0), SC_EINVAL);
}

/* ---- ranking -------------------------------------------------------------------------------- */

/* A command profile named name with the given run times (n_samples 1) and peak memory. */
static sc_profile synthetic(const char *name, const double *walls, size_t n, double peak_mb)
{
	sc_profile p = {.name = strdup(name), .kind = "command", .n_samples = 1};
	p.runs = calloc(n, sizeof *p.runs);
	p.n_runs = n;
	for (size_t i = 0; i < n; i++)
		p.runs[i] =
		    (sc_run){.wall_s = walls[i], .user_s = walls[i], .peak_rss_mb = peak_mb};
	CHECK_INT(sc__profile_derive_from_runs(&p), 0);
	p.memory.peak_memory_mb = peak_mb;
	return p;
}

static sc_report *three_profiles(void)
{
	/* x is f scaled by exactly 2 (a power of two: every figure scales exactly); y is f plus
	 * noise. */
	static const double f[] = {1.0, 1.2, 1.1}, x[] = {2.0, 2.4, 2.2}, y[] = {1.15, 1.05, 1.16};
	sc_report *r;
	CHECK_INT(sc_report_new(&r), 0);
	sc_profile px = synthetic("x", x, 3, 10), pf = synthetic("f", f, 3, 30),
	           py = synthetic("y", y, 3, 20);
	CHECK_INT(sc_report_add_profile(r, &px), 0);
	CHECK_INT(sc_report_add_profile(r, &pf), 0);
	CHECK_INT(sc_report_add_profile(r, &py), 0);
	return r;
}

static void test_rank_throughput(void)
{
	sc_report *r = three_profiles();
	CHECK_INT(sc_report_rank(r, NULL), 0);
	CHECK_STR(r->comparison_sort, "throughput");
	CHECK_INT(r->n_comparison, 3);
	const sc_comparison_entry *e = r->comparison;
	CHECK_STR(e[0].profile, "f");
	CHECK_STR(e[1].profile, "y");
	CHECK_STR(e[2].profile, "x");
	for (size_t i = 0; i < 3; i++)
		CHECK_INT(e[i].rank, i + 1);
	CHECK_NEAR(e[0].relative_speed, 1, 0);
	CHECK_NEAR(e[0].relative_speed_error, 0, 0);
	CHECK(!e[0].significant);

	/*
	 * x against f, by hand: means 2.2 and 1.1, R = 2. Sample variances 0.04 and 0.01, so
	 * a = 0.04 / 2.2^2 / 3 = b = 0.01 / 1.1^2 / 3 = 0.00275482..., a + b = 0.0055096418732782,
	 * df = (a + b)^2 / (a^2 / 2 + b^2 / 2) = 4, t(0.975, 4) = 2.7764451051977944,
	 * error = 2.7764451051977944 * 2 * sqrt(0.0055096418732782) = 0.41217417009591...
	 * Welch: difference 1.1, se = sqrt(0.04/3 + 0.01/3) = 0.1291, df 2.94 (-> t(2) = 4.3027),
	 * half-width 0.5555 < 1.1: significant.
	 */
	CHECK_NEAR(e[2].relative_speed, 2, 1e-15);
	CHECK_NEAR(e[2].relative_speed_error, 2.7764451051977944 * 2 * sqrt(0.005509641873278234),
	           1e-12);
	CHECK_NEAR(e[2].relative_speed_error, 0.41217417009591, 1e-12);
	CHECK(e[2].significant);

	/*
	 * y against f: mean 1.12 / 1.1 = 1.0181818..., a + b = 0.0037380267189520, df 3.266
	 * (rounded down: t(3) = 3.1824463052837096), error = 3.1824463052837096 * 1.0181818 *
	 * sqrt(0.0037380267189520) = 0.19811055885234...; Welch: difference 0.02, se 0.0676,
	 * half-width 0.215: not significant.
	 */
	CHECK_NEAR(e[1].relative_speed, 1.12 / 1.1, 1e-14);
	CHECK_NEAR(e[1].relative_speed_error, 0.19811055885234807, 1e-12);
	CHECK(!e[1].significant);
	sc_report_free(r);
}

static void test_rank_keys(void)
{
	sc_report *r = three_profiles();
	/* Latency (mean time per sample, ascending) orders as throughput does. */
	CHECK_INT(sc_report_rank(r, "latency"), 0);
	CHECK_STR(r->comparison_sort, "latency");
	CHECK_STR(r->comparison[0].profile, "f");
	CHECK_STR(r->comparison[2].profile, "x");
	/* Memory: peak ascending (x 10, y 20, f 30); relative speed still against the fastest. */
	CHECK_INT(sc_report_rank(r, "memory"), 0);
	CHECK_STR(r->comparison_sort, "memory");
	CHECK_STR(r->comparison[0].profile, "x");
	CHECK_STR(r->comparison[1].profile, "y");
	CHECK_STR(r->comparison[2].profile, "f");
	CHECK_NEAR(r->comparison[0].relative_speed, 2, 1e-15);
	CHECK_NEAR(r->comparison[2].relative_speed, 1, 0);
	/* A peak not measured ranks last. */
	r->profiles[0].memory.peak_memory_mb = NAN;
	CHECK_INT(sc_report_rank(r, "memory"), 0);
	CHECK_STR(r->comparison[2].profile, "x");
	CHECK_INT(sc_report_rank(r, "speed"), SC_EINVAL);
	CHECK_STR(r->comparison_sort, "memory"); /* the earlier ranking stays */
	CHECK_INT(sc_report_rank(NULL, NULL), SC_EINVAL);
	sc_report_free(r);
}

static void test_rank_one_run(void)
{
	/* One run each: no spread, so no error and no claim of significance. */
	static const double a[] = {1.0}, b[] = {3.0};
	sc_report *r;
	CHECK_INT(sc_report_new(&r), 0);
	sc_profile pa = synthetic("a", a, 1, 1), pb = synthetic("b", b, 1, 1);
	CHECK_INT(sc_report_add_profile(r, &pb), 0);
	CHECK_INT(sc_report_add_profile(r, &pa), 0);
	CHECK_INT(sc_report_rank(r, "throughput"), 0);
	CHECK_STR(r->comparison[0].profile, "a");
	CHECK_NEAR(r->comparison[1].relative_speed, 3, 1e-15);
	CHECK(isnan(r->comparison[1].relative_speed_error));
	CHECK(!r->comparison[1].significant);
	sc_report_free(r);
}

/* ---- sc_compare in-process ------------------------------------------------------------------ */

static volatile uint64_t sink;

/* Work proportional to *ctx: the candidates differ only in how many times the loop runs. */
static void *work(void *ctx)
{
	uint64_t n = *(const uint64_t *)ctx;
	for (uint64_t i = 0; i < n; i++)
		sink += i;
	return NULL;
}

static void test_sc_compare(void)
{
	static uint64_t one = 2000000, two = 4000000, four = 8000000;
	/* Given slowest first: the ranking, not the order given, must put them right. */
	const sc_candidate models[] = {
	    {"gradient_boosting", work, &four},
	    {"logistic_regression", work, &one},
	    {"random_forest", work, &two},
	};
	/* The seed's Pattern 1 in a few lines. */
	sc_profiler *p = sc_profiler_new();
	CHECK_INT(sc_compare(p, models, 3, 1000, 7), 0);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	CHECK_INT(sc_report_rank(r, "throughput"), 0);

	CHECK_INT(r->n_profiles, 3);
	for (size_t i = 0; i < r->n_profiles; i++) {
		CHECK_STR(r->profiles[i].kind, "function");
		CHECK_INT(r->profiles[i].n_runs, 7);
		CHECK_INT(r->profiles[i].n_samples, 1000);
		CHECK(r->profiles[i].total_time.n == 7);
	}
	CHECK_STR(r->comparison[0].profile, "logistic_regression");
	CHECK_STR(r->comparison[1].profile, "random_forest");
	CHECK_STR(r->comparison[2].profile, "gradient_boosting");
	/* The loop is the whole cost, so 2x and 4x the iterations take 2x and 4x the time; the
	 * tolerance allows for a noisy neighbour on a shared 2-core machine. */
	CHECK_NEAR(r->comparison[1].relative_speed, 2, 0.5);
	CHECK_NEAR(r->comparison[2].relative_speed, 4, 1.0);
	CHECK(r->comparison[2].significant);
	sc_report_free(r);

	/* Bad input: one candidate, duplicate names, no rounds. */
	CHECK_INT(sc_compare(p, models, 1, 1, 3), SC_EINVAL);
	const sc_candidate twins[] = {{"m", work, &one}, {"m", work, &two}};
	CHECK_INT(sc_compare(p, twins, 2, 1, 3), SC_EINVAL);
	CHECK_INT(sc_compare(p, models, 3, 1, 0), SC_EINVAL);
	CHECK_INT(sc_compare(p, models, 3, 0, 3), SC_EINVAL);
	sc_profiler_free(p);
}

int main(void)
{
	test_split_words();
	test_rank_throughput();
	test_rank_keys();
	test_rank_one_run();
	test_sc_compare();
	return CHECK_DONE();
}
