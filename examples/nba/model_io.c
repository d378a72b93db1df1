/* model_io.c: the model file: a versioned little-endian binary format with an FNV-1a checksum,
 * written atomically and read back with every field validated.
 *
 * Layout (all integers little-endian, floats IEEE-754 binary32 stored as their bits):
 *   0   8  magic "SCNBAMDL"
 *   8   4  u32 version (1)
 *   12  4  u32 kind (0 lr, 1 rf, 2 gbm)
 *   16  4  u32 features (16)
 *   20  4  u32 payload bytes
 *   24  .  payload
 *   .   4  u32 FNV-1a (32-bit) of every byte before it
 * Payload of lr: mean[16] sd[16] w[16] bias (f32). Payload of rf and gbm: f32 base, u32 trees,
 * u32 nodes, per tree {u32 nodes, u32 depth}, per node {i32 feature, f32 value, u32 left,
 * u32 right}; a tree's nodes follow the previous tree's. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define MAGIC        "SCNBAMDL"
#define VERSION      1u
#define HEADER       24u
#define MAX_FILE     (256u << 20) /* far above any model trained here; refuse before reading */
#define MAX_TREES    100000u
#define LR_PAYLOAD   ((3 * NBA_N_FEATURES + 1) * 4u)
#define NODE_BYTES   16u
#define TREE_BYTES   8u
#define ENS_PREAMBLE 12u

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* ---- writing --------------------------------------------------------------------------- */

typedef struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
} buf;

static void put_bytes(buf *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put_u32(buf *b, uint32_t v)
{
	uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put_bytes(b, le, 4);
}

static void put_f32(buf *b, float f)
{
	uint32_t v;
	memcpy(&v, &f, 4);
	put_u32(b, v);
}

static void put_payload(buf *b, const nba_model *m)
{
	if (m->kind == NBA_MODEL_LR) {
		const nba__logreg *lr = &m->u.lr;
		for (int j = 0; j < NBA_N_FEATURES; j++)
			put_f32(b, lr->mean[j]);
		for (int j = 0; j < NBA_N_FEATURES; j++)
			put_f32(b, lr->sd[j]);
		for (int j = 0; j < NBA_N_FEATURES; j++)
			put_f32(b, lr->w[j]);
		put_f32(b, lr->bias);
		return;
	}
	const nba__ensemble *e = &m->u.ens;
	put_f32(b, e->base);
	put_u32(b, e->n_trees);
	put_u32(b, e->n_nodes);
	for (uint32_t t = 0; t < e->n_trees; t++) {
		put_u32(b, e->trees[t].n_nodes);
		put_u32(b, e->trees[t].depth);
	}
	for (uint32_t i = 0; i < e->n_nodes; i++) {
		put_u32(b, (uint32_t)e->nodes[i].feature);
		put_f32(b, e->nodes[i].value);
		put_u32(b, e->nodes[i].child[0]);
		put_u32(b, e->nodes[i].child[1]);
	}
}

int nba_model_save(const nba_model *m, const char *path)
{
	buf b = {0};
	put_bytes(&b, MAGIC, 8);
	put_u32(&b, VERSION);
	put_u32(&b, (uint32_t)m->kind);
	put_u32(&b, NBA_N_FEATURES);
	put_u32(&b, 0); /* the payload's size, patched below */
	put_payload(&b, m);
	if (!b.oom) {
		uint32_t size = (uint32_t)(b.len - HEADER);
		for (int k = 0; k < 4; k++)
			b.p[20 + k] = (uint8_t)(size >> (8 * k));
		put_u32(&b, fnv1a(b.p, b.len));
	}
	if (b.oom) {
		free(b.p);
		errno = ENOMEM;
		return -1;
	}
	/* Written beside the target and renamed over it, so a reader never sees half a model. */
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 5);
	if (!tmp) {
		free(b.p);
		errno = ENOMEM;
		return -1;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	int rc = -1;
	FILE *f = fopen(tmp, "wb");
	if (f) {
		bool ok = fwrite(b.p, 1, b.len, f) == b.len;
		ok = (fclose(f) == 0) && ok;
		if (ok && rename(tmp, path) == 0)
			rc = 0;
		else {
			int e = errno;
			remove(tmp);
			errno = e ? e : EIO;
		}
	}
	free(tmp);
	free(b.p);
	return rc;
}

/* ---- reading --------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static void fail(char *err, size_t cap, const char *path,
                                                       const char *fmt, ...)
{
	if (!err || cap == 0)
		return;
	int k = snprintf(err, cap, "%s: ", path);
	if (k < 0 || (size_t)k >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + k, cap - (size_t)k, fmt, ap);
	va_end(ap);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float get_f32(const uint8_t *p)
{
	uint32_t v = get_u32(p);
	float f;
	memcpy(&f, &v, 4);
	return f;
}

/* Reads the whole file, refusing one above MAX_FILE. NULL with errno (EFBIG when too large). */
static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *p = malloc(cap);
	while (p) {
		if (n == cap) {
			if (cap >= MAX_FILE) {
				free(p);
				p = NULL;
				errno = EFBIG;
				break;
			}
			uint8_t *q = realloc(p, cap * 2);
			if (!q) {
				free(p);
				p = NULL;
				errno = ENOMEM;
				break;
			}
			p = q;
			cap *= 2;
		}
		size_t k = fread(p + n, 1, cap - n, f);
		n += k;
		if (k == 0) {
			if (ferror(f)) {
				free(p);
				p = NULL;
				errno = EIO;
			}
			break;
		}
	}
	int e = errno;
	fclose(f);
	errno = e;
	*len = n;
	return p;
}

