/*
 * main.c - bbtbench's entry point: the command table and dispatch.
 *
 * `bbtbench COMMAND [OPTIONS]`; when the first argument is an option, the
 * command is `run` (so `bbtbench --optimizer cmaes --task rte` works as
 * users write it).
 */
#include "config.h"

#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>
#include "cli/commands.h"
#include "core/log.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct bbt_command commands[] = {
	{ "run", bbt_cmd_run, "tune a prompt (the default when the first argument is an option)" },
	{ "list", bbt_cmd_list, "list plugins (paths, ABI versions), skipped modules, tasks and the BLAS" },
	{ "tasks", bbt_cmd_tasks, "what data each task finds under --data-dir, and what is missing" },
	{ "eval", bbt_cmd_eval, "score a run's saved prompt again: its dev or test split, a task, a file" },
	{ "predict", bbt_cmd_predict, "label texts with a run's saved prompt (TSV or JSON lines)" },
	{ "grid", bbt_cmd_grid, "run or resume a grid of runs from an INI file (--jobs, --shard)" },
	{ "table", bbt_cmd_table, "a paper table of finished runs: mean ± std over seeds, tests" },
	{ "plot", bbt_cmd_plot, "convergence curves and metric-vs-key figures (gnuplot: PNG, SVG)" },
	{ "report", bbt_cmd_report, "run or resume grids, then write their tables, figures, runs.csv (make paper)" },
	{ "convert", bbt_cmd_convert, "convert a Hugging Face BERT/RoBERTa folder to GGUF" },
	{ "info", bbt_cmd_info, "describe a GGUF model file: architecture, tokenizer, tensors" },
	{ "serve", bbt_cmd_serve, "serve a model over HTTP for --backend http (doc/protocol.md)" },
	{ "help", cmd_help, "show help for a command: bbtbench help COMMAND" },
	{ "version", cmd_version, "print the version and plugin ABI" },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct bbt_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench [COMMAND] [OPTIONS]\n"
	        "Black-box prompt tuning of language models, and a bench for the derivative-free\n"
	        "optimizers that do it.\n\n"
	        "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
	        "\n"
	        "Without a command, the options are those of `run`:\n"
	        "  bbtbench --optimizer random --backend synthetic --task toy --budget 400\n\n"
	        "  -h, --help      this help (`bbtbench run --help` lists every run option)\n"
	        "      --version   print the version\n\n"
	        "Environment:\n"
	        "  BBTBENCH_DATA         the default --data-dir\n"
	        "  BBTBENCH_TASKS_PATH   task folders (NAME.yaml each), colon-separated, searched\n"
	        "                        before the built-in tasks\n"
	        "  BBTBENCH_PLUGIN_PATH  plugin folders, colon-separated, searched after --plugin-dir\n"
	        "                        (`bbtbench list --help` gives the whole search order)\n"
	        "  XDG_DATA_HOME         per-user plugins and tasks in $XDG_DATA_HOME/bbtbench/\n"
	        "                        plugins and .../tasks [~/.local/share]\n"
	        "  BBTBENCH_GNUPLOT      the gnuplot program `bbtbench plot` runs [gnuplot]\n"
	        "  BBTBENCH_TEST_BLAS_CORE  a test hook: report this OpenBLAS core on an AVX-512\n"
	        "                        CPU (the kernels that run do not change)\n"
	        "  BBTBENCH_TEST_STOP_AFTER  a test hook: N stops a tuned run as Ctrl-C would,\n"
	        "                        after the generation that reaches N API calls\n\n"
	        "Exit status: 0 success, 1 the run failed, 2 usage or configuration error.\n");
}

static int cmd_version(int argc, char **argv)
{
	printf("bbtbench %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, BBT_ABI_MAJOR, BBT_ABI_MINOR);
	return BBT_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return BBT_EXIT_OK;
	}
	const struct bbt_command *c = find_command(argv[1]);
	if (c == NULL) {
		bbt_log(BBT_LOG_ERROR, NULL, "help: no command '%s'; see bbtbench --help", argv[1]);
		return BBT_EXIT_USAGE;
	}
	char *args[] = { argv[1], "--help", NULL };
	return c->fn(2, args);
}

int main(int argc, char **argv)
{
	/* GSL's default handler aborts the process; every GSL call's status
	 * is checked instead. */
	gsl_set_error_handler_off();
	/* Idle OpenMP threads (the native backend's) must sleep, not spin: the
	 * cores are needed by the OpenBLAS threads of the next GEMM. libgomp
	 * reads this when a plugin loads it; a user's own setting wins. */
	setenv("OMP_WAIT_POLICY", "passive", 0);

	if (argc < 2) {
		usage(stderr);
		return BBT_EXIT_USAGE;
	}
	const char *first = argv[1];
	if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0) {
		usage(stdout);
		return BBT_EXIT_OK;
	}
	if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0)
		return cmd_version(argc, argv);
	if (first[0] == '-')
		return bbt_cmd_run(argc, argv);

	const struct bbt_command *c = find_command(first);
	if (c == NULL) {
		bbt_log(BBT_LOG_ERROR, NULL, "unknown command '%s'; see bbtbench --help", first);
		return BBT_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
