/*
 * baseline.c - calibration over any prompt's scores, and in-context
 * demonstrations.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/baseline.h"
#include "run/calibrate.h"
#include "core/rng.h"
#include "core/util.h"

bbt_dataset_t *bbt_content_free_dataset(size_t n_fields, const char *mask_text)
{
	const char *inputs[] = { "N/A", "", mask_text };
	size_t n = mask_text != NULL ? 3 : 2;
	bbt_dataset_t *ds = calloc(1, sizeof *ds);
	if (ds == NULL)
		return NULL;
	ds->path = bbt_strdup("<content-free>");
	ds->n_fields = n_fields;
	ds->ex = calloc(n, sizeof *ds->ex);
	if (ds->path == NULL || ds->ex == NULL) {
		bbt_dataset_free(ds);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		ds->n = i + 1;
		ds->ex[i].field = calloc(n_fields, sizeof *ds->ex[i].field);
		if (ds->ex[i].field == NULL) {
			bbt_dataset_free(ds);
			return NULL;
		}
		for (size_t f = 0; f < n_fields; f++)
			if ((ds->ex[i].field[f] = bbt_strdup(inputs[i])) == NULL) {
				bbt_dataset_free(ds);
				return NULL;
			}
	}
	return ds;
}

const char *bbt_calibration_variant_name(enum bbt_calibration_variant v)
{
	switch (v) {
	case BBT_CALIBRATION_NONE: return "none";
	case BBT_CALIBRATION_CONTEXTUAL: return "contextual";
	case BBT_CALIBRATION_FITTED: return "fitted";
	default: return "unknown";
	}
}

static int score_all(const struct bbt_scorer *sc, const bbt_encoded_t *enc, size_t L,
                     float **out, size_t *calls, char *err, size_t errlen)
{
	*out = malloc((enc->n_seq ? enc->n_seq : 1) * L * sizeof **out);
	if (*out == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	(*calls)++;
	return sc->score(sc->ctx, enc, *out, err, errlen);
}

/* Task metric of logits + b; also accuracy and F1 when asked. */
static double metric_with(const float *logits, const bbt_encoded_t *enc, size_t L,
                          const double *b, enum bbt_metric metric, int positive, double *acc,
                          double *f1)
{
	size_t n = enc->n_seq;
	float *tmp = malloc((n ? n : 1) * L * sizeof *tmp);
	if (tmp == NULL)
		return NAN;
	bbt_calibrate_apply(logits, n, L, b, tmp);
	double m = bbt_metric_eval(metric, positive, tmp, n, L, enc->labels);
	if (acc)
		*acc = bbt_metric_accuracy(tmp, n, L, enc->labels);
	if (f1)
		*f1 = bbt_metric_f1(tmp, n, L, enc->labels, positive);
	free(tmp);
	return m;
}

int bbt_calibration_run(const struct bbt_scorer *sc, const bbt_encoded_t *train,
                        const bbt_encoded_t *dev, const bbt_encoded_t *test,
                        const bbt_encoded_t *cf, size_t L, enum bbt_metric metric,
                        int positive, struct bbt_calibration *cal, char *err, size_t errlen)
{
	memset(cal, 0, sizeof *cal);
	if (L > sizeof cal->offsets[0] / sizeof cal->offsets[0][0])
		return bbt_error(err, errlen, BBT_EINVAL, "calibration: %zu labels, at most 64", L);
	cal->n_labels = L;
	float *lt = NULL, *ld = NULL, *ls = NULL, *lc = NULL;
	int rc = score_all(sc, train, L, &lt, &cal->scorer_calls, err, errlen);
	if (rc == BBT_OK)
		rc = score_all(sc, dev, L, &ld, &cal->scorer_calls, err, errlen);
	if (rc == BBT_OK)
		rc = score_all(sc, test, L, &ls, &cal->scorer_calls, err, errlen);
	if (rc == BBT_OK)
		rc = score_all(sc, cf, L, &lc, &cal->scorer_calls, err, errlen);
	if (rc == BBT_OK) {
		bbt_calibrate_contextual(lc, cf->n_seq, L, cal->offsets[BBT_CALIBRATION_CONTEXTUAL]);
		bbt_calibrate_fit(lt, train->n_seq, L, train->labels,
		                  cal->offsets[BBT_CALIBRATION_FITTED]);
		cal->chosen = BBT_CALIBRATION_NONE;
		for (int v = 0; v < BBT_CALIBRATION_VARIANTS; v++) {
			const double *b = cal->offsets[v];
			cal->train_metric[v] = metric_with(lt, train, L, b, metric, positive, NULL, NULL);
			cal->dev_metric[v] = metric_with(ld, dev, L, b, metric, positive, NULL, NULL);
			cal->test_metric[v] = metric_with(ls, test, L, b, metric, positive,
			                                  &cal->test_acc[v], &cal->test_f1[v]);
			if (cal->dev_metric[v] > cal->dev_metric[cal->chosen])
				cal->chosen = (enum bbt_calibration_variant)v;
		}
	}
	free(lt);
	free(ld);
	free(ls);
	free(lc);
	return rc;
}

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *bbt_calibration_json(const struct bbt_calibration *cal)
{
	json_t *j = json_object(), *variants = json_object();
	json_object_set_new(j, "chosen", json_string(bbt_calibration_variant_name(cal->chosen)));
	json_object_set_new(j, "chosen_on", json_string("dev"));
	for (int v = 0; v < BBT_CALIBRATION_VARIANTS; v++) {
		json_t *o = json_object(), *b = json_array();
		for (size_t l = 0; l < cal->n_labels; l++)
			json_array_append_new(b, json_real(cal->offsets[v][l]));
		json_object_set_new(o, "offsets", b);
		json_object_set_new(o, "train_metric", real_or_null(cal->train_metric[v]));
		json_object_set_new(o, "dev_metric", real_or_null(cal->dev_metric[v]));
		json_object_set_new(o, "test_metric", real_or_null(cal->test_metric[v]));
		json_object_set_new(o, "test_acc", real_or_null(cal->test_acc[v]));
		json_object_set_new(o, "test_f1", real_or_null(cal->test_f1[v]));
		json_object_set_new(variants, bbt_calibration_variant_name(v), o);
	}
	json_object_set_new(j, "variants", variants);
	return j;
}

