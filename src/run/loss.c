/*
 * loss.c - losses and metrics on label-word logits.
 *
 * Sums are kept in double although the logits are float: a loss is
 * compared across candidates by the optimizer, and float accumulation over
 * a few hundred examples would add noise of the order of the differences
 * CMA-ES has to see late in a run.
 *
 * Conventions for degenerate input, so that no caller has to guess:
 *   n == 0               every loss and metric is 0 (nothing was wrong)
 *   a label outside      the losses return NaN (the host validates labels
 *   0 .. n_labels-1      when it builds a batch, so this is a bug upstream,
 *                        and NaN makes it visible instead of plausible);
 *                        metrics count such an example as mispredicted
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/status.h>

#include "run/loss.h"

/* A name of an enum value; each enum's table ends in { 0, NULL }. Enum
 * values start at 1, so 0 is free to mean "no such name". */
struct enum_name {
	int value;
	const char *name;
};

static const struct enum_name loss_names[] = {
	{ BBT_LOSS_CE, "ce" },
	{ BBT_LOSS_HINGE, "hinge" },
	{ BBT_LOSS_PERF, "perf" },
	{ 0, NULL },
};

static const struct enum_name metric_names[] = {
	{ BBT_METRIC_ACC, "acc" },
	{ BBT_METRIC_F1, "f1" },
	{ BBT_METRIC_MACRO_F1, "macro_f1" },
	{ 0, NULL },
};

static int value_of(const struct enum_name *table, const char *name)
{
	if (name == NULL)
		return 0;
	for (; table->name != NULL; table++)
		if (strcmp(name, table->name) == 0)
			return table->value;
	return 0;
}

static const char *name_of(const struct enum_name *table, int value)
{
	for (; table->name != NULL; table++)
		if (table->value == value)
			return table->name;
	return "unknown";
}

enum bbt_loss bbt_loss_parse(const char *name)
{
	return (enum bbt_loss)value_of(loss_names, name);
}

const char *bbt_loss_name(enum bbt_loss loss)
{
	return name_of(loss_names, (int)loss);
}

enum bbt_metric bbt_metric_parse(const char *name)
{
	return (enum bbt_metric)value_of(metric_names, name);
}

const char *bbt_metric_name(enum bbt_metric metric)
{
	return name_of(metric_names, (int)metric);
}

static int label_ok(int y, size_t n_labels)
{
	return y >= 0 && (size_t)y < n_labels;
}

int bbt_predict(const float *row, size_t n_labels)
{
	/* Strict ">" keeps the lowest index on ties, as numpy's argmax does. */
	size_t best = 0;
	for (size_t j = 1; j < n_labels; j++)
		if (row[j] > row[best])
			best = j;
	return (int)best;
}

/* sum_j exp(row_j - m) with m the row's maximum (set in *max): the
 * log-sum-exp is m + log(sum). Around the maximum, exp() of logits like 1000
 * cannot overflow, nor -1000 underflow to log(0). */
static double softmax_sum(const float *row, size_t n_labels, double *max)
{
	double m = row[0], s = 0.0;
	for (size_t j = 1; j < n_labels; j++)
		if (row[j] > m)
			m = row[j];
	for (size_t j = 0; j < n_labels; j++)
		s += exp((double)row[j] - m);
	*max = m;
	return s;
}

double bbt_loss_ce(const float *logits, size_t n, size_t n_labels, const int *labels)
{
	if (n == 0)
		return 0.0;
	double total = 0.0;
	for (size_t i = 0; i < n; i++) {
		const float *row = logits + i * n_labels;
		int y = labels[i];
		if (!label_ok(y, n_labels))
			return NAN;
		double m, s = softmax_sum(row, n_labels, &m);
		total += m + log(s) - (double)row[y];
	}
	return total / (double)n;
}

double bbt_loss_hinge(const float *logits, size_t n, size_t n_labels, const int *labels)
{
	if (n == 0)
		return 0.0;
	double total = 0.0;
	for (size_t i = 0; i < n; i++) {
		const float *row = logits + i * n_labels;
		int y = labels[i];
		if (!label_ok(y, n_labels))
			return NAN;
		for (size_t j = 0; j < n_labels; j++) {
			if ((int)j == y)
				continue;
			double v = (double)row[j] - (double)row[y] + BBT_HINGE_MARGIN;
			if (v > 0.0)
				total += v;
		}
	}
	return total / (double)n;
}

