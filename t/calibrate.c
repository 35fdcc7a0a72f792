/*
 * t/calibrate.c - contextual calibration and fitted label offsets against
 * hand-computed values.
 */
#include "config.h"

#include <math.h>

#include "run/calibrate.h"
#include "run/loss.h"
#include "tap.h"

int main(void)
{
	plan(14);
	double b[3];

	/* One content-free input with p = (1/4, 3/4): b = -log p. */
	float cf2[] = { 0.0f, (float)log(3.0) };
	bbt_calibrate_contextual(cf2, 1, 2, b);
	is_double(b[0], -log(0.25), 1e-6, "2 labels: b0 = -log 1/4");
	is_double(b[1], -log(0.75), 1e-6, "2 labels: b1 = -log 3/4");
	float out[2];
	bbt_calibrate_apply(cf2, 1, 2, b, out);
	is_double(out[0], out[1], 1e-6, "the content-free input becomes neutral");

	/* Two content-free inputs, 3 labels: p = (1/3,1/3,1/3) and (1/2,1/4,1/4),
	 * mean (5/12, 7/24, 7/24). */
	float cf3[] = { 0, 0, 0, (float)log(2.0), 0, 0 };
	bbt_calibrate_contextual(cf3, 2, 3, b);
	is_double(b[0], -log(5.0 / 12), 1e-6, "3 labels: b0 = -log 5/12");
	is_double(b[1], -log(7.0 / 24), 1e-6, "3 labels: b1 = -log 7/24");
	is_double(b[2], b[1], 1e-12, "3 labels: b2 = b1");

	/* Fitted: constant logits, 3 of 4 examples positive. The CE optimum
	 * predicts the base rate: b1 - b0 = log 3 (the 1e-4 ridge moves it by
	 * less than 1e-3). */
	float zero[8] = { 0 };
	int y4[] = { 1, 1, 1, 0 };
	int it = bbt_calibrate_fit(zero, 4, 2, y4, b);
	ok(it > 0, "fit converges (%d Newton steps)", it);
	is_double(b[1] - b[0], log(3.0), 1e-3, "fit: offset difference log 3");
	is_double(b[0] + b[1], 0, 1e-12, "fit: offsets centred");

	/* 3 labels with counts 2:1:1. */
	float zero3[12] = { 0 };
	int y3[] = { 0, 0, 1, 2 };
	bbt_calibrate_fit(zero3, 4, 3, y3, b);
	is_double(b[0] - b[1], log(2.0), 1e-3, "3 labels: b0 - b1 = log 2");
	is_double(b[1] - b[2], 0, 1e-6, "3 labels: b1 = b2");

	/* A biased scorer: the true signal is s, the model adds +2 to label 1.
	 * The fitted offset removes the bias and restores the accuracy. */
	float biased[16];
	int y8[8];
	for (int i = 0; i < 8; i++) {
		double s = (i % 2 ? 1.0 : -1.0) * (0.5 + 0.1 * i);
		y8[i] = i % 2;
		biased[2 * i] = 0;
		biased[2 * i + 1] = (float)(s + 2.0);
	}
	is_double(bbt_metric_accuracy(biased, 8, 2, y8), 0.5, 0, "biased scores: 50%%");
	bbt_calibrate_fit(biased, 8, 2, y8, b);
	float fixed[16];
	bbt_calibrate_apply(biased, 8, 2, b, fixed);
	is_double(bbt_metric_accuracy(fixed, 8, 2, y8), 1.0, 0, "fitted offsets: 100%%");
	ok(bbt_loss_ce(fixed, 8, 2, y8) < bbt_loss_ce(biased, 8, 2, y8), "and a lower loss");
	return done_testing();
}
