/*
 * prompt_file.h - a tuned continuous prompt on disk: the run's product.
 *
 * prompt.safetensors (safetensors.h's layout, readable by numpy alone):
 *
 *     "z"       F64 [d]          the optimizer's point, bit for bit
 *     "prompt"  F32 [P, hidden]  p = A z, the vectors the model receives
 *     "__metadata__"             strings: format "bbtbench-prompt", version,
 *                                run_id, task, template, label_words (JSON),
 *                                projection (normal|uniform), projection_seed,
 *                                projection_std, alpha, sigma, d, prompt_len,
 *                                prompt_layers, hidden, vocab_size, model_arch,
 *                                embed_std, best_dev_call, dev_metric
 *
 * A deep (BBTv2) prompt of L layers stacks them, layer l at index l:
 *
 *     "z"       F64 [L, d]             z_l, each layer's point
 *     "prompt"  F32 [L, P, hidden]     p_l = A_l z_l, added entering layer l
 *     "__metadata__"                   as above (projection_seed and
 *                                      projection_std are layer 0's), with
 *                                      prompt_layers L, schedule, and JSON
 *                                      arrays of L numbers: layer_seeds,
 *                                      layer_stds (A_l's), layer_sigma_hats
 *
 * A is regenerated from (projection, projection_seed, projection_std) exactly
 * as the run drew it (a deep prompt's A_l from layer_seeds and the saved
 * sigma-hats), so z alone rebuilds the prompt; "prompt" is there for other
 * tools and as a check.
 *
 * prompts.tsv, the trajectory: one row per dev evaluation of a new
 * best-so-far point: call, dev_metric, then its d coordinates (%.17g; a
 * deep prompt's L x d, layer 0's first).
 *
 *     bbt_prompt_file_save(&plan, &setup, z, dev, call, run_dir, sha, err, n);
 *     struct bbt_prompt_file pf;
 *     bbt_prompt_file_read("RUN/prompt.safetensors", &pf, err, n);
 *     ... pf.z, pf.d, bbt_prompt_file_meta(&pf, "task") ...
 *     bbt_prompt_file_release(&pf);
 */
#ifndef BBT_PROMPT_FILE_H
#define BBT_PROMPT_FILE_H

#include <stddef.h>
#include <jansson.h>
#include "run/plan.h"
#include "run/setup.h"

#define BBT_PROMPT_FILE_NAME "prompt.safetensors"
#define BBT_PROMPT_TRAIL_NAME "prompts.tsv"
#define BBT_PROMPT_FILE_FORMAT "bbtbench-prompt"

/* A prompt read back. */
struct bbt_prompt_file {
	double *z;            /* layers x d values */
	size_t d, layers;     /* layers: 1, or a deep prompt's L */
	float *prompt;        /* layers x P x hidden values */
	size_t prompt_len, hidden;
	json_t *meta;         /* the metadata (string values) */
};

/* Write run_dir/prompt.safetensors for the run's best-on-dev point z
 * (layers x d values) and its sha256 (64 hex digits) into sha. */
int bbt_prompt_file_save(const struct bbt_plan *p, const struct bbt_setup *s, const double *z,
                         double dev_metric, size_t dev_call, const char *run_dir,
                         char sha[65], char *err, size_t errlen);

/* Read and check a prompt file: BBT_EIO when it cannot be read, BBT_EFORMAT
 * naming the file and what was expected (a truncated file, a missing
 * tensor, not a bbtbench prompt). pf is always left releasable. */
int bbt_prompt_file_read(const char *path, struct bbt_prompt_file *pf, char *err,
                         size_t errlen);
void bbt_prompt_file_release(struct bbt_prompt_file *pf);

/* A metadata value, or "" when absent. */
const char *bbt_prompt_file_meta(const struct bbt_prompt_file *pf, const char *key);

/* A deep prompt's per-layer metadata array `key` (layer_sigma_hats, ...):
 * its pf->layers numbers into out. BBT_EFORMAT naming the file (path) and
 * the key when it is not a JSON array of that many numbers. */
int bbt_prompt_file_layer_values(const struct bbt_prompt_file *pf, const char *path,
                                 const char *key, double *out, char *err, size_t errlen);

/* prompts.tsv's header (d coordinates) and one row, appended to f. */
void bbt_prompt_trail_header(FILE *f, size_t d);
void bbt_prompt_trail_row(FILE *f, size_t call, double dev_metric, const double *z, size_t d);

#endif /* BBT_PROMPT_FILE_H */
