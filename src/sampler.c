/* sampler.c: the RSS and CPU timeline of a process tree, sampled from /proc at an adaptive rate. */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Cost per tick, for each process of the tree: one read of /proc/PID/stat, which holds both the
 * CPU time ((14) utime + (15) stime, whole thread group) and the RSS ((24) rss, the same
 * get_mm_rss() figure as statm's resident and status's VmRSS, so there is no need to read statm
 * as well), plus one read of /proc/PID/task/TID/children per thread to find the children (the
 * task directory is listed only when (20) num_threads > 1). Once per tick, /proc/ROOT/status
 * gives the root's VmHWM, which catches a peak that falls between two ticks. Measured on a
 * one-process tree (2-core VM, Linux 6.18): 43 us per tick, of which stat 9, children 5 and
 * status 15 + 3 to parse; that is 0.4% of one core at the 10 ms starting interval, and half of
 * that after every doubling.
 *
 * Without /proc/PID/task/TID/children (a kernel built without CONFIG_PROC_CHILDREN), the tree
 * is the root's process group, found by reading the stat file of every process in /proc: as
 * many reads as the system has processes, so this fallback costs far more.
 *
 * Limits: a process that starts and exits between two ticks is not seen (its CPU time shows up
 * in its parent's cutime, which is not summed); an orphan that leaves the tree (reparented to the
 * spawner when its parent exits) is not followed.
 */

/* More processes than this in one tree are not sampled (bounds the memory the sampler takes). */
#define MAX_TREE 65536

/* One process seen at a tick: who it is, and the CPU time it had used. */
typedef struct proc_cpu {
	pid_t pid;
	uint64_t starttime; /* (22): tells a reused pid from the process seen before */
	uint64_t ticks;     /* (14) utime + (15) stime, clock ticks */
} proc_cpu;

/* A growable array of procs. */
typedef struct proc_set {
	proc_cpu *v;
	size_t n, cap;
} proc_set;

struct sc__sampler {
	pid_t root;
	bool use_children; /* else scan /proc for the root's process group */
	uint64_t start_ns;
	uint64_t last_ns; /* the previous tick (start_ns before the first) */
	uint64_t interval_ns;
	uint64_t due_ns;
	size_t max_points;
	sc_timeline_point *points;
	size_t n_points;
	proc_set prev, cur; /* the tree at the previous tick (sorted by pid) and at this one */
	pid_t *queue;       /* pids still to visit in this tick's walk of the tree */
	size_t queue_cap;
	int64_t max_hwm_kb;
	double page_mb;
	double clk_tck;
	char text[16384]; /* one /proc file at a time */
};

