/*
 * score.c - the backend calls of a run, one function per kind of prompt.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "run/loss.h"
#include "run/schedule.h"
#include "run/score.h"

/* Sequences per backend call when scoring dev and test under one prompt:
 * bounds the backend's activation memory on large evaluation sets. */
#define EVAL_CHUNK 256

struct bbt_score {
	const struct bbt_setup *s;
	const struct bbt_plan *p;
	struct bbt_budget *budget;
	struct bbt_score_params params;
	float *prompts;       /* nv x D: continuous prompts projected from z */
	size_t cap_prompts;   /* in variants */
	float *grad_p;        /* nv x D: gradient with respect to the prompts */
	size_t cap_grad;
	struct {
		int32_t *ids;
		size_t cap_ids;
		size_t *offset, *predict_pos, *prompt_pos;
		size_t cap_seq;
	} spliced;            /* V x n sequences with their discrete prompt tokens */
};

bbt_score_t *bbt_score_alloc(const struct bbt_setup *s, const struct bbt_plan *p,
                             struct bbt_budget *b, const struct bbt_score_params *params,
                             char *err, size_t errlen)
{
	bbt_score_t *sc = calloc(1, sizeof *sc);
	if (sc == NULL) {
		bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		return NULL;
	}
	sc->s = s;
	sc->p = p;
	sc->budget = b;
	sc->params = *params;
	return sc;
}

void bbt_score_free(bbt_score_t *sc)
{
	if (sc == NULL)
		return;
	free(sc->prompts);
	free(sc->grad_p);
	free(sc->spliced.ids);
	free(sc->spliced.offset);
	free(sc->spliced.predict_pos);
	free(sc->spliced.prompt_pos);
	free(sc);
}

/* Room for nv x D floats in *buf (grown, never shrunk). */
static int reserve(float **buf, size_t *cap, size_t nv, size_t D, char *err, size_t errlen)
{
	if (nv <= *cap)
		return BBT_OK;
	float *grown = realloc(*buf, (nv * D > 0 ? nv * D : 1) * sizeof *grown);
	if (grown == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for %zu prompts", nv);
	*buf = grown;
	*cap = nv;
	return BBT_OK;
}

/* A model that computes NaN or infinity (NaN weights, a broken norm) gives
 * NaN losses that no optimizer can rank and a test accuracy of chance: the
 * run fails at the first such logit instead of "finishing". */
static int check_logits(const bbt_score_t *sc, const float *logits, size_t n, char *err,
                        size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(logits[i]))
			return bbt_error(err, errlen, BBT_EINTERNAL,
			                 "backend %s: the model computes a non-finite logit (%g) after "
			                 "%zu API calls: check its weights and norm epsilon",
			                 sc->s->be.entry->desc->name, (double)logits[i],
			                 sc->budget->calls);
	return BBT_OK;
}

/* The batch of sequences [first, first+n) of enc with room for a
 * continuous prompt of plen vectors (0: none); counts the positions the
 * backend will score for nv variants. */
static void make_batch(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                       size_t plen, size_t nv, struct bbt_batch *b)
{
	bbt_encoded_batch(enc, first, n, b);
	b->n_labels = sc->s->L;
	b->label_ids = sc->s->label_ids;
	b->prompt_len = plen;
	b->prompt_layers = plen > 0 && sc->s->layers > 1 ? sc->s->layers : 1;
	bbt_budget_tokens(sc->budget,
	                  nv * (enc->offset[first + n] - enc->offset[first] + n * plen));
}

static int backend_score(bbt_score_t *sc, const struct bbt_batch *b, const float *prompts,
                         size_t nv, float *logits, char *err, size_t errlen)
{
	const struct bbt_plugin *be = sc->s->be.entry->desc;
	int rc = be->backend->score(sc->s->be.state, b, prompts, nv, logits, err, errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "backend %s", be->name);
		return rc;
	}
	return check_logits(sc, logits, nv * b->n_seq * sc->s->L, err, errlen);
}

int bbt_score_plain(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                    float *logits, char *err, size_t errlen)
{
	struct bbt_batch b;
	make_batch(sc, enc, first, n, 0, 1, &b);
	return backend_score(sc, &b, NULL, 1, logits, err, errlen);
}

