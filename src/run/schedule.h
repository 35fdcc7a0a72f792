/*
 * schedule.h - deep prompts (BBTv2, Sun et al. 2022): one prompt per
 * layer, each with its own subspace and optimizer, tuned in turn.
 *
 * A deep run's point is the L layers' subspace coordinates one after
 * another, z = (z_0, ..., z_{L-1}), L x d values; the backend receives
 * p_l = A_l z_l for every layer, [L][P][H]. A_0 is BBT's projection
 * (std alpha sigma_hat / (sqrt(d) sigma0), sigma_hat the word embeddings'
 * std, the projection seed); A_l, l >= 1, has its own seed (derived from
 * the projection seed) and takes sigma_hat_l from the hidden states
 * entering layer l over the training batch (under the all-zero prompt),
 * after BBT_CLIP_ROUNDS rounds of clipping to mean +- 3 std.
 *
 * The layerwise schedule: rounds = budget / (popsize L); in each round,
 * layer 0, 1, ..., L-1 in turn asks one generation, scored with every
 * other layer at its optimizer's best point so far (pycma's xbest, kept by
 * the loop), and told. Every candidate is one API call.
 *
 * The joint schedule: one optimizer over z = (z_0, ..., z_{L-1}) whole
 * (L x d coordinates, each layer still through its own A_l); every
 * candidate moves every layer and is one API call; no rounds. It is the
 * natural schedule of a white-box optimizer, whose one backward pass (one
 * call) gives every layer's gradient g_{z_l} = A_l^T g_{p_l}; under the
 * layerwise schedule a white-box step uses its layer's part of it only.
 *
 *     bbt_deep_check(&plan, opt, be, err, n)       before anything is opened
 *     bbt_deep_subspaces(&plan, &setup, err, n)    after the backend is open
 *     bbt_prompt_project(&setup, z, nv, prompts)   deep or not
 *     bbt_schedule_rounds(budget, popsize, L), bbt_schedule_layer(step, L)
 */
#ifndef BBT_SCHEDULE_H
#define BBT_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <bbtbench/plugin.h>

struct bbt_plan;
struct bbt_setup;

enum bbt_schedule {
	BBT_SCHEDULE_LAYERWISE = 1,   /* BBTv2: one generation per layer, bottom to top */
	BBT_SCHEDULE_JOINT,           /* one optimizer over every layer's z at once */
};

/* Rounds of clipping before a layer's hidden-state std is taken. */
#define BBT_CLIP_ROUNDS 5

/* 0 for an unknown name; the name of a schedule. */
enum bbt_schedule bbt_schedule_parse(const char *name);
const char *bbt_schedule_name(enum bbt_schedule s);

/* Mean and std (population, as numpy's) of x[0..n) after `rounds` rounds
 * of keeping only the values within mean +- 3 std of the values kept so
 * far. *kept: how many remain (may be NULL). */
void bbt_clipped_stats(const float *x, size_t n, int rounds, double *mean, double *std,
                       size_t *kept);

/* Rounds of the layerwise schedule: budget / (batch layers). */
size_t bbt_schedule_rounds(size_t budget, size_t batch, size_t layers);
/* The layer tuned by the 0-based step (generation). */
size_t bbt_schedule_layer(size_t step, size_t layers);

/* A deep run's plugins can do it: a continuous search (--grad-check under
 * the joint schedule only) and a backend with hidden states. BBT_ENOTSUP
 * with one line, or 0. */
int bbt_deep_check(const struct bbt_plan *p, const struct bbt_plugin *opt,
                   const struct bbt_plugin *be, char *err, size_t errlen);

/* Layer l's projection seed: the run's projection seed for layer 0, one
 * derived from it for the others. */
uint64_t bbt_deep_layer_seed(const struct bbt_plan *p, size_t l);

/* The L subspaces, their stds and sigma-hats, the setup's d, D and layers.
 * The backend is open and the splits encoded. The sigma-hats of layers
 * l >= 1 are measured on the training batch, or taken from
 * p->layer_sigma_hat (a saved deep prompt rebuilt as its run drew it). */
int bbt_deep_subspaces(const struct bbt_plan *p, struct bbt_setup *s, char *err,
                       size_t errlen);

/* p[v] = A z[v] for v < nv, one layer's block at a time for a deep prompt
 * (z nv x layers d, p nv x D); g_z = A^T g_p the same way. */
void bbt_prompt_project(const struct bbt_setup *s, const double *z, size_t nv, float *p);
void bbt_prompt_pullback(const struct bbt_setup *s, const float *g_p, size_t nv, double *g_z);

/* result.json's "deep" section: layers, schedule, rounds (layerwise; null
 * under joint), each layer's sigma-hat, subspace std and |z_l| of the
 * point z (layers x d), and of the prompt p_l = A_l z_l added entering
 * layer l (P x hidden values) its norm, mean and std (population). */
json_t *bbt_deep_json(const struct bbt_setup *s, enum bbt_schedule sched, size_t rounds,
                      const double *z);

#endif /* BBT_SCHEDULE_H */
