/* logreg.c: L2-regularised logistic regression on standardised features, fitted by Newton's method
 * (IRLS); prediction is one dot product on the raw features. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

#define P         (NBA_N_FEATURES + 1) /* weights, then the intercept */
#define LR_LAMBDA 1.0                  /* L2 penalty on the standardised weights, not the bias */
#define LR_ITERS  50

/* Solves a x = b for symmetric positive definite a (P x P) by Cholesky; a is overwritten.
 * -1 when a is not positive definite (cannot happen with lambda > 0 on the weights and at least
 * one row with 0 < p < 1 for the bias). */
static int solve_spd(double a[P][P], double b[P], double x[P])
{
	for (int j = 0; j < P; j++) {
		double s = a[j][j];
		for (int k = 0; k < j; k++)
			s -= a[j][k] * a[j][k];
		if (!(s > 0))
			return -1;
		a[j][j] = sqrt(s);
		for (int i = j + 1; i < P; i++) {
			double t = a[i][j];
			for (int k = 0; k < j; k++)
				t -= a[i][k] * a[j][k];
			a[i][j] = t / a[j][j];
		}
	}
	double y[P];
	for (int i = 0; i < P; i++) {
		double t = b[i];
		for (int k = 0; k < i; k++)
			t -= a[i][k] * y[k];
		y[i] = t / a[i][i];
	}
	for (int i = P - 1; i >= 0; i--) {
		double t = y[i];
		for (int k = i + 1; k < P; k++)
			t -= a[k][i] * x[k];
		x[i] = t / a[i][i];
	}
	return 0;
}

int nba__logreg_train(const nba_dataset *d, nba__logreg *out)
{
	memset(out, 0, sizeof *out);
	size_t n = d->n;
	if (n == 0)
		return -1;
	double mean[NBA_N_FEATURES] = {0}, sd[NBA_N_FEATURES] = {0};
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < NBA_N_FEATURES; j++)
			mean[j] += d->x[i * NBA_N_FEATURES + j];
	for (int j = 0; j < NBA_N_FEATURES; j++)
		mean[j] /= (double)n;
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < NBA_N_FEATURES; j++) {
			double t = d->x[i * NBA_N_FEATURES + j] - mean[j];
			sd[j] += t * t;
		}
	for (int j = 0; j < NBA_N_FEATURES; j++) {
		sd[j] = sqrt(sd[j] / (double)n);
		/* A constant feature (the "home" indicator, say) standardises to zero whatever its
		 * sd; 1 avoids the division by zero and the L2 penalty keeps its weight at 0. */
		if (!(sd[j] > 1e-12))
			sd[j] = 1;
	}
	double beta[P] = {0};
	for (int it = 0; it < LR_ITERS; it++) {
		double hess[P][P] = {{0}}, grad[P] = {0}, z[P];
		z[P - 1] = 1;
		for (size_t i = 0; i < n; i++) {
			double s = beta[P - 1];
			for (int j = 0; j < NBA_N_FEATURES; j++) {
				z[j] = (d->x[i * NBA_N_FEATURES + j] - mean[j]) / sd[j];
				s += beta[j] * z[j];
			}
			double p = 1.0 / (1.0 + exp(-s));
			double r = p - d->y[i], wgt = p * (1 - p);
			for (int a = 0; a < P; a++) {
				grad[a] += r * z[a];
				for (int b = 0; b <= a; b++)
					hess[a][b] += wgt * z[a] * z[b];
			}
		}
		for (int a = 0; a < P; a++)
			for (int b = 0; b < a; b++)
				hess[b][a] = hess[a][b];
		for (int j = 0; j < NBA_N_FEATURES; j++) {
			grad[j] += LR_LAMBDA * beta[j];
			hess[j][j] += LR_LAMBDA;
		}
		/* The bias is unpenalised; a tiny ridge keeps the solve defined on one-class data.
		 */
		hess[P - 1][P - 1] += 1e-9;
		double step[P];
		if (solve_spd(hess, grad, step) < 0)
			return -1;
		double biggest = 0;
		for (int a = 0; a < P; a++) {
			beta[a] -= step[a];
			if (fabs(step[a]) > biggest)
				biggest = fabs(step[a]);
		}
		if (biggest < 1e-10)
			break;
	}
	for (int j = 0; j < NBA_N_FEATURES; j++) {
		out->mean[j] = (float)mean[j];
		out->sd[j] = (float)sd[j];
		out->w[j] = (float)beta[j];
	}
	out->bias = (float)beta[P - 1];
	nba__logreg_prepare(out);
	return 0;
}

void nba__logreg_prepare(nba__logreg *lr)
{
	double b0 = lr->bias;
	for (int j = 0; j < NBA_N_FEATURES; j++) {
		double wx = (double)lr->w[j] / lr->sd[j];
		lr->wx[j] = (float)wx;
		b0 -= wx * lr->mean[j];
	}
	lr->b0 = (float)b0;
}

void nba__logreg_predict(const nba__logreg *lr, const float *x, size_t n, float *proba)
{
	for (size_t i = 0; i < n; i++) {
		const float *r = x + i * NBA_N_FEATURES;
		float s = lr->b0;
		for (int j = 0; j < NBA_N_FEATURES; j++)
			s += lr->wx[j] * r[j];
		proba[i] = 1.0f / (1.0f + expf(-s));
	}
}