/* ------------------------------------------------------------------ */
/* In-context learning */

void bbt_icl_release(struct bbt_icl *icl)
{
	free(icl->prefix);
	free(icl->chosen);
	memset(icl, 0, sizeof *icl);
}

static int append_token(int32_t **ids, size_t *n, size_t *cap, int32_t id, char *err,
                        size_t errlen)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		int32_t *v = realloc(*ids, c * sizeof *v);
		if (v == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		*ids = v;
		*cap = c;
	}
	(*ids)[(*n)++] = id;
	return BBT_OK;
}

int bbt_icl_build(const bbt_template_t *tmpl, const struct bbt_tokenizer *tok,
                  const bbt_dataset_t *train, size_t L, const int32_t *label_ids,
                  size_t per_class, uint32_t seed, int32_t sep_id, size_t max_prefix,
                  struct bbt_icl *icl, char *err, size_t errlen)
{
	memset(icl, 0, sizeof *icl);
	size_t want = L * per_class, n = train->n;
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	size_t *taken = calloc(L, sizeof *taken);
	size_t *ends = calloc(want ? want : 1, sizeof *ends);   /* prefix length after demo i */
	icl->chosen = calloc(want ? want : 1, sizeof *icl->chosen);
	bbt_rng_t *rng = bbt_rng_alloc(seed);
	int rc = BBT_OK;
	if (order == NULL || taken == NULL || ends == NULL || icl->chosen == NULL || rng == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");

	/* Per class, the first per_class examples of a seeded shuffle; then
	 * the chosen demonstrations themselves in a shuffled order, so that no
	 * class always stands next to the query. */
	size_t n_chosen = 0;
	if (rc == BBT_OK) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		bbt_rng_shuffle(rng, order, n);
		for (size_t i = 0; i < n; i++) {
			int y = train->ex[order[i]].label;
			if (y >= 0 && (size_t)y < L && taken[y] < per_class) {
				taken[y]++;
				icl->chosen[n_chosen++] = order[i];
			}
		}
		bbt_rng_shuffle(rng, icl->chosen, n_chosen);
	}
	size_t cap = 0;
	for (size_t d = 0; rc == BBT_OK && d < n_chosen; d++) {
		const struct bbt_example *ex = &train->ex[icl->chosen[d]];
		rc = bbt_template_demonstration(tmpl, tok, ex, label_ids[ex->label], &icl->prefix,
		                                &icl->n_prefix, &cap, err, errlen);
		if (rc == BBT_OK && sep_id >= 0)
			rc = append_token(&icl->prefix, &icl->n_prefix, &cap, sep_id, err, errlen);
		ends[d] = icl->n_prefix;
	}
	/* Drop demonstrations from the end until the longest query fits. */
	size_t used = n_chosen;
	while (rc == BBT_OK && used > 0 && ends[used - 1] > max_prefix)
		used--;
	if (rc == BBT_OK) {
		icl->used = used;
		icl->dropped = n_chosen - used;
		icl->n_prefix = used ? ends[used - 1] : 0;
	}
	free(order);
	free(taken);
	free(ends);
	bbt_rng_free(rng);
	if (rc != BBT_OK)
		bbt_icl_release(icl);
	return rc;
}
