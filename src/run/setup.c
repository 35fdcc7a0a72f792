/*
 * setup.c - load and check everything a run reads, before its folder is
 * touched: task, plugins, splits, backend, vocabulary, encodings, projection.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/paths.h"
#include "core/rng.h"
#include "core/util.h"
#include "data/catalog.h"
#include "run/run.h"
#include "run/schedule.h"
#include "run/setup.h"

static const char *const split_names[BBT_RUN_N_SPLITS] = { "train", "dev", "test" };

const char *bbt_run_split_name(enum bbt_run_split s)
{
	return s < BBT_RUN_N_SPLITS ? split_names[s] : "?";
}

static int load_task(struct bbt_setup *s, const struct bbt_plan *p, char *err, size_t errlen)
{
	const char *dirs[20];
	size_t nd = bbt_task_dirs(dirs, 20);
	char *path = NULL;
	int rc = bbt_task_find(p->cfg->task, dirs, nd, &path, err, errlen);
	if (rc == BBT_ENOTFOUND)
		bbt_catalog_explain_missing(p->cfg->task, err, errlen);
	if (rc < 0)
		bbt_config_error_origin(p->cfg, "task", err, errlen);
	if (rc == BBT_OK)
		rc = bbt_task_load(path, &s->task, err, errlen);
	free(path);
	if (rc == BBT_OK)
		rc = bbt_template_parse(s->task, &s->tmpl, err, errlen);
	return rc;
}

/* Find the plugin, resolve its options, set up its host services. */
static int prepare_plugin(const struct bbt_plan *p, struct bbt_plugin_use *u,
                          enum bbt_plugin_kind kind, const char *name,
                          const struct bbt_option_spec *other_spec, bbt_registry_t *reg,
                          uint32_t seed, char *err, size_t errlen)
{
	u->entry = bbt_registry_find(reg, kind, name, err, errlen);
	if (u->entry == NULL) {
		bbt_config_error_origin(p->cfg, bbt_plugin_kind_name(kind), err, errlen);
		return BBT_ENOTFOUND;
	}
	int rc = bbt_config_plugin_options(p->cfg, kind, name, u->entry->desc->options,
	                                   other_spec, &u->given, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_options_resolve(u->entry->desc->options, name, &u->given, &u->opts, err,
		                         errlen);
	if (rc == BBT_OK && (u->svc = bbt_hostsvc_alloc(name, seed, u->opts)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return rc;
}

/* Other plugin's option table for resolving bare -O keys. */
static const struct bbt_option_spec *spec_of(bbt_registry_t *reg, enum bbt_plugin_kind kind,
                                             const char *name)
{
	const struct bbt_plugin_entry *e = bbt_registry_find(reg, kind, name, NULL, 0);
	return e ? e->desc->options : NULL;
}

int bbt_setup_resolve(struct bbt_setup *s, struct bbt_plan *p, bbt_registry_t *reg, char *err,
                      size_t errlen)
{
	const struct bbt_config *cfg = p->cfg;
	int rc = load_task(s, p, err, errlen);
	if (rc == BBT_OK && p->tuned)
		rc = prepare_plugin(p, &s->opt, BBT_PLUGIN_OPTIMIZER, cfg->optimizer,
		                    spec_of(reg, BBT_PLUGIN_BACKEND, cfg->backend), reg,
		                    p->seed_optimizer, err, errlen);
	if (rc == BBT_OK)
		rc = prepare_plugin(p, &s->be, BBT_PLUGIN_BACKEND, cfg->backend,
		                    p->tuned ? spec_of(reg, BBT_PLUGIN_OPTIMIZER, cfg->optimizer) : NULL,
		                    reg, p->seed_backend, err, errlen);
	if (rc == BBT_OK) {
		bbt_plan_bind(p, s->opt.entry ? s->opt.entry->desc : NULL);
		s->prompt_room = p->prompt_len;   /* discrete: set by build_vocab */
		rc = bbt_plan_check_backend(p, s->be.entry->desc, err, errlen);
	}
	if (rc == BBT_OK && p->deep)
		rc = bbt_deep_check(p, s->opt.entry->desc, s->be.entry->desc, err, errlen);
	return rc;
}

static int load_splits(struct bbt_setup *s, const struct bbt_plan *p, char *err, size_t errlen)
{
	struct bbt_splits_params sp = bbt_splits_default_params();
	sp.data_dir = p->cfg->data_dir;
	sp.k = p->k_shot;
	sp.data_seed = (uint32_t)p->data_seed;
	sp.source = p->split_source;
	return bbt_splits_load(s->task, &sp, &s->splits, err, errlen);
}

static int open_backend(struct bbt_setup *s, const struct bbt_plan *p, char *err, size_t errlen)
{
	const struct bbt_backend_ops *ops = s->be.entry->desc->backend;
	struct bbt_backend_params bp = {
		.model = p->cfg->model[0] ? p->cfg->model : NULL,
		.prompt_len = p->prompt == BBT_PROMPT_DISCRETE ? 0 : p->prompt_len,
		.prompt_layers = 1,
		.seed = (uint64_t)p->seed,
	};
	memset(&s->info, 0, sizeof s->info);
	int rc = ops->open(bbt_hostsvc_host(s->be.svc), &bp, &s->be.state, &s->info, err, errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "backend %s", s->be.entry->desc->name);
		return rc;
	}
	/* A deep prompt has one layer per model layer, known once it is open. */
	if (p->deep && s->info.layers > 1) {
		ops->close(s->be.state);
		s->be.state = NULL;
		bp.prompt_layers = s->info.layers;
		if ((rc = ops->open(bbt_hostsvc_host(s->be.svc), &bp, &s->be.state, &s->info, err,
		                    errlen)) < 0) {
			bbt_error_prefix(err, errlen, "backend %s: --prompt-layers all",
			                 s->be.entry->desc->name);
			return rc;
		}
	}
	s->layers = bp.prompt_layers;
	if (s->info.hidden == 0 || s->info.max_len == 0)
		return bbt_error(err, errlen, BBT_EINTERNAL,
		                 "backend %s reports hidden size %zu and %zu positions",
		                 s->be.entry->desc->name, s->info.hidden, s->info.max_len);
	if (p->prompt_len >= s->info.max_len)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len %ld leaves no room in the model's %zu positions",
		                 p->cfg->prompt_len, s->info.max_len);
	return BBT_OK;
}

static struct bbt_tokenizer tokenizer(const struct bbt_setup *s)
{
	return (struct bbt_tokenizer){ s->be.entry->desc->backend, s->be.state };
}

/* Discrete runs: the K candidates (n-grams of the training texts with the
 * highest PMI with the labels), and room for the longest prompt they make,
 * so that truncation leaves every prompt the optimizer can pick in place. */
static int build_vocab(struct bbt_setup *s, const struct bbt_plan *p, char *err, size_t errlen)
{
	if (p->prompt != BBT_PROMPT_DISCRETE)
		return BBT_OK;
	struct bbt_tokenizer tok = tokenizer(s);
	struct bbt_vocab_params vp = bbt_vocab_default_params();
	vp.size = p->search_space;
	int rc = bbt_vocab_build(s->splits.train, s->task->n_labels, &tok, &vp, &s->vocab, err,
	                         errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "%s", s->task->name);
		return rc;
	}
	size_t K = bbt_vocab_size(s->vocab), L = p->prompt_len;
	if (K == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: no word n-gram occurs in %zu or more training examples: no "
		                 "candidates for a discrete prompt", s->task->name, vp.min_count);
	if (K < vp.size)
		bbt_log(BBT_LOG_WARNING, NULL,
		        "%s: only %zu n-grams occur in %zu or more training examples; the discrete "
		        "search space has %zu candidates, not %zu", s->task->name, K, vp.min_count, K,
		        vp.size);
	if (L == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len 0 leaves the optimizer nothing to tune");
	size_t longest = bbt_vocab_max_tokens(s->vocab);
	if (L > (s->info.max_len - 1) / longest)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len %zu discrete positions of up to %zu tokens leave no "
		                 "room in the model's %zu positions", L, longest, s->info.max_len);
	s->prompt_room = L * longest;
	return BBT_OK;
}

