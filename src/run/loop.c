/*
 * loop.c - ask, score, tell; dev selection; the trace.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "core/util.h"
#include "plugin/services.h"
#include "run/checkpoint.h"
#include "run/loop.h"
#include "run/loss.h"
#include "run/run.h"
#include "run/schedule.h"

struct bbt_tuner {
	const struct bbt_plan *p;
	const struct bbt_setup *s;
	bbt_score_t *sc;
	struct bbt_budget *b;
	const struct bbt_plugin *desc;   /* the optimizer */
	void *state;          /* the optimizer asked this step (deep: layer's) */
	size_t layers;        /* optimizers: 1, or one per prompt layer (deep) */
	void **layer_state;   /* deep: each layer's optimizer */
	size_t layer;         /* deep: the layer tuned this step */
	size_t dz;            /* a whole point's values: layers x d */
	size_t rounds;        /* deep: rounds of the layerwise schedule */
	double *zl;           /* deep: batch x d candidates of the layer tuned */
	double *cur;          /* deep: dz, each layer at its optimizer's best point */
	double *layer_best;   /* deep: each layer's best loss told (pycma's fbest) */
	struct bbt_optimizer_info oinfo;
	bbt_gradient_estimate_fn estimate;   /* --grad-check: the optimizer's */

	double *z;            /* batch x d candidates */
	float *logits;        /* batch x n_train x L */
	double *loss;         /* batch */
	struct bbt_trace_row *rows;   /* a step's trace rows, written after tell */
	bbt_backend_transport_fn transport;   /* the backend's, or NULL (in-process) */
	struct bbt_backend_transport wire;    /* its figures for the step's request */
	double *grad_z;       /* batch x d: true gradients pulled back to z */
	double *est_at, *est; /* d each: the optimizer's last estimate and its point */

	double *best_z;       /* the best training loss's point */
	int best_changed;     /* since the last dev evaluation */
	double last_dev;      /* dev metric of best_z at its last evaluation */
	double *best_dev_z;
	struct bbt_selection sel;
	double t0;
	const struct bbt_loop_hooks *hooks;
	int told;             /* the last step ended in a tell (a checkpoint may follow) */
	char stop_buf[32];    /* a restored stop reason */
	struct bbt_checkpoint blob;   /* scratch for an optimizer's state blob */
};

/* An optimizer over dim coordinates from x0 (NULL: the optimizer's
 * default): d, or a deep prompt's layers x d under the joint schedule. */
static int create_optimizer(bbt_tuner_t *t, uint64_t seed, size_t dim, const double *x0,
                            char *err, size_t errlen)
{
	const struct bbt_plan *p = t->p;
	struct bbt_optimizer_params op = {
		.space = { .kind = BBT_SPACE_BOX, .dim = dim, .bound = 0, .choices = 0 },
		.popsize = p->popsize,
		.sigma = p->sigma,
		.x0 = x0,
		.budget = p->budget,
		.seed = seed,
	};
	if (p->prompt == BBT_PROMPT_DISCRETE)
		op.space = (struct bbt_space){ .kind = BBT_SPACE_CATEGORICAL, .dim = t->s->d,
		                               .choices = bbt_vocab_size(t->s->vocab) };
	memset(&t->oinfo, 0, sizeof t->oinfo);
	int rc = t->desc->optimizer->create(bbt_hostsvc_host(t->s->opt.svc), &op, &t->state,
	                                    &t->oinfo, err, errlen);
	if (rc < 0) {
		bbt_error_prefix(err, errlen, "optimizer %s", t->desc->name);
		return rc;
	}
	if (t->oinfo.batch == 0)
		return bbt_error(err, errlen, BBT_EINTERNAL, "optimizer %s asks batches of 0",
		                 t->desc->name);
	return BBT_OK;
}

/* Deep prompts: one optimizer per layer, each over its layer's d
 * coordinates from z0 = 0 (or --init-prompt's z_l), with its own seed
 * (layer 0 keeps the run's); the budget becomes whole rounds of the
 * layerwise schedule. */
