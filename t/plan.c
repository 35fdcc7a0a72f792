/*
 * t/plan.c - a run's settings resolved into a plan: types, seeds, the
 * settings that matter per method, the refusals of white-box and
 * --grad-check combinations, the run id, and the default --eval-every that
 * follows from the budget and the population.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"
#include "run/plan.h"
#include "tap.h"

static int est(void *state, double *at, double *grad)
{
	(void)state, (void)at, (void)grad;
	return 0;
}

static int grad(void *state, const struct bbt_batch *b, const float *prompts, size_t nv,
                bbt_logit_grad_fn loss, void *ctx, float *logits, float *g, char *err,
                size_t errlen)
{
	(void)state, (void)b, (void)prompts, (void)nv, (void)loss, (void)ctx, (void)logits;
	(void)g, (void)err, (void)errlen;
	return 0;
}

static const struct bbt_optimizer_ops zo_ops = { .gradient_estimate = est };
static const struct bbt_optimizer_ops plain_ops = { 0 };
static const struct bbt_backend_ops grad_ops = { .gradient = grad };
static const struct bbt_backend_ops nograd_ops = { 0 };

#define OPT(n, f, ops) { BBT_ABI_MAJOR, BBT_ABI_MINOR, BBT_PLUGIN_OPTIMIZER, n, "1", "", NULL, f, ops, NULL }
#define BE(n, ops) { BBT_ABI_MAJOR, BBT_ABI_MINOR, BBT_PLUGIN_BACKEND, n, "1", "", NULL, 0, NULL, ops }
static const struct bbt_plugin zo = OPT("zo-sgd", 0, &zo_ops);
static const struct bbt_plugin cma = OPT("cmaes", 0, &plain_ops);
static const struct bbt_plugin adam = OPT("adam", BBT_OPTIMIZER_WANTS_GRADIENT, &plain_ops);
static const struct bbt_plugin bdpl = OPT("bdpl", BBT_OPTIMIZER_CATEGORICAL, &plain_ops);
static const struct bbt_plugin white = BE("native", &grad_ops);
static const struct bbt_plugin black = BE("synthetic", &nograd_ops);

static void set(struct bbt_config *cfg, const char *key, const char *value)
{
	char err[BBT_ERRLEN];
	if (bbt_config_set(cfg, key, value, "test", err, sizeof err) < 0)
		diag("%s", err);
}

static void check_refusal(struct bbt_config *cfg, const struct bbt_plugin *opt,
                          const struct bbt_plugin *be, const char *want, const char *what)
{
	struct bbt_plan p;
	char err[BBT_ERRLEN] = "";
	bbt_plan_init(&p, cfg, err, sizeof err);
	bbt_plan_bind(&p, opt);
	int rc = bbt_plan_check_gradients(&p, opt, be, err, sizeof err);
	if (want == NULL) {
		is_int(rc, BBT_OK, "%s", what);
		if (rc != BBT_OK)
			diag("%s", err);
	} else {
		ok(rc == BBT_ENOTSUP && strcmp(err, want) == 0, "%s", what);
		if (strcmp(err, want) != 0)
			diag("got '%s'", err);
	}
	bbt_plan_release(&p);
}

/* The run id of cfg under opt and be, or NULL. */
static char *run_id(const struct bbt_config *cfg, const struct bbt_plugin *opt,
                    const struct bbt_plugin *be, char **dir)
{
	struct bbt_plan p;
	char err[BBT_ERRLEN];
	bbt_kvlist_t given = { 0 };
	bbt_options_t *opts = NULL;
	char *id = NULL;
	if (bbt_plan_init(&p, cfg, err, sizeof err) == BBT_OK &&
	    bbt_options_resolve(NULL, "x", &given, &opts, err, sizeof err) == BBT_OK) {
		bbt_plan_bind(&p, opt);
		if (bbt_plan_run_id(&p, "toy", opt, opts, be, opts, err, sizeof err) == BBT_OK) {
			id = p.run_id, p.run_id = NULL;
			if (dir)
				*dir = p.run_dir, p.run_dir = NULL;
		}
	}
	bbt_options_free(opts);
	bbt_plan_release(&p);
	return id;
}

