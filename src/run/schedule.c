/*
 * schedule.c - deep prompts (BBTv2): per-layer subspaces, their scale from
 * the hidden states, the layerwise schedule's arithmetic.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"
#include "plugin/registry.h"
#include "run/plan.h"
#include "run/schedule.h"
#include "run/setup.h"

enum bbt_schedule bbt_schedule_parse(const char *name)
{
	return strcmp(name, "layerwise") == 0 ? BBT_SCHEDULE_LAYERWISE
	       : strcmp(name, "joint") == 0   ? BBT_SCHEDULE_JOINT
	                                      : 0;
}

const char *bbt_schedule_name(enum bbt_schedule s)
{
	return s == BBT_SCHEDULE_JOINT ? "joint" : "layerwise";
}

/* Mean and population std of the x within [lo, hi]; *n the count. */
static void stats_within(const float *x, size_t n, double lo, double hi, double *mean,
                         double *std, size_t *kept)
{
	double mu = 0, m2 = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		double v = x[i];
		if (!(v >= lo && v <= hi))
			continue;
		k++;
		double dv = v - mu;
		mu += dv / (double)k;
		m2 += dv * (v - mu);
	}
	*mean = mu;
	*std = k > 0 ? sqrt(m2 / (double)k) : 0;
	*kept = k;
}

void bbt_clipped_stats(const float *x, size_t n, int rounds, double *mean, double *std,
                       size_t *kept)
{
	size_t k;
	stats_within(x, n, -INFINITY, INFINITY, mean, std, &k);
	for (int r = 0; r < rounds; r++)
		stats_within(x, n, *mean - 3 * *std, *mean + 3 * *std, mean, std, &k);
	if (kept != NULL)
		*kept = k;
}

size_t bbt_schedule_rounds(size_t budget, size_t batch, size_t layers)
{
	return batch == 0 || layers == 0 ? 0 : budget / (batch * layers);
}

size_t bbt_schedule_layer(size_t step, size_t layers)
{
	return layers == 0 ? 0 : step % layers;
}

int bbt_deep_check(const struct bbt_plan *p, const struct bbt_plugin *opt,
                   const struct bbt_plugin *be, char *err, size_t errlen)
{
	if (p->prompt == BBT_PROMPT_DISCRETE)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "--prompt-layers all needs a continuous prompt; optimizer %s "
		                 "searches a discrete one", opt->name);
	/* A layerwise optimizer's estimate is over its layer only; the true
	 * gradient to check it against would be of the whole point. */
	if (p->grad_check && p->schedule != BBT_SCHEDULE_JOINT)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "--prompt-layers all: --grad-check needs --schedule joint");
	if (bbt_plugin_backend_hidden_states(be) == NULL)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "--prompt-layers all: backend %s gives no hidden states (ABI 1.2 "
		                 "hidden_states), which scale each layer's projection",
		                 be->name);
	return BBT_OK;
}

/* sigma-hat of every layer: the word embeddings' std for layer 0, the
 * clipped std of the hidden states entering layer l for the others. */