int sc__sampler_new(pid_t root, uint64_t start_ns, size_t max_points, sc__sampler **out)
{
	if (!out)
		return SC_EINVAL;
	*out = NULL;
	if (root <= 0 || max_points < 2)
		return SC_EINVAL;
	sc__sampler *s = calloc(1, sizeof *s);
	if (!s)
		return SC_ENOMEM;
	s->points = malloc(max_points * sizeof *s->points);
	if (!s->points) {
		free(s);
		return SC_ENOMEM;
	}
	s->root = root;
	/* The children file exists for every task or for none (CONFIG_PROC_CHILDREN). */
	s->use_children = access("/proc/thread-self/children", R_OK) == 0;
	s->start_ns = s->last_ns = start_ns;
	s->interval_ns = SC__SAMPLER_FIRST_INTERVAL_NS;
	s->due_ns = start_ns + s->interval_ns;
	s->max_points = max_points;
	s->max_hwm_kb = -1;
	s->page_mb = (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
	s->clk_tck = (double)sysconf(_SC_CLK_TCK);
	*out = s;
	return 0;
}

void sc__sampler_free(sc__sampler *s)
{
	if (!s)
		return;
	free(s->points);
	free(s->prev.v);
	free(s->cur.v);
	free(s->queue);
	free(s);
}

uint64_t sc__sampler_due_ns(const sc__sampler *s)
{
	return s->due_ns;
}

int64_t sc__sampler_max_hwm_kb(const sc__sampler *s)
{
	return s->max_hwm_kb;
}

void sc__sampler_take(sc__sampler *s, sc_timeline_point **points, size_t *n, double *interval_s)
{
	*points = s->n_points ? s->points : NULL;
	*n = s->n_points;
	*interval_s = (double)s->interval_ns / 1e9;
	if (!s->n_points)
		free(s->points);
	s->points = NULL;
	s->n_points = 0;
}

/* ---- one tick ------------------------------------------------------------------------------ */

static bool queue_push(sc__sampler *s, size_t *n, pid_t pid)
{
	if (*n == s->queue_cap) {
		size_t cap = s->queue_cap ? 2 * s->queue_cap : 64;
		if (cap > MAX_TREE)
			return false;
		pid_t *grown = realloc(s->queue, cap * sizeof *grown);
		if (!grown)
			return false;
		s->queue = grown;
		s->queue_cap = cap;
	}
	s->queue[(*n)++] = pid;
	return true;
}

static bool set_push(proc_set *set, proc_cpu p)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 64;
		proc_cpu *grown = realloc(set->v, cap * sizeof *grown);
		if (!grown)
			return false;
		set->v = grown;
		set->cap = cap;
	}
	set->v[set->n++] = p;
	return true;
}

/* Reads /proc/PID/stat. False when the process is gone or is a zombie (no memory, no future). */
static bool read_stat(sc__sampler *s, pid_t pid, sc__proc_stat *st)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	return sc__read_text_file(path, s->text, sizeof s->text, NULL) == 0 &&
	       sc__parse_proc_stat(s->text, st) == 0 && st->state != 'Z' && st->state != 'X';
}

/* Appends the pids listed in /proc/PID/task/TID/children ("pid pid ... ") to the queue. A list
 * longer than the buffer loses its last, possibly cut, pid and what follows. */
static void push_children_of_task(sc__sampler *s, size_t *n, pid_t pid, pid_t tid)
{
	char path[96];
	size_t len;
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)tid);
	if (sc__read_text_file(path, s->text, sizeof s->text, &len) != 0)
		return;
	if (len == sizeof s->text - 1) {
		char *last = strrchr(s->text, ' ');
		if (last)
			*last = '\0';
	}
	char *p = s->text;
	for (;;) {
		char *end;
		long child = strtol(p, &end, 10);
		if (end == p || child <= 0 || !queue_push(s, n, (pid_t)child))
			return;
		p = end;
	}
}

static void push_children(sc__sampler *s, size_t *n, pid_t pid, int64_t threads)
{
	if (threads <= 1) {
		push_children_of_task(s, n, pid, pid);
		return;
	}
	/* Each thread lists only the children it forked itself. */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		long tid = strtol(e->d_name, NULL, 10);
		if (tid > 0)
			push_children_of_task(s, n, pid, (pid_t)tid);
	}
	closedir(d);
}

/* Starts s->queue with the root (read into *root_stat), followed, without children files, by the
 * rest of the root's process group. Returns the number queued. */
static size_t find_tree(sc__sampler *s, sc__proc_stat *root_stat, bool *root_alive)
{
	size_t n = 0;
	*root_alive = read_stat(s, s->root, root_stat);
	if (!*root_alive || !queue_push(s, &n, s->root))
		return 0;
	/* With children files the walk in sc__sampler_tick finds the rest, breadth first. */
	if (s->use_children)
		return n;
	/* The spawner makes the root a process-group leader, so the group id is its pid. */
	DIR *d = opendir("/proc");
	if (!d)
		return n;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		long pid = strtol(e->d_name, NULL, 10);
		sc__proc_stat st;
		if (pid > 0 && pid != s->root && read_stat(s, (pid_t)pid, &st) &&
		    st.pgrp == s->root && !queue_push(s, &n, (pid_t)pid))
			break;
	}
	closedir(d);
	return n;
}

