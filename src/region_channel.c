/* region_channel.c: how a program under `shotclock run` sends its regions to the collector. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The channel is a path, not an inherited descriptor: every run is started by shotclock-spawner,
 * which closes every descriptor above 2 before exec, and a path also survives the program's own
 * exec of another program. The collector makes a private directory (mode 0700) with an empty file
 * in it and names the file in SHOTCLOCK_REGIONS for the timed runs. Each table of regions in the
 * program appends one self-delimiting record with one write(2) on an O_APPEND descriptor (at
 * sc_profiler_free, at the end of a profile, or at exit), so processes never interleave.
 *
 * A record is text:
 *   "SCREGIONS1 <pid> <body bytes>\n" then one line per region:
 *   "<depth> <calls> <total_ns> <self_ns> <memory_kb|?> <allocations> <bytes> <max_ns>
 *    =<name> =<parent> <n buckets> [<value_ns> <count>]...\n"
 * Names are %XX-escaped (bytes <= 0x20, '%', >= 0x7f); "=" alone is the top level's parent.
 */

#define RECORD_MAGIC "SCREGIONS1"

extern char **environ;

/* ---- the program's side ------------------------------------------------------------------ */

static void put_name(FILE *f, const char *s)
{
	fputc('=', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c <= 0x20 || *c == '%' || *c >= 0x7f)
			fprintf(f, "%%%02X", *c);
		else
			fputc(*c, f);
	}
}

typedef struct bucket_out {
	FILE *f;
	double ns_per_tick;
} bucket_out;

static void put_bucket(void *ctx, uint64_t value, uint64_t count)
{
	bucket_out *b = ctx;
	fprintf(b->f, " %.0f %" PRIu64, (double)value * b->ns_per_tick, count);
}

static void count_bucket(void *ctx, uint64_t value, uint64_t count)
{
	(void)value;
	(void)count;
	(*(size_t *)ctx)++;
}

int sc__region_channel_write(const char *path, const sc__region_rec *recs, size_t n)
{
	char *body = NULL;
	size_t body_len = 0;
	FILE *f = open_memstream(&body, &body_len);
	if (!f)
		return SC_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const sc__region_rec *r = &recs[i];
		fprintf(f, "%d %" PRIu64 " %" PRIu64 " %" PRIu64 " ", r->depth, r->calls,
		        r->total_ns, r->self_ns);
		if (isnan(r->memory_increase_mb))
			fputs("?", f);
		else
			fprintf(f, "%.0f", r->memory_increase_mb * 1024.0);
		fprintf(f, " %" PRId64 " %" PRId64 " %.0f ", r->allocations, r->bytes_allocated,
		        (double)sc_histogram_max(r->ticks) * r->ns_per_tick);
		put_name(f, r->name);
		fputc(' ', f);
		put_name(f, r->parent);
		size_t nb = 0;
		sc__histogram_each(r->ticks, count_bucket, &nb);
		fprintf(f, " %zu", nb);
		bucket_out b = {f, r->ns_per_tick};
		sc__histogram_each(r->ticks, put_bucket, &b);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(body);
		return SC_ENOMEM;
	}
	char head[64];
	int head_len =
	    snprintf(head, sizeof head, RECORD_MAGIC " %ld %zu\n", (long)getpid(), body_len);
	char *all = malloc((size_t)head_len + body_len);
	if (!all) {
		free(body);
		return SC_ENOMEM;
	}
	memcpy(all, head, (size_t)head_len);
	memcpy(all + head_len, body, body_len);
	free(body);
	int err = 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		err = SC_EIO;
	} else {
		/* One write: O_APPEND places it whole at the end, so records of processes that end
		 * together never interleave. */
		size_t len = (size_t)head_len + body_len;
		ssize_t w;
		do
			w = write(fd, all, len);
		while (w < 0 && errno == EINTR);
		if (w != (ssize_t)len)
			err = SC_EIO;
		close(fd);
	}
	free(all);
	return err;
}

/* ---- the collector's side --------------------------------------------------------------- */

struct sc__region_channel {
	char dir[256];
	char path[300];
	char *var;   /* "SHOTCLOCK_REGIONS=<path>" */
	char **envp; /* environ without the variable, then var */
};

sc__region_channel *sc__region_channel_new(void)
{
	sc__region_channel *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	const char *tmp = getenv("TMPDIR");
	snprintf(c->dir, sizeof c->dir, "%s/shotclock-regions-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(c->dir)) {
		free(c);
		return NULL;
	}
	snprintf(c->path, sizeof c->path, "%s/regions", c->dir);
	int fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	c->envp = calloc(n + 2, sizeof *c->envp);
	if (fd < 0 || !c->envp || asprintf(&c->var, SC__REGIONS_ENV "=%s", c->path) < 0) {
		if (fd >= 0)
			close(fd);
		free(c->envp);
		unlink(c->path);
		rmdir(c->dir);
		free(c);
		return NULL;
	}
	close(fd);
	size_t k = 0, skip = strlen(SC__REGIONS_ENV "=");
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, SC__REGIONS_ENV "=", skip) != 0)
			c->envp[k++] = *e;
	c->envp[k] = c->var;
	return c;
}

