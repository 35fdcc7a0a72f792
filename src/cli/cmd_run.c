/*
 * cmd_run.c - `bbtbench run` (the default command): one run from the
 * command line and an INI file.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/blas.h"
#include "core/log.h"
#include "core/util.h"
#include "plugin/options.h"
#include "plugin/registry.h"
#include "run/results.h"
#include "run/run.h"
#include "run/runconfig.h"

/* getopt values of run's own options, after the shared ones. */
enum {
	OPT_FORCE = BBT_CLI_OPT_PLUGIN_DIR + 1,
	OPT_JSON,
	OPT_RESUME,
	OPT_RUN_KEY = 2000, /* + index into the run-settings table */
};

static void run_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench [run] [OPTIONS]\n"
	        "Tune a continuous prompt of a model you can only query (BBT).\n\n"
	        "Run settings (also [run] keys of an INI file; the command line wins):\n");
	for (size_t i = 0; i < bbt_config_key_count(); i++) {
		char flag[64];
		snprintf(flag, sizeof flag, "--%s %s", bbt_config_key_name(i),
		         bbt_config_key_metavar(i));
		const char *def = bbt_config_key_default(i);
		fprintf(f, "  %-26s %s%s%s%s\n", flag, bbt_config_key_help(i),
		        def[0] ? " [" : "", def, def[0] ? "]" : "");
	}
	fprintf(f,
	        "\nOther options:\n"
	        "  -c, --config FILE          read settings from an INI file ([run], [optimizer],\n"
	        "                             [optimizer.NAME], [backend], [backend.NAME])\n"
	        "  -O KEY=VALUE               plugin option: optimizer.KEY, backend.KEY, or a KEY\n"
	        "                             that one of the two plugins declares\n"
	        "      --force                run again even if these settings already finished\n"
	        "      --resume               go on with an interrupted run from its last finished\n"
	        "                             generation (state.bin) instead of from scratch\n"
	        "      --json                 print result.json on stdout instead of a table\n"
	        "      --plugin-dir DIR       look for plugins in DIR first (repeatable)\n"
	        "  -q, --quiet                no progress, warnings and errors only\n"
	        "  -v, --verbose              debug messages\n"
	        "  -h, --help                 this help\n\n"
	        "Results go to OUT/EXPERIMENT/RUN-ID/ (config.ini, trace.csv, result.json).\n"
	        "Run ids derive from the settings: the same settings finish once; --force redoes.\n"
	        "Ctrl-C stops after the current batch, scores the prompt kept so far on test and\n"
	        "keeps what was done; the same command with --resume continues it.\n"
	        "Example: bbtbench --optimizer random --backend synthetic --task toy --budget 400\n");
}

static void print_summary(const struct bbt_run_summary *s)
{
	printf("run      %s\n", s->run_dir);
	if (strcmp(s->status, "skipped") == 0)
		printf("status   already finished with these settings (use --force to run again)\n");
	else if (strcmp(s->method, "tune") != 0)
		printf("status   %s (baseline %s: %zu API calls, %.1f s)\n", s->status, s->method,
		       s->api_calls, s->wall);
	else
		printf("status   %s (%s after %zu API calls, %.1f s)\n", s->status, s->stop_reason,
		       s->api_calls, s->wall);
	int cal = !isnan(s->test_metric_calibrated);
	printf("\n%-12s %-12s %-12s %-12s %s%-10s\n", "train loss", "dev", "test", "test acc",
	       cal ? "test calib.  " : "", "API calls");
	char dev[32], test[32], acc[32], tcal[32] = "";
	snprintf(dev, sizeof dev, isnan(s->dev_metric) ? "-" : "%.2f %s", 100 * s->dev_metric,
	         s->metric);
	snprintf(test, sizeof test, isnan(s->test_metric) ? "-" : "%.2f %s", 100 * s->test_metric,
	         s->metric);
	snprintf(acc, sizeof acc, isnan(s->test_acc) ? "-" : "%.2f", 100 * s->test_acc);
	if (cal)
		snprintf(tcal, sizeof tcal, "%-12.2f ", 100 * s->test_metric_calibrated);
	printf("%-12.4f %-12s %-12s %-12s %s%zu\n", s->train_loss, dev, test, acc, tcal,
	       s->api_calls);
}

static int print_result_json(const char *run_dir)
{
	char *path = bbt_path_join(run_dir, "result.json"), *text = NULL, err[BBT_ERRLEN];
	size_t len;
	int rc = path ? bbt_file_read(path, &text, &len, err, sizeof err) : BBT_ENOMEM;
	if (rc == BBT_OK)
		fwrite(text, 1, len, stdout);
	else
		bbt_log(BBT_LOG_ERROR, NULL, "%s", err);
	free(text);
	free(path);
	return rc;
}

