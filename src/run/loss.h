/*
 * loss.h - losses and metrics on label-word logits.
 *
 * Input everywhere: logits of n examples over L labels, row-major float
 * [n][L] (one prompt variant of a backend's output), and the gold label
 * index of each example (0 .. L-1).
 *
 *   ce     mean over examples of -log softmax(logits)_y (log-sum-exp stable)
 *   hinge  mean over examples of sum_{j != y} max(0, l_j - l_y + margin),
 *          margin BBT_HINGE_MARGIN (= 2, as in BBT)
 *   perf   minus the task metric (-accuracy, -F1 or -macro-F1), so that
 *          every loss is minimised
 *
 * Metrics (prediction = arg-max logit, the lowest index on ties):
 *   acc       fraction correct
 *   f1        the F1 a task reports: that of its positive class (the label
 *             index `positive`, as the task declares it: MRPC's
 *             "equivalent"), or with BBT_NO_POSITIVE (three or more labels,
 *             or a binary task that declares none) the macro-F1; a label's
 *             F1 is 0 when it has no true positive
 *   macro_f1  unweighted mean over labels of each label's one-vs-rest F1
 *
 * Results are fractions in [0, 1]; the host prints percentages.
 */
#ifndef BBT_LOSS_H
#define BBT_LOSS_H

#include <stddef.h>

#define BBT_HINGE_MARGIN 2.0
/* `positive` of a task that has no positive class: its F1 is the macro-F1. */
#define BBT_NO_POSITIVE (-1)

enum bbt_loss {
	BBT_LOSS_CE = 1,
	BBT_LOSS_HINGE = 2,
	BBT_LOSS_PERF = 3,
};

enum bbt_metric {
	BBT_METRIC_ACC = 1,
	BBT_METRIC_F1 = 2,
	BBT_METRIC_MACRO_F1 = 3,
};

/* Name <-> value ("ce", "hinge", "perf"; "acc", "f1", "macro_f1").
 * _parse returns 0 (unknown name) or the enum value. */
enum bbt_loss bbt_loss_parse(const char *name);
const char *bbt_loss_name(enum bbt_loss loss);
enum bbt_metric bbt_metric_parse(const char *name);
const char *bbt_metric_name(enum bbt_metric metric);

/* The loss of one variant's logits; `metric` (and `positive`, for f1) is
 * used by perf only. */
double bbt_loss_eval(enum bbt_loss loss, enum bbt_metric metric, int positive,
                     const float *logits, size_t n, size_t n_labels,
                     const int *labels);

double bbt_loss_ce(const float *logits, size_t n, size_t n_labels, const int *labels);
double bbt_loss_hinge(const float *logits, size_t n, size_t n_labels, const int *labels);

/* d loss / d logits of one variant, [n][L] like the logits: ce gives
 * (softmax - onehot) / n, hinge the sub-gradient (+1/n on each violating
 * label, -1/n per violation on the gold one; 0 at the kink). perf is
 * piecewise constant: BBT_ENOTSUP. A label outside 0..L-1: BBT_EINVAL. */
int bbt_loss_grad(enum bbt_loss loss, const float *logits, size_t n, size_t n_labels,
                  const int *labels, float *dlogits);

/* The task metric of one variant's logits; `positive` as for f1. */
double bbt_metric_eval(enum bbt_metric metric, int positive, const float *logits, size_t n,
                       size_t n_labels, const int *labels);

double bbt_metric_accuracy(const float *logits, size_t n, size_t n_labels, const int *labels);
double bbt_metric_f1(const float *logits, size_t n, size_t n_labels, const int *labels,
                     int positive);
double bbt_metric_macro_f1(const float *logits, size_t n, size_t n_labels, const int *labels);

/* Arg-max of one row of L logits (lowest index on ties). */
int bbt_predict(const float *row, size_t n_labels);

#endif /* BBT_LOSS_H */