static nba_model *parse_lr(const uint8_t *p, uint32_t size, const char *path, char *err, size_t cap)
{
	if (size != LR_PAYLOAD) {
		fail(err, cap, path, "logistic regression payload of %u bytes, expected %u", size,
		     LR_PAYLOAD);
		return NULL;
	}
	nba_model *m = calloc(1, sizeof *m);
	if (!m) {
		fail(err, cap, path, "%s", strerror(ENOMEM));
		return NULL;
	}
	m->kind = NBA_MODEL_LR;
	nba__logreg *lr = &m->u.lr;
	for (int j = 0; j < NBA_N_FEATURES; j++) {
		lr->mean[j] = get_f32(p + 4 * j);
		lr->sd[j] = get_f32(p + 4 * (NBA_N_FEATURES + j));
		lr->w[j] = get_f32(p + 4 * (2 * NBA_N_FEATURES + j));
	}
	lr->bias = get_f32(p + 4 * 3 * NBA_N_FEATURES);
	for (int j = 0; j < NBA_N_FEATURES; j++) {
		if (!isfinite(lr->mean[j]) || !isfinite(lr->w[j]) || !(lr->sd[j] > 0) ||
		    !isfinite(lr->sd[j])) {
			fail(err, cap, path, "feature %d: mean, sd or weight not valid", j);
			free(m);
			return NULL;
		}
	}
	if (!isfinite(lr->bias)) {
		fail(err, cap, path, "bias not finite");
		free(m);
		return NULL;
	}
	nba__logreg_prepare(lr);
	return m;
}

