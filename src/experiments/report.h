/*
 * report.h - an experiment's published results, made from its grid file:
 * `bbtbench report FILE.ini` runs or resumes the grid (grid.h), then
 * writes DEST/EXPERIMENT/:
 *
 *     runs.csv            one row per finished run (bbt_report_runs_csv)
 *     NAME.md, NAME.tex   each table.NAME of [report] (table.h: Markdown,
 *                         LaTeX with booktabs)
 *     NAME.png, NAME.svg  each figure.NAME (plot.h), with NAME.dat (the
 *                         numbers) and NAME.gp (the gnuplot script)
 *     README.md           the tables and figures in file order, and the
 *                         command that makes the folder again
 *
 * The grid file's [report] section says what to make, one line per table
 * or figure, its words KEY=VALUE separated by spaces:
 *
 *     [report]
 *     table.accuracy = rows=optimizer cols=dim metric=test_metric wilcoxon=yes
 *     figure.accuracy-vs-d = x=dim by=optimizer where=task=sst2
 *     figure.convergence = y=dev_metric by=optimizer x-axis=calls
 *     figure.test-budget = y=test_metric by=optimizer where=dim=200
 *
 *   table   rows, cols, metric, wilcoxon (yes|no), alpha, pair-by,
 *           ci (bootstrap): as `bbtbench table` takes them
 *   figure  x=KEY: the metric against KEY (METRIC-vs-KEY); without x, a
 *           convergence figure of y (train_loss | dev_metric |
 *           test_metric: of the prompt chosen on dev by each call, from
 *           each run's eval-trail-test.tsv, trail.h) against x-axis
 *           (calls | wall); by, metric, points, title="...",
 *           reference=METHOD[,METHOD] (the baselines drawn as reference
 *           lines; "none"; by default all there are)
 *   both    where=KEY=VALUE, repeatable: only the runs with that value;
 *           best-on-dev=KEY: KEY chosen per setting on the dev metric
 *           (bbt_resultset_best_on_dev; README.md lists the choices)
 *
 * Without [report] the folder holds runs.csv and README.md. Everything
 * written is a function of the finished runs and the file (no date, no
 * path of this machine, rows and columns in a fixed order), so the folder
 * made again from the same runs differs only where wall time is shown
 * (runs.csv's result.wall_time_s, a figure with x-axis=wall).
 *
 *     bbt_report_t *r;
 *     if (bbt_report_load("ablations/real/cmaes-vs-adam.ini", &r, err, sizeof err) < 0) ...
 *     rc = bbt_report_write(r, "results/cmaes-vs-adam", "doc/results/cmaes-vs-adam",
 *                           reg, err, sizeof err);
 *     bbt_report_free(r);
 */
#ifndef BBT_REPORT_H
#define BBT_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include "experiments/resultset.h"
#include "plugin/registry.h"

typedef struct bbt_report bbt_report_t;

/* Read and check the [report] section of a grid file (every word and
 * value; errors name FILE:LINE). A file without one is a report of
 * runs.csv alone. */
int bbt_report_load(const char *path, bbt_report_t **out, char *err, size_t errlen);
void bbt_report_free(bbt_report_t *r);

/* Make dest (created) from the finished runs under results_dir. A figure
 * that gnuplot cannot draw is BBT_ENOTFOUND after everything else was
 * written. A test_metric figure's runs get their eval-trail-test.tsv
 * made where it is missing (or not the finished run's) with reg's
 * plugins; reg NULL (--no-run): that is an error naming the run. Nothing
 * else is written outside dest. */
int bbt_report_write(const bbt_report_t *r, const char *results_dir, const char *dest,
                     bbt_registry_t *reg, char *err, size_t errlen);

/* One CSV row per run, sorted by its settings (numbers by value), after a
 * header: run_id; the settings (the names `bbtbench run` takes, where the
 * run wrote its files left out); the plugins' options as optimizer.KEY
 * and backend.KEY; then the facts (resultset.h: result.api_calls,
 * metrics.test_acc, blas.core, model.sha256, ...), each name with a dot.
 * A run without a column's value has an empty field. */
int bbt_report_runs_csv(const bbt_resultset_t *rs, FILE *f, char *err, size_t errlen);

#endif /* BBT_REPORT_H */
