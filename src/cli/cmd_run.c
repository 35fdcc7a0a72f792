/*
 * cmd_run.c - `bbtbench run` and `bbtbench list`.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "data/catalog.h"
#include "cli/commands.h"
#include "core/log.h"
#include "plugin/options.h"
#include "plugin/registry.h"
#include "run/results.h"
#include "run/run.h"
#include "run/runconfig.h"
#include "core/suggest.h"
#include "data/task.h"
#include "core/util.h"

int bbt_exit_code(int status)
{
	switch (status) {
	case BBT_OK:
	case BBT_STOP:
		return BBT_EXIT_OK;
	case BBT_EINVAL:
	case BBT_ENOTFOUND:
	case BBT_EFORMAT:
	case BBT_EABI:
	case BBT_ENOTSUP:
		return BBT_EXIT_USAGE;
	default:
		return BBT_EXIT_FAILED;
	}
}

int bbt_exit_code_input(int status)
{
	return status == BBT_EIO ? BBT_EXIT_USAGE : bbt_exit_code(status);
}

void bbt_log_unknown_option(const char *command, const char *arg, const struct option *longopts)
{
	const char *names[128];
	size_t n = 0;
	while (n < sizeof names / sizeof names[0] && longopts[n].name != NULL) {
		names[n] = longopts[n].name;
		n++;
	}
	char typed[64] = "";
	if (strncmp(arg, "--", 2) == 0)   /* "--optimzer=cmaes": optimzer */
		snprintf(typed, sizeof typed, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	const char *guess = typed[0] ? bbt_suggest(typed, names, n) : NULL;
	const char *prefix = command ? command : "", *colon = command ? ": " : "";
	const char *space = command ? " " : "";
	if (guess != NULL)
		bbt_log(BBT_LOG_ERROR, NULL,
		        "%s%sunknown option '%s'; did you mean '--%s'? (see bbtbench %s%s--help)",
		        prefix, colon, arg, guess, prefix, space);
	else
		bbt_log(BBT_LOG_ERROR, NULL, "%s%sunknown option '%s'; see bbtbench %s%s--help",
		        prefix, colon, arg, prefix, space);
}

/* Options every plugin-using command takes. */
struct common {
	const char *plugin_dirs[16];
	size_t n_plugin_dirs;
};

enum {
	OPT_PLUGIN_DIR = 1000,
	OPT_FORCE,
	OPT_JSON,
	OPT_OPTIONS,
	OPT_RUN_KEY = 2000, /* + index into the run-settings table */
};

static int common_option(struct common *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_PLUGIN_DIR:
		if (c->n_plugin_dirs == sizeof c->plugin_dirs / sizeof c->plugin_dirs[0]) {
			bbt_log(BBT_LOG_ERROR, NULL, "too many --plugin-dir options (at most 16)");
			return -1;
		}
		c->plugin_dirs[c->n_plugin_dirs++] = arg;
		return 1;
	case 'q':
		bbt_log_set_level(BBT_LOG_WARNING);
		return 1;
	case 'v':
		bbt_log_set_level(BBT_LOG_DEBUG);
		return 1;
	}
	return 0;
}

/* The plugin loader over the search path; nothing is opened yet. */
static bbt_registry_t *open_registry(const struct common *c)
{
	bbt_registry_t *reg = bbt_registry_alloc();
	if (reg == NULL || bbt_registry_add_default_dirs(reg, c->plugin_dirs, c->n_plugin_dirs) < 0) {
		bbt_log(BBT_LOG_ERROR, NULL, "out of memory");
		bbt_registry_free(reg);
		return NULL;
	}
	return reg;
}

