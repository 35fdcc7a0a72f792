/*
 * plot.h - figures of finished runs, drawn by gnuplot (Debian: gnuplot-nox).
 *
 * Two kinds, each written as NAME.dat (the numbers), NAME.gp (the gnuplot
 * script, to restyle a figure by hand) and NAME.png / NAME.svg:
 *
 *   convergence   best training loss (or best dev metric so far, drawn as
 *                 steps: it changes only at an evaluation) against API
 *                 calls or wall time: the median over the runs of each
 *                 group (one line per value of the --by key, e.g. per
 *                 optimizer) with the interquartile range as a band;
 *                 or the test metric of the prompt each run would have
 *                 returned by then (chosen on dev; its eval-trail-test.tsv,
 *                 trail.h), also as steps, the baselines' test metric as
 *                 reference lines;
 *   METRIC-vs-KEY a table's metric (mean ± std over seeds, error bars)
 *                 against a grid key, one line per group: accuracy vs d for
 *                 CMA-ES and ZO-Adam. Numeric keys spanning a factor of 20
 *                 or more get a log axis. Each group's points sit slightly
 *                 aside of the true x (the tics) so error bars do not hide
 *                 each other.
 *
 * Axes say what a key means ("subspace dimension d", not "dim"); legends
 * are in numeric order and give the runs behind each point: "cmaes (n=5)",
 * or "(n=3-5)", the points then labelled with their own n. Baselines (runs
 * whose method is manual, calibrated or icl) are no group: each method's
 * mean is a dashed horizontal reference line, unless the figure is by
 * method. When the runs of one line differ in a setting besides their
 * seeds, the title says what it pools ("pooled over dim (5 values)").
 * trace.csv's columns are found by their header names.
 *
 * Figures are 1200x800 PNG (a paper column at 300 dpi scaled to 4 in)
 * and 600x400 SVG, with 20-point (PNG) / 12-point (SVG) type and a
 * colour-blind-safe palette (Okabe & Ito).
 * The program is "gnuplot", or $BBTBENCH_GNUPLOT.
 */
#ifndef BBT_PLOT_H
#define BBT_PLOT_H

#include <stddef.h>
#include "experiments/resultset.h"

struct bbt_plot_params {
	const char *out_dir;   /* where the files go (created) */
	const char *by;        /* group key: one line per value ["optimizer"] */
	const char *y;         /* convergence: train_loss | dev_metric | test_metric |
	                        * grad_cos | grad_norm_ratio ["train_loss"] */
	const char *x;         /* METRIC-vs-KEY: the key; NULL: no such figure */
	const char *metric;    /* its metric ["test_metric": each task's own, as its paper] */
	size_t points;         /* points per convergence curve [200] */
	const char *title;     /* figure title; NULL: none (papers caption instead) */
	const char *x_axis;    /* convergence: calls | wall (seconds into the run) ["calls"] */
	int convergence;       /* draw the convergence figure [1] */
	const char *name;      /* the files' name; NULL: "convergence" (or --y), "METRIC-vs-KEY" */
	const char *reference; /* the baselines drawn as reference lines, comma-separated
	                        * methods ("manual,calibrated"; "none"); NULL: all there are */
};

struct bbt_plot_params bbt_plot_default_params(void);

/* Draw the figures; `written` gets the PNG and SVG paths (malloc'ed, up to
 * cap; *n_written says how many). BBT_ENOTFOUND when gnuplot is missing
 * (the .dat and .gp files are still written). */
int bbt_plot_draw(const bbt_resultset_t *rs, const struct bbt_plot_params *p, char **written,
                  size_t cap, size_t *n_written, char *err, size_t errlen);

#endif /* BBT_PLOT_H */
