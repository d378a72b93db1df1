/* test_requirements.c: parsing requirement expressions (every metric, unit and error) and checking
 * them against synthetic profiles, at the edge of the 95% bound. */
#include "check.h"
#include "internal.h"

static sc_requirements req;
static char err[256];
static size_t pos;

static int parse(const char *text)
{
	return sc_requirements_parse(text, &req, &pos, err, sizeof err);
}

/* text parses to exactly one requirement: metric op limit. */
static void one(const char *text, const char *metric, const char *op, double limit)
{
	int rc = parse(text);
	CHECK_INT(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "  %s: %s\n", text, err);
		return;
	}
	CHECK_INT(req.n, 1);
	CHECK_STR(req.items[0].metric, metric);
	CHECK_STR(req.items[0].op, op);
	CHECK_NEAR(req.items[0].limit, limit, 1e-12 * (limit > 1 ? limit : 1));
}

/* text is refused with this message at this position. */
static void bad(const char *text, size_t at, const char *message)
{
	CHECK_INT(parse(text), SC_EPARSE);
	CHECK_INT(pos, at);
	CHECK_STR(err, message);
}

static void test_parse(void)
{
	static const char *const metrics[] = {
	    "latency_ms",         "latency_p50_ms",         "latency_p90_ms", "latency_p95_ms",
	    "latency_p99_ms",     "latency_p999_ms",        "throughput",     "peak_memory_mb",
	    "memory_increase_mb", "allocations_per_sample", "leaked_bytes",   "cpu_utilization"};
	for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++) {
		char text[64];
		snprintf(text, sizeof text, "%s<=12.5", metrics[i]);
		one(text, metrics[i], "<=", 12.5);
	}
	one("latency_ms<1", "latency_ms", "<", 1);
	one("throughput>=100", "throughput", ">=", 100);
	one("throughput>100", "throughput", ">", 100);
	/* Units. */
	one("latency_p99_ms<=100ms", "latency_p99_ms", "<=", 100);
	one("latency_p99_ms<=0.1s", "latency_p99_ms", "<=", 100);
	one("latency_p99_ms<=250us", "latency_p99_ms", "<=", 0.25);
	one("latency_p99_ms<=5000ns", "latency_p99_ms", "<=", 0.005);
	one("latency_ms <= 100 ms", "latency_ms", "<=", 100);
	one("throughput>=50/s", "throughput", ">=", 50);
	one("throughput>=50rps", "throughput", ">=", 50);
	one("peak_memory_mb<=1GB", "peak_memory_mb", "<=", 1024);
	one("peak_memory_mb<=1GiB", "peak_memory_mb", "<=", 1024);
	one("peak_memory_mb<=512MB", "peak_memory_mb", "<=", 512);
	one("peak_memory_mb<=512mib", "peak_memory_mb", "<=", 512);
	one("memory_increase_mb<=512KB", "memory_increase_mb", "<=", 0.5);
	one("leaked_bytes<=4K", "leaked_bytes", "<=", 4096);
	one("leaked_bytes<=1M", "leaked_bytes", "<=", 1048576);
	one("leaked_bytes<=0", "leaked_bytes", "<=", 0);
	one("cpu_utilization<=150%", "cpu_utilization", "<=", 1.5);
	one("latency_ms<=1e2", "latency_ms", "<=", 100);
	one("latency_ms<=.5", "latency_ms", "<=", 0.5);
	one("\tlatency_ms\t<=\t7\t", "latency_ms", "<=", 7);

	/* Lists. */
	CHECK_INT(parse("latency_p99_ms<=100, throughput>=100 ,peak_memory_mb<=1000"), 0);
	CHECK_INT(req.n, 3);
	CHECK_STR(req.items[1].metric, "throughput");
	CHECK_STR(req.items[2].op, "<=");
	CHECK_NEAR(req.items[2].limit, 1000, 0);

	/* Errors, each with its position (0-based byte offset). */
	bad("latency_p99_ms<=1x0", 17,
	    "position 17: unexpected 'x' after the number (units of latency_p99_ms: ms, s, us, "
	    "ns)");
	bad("latncy_ms<=1", 0,
	    "position 0: unknown metric 'latncy_ms' (known: latency_ms, latency_p50_ms, "
	    "latency_p90_ms, latency_p95_ms, latency_p99_ms, latency_p999_ms, throughput, "
	    "peak_memory_mb, memory_increase_mb, allocations_per_sample, leaked_bytes, "
	    "cpu_utilization)");
	bad("latency_ms==1", 10, "position 10: bad operator '==' (use <=, <, >= or >)");
	bad("latency_ms=<1", 10, "position 10: bad operator '=<' (use <=, <, >= or >)");
	bad("latency_ms<>1", 10, "position 10: bad operator '<>' (use <=, <, >= or >)");
	bad("latency_ms 1", 11,
	    "position 11: expected an operator (<=, <, >= or >) after 'latency_ms', found '1'");
	bad("latency_ms", 10,
	    "position 10: expected an operator (<=, <, >= or >) after 'latency_ms'");
	bad("latency_ms<=", 12, "position 12: expected a number after '<='");
	bad("latency_ms<=abc", 12, "position 12: expected a number after '<=', found 'a'");
	bad("latency_ms<=nan", 12, "position 12: 'nan' is not a finite number");
	bad("latency_ms<=inf", 12, "position 12: 'inf' is not a finite number");
	bad("throughput>=Infinity", 12, "position 12: 'Infinity' is not a finite number");
	bad("latency_ms<=-1", 12,
	    "position 12: latency_ms cannot be negative: limits are never below 0");
	bad("latency_ms<=+1", 12, "position 12: unexpected '+': write the limit without a sign");
	bad("latency_ms<=1e999", 12, "position 12: '1e999' is out of range");
	bad("latency_ms<=100 ms x", 19,
	    "position 19: unexpected 'x' after the limit (requirements are separated by ',')");
	bad("latency_ms<=100GB", 15,
	    "position 15: unexpected 'GB' after the number (units of latency_ms: ms, s, us, ns)");
	bad("allocations_per_sample<=5ms", 25,
	    "position 25: unexpected 'ms' after the number (allocations_per_sample takes no unit)");
	bad("latency_ms<=1;", 13, "position 13: unexpected ';' after the number");
	bad("", 0, "position 0: empty requirement (expected: metric OP limit)");
	bad("latency_ms<=1,", 14, "position 14: empty requirement (expected: metric OP limit)");
	bad("latency_ms<=1,,throughput>=1", 14,
	    "position 14: empty requirement (expected: metric OP limit)");
	bad("<=1", 0, "position 0: expected a metric name, found '<'");
	bad("latency_ms<=1\x01", 13, "position 13: unexpected byte 0x01 after the number");

	/* More than SC_MAX_REQUIREMENTS. */
	char many[SC_MAX_REQUIREMENTS * 16 + 32] = "";
	for (int i = 0; i <= SC_MAX_REQUIREMENTS; i++)
		strcat(many, i ? ",latency_ms<=1" : "latency_ms<=1");
	CHECK_INT(parse(many), SC_EPARSE);
	CHECK_INT(pos, 14 * SC_MAX_REQUIREMENTS);

	/* A failed parse leaves the output as it was. */
	CHECK_INT(parse("throughput>=3"), 0);
	CHECK_INT(parse("throughput>=x"), SC_EPARSE);
	CHECK_INT(req.n, 1);
	CHECK_NEAR(req.items[0].limit, 3, 0);
	CHECK_INT(sc_requirements_parse(NULL, &req, NULL, NULL, 0), SC_EINVAL);
}

