/*
 * cmd_eval.c - `bbtbench eval RUN_DIR`: a run's saved prompt scored again,
 * on its dev or test split, another task's, or a file, with the same
 * template, label words, projection and metrics; the result beside the run
 * as eval-NAME.json; with --trail, each prompt the run would have returned
 * had it stopped earlier (trail.h), as eval-trail-NAME.tsv.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "run/saved.h"
#include "run/trail.h"

enum {
	OPT_SPLIT = BBT_CLI_OPT_PLUGIN_DIR + 1,
	OPT_TASK,
	OPT_DATA_DIR,
	OPT_BACKEND,
	OPT_MODEL,
	OPT_JSON,
	OPT_TRAIL,
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench eval RUN_DIR [OPTIONS]\n"
	        "Score a run's saved prompt (prompt.safetensors, or a discrete prompt in\n"
	        "result.json) again with the run's template, label words and metrics, and\n"
	        "write RUN_DIR/eval-NAME.json beside the run (its own files are never touched).\n"
	        "With --trail, score instead each prompt the run would have returned had it\n"
	        "stopped earlier: the best on dev of prompts.tsv's rows, by the run's own rule,\n"
	        "at each call where it changed; one row each in RUN_DIR/eval-trail-NAME.tsv\n"
	        "(call, dev_metric, metric, acc, f1). The last row is the run's own result.\n\n"
	        "  --split dev|test|FILE  the run's dev or test split, or a data file in the\n"
	        "                         task's test format [test]\n"
	        "  --task NAME|FILE       another task: its splits, template and label words\n"
	        "  --data-dir DIR         where the data sets are [the run's]\n"
	        "  --backend NAME         another backend [the run's]\n"
	        "  --model FILE           another model: its hidden size and vocabulary must\n"
	        "                         be the run's [the run's]\n"
	        "      --json             print the eval JSON instead of one line\n"
	        "      --trail            the prompts of prompts.tsv the run chose on dev, not\n"
	        "                         only the last (continuous BBT and BBTv2 runs)\n"
	        "      --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
	        "  -q, --quiet            warnings and errors only\n"
	        "  -v, --verbose          debug messages\n"
	        "  -h, --help             this help\n\n"
	        "Examples: bbtbench eval results/sst2/cmaes-ggml-sst2-d500-s42-0123456789ab --split dev\n"
	        "          bbtbench eval results/sst2/cmaes-ggml-sst2-d500-s42-0123456789ab --trail\n"
	        "Exit status: 0 scored, 1 the scoring failed, 2 a bad run folder, file or model.\n");
}

static json_t *eval_json(const struct bbt_saved *sv, const char *split, const char *data,
                         size_t n, const struct bbt_eval *ev)
{
	const bbt_task_t *t = sv->setup.task;
	json_t *j = json_object(), *words = json_array(), *pr = json_object(),
	       *m = json_object();
	for (size_t l = 0; l < sv->setup.L; l++)
		json_array_append_new(words, json_string(t->label_words[l]));
	json_object_set_new(j, "run_id", json_string(sv->run_id));
	json_object_set_new(j, "bbtbench_version", json_string(PACKAGE_VERSION));
	json_object_set_new(j, "split", json_string(split));
	json_object_set_new(j, "data", json_string(data));
	json_object_set_new(j, "n", json_integer((json_int_t)n));
	json_object_set_new(j, "task", json_string(t->name));
	json_object_set_new(j, "template", json_string(t->template_text));
	json_object_set_new(j, "label_words", words);
	json_object_set_new(j, "backend", json_string(sv->cfg.backend));
	json_object_set_new(j, "model", json_string(sv->cfg.model));
	json_object_set_new(pr, "kind", json_string(sv->kind == BBT_PROMPT_DISCRETE ? "discrete"
	                                                                          : "continuous"));
	json_object_set_new(pr, "sha256", sv->sha256[0] ? json_string(sv->sha256) : json_null());
	json_object_set_new(j, "prompt", pr);
	json_object_set_new(m, "metric", json_string(bbt_metric_name(t->metric)));
	json_object_set_new(m, "value", json_real(ev->metric));
	json_object_set_new(m, "acc", json_real(ev->acc));
	json_object_set_new(m, "f1", json_real(ev->f1));
	json_object_set_new(j, "metrics", m);
	return j;
}

static int evaluate(const char *run_dir, const char *split, const struct bbt_saved_params *sp,
                    bbt_registry_t *reg, int json_out, char *err, size_t errlen)
{
	struct bbt_saved sv;
	int rc = bbt_saved_open(&sv, run_dir, sp, reg, err, errlen);
	bbt_encoded_t *own = NULL;
	const bbt_encoded_t *enc = NULL;
	const char *data = NULL;
	if (rc == BBT_OK)
		rc = bbt_saved_split(&sv, split, &enc, &own, &data, err, errlen);
	struct bbt_eval ev;
	struct bbt_prompt pr = bbt_saved_prompt(&sv);
	if (rc == BBT_OK)
		rc = bbt_score_eval_set(sv.sc, enc, &pr, &ev, err, errlen);
	json_t *j = NULL;
	char *name = NULL, *path = NULL, *text = NULL;
	if (rc == BBT_OK) {
		j = eval_json(&sv, split, data, enc->n_seq, &ev);
		name = bbt_saved_output_name(&sv, split, "eval-", ".json");
		path = name ? bbt_path_join(run_dir, name) : NULL;
		text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))
		         : NULL;
		rc = text && path ? bbt_file_write_atomic(path, text, strlen(text), err, errlen)
		                  : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	if (rc == BBT_OK && json_out)
		printf("%s\n", text);
	else if (rc == BBT_OK)
		printf("%s  %.2f %s  (acc %.2f, f1 %.2f, %zu examples)  %s\n", split,
		       100 * ev.metric, bbt_metric_name(sv.setup.task->metric), 100 * ev.acc,
		       100 * ev.f1, enc->n_seq, path);
	free(text);
	free(path);
	free(name);
	json_decref(j);
	bbt_encoded_free(own);
	bbt_saved_release(&sv);
	return rc;
}

static int evaluate_trail(const char *run_dir, const char *split,
                          const struct bbt_saved_params *sp, bbt_registry_t *reg, char *err,
                          size_t errlen)
{
	char *path = NULL;
	size_t rows = 0;
	int rc = bbt_trail_eval(run_dir, split, sp, reg, &path, &rows, err, errlen);
	if (rc == BBT_OK)
		printf("%s  %zu prompt%s chosen on dev, scored  %s\n", split, rows, rows == 1 ? "" : "s",
		       path);
	free(path);
	return rc;
}

int bbt_cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "split", required_argument, NULL, OPT_SPLIT },
		{ "task", required_argument, NULL, OPT_TASK },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "trail", no_argument, NULL, OPT_TRAIL },
		BBT_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct bbt_cli_common common = { 0 };
	struct bbt_saved_params sp = bbt_saved_default_params();
	const char *split = "test";
	int json_out = 0, trail = 0, opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qvh", longopts, NULL)) != -1) {
		int c = bbt_cli_common_option(&common, opt, optarg);
		if (c < 0)
			return BBT_EXIT_USAGE;
		if (c > 0)
			continue;
		switch (opt) {
		case OPT_SPLIT: split = optarg; break;
		case OPT_TASK: sp.task = optarg; break;
		case OPT_DATA_DIR: sp.data_dir = optarg; break;
		case OPT_BACKEND: sp.backend = optarg; break;
		case OPT_MODEL: sp.model = optarg; break;
		case OPT_JSON: json_out = 1; break;
		case OPT_TRAIL: trail = 1; break;
		case 'h': usage(stdout); return BBT_EXIT_OK;
		default:   /* ':' a value missing, '?' an unknown option */
			return bbt_cli_option_error("eval", opt, argv[optind - 1], longopts);
		}
	}
	if (optind != argc - 1) {
		bbt_log(BBT_LOG_ERROR, NULL, "eval: expected one run folder; see bbtbench eval --help");
		return BBT_EXIT_USAGE;
	}
	if (trail && json_out) {
		bbt_log(BBT_LOG_ERROR, NULL, "eval: --json is not for --trail (it writes a TSV file)");
		return BBT_EXIT_USAGE;
	}
	char err[BBT_ERRLEN];
	bbt_registry_t *reg = bbt_cli_open_registry(&common);
	if (reg == NULL)
		return BBT_EXIT_FAILED;
	int rc = trail ? evaluate_trail(argv[optind], split, &sp, reg, err, sizeof err)
	               : evaluate(argv[optind], split, &sp, reg, json_out, err, sizeof err);
	if (rc != BBT_OK)
		bbt_log(BBT_LOG_ERROR, NULL, "%s", err);
	bbt_registry_free(reg);
	return bbt_exit_code_input(rc);
}
