/* speedscope.c: the speedscope export of a report's CPU samples (speedscope's file format). */
#include "internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/*
 * https://www.speedscope.app/file-format-schema.json: the frames are listed once, in "shared"
 * (name, and file and line when the profile's hotspot table knows where the function is), and
 * each report profile with stacks becomes one "sampled" profile whose samples are lists of frame
 * indexes, outermost first, each weighted by its number of samples ("unit": "none": samples are
 * counts, not a duration). A report without stacks gives a file with no profiles, which speedscope
 * opens as empty. Frames are shared between profiles by name, so searching a function in one
 * finds it in the others.
 */

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

/* A string as JSON; a name that is not UTF-8 keeps its ASCII bytes and '?' for the others. */
static json_t *text(const char *s)
{
	return sc__json_string_lossy(s);
}

/* The frames seen so far: the list speedscope reads, and an index from name to position. */
typedef struct frames {
	json_t *list;
	json_t *index;
} frames;

/* The position of name in the shared frames, added (with the hotspot's place) when new; -1 when
 * out of memory. */
static json_int_t frame_index(frames *f, const sc_cpu_profile *c, const char *name)
{
	if (!name || !*name)
		name = "[unknown]";
	json_t *known = json_object_get(f->index, name);
	if (known)
		return json_integer_value(known);
	json_int_t at = (json_int_t)json_array_size(f->list);
	json_t *frame = json_object();
	if (!frame || json_object_set_new(frame, "name", text(name)) != 0) {
		json_decref(frame);
		return -1;
	}
	for (size_t i = 0; i < c->n_hotspots; i++) {
		const sc_cpu_hotspot *h = &c->hotspots[i];
		if (!h->function || strcmp(h->function, name) != 0)
			continue;
		if ((h->file && json_object_set_new(frame, "file", text(h->file)) != 0) ||
		    (h->line > 0 &&
		     json_object_set_new(frame, "line", json_integer(h->line)) != 0)) {
			json_decref(frame);
			return -1;
		}
		break;
	}
	if (json_array_append_new(f->list, frame) != 0 ||
	    json_object_set_new(f->index, name, json_integer(at)) != 0)
		return -1;
	return at;
}

/* One sampled profile; NULL when out of memory. */
static json_t *profile_json(frames *f, const sc_profile *p)
{
	const sc_cpu_profile *c = &p->cpu;
	json_t *samples = json_array(), *weights = json_array();
	json_int_t total = 0;
	bool ok = samples && weights;
	for (size_t k = 0; ok && k < c->n_stacks; k++) {
		const sc_cpu_stack *s = &c->stacks[k];
		if (s->samples == 0)
			continue;
		json_t *stack = json_array();
		ok = stack != NULL;
		for (size_t i = 0; ok && i < s->n_frames; i++) {
			json_int_t at = frame_index(f, c, s->frames[i]);
			ok = at >= 0 && json_array_append_new(stack, json_integer(at)) == 0;
		}
		if (ok && s->n_frames == 0) {
			json_int_t at = frame_index(f, c, NULL);
			ok = at >= 0 && json_array_append_new(stack, json_integer(at)) == 0;
		}
		if (!ok) {
			json_decref(stack);
			break;
		}
		json_int_t w =
		    s->samples > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (json_int_t)s->samples;
		/* json_array_append_new releases what it could not append. */
		ok = json_array_append_new(samples, stack) == 0 &&
		     json_array_append_new(weights, json_integer(w)) == 0;
		total += w;
	}
	if (!ok) {
		json_decref(samples);
		json_decref(weights);
		return NULL;
	}
	/* clang-format off */
	return json_pack("{s:s, s:o, s:s, s:i, s:I, s:o, s:o}",
		"type", "sampled",
		"name", text(p->name ? p->name : "profile"),
		"unit", "none",
		"startValue", 0,
		"endValue", total,
		"samples", samples,
		"weights", weights);
	/* clang-format on */
}

static json_t *document(const sc_report *r)
{
	frames f = {json_array(), json_object()};
	json_t *profiles = json_array();
	bool ok = f.list && f.index && profiles;
	const char *name =
	    r->n_profiles == 1 && r->profiles[0].name ? r->profiles[0].name : "shotclock report";
	for (size_t i = 0; ok && i < r->n_profiles; i++) {
		const sc_profile *p = &r->profiles[i];
		if (!p->cpu.available || p->cpu.n_stacks == 0)
			continue;
		ok = json_array_append_new(profiles, profile_json(&f, p)) == 0;
	}
	json_decref(f.index);
	if (!ok) {
		json_decref(f.list);
		json_decref(profiles);
		return NULL;
	}
	/* clang-format off */
	return json_pack("{s:s, s:{s:o}, s:o, s:o, s:i, s:s}",
		"$schema", SPEEDSCOPE_SCHEMA,
		"shared", "frames", f.list,
		"profiles", profiles,
		"name", text(name),
		"activeProfileIndex", 0,
		"exporter", "shotclock " SC_VERSION);
	/* clang-format on */
}

int sc__export_speedscope(const sc_report *r, FILE *fp)
{
	json_t *root = document(r);
	if (!root)
		return SC_ENOMEM;
	int err = json_dumpf(root, fp, JSON_COMPACT) != 0 || fputc('\n', fp) == EOF ? SC_EIO : 0;
	json_decref(root);
	return err;
}
