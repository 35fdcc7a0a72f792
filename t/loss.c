/*
 * t/loss.c - losses and metrics against values worked out by hand.
 */
#include "config.h"

#include <math.h>

#include <bbtbench/status.h>

#include "run/loss.h"
#include "tap.h"

#define TOL 1e-12

int main(void)
{
	plan(61);

	/* --- names --- */
	is_int(bbt_loss_parse("ce"), BBT_LOSS_CE, "parse ce");
	is_int(bbt_loss_parse("hinge"), BBT_LOSS_HINGE, "parse hinge");
	is_int(bbt_loss_parse("perf"), BBT_LOSS_PERF, "parse perf");
	is_int(bbt_loss_parse("CE"), 0, "loss names are case-sensitive");
	is_int(bbt_loss_parse(NULL), 0, "parse NULL loss is 0");
	is_string(bbt_loss_name(BBT_LOSS_HINGE), "hinge", "name of hinge");
	is_string(bbt_loss_name(0), "unknown", "name of an unknown loss");
	is_int(bbt_metric_parse("acc"), BBT_METRIC_ACC, "parse acc");
	is_int(bbt_metric_parse("f1"), BBT_METRIC_F1, "parse f1");
	is_int(bbt_metric_parse("macro_f1"), BBT_METRIC_MACRO_F1, "parse macro_f1");
	is_int(bbt_metric_parse("accuracy"), 0, "unknown metric is 0");
	is_string(bbt_metric_name(BBT_METRIC_MACRO_F1), "macro_f1", "name of macro_f1");

	/* --- predict: arg-max, lowest index on ties --- */
	{
		const float a[] = { 1, 1, 1 }, b[] = { 0, 2, 2 }, c[] = { -3, -1, -2 };
		is_int(bbt_predict(a, 3), 0, "three-way tie: index 0");
		is_int(bbt_predict(b, 3), 1, "tie of 1 and 2: index 1");
		is_int(bbt_predict(c, 3), 1, "all negative: the largest");
	}

	/* --- cross-entropy ---
	 * [1, 2, 3]: log-sum-exp = 3 + log(1 + e^-1 + e^-2) = 3.4076059644443806,
	 * so -log softmax is 0.40760596444438 for label 2 and 2.40760596444438
	 * for label 0. */
	{
		const float l[] = { 1, 2, 3, 1, 2, 3 };
		const int y2[] = { 2 }, y0[] = { 0 }, both[] = { 2, 0 };
		double lse = 3.0 + log(1.0 + exp(-1.0) + exp(-2.0));
		is_double(bbt_loss_ce(l, 1, 3, y2), lse - 3.0, TOL, "ce [1,2,3] y=2");
		is_double(bbt_loss_ce(l, 1, 3, y0), 2.4076059644443806, 1e-13, "ce [1,2,3] y=0");
		is_double(bbt_loss_ce(l, 2, 3, both), 1.4076059644443806, 1e-13,
		          "ce is the mean over examples");
		const float z[] = { 0, 0 };
		const int y[] = { 1 };
		is_double(bbt_loss_ce(z, 1, 2, y), log(2.0), TOL, "ce of equal logits is log L");
	}
	/* Stability: exp(1000) overflows a double and exp(-1000) is 0, so a
	 * naive formula gives inf or -log(0). */
	{
		const float l[] = { 1000, -1000, 1000, -1000 };
		const int y[] = { 0, 1 };
		is_double(bbt_loss_ce(l, 1, 2, y), 0.0, TOL, "ce [1000,-1000] y=0 is 0");
		is_double(bbt_loss_ce(l + 2, 1, 2, y + 1), 2000.0, TOL, "ce [1000,-1000] y=1 is 2000");
		is_double(bbt_loss_ce(l, 2, 2, y), 1000.0, TOL, "ce mean of both is 1000");
		const float t[] = { 1000, 1000 }, u[] = { -1000, -1000, -1000 };
		const int y0[] = { 0 };
		is_double(bbt_loss_ce(t, 1, 2, y0), log(2.0), TOL, "ce [1000,1000] is log 2");
		is_double(bbt_loss_ce(u, 1, 3, y0), log(3.0), TOL, "ce [-1000 x3] is log 3");
	}

	/* --- hinge, margin 2, 3 labels ---
	 * [1, 2, 0.5]:  y=0: (2-1+2) + (0.5-1+2)   = 3 + 1.5   = 4.5
	 *               y=1: (1-2+2) + (0.5-2+2)   = 1 + 0.5   = 1.5
	 *               y=2: (1-0.5+2) + (2-0.5+2) = 2.5 + 3.5 = 6
	 * [5, 0, 0] y=0: both terms negative, 0. */
	{
		const float l[] = { 1, 2, 0.5f };
		const int y0[] = { 0 }, y1[] = { 1 }, y2[] = { 2 };
		is_double(bbt_loss_hinge(l, 1, 3, y0), 4.5, TOL, "hinge [1,2,.5] y=0");
		is_double(bbt_loss_hinge(l, 1, 3, y1), 1.5, TOL, "hinge [1,2,.5] y=1");
		is_double(bbt_loss_hinge(l, 1, 3, y2), 6.0, TOL, "hinge [1,2,.5] y=2");
		const float m[] = { 1, 2, 0.5f, 1, 2, 0.5f, 5, 0, 0 };
		const int ym[] = { 0, 1, 0 };
		is_double(bbt_loss_hinge(m, 3, 3, ym), (4.5 + 1.5 + 0.0) / 3.0, TOL,
		          "hinge is the mean over examples; a clear winner costs 0");
		const float e[] = { 2, 0 };
		is_double(bbt_loss_hinge(e, 1, 2, y0), 0.0, TOL, "hinge exactly at the margin is 0");
	}

	/* --- accuracy with ties ---
	 * rows [1,1] [0,0] [2,1] [0,3] predict 0 0 0 1; gold 0 1 0 1: 3/4. */
	{
		const float l[] = { 1, 1, 0, 0, 2, 1, 0, 3 };
		const int y[] = { 0, 1, 0, 1 };
		is_double(bbt_metric_accuracy(l, 4, 2, y), 0.75, TOL, "accuracy with ties");
		is_double(bbt_loss_eval(BBT_LOSS_PERF, BBT_METRIC_ACC, BBT_NO_POSITIVE, l, 4, 2, y),
		          -0.75, TOL, "perf with acc is -accuracy");
		is_double(bbt_metric_eval(BBT_METRIC_ACC, BBT_NO_POSITIVE, l, 4, 2, y), 0.75, TOL,
		          "metric_eval acc");
	}

	/* --- binary F1 of the positive class, label 1 here ---
	 * gold 1 1 0 0 1, predicted 1 0 1 0 1: tp 2, fp 1, fn 1, F1 = 4/6. */
	{
		const float l[] = { 0, 1, 1, 0, 0, 1, 1, 0, 0, 1 };
		const int y[] = { 1, 1, 0, 0, 1 };
		is_double(bbt_metric_f1(l, 5, 2, y, 1), 4.0 / 6.0, TOL, "F1 tp=2 fp=1 fn=1");
		is_double(bbt_loss_eval(BBT_LOSS_PERF, BBT_METRIC_F1, 1, l, 5, 2, y), -4.0 / 6.0, TOL,
		          "perf with f1 is -F1");
		/* Nothing positive in gold or predictions: 0, not 0/0. */
		const float neg[] = { 1, 0, 1, 0 };
		const int y00[] = { 0, 0 }, y11[] = { 1, 1 };
		double f = bbt_metric_f1(neg, 2, 2, y00, 1);
		ok(f == 0.0, "F1 with no positives at all is 0 (not NaN)");
		is_double(bbt_metric_f1(neg, 2, 2, y11, 1), 0.0, TOL, "F1 with no predicted positive is 0");
		const float pos[] = { 0, 1, 0, 1 };
		is_double(bbt_metric_f1(pos, 2, 2, y00, 1), 0.0, TOL, "F1 with no gold positive is 0");
		is_double(bbt_metric_f1(pos, 2, 2, y11, 1), 1.0, TOL, "F1 perfect is 1");
		/* A tie [0.5, 0.5] predicts 0, so a positive there is a miss. */
		const float tie[] = { 0.5f, 0.5f, 0, 1 };
		const int yt[] = { 1, 1 };
		is_double(bbt_metric_f1(tie, 2, 2, yt, 1), 2.0 / 3.0, TOL, "F1: a tie predicts label 0");
	}

	/* --- binary F1 of a positive class at label 0 (the same data as above):
	 * label 0: tp 1, fp 1, fn 1 -> 2/4; not label 1's 4/6. */
	{
		const float l[] = { 0, 1, 1, 0, 0, 1, 1, 0, 0, 1 };
		const int y[] = { 1, 1, 0, 0, 1 };
		is_double(bbt_metric_f1(l, 5, 2, y, 0), 0.5, TOL, "F1 of a positive class at label 0");
		is_double(bbt_metric_eval(BBT_METRIC_F1, 0, l, 5, 2, y), 0.5, TOL,
		          "metric_eval f1 takes the positive class");
		is_double(bbt_loss_eval(BBT_LOSS_PERF, BBT_METRIC_F1, 0, l, 5, 2, y), -0.5, TOL,
		          "perf with f1 is minus the positive class's F1");
	}

	/* --- macro-F1, 3 labels ---
	 * gold 0 0 1 1 2 2, predicted 0 1 1 1 2 0:
	 *   label 0: tp 1, fp 1, fn 1 -> 2/4
	 *   label 1: tp 2, fp 1, fn 0 -> 4/5
	 *   label 2: tp 1, fp 0, fn 1 -> 2/3
	 *   mean = (1/2 + 4/5 + 2/3) / 3 = 59/90 */
	{
		const float l[] = { 1, 0, 0,  0, 1, 0,  0, 1, 0,  0, 1, 0,  0, 0, 1,  1, 0, 0 };
		const int y[] = { 0, 0, 1, 1, 2, 2 };
		is_double(bbt_metric_macro_f1(l, 6, 3, y), 59.0 / 90.0, TOL, "macro-F1 3 labels");
		/* Three labels have no positive class: the F1 reported is the macro-F1,
		 * not label 1's 4/5. */
		is_double(bbt_metric_f1(l, 6, 3, y, BBT_NO_POSITIVE), 59.0 / 90.0, TOL,
		          "F1 of 3 labels without a positive class is the macro-F1");
		is_double(bbt_loss_eval(BBT_LOSS_PERF, BBT_METRIC_MACRO_F1, BBT_NO_POSITIVE, l, 6, 3, y),
		          -59.0 / 90.0, TOL, "perf with macro_f1");
		/* A label absent from gold and predictions counts 0. */
		const float p[] = { 1, 0, 0, 0, 1, 0 };
		const int yp[] = { 0, 1 };
		is_double(bbt_metric_macro_f1(p, 2, 3, yp), 2.0 / 3.0, TOL,
		          "macro-F1 averages over every label, absent ones as 0");
		is_double(bbt_metric_accuracy(l, 6, 3, y), 4.0 / 6.0, TOL, "accuracy 3 labels");
	}

	/* --- four labels (AG News): gold 0 1 2 3 0 1 2 3, predicted
	 * 0 1 2 0 0 2 2 3: F1 4/5, 2/3, 4/5, 2/3, macro 11/15; label 1's
	 * ("Sports") 2/3 is not the task's F1. */
	{
		const float l[] = { 1, 0, 0, 0,  0, 1, 0, 0,  0, 0, 1, 0,  1, 0, 0, 0,
		                    1, 0, 0, 0,  0, 0, 1, 0,  0, 0, 1, 0,  0, 0, 0, 1 };
		const int y[] = { 0, 1, 2, 3, 0, 1, 2, 3 };
		is_double(bbt_metric_macro_f1(l, 8, 4, y), 11.0 / 15.0, TOL, "macro-F1 4 labels");
		is_double(bbt_metric_f1(l, 8, 4, y, BBT_NO_POSITIVE), 11.0 / 15.0, TOL,
		          "F1 of 4 labels without a positive class is the macro-F1");
	}

	/* --- dispatch and degenerate input --- */
	{
		const float l[] = { 1, 2, 0.5f, 0, 0, 3 };
		const int y[] = { 0, 2 };
		is_double(bbt_loss_eval(BBT_LOSS_CE, BBT_METRIC_ACC, BBT_NO_POSITIVE, l, 2, 3, y),
		          bbt_loss_ce(l, 2, 3, y), 0.0, "loss_eval ce");
		is_double(bbt_loss_eval(BBT_LOSS_HINGE, BBT_METRIC_ACC, BBT_NO_POSITIVE, l, 2, 3, y),
		          bbt_loss_hinge(l, 2, 3, y), 0.0, "loss_eval hinge");
		ok(isnan(bbt_loss_eval(0, BBT_METRIC_ACC, BBT_NO_POSITIVE, l, 2, 3, y)), "unknown loss is NaN");
		const int bad[] = { 0, 3 };
		ok(isnan(bbt_loss_ce(l, 2, 3, bad)) && isnan(bbt_loss_hinge(l, 2, 3, bad)),
		   "a label out of range makes the loss NaN");
		is_double(bbt_loss_ce(l, 0, 3, y), 0.0, 0.0, "no examples: loss 0");
	}

	/* --- gradients with respect to the logits ---
	 * Against central differences in double: logits and steps are
	 * multiples of 2^-10, so every perturbed float is exact and the only
	 * error is the O(h^2) of the difference (~1e-7 here). Hinge is checked
	 * away from its kinks (no term within 2h of the margin). */
	{
		float l[] = { 0.5f, -1.25f, 2.0f, 0.75f, 0.25f, -0.5f };
		const int y[] = { 2, 0 };
		float g[6];
		const double h = 1.0 / 1024;
		enum bbt_loss which[2] = { BBT_LOSS_CE, BBT_LOSS_HINGE };
		for (int w = 0; w < 2; w++) {
			int rc = bbt_loss_grad(which[w], l, 2, 3, y, g);
			double worst = 0;
			for (size_t k = 0; k < 6; k++) {
				float keep = l[k];
				l[k] = (float)(keep + h);
				double up = bbt_loss_eval(which[w], BBT_METRIC_ACC, BBT_NO_POSITIVE, l, 2, 3, y);
				l[k] = (float)(keep - h);
				double down = bbt_loss_eval(which[w], BBT_METRIC_ACC, BBT_NO_POSITIVE, l, 2, 3, y);
				l[k] = keep;
				double fd = (up - down) / (2 * h), e = fabs(fd - g[k]);
				worst = e > worst ? e : worst;
			}
			ok(rc == BBT_OK && worst < 1e-5, "%s gradient = central differences (worst %.2g)",
			   bbt_loss_name(which[w]), worst);
		}
		bbt_loss_grad(BBT_LOSS_CE, l, 2, 3, y, g);
		ok(fabs(g[0] + g[1] + g[2]) < 1e-7 && g[2] < 0 && g[0] > 0,
		   "ce gradient: a row sums to 0, negative on the gold label");
		bbt_loss_grad(BBT_LOSS_HINGE, l, 2, 3, y, g);
		/* row 1, gold 0: 0.25-0.75+2 > 0 and -0.5-0.75+2 > 0: both violate */
		is_double(g[3], -1.0, 1e-7, "hinge: -1/n per violation on the gold label");
		is_double(g[4], 0.5, 1e-7, "hinge: +1/n on a violating label");
		ok(bbt_loss_grad(BBT_LOSS_PERF, l, 2, 3, y, g) == BBT_ENOTSUP,
		   "perf has no gradient (piecewise constant)");
		const int bad[] = { 0, 3 };
		ok(bbt_loss_grad(BBT_LOSS_CE, l, 2, 3, bad, g) == BBT_EINVAL,
		   "a label out of range is refused");
	}

	return done_testing();
}