static void test_types(void)
{
	struct bbt_config cfg;
	struct bbt_plan p;
	char err[BBT_ERRLEN];
	bbt_config_init(&cfg);
	set(&cfg, "loss", "hinge");
	set(&cfg, "projection", "uniform");
	set(&cfg, "split-source", "kshot");
	set(&cfg, "dim", "37");
	set(&cfg, "budget", "123");
	set(&cfg, "seed", "9");
	set(&cfg, "calibrate", "yes");
	is_int(bbt_plan_init(&p, &cfg, err, sizeof err), BBT_OK, "a plan from the settings");
	ok(p.method == BBT_METHOD_TUNE && p.tuned, "method tune");
	is_int(p.loss, BBT_LOSS_HINGE, "loss parsed once");
	is_int(p.projection, BBT_PROJECTION_UNIFORM, "projection parsed once");
	is_int(p.split_source, BBT_SPLIT_KSHOT, "split source parsed once");
	ok(p.dim == 37 && p.budget == 123, "numbers");
	ok(p.calibrate && !p.grad_check, "yes/no settings as bools");
	is_int(p.data_seed, 9, "data seed follows the run seed");
	is_int(p.seed_projection, bbt_rng_derive_seed(9, "projection"), "projection seed derived");
	ok(p.seed_optimizer != p.seed_backend, "each plugin its own seed");
	bbt_plan_bind(&p, &bdpl);
	is_int(p.prompt, BBT_PROMPT_DISCRETE, "a categorical optimizer tunes a discrete prompt");
	bbt_plan_bind(&p, &adam);
	ok(p.prompt == BBT_PROMPT_CONTINUOUS && p.white_box, "adam: continuous, white-box");
	bbt_plan_release(&p);
	set(&cfg, "method", "calibrated");
	bbt_plan_init(&p, &cfg, err, sizeof err);
	bbt_plan_bind(&p, NULL);
	ok(!p.tuned && !p.calibrate && p.prompt == BBT_PROMPT_NONE,
	   "a baseline: no prompt, --calibrate ignored");
	is_string(bbt_method_name(p.method), "calibrated", "method name");
	bbt_plan_release(&p);
	free(cfg.loss);
	cfg.loss = strdup("mse");
	ok(bbt_plan_init(&p, &cfg, err, sizeof err) == BBT_EINVAL && strstr(err, "mse"),
	   "a loss the table should have refused is named");
	bbt_config_release(&cfg);
}

static void test_matters(void)
{
	ok(bbt_run_setting_matters("tune", "dim"), "d matters when tuning");
	ok(!bbt_run_setting_matters("manual", "dim"), "not for a baseline");
	ok(!bbt_run_setting_matters("calibrated", "grad-check"), "nor --grad-check");
	ok(bbt_run_setting_matters("manual", "task"), "the task matters for all");
	ok(bbt_run_setting_matters("icl", "icl-shots"), "icl-shots for icl");
	ok(!bbt_run_setting_matters("tune", "icl-shots"), "and only there");
}

static void test_refusals(void)
{
	struct bbt_config cfg;
	bbt_config_init(&cfg);
	check_refusal(&cfg, &cma, &black, NULL, "a black-box run needs no gradient");
	check_refusal(&cfg, &adam, &white, NULL, "white-box on a backend with gradients");
	check_refusal(&cfg, &adam, &black,
	              "optimizer adam needs true gradients, which backend synthetic does not give "
	              "(`bbtbench list` shows the backends that do)", "white-box, no gradient");
	set(&cfg, "grad-check", "yes");
	check_refusal(&cfg, &zo, &white, NULL, "--grad-check of a ZO optimizer");
	check_refusal(&cfg, &bdpl, &white,
	              "--grad-check needs a continuous prompt; optimizer bdpl searches a "
	              "discrete one", "--grad-check of a discrete prompt");
	check_refusal(&cfg, &cma, &white,
	              "--grad-check: optimizer cmaes makes no gradient estimate to check "
	              "(zo-sgd and zo-adam do)", "--grad-check of an optimizer without estimate");
	set(&cfg, "loss", "perf");
	check_refusal(&cfg, &zo, &white,
	              "--grad-check needs a differentiable loss: --loss perf is piecewise "
	              "constant (use ce or hinge)", "--grad-check with --loss perf");
	bbt_config_release(&cfg);
}