static int create_layers(bbt_tuner_t *t, char *err, size_t errlen)
{
	size_t L = t->s->layers;
	t->layers = L;
	t->dz = L * t->s->d;
	t->layer_state = calloc(L, sizeof *t->layer_state);
	t->layer_best = malloc(L * sizeof *t->layer_best);
	if (t->layer_state == NULL || t->layer_best == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t l = 0; l < L; l++) {
		char purpose[48];
		snprintf(purpose, sizeof purpose, "optimizer layer %zu", l);
		uint64_t seed = l == 0 ? (uint64_t)t->p->seed
		                       : bbt_rng_derive_seed((uint64_t)t->p->seed, purpose);
		t->state = NULL;
		const double *x0 = t->p->init_z ? t->p->init_z + l * t->s->d : NULL;
		int rc = create_optimizer(t, seed, t->s->d, x0, err, errlen);
		t->layer_state[l] = t->state;
		if (rc < 0)
			return rc;
		t->layer_best[l] = NAN;
	}
	t->state = t->layer_state[0];
	t->rounds = bbt_schedule_rounds(t->p->budget, t->oinfo.batch, L);
	if (t->rounds == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--budget %zu is less than one round of the layerwise schedule: "
		                 "%zu layers x %zu candidates", t->p->budget, L, t->oinfo.batch);
	t->b->limit = t->rounds * t->oinfo.batch * L;
	return BBT_OK;
}

static int alloc_buffers(bbt_tuner_t *t, char *err, size_t errlen)
{
	size_t b = t->oinfo.batch, d = t->dz, L = t->s->L;
	size_t nt = t->s->enc[BBT_RUN_TRAIN]->n_seq;
	t->z = calloc(b * d, sizeof *t->z);
	t->logits = calloc(b * nt * L, sizeof *t->logits);
	t->loss = calloc(b, sizeof *t->loss);
	t->best_z = calloc(d, sizeof *t->best_z);
	t->best_dev_z = calloc(d, sizeof *t->best_dev_z);
	t->rows = calloc(b, sizeof *t->rows);
	int oom = !t->z || !t->logits || !t->loss || !t->best_z || !t->best_dev_z || !t->rows;
	if (!oom && (t->p->white_box || t->p->grad_check)) {
		t->grad_z = calloc(b * d, sizeof *t->grad_z);
		t->est_at = calloc(d, sizeof *t->est_at);
		t->est = calloc(d, sizeof *t->est);
		oom = !t->grad_z || !t->est_at || !t->est;
	}
	if (!oom && t->layer_state != NULL) {
		t->zl = calloc(b * t->s->d, sizeof *t->zl);
		t->cur = calloc(d, sizeof *t->cur);   /* z0 = 0, or --init-prompt's */
		oom = !t->zl || !t->cur;
		if (!oom && t->p->init_z != NULL)
			memcpy(t->cur, t->p->init_z, d * sizeof *t->cur);
	}
	if (oom)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for a batch of %zu", b);
	t->sel.best_dev_z = t->best_dev_z;
	return BBT_OK;
}