/* A command profile with runs of the given wall times, 10 samples per run. */
static sc_profile command_profile(const double *walls, size_t n)
{
	sc_profile p = {.name = strdup("model"), .kind = "command", .n_samples = 10};
	p.runs = calloc(n, sizeof *p.runs);
	p.n_runs = n;
	for (size_t i = 0; i < n; i++)
		p.runs[i] =
		    (sc_run){.wall_s = walls[i], .user_s = walls[i] / 2, .peak_rss_mb = 100 + i};
	CHECK_INT(sc__profile_derive_from_runs(&p), 0);
	p.memory = (sc_memory_profile){.peak_memory_mb = 100 + n - 1, .memory_increase_mb = 80};
	p.heap = (sc_heap_profile){.available = true,
	                           .allocations = 500,
	                           .leaked_bytes = 64,
	                           .allocations_per_sample = 50};
	return p;
}

static sc_report *report_of(sc_profile *p)
{
	sc_report *r = calloc(1, sizeof *r);
	r->max_regression = NAN;
	CHECK_INT(sc_report_add_profile(r, p), 0);
	return r;
}

static const sc_check *check_one(sc_report *r, const char *text)
{
	CHECK_INT(parse(text), 0);
	CHECK_INT(sc_report_check_requirements(r, &req), 0);
	CHECK_INT(r->n_checks, 1);
	return &r->checks[0];
}