static int compare_pid(const void *a, const void *b)
{
	pid_t x = ((const proc_cpu *)a)->pid, y = ((const proc_cpu *)b)->pid;
	return (x > y) - (x < y);
}

/* CPU ticks p used since the previous tick: all of them for a process not seen then. */
static uint64_t ticks_since_last(const sc__sampler *s, const proc_cpu *p)
{
	const proc_cpu *seen =
	    s->prev.n ? bsearch(p, s->prev.v, s->prev.n, sizeof *p, compare_pid) : NULL;
	if (seen && seen->starttime == p->starttime && seen->ticks <= p->ticks)
		return p->ticks - seen->ticks;
	return p->ticks;
}

/* Merges neighbouring pairs of points (the peak RSS of the two, their mean CPU, the later time:
 * a point describes the interval that ends at t_s) and doubles the interval. */
static void merge_points(sc__sampler *s)
{
	size_t half = s->n_points / 2;
	for (size_t i = 0; i < half; i++) {
		const sc_timeline_point *a = &s->points[2 * i], *b = &s->points[2 * i + 1];
		s->points[i] = (sc_timeline_point){
		    .t_s = b->t_s,
		    .rss_mb = a->rss_mb > b->rss_mb ? a->rss_mb : b->rss_mb,
		    .cpu_percent = (a->cpu_percent + b->cpu_percent) / 2,
		    .processes = a->processes > b->processes ? a->processes : b->processes,
		};
	}
	if (s->n_points % 2)
		s->points[half] = s->points[s->n_points - 1];
	s->n_points = half + s->n_points % 2;
	s->interval_ns *= 2;
}

void sc__sampler_tick(sc__sampler *s, uint64_t now_ns)
{
	sc__proc_stat st;
	bool root_alive;
	size_t n = find_tree(s, &st, &root_alive);
	s->cur.n = 0;
	double rss_pages = 0;
	uint64_t ticks = 0;
	for (size_t i = 0; i < n; i++) {
		/* The root's stat was read by find_tree a moment ago. */
		if (i > 0 && !read_stat(s, s->queue[i], &st))
			continue;
		proc_cpu p = {
		    .pid = st.pid, .starttime = st.starttime, .ticks = st.utime + st.stime};
		if (!set_push(&s->cur, p))
			break;
		rss_pages += (double)st.rss;
		ticks += ticks_since_last(s, &p);
		if (s->use_children)
			push_children(s, &n, st.pid, st.num_threads);
	}
	if (root_alive) {
		char path[64];
		sc__proc_status status;
		snprintf(path, sizeof path, "/proc/%d/status", (int)s->root);
		if (sc__read_text_file(path, s->text, sizeof s->text, NULL) == 0 &&
		    sc__parse_proc_status(s->text, &status) == 0 &&
		    status.vm_hwm_kb > s->max_hwm_kb)
			s->max_hwm_kb = status.vm_hwm_kb;
	}
	if (s->cur.n > 1)
		qsort(s->cur.v, s->cur.n, sizeof *s->cur.v, compare_pid);
	proc_set swap = s->prev;
	s->prev = s->cur;
	s->cur = swap;

	double elapsed_s = now_ns > s->last_ns ? (double)(now_ns - s->last_ns) / 1e9 : 0;
	s->last_ns = now_ns;
	/* A tree that is gone (the root exited, maybe still a zombie) gives no point. */
	if (s->prev.n > 0) {
		s->points[s->n_points++] = (sc_timeline_point){
		    .t_s = (double)(now_ns - s->start_ns) / 1e9,
		    .rss_mb = rss_pages * s->page_mb,
		    .cpu_percent =
		        elapsed_s > 0 ? 100.0 * (double)ticks / s->clk_tck / elapsed_s : 0,
		    .processes = (int)s->prev.n,
		};
		if (s->n_points == s->max_points)
			merge_points(s);
	}
	s->due_ns = now_ns + s->interval_ns;
}
