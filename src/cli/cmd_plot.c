/*
 * cmd_plot.c - `bbtbench plot RESULTS_DIR`: convergence curves and a
 * metric against a grid key, as PNG and SVG (gnuplot).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "experiments/plot.h"
#include "experiments/resultset.h"
#include "core/util.h"

static void plot_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench plot [OPTIONS] RESULTS_DIR\n"
	        "Figures of the finished runs under RESULTS_DIR, drawn by gnuplot (gnuplot-nox):\n"
	        "convergence.{png,svg}: best training loss (or dev metric) against API calls,\n"
	        "median over the runs of each group with the interquartile range as a band\n"
	        "(--y test_metric: the test metric of the prompt each run chose on dev by then,\n"
	        "from its eval-trail-test.tsv: make it with `bbtbench eval RUN --trail`);\n"
	        "with --y grad_cos or grad_norm_ratio instead grad_cos.{png,svg} (...): the\n"
	        "--grad-check runs' estimate against the true gradient at each optimizer step;\n"
	        "with --x KEY also METRIC-vs-KEY.{png,svg}: mean ± std of a metric against KEY.\n"
	        "Baselines (--method manual, calibrated, icl) are dashed reference lines, unless\n"
	        "--by or --x is method. A line that pools runs differing in more than their\n"
	        "seeds says so in its title. The numbers (.dat) and gnuplot scripts (.gp) are\n"
	        "kept beside them.\n\n"
	        "  -o, --output DIR       where the figures go [RESULTS_DIR/plots]\n"
	        "  -b, --by KEY[,KEY...]  one line per value of KEY (or combination) [optimizer]\n"
	        "  -y, --y WHAT           train_loss, dev_metric, test_metric, grad_cos or\n"
	        "                         grad_norm_ratio [train_loss]\n"
	        "  -x, --x KEY            also plot --metric against KEY (e.g. dim)\n"
	        "  -m, --metric M         test_acc, test_f1, test_metric, test_metric_calibrated\n"
	        "                         (a --calibrate run's), dev_metric, train_loss,\n"
	        "                         api_calls or wall_time [test_metric: each task's own,\n"
	        "                         as its paper reports it (MRPC: F1)]\n"
	        "      --x-axis calls|wall  convergence against API calls, or wall time (a\n"
	        "                         gradient costs more than a forward) [calls]\n"
	        "      --reference M[,M]  the baselines drawn as reference lines (manual,\n"
	        "                         calibrated, icl; none) [all there are]\n"
	        "      --points N         points per convergence curve [200]\n"
	        "      --title TEXT       a title on the figures [none]\n"
	        "      --best-on-dev KEY  choose KEY on the dev metric, as a user would: of runs\n"
	        "                         that differ only in KEY (and seeds), keep the value\n"
	        "                         with the best mean dev metric (choices on stderr)\n"
	        "      --strict           refuse the folder when a result.json is not JSON\n"
	        "                         [report it and leave it out]\n"
	        "  -h, --help             this help\n\n"
	        "Examples: bbtbench plot results/cmaes-vs-adam --x dim\n"
	        "          bbtbench plot results/grad-check --y grad_cos --by q,mu\n");
}

enum { OPT_POINTS = 3200, OPT_TITLE, OPT_STRICT, OPT_X_AXIS, OPT_BEST_ON_DEV, OPT_REFERENCE };

int bbt_cmd_plot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "by", required_argument, NULL, 'b' },
		{ "y", required_argument, NULL, 'y' },
		{ "x", required_argument, NULL, 'x' },
		{ "metric", required_argument, NULL, 'm' },
		{ "points", required_argument, NULL, OPT_POINTS },
		{ "x-axis", required_argument, NULL, OPT_X_AXIS },
		{ "reference", required_argument, NULL, OPT_REFERENCE },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "best-on-dev", required_argument, NULL, OPT_BEST_ON_DEV },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bbt_plot_params p = bbt_plot_default_params();
	const char *out = NULL;
	long points;
	int opt, strict = 0;
	const char *best_on_dev = NULL;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:b:y:x:m:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'b': p.by = optarg; break;
		case 'y': p.y = optarg; break;
		case 'x': p.x = optarg; break;
		case 'm': p.metric = optarg; break;
		case OPT_POINTS:
			if (bbt_parse_long(optarg, &points) != 0 || points < 2 || points > 100000) {
				bbt_log(BBT_LOG_ERROR, NULL, "plot: --points '%s': expected 2 to 100000",
				        optarg);
				return BBT_EXIT_USAGE;
			}
			p.points = (size_t)points;
			break;
		case OPT_TITLE: p.title = optarg; break;
		case OPT_X_AXIS: p.x_axis = optarg; break;
		case OPT_REFERENCE: p.reference = optarg; break;
		case OPT_STRICT: strict = 1; break;
		case OPT_BEST_ON_DEV: best_on_dev = optarg; break;
		case 'h': plot_usage(stdout); return BBT_EXIT_OK;
		default:   /* ':' a value missing, '?' an unknown option */
			return bbt_cli_option_error("plot", opt, argv[optind - 1], longopts);
		}
	}
	if (argc - optind != 1) {
		bbt_log(BBT_LOG_ERROR, NULL, "plot: expected one results folder; see bbtbench plot --help");
		return BBT_EXIT_USAGE;
	}
	/* The key names the figure's files, so it may not lead out of -o. */
	if (p.x != NULL && !bbt_name_is_plain(p.x)) {
		bbt_log(BBT_LOG_ERROR, NULL, "plot: --x '%s': expected %s", p.x, BBT_PLAIN_WORD);
		return BBT_EXIT_USAGE;
	}
	char err[BBT_ERRLEN], *dir = NULL, *written[8];
	size_t nw = 0;
	bbt_resultset_t *rs = NULL;
	int rc = bbt_resultset_load(argv[optind], strict, &rs, err, sizeof err);
	if (rc == BBT_OK && best_on_dev != NULL && bbt_resultset_best_on_dev(rs, best_on_dev, stderr) < 0)
		rc = bbt_error(err, sizeof err, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK && bbt_resultset_combine_keys(rs, p.by) < 0)
		rc = bbt_error(err, sizeof err, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK) {
		dir = out ? bbt_strdup(out) : bbt_path_join(argv[optind], "plots");
		p.out_dir = dir;
		rc = dir ? bbt_plot_draw(rs, &p, written, 8, &nw, err, sizeof err)
		         : bbt_error(err, sizeof err, BBT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nw; i++) {
		printf("%s\n", written[i]);
		free(written[i]);
	}
	if (rc < 0)
		bbt_log(BBT_LOG_ERROR, NULL, "plot: %s", err);
	free(dir);
	bbt_resultset_free(rs);
	return bbt_exit_code(rc);
}