int bbt_loss_grad(enum bbt_loss loss, const float *logits, size_t n, size_t n_labels,
                  const int *labels, float *dlogits)
{
	if (loss != BBT_LOSS_CE && loss != BBT_LOSS_HINGE)
		return BBT_ENOTSUP;
	double inv_n = n ? 1.0 / (double)n : 0.0;
	for (size_t i = 0; i < n; i++) {
		const float *row = logits + i * n_labels;
		float *drow = dlogits + i * n_labels;
		int y = labels[i];
		if (!label_ok(y, n_labels))
			return BBT_EINVAL;
		if (loss == BBT_LOSS_CE) {
			double m, s = softmax_sum(row, n_labels, &m);
			for (size_t j = 0; j < n_labels; j++)
				drow[j] = (float)((exp((double)row[j] - m) / s - ((int)j == y)) * inv_n);
			continue;
		}
		double gold = 0.0;
		for (size_t j = 0; j < n_labels; j++) {
			double v = (double)row[j] - (double)row[y] + BBT_HINGE_MARGIN;
			int active = (int)j != y && v > 0.0;
			drow[j] = active ? (float)inv_n : 0.0f;
			gold -= active ? inv_n : 0.0;
		}
		drow[y] = (float)gold;
	}
	return BBT_OK;
}

double bbt_metric_accuracy(const float *logits, size_t n, size_t n_labels, const int *labels)
{
	if (n == 0)
		return 0.0;
	size_t correct = 0;
	for (size_t i = 0; i < n; i++)
		correct += bbt_predict(logits + i * n_labels, n_labels) == labels[i];
	return (double)correct / (double)n;
}

/* One-vs-rest F1 of label c: 2tp / (2tp + fp + fn), 0 without a true
 * positive (sklearn's zero_division=0, which also covers 0/0). */
static double f1_of(const float *logits, size_t n, size_t n_labels, const int *labels, int c)
{
	size_t tp = 0, fp = 0, fn = 0;
	for (size_t i = 0; i < n; i++) {
		int pred = bbt_predict(logits + i * n_labels, n_labels);
		int gold = labels[i];
		if (pred == c && gold == c)
			tp++;
		else if (pred == c)
			fp++;
		else if (gold == c)
			fn++;
	}
	if (tp == 0)
		return 0.0;
	return 2.0 * (double)tp / (double)(2 * tp + fp + fn);
}

double bbt_metric_macro_f1(const float *logits, size_t n, size_t n_labels, const int *labels)
{
	/* Over all n_labels labels, also those absent from gold and
	 * predictions (they count 0): a few-shot batch that happens to lack
	 * a class must not make the metric look better. */
	if (n == 0 || n_labels == 0)
		return 0.0;
	double s = 0.0;
	for (size_t c = 0; c < n_labels; c++)
		s += f1_of(logits, n, n_labels, labels, (int)c);
	return s / (double)n_labels;
}

double bbt_metric_f1(const float *logits, size_t n, size_t n_labels, const int *labels,
                     int positive)
{
	if (positive == BBT_NO_POSITIVE)
		return bbt_metric_macro_f1(logits, n, n_labels, labels);
	return f1_of(logits, n, n_labels, labels, positive);
}

double bbt_metric_eval(enum bbt_metric metric, int positive, const float *logits, size_t n,
                       size_t n_labels, const int *labels)
{
	switch (metric) {
	case BBT_METRIC_ACC: return bbt_metric_accuracy(logits, n, n_labels, labels);
	case BBT_METRIC_F1: return bbt_metric_f1(logits, n, n_labels, labels, positive);
	case BBT_METRIC_MACRO_F1: return bbt_metric_macro_f1(logits, n, n_labels, labels);
	}
	return NAN;
}

double bbt_loss_eval(enum bbt_loss loss, enum bbt_metric metric, int positive,
                     const float *logits, size_t n, size_t n_labels,
                     const int *labels)
{
	switch (loss) {
	case BBT_LOSS_CE: return bbt_loss_ce(logits, n, n_labels, labels);
	case BBT_LOSS_HINGE: return bbt_loss_hinge(logits, n, n_labels, labels);
	case BBT_LOSS_PERF: return -bbt_metric_eval(metric, positive, logits, n, n_labels, labels);
	}
	return NAN;
}
