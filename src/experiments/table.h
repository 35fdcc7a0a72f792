/*
 * table.h - a results table: one metric of the finished runs, grouped into
 * rows and columns by settings, as the papers print it.
 *
 *     bbtbench table results/cmaes-vs-adam --rows optimizer --cols dim
 *
 *     | optimizer | dim=50           | dim=100          |
 *     |:----------|-----------------:|-----------------:|
 *     | cmaes     | **85.20 ± 1.30** | **86.00 ± 0.90** |
 *     | zo-adam   | 80.10 ± 2.20 †   | 83.40 ± 1.10     |
 *
 * A cell is the mean ± sample standard deviation (n - 1) over the runs
 * that share its row and column values and differ only in their seeds
 * ("seed", "data-seed", the --pair-by key; where a run was written does not
 * count): runs that differ in another setting or option split the cell,
 * that key becoming one more row key (said on stderr), and a run repeated
 * in a cell is an error naming both folders. "(n=K)" follows every cell
 * when the cells hold different numbers of runs. The best cell of each column is in
 * bold (highest accuracy, F1, dev metric; lowest loss, calls, time). With
 * the Wilcoxon test, a cell whose runs, paired with the best cell's by
 * seed, differ significantly (two-sided, exact for n <= 25; see stats.h) is
 * marked with a dagger, and a footnote states the test and threshold.
 * --ci bootstrap adds each mean's 95% percentile bootstrap interval
 * ([lo, hi]; 10000 resamples, seeded so that tables are reproducible).
 * Percent metrics are shown x100 in md and latex, raw in csv and json.
 */
#ifndef BBT_TABLE_H
#define BBT_TABLE_H

#include <stddef.h>
#include <stdio.h>
#include "experiments/resultset.h"

struct bbt_table_params {
	const char *rows;     /* row keys, comma-separated ("optimizer" or "task,optimizer") */
	const char *cols;     /* column key; NULL: a single column */
	const char *metric;   /* test_metric (each task's own, as its paper reports it) | test_acc
	                       * | test_f1 | dev_metric | train_loss | api_calls | wall_time */
	const char *format;   /* md | latex | csv | json */
	int wilcoxon;         /* mark cells significantly different from the column's best */
	double alpha;         /* significance threshold of that test */
	const char *pair_by;  /* the keys that pair runs across cells, comma-separated;
	                       * NULL: the seed keys that vary (seed, data-seed) */
	int ci_bootstrap;     /* add each mean's 95% percentile bootstrap interval */
};

struct bbt_table_params bbt_table_default_params(void);

/* Write the table of rs to f. BBT_EINVAL for an unknown metric or format,
 * or a key no run has (the message names it). */
int bbt_table_write(const bbt_resultset_t *rs, const struct bbt_table_params *p, FILE *f,
                    char *err, size_t errlen);

#endif /* BBT_TABLE_H */