static void test_run_id(void)
{
	struct bbt_config cfg;
	bbt_config_init(&cfg);
	set(&cfg, "out", "res");
	set(&cfg, "seed", "7");
	set(&cfg, "dim", "20");
	char *dir = NULL, *a = run_id(&cfg, &cma, &black, &dir);
	like(a ? a : "", "cmaes-synthetic-toy-d20-s7-", "id names optimizer, backend, task, d, seed");
	ok(a && strlen(a) == strlen("cmaes-synthetic-toy-d20-s7-") + 12, "and 12 hex digits");
	char *want = a ? bbt_asprintf("res/toy/%s", a) : NULL;
	is_string(dir, want ? want : "?", "folder OUT/TASK/ID");
	char *b = run_id(&cfg, &cma, &black, NULL);
	ok(a && b && strcmp(a, b) == 0, "the same settings, the same id");
	free(b);
	set(&cfg, "experiment", "elsewhere");
	set(&cfg, "search-space", "77");
	b = run_id(&cfg, &cma, &black, NULL);
	ok(a && b && strcmp(a, b) == 0, "where results go and K change no continuous run");
	free(b);
	set(&cfg, "dim", "21");
	b = run_id(&cfg, &cma, &black, NULL);
	ok(a && b && strcmp(a, b) != 0, "another d, another id");
	free(b);
	b = run_id(&cfg, &bdpl, &black, NULL);
	like(b ? b : "", "bdpl-synthetic-toy-L50-s7-", "a discrete run counts L positions");
	free(b);
	set(&cfg, "method", "manual");
	char *m1 = run_id(&cfg, NULL, &black, NULL);
	set(&cfg, "dim", "500");
	set(&cfg, "optimizer", "random");
	char *m2 = run_id(&cfg, NULL, &black, NULL);
	like(m1 ? m1 : "", "manual-synthetic-toy-s7-", "a baseline's id names the method");
	ok(m1 && m2 && strcmp(m1, m2) == 0, "a baseline ignores d and the optimizer");
	free(m1);
	free(m2);
	free(a);
	free(dir);
	free(want);
	bbt_config_release(&cfg);
}

/* The effective --eval-every of budget and popsize, eval-every left at 0. */
static long eval_every(const char *budget, const char *popsize)
{
	struct bbt_config cfg;
	struct bbt_plan p;
	char err[BBT_ERRLEN];
	bbt_config_init(&cfg);
	set(&cfg, "budget", budget);
	set(&cfg, "popsize", popsize);
	long n = bbt_plan_init(&p, &cfg, err, sizeof err) == BBT_OK ? (long)p.eval_every : -1;
	bbt_plan_release(&p);
	bbt_config_release(&cfg);
	return n;
}

static void test_eval_every(void)
{
	is_int(eval_every("8000", "20"), 100, "8000 calls: the BBT paper's every 100 calls");
	is_int(eval_every("200", "20"), 20, "200 calls: every generation, 10 evaluations");
	is_int(eval_every("600", "20"), 40, "600 calls: 30 rounded up to two generations");
	is_int(eval_every("2000", "20"), 100, "2000 calls: 20 evaluations");
	is_int(eval_every("50", "20"), 20, "fewer than 20 generations: every generation");
	is_int(eval_every("8000", "30"), 120, "at most 100, but in whole generations");
	is_int(eval_every("210", "0"), 11, "the optimizer's population: budget/20 rounded up");

	struct bbt_config cfg;
	bbt_config_init(&cfg);
	set(&cfg, "budget", "200");
	set(&cfg, "eval-every", "7");
	is_int(bbt_config_eval_every(&cfg), 7, "a value given wins");
	char *given = run_id(&cfg, &cma, &black, NULL);
	set(&cfg, "eval-every", "20");
	char *twenty = run_id(&cfg, &cma, &black, NULL);
	set(&cfg, "eval-every", "0");
	char *dflt = run_id(&cfg, &cma, &black, NULL);
	ok(dflt && twenty && strcmp(dflt, twenty) == 0,
	   "the default has the id of the value it comes to");
	ok(dflt && given && strcmp(dflt, given) != 0, "another value, another id");
	json_t *j = bbt_config_to_json(&cfg);
	is_int(json_integer_value(json_object_get(j, "eval-every")), 20,
	       "result.json's settings record the value used");
	json_decref(j);
	free(given);
	free(twenty);
	free(dflt);
	bbt_config_release(&cfg);
}

int main(void)
{
	plan(48);
	test_types();
	test_matters();
	test_refusals();
	test_run_id();
	test_eval_every();
	return done_testing();
}