static void test_evaluate(void)
{
	/* Runs 1.0 1.1 1.2 s: mean 1.1, s = 0.1, ci95 = 1.1 +- 4.302652729749464 * 0.1 / sqrt(3).
	 */
	const double walls[] = {1.0, 1.1, 1.2};
	sc_profile p = command_profile(walls, 3);
	sc_report *r = report_of(&p);
	double half = 4.3026527297494639 * 0.1 / sqrt(3);
	double high_ms = (1.1 + half) / 10 * 1000, low_ms = (1.1 - half) / 10 * 1000;

	const sc_check *c = check_one(r, "latency_ms<=110");
	CHECK_STR(c->name, "latency_ms<=110");
	CHECK_STR(c->profile, "model");
	CHECK_NEAR(c->value, 110, 1e-9);
	CHECK_NEAR(c->bound, high_ms, 1e-9);
	/* The mean meets the limit but the interval's slow end does not: FAIL. */
	CHECK(!c->pass);
	CHECK_STR(r->verdict, "fail");
	char text[64];
	snprintf(text, sizeof text, "latency_ms<=%.17g", high_ms + 1e-9);
	c = check_one(r, text);
	CHECK(c->pass);
	CHECK_STR(r->verdict, "pass");
	snprintf(text, sizeof text, "latency_ms>=%.17g", low_ms - 1e-9);
	c = check_one(r, text);
	CHECK_NEAR(c->bound, low_ms, 1e-9);
	CHECK(c->pass);

	/* Throughput 10 / 1.1 s; its lower bound is 10 / the slow end of the time. */
	c = check_one(r, "throughput>=9");
	CHECK_NEAR(c->value, 10 / 1.1, 1e-9);
	CHECK_NEAR(c->bound, 10 / (1.1 + half), 1e-9);
	CHECK(!c->pass); /* 10 / 1.348 = 7.4 < 9 */
	c = check_one(r, "throughput>=7");
	CHECK(c->pass);
	c = check_one(r, "throughput<=100");
	CHECK_NEAR(c->bound, 10 / (1.1 - half), 1e-9);

	/* Percentiles per run: the value is the bound, and the note says so. */
	c = check_one(r, "latency_p50_ms<=110.000001");
	CHECK_NEAR(c->value, 110, 1e-9);
	CHECK_NEAR(c->bound, 110, 1e-9);
	CHECK(c->pass);
	CHECK_STR(c->reason, "percentile of 3 per-run values: the value itself is compared");
	c = check_one(r, "latency_p50_ms<109.999999");
	CHECK(!c->pass);

	/* Memory: the peak is the largest run; for a lower limit the smallest run. */
	c = check_one(r, "peak_memory_mb<=102");
	CHECK_NEAR(c->bound, 102, 0);
	CHECK(c->pass);
	c = check_one(r, "peak_memory_mb>=101");
	CHECK_NEAR(c->bound, 100, 0);
	CHECK(!c->pass);
	c = check_one(r, "memory_increase_mb<80");
	CHECK(!c->pass);
	c = check_one(r, "allocations_per_sample<=50");
	CHECK(c->pass);
	c = check_one(r, "leaked_bytes<=63");
	CHECK(!c->pass);
	CHECK_NEAR(c->value, 64, 0);

	/* cpu_utilization is 0.5 in every run: no spread, bound = 0.5. */
	c = check_one(r, "cpu_utilization>=50%");
	CHECK_NEAR(c->bound, 0.5, 1e-12);
	CHECK(c->pass);

	/* Several requirements: one fails, the verdict fails. */
	CHECK_INT(parse("leaked_bytes<=1K,latency_ms<=1"), 0);
	CHECK_INT(sc_report_check_requirements(r, &req), 0);
	CHECK_INT(r->n_checks, 2);
	CHECK(r->checks[0].pass);
	CHECK(!r->checks[1].pass);
	CHECK_STR(r->verdict, "fail");
	sc_report_free(r);

	/* Unavailable figures fail, with the reason. */
	sc_profile q = command_profile(walls, 3);
	q.heap = (sc_heap_profile){.available = false};
	snprintf(q.heap.reason, sizeof q.heap.reason, "static binary");
	q.latency.available = false;
	r = report_of(&q);
	c = check_one(r, "leaked_bytes<=1K");
	CHECK(!c->pass);
	CHECK(isnan(c->value));
	CHECK_STR(c->reason, "no heap figures: static binary");
	c = check_one(r, "latency_p99_ms<=1000");
	CHECK(!c->pass);
	CHECK_STR(c->reason, "no latency percentiles (only the whole call was timed)");
	sc_report_free(r);

	/* One run: no interval, the value is compared and the note says so. */
	const double one_wall[] = {1.0};
	sc_profile s = command_profile(one_wall, 1);
	r = report_of(&s);
	c = check_one(r, "latency_ms<=100");
	CHECK_NEAR(c->bound, 100, 1e-9);
	CHECK(c->pass);
	CHECK_STR(c->reason, "one run: no confidence interval, the value itself is compared");
	sc_report_free(r);
}

int main(void)
{
	test_parse();
	test_evaluate();
	return CHECK_DONE();
}
