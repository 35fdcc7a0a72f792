/*
 * cmd_report.c - `bbtbench report FILE.ini...`: run or resume each
 * experiment's grid, then write its tables, figures and runs.csv under
 * doc/results/EXPERIMENT/ (`make paper`).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/blas.h"
#include "core/log.h"
#include "core/util.h"
#include "experiments/grid.h"
#include "experiments/report.h"
#include "experiments/resultset.h"

static void report_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench report [OPTIONS] FILE.ini...\n"
	        "       bbtbench report --runs-csv RESULTS_DIR\n"
	        "For each grid file: run or resume its grid (as `bbtbench grid` does), then\n"
	        "write DEST/EXPERIMENT/: runs.csv (one row per finished run: settings, seeds,\n"
	        "metrics, API calls, tokens scored, wall time, BLAS core and threads, bbtbench\n"
	        "version, model file's SHA-256), the tables and figures its [report] section\n"
	        "names (NAME.md and NAME.tex; NAME.png and NAME.svg), and a README.md showing\n"
	        "them. The same runs make the same files, but for wall times. A y=test_metric\n"
	        "figure draws each run's eval-trail-test.tsv (the test metric of the prompt\n"
	        "chosen on dev by each call), made as `bbtbench eval RUN --trail` does where\n"
	        "it is missing (with --no-run, an error). A file that fails does not stop\n"
	        "the next ones; the exit status says it failed.\n\n"
	        "  [report]\n"
	        "  table.NAME  = rows=KEY[,KEY] cols=KEY metric=M wilcoxon=yes alpha=P pair-by=KEY[,KEY]\n"
	        "                ci=bootstrap\n"
	        "  figure.NAME = x=KEY by=KEY metric=M title=\"...\" reference=METHOD[,METHOD]\n"
	        "                                                     (M against KEY)\n"
	        "  figure.NAME = y=train_loss|dev_metric|test_metric by=KEY x-axis=calls|wall\n"
	        "                points=N                             (convergence)\n"
	        "  both: where=KEY=VALUE (only those runs; KEY!=VALUE: all others),\n"
	        "        best-on-dev=KEY (KEY chosen on dev)\n\n"
	        "      --dest DIR         where EXPERIMENT/ folders go [doc/results]\n"
	        "      --out DIR          results root (instead of each file's [run] out)\n"
	        "      --run              run or resume the grids first [the default]\n"
	        "      --no-run           only make the folders from the runs that finished\n"
	        "  -j, --jobs N           runs at a time, each in its own process [1]\n"
	        "      --runs-csv DIR     print the runs.csv of the finished runs under DIR\n"
	        "      --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
	        "  -q, --quiet            no progress, warnings and errors only\n"
	        "  -v, --verbose          debug messages\n"
	        "  -h, --help             this help\n\n"
	        "Example: bbtbench report --jobs 2 ablations/real/*.ini   (what `make paper` does)\n");
}

/* One grid file: its grid (unless no_run), then its folder. */
static int report_one(const char *path, const char *out, const char *dest, int run,
                      size_t jobs, const struct bbt_cli_common *common, char *err,
                      size_t errlen)
{
	bbt_grid_t *g = NULL;
	bbt_report_t *r = NULL;
	bbt_registry_t *reg = NULL;  /* running: the grid's, then the test trails' */
	struct bbt_config cfg;
	int have_cfg = 0;
	int rc = bbt_grid_load(path, &g, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_report_load(path, &r, err, errlen);
	if (rc == BBT_OK) {
		rc = bbt_grid_config(g, 0, &cfg, err, errlen);
		have_cfg = 1;
	}
	if (rc == BBT_OK && run) {
		reg = bbt_cli_open_registry(common);
		struct bbt_grid_params p = bbt_grid_default_params();
		struct bbt_grid_summary s;
		p.jobs = jobs;
		p.out = out;
		rc = reg ? bbt_grid_run(g, reg, &p, &s, err, errlen)
		         : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		if (reg != NULL)
			printf("grid %s: %zu runs: %zu finished, %zu skipped (already finished), "
			       "%zu failed, %zu interrupted, %.1f s\n",
			       path, s.total, s.finished, s.skipped, s.failed, s.interrupted, s.wall);
		/* Failed runs are left out of the tables, which still say what
		 * the others found; the exit status says it was not all. */
		if (rc == BBT_EIO) {
			bbt_log(BBT_LOG_ERROR, NULL, "%s", err);
			rc = BBT_OK;
			run = -1;
		}
	}
	char *results = NULL, *folder = NULL;
	if (rc == BBT_OK) {
		results = bbt_asprintf("%s/%s", out ? out : cfg.out, bbt_grid_experiment(g));
		folder = bbt_path_join(dest, bbt_grid_experiment(g));
		rc = results && folder ? bbt_report_write(r, results, folder, reg, err, errlen)
		                       : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	if (rc == BBT_OK)
		printf("report %s: %s/\n", path, folder);
	free(results);
	free(folder);
	bbt_registry_free(reg);
	if (have_cfg)
		bbt_config_release(&cfg);
	bbt_report_free(r);
	bbt_grid_free(g);
	if (rc == BBT_OK && run < 0)
		return bbt_error(err, errlen, BBT_EIO, "%s: some runs failed (errors above)", path);
	return rc;
}

static int runs_csv(const char *dir)
{
	char err[BBT_ERRLEN];
	bbt_resultset_t *rs = NULL;
	int rc = bbt_resultset_load(dir, 0, &rs, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_report_runs_csv(rs, stdout, err, sizeof err);
	if (rc < 0)
		bbt_log(BBT_LOG_ERROR, NULL, "report: %s", err);
	bbt_resultset_free(rs);
	return bbt_exit_code(rc);
}

enum { OPT_DEST = BBT_CLI_OPT_PLUGIN_DIR + 1, OPT_OUT, OPT_RUN, OPT_NO_RUN, OPT_RUNS_CSV };

int bbt_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dest", required_argument, NULL, OPT_DEST },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "run", no_argument, NULL, OPT_RUN },
		{ "no-run", no_argument, NULL, OPT_NO_RUN },
		{ "jobs", required_argument, NULL, 'j' },
		{ "runs-csv", required_argument, NULL, OPT_RUNS_CSV },
		BBT_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct bbt_cli_common common = { 0 };
	const char *dest = "doc/results", *out = NULL, *csv_dir = NULL;
	int run = 1, opt, taken;
	long jobs = 1;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":j:qvh", longopts, NULL)) != -1) {
		if ((taken = bbt_cli_common_option(&common, opt, optarg)) != 0) {
			if (taken < 0)
				return BBT_EXIT_USAGE;
			continue;
		}
		switch (opt) {
		case OPT_DEST: dest = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_RUN: run = 1; break;
		case OPT_NO_RUN: run = 0; break;
		case OPT_RUNS_CSV: csv_dir = optarg; break;
		case 'j':
			if (bbt_parse_long(optarg, &jobs) != 0 || jobs < 1 || jobs > 1024) {
				bbt_log(BBT_LOG_ERROR, NULL, "report: --jobs '%s': expected 1 to 1024",
				        optarg);
				return BBT_EXIT_USAGE;
			}
			break;
		case 'h': report_usage(stdout); return BBT_EXIT_OK;
		default:   /* ':' a value missing, '?' an unknown option */
			return bbt_cli_option_error("report", opt, argv[optind - 1], longopts);
		}
	}
	if (csv_dir != NULL) {
		if (optind != argc) {
			bbt_log(BBT_LOG_ERROR, NULL, "report: --runs-csv takes no grid file");
			return BBT_EXIT_USAGE;
		}
		return runs_csv(csv_dir);
	}
	if (optind == argc) {
		bbt_log(BBT_LOG_ERROR, NULL,
		        "report: expected one or more grid files; see bbtbench report --help");
		return BBT_EXIT_USAGE;
	}
	if (run) {
		/* Before any worker forks: they inherit having said it. */
		struct bbt_blas blas;
		bbt_blas_query(&blas);
		bbt_blas_warn_fallback(&blas);
	}
	/* A file that fails (a grid without results under --no-run, a run
	 * that failed) does not keep the next ones from their folders; the
	 * exit status is the first failure's. An interrupt stops here. */
	char err[BBT_ERRLEN];
	int rc = BBT_OK;
	for (int i = optind; i < argc && rc != BBT_EINTR; i++) {
		int one = report_one(argv[i], out, dest, run, (size_t)jobs, &common, err, sizeof err);
		if (one < 0)
			bbt_log(BBT_LOG_ERROR, NULL, "report: %s", err);
		if (rc == BBT_OK || one == BBT_EINTR)
			rc = one;
	}
	return bbt_exit_code(rc);
}
