/*
 * setup.h - a run's second stage: everything a run reads, loaded and
 * checked before its results folder is touched.
 *
 *     struct bbt_setup s = { 0 };
 *     bbt_setup_resolve(&s, &plan, reg, err, n);   task, template, plugins (cheap)
 *     bbt_plan_run_id(&plan, ...);                  the caller: a finished run stops here
 *     bbt_setup_open(&s, &plan, err, n);            splits, backend, vocabulary, label
 *                                                   ids, encodings, demonstrations,
 *                                                   projection
 *     ... scorers, loop, results read s ...
 *     bbt_setup_release(&s);
 *
 * Immutable after bbt_setup_open: no later stage writes a field of a
 * setup. The backend's state (be.state) changes only inside the backend's
 * own calls; the optimizer's entry and options are here, its state is the
 * loop's (one run may one day hold an optimizer per layer).
 */
#ifndef BBT_SETUP_H
#define BBT_SETUP_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/backend.h>
#include "data/dataset.h"
#include "data/task.h"
#include "data/template.h"
#include "data/vocab.h"
#include "plugin/options.h"
#include "plugin/registry.h"
#include "plugin/services.h"
#include "run/baseline.h"
#include "run/plan.h"
#include "run/subspace.h"

enum bbt_run_split { BBT_RUN_TRAIN = 0, BBT_RUN_DEV = 1, BBT_RUN_TEST = 2, BBT_RUN_N_SPLITS = 3 };

/* "train", "dev", "test". */
const char *bbt_run_split_name(enum bbt_run_split s);

/* A selected plugin with its options and host services. */
struct bbt_plugin_use {
	const struct bbt_plugin_entry *entry;   /* NULL: not used (a baseline's optimizer) */
	bbt_kvlist_t given;                     /* its options as given */
	bbt_options_t *opts;                    /* resolved against its table */
	bbt_hostsvc_t *svc;                     /* its logging, RNG and options */
	void *state;                            /* the backend's, once opened; else NULL */
};

struct bbt_setup {
	bbt_task_t *task;
	bbt_template_t *tmpl;
	struct bbt_plugin_use opt, be;
	struct bbt_splits splits;
	struct bbt_model_info info;             /* the backend's model */
	size_t L;                               /* labels */
	int32_t *label_ids;                     /* L token ids of the label words */
	bbt_vocab_t *vocab;                     /* a discrete prompt's candidates, or NULL */
	size_t prompt_room;                     /* positions reserved for the prompt */
	struct bbt_icl icl;                     /* --method icl: the demonstrations */
	bbt_encoded_t *enc[BBT_RUN_N_SPLITS];   /* the splits rendered and tokenized */
	bbt_subspace_t *sub;                    /* continuous prompt: z -> p = A z + p0 */
	size_t d;                               /* the optimizer's dimension: d, or L positions */
	size_t D;                               /* a continuous prompt's values layers x P x
	                                           hidden; else 0 */
	size_t layers;                          /* prompt layers: 1, or the model's (deep) */
	bbt_subspace_t **subs;                  /* deep: layer l's A_l (sub stays NULL) */
	double *layer_sigma_hat, *layer_std;    /* deep: each layer's sigma-hat and A_l's std */
};

/* Find and load the task and its template, find the plugins and resolve
 * their options, and bind the plan to the optimizer (its prompt kind).
 * Errors name the setting's origin. */
int bbt_setup_resolve(struct bbt_setup *s, struct bbt_plan *p, bbt_registry_t *reg, char *err,
                      size_t errlen);

/* Load the splits, open the backend, build a discrete prompt's candidates,
 * the label ids, the encodings (and demonstrations), the projection. */
int bbt_setup_open(struct bbt_setup *s, const struct bbt_plan *p, char *err, size_t errlen);

/* The projection's std by BBT's rule, alpha * embed_std / (sqrt(d) *
 * sigma): A's in a BBT run, layer 0's in a deep one. What result.json,
 * prompt.safetensors and --init-prompt name the projection by. */
double bbt_setup_projection_std(const struct bbt_setup *s, const struct bbt_plan *p);

/* Render and tokenize another data set exactly as the splits were (the
 * calibration's content-free inputs; any split of a saved prompt). */
int bbt_setup_encode(const struct bbt_setup *s, const struct bbt_plan *p,
                     const bbt_dataset_t *ds, bbt_encoded_t **out, char *err, size_t errlen);

/* Close the backend and release everything; a zeroed setup is a no-op. */
void bbt_setup_release(struct bbt_setup *s);

#endif /* BBT_SETUP_H */
