/*
 * t/setup.c - the setup stage on the synthetic backend: what it loads for
 * continuous, discrete and baseline plans, and a bad task named with its
 * origin before anything is opened.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plugin/registry.h"
#include "run/setup.h"
#include "tap.h"
#include "core/util.h"

static bbt_registry_t *reg;

/* Resolve and open a setup of cfg; the plan and setup are the caller's. */
static int load(struct bbt_config *cfg, struct bbt_plan *p, struct bbt_setup *s, char *err)
{
	memset(s, 0, sizeof *s);
	int rc = bbt_plan_init(p, cfg, err, BBT_ERRLEN);
	if (rc == BBT_OK)
		rc = bbt_setup_resolve(s, p, reg, err, BBT_ERRLEN);
	if (rc == BBT_OK)
		rc = bbt_setup_open(s, p, err, BBT_ERRLEN);
	if (rc != BBT_OK)
		diag("%s", err);
	return rc;
}

static void config(struct bbt_config *cfg, const char *optimizer, const char *method)
{
	char err[BBT_ERRLEN];
	bbt_config_init(cfg);
	const char *kv[][2] = { { "optimizer", optimizer }, { "backend", "synthetic" },
		                { "task", "toy" }, { "dim", "20" }, { "prompt-len", "5" },
		                { "method", method }, { "search-space", "30" } };
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		if (bbt_config_set(cfg, kv[i][0], kv[i][1], "test", err, sizeof err) < 0)
			diag("%s", err);
}

int main(void)
{
	if (getenv("top_srcdir") == NULL)
		skip_all("top_srcdir is not set (run through make check)");
	plan(17);
	char err[BBT_ERRLEN];
	unsetenv("BBTBENCH_PLUGIN_PATH");
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);

	struct bbt_config cfg;
	struct bbt_plan p;
	struct bbt_setup s;
	config(&cfg, "random", "tune");
	is_int(load(&cfg, &p, &s, err), BBT_OK, "a continuous run's setup");
	is_string(s.task->name, "toy", "the task");
	ok(s.opt.entry && s.be.entry && s.be.state, "both plugins, the backend open");
	is_int((long long)s.enc[BBT_RUN_TRAIN]->n_seq, 32, "16 shots per class encoded");
	ok(s.enc[BBT_RUN_DEV]->n_seq == 32 && s.enc[BBT_RUN_TEST]->n_seq > 0, "dev and test too");
	ok(s.L == 2 && s.label_ids[0] != s.label_ids[1], "two label words, two ids");
	ok(s.d == 20 && s.D == 5 * s.info.hidden && s.sub != NULL, "z in d = 20, p in P x hidden");
	ok(s.vocab == NULL, "no candidate vocabulary");
	bbt_encoded_t *again = NULL;
	is_int(bbt_setup_encode(&s, &p, s.splits.train, &again, err, sizeof err), BBT_OK,
	       "another set encoded as the splits were");
	ok(again && again->n_seq == 32 &&
	   memcmp(again->ids, s.enc[BBT_RUN_TRAIN]->ids,
	          again->offset[again->n_seq] * sizeof *again->ids) == 0, "token for token");
	bbt_encoded_free(again);
	bbt_setup_release(&s);
	ok(s.task == NULL && s.be.state == NULL, "released to zero");
	bbt_plan_release(&p);
	bbt_config_release(&cfg);

	config(&cfg, "bdpl", "tune");
	is_int(load(&cfg, &p, &s, err), BBT_OK, "a discrete run's setup");
	ok(s.vocab && bbt_vocab_size(s.vocab) > 0 && s.d == 5 && s.D == 0 && s.sub == NULL,
	   "L positions over candidate n-grams, no projection");
	bbt_setup_release(&s);
	bbt_plan_release(&p);
	bbt_config_release(&cfg);

	config(&cfg, "random", "manual");
	is_int(load(&cfg, &p, &s, err), BBT_OK, "a baseline's setup");
	ok(s.opt.entry == NULL && s.sub == NULL, "no optimizer, no projection");
	bbt_setup_release(&s);
	bbt_plan_release(&p);

	bbt_config_set(&cfg, "task", "no-such-task", "test.ini:3", err, sizeof err);
	bbt_plan_init(&p, &cfg, err, sizeof err);
	memset(&s, 0, sizeof s);
	is_int(bbt_setup_resolve(&s, &p, reg, err, sizeof err), BBT_ENOTFOUND, "an unknown task");
	like(err, "test.ini:3", "named with the line that set it");
	bbt_setup_release(&s);
	bbt_plan_release(&p);
	bbt_config_release(&cfg);
	bbt_registry_free(reg);
	return done_testing();
}
