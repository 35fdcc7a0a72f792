/*
 * plan.h - a run's settings resolved once into types: the first stage of a
 * run, and what every later stage reads instead of the settings' text.
 *
 *     struct bbt_plan p;
 *     bbt_plan_init(&p, cfg, err, sizeof err);       settings -> enums, numbers, seeds
 *     ... find the plugins ...
 *     bbt_plan_bind(&p, opt, be);                    the prompt kind, white-box
 *     bbt_plan_run_id(&p, task, opt, oopts, be, bopts, err, sizeof err);
 *     ... bbt_plan_check_gradients(&p, opt, be, err, sizeof err) before the
 *         optimizer is created ...
 *     bbt_plan_release(&p);
 *
 * The plan owns the run id (a hash of the settings that can change the
 * outcome, see bbt_run_setting_matters) and the run's folder. Nothing in a
 * plan changes after bbt_plan_run_id; the loop never looks at a setting's
 * text again.
 */
#ifndef BBT_PLAN_H
#define BBT_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/plugin.h>
#include "data/dataset.h"
#include "plugin/options.h"
#include "run/loss.h"
#include "run/runconfig.h"
#include "run/schedule.h"
#include "run/subspace.h"

enum bbt_method {
	BBT_METHOD_TUNE = 1,        /* an optimizer searches a prompt */
	BBT_METHOD_MANUAL = 2,      /* baseline: the task's template, zero-shot */
	BBT_METHOD_CALIBRATED = 3,  /* baseline: the same, calibrated */
	BBT_METHOD_ICL = 4,         /* baseline: in-context demonstrations */
};

enum bbt_prompt_kind {
	BBT_PROMPT_NONE = 0,        /* a baseline: no prompt is tuned */
	BBT_PROMPT_CONTINUOUS = 1,  /* P vectors p = A z + p0 at the embedding layer */
	BBT_PROMPT_DISCRETE = 2,    /* L n-grams of a candidate vocabulary, spliced in as tokens */
};

struct bbt_plan {
	const struct bbt_config *cfg;  /* the settings as given: config.ini, result.json's
	                                  "settings", the origin of a bad name */
	enum bbt_method method;
	int tuned;                     /* method tune */
	enum bbt_prompt_kind prompt;   /* set by bbt_plan_bind; NONE for a baseline */
	int white_box;                 /* the optimizer takes true gradients (bbt_plan_bind) */
	int grad_check;                /* --grad-check yes: compare the ZO estimate with them */
	int calibrate;                 /* --calibrate yes: the tuned prompt also calibrated */
	int deep;                      /* --prompt-layers all: a prompt per layer (BBTv2) */
	enum bbt_schedule schedule;    /* deep: the order layers are tuned in */
	enum bbt_loss loss;
	enum bbt_projection projection;
	enum bbt_split_source split_source;
	size_t dim;                    /* subspace dimension d */
	size_t prompt_len;             /* P prompt vectors, or L discrete positions */
	size_t search_space;           /* K candidate n-grams per discrete position */
	size_t budget;                 /* API calls on the training batch */
	size_t popsize;                /* candidates per ask; 0: the optimizer's default */
	size_t k_shot;                 /* training examples per class */
	size_t eval_every;             /* API calls between dev evaluations */
	size_t icl_shots;              /* in-context demonstrations per class */
	double sigma;                  /* the optimizer's initial step size */
	double alpha;                  /* projection scale */
	long seed;                     /* the run seed */
	long data_seed;                /* the effective data seed */
	uint32_t seed_optimizer, seed_backend, seed_projection;   /* derived from seed */
	const double *layer_sigma_hat; /* deep: each layer's sigma-hat as saved (the
	                                  caller's), or NULL: measured */
	const double *init_z;          /* --init-prompt: the optimizer's x0 (layers x d values, the
	                                  caller's), or NULL */
	char *run_id;                  /* bbt_plan_run_id: the folder's name */
	char *run_dir;                 /* OUT/EXPERIMENT/RUN-ID */
};

/* Resolve cfg (which must outlive the plan). BBT_EINVAL naming the setting
 * for a value the table should have refused. */
int bbt_plan_init(struct bbt_plan *p, const struct bbt_config *cfg, char *err, size_t errlen);
void bbt_plan_release(struct bbt_plan *p);

/* The prompt's kind and white-box from the optimizer's flags (opt NULL for
 * a baseline). */
void bbt_plan_bind(struct bbt_plan *p, const struct bbt_plugin *opt);

/* White-box optimizers and --grad-check need the backend's gradient and a
 * continuous prompt with a differentiable loss; --grad-check also the
 * optimizer's estimate. BBT_ENOTSUP with the reason, or 0. */
int bbt_plan_check_gradients(const struct bbt_plan *p, const struct bbt_plugin *opt,
                             const struct bbt_plugin *be, char *err, size_t errlen);

/* A backend flagged BBT_BACKEND_NO_CONTINUOUS takes no continuous prompt:
 * BBT_ENOTSUP, in one line naming what it takes, for a continuous run. */
int bbt_plan_check_backend(const struct bbt_plan *p, const struct bbt_plugin *be, char *err,
                           size_t errlen);

/* The run id from every setting that matters and the plugins' resolved
 * options (opt and its options NULL for a baseline), and the run's folder.
 * Re-running the same settings finds the same folder. */
int bbt_plan_run_id(struct bbt_plan *p, const char *task, const struct bbt_plugin *opt,
                    const bbt_options_t *opt_opts, const struct bbt_plugin *be,
                    const bbt_options_t *be_opts, char *err, size_t errlen);

/* The name of a method ("tune", "manual", ...). */
const char *bbt_method_name(enum bbt_method m);

/* Whether run setting `key` can change the outcome of a run of `method`:
 * a baseline ignores the tuning settings (optimizer, d, budget, ...), and
 * only in-context learning reads icl-shots. Run ids, and a grid's
 * de-duplication of its combinations, leave the others out. */
int bbt_run_setting_matters(const char *method, const char *key);

#endif /* BBT_PLAN_H */
