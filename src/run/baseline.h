/*
 * baseline.h - what every tuned result is compared with: the calibrated
 * prompt and in-context learning (the manual prompt needs nothing beyond
 * scoring without a prompt).
 *
 * Calibration (Zhao et al., ICML 2021) runs over any prompt's scores,
 * given a scorer that returns the label-word logits of a whole encoded
 * split under that prompt:
 *
 *   none        the raw scores
 *   contextual  offsets from the content-free inputs "N/A", "" and the
 *               model's mask token, rendered with the task's template
 *   fitted      one offset per label minimising the cross-entropy of the
 *               train shots
 *
 * The variant with the best dev metric is chosen (ties go to the simpler
 * one, in that order) and scored on test; all three are reported.
 */
#ifndef BBT_BASELINE_H
#define BBT_BASELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "data/dataset.h"
#include "run/loss.h"
#include "data/template.h"

/* Logits [n_seq][n_labels] of every sequence of `enc` under one fixed
 * prompt (or none). */
struct bbt_scorer {
	int (*score)(void *ctx, const bbt_encoded_t *enc, float *logits, char *err, size_t errlen);
	void *ctx;
};

enum bbt_calibration_variant {
	BBT_CALIBRATION_NONE = 0,
	BBT_CALIBRATION_CONTEXTUAL = 1,
	BBT_CALIBRATION_FITTED = 2,
	BBT_CALIBRATION_VARIANTS = 3,
};

struct bbt_calibration {
	size_t n_labels;
	double offsets[BBT_CALIBRATION_VARIANTS][64];  /* per variant, per label (none: 0) */
	double train_metric[BBT_CALIBRATION_VARIANTS];
	double dev_metric[BBT_CALIBRATION_VARIANTS];
	double test_metric[BBT_CALIBRATION_VARIANTS];
	double test_acc[BBT_CALIBRATION_VARIANTS];
	double test_f1[BBT_CALIBRATION_VARIANTS];
	enum bbt_calibration_variant chosen;  /* best on dev */
	size_t scorer_calls;                  /* splits scored (train, dev, test, content-free) */
};

/* The content-free inputs for a task: every field set to "N/A", to "", and
 * (when mask_text is not NULL) to the model's mask token text. */
bbt_dataset_t *bbt_content_free_dataset(size_t n_fields, const char *mask_text);

/* Score train, dev, test and the content-free inputs, compute both
 * corrections and pick one on dev; `positive` as in bbt_metric_f1. */
int bbt_calibration_run(const struct bbt_scorer *scorer, const bbt_encoded_t *train,
                        const bbt_encoded_t *dev, const bbt_encoded_t *test,
                        const bbt_encoded_t *content_free, size_t n_labels,
                        enum bbt_metric metric, int positive, struct bbt_calibration *cal,
                        char *err, size_t errlen);

const char *bbt_calibration_variant_name(enum bbt_calibration_variant v);
json_t *bbt_calibration_json(const struct bbt_calibration *cal);

/* In-context demonstrations: `per_class` train examples of each label
 * (drawn with RandomState(seed), classes interleaved in a shuffled order),
 * each rendered with its label word at the mask and followed by `sep_id`
 * (>= 0: the model's separator token, as LM-BFF joins segments), as one
 * token prefix. Demonstrations are dropped from the end until the prefix
 * leaves `room` positions for the longest query; *used and *dropped say
 * how many. `chosen` receives the train indices used (n_labels * per_class
 * entries). */
struct bbt_icl {
	int32_t *prefix;
	size_t n_prefix;
	size_t used, dropped;
	size_t *chosen;
};

int bbt_icl_build(const bbt_template_t *tmpl, const struct bbt_tokenizer *tok,
                  const bbt_dataset_t *train, size_t n_labels, const int32_t *label_ids,
                  size_t per_class, uint32_t seed, int32_t sep_id, size_t max_prefix,
                  struct bbt_icl *icl, char *err, size_t errlen);
void bbt_icl_release(struct bbt_icl *icl);

#endif /* BBT_BASELINE_H */
