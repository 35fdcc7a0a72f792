/*
 * cmd_table.c - `bbtbench table RESULTS_DIR`: one metric of the finished
 * runs as a paper table.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "experiments/resultset.h"
#include "experiments/stats.h"
#include "experiments/table.h"
#include "core/util.h"

static void table_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench table [OPTIONS] RESULTS_DIR\n"
	        "Tabulate one metric of the finished runs under RESULTS_DIR (any depth): mean ±\n"
	        "sample standard deviation over the runs (seeds) of each cell, best of each\n"
	        "column in bold. Runs that differ in more than their seeds are split into rows\n"
	        "by the settings they differ in.\n\n"
	        "  -r, --rows KEY[,KEY]   row keys: settings (optimizer, dim, task, ...) or plugin\n"
	        "                         options (optimizer.KEY, backend.KEY) [optimizer]\n"
	        "  -c, --cols KEY         column key [none: one column]\n"
	        "  -m, --metric M         test_acc, test_f1, test_metric, test_metric_calibrated\n"
	        "                         (a --calibrate run's), dev_metric, train_loss,\n"
	        "                         api_calls or wall_time [test_metric: each task's own,\n"
	        "                         as its paper reports it (MRPC: F1)]\n"
	        "  -f, --format F         md, latex (booktabs), csv or json [md]\n"
	        "      --wilcoxon         mark (†) cells that differ from their column's best:\n"
	        "                         two-sided Wilcoxon signed-rank test, runs paired by their\n"
	        "                         seeds (exact for up to %d pairs)\n"
	        "      --alpha P          threshold of that test [0.05]\n"
	        "      --pair-by KEY[,KEY...]  the keys that pair runs across cells [the seed\n"
	        "                         keys that vary: seed, data-seed]\n"
	        "      --ci bootstrap     add each mean's 95%% percentile bootstrap interval\n"
	        "                         [lo, hi] (10000 resamples, reproducible)\n"
	        "      --best-on-dev KEY  choose KEY on the dev metric, as a user would: of runs\n"
	        "                         that differ only in KEY (and seeds), keep the value\n"
	        "                         with the best mean dev metric (choices on stderr)\n"
	        "      --strict           refuse the folder when a result.json is not JSON\n"
	        "                         [report it and leave it out]\n"
	        "  -h, --help             this help\n\n"
	        "Example: bbtbench table results/cmaes-vs-adam --rows optimizer --cols dim\n",
	        BBT_WILCOXON_EXACT_MAX);
}

enum { OPT_WILCOXON = 3100, OPT_ALPHA, OPT_PAIR_BY, OPT_STRICT, OPT_CI, OPT_BEST_ON_DEV };

int bbt_cmd_table(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rows", required_argument, NULL, 'r' },
		{ "cols", required_argument, NULL, 'c' },
		{ "metric", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "wilcoxon", no_argument, NULL, OPT_WILCOXON },
		{ "alpha", required_argument, NULL, OPT_ALPHA },
		{ "pair-by", required_argument, NULL, OPT_PAIR_BY },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "best-on-dev", required_argument, NULL, OPT_BEST_ON_DEV },
		{ "ci", required_argument, NULL, OPT_CI },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bbt_table_params p = bbt_table_default_params();
	int opt, strict = 0;
	const char *best_on_dev = NULL;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":r:c:m:f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': p.rows = optarg; break;
		case 'c': p.cols = optarg; break;
		case 'm': p.metric = optarg; break;
		case 'f': p.format = optarg; break;
		case OPT_WILCOXON: p.wilcoxon = 1; break;
		case OPT_ALPHA:
			if (bbt_parse_double(optarg, &p.alpha) != 0 || p.alpha <= 0 || p.alpha >= 1) {
				bbt_log(BBT_LOG_ERROR, NULL, "table: --alpha '%s': expected a number in (0, 1)",
				        optarg);
				return BBT_EXIT_USAGE;
			}
			break;
		case OPT_PAIR_BY: p.pair_by = optarg; break;
		case OPT_STRICT: strict = 1; break;
		case OPT_BEST_ON_DEV: best_on_dev = optarg; break;
		case OPT_CI:
			if (strcmp(optarg, "bootstrap") != 0) {
				bbt_log(BBT_LOG_ERROR, NULL, "table: --ci '%s': expected bootstrap", optarg);
				return BBT_EXIT_USAGE;
			}
			p.ci_bootstrap = 1;
			break;
		case 'h': table_usage(stdout); return BBT_EXIT_OK;
		default:   /* ':' a value missing, '?' an unknown option */
			return bbt_cli_option_error("table", opt, argv[optind - 1], longopts);
		}
	}
	if (argc - optind != 1) {
		bbt_log(BBT_LOG_ERROR, NULL, "table: expected one results folder; see bbtbench table --help");
		return BBT_EXIT_USAGE;
	}
	char err[BBT_ERRLEN];
	bbt_resultset_t *rs = NULL;
	int rc = bbt_resultset_load(argv[optind], strict, &rs, err, sizeof err);
	if (rc == BBT_OK && best_on_dev != NULL && bbt_resultset_best_on_dev(rs, best_on_dev, stderr) < 0)
		rc = bbt_error(err, sizeof err, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK)
		rc = bbt_table_write(rs, &p, stdout, err, sizeof err);
	if (rc < 0)
		bbt_log(BBT_LOG_ERROR, NULL, "table: %s", err);
	bbt_resultset_free(rs);
	return bbt_exit_code(rc);
}
