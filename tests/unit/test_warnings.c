/* test_warnings.c: each measurement warning fires on runs that call for it, and only then. */
#include "check.h"
#include "internal.h"

#define MAX_RUNS 32

/* A profile of n successful runs with the given wall times. */
typedef struct fixture {
	sc_run runs[MAX_RUNS];
	sc_profile p;
} fixture;

static void make(fixture *f, const double *walls, size_t n)
{
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < n; i++)
		f->runs[i] = (sc_run){.wall_s = walls[i], .peak_rss_mb = 1};
	f->p = (sc_profile){.kind = "command", .n_samples = 1, .runs = f->runs, .n_runs = n};
}

static const sc_warning *find(const sc_profile *p, const char *id)
{
	for (size_t i = 0; i < p->n_warnings; i++)
		if (strcmp(p->warnings[i].id, id) == 0)
			return &p->warnings[i];
	return NULL;
}

/* The warning is there, says what was seen (with the number) and what to do. */
static void check_warning(const sc_profile *p, const char *id, const char *number)
{
	const sc_warning *w = find(p, id);
	CHECK(w != NULL);
	if (!w)
		return;
	if (!strstr(w->message, number))
		fprintf(stderr, "warning %s: \"%s\" lacks \"%s\"\n", id, w->message, number);
	CHECK(strstr(w->message, number) != NULL);
	CHECK(w->action[0] != '\0');
}

static void test_clean_runs(void)
{
	/* 1% spread, no run far from the median, the first like the rest, all succeeded. */
	const double walls[] = {0.100, 0.101, 0.099, 0.100, 0.102};
	fixture f;
	make(&f, walls, 5);
	sc__warnings_add(&f.p);
	CHECK_INT(f.p.n_warnings, 0);
}

static void test_short_runs(void)
{
	const double walls[] = {0.0020, 0.0021, 0.0019, 0.0020, 0.0020};
	fixture f;
	make(&f, walls, 5);
	sc__warnings_add(&f.p);
	check_warning(&f.p, "short-runs", "2 ms"); /* mean 2.0 ms, printed with %.3g */
	CHECK_INT(f.p.n_warnings, 1);
	const sc_warning *w = find(&f.p, "short-runs");
	CHECK(w && strstr(w->action, "-n") && strstr(w->action, "sc_profile_samples"));
}

static void test_outliers(void)
{
	/* 19 runs at 100 or 101 ms and one at 120 ms, not the first: MAD 0.5 ms, so the modified
	 * z-score of 120 ms is about 26; the spread stays near 4%, under the variance threshold. */
	double walls[20];
	for (size_t i = 0; i < 20; i++)
		walls[i] = i % 2 ? 0.101 : 0.100;
	walls[7] = 0.120;
	fixture f;
	make(&f, walls, 20);
	sc__warnings_add(&f.p);
	check_warning(&f.p, "outliers", "1 of 20 runs");
	CHECK_INT(f.p.n_warnings, 1);
}

static void test_slow_first_run(void)
{
	/* First 0.35 s, the rest about 0.10 s (median 0.10): 3.5 times. */
	const double walls[] = {0.35, 0.10, 0.11, 0.09, 0.10};
	fixture f;
	make(&f, walls, 5);
	sc__warnings_add(&f.p);
	check_warning(&f.p, "slow-first-run", "3.5 times");
	const sc_warning *w = find(&f.p, "slow-first-run");
	CHECK(w && strstr(w->action, "--warmup"));

	/* Exactly twice the median is not "more than twice". */
	const double twice[] = {0.20, 0.10, 0.11, 0.09, 0.10};
	make(&f, twice, 5);
	sc__warnings_add(&f.p);
	CHECK(find(&f.p, "slow-first-run") == NULL);

	/* Two runs leave no "rest" to take a median of. */
	const double two[] = {0.35, 0.10};
	make(&f, two, 2);
	sc__warnings_add(&f.p);
	CHECK(find(&f.p, "slow-first-run") == NULL);
}

static void test_high_variance(void)
{
	/* Mean 0.15, stddev sqrt(4 x 0.05^2 / 4) = 0.05: 33.3%. No outlier (MAD 0.05, |z| <= 0.67),
	 * and the first run is faster than the rest. */
	const double walls[] = {0.10, 0.20, 0.10, 0.20, 0.15};
	fixture f;
	make(&f, walls, 5);
	sc__warnings_add(&f.p);
	check_warning(&f.p, "high-variance", "33.3%");
	CHECK_INT(f.p.n_warnings, 1);

	/* One run has no variance to speak of. */
	const double one[] = {0.10};
	make(&f, one, 1);
	sc__warnings_add(&f.p);
	CHECK_INT(f.p.n_warnings, 0);
}

static void test_failed_runs(void)
{
	const double walls[] = {0.100, 0.101, 0.099, 0.100, 0.102};
	fixture f;
	make(&f, walls, 5);
	f.runs[1].exit_code = 2;
	f.runs[3].exit_code = -1;
	f.runs[3].signal = 11;
	sc__warnings_add(&f.p);
	check_warning(&f.p, "failed-runs", "2 of 5 runs failed");
	CHECK_INT(f.p.n_warnings, 1);

	make(&f, walls, 5);
	f.runs[4].timed_out = true;
	f.runs[4].exit_code = -1;
	f.runs[4].signal = 9;
	sc__warnings_add(&f.p);
	check_warning(&f.p, "failed-runs", "1 of 5 runs failed");
}

static void test_no_runs(void)
{
	sc_profile p = {.kind = "function", .n_samples = 1};
	sc__warnings_add(&p);
	CHECK_INT(p.n_warnings, 0);
}

static void test_push_limits(void)
{
	sc_profile p = {0};
	for (int i = 0; i < SC_MAX_WARNINGS + 4; i++)
		sc__warning_push(&p, "id", "act", "warning %d", i);
	CHECK_INT(p.n_warnings, SC_MAX_WARNINGS);
	CHECK_STR(p.warnings[SC_MAX_WARNINGS - 1].message, "warning 15");
	CHECK_STR(p.warnings[0].action, "act");

	char long_reason[400];
	memset(long_reason, 'r', sizeof long_reason - 1);
	long_reason[sizeof long_reason - 1] = '\0';
	for (int i = 0; i < SC_MAX_UNAVAILABLE + 1; i++)
		sc__unavailable_push(&p, "memory.peak_memory_mb", "%s", long_reason);
	CHECK_INT(p.n_unavailable, SC_MAX_UNAVAILABLE);
	CHECK_INT(strlen(p.unavailable[0].reason), sizeof p.unavailable[0].reason - 1); /* cut */
	CHECK_STR(p.unavailable[0].field, "memory.peak_memory_mb");
}

int main(void)
{
	test_clean_runs();
	test_short_runs();
	test_outliers();
	test_slow_first_run();
	test_high_variance();
	test_failed_runs();
	test_no_runs();
	test_push_limits();
	return CHECK_DONE();
}