int bbt_cmd_run(int argc, char **argv)
{
	size_t nk = bbt_config_key_count();
	struct option *longopts = calloc(nk + 16, sizeof *longopts);
	if (longopts == NULL)
		return BBT_EXIT_FAILED;
	size_t n = 0;
	for (size_t i = 0; i < nk; i++)
		longopts[n++] = (struct option){ bbt_config_key_name(i),
		                                 bbt_config_key_is_flag(i) ? optional_argument
		                                                           : required_argument,
		                                 NULL, OPT_RUN_KEY + (int)i };
	longopts[n++] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[n++] = (struct option){ "force", no_argument, NULL, OPT_FORCE };
	longopts[n++] = (struct option){ "resume", no_argument, NULL, OPT_RESUME };
	longopts[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	longopts[n++] = (struct option){ "plugin-dir", required_argument, NULL, BBT_CLI_OPT_PLUGIN_DIR };
	longopts[n++] = (struct option){ "quiet", no_argument, NULL, 'q' };
	longopts[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };

	struct bbt_cli_common common = { 0 };
	struct bbt_run_flags flags = { 0 };
	int json_out = 0, status = BBT_EXIT_OK;
	const char *config_file = NULL;
	bbt_kvlist_t cli = { 0 }, plugin_args = { 0 };
	char err[BBT_ERRLEN];

	optind = 1;
	opterr = 0;
	int opt;
	while (status == BBT_EXIT_OK && (opt = getopt_long(argc, argv, "+:c:O:qvh", longopts, NULL)) != -1) {
		if (opt >= OPT_RUN_KEY) {
			bbt_kvlist_set(&cli, bbt_config_key_name((size_t)(opt - OPT_RUN_KEY)),
			               optarg ? optarg : "yes", "command line");
			continue;
		}
		int c = bbt_cli_common_option(&common, opt, optarg);
		if (c < 0)
			status = BBT_EXIT_USAGE;
		if (c != 0)
			continue;
		switch (opt) {
		case 'c': config_file = optarg; break;
		case 'O': bbt_kvlist_set(&plugin_args, optarg, "", "command line"); break;
		case OPT_FORCE: flags.force = 1; break;
		case OPT_RESUME: flags.resume = 1; break;
		case OPT_JSON: json_out = 1; break;
		case 'h':
			run_usage(stdout);
			status = -1;
			break;
		case ':':
			bbt_log(BBT_LOG_ERROR, NULL, "%s needs a value; see bbtbench --help",
			        argv[optind - 1]);
			status = BBT_EXIT_USAGE;
			break;
		default:
			bbt_log_unknown_option(NULL, argv[optind - 1], longopts);
			status = BBT_EXIT_USAGE;
		}
	}
	if (status == BBT_EXIT_OK && flags.force && flags.resume) {
		bbt_log(BBT_LOG_ERROR, NULL, "--force (start again) and --resume (go on) exclude each "
		        "other");
		status = BBT_EXIT_USAGE;
	}
	if (status == BBT_EXIT_OK && optind < argc) {
		bbt_log(BBT_LOG_ERROR, NULL, "unexpected argument '%s'; see bbtbench --help",
		        argv[optind]);
		status = BBT_EXIT_USAGE;
	}
	free(longopts);
	if (status != BBT_EXIT_OK) {
		bbt_kvlist_clear(&cli);
		bbt_kvlist_clear(&plugin_args);
		return status < 0 ? BBT_EXIT_OK : status;
	}

	/* Defaults, then the INI file, then the command line. */
	struct bbt_config cfg;
	int rc = bbt_config_init(&cfg), config_rc = BBT_OK;
	if (rc == BBT_OK && config_file != NULL)
		rc = config_rc = bbt_config_load_ini(&cfg, config_file, err, sizeof err);
	for (size_t i = 0; rc == BBT_OK && i < cli.n; i++)
		rc = bbt_config_set(&cfg, cli.items[i].key, cli.items[i].value, "command line", err,
		                    sizeof err);
	for (size_t i = 0; rc == BBT_OK && i < plugin_args.n; i++)
		rc = bbt_config_add_cli_option(&cfg, plugin_args.items[i].key, err, sizeof err);
	bbt_kvlist_clear(&cli);
	bbt_kvlist_clear(&plugin_args);

	bbt_registry_t *reg = NULL;
	if (rc == BBT_OK && (reg = bbt_cli_open_registry(&common)) == NULL)
		rc = bbt_error(err, sizeof err, BBT_ENOMEM, "cannot set up the plugin loader");
	bbt_registry_warn_problems(reg);

	struct bbt_run_summary summary;
	if (rc == BBT_OK) {
		struct bbt_blas blas;
		bbt_blas_query(&blas);
		bbt_blas_warn_fallback(&blas);
		bbt_run_install_signals();
		rc = bbt_run(&cfg, reg, &flags, &summary, err, sizeof err);
		if (rc == BBT_OK || rc == BBT_EINTR) {
			if (json_out)
				print_result_json(summary.run_dir);
			else
				print_summary(&summary);
		}
	}
	if (rc != BBT_OK)   /* an error, or BBT_RUNDIR_LOCKED: another process runs it */
		bbt_log(BBT_LOG_ERROR, NULL, "%s", err);
	bbt_registry_free(reg);
	bbt_config_release(&cfg);
	return config_rc < 0 ? bbt_exit_code_input(rc) : bbt_exit_code(rc);
}
