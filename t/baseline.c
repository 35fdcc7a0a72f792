/*
 * t/baseline.c - content-free inputs, in-context demonstrations (balance,
 * determinism, dropping to fit) and the choice among calibrations.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/baseline.h"
#include "tap.h"
#include "core/util.h"

/* A scorer with a fixed bias toward label 1: logit_1 - logit_0 = s + 2,
 * s = +1 for label 1, -1 for label 0 (content-free inputs: s = 0). */
static int biased(void *ctx, const bbt_encoded_t *enc, float *logits, char *err, size_t n)
{
	for (size_t i = 0; i < enc->n_seq; i++) {
		double sig = enc->labels[i] < 0 ? 0 : (enc->labels[i] ? 1 : -1);
		logits[2 * i] = 0;
		logits[2 * i + 1] = (float)(sig + 2.0);
	}
	return BBT_OK;
}

static bbt_encoded_t *fake_split(size_t n, int cf)
{
	bbt_encoded_t *e = calloc(1, sizeof *e);
	e->n_seq = n;
	e->labels = calloc(n, sizeof *e->labels);
	for (size_t i = 0; i < n; i++)
		e->labels[i] = cf ? -1 : (int)(i % 2);
	return e;
}

/* A whitespace tokenizer: word ids from a hash, never the test's special
 * ids (3 = separator, 900/901 = label words). */
static int word_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                         char *err, size_t errlen)
{
	size_t count = 0;
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		if (count < cap)
			ids[count] = 1000 + (int32_t)(bbt_hash64(w, (size_t)(p - w), BBT_HASH64_INIT) % 5000);
		count++;
	}
	*n = count;
	return BBT_OK;
}

static const struct bbt_backend_ops word_ops = { .tokenize = word_tokenize };

int main(void)
{
	plan(18);
	char err[BBT_ERRLEN];

	bbt_dataset_t *cf = bbt_content_free_dataset(2, "[MASK]");
	is_int((long long)cf->n, 3, "three content-free inputs");
	ok(strcmp(cf->ex[0].field[0], "N/A") == 0 && strcmp(cf->ex[1].field[1], "") == 0 &&
	   strcmp(cf->ex[2].field[1], "[MASK]") == 0, "N/A, empty, the mask token, in every field");
	bbt_dataset_free(cf);
	cf = bbt_content_free_dataset(1, NULL);
	is_int((long long)cf->n, 2, "no mask token (causal model): two inputs");
	bbt_dataset_free(cf);

	/* Calibration of a biased scorer: every variant reported, the best on
	 * dev chosen; the contextual offsets remove the +2 bias exactly. */
	bbt_encoded_t *tr = fake_split(8, 0), *dv = fake_split(8, 0), *te = fake_split(8, 0),
	              *cfe = fake_split(3, 1);
	struct bbt_scorer sc = { biased, NULL };
	struct bbt_calibration cal;
	is_int(bbt_calibration_run(&sc, tr, dv, te, cfe, 2, BBT_METRIC_ACC, BBT_NO_POSITIVE, &cal,
	                           err, sizeof err),
	       BBT_OK, "calibration runs");
	is_double(cal.test_metric[BBT_CALIBRATION_NONE], 0.5, 0, "raw scores: 50%%");
	is_double(cal.offsets[BBT_CALIBRATION_CONTEXTUAL][1] - cal.offsets[BBT_CALIBRATION_CONTEXTUAL][0],
	          -2.0, 1e-6, "contextual offsets cancel the bias");
	is_double(cal.test_metric[BBT_CALIBRATION_CONTEXTUAL], 1.0, 0, "contextual: 100%%");
	is_int(cal.chosen, BBT_CALIBRATION_CONTEXTUAL, "the simplest best-on-dev variant chosen");
	is_int((long long)cal.scorer_calls, 4, "train, dev, test and content-free scored once each");
	for (bbt_encoded_t *e = tr; e; e = e == tr ? dv : e == dv ? te : e == te ? cfe : NULL) {
		free(e->labels);
		free(e);
	}

	/* In-context demonstrations, through a word tokenizer. */
	bbt_dataset_t *train = bbt_toy_generate(40, 3);
	char *fields[] = { "sentence" }, *words[] = { "bad", "great" };
	bbt_task_t task = { .name = "toy", .path = "toy.yaml", .n_fields = 1, .fields = fields,
	                    .template_text = "{sentence} . It was {mask} .", .n_labels = 2,
	                    .label_words = words };
	bbt_template_t *tmpl = NULL;
	bbt_template_parse(&task, &tmpl, err, sizeof err);
	struct bbt_tokenizer tok = { &word_ops, NULL };
	int32_t label_ids[2] = { 900, 901 };
	struct bbt_icl a, b, c;
	is_int(bbt_icl_build(tmpl, &tok, train, 2, label_ids, 3, 7, 3, 10000, &a, err, sizeof err),
	       BBT_OK, "demonstrations build");
	is_int((long long)a.used, 6, "3 per class, 2 classes");
	int per[2] = { 0, 0 };
	for (size_t i = 0; i < a.used; i++)
		per[train->ex[a.chosen[i]].label]++;
	ok(per[0] == 3 && per[1] == 3, "class balanced (%d, %d)", per[0], per[1]);
	size_t seps = 0, labels = 0;
	for (size_t i = 0; i < a.n_prefix; i++) {
		seps += a.prefix[i] == 3;
		labels += a.prefix[i] == 900 || a.prefix[i] == 901;
	}
	ok(seps == 6 && labels == 6, "each demonstration ends in the separator and holds its label word");
	bbt_icl_build(tmpl, &tok, train, 2, label_ids, 3, 7, 3, 10000, &b, err, sizeof err);
	ok(b.n_prefix == a.n_prefix && memcmp(a.prefix, b.prefix, a.n_prefix * sizeof *a.prefix) == 0,
	   "same seed: same demonstrations in the same order");
	bbt_icl_release(&b);
	bbt_icl_build(tmpl, &tok, train, 2, label_ids, 3, 8, 3, 10000, &b, err, sizeof err);
	ok(b.n_prefix != a.n_prefix || memcmp(a.prefix, b.prefix, a.n_prefix * sizeof *a.prefix) != 0,
	   "another seed: other demonstrations");
	size_t room = a.n_prefix / 2;
	is_int(bbt_icl_build(tmpl, &tok, train, 2, label_ids, 3, 7, 3, room, &c, err, sizeof err),
	       BBT_OK, "demonstrations with little room");
	ok(c.n_prefix <= room && c.used < 6 && c.used + c.dropped == 6,
	   "whole demonstrations dropped from the end to fit (%zu used, %zu dropped)", c.used,
	   c.dropped);
	ok(c.used > 0 && memcmp(a.prefix, c.prefix, c.n_prefix * sizeof *c.prefix) == 0,
	   "the kept ones are the first ones");
	bbt_icl_release(&a);
	bbt_icl_release(&b);
	bbt_icl_release(&c);
	bbt_template_free(tmpl);
	bbt_dataset_free(train);
	return done_testing();
}

