/*
 * calibrate.h - label-bias corrections of label-word logits.
 *
 * Much of a prompt's error is a bias toward some label words (Zhao et al.,
 * "Calibrate Before Use", ICML 2021): a corrected score removes it before
 * the arg-max. Both corrections here add one offset per label to the
 * logits, l'_j = l_j + b_j, so they apply to any prompt's scores:
 *
 *   contextual  b_j = -log p_cf(j), p_cf the label-word probabilities
 *               (softmax over the label logits) of content-free inputs
 *               ("N/A", "", "[MASK]"), averaged: Zhao et al.'s diagonal
 *               W = diag(p_cf)^-1 applied to the probabilities
 *   fitted      b minimising the cross-entropy of l + b on labelled
 *               examples (the train shots): a convex problem, solved by
 *               Newton's method; b is shifted to sum to 0 (only the
 *               differences matter)
 *
 *     double b[L];
 *     bbt_calibrate_contextual(cf_logits, 3, L, b);
 *     bbt_calibrate_apply(logits, n, L, b, out);
 */
#ifndef BBT_CALIBRATE_H
#define BBT_CALIBRATE_H

#include <stddef.h>

/* Offsets from n_cf content-free inputs' logits ([n_cf][L] floats). */
void bbt_calibrate_contextual(const float *cf_logits, size_t n_cf, size_t n_labels, double *b);

/* Offsets minimising the mean cross-entropy of logits + b over n labelled
 * examples. Returns the number of Newton iterations, or -1 if it did not
 * converge (b then holds the last iterate, still an improvement). */
int bbt_calibrate_fit(const float *logits, size_t n, size_t n_labels, const int *labels,
                      double *b);

/* out = logits + b, row by row ([n][L]); out may equal logits. */
void bbt_calibrate_apply(const float *logits, size_t n, size_t n_labels, const double *b,
                         float *out);

#endif /* BBT_CALIBRATE_H */