static int sigma_hats(const struct bbt_setup *s, const struct bbt_plan *p, char *err,
                      size_t errlen)
{
	const bbt_encoded_t *train = s->enc[BBT_RUN_TRAIN];
	const struct bbt_plugin *be = s->be.entry->desc;
	struct bbt_batch b;
	bbt_encoded_batch(train, 0, train->n_seq, &b);
	b.n_labels = s->L;
	b.label_ids = s->label_ids;
	b.prompt_len = p->prompt_len;
	b.prompt_layers = s->layers;
	size_t n = (train->offset[train->n_seq] - train->offset[0] + train->n_seq * p->prompt_len) *
	           s->info.hidden;
	s->layer_sigma_hat[0] = s->info.embed_std;
	if (p->layer_sigma_hat != NULL)
		for (size_t l = 1; l < s->layers; l++)
			s->layer_sigma_hat[l] = p->layer_sigma_hat[l];
	if (s->layers < 2 || p->layer_sigma_hat != NULL)
		return BBT_OK;
	float *h = malloc((n ? n : 1) * sizeof *h);
	if (h == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for %zu hidden values", n);
	int rc = BBT_OK;
	for (size_t l = 1; l < s->layers && rc == BBT_OK; l++) {
		rc = bbt_plugin_backend_hidden_states(be)(s->be.state, &b, l, h, err, errlen);
		if (rc < 0) {
			bbt_error_prefix(err, errlen, "backend %s: hidden states of layer %zu", be->name, l);
			break;
		}
		double mean;
		bbt_clipped_stats(h, n, BBT_CLIP_ROUNDS, &mean, &s->layer_sigma_hat[l], NULL);
		if (!(s->layer_sigma_hat[l] > 0) || !isfinite(s->layer_sigma_hat[l]))
			rc = bbt_error(err, errlen, BBT_EINTERNAL,
			               "backend %s: the hidden states entering layer %zu have std %g",
			               be->name, l, s->layer_sigma_hat[l]);
	}
	free(h);
	return rc;
}

uint64_t bbt_deep_layer_seed(const struct bbt_plan *p, size_t l)
{
	char purpose[32];
	snprintf(purpose, sizeof purpose, "layer %zu", l);
	return l == 0 ? p->seed_projection : bbt_rng_derive_seed(p->seed_projection, purpose);
}

int bbt_deep_subspaces(const struct bbt_plan *p, struct bbt_setup *s, char *err,
                       size_t errlen)
{
	size_t L = s->layers;
	s->d = p->dim;
	s->D = L * p->prompt_len * s->info.hidden;
	if (s->D == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len 0 leaves the optimizer nothing to tune");
	s->subs = calloc(L, sizeof *s->subs);
	s->layer_std = calloc(L, sizeof *s->layer_std);
	s->layer_sigma_hat = calloc(L, sizeof *s->layer_sigma_hat);
	if (s->subs == NULL || s->layer_std == NULL || s->layer_sigma_hat == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = sigma_hats(s, p, err, errlen);
	for (size_t l = 0; l < L && rc == BBT_OK; l++) {
		struct bbt_subspace_params sp = bbt_subspace_default_params();
		sp.dim = s->d;
		sp.out_dim = p->prompt_len * s->info.hidden;
		sp.projection = p->projection;
		sp.embed_std = s->layer_sigma_hat[l];
		sp.alpha = p->alpha;
		sp.sigma0 = p->sigma;
		sp.seed = bbt_deep_layer_seed(p, l);
		s->layer_std[l] = bbt_subspace_scale(&sp);
		if ((s->subs[l] = bbt_subspace_alloc(&sp, err, errlen)) == NULL)
			rc = BBT_EINVAL;
	}
	return rc;
}

void bbt_prompt_project(const struct bbt_setup *s, const double *z, size_t nv, float *p)
{
	if (s->subs == NULL) {
		bbt_subspace_project(s->sub, z, nv, p);
		return;
	}
	size_t L = s->layers, d = s->d, PH = s->D / L;
	for (size_t v = 0; v < nv; v++)
		for (size_t l = 0; l < L; l++)
			bbt_subspace_project(s->subs[l], z + (v * L + l) * d, 1, p + (v * L + l) * PH);
}

void bbt_prompt_pullback(const struct bbt_setup *s, const float *g_p, size_t nv, double *g_z)
{
	if (s->subs == NULL) {
		bbt_subspace_pullback(s->sub, g_p, nv, g_z);
		return;
	}
	size_t L = s->layers, d = s->d, PH = s->D / L;
	for (size_t v = 0; v < nv; v++)
		for (size_t l = 0; l < L; l++)
			bbt_subspace_pullback(s->subs[l], g_p + (v * L + l) * PH, 1,
			                      g_z + (v * L + l) * d);
}

/* Norm, mean and population std of one layer's n prompt values. */
static void prompt_stats(const float *p, size_t n, double out[3])
{
	double ss = 0, mu = 0, m2 = 0;
	for (size_t i = 0; i < n; i++) {
		double v = p[i], dv = v - mu;
		ss += v * v;
		mu += dv / (double)(i + 1);
		m2 += dv * (v - mu);
	}
	out[0] = sqrt(ss);
	out[1] = mu;
	out[2] = n > 0 ? sqrt(m2 / (double)n) : 0;
}

json_t *bbt_deep_json(const struct bbt_setup *s, enum bbt_schedule sched, size_t rounds,
                      const double *z)
{
	json_t *j = json_object(), *hat = json_array(), *std = json_array(), *norm = json_array();
	json_t *pst[3] = { json_array(), json_array(), json_array() };
	size_t PH = s->D / s->layers;
	float *p = z != NULL ? malloc(s->D * sizeof *p) : NULL;
	if (p != NULL)
		bbt_prompt_project(s, z, 1, p);
	for (size_t l = 0; l < s->layers; l++) {
		double ss = 0, st[3];
		for (size_t i = 0; z != NULL && i < s->d; i++)
			ss += z[l * s->d + i] * z[l * s->d + i];
		json_array_append_new(hat, json_real(s->layer_sigma_hat[l]));
		json_array_append_new(std, json_real(s->layer_std[l]));
		json_array_append_new(norm, z != NULL ? json_real(sqrt(ss)) : json_null());
		if (p != NULL)
			prompt_stats(p + l * PH, PH, st);
		for (size_t k = 0; k < 3; k++)
			json_array_append_new(pst[k], p != NULL ? json_real(st[k]) : json_null());
	}
	free(p);
	json_object_set_new(j, "layers", json_integer((json_int_t)s->layers));
	json_object_set_new(j, "schedule", json_string(bbt_schedule_name(sched)));
	json_object_set_new(j, "rounds", sched == BBT_SCHEDULE_LAYERWISE
	                                         ? json_integer((json_int_t)rounds)
	                                         : json_null());
	json_object_set_new(j, "sigma_hat", hat);
	json_object_set_new(j, "subspace_std", std);
	json_object_set_new(j, "best_z_norm", norm);
	json_object_set_new(j, "prompt_norm", pst[0]);
	json_object_set_new(j, "prompt_mean", pst[1]);
	json_object_set_new(j, "prompt_std", pst[2]);
	return j;
}
