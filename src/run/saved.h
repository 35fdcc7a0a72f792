/*
 * saved.h - a finished run's prompt, loaded to be used again: the run's
 * settings (config.ini), its result.json, its saved prompt (continuous:
 * prompt.safetensors, checked against result.json's sha256; discrete: the
 * indices in result.json), and a setup rebuilt from them, so that the
 * prompt is scored with the same template, label words, projection and
 * metrics (bbtbench eval, bbtbench predict, --init-prompt).
 *
 *     struct bbt_saved_params sp = bbt_saved_default_params();
 *     sp.task = "sst2";                      optional overrides
 *     struct bbt_saved sv;
 *     bbt_saved_open(&sv, "results/toy/RUN", &sp, reg, err, n);
 *     struct bbt_prompt pr = bbt_saved_prompt(&sv);
 *     bbt_score_eval(sv.sc, BBT_RUN_TEST, &pr, &ev, err, n);
 *     bbt_saved_release(&sv);
 *
 * Errors are one line naming the file and what was expected: a folder
 * without a prompt, a tampered prompt file, a model whose hidden size or
 * vocabulary differs from the run's (both named).
 */
#ifndef BBT_SAVED_H
#define BBT_SAVED_H

#include <stddef.h>
#include <jansson.h>
#include "plugin/registry.h"
#include "run/budget.h"
#include "run/plan.h"
#include "run/prompt_file.h"
#include "run/runconfig.h"
#include "run/score.h"
#include "run/setup.h"

struct bbt_saved_params {
	const char *task;       /* another task (its template and label words); NULL: the run's */
	const char *data_dir;   /* NULL: the run's */
	const char *backend;    /* NULL: the run's; another drops the run's backend options */
	const char *model;      /* NULL: the run's */
	int open_setup;         /* 0: only read the files (the run's settings, its prompt) */
};

struct bbt_saved_params bbt_saved_default_params(void);

struct bbt_saved {
	char *run_dir;
	char *run_id;               /* result.json's */
	json_t *result;             /* result.json */
	struct bbt_config cfg;      /* config.ini, with the overrides */
	struct bbt_plan plan;
	struct bbt_setup setup;     /* opened when params.open_setup */
	struct bbt_budget budget;   /* unlimited: counts what eval scores */
	bbt_score_t *sc;
	enum bbt_prompt_kind kind;
	double *z;                  /* layers x d values: continuous z, or discrete indices */
	size_t d, layers;           /* layers: 1, or a deep prompt's */
	double *layer_sigma_hat;    /* deep: the run's sigma-hats, for the projections */
	char sha256[65];            /* the prompt file's; "" for a discrete prompt */
	struct bbt_prompt_file pf;  /* continuous: the file */
};

/* 0, or an error (sv is always releasable). */
int bbt_saved_open(struct bbt_saved *sv, const char *run_dir, const struct bbt_saved_params *sp,
                   bbt_registry_t *reg, char *err, size_t errlen);
void bbt_saved_release(struct bbt_saved *sv);

/* The saved prompt, for the scorers. */
struct bbt_prompt bbt_saved_prompt(const struct bbt_saved *sv);

/* The examples `bbtbench eval --split` scores: "dev" or "test", the run's
 * own (borrowed from the setup), or a data file in the task's test (else
 * dev, else train) format (*own, to bbt_encoded_free); *data says where
 * they came from (a path, or the split's source). */
int bbt_saved_split(const struct bbt_saved *sv, const char *split, const bbt_encoded_t **enc,
                    bbt_encoded_t **own, const char **data, char *err, size_t errlen);

/* The name of what eval writes beside the run for split: PREFIX, another
 * task's name and '-' when the task is not the run's, "file-" and the
 * file's base name for a data file, else the split; then EXT (".json").
 * Anything but letters, digits, '.', '_', '-' after PREFIX becomes '_'.
 * malloc'ed; NULL when out of memory. */
char *bbt_saved_output_name(const struct bbt_saved *sv, const char *split, const char *prefix,
                            const char *ext);

#endif /* BBT_SAVED_H */