char *const *sc__region_channel_envp(const sc__region_channel *c)
{
	return c ? c->envp : NULL;
}

/* One region merged over every record. */
typedef struct agg {
	char name[64];
	char parent[64];
	int depth;
	uint64_t calls;
	double total_ns;
	double self_ns;
	double memory_kb; /* sum over the records that knew it */
	size_t memory_n;
	int64_t allocations; /* -1 once any record lacks them */
	int64_t bytes;
	uint64_t max_ns;
	sc_histogram *hist;
} agg;

typedef struct aggs {
	agg *a;
	size_t n;
	size_t cap;
} aggs;

/* Decodes one =name token into out; false when malformed. */
static bool get_name(const char *tok, char *out, size_t cap)
{
	if (*tok != '=')
		return false;
	size_t k = 0;
	for (const char *s = tok + 1; *s; s++) {
		int c = (unsigned char)*s;
		if (c == '%') {
			unsigned v;
			if (sscanf(s + 1, "%2x", &v) != 1 || !s[1] || !s[2])
				return false;
			c = (int)v;
			s += 2;
		}
		if (k + 1 < cap)
			out[k++] = (char)c;
	}
	out[k] = '\0';
	return true;
}

static agg *find_agg(aggs *as, const char *name, const char *parent, int depth)
{
	for (size_t i = 0; i < as->n; i++)
		if (as->a[i].depth == depth && strcmp(as->a[i].name, name) == 0 &&
		    strcmp(as->a[i].parent, parent) == 0)
			return &as->a[i];
	if (as->n == as->cap) {
		size_t cap = as->cap ? 2 * as->cap : 8;
		agg *grown = realloc(as->a, cap * sizeof *grown);
		if (!grown)
			return NULL;
		as->a = grown;
		as->cap = cap;
	}
	sc_histogram *h = sc_histogram_new();
	if (!h)
		return NULL;
	agg *g = &as->a[as->n++];
	*g = (agg){.depth = depth, .hist = h};
	snprintf(g->name, sizeof g->name, "%s", name);
	snprintf(g->parent, sizeof g->parent, "%s", parent);
	return g;
}

/* Parses one region line (NUL-terminated, no newline). */
static int parse_line(char *line, aggs *as)
{
	char *save = NULL;
	char *tok[11];
	for (int i = 0; i < 11; i++)
		if (!(tok[i] = strtok_r(i ? NULL : line, " ", &save)))
			return SC_EPARSE;
	char name[64], parent[64];
	if (!get_name(tok[8], name, sizeof name) || !get_name(tok[9], parent, sizeof parent))
		return SC_EPARSE;
	char *end;
	long depth = strtol(tok[0], &end, 10);
	if (*end || depth < 0 || depth > 1000)
		return SC_EPARSE;
	agg *g = find_agg(as, name, parent, (int)depth);
	if (!g)
		return SC_ENOMEM;
	bool first = g->calls == 0 && g->total_ns == 0 && g->memory_n == 0 && g->allocations == 0;
	g->calls += strtoull(tok[1], NULL, 10);
	g->total_ns += strtod(tok[2], NULL);
	g->self_ns += strtod(tok[3], NULL);
	if (strcmp(tok[4], "?") != 0) {
		g->memory_kb += strtod(tok[4], NULL);
		g->memory_n++;
	}
	int64_t allocs = strtoll(tok[5], NULL, 10), bytes = strtoll(tok[6], NULL, 10);
	if (allocs < 0 || (!first && g->allocations < 0)) {
		g->allocations = g->bytes = -1;
	} else {
		g->allocations += allocs;
		g->bytes += bytes;
	}
	uint64_t max = strtoull(tok[7], NULL, 10);
	g->max_ns = max > g->max_ns ? max : g->max_ns;
	unsigned long long nb = strtoull(tok[10], &end, 10);
	if (*end)
		return SC_EPARSE;
	for (unsigned long long i = 0; i < nb; i++) {
		char *v = strtok_r(NULL, " ", &save), *c = strtok_r(NULL, " ", &save);
		if (!v || !c)
			return SC_EPARSE;
		sc__histogram_record_n(g->hist, strtoull(v, NULL, 10), strtoull(c, NULL, 10));
	}
	return 0;
}

static double ns_ms(double ns)
{
	return ns / 1e6;
}

