/*
 * t/score.c - the scorers on the synthetic backend: one function per kind
 * of prompt, the budget charged by every call, whole-split evaluation,
 * the white-box gradient, and an optimizer's bad index refused.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "plugin/registry.h"
#include "run/score.h"
#include "tap.h"

static struct bbt_plan p;
static struct bbt_setup s;
static struct bbt_config cfg;

static int load(bbt_registry_t *reg, const char *optimizer)
{
	char err[BBT_ERRLEN];
	bbt_config_init(&cfg);
	const char *kv[][2] = { { "optimizer", optimizer }, { "backend", "synthetic" },
		                { "task", "toy" }, { "dim", "8" }, { "prompt-len", "3" },
		                { "search-space", "20" } };
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		bbt_config_set(&cfg, kv[i][0], kv[i][1], "test", err, sizeof err);
	memset(&s, 0, sizeof s);
	int rc = bbt_plan_init(&p, &cfg, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_setup_resolve(&s, &p, reg, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_setup_open(&s, &p, err, sizeof err);
	if (rc != BBT_OK)
		diag("%s", err);
	return rc;
}

/* A scorer over a setup for optimizer, or NULL having skipped n tests. */
static bbt_score_t *start(bbt_registry_t *reg, const char *optimizer, struct bbt_budget *b,
                          int n)
{
	struct bbt_score_params sp = { "test", bbt_now() };   /* copied by the scorer */
	char err[BBT_ERRLEN];
	*b = bbt_budget_init(100);
	if (load(reg, optimizer) != BBT_OK) {
		skip(n, "no setup");
		return NULL;
	}
	return bbt_score_alloc(&s, &p, b, &sp, err, sizeof err);
}

static void unload(void)
{
	bbt_setup_release(&s);
	bbt_plan_release(&p);
	bbt_config_release(&cfg);
}

static void continuous(bbt_registry_t *reg)
{
	char err[BBT_ERRLEN];
	struct bbt_budget b;
	bbt_score_t *sc = start(reg, "adam", &b, 10);
	if (sc == NULL)
		return;
	const bbt_encoded_t *train = s.enc[BBT_RUN_TRAIN];
	size_t n = train->n_seq, L = s.L;
	double z[2 * 8] = { 0 };
	for (size_t i = 0; i < 8; i++)
		z[i] = z[8 + i] = 0.1 * (double)i;
	float *lg = calloc(2 * n * L, sizeof *lg), *one = calloc(n * L, sizeof *one);
	is_int(bbt_score_continuous(sc, train, 0, n, z, 2, lg, err, sizeof err), BBT_OK,
	       "two continuous prompts in one call");
	ok(memcmp(lg, lg + n * L, n * L * sizeof *lg) == 0, "the same z, the same logits");
	size_t tokens = b.tokens;
	ok(tokens >= 2 * n * 3, "tokens counted, the prompt's positions included");
	ok(b.calls == 0, "scoring alone spends no API call (the loop charges those)");
	struct bbt_prompt pr = { BBT_PROMPT_CONTINUOUS, z };
	bbt_score_split(sc, train, &pr, one, err, sizeof err);
	ok(memcmp(one, lg, n * L * sizeof *one) == 0, "a whole split under one prompt: the same");
	is_int(bbt_score_plain(sc, train, 0, n, one, err, sizeof err), BBT_OK, "no prompt");
	ok(memcmp(one, lg, n * L * sizeof *one) != 0, "scores otherwise");
	double g[8];
	is_int(bbt_score_gradient(sc, z, 1, one, g, err, sizeof err), BBT_OK, "white-box gradient");
	double norm = 0;
	for (size_t i = 0; i < 8; i++)
		norm += g[i] * g[i];
	ok(norm > 0 && memcmp(one, lg, n * L * sizeof *one) == 0,
	   "a nonzero gradient, with the same logits as the black-box call");
	struct bbt_eval ev;
	bbt_score_eval(sc, BBT_RUN_DEV, &pr, &ev, err, sizeof err);
	bbt_score_eval(sc, BBT_RUN_TEST, &pr, &ev, err, sizeof err);
	ok(b.dev == 1 && b.test == 1 && ev.acc >= 0 && ev.acc <= 1 && !isnan(ev.metric),
	   "dev and test evaluations counted apart, with their metrics");
	free(lg);
	free(one);
	bbt_score_free(sc);
	unload();
}

static void discrete(bbt_registry_t *reg)
{
	char err[BBT_ERRLEN];
	struct bbt_budget b;
	bbt_score_t *sc = start(reg, "bdpl", &b, 4);
	if (sc == NULL)
		return;
	const bbt_encoded_t *dev = s.enc[BBT_RUN_DEV];
	size_t n = dev->n_seq, L = s.L;
	float *lg = calloc(2 * n * L, sizeof *lg);
	double idx[6] = { 0, 1, 2, 3, 4, 5 };
	is_int(bbt_score_discrete(sc, dev, 0, n, idx, 2, lg, err, sizeof err), BBT_OK,
	       "two discrete prompts spliced in");
	ok(b.tokens > dev->offset[n] * 2, "their tokens counted");
	idx[4] = 1e6;
	is_int(bbt_score_discrete(sc, dev, 0, n, idx, 2, lg, err, sizeof err), BBT_EINTERNAL,
	       "an index past the candidates");
	like(err, "optimizer bdpl proposed 1e+06 at prompt position 1", "is the optimizer's bug");
	free(lg);
	bbt_score_free(sc);
	unload();
}

int main(void)
{
	if (getenv("top_srcdir") == NULL)
		skip_all("top_srcdir is not set (run through make check)");
	plan(14);
	unsetenv("BBTBENCH_PLUGIN_PATH");
	bbt_registry_t *reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);
	continuous(reg);
	discrete(reg);
	bbt_registry_free(reg);
	return done_testing();
}
