/* folded.c: the folded-stacks export of a report's CPU samples ("a;b;c 123" per line). */
#include "internal.h"

#include <inttypes.h>
#include <string.h>

/*
 * The format Brendan Gregg's stackcollapse scripts write and flamegraph.pl, inferno and speedscope
 * read: one line per distinct stack, its frames outermost first joined by ';', a space, and the
 * number of samples. Readers split a line at its last space and the frames at every ';', so a
 * frame name's ';' becomes ':' (C++ and Rust names hold no ':' alone that this could confuse) and a
 * line break or other control character becomes a space. With several profiles in the report each
 * stack starts with the profile's name, so one flame graph shows them side by side. A report with
 * no stacks writes an empty file, which every reader accepts as a profile with no samples.
 */

/* One frame name, made safe for the format; NULL or "" (no name) is "[unknown]". */
static void frame(FILE *fp, const char *s)
{
	if (!s || !*s) {
		fputs("[unknown]", fp);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ';')
			fputc(':', fp);
		else if (c < 0x20 || c == 0x7f)
			fputc(' ', fp);
		else
			fputc(c, fp);
	}
}

int sc__export_folded(const sc_report *r, FILE *fp)
{
	bool prefix = r->n_profiles > 1;
	for (size_t i = 0; i < r->n_profiles; i++) {
		const sc_profile *p = &r->profiles[i];
		if (!p->cpu.available)
			continue;
		for (size_t k = 0; k < p->cpu.n_stacks; k++) {
			const sc_cpu_stack *s = &p->cpu.stacks[k];
			if (s->samples == 0)
				continue;
			if (prefix) {
				frame(fp, p->name);
				if (s->n_frames)
					fputc(';', fp);
			}
			for (size_t f = 0; f < s->n_frames; f++) {
				if (f)
					fputc(';', fp);
				frame(fp, s->frames[f]);
			}
			/* A stack with no frame at all still counts its samples. */
			if (!prefix && s->n_frames == 0)
				frame(fp, NULL);
			fprintf(fp, " %" PRIu64 "\n", s->samples);
		}
	}
	return ferror(fp) ? SC_EIO : 0;
}