/* ------------------------------------------------------------------ */
/* run */

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
	        "      --json                 print result.json on stdout instead of a table\n"
	        "      --plugin-dir DIR       look for plugins in DIR first (repeatable)\n"
	        "  -q, --quiet                no progress, warnings and errors only\n"
	        "  -v, --verbose              debug messages\n"
	        "  -h, --help                 this help\n\n"
	        "Results go to OUT/EXPERIMENT/RUN-ID/ (config.ini, trace.csv, result.json).\n"
	        "Run ids derive from the settings: the same settings finish once; --force redoes.\n"
	        "Ctrl-C stops after the current batch and keeps what was done.\n"
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
	longopts[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	longopts[n++] = (struct option){ "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR };
	longopts[n++] = (struct option){ "quiet", no_argument, NULL, 'q' };
	longopts[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };

	struct common common = { 0 };
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
		int c = common_option(&common, opt, optarg);
		if (c < 0)
			status = BBT_EXIT_USAGE;
		if (c != 0)
			continue;
		switch (opt) {
		case 'c': config_file = optarg; break;
		case 'O': bbt_kvlist_set(&plugin_args, optarg, "", "command line"); break;
		case OPT_FORCE: flags.force = 1; break;
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
	if (rc == BBT_OK && (reg = open_registry(&common)) == NULL)
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

/* ------------------------------------------------------------------ */
/* list */

static void list_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench list [--options] [--plugin-dir DIR]...\n"
	        "List the plugins found (kind, name, ABI, file), any module that was skipped\n"
	        "and why, the tasks, and the BLAS in use.\n\n"
	        "      --options          also list each plugin's options and defaults\n"
	        "      --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
	        "  -h, --help             this help\n");
}

static const char *type_name(enum bbt_option_type t)
{
	switch (t) {
	case BBT_OPT_INT: return "int";
	case BBT_OPT_DOUBLE: return "number";
	case BBT_OPT_BOOL: return "bool";
	case BBT_OPT_STRING: return "text";
	case BBT_OPT_CHOICE: return "choice";
	}
	return "?";
}

/* What a plugin can do with gradients, for `list`; NULL: nothing to say. */
static const char *capabilities(const struct bbt_plugin *d)
{
	if (d->kind == BBT_PLUGIN_BACKEND)
		return bbt_plugin_backend_gradient(d)
		               ? "gradients: yes (white-box optimizers such as adam, --grad-check)"
		               : "gradients: no (black-box optimizers only)";
	if (d->flags & BBT_OPTIMIZER_WANTS_GRADIENT)
		return "white-box: needs a backend with gradients";
	if (d->flags & BBT_OPTIMIZER_CATEGORICAL)
		return "discrete prompts (categorical search space)";
	if (bbt_plugin_gradient_estimate(d))
		return "estimates gradients: --grad-check compares them with the true ones";
	return NULL;
}

static void list_plugins(const bbt_registry_t *reg, int with_options)
{
	printf("Plugins:\n");
	size_t n = bbt_registry_count(reg);
	for (int kind = BBT_PLUGIN_OPTIMIZER; kind <= BBT_PLUGIN_BACKEND; kind++) {
		for (size_t i = 0; i < n; i++) {
			const struct bbt_plugin_entry *e = bbt_registry_entry(reg, i);
			const struct bbt_plugin *d = e->desc;
			if ((int)d->kind != kind)
				continue;
			printf("  %-9s  %-12s ABI %u.%u  %s\n", bbt_plugin_kind_name(d->kind), d->name,
			       (unsigned)d->abi_major, (unsigned)d->abi_minor,
			       d->description ? d->description : "");
			printf("  %-9s  %-12s %s (%s)\n", "", "", e->path, e->dir_origin);
			if (!e->named_for_lookup)
				printf("  %-9s  %-12s only `list` sees it: a run opens files named "
				       "%s_NAME.so\n", "", "", bbt_plugin_kind_name(d->kind));
			const char *caps = capabilities(d);
			if (caps != NULL)
				printf("  %-9s  %-12s %s\n", "", "", caps);
			for (const struct bbt_option_spec *s = d->options;
			     with_options && s != NULL && s->name != NULL; s++)
				printf("  %-9s  %-12s   %s=%s (%s%s%s) %s\n", "", "", s->name,
				       s->def ? s->def : "", type_name(s->type), s->choices ? ": " : "",
				       s->choices ? s->choices : "", s->help ? s->help : "");
		}
	}
	if (n == 0)
		printf("  (none)\n");
	if (bbt_registry_problem_count(reg) > 0) {
		printf("\nSkipped modules:\n");
		for (size_t i = 0; i < bbt_registry_problem_count(reg); i++)
			printf("  %s\n", bbt_registry_problem(reg, i));
	}
	printf("\nPlugin search path:\n");
	for (size_t i = 0; i < bbt_registry_dir_count(reg); i++)
		printf("  %s\n", bbt_registry_dir(reg, i));
}


static void list_tasks(void)
{
	bbt_catalog_t *cat = bbt_catalog_load();
	if (cat == NULL) {
		bbt_log(BBT_LOG_ERROR, NULL, "out of memory");
		return;
	}
	printf("\nTasks:\n");
	for (size_t i = 0; i < cat->n; i++)
		printf("  %-10s %-48s %s\n", cat->tasks[i]->name,
		       cat->tasks[i]->description ? cat->tasks[i]->description : "",
		       cat->tasks[i]->path);
	for (size_t i = 0; i < cat->n_bad; i++)
		printf("  (skipped) %s\n", cat->bad[i]);
	bbt_catalog_free(cat);

	const char *dirs[20];
	size_t nd = bbt_task_dirs(dirs, 20);
	printf("\nTask search path:\n");
	for (size_t d = 0; d < nd; d++)
		printf("  %s\n", dirs[d]);
}

int bbt_cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "options", no_argument, NULL, OPT_OPTIONS },
		{ "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common common = { 0 };
	int with_options = 0, opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:qvh", longopts, NULL)) != -1) {
		int c = common_option(&common, opt, optarg);
		if (c < 0)
			return BBT_EXIT_USAGE;
		if (c > 0)
			continue;
		if (opt == OPT_OPTIONS) {
			with_options = 1;
		} else if (opt == 'h') {
			list_usage(stdout);
			return BBT_EXIT_OK;
		} else {
			bbt_log_unknown_option("list", argv[optind - 1], longopts);
			return BBT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		bbt_log(BBT_LOG_ERROR, NULL, "list: unexpected argument '%s'", argv[optind]);
		return BBT_EXIT_USAGE;
	}
	bbt_registry_t *reg = open_registry(&common);
	if (reg == NULL)
		return BBT_EXIT_FAILED;
	bbt_registry_scan(reg);
	list_plugins(reg, with_options);
	list_tasks();
	putchar('\n');
	bbt_blas_print_header(stdout);
	bbt_registry_free(reg);
	return BBT_EXIT_OK;
}