int sc__region_channel_parse(const char *text, size_t len, size_t n_runs, double run_time_s,
                             sc_profile *p)
{
	aggs as = {0};
	int err = 0;
	size_t pos = 0, magic_len = strlen(RECORD_MAGIC);
	while (!err && pos < len) {
		const char *head = text + pos;
		const char *nl = memchr(head, '\n', len - pos);
		if (!nl || (size_t)(nl - head) < magic_len ||
		    memcmp(head, RECORD_MAGIC, magic_len)) {
			err = SC_EPARSE;
			break;
		}
		long pid;
		size_t body_len;
		char hb[64];
		size_t hl =
		    (size_t)(nl - head) < sizeof hb - 1 ? (size_t)(nl - head) : sizeof hb - 1;
		memcpy(hb, head, hl);
		hb[hl] = '\0';
		if (sscanf(hb, RECORD_MAGIC " %ld %zu", &pid, &body_len) != 2 ||
		    body_len > len - (size_t)(nl + 1 - text)) {
			err = SC_EPARSE;
			break;
		}
		char *body = malloc(body_len + 1);
		if (!body) {
			err = SC_ENOMEM;
			break;
		}
		memcpy(body, nl + 1, body_len);
		body[body_len] = '\0';
		char *save = NULL;
		for (char *line = strtok_r(body, "\n", &save); !err && line;
		     line = strtok_r(NULL, "\n", &save)) {
			/* strtok_r inside parse_line keeps its own position. */
			err = parse_line(line, &as);
		}
		free(body);
		pos = (size_t)(nl + 1 - text) + body_len;
	}
	if (err != SC_ENOMEM && as.n) {
		sc_region_stats *out = calloc(as.n, sizeof *out);
		if (!out)
			err = SC_ENOMEM;
		/* After a bad record, what was read before it still stands. */
		double runs = n_runs ? (double)n_runs : 1.0;
		for (size_t i = 0; out && i < as.n; i++) {
			const agg *g = &as.a[i];
			sc_region_stats *s = &out[i];
			snprintf(s->name, sizeof s->name, "%s", g->name);
			snprintf(s->parent, sizeof s->parent, "%s", g->parent);
			s->depth = g->depth;
			s->calls = (uint64_t)llround((double)g->calls / runs);
			s->total_s = g->total_ns / runs / 1e9;
			s->self_s = g->self_ns / runs / 1e9;
			s->memory_increase_mb =
			    g->memory_n ? g->memory_kb / (double)g->memory_n / 1024.0 : NAN;
			s->allocations =
			    g->allocations < 0 ? -1 : llround((double)g->allocations / runs);
			s->bytes_allocated = g->bytes < 0 ? -1 : llround((double)g->bytes / runs);
			/* The channel carries no CPU samples: these stay unsampled. */
			s->cpu_samples = -1;
			s->cpu_percent = NAN;
			const sc_histogram *h = g->hist;
			s->latency = (sc_latency){.available = false, .source = "per-call"};
			if (sc_histogram_count(h))
				s->latency = (sc_latency){
				    .available = true,
				    .count = sc_histogram_count(h),
				    .mean_ms = ns_ms(sc_histogram_mean(h)),
				    .p50_ms = ns_ms((double)sc_histogram_percentile(h, 50)),
				    .p90_ms = ns_ms((double)sc_histogram_percentile(h, 90)),
				    .p95_ms = ns_ms((double)sc_histogram_percentile(h, 95)),
				    .p99_ms = ns_ms((double)sc_histogram_percentile(h, 99)),
				    .p999_ms = ns_ms((double)sc_histogram_percentile(h, 99.9)),
				    .max_ms = ns_ms((double)g->max_ns),
				    .source = "per-call",
				};
		}
		for (size_t i = 0; out && i < as.n; i++) {
			double whole = run_time_s;
			if (out[i].depth > 0) {
				whole = NAN;
				for (size_t j = 0; j < as.n; j++)
					if (out[j].depth == out[i].depth - 1 &&
					    strcmp(out[j].name, out[i].parent) == 0) {
						whole = out[j].total_s;
						break;
					}
			}
			out[i].share = whole > 0 ? out[i].total_s / whole : NAN;
		}
		if (out) {
			free(p->regions);
			p->regions = out;
			p->n_regions = as.n;
		}
	}
	for (size_t i = 0; i < as.n; i++)
		sc_histogram_free(as.a[i].hist);
	free(as.a);
	return err;
}

void sc__region_channel_collect(sc__region_channel *c, sc_profile *p)
{
	if (!c)
		return;
	char *text = NULL;
	size_t len = 0;
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (text = malloc((size_t)st.st_size)) != NULL) {
		ssize_t got;
		while (len < (size_t)st.st_size &&
		       ((got = read(fd, text + len, (size_t)st.st_size - len)) > 0 ||
		        (got < 0 && errno == EINTR)))
			if (got > 0)
				len += (size_t)got;
	}
	if (fd >= 0)
		close(fd);
	if (len && p->n_runs) {
		double wall = 0;
		for (size_t i = 0; i < p->n_runs; i++)
			wall += p->runs[i].wall_s;
		int err =
		    sc__region_channel_parse(text, len, p->n_runs, wall / (double)p->n_runs, p);
		if (err)
			sc__warning_push(
			    p, "regions-unreadable",
			    "report it: the program's region records could not be read",
			    "the regions the program sent could not be parsed (%s); the "
			    "profile shows what was read before the error",
			    sc_strerror(err));
	}
	free(text);
	unlink(c->path);
	rmdir(c->dir);
	free(c->var);
	free(c->envp);
	free(c);
}
