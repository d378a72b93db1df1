/* regions_pipeline.c: the seed's four components per prediction, timed with libshotclock regions.
 */
#include "shotclock.h"

#include <stdint.h>
#include <stdlib.h>

/*
 * Usage: regions_pipeline [PREDICTIONS]. Each prediction loads a row, extracts features, predicts
 * and postprocesses, each in its own region; nothing is printed. Run under `shotclock run`, the
 * regions reach the command's profile through SHOTCLOCK_REGIONS with no other change.
 */

#define N_RAW      256
#define N_FEATURES 128

static volatile double sink;

static void load_data(uint64_t i, double *raw)
{
	uint64_t x = i * 6364136223846793005u + 1442695040888963407u;
	for (int k = 0; k < N_RAW; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		raw[k] = (double)(x >> 11) / 9007199254740992.0;
	}
}

static void extract_features(const double *raw, double *features)
{
	for (int f = 0; f < N_FEATURES; f++) {
		double s = 0;
		for (int k = 0; k < N_RAW; k++)
			s += raw[k] * raw[(k + f) % N_RAW];
		features[f] = s;
	}
}

static double predict(const double *features)
{
	double z = 0;
	for (int f = 0; f < N_FEATURES; f++)
		z += features[f] * (f % 2 ? 0.01 : -0.01);
	return 1.0 / (1.0 + z * z);
}

static void postprocess(double p)
{
	sink = p > 0.5 ? 1.0 : 0.0;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000;
	double raw[N_RAW], features[N_FEATURES], p = 0;
	sc_profiler *prof = sc_profiler_new();
	for (uint64_t i = 0; i < n; i++) {
		SC_REGION(prof, "data_loading") load_data(i, raw);
		SC_REGION(prof, "feature_extraction") extract_features(raw, features);
		SC_REGION(prof, "prediction") p = predict(features);
		SC_REGION(prof, "postprocessing") postprocess(p);
	}
	sc_profiler_free(prof); /* under `shotclock run`, sends the regions to the collector */
	return 0;
}