int bbt_tuner_create(const struct bbt_plan *p, const struct bbt_setup *s, bbt_score_t *sc,
                     struct bbt_budget *b, bbt_tuner_t **out, char *err, size_t errlen)
{
	*out = NULL;
	bbt_tuner_t *t = calloc(1, sizeof *t);
	if (t == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	*t = (struct bbt_tuner){ .p = p, .s = s, .sc = sc, .b = b, .desc = s->opt.entry->desc,
		                 .last_dev = NAN, .layers = 1, .dz = s->layers * s->d };
	t->sel = (struct bbt_selection){ .best_loss = NAN, .best_dev = NAN };
	t->transport = bbt_plugin_backend_transport(s->be.entry->desc);
	*out = t;   /* the caller frees it, also after an error */
	int rc = bbt_plan_check_gradients(p, t->desc, s->be.entry->desc, err, errlen);
	if (rc == BBT_OK && p->grad_check)
		t->estimate = bbt_plugin_gradient_estimate(t->desc);
	if (rc == BBT_OK && p->deep && p->schedule == BBT_SCHEDULE_LAYERWISE)
		rc = create_layers(t, err, errlen);
	else if (rc == BBT_OK)   /* BBT, or a deep prompt's joint schedule */
		rc = create_optimizer(t, (uint64_t)p->seed, t->dz, p->init_z, err, errlen);
	if (rc == BBT_OK)
		rc = alloc_buffers(t, err, errlen);
	return rc;
}

void bbt_tuner_free(bbt_tuner_t *t)
{
	if (t == NULL)
		return;
	if (t->layer_state != NULL) {
		for (size_t l = 0; l < t->layers; l++)
			if (t->layer_state[l])
				t->desc->optimizer->free(t->layer_state[l]);
	} else if (t->state) {
		t->desc->optimizer->free(t->state);
	}
	free(t->layer_state);
	free(t->layer_best);
	free(t->zl);
	free(t->cur);
	free(t->z);
	free(t->logits);
	free(t->loss);
	free(t->rows);
	free(t->grad_z);
	free(t->est_at);
	free(t->est);
	free(t->best_z);
	free(t->best_dev_z);
	bbt_checkpoint_release(&t->blob);
	free(t);
}

json_t *bbt_tuner_deep_json(const bbt_tuner_t *t)
{
	return t->p->deep ? bbt_deep_json(t->s, t->p->schedule, t->rounds, t->best_dev_z) : NULL;
}

const struct bbt_selection *bbt_tuner_selection(const bbt_tuner_t *t)
{
	return &t->sel;
}

json_t *bbt_tuner_state_json(const bbt_tuner_t *t)
{
	json_t *st = json_object();
	const struct bbt_optimizer_ops *ops = t->desc->optimizer;
	if (ops->stats != NULL) {
		struct bbt_optimizer_stat stats[32];
		size_t ns = ops->stats(t->state, stats, 32);
		for (size_t i = 0; i < ns && i < 32; i++)
			json_object_set_new(st, stats[i].name, isfinite(stats[i].value)
			                                               ? json_real(stats[i].value)
			                                               : json_null());
	}
	return st;
}

int bbt_selection_improves(double best_dev, double dev_metric)
{
	return isnan(best_dev) || dev_metric > best_dev;
}

/* Best-so-far on dev; keep it when it beats every earlier dev score. */
static int dev_check(bbt_tuner_t *t, char *err, size_t errlen)
{
	if (t->best_changed || isnan(t->last_dev)) {
		struct bbt_prompt pr = { t->p->prompt, t->best_z };
		struct bbt_eval ev;
		int rc = bbt_score_eval(t->sc, BBT_RUN_DEV, &pr, &ev, err, errlen);
		if (rc < 0)
			return rc;
		t->last_dev = ev.metric;
		t->best_changed = 0;
		if (t->hooks != NULL && t->hooks->dev != NULL)
			t->hooks->dev(t->hooks->ctx, t->b->calls, ev.metric, t->best_z, t->dz);
	}
	if (bbt_selection_improves(t->sel.best_dev, t->last_dev)) {
		t->sel.best_dev = t->last_dev;
		memcpy(t->best_dev_z, t->best_z, t->dz * sizeof *t->best_z);
		t->sel.best_dev_call = t->b->calls;
	}
	return BBT_OK;
}

/* --grad-check: the optimizer's last estimate against the true gradient at
 * the point it was estimated at (an extra backend call, not in the budget).
 * Sets the cosine and the norm ratio |estimate| / |true|; NaN when the
 * optimizer has no estimate yet (e.g. a skipped step). */
static int grad_check(bbt_tuner_t *t, double *cosine, double *ratio, char *err, size_t errlen)
{
	*cosine = *ratio = NAN;
	if (t->estimate(t->state, t->est_at, t->est) != BBT_OK)
		return BBT_OK;
	int rc = bbt_score_gradient(t->sc, t->est_at, 1, t->logits, t->grad_z, err, errlen);
	if (rc < 0)
		return rc;
	bbt_budget_charge(t->b, BBT_CALL_GRAD_CHECK, 1, NULL, 0);
	double dot = 0, ne = 0, nt = 0;
	for (size_t i = 0; i < t->dz; i++) {
		dot += t->est[i] * t->grad_z[i];
		ne += t->est[i] * t->est[i];
		nt += t->grad_z[i] * t->grad_z[i];
	}
	if (ne > 0 && nt > 0) {
		*cosine = dot / sqrt(ne * nt);
		t->sel.grad_cos_sum += *cosine;
		t->sel.grad_cos_n++;
	}
	if (nt > 0)
		*ratio = sqrt(ne / nt);
	return BBT_OK;
}

/* Deep: candidate v is the current point with the layer tuned replaced
 * by the optimizer's v-th candidate. */
static void deep_candidates(bbt_tuner_t *t, size_t n)
{
	size_t d = t->s->d;
	for (size_t v = 0; v < n; v++) {
		double *zv = t->z + v * t->dz;
		memcpy(zv, t->cur, t->dz * sizeof *zv);
		memcpy(zv + t->layer * d, t->zl + v * d, d * sizeof *zv);
	}
}

/* Ask for a batch: n candidates in t->z. */
static int ask(bbt_tuner_t *t, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	int rc = t->desc->optimizer->ask(t->state, t->zl ? t->zl : t->z, n, err, errlen);
	if (rc >= 0 && (*n == 0 || *n > t->oinfo.batch))
		rc = bbt_error(err, errlen, BBT_EINTERNAL, "optimizer %s asked %zu candidates (batch %zu)",
		               t->desc->name, *n, t->oinfo.batch);
	if (rc >= 0 && t->zl != NULL)
		deep_candidates(t, *n);
	return rc < 0 ? rc : BBT_OK;
}

/* The first m candidates on the training batch: logits, and with a
 * white-box optimizer the true gradients. The layerwise schedule's
 * optimizer sees its layer's d coordinates: the gradient's other layers
 * (the backward pass gives them all) are dropped, m x d left in grad_z. */
static int score_batch(bbt_tuner_t *t, size_t m, char *err, size_t errlen)
{
	const bbt_encoded_t *train = t->s->enc[BBT_RUN_TRAIN];
	if (t->p->white_box) {
		int rc = bbt_score_gradient(t->sc, t->z, m, t->logits, t->grad_z, err, errlen);
		size_t d = t->s->d;
		for (size_t v = 0; rc >= 0 && t->zl != NULL && v < m; v++)
			memmove(t->grad_z + v * d, t->grad_z + v * t->dz + t->layer * d,
			        d * sizeof *t->grad_z);
		return rc;
	}
	struct bbt_prompt pr = { t->p->prompt, t->z };
	/* the figures are the trace's, not the run's: a backend that cannot
	 * give them leaves the columns 0 */
	struct bbt_backend_transport before = { 0 }, after = { 0 };
	int measured = t->transport && t->transport(t->s->be.state, &before) == BBT_OK;
	int rc = bbt_score_prompts(t->sc, train, 0, train->n_seq, &pr, m, t->logits, err, errlen);
	memset(&t->wire, 0, sizeof t->wire);
	if (rc == BBT_OK && measured && t->transport(t->s->be.state, &after) == BBT_OK) {
		t->wire.bytes_sent = after.bytes_sent - before.bytes_sent;
		t->wire.bytes_received = after.bytes_received - before.bytes_received;
		t->wire.seconds = after.seconds - before.seconds;
	}
	return rc;
}

/* Call v's (of m) share of the step's request: the bytes split evenly,
 * the remainder to the first calls, so that the rows sum to the request;
 * the latency whole. */
static void wire_share(const bbt_tuner_t *t, size_t v, size_t m, struct bbt_trace_row *row)
{
	const struct bbt_backend_transport *w = &t->wire;
	row->bytes_sent = w->bytes_sent / m + (v < w->bytes_sent % m);
	row->bytes_received = w->bytes_received / m + (v < w->bytes_received % m);
	row->latency = w->seconds;
}

/* Each scored candidate: its loss, one API call, the best so far, dev
 * when due, its trace row. Sets *written to the rows made. */
static int account(bbt_tuner_t *t, size_t m, size_t *written, char *err, size_t errlen)
{
	const bbt_encoded_t *train = t->s->enc[BBT_RUN_TRAIN];
	const bbt_task_t *task = t->s->task;
	size_t nt = train->n_seq, L = t->s->L, d = t->dz;
	int rc = BBT_OK;
	*written = 0;
	for (size_t v = 0; v < m && rc == BBT_OK; v++) {
		t->loss[v] = bbt_loss_eval(t->p->loss, task->metric, task->positive,
		                           t->logits + v * nt * L, nt, L, train->labels);
		if ((rc = bbt_budget_charge(t->b, BBT_CALL_TRAIN, 1, err, errlen)) < 0)
			break;
		if (isnan(t->sel.best_loss) || t->loss[v] < t->sel.best_loss) {
			t->sel.best_loss = t->loss[v];
			memcpy(t->best_z, t->z + v * d, d * sizeof *t->z);
			t->best_changed = 1;
		}
		if (t->layer_best != NULL && !(t->loss[v] >= t->layer_best[t->layer])) {
			/* the layer's xbest: the others see it from the next step on */
			t->layer_best[t->layer] = t->loss[v];
			memcpy(t->cur + t->layer * t->s->d, t->zl + v * t->s->d,
			       t->s->d * sizeof *t->cur);
		}
		double devm = NAN;
		if (t->b->calls % t->p->eval_every == 0 || bbt_budget_spent(t->b)) {
			if ((rc = dev_check(t, err, errlen)) < 0)
				break;
			devm = t->last_dev;
		}
		t->rows[(*written)++] = (struct bbt_trace_row){ t->b->calls, t->b->batches,
			                                        t->loss[v], t->sel.best_loss, devm,
			                                        bbt_now() - t->t0, NAN, NAN, t->layer,
			                                        0, 0, 0 };
		wire_share(t, v, m, &t->rows[*written - 1]);
	}
	return rc;
}

/* Tell the optimizer the batch's losses; *stop on its stop signal. */
static int tell(bbt_tuner_t *t, size_t n, int *stop, char *err, size_t errlen)
{
	const struct bbt_optimizer_ops *ops = t->desc->optimizer;
	int rc = ops->tell(t->state, t->zl ? t->zl : t->z, n, t->loss,
	                   t->p->white_box ? t->grad_z : NULL, err, errlen);
	if (rc == BBT_STOP && t->layer_state != NULL)
		return BBT_OK;   /* BBTv2 runs every layer its rounds regardless */
	if (rc == BBT_STOP) {
		const char *why = ops->stop_reason ? ops->stop_reason(t->state) : NULL;
		t->sel.stop_reason = why ? why : "stop";
		*stop = 1;
		return BBT_OK;
	}
	if (rc < 0)
		bbt_error_prefix(err, errlen, "optimizer %s", t->desc->name);
	return rc;
}

static int write_rows(const bbt_tuner_t *t, bbt_rundir_t *rd, size_t written, char *err,
                      size_t errlen)
{
	for (size_t v = 0; v < written; v++)
		if (bbt_rundir_trace(rd, &t->rows[v]) < 0)
			return bbt_error(err, errlen, BBT_EIO, "%s: cannot write trace",
			                 bbt_rundir_path(rd));
	return BBT_OK;
}

/* One round; *stop when the loop ends after it. */
static int step(bbt_tuner_t *t, bbt_rundir_t *rd, int *stop, char *err, size_t errlen)
{
	size_t n, written = 0;
	if (t->layer_state != NULL) {
		t->layer = bbt_schedule_layer(t->b->batches, t->layers);
		t->state = t->layer_state[t->layer];
	}
	int rc = ask(t, &n, err, errlen);
	size_t m = rc == BBT_OK ? bbt_budget_grant(t->b, n) : 0;
	if (rc == BBT_OK)
		rc = score_batch(t, m, err, errlen);
	if (rc < 0)
		return rc;
	bbt_budget_charge(t->b, BBT_CALL_BATCH, 1, NULL, 0);
	rc = account(t, m, &written, err, errlen);
	/* The optimizer steps (unless the budget ended inside this batch),
	 * then the batch's rows go to the trace, the step's gradient check
	 * on its last row. */
	*stop = rc < 0 || m < n;
	t->told = !*stop;
	if (!*stop)
		rc = tell(t, n, stop, err, errlen);
	if (rc == BBT_OK && t->p->grad_check && m == n)
		rc = grad_check(t, &t->rows[m - 1].grad_cos, &t->rows[m - 1].grad_ratio, err,
		                errlen);
	int wrc = write_rows(t, rd, written, err, errlen);
	if (rc == BBT_OK)
		rc = wrc;
	int frc = bbt_rundir_flush(rd, err, errlen);
	return rc == BBT_OK ? frc : rc;
}

int bbt_tuner_run(bbt_tuner_t *t, bbt_rundir_t *rd, const struct bbt_loop_hooks *hooks,
                  char *err, size_t errlen)
{
	int rc = BBT_OK, stop = 0;
	t->t0 = hooks->t0;
	t->hooks = hooks;
	/* A run resumed from a checkpoint taken as its optimizer stopped has
	 * its stop reason already. */
	while (!bbt_budget_spent(t->b) && !bbt_run_interrupted() && t->sel.stop_reason == NULL) {
		rc = step(t, rd, &stop, err, errlen);
		if (rc == BBT_OK && t->told && hooks->generation != NULL)
			rc = hooks->generation(hooks->ctx, err, errlen);
		if (rc < 0 || stop)
			break;
		hooks->progress(hooks->ctx, 0);
	}
	if (rc == BBT_OK && t->sel.stop_reason == NULL)
		t->sel.stop_reason = bbt_run_interrupted() ? "interrupted" : "maxfevals";
	/* The last batch may have ended between evaluations. */
	if (rc == BBT_OK && t->b->calls > 0 && t->b->calls % t->p->eval_every != 0 &&
	    !bbt_budget_spent(t->b) && !bbt_run_interrupted())
		rc = dev_check(t, err, errlen);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Checkpoints */

/* The fields in their order, for save and restore alike. */
#define TUNER_FIELDS(F64, U64)                                                          \
	U64("budget", budget, 6)                                                        \
	F64("selection", selection, 4)                                                  \
	U64("selection_counts", counts, 3)                                              \
	F64("best_z", t->best_z, t->dz)                                                 \
	F64("best_dev_z", t->best_dev_z, t->dz)                                         \
	F64("layer_best", t->layer_best, t->layer_state ? t->layers : 0)                \
	F64("layer_points", t->cur, t->layer_state ? t->dz : 0)                         \
	U64("rng", rng, BBT_RNG_STATE_WORDS)

int bbt_tuner_save(bbt_tuner_t *t, struct bbt_state_writer *w, char *err, size_t errlen)
{
	const struct bbt_budget *b = t->b;
	uint64_t budget[6] = { b->calls, b->batches, b->dev, b->test, b->grad_checks, b->tokens };
	double selection[4] = { t->sel.best_loss, t->sel.best_dev, t->last_dev,
		                t->sel.grad_cos_sum };
	uint64_t counts[3] = { t->sel.best_dev_call, (uint64_t)t->best_changed,
		               t->sel.grad_cos_n };
	uint64_t rng[BBT_RNG_STATE_WORDS];
	bbt_rng_get_state(bbt_hostsvc_rng(t->s->opt.svc), rng);
#define PUT_F64(name, v, k) bbt_state_put_f64(w, name, v, k);
#define PUT_U64(name, v, k) bbt_state_put_u64(w, name, v, k);
	TUNER_FIELDS(PUT_F64, PUT_U64)
	const char *stop = t->sel.stop_reason ? t->sel.stop_reason : "";
	bbt_state_put_bytes(w, "stop_reason", stop, strlen(stop));
	uint64_t n = t->layers;
	bbt_state_put_u64(w, "optimizers", &n, 1);
	const struct bbt_optimizer_ops *ops = t->desc->optimizer;
	for (size_t l = 0; l < t->layers; l++) {
		void *st = t->layer_state ? t->layer_state[l] : t->state;
		t->blob.len = 0;
		int rc = ops->save_state(st, bbt_checkpoint_append, &t->blob, err, errlen);
		if (rc < 0) {
			bbt_error_prefix(err, errlen, "optimizer %s", t->desc->name);
			return rc;
		}
		bbt_state_put_bytes(w, "optimizer_state", t->blob.data, t->blob.len);
	}
	return BBT_OK;
}

int bbt_tuner_restore(bbt_tuner_t *t, struct bbt_state_reader *r, char *err, size_t errlen)
{
	uint64_t budget[6] = { 0 }, counts[3] = { 0 }, n = 0;
	double selection[4] = { 0 };
	uint64_t rng[BBT_RNG_STATE_WORDS] = { 0 };
#define GET_F64(name, v, k) bbt_state_get_f64(r, name, v, k);
#define GET_U64(name, v, k) bbt_state_get_u64(r, name, v, k);
	TUNER_FIELDS(GET_F64, GET_U64)
	const void *stop;
	size_t stop_len;
	bbt_state_get_bytes(r, "stop_reason", &stop, &stop_len);
	bbt_state_get_u64(r, "optimizers", &n, 1);
	if (r->rc == BBT_OK && n != t->layers)
		return r->rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: %llu optimizers, this run "
		                         "has %zu", r->who, (unsigned long long)n, t->layers);
	if (r->rc == BBT_OK && stop_len >= sizeof t->stop_buf)
		return r->rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: a stop reason of %zu bytes",
		                         r->who, stop_len);
	if (r->rc == BBT_OK && budget[0] > t->b->limit)
		return r->rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: %llu API calls spent, over "
		                         "this run's budget of %zu", r->who,
		                         (unsigned long long)budget[0], t->b->limit);
	const struct bbt_optimizer_ops *ops = t->desc->optimizer;
	for (size_t l = 0; l < t->layers && r->rc == BBT_OK; l++) {
		const void *blob;
		size_t len;
		if (bbt_state_get_bytes(r, "optimizer_state", &blob, &len) < 0)
			break;
		void *st = t->layer_state ? t->layer_state[l] : t->state;
		int rc = ops->load_state(st, blob, len, err, errlen);
		if (rc < 0) {
			bbt_error_prefix(err, errlen, "%s", r->who);
			return r->rc = rc;
		}
	}
	if (r->rc < 0)
		return r->rc;
	if (bbt_rng_set_state(bbt_hostsvc_rng(t->s->opt.svc), rng) < 0)
		return r->rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: field rng is not a state of "
		                         "the random stream", r->who);
	struct bbt_budget *b = t->b;
	b->calls = budget[0];
	b->batches = budget[1];
	b->dev = budget[2];
	b->test = budget[3];
	b->grad_checks = budget[4];
	b->tokens = budget[5];
	t->sel.best_loss = selection[0];
	t->sel.best_dev = selection[1];
	t->last_dev = selection[2];
	t->sel.grad_cos_sum = selection[3];
	t->sel.best_dev_call = counts[0];
	t->best_changed = counts[1] != 0;
	t->sel.grad_cos_n = counts[2];
	memcpy(t->stop_buf, stop, stop_len);
	t->stop_buf[stop_len] = '\0';
	t->sel.stop_reason = stop_len ? t->stop_buf : NULL;
	return BBT_OK;
}