static int label_ids(struct bbt_setup *s, char *err, size_t errlen)
{
	struct bbt_tokenizer tok = tokenizer(s);
	s->L = s->task->n_labels;
	s->label_ids = calloc(s->L, sizeof *s->label_ids);
	if (s->label_ids == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return bbt_template_label_ids(s->task, &tok, s->label_ids, err, errlen);
}

int bbt_setup_encode(const struct bbt_setup *s, const struct bbt_plan *p,
                     const bbt_dataset_t *ds, bbt_encoded_t **out, char *err, size_t errlen)
{
	/* The prompt's positions (P vectors, or room for L discrete n-grams)
	 * are reserved only when a prompt is tuned; in-context demonstrations
	 * go first. */
	struct bbt_encode_params ep = {
		.max_len = s->info.max_len,
		.prompt_len = p->tuned ? s->prompt_room : 0,
		.causal = s->info.causal,
		.bos_id = s->info.bos_id,
		.eos_id = s->info.eos_id,
		.mask_id = s->info.mask_id,
		.prefix = s->icl.prefix,
		.n_prefix = s->icl.n_prefix,
	};
	struct bbt_tokenizer tok = tokenizer(s);
	return bbt_template_encode(s->tmpl, &tok, &ep, ds, out, err, errlen);
}

static int encode_splits(struct bbt_setup *s, const struct bbt_plan *p, char *err,
                         size_t errlen)
{
	int rc = BBT_OK;
	const bbt_dataset_t *ds[BBT_RUN_N_SPLITS] = { s->splits.train, s->splits.dev,
		                                      s->splits.test };
	for (int i = 0; rc == BBT_OK && i < BBT_RUN_N_SPLITS; i++) {
		bbt_encoded_free(s->enc[i]);
		s->enc[i] = NULL;
		rc = bbt_setup_encode(s, p, ds[i], &s->enc[i], err, errlen);
		if (rc == BBT_OK && s->enc[i]->n_truncated > 0)
			bbt_log(BBT_LOG_WARNING, NULL,
			        "%s: %zu of %zu %s examples truncated to fit %zu positions (%zu tokens cut)",
			        s->task->name, s->enc[i]->n_truncated, s->enc[i]->n_seq, split_names[i],
			        s->info.max_len, s->enc[i]->tokens_dropped);
	}
	if (rc == BBT_OK && s->enc[BBT_RUN_TRAIN]->n_seq == 0)
		rc = bbt_error(err, errlen, BBT_EINVAL, "%s: the training split is empty",
		               s->task->name);
	return rc;
}

/* In-context learning: demonstrations from the train shots before every
 * query, as many as leave room for the longest query; then the splits are
 * encoded again behind them. */
static int build_icl(struct bbt_setup *s, const struct bbt_plan *p, char *err, size_t errlen)
{
	size_t longest = 0;
	for (int i = 0; i < BBT_RUN_N_SPLITS; i++)
		if (s->enc[i]->max_seq_len > longest)
			longest = s->enc[i]->max_seq_len;
	size_t room = s->info.max_len > longest ? s->info.max_len - longest : 0;
	struct bbt_tokenizer tok = tokenizer(s);
	int rc = bbt_icl_build(s->tmpl, &tok, s->splits.train, s->L, s->label_ids, p->icl_shots,
	                       bbt_rng_derive_seed((uint64_t)p->seed, "icl"),
	                       s->info.causal ? -1 : s->info.eos_id, room, &s->icl, err, errlen);
	if (rc == BBT_OK && s->icl.dropped > 0)
		bbt_log(BBT_LOG_WARNING, NULL,
		        "%s: %zu of %zu demonstrations dropped so that the longest query (%zu "
		        "tokens) fits the model's %zu positions",
		        s->task->name, s->icl.dropped, s->icl.used + s->icl.dropped, longest,
		        s->info.max_len);
	return rc == BBT_OK ? encode_splits(s, p, err, errlen) : rc;
}

static int make_subspace(struct bbt_setup *s, const struct bbt_plan *p, char *err,
                         size_t errlen)
{
	if (p->prompt == BBT_PROMPT_DISCRETE) {
		s->d = p->prompt_len;   /* L positions, no projection */
		s->D = 0;
		return BBT_OK;
	}
	if (p->deep)
		return bbt_deep_subspaces(p, s, err, errlen);
	s->d = p->dim;
	s->D = p->prompt_len * s->info.hidden;
	if (s->D == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--prompt-len 0 leaves the optimizer nothing to tune");
	struct bbt_subspace_params sp = bbt_subspace_default_params();
	sp.dim = s->d;
	sp.out_dim = s->D;
	sp.projection = p->projection;
	sp.embed_std = s->info.embed_std;
	sp.alpha = p->alpha;
	sp.sigma0 = p->sigma;
	sp.seed = p->seed_projection;
	s->sub = bbt_subspace_alloc(&sp, err, errlen);
	return s->sub ? BBT_OK : BBT_EINVAL;
}

double bbt_setup_projection_std(const struct bbt_setup *s, const struct bbt_plan *p)
{
	struct bbt_subspace_params sp = bbt_subspace_default_params();
	sp.dim = s->d;
	sp.embed_std = s->info.embed_std;
	sp.alpha = p->alpha;
	sp.sigma0 = p->sigma;
	return bbt_subspace_scale(&sp);
}

int bbt_setup_open(struct bbt_setup *s, const struct bbt_plan *p, char *err, size_t errlen)
{
	int rc = load_splits(s, p, err, errlen);
	if (rc == BBT_OK)
		rc = open_backend(s, p, err, errlen);
	if (rc == BBT_OK)
		rc = build_vocab(s, p, err, errlen);
	if (rc == BBT_OK)
		rc = label_ids(s, err, errlen);
	if (rc == BBT_OK)
		rc = encode_splits(s, p, err, errlen);
	if (rc == BBT_OK && p->method == BBT_METHOD_ICL)
		rc = build_icl(s, p, err, errlen);
	if (rc == BBT_OK && p->tuned)
		rc = make_subspace(s, p, err, errlen);
	return rc;
}

void bbt_setup_release(struct bbt_setup *s)
{
	if (s->be.entry && s->be.state)
		s->be.entry->desc->backend->close(s->be.state);
	struct bbt_plugin_use *uses[] = { &s->opt, &s->be };
	for (size_t u = 0; u < 2; u++) {
		bbt_hostsvc_free(uses[u]->svc);
		bbt_options_free(uses[u]->opts);
		bbt_kvlist_clear(&uses[u]->given);
	}
	for (int i = 0; i < BBT_RUN_N_SPLITS; i++)
		bbt_encoded_free(s->enc[i]);
	bbt_icl_release(&s->icl);
	bbt_subspace_free(s->sub);
	for (size_t l = 0; s->subs != NULL && l < s->layers; l++)
		bbt_subspace_free(s->subs[l]);
	free(s->subs);
	free(s->layer_sigma_hat);
	free(s->layer_std);
	bbt_vocab_free(s->vocab);
	bbt_splits_free(&s->splits);
	bbt_template_free(s->tmpl);
	bbt_task_free(s->task);
	free(s->label_ids);
	memset(s, 0, sizeof *s);
}
