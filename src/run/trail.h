/*
 * trail.h - the prompt a run would have returned had it stopped at each API
 * call, scored again: `bbtbench eval RUN --trail`, and the test_metric
 * curves of `bbtbench plot` and `report`.
 *
 * prompts.tsv (prompt_file.h) holds every dev evaluation of a new
 * best-so-far point; the run returns the best on dev of them by the loop's
 * rule (bbt_selection_improves). Replaying that rule on the rows finds the
 * few calls at which the returned prompt changed; each of those prompts
 * is scored on a split exactly as `bbtbench eval` scores prompt.safetensors
 * (the same setup and scorer), so the last row is the run's own result.
 * No tuning is run again: a few evaluations per run.
 *
 * RUN/eval-trail-SPLIT.tsv (eval-trail-TASK-SPLIT.tsv for another task,
 * eval-trail-file-NAME.tsv for a data file; bbt_saved_output_name), written
 * atomically, one row per change, in call order:
 *
 *     call  dev_metric  metric  acc  f1
 *
 * call and dev_metric as in prompts.tsv; metric (the task's), acc and f1
 * on the split, as eval-SPLIT.json's "metrics" (%.17g: they read back as
 * the same doubles).
 *
 *     size_t n;
 *     bbt_trail_eval("results/toy/RUN", "test", &sp, reg, &path, &n, err, sizeof err);
 *     struct bbt_trail tr;
 *     bbt_trail_load("results/toy/RUN", &tr, err, sizeof err);   the test trail
 *     ... tr.call[k], tr.metric[k] ...
 *     bbt_trail_release(&tr);
 */
#ifndef BBT_TRAIL_H
#define BBT_TRAIL_H

#include <stddef.h>
#include "plugin/registry.h"
#include "run/saved.h"

#define BBT_TRAIL_PREFIX "eval-trail-"
#define BBT_TRAIL_TEST_NAME BBT_TRAIL_PREFIX "test.tsv"

/* Score the changes of run_dir's best-on-dev prompt on split (dev, test
 * or a data file; sp as `bbtbench eval` takes them) and write the trail
 * file; *path gets its path (malloc'ed; NULL: not wanted), *rows its
 * rows. Refused in one line naming the run (BBT_EINVAL): a baseline, a
 * discrete (BDPL) prompt, a run without prompts.tsv (BBT_ENOTFOUND);
 * BBT_EFORMAT naming file and line for a prompts.tsv that is not the
 * run's. Nothing is written unless every prompt was scored. */
int bbt_trail_eval(const char *run_dir, const char *split, const struct bbt_saved_params *sp,
                   bbt_registry_t *reg, char **path, size_t *rows, char *err, size_t errlen);

/* A run's test trail, read back. */
struct bbt_trail {
	size_t n;
	size_t *call;      /* in order; at a call given twice the later row counts */
	double *metric;    /* the task's metric on test of the prompt chosen at call[k] */
};

/* Read run_dir/eval-trail-test.tsv and check that it is the run's as it
 * finished: its last call is result.json's best_dev_call. BBT_ENOTFOUND
 * when there is no such file; BBT_EFORMAT, naming the file, when it is
 * malformed or not the finished run's. The messages end saying the
 * command that makes the file. tr is always releasable. */
int bbt_trail_load(const char *run_dir, struct bbt_trail *tr, char *err, size_t errlen);
void bbt_trail_release(struct bbt_trail *tr);

#endif /* BBT_TRAIL_H */