int bbt_score_continuous(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                         const double *z, size_t nv, float *logits, char *err, size_t errlen)
{
	int rc = reserve(&sc->prompts, &sc->cap_prompts, nv, sc->s->D, err, errlen);
	if (rc < 0)
		return rc;
	struct bbt_batch b;
	make_batch(sc, enc, first, n, sc->p->prompt_len, nv, &b);
	bbt_prompt_project(sc->s, z, nv, sc->prompts);
	return backend_score(sc, &b, sc->prompts, nv, logits, err, errlen);
}

/* The host's loss for the backend's gradient: dL/dlogits of each variant
 * over the training batch. */
static int train_loss_grad(void *ctx, const float *logits, size_t nv, size_t n_seq,
                           size_t n_labels, float *dlogits)
{
	const bbt_score_t *sc = ctx;
	const bbt_encoded_t *train = sc->s->enc[BBT_RUN_TRAIN];
	if (n_seq != train->n_seq || n_labels != sc->s->L)
		return BBT_EINVAL;
	for (size_t v = 0; v < nv; v++) {
		size_t at = v * n_seq * n_labels;
		int rc = bbt_loss_grad(sc->p->loss, logits + at, n_seq, n_labels, train->labels,
		                       dlogits + at);
		if (rc < 0)
			return rc;
	}
	return BBT_OK;
}

int bbt_score_gradient(bbt_score_t *sc, const double *z, size_t nv, float *logits,
                       double *grad_z, char *err, size_t errlen)
{
	const bbt_encoded_t *train = sc->s->enc[BBT_RUN_TRAIN];
	const struct bbt_plugin *be = sc->s->be.entry->desc;
	int rc = reserve(&sc->prompts, &sc->cap_prompts, nv, sc->s->D, err, errlen);
	if (rc == BBT_OK)
		rc = reserve(&sc->grad_p, &sc->cap_grad, nv, sc->s->D, err, errlen);
	if (rc < 0)
		return rc;
	struct bbt_batch b;
	make_batch(sc, train, 0, train->n_seq, sc->p->prompt_len, nv, &b);
	bbt_prompt_project(sc->s, z, nv, sc->prompts);
	rc = bbt_plugin_backend_gradient(be)(sc->s->be.state, &b, sc->prompts, nv,
	                                     train_loss_grad, sc, logits, sc->grad_p, err, errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "backend %s: gradient", be->name);
		return rc;
	}
	bbt_prompt_pullback(sc->s, sc->grad_p, nv, grad_z);
	return check_logits(sc, logits, nv * train->n_seq * sc->s->L, err, errlen);
}