static nba_model *parse_ensemble(nba_model_kind kind, const uint8_t *p, uint32_t size,
                                 const char *path, char *err, size_t cap)
{
	if (size < ENS_PREAMBLE) {
		fail(err, cap, path, "tree payload of %u bytes, shorter than its %u-byte preamble",
		     size, ENS_PREAMBLE);
		return NULL;
	}
	float base = get_f32(p);
	uint32_t n_trees = get_u32(p + 4), n_nodes = get_u32(p + 8);
	if (n_trees == 0 || n_trees > MAX_TREES) {
		fail(err, cap, path, "%u trees, expected 1 to %u", n_trees, MAX_TREES);
		return NULL;
	}
	/* 64-bit arithmetic: absurd counts cannot wrap into a plausible size. */
	uint64_t want =
	    ENS_PREAMBLE + (uint64_t)TREE_BYTES * n_trees + (uint64_t)NODE_BYTES * n_nodes;
	if (want != size) {
		fail(err, cap, path,
		     "%u trees and %u nodes need %llu payload bytes, the file has %u", n_trees,
		     n_nodes, (unsigned long long)want, size);
		return NULL;
	}
	if (!isfinite(base) || (kind == NBA_MODEL_RF && base != 0)) {
		fail(err, cap, path, "base value not valid");
		return NULL;
	}
	nba_model *m = calloc(1, sizeof *m);
	nba__tree *trees = m ? malloc((size_t)n_trees * sizeof *trees) : NULL;
	nba__node *nodes = trees ? malloc((size_t)(n_nodes ? n_nodes : 1) * sizeof *nodes) : NULL;
	if (!nodes) {
		fail(err, cap, path, "%s", strerror(ENOMEM));
		free(trees);
		free(m);
		return NULL;
	}
	m->kind = kind;
	m->u.ens = (nba__ensemble){trees, nodes, n_trees, n_nodes, base};
	const uint8_t *q = p + ENS_PREAMBLE;
	uint64_t first = 0;
	for (uint32_t t = 0; t < n_trees; t++, q += TREE_BYTES) {
		uint32_t tn = get_u32(q), depth = get_u32(q + 4);
		if (tn == 0 || first + tn > n_nodes || depth > NBA__MAX_DEPTH) {
			fail(err, cap, path, "tree %u: %u nodes of depth %u do not fit", t, tn,
			     depth);
			nba_model_free(m);
			return NULL;
		}
		trees[t] = (nba__tree){(uint32_t)first, tn, depth};
		first += tn;
	}
	if (first != n_nodes) {
		fail(err, cap, path, "the trees hold %llu nodes, the header says %u",
		     (unsigned long long)first, n_nodes);
		nba_model_free(m);
		return NULL;
	}
	for (uint32_t i = 0; i < n_nodes; i++, q += NODE_BYTES)
		nodes[i] = (nba__node){
		    (int32_t)get_u32(q), get_f32(q + 4), {get_u32(q + 8), get_u32(q + 12)}};
	for (uint32_t t = 0; t < n_trees; t++) {
		const char *bad =
		    nba__tree_check(nodes + trees[t].first, trees[t].n_nodes, trees[t].depth);
		if (bad) {
			fail(err, cap, path, "tree %u: %s", t, bad);
			nba_model_free(m);
			return NULL;
		}
	}
	return m;
}

nba_model *nba_model_load(const char *path, char *err, size_t err_cap)
{
	size_t len;
	uint8_t *p = read_all(path, &len);
	if (!p) {
		fail(err, err_cap, path, "%s",
		     errno == EFBIG ? "too large for a model file" : strerror(errno));
		return NULL;
	}
	nba_model *m = NULL;
	uint32_t version, kind, features, size;
	if (len < HEADER + 4) {
		fail(err, err_cap, path, "truncated: %zu bytes, a model file has at least %u", len,
		     HEADER + 4);
	} else if (memcmp(p, MAGIC, 8) != 0) {
		fail(err, err_cap, path, "not an NBA model file (bad magic)");
	} else if ((version = get_u32(p + 8)) != VERSION) {
		fail(err, err_cap, path, "model file version %u, this build reads %u", version,
		     VERSION);
	} else if ((size = get_u32(p + 20)), (uint64_t)HEADER + size + 4 > len) {
		fail(err, err_cap, path, "truncated: %zu bytes, the header says %llu", len,
		     (unsigned long long)HEADER + size + 4);
	} else if ((uint64_t)HEADER + size + 4 < len) {
		fail(err, err_cap, path, "%llu bytes of trailing data",
		     (unsigned long long)(len - (HEADER + size + 4)));
	} else if (fnv1a(p, HEADER + size) != get_u32(p + HEADER + size)) {
		fail(err, err_cap, path, "checksum mismatch: the file is corrupt");
	} else if ((kind = get_u32(p + 12)) > NBA_MODEL_GBM) {
		fail(err, err_cap, path, "unknown model kind %u", kind);
	} else if ((features = get_u32(p + 16)) != NBA_N_FEATURES) {
		fail(err, err_cap, path, "a model of %u features, this build has %d", features,
		     NBA_N_FEATURES);
	} else if (kind == NBA_MODEL_LR) {
		m = parse_lr(p + HEADER, size, path, err, err_cap);
	} else {
		m = parse_ensemble((nba_model_kind)kind, p + HEADER, size, path, err, err_cap);
	}
	free(p);
	return m;
}