/* Room for ns spliced sequences of total tokens in all. */
static int reserve_spliced(bbt_score_t *sc, size_t total, size_t ns, char *err, size_t errlen)
{
	if (total > sc->spliced.cap_ids) {
		int32_t *ids = realloc(sc->spliced.ids, total * sizeof *ids);
		if (ids == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		sc->spliced.ids = ids;
		sc->spliced.cap_ids = total;
	}
	if (ns > sc->spliced.cap_seq) {
		size_t *o = realloc(sc->spliced.offset, (ns + 1) * sizeof *o);
		if (o != NULL)
			sc->spliced.offset = o;
		size_t *pp = o ? realloc(sc->spliced.predict_pos, ns * sizeof *pp) : NULL;
		if (pp != NULL)
			sc->spliced.predict_pos = pp;
		size_t *pr = pp ? realloc(sc->spliced.prompt_pos, ns * sizeof *pr) : NULL;
		if (pr == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		sc->spliced.prompt_pos = pr;
		sc->spliced.cap_seq = ns;
	}
	return BBT_OK;
}

/* Every index a candidate in 0..K-1, and the tokens the nv prompts add to
 * sequences [first, first+n) of enc. */
static int check_indices(const bbt_score_t *sc, const bbt_encoded_t *enc, size_t first,
                         size_t n, const double *idx, size_t nv, size_t *total, char *err,
                         size_t errlen)
{
	const bbt_vocab_t *vocab = sc->s->vocab;
	size_t L = sc->s->d, K = bbt_vocab_size(vocab);
	for (size_t q = 0; q < nv * L; q++)
		if (!(idx[q] >= 0 && idx[q] < (double)K) || idx[q] != floor(idx[q]))
			return bbt_error(err, errlen, BBT_EINTERNAL,
			                 "optimizer %s proposed %g at prompt position %zu, not a "
			                 "candidate in 0..%zu", sc->s->opt.entry->desc->name, idx[q],
			                 q % L, K - 1);
	*total = 0;
	for (size_t v = 0; v < nv; v++) {
		size_t plen = 0;
		for (size_t l = 0; l < L; l++) {
			size_t k;
			bbt_vocab_ids(vocab, (size_t)idx[v * L + l], &k);
			plen += k;
		}
		*total += (enc->offset[first + n] - enc->offset[first]) + n * plen;
	}
	return BBT_OK;
}

/* Sequence i of enc with prompt v's n-grams at its prompt slot, as
 * spliced sequence q; returns the tokens written from `at`. */
static size_t splice_one(bbt_score_t *sc, const bbt_encoded_t *enc, size_t i,
                         const double *prompt, size_t q, size_t at)
{
	const int32_t *seq = enc->ids + enc->offset[i];
	size_t len = enc->offset[i + 1] - enc->offset[i], pos = enc->prompt_pos[i];
	size_t start = at;
	sc->spliced.offset[q] = at;
	memcpy(sc->spliced.ids + at, seq, pos * sizeof *seq);
	at += pos;
	for (size_t l = 0; l < sc->s->d; l++) {
		size_t k;
		const int32_t *ids = bbt_vocab_ids(sc->s->vocab, (size_t)prompt[l], &k);
		memcpy(sc->spliced.ids + at, ids, k * sizeof *ids);
		at += k;
	}
	size_t plen = at - start - pos;
	memcpy(sc->spliced.ids + at, seq + pos, (len - pos) * sizeof *seq);
	at += len - pos;
	sc->spliced.prompt_pos[q] = pos;
	sc->spliced.predict_pos[q] =
	        enc->predict_pos[i] + (enc->predict_pos[i] >= pos ? plen : 0);
	return at - start;
}

/* Discrete prompts: every sequence once per candidate, with the candidate's
 * L n-grams' tokens spliced in at its prompt slot, scored in one backend
 * call with no continuous prompt. */
int bbt_score_discrete(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                       const double *idx, size_t nv, float *logits, char *err, size_t errlen)
{
	size_t total = 0, ns = nv * n, L = sc->s->d;
	int rc = check_indices(sc, enc, first, n, idx, nv, &total, err, errlen);
	if (rc == BBT_OK)
		rc = reserve_spliced(sc, total, ns, err, errlen);
	if (rc < 0)
		return rc;
	size_t at = 0, q = 0;
	for (size_t v = 0; v < nv; v++)
		for (size_t i = first; i < first + n; i++, q++)
			at += splice_one(sc, enc, i, idx + v * L, q, at);
	sc->spliced.offset[ns] = at;
	bbt_budget_tokens(sc->budget, at);
	struct bbt_batch b = {
		.n_seq = ns,
		.ids = sc->spliced.ids,
		.offset = sc->spliced.offset,
		.predict_pos = sc->spliced.predict_pos,
		.prompt_pos = sc->spliced.prompt_pos,
		.n_labels = sc->s->L,
		.label_ids = sc->s->label_ids,
		.prompt_len = 0,
		.prompt_layers = 1,
	};
	return backend_score(sc, &b, NULL, 1, logits, err, errlen);
}

int bbt_score_prompts(bbt_score_t *sc, const bbt_encoded_t *enc, size_t first, size_t n,
                      const struct bbt_prompt *pr, size_t nv, float *logits, char *err,
                      size_t errlen)
{
	switch (pr->kind) {
	case BBT_PROMPT_CONTINUOUS:
		return bbt_score_continuous(sc, enc, first, n, pr->z, nv, logits, err, errlen);
	case BBT_PROMPT_DISCRETE:
		return bbt_score_discrete(sc, enc, first, n, pr->z, nv, logits, err, errlen);
	case BBT_PROMPT_NONE:
		break;
	}
	return bbt_score_plain(sc, enc, first, n, logits, err, errlen);
}

/* A split of several chunks (a full test set: SNLI's 9,842 rows take
 * minutes) shows its progress, so the run does not look hung. */
int bbt_score_split(bbt_score_t *sc, const bbt_encoded_t *enc, const struct bbt_prompt *pr,
                    float *out, char *err, size_t errlen)
{
	const char *name = "content-free";   /* calibration's inputs, the one other set */
	for (int i = 0; i < BBT_RUN_N_SPLITS; i++)
		if (enc == sc->s->enc[i])
			name = bbt_run_split_name((enum bbt_run_split)i);
	int rc = BBT_OK;
	for (size_t first = 0; rc == BBT_OK && first < enc->n_seq; first += EVAL_CHUNK) {
		size_t n = enc->n_seq - first < EVAL_CHUNK ? enc->n_seq - first : EVAL_CHUNK;
		rc = bbt_score_prompts(sc, enc, first, n, pr, 1, out + first * sc->s->L, err, errlen);
		if (rc == BBT_OK && enc->n_seq > EVAL_CHUNK && first + n < enc->n_seq)
			bbt_progress(0, "%s: scoring %s: %zu/%zu examples | %.1fs", sc->params.run_id,
			             name, first + n, enc->n_seq, bbt_now() - sc->params.t0);
	}
	return rc;
}

int bbt_score_eval_set(bbt_score_t *sc, const bbt_encoded_t *enc, const struct bbt_prompt *pr,
                       struct bbt_eval *ev, char *err, size_t errlen)
{
	const bbt_task_t *task = sc->s->task;
	size_t L = sc->s->L;
	float *all = malloc((enc->n_seq ? enc->n_seq : 1) * L * sizeof *all);
	if (all == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = bbt_score_split(sc, enc, pr, all, err, errlen);
	if (rc == BBT_OK) {
		ev->metric = bbt_metric_eval(task->metric, task->positive, all, enc->n_seq, L,
		                             enc->labels);
		ev->acc = bbt_metric_accuracy(all, enc->n_seq, L, enc->labels);
		ev->f1 = bbt_metric_f1(all, enc->n_seq, L, enc->labels, task->positive);
	}
	free(all);
	return rc;
}

int bbt_score_eval(bbt_score_t *sc, enum bbt_run_split split, const struct bbt_prompt *pr,
                   struct bbt_eval *ev, char *err, size_t errlen)
{
	int rc = bbt_score_eval_set(sc, sc->s->enc[split], pr, ev, err, errlen);
	bbt_budget_charge(sc->budget, split == BBT_RUN_DEV ? BBT_CALL_DEV : BBT_CALL_TEST, 1,
	                  NULL, 0);
	return rc;
}

struct fixed_prompt {
	bbt_score_t *sc;
	const struct bbt_prompt *pr;
};

static int score_fixed(void *ctx, const bbt_encoded_t *enc, float *logits, char *err,
                       size_t errlen)
{
	struct fixed_prompt *fp = ctx;
	return bbt_score_split(fp->sc, enc, fp->pr, logits, err, errlen);
}

int bbt_score_calibrate(bbt_score_t *sc, const struct bbt_prompt *pr,
                        struct bbt_calibration *cal, char *err, size_t errlen)
{
	const struct bbt_setup *s = sc->s;
	const struct bbt_backend_ops *ops = s->be.entry->desc->backend;
	const char *mask_text = s->info.mask_id >= 0 && ops->token_text
	                                ? ops->token_text(s->be.state, s->info.mask_id)
	                                : NULL;
	bbt_dataset_t *cf = bbt_content_free_dataset(s->task->n_fields, mask_text);
	if (cf == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	bbt_encoded_t *content_free = NULL;
	int rc = bbt_setup_encode(s, sc->p, cf, &content_free, err, errlen);
	bbt_dataset_free(cf);
	struct fixed_prompt fp = { sc, pr };
	struct bbt_scorer scorer = { score_fixed, &fp };
	if (rc == BBT_OK)
		rc = bbt_calibration_run(&scorer, s->enc[BBT_RUN_TRAIN], s->enc[BBT_RUN_DEV],
		                         s->enc[BBT_RUN_TEST], content_free, s->L, s->task->metric,
		                         s->task->positive, cal, err, errlen);
	bbt_encoded_free(content_free);
	return rc;
}
