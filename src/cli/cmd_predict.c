/*
 * cmd_predict.c - `bbtbench predict RUN_DIR [FILE|-]`: label texts with a
 * run's saved prompt, one output line per input line (TSV or JSON lines),
 * for use in a pipeline.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "data/dataset.h"
#include "run/saved.h"

enum { OPT_FORMAT = BBT_CLI_OPT_PLUGIN_DIR + 1 };

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench predict RUN_DIR [FILE|-] [OPTIONS]\n"
	        "Label texts with a run's saved prompt, its template and label words. The\n"
	        "input (standard input for - or none) holds one example per line: the task's\n"
	        "fields separated by tabs, in the task's order, or under a header line that\n"
	        "names them (other columns are ignored). One output line per example: its\n"
	        "line number, the predicted label word and each label word's score (logit).\n\n"
	        "      --format tsv|jsonl  output format [tsv, with a header line]\n"
	        "      --plugin-dir DIR    look for plugins in DIR first (repeatable)\n"
	        "  -q, --quiet             warnings and errors only\n"
	        "  -v, --verbose           debug messages\n"
	        "  -h, --help              this help\n\n"
	        "Example: cut -f1 dev.tsv | bbtbench predict results/sst2/RUN-ID --format jsonl\n");
}

/* Split line at tabs into at most max columns (in place). */
static size_t split_tabs(char *line, char **col, size_t max)
{
	size_t n = 0;
	for (char *p = line; n < max;) {
		col[n++] = p;
		char *tab = strchr(p, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

/* Which column holds each task field: a header naming them, or the first
 * columns in order. Returns 1 when line was the header. */
static int map_header(const bbt_task_t *t, char *line, int *colof)
{
	char *copy = bbt_strdup(line), *col[64];
	size_t n = copy ? split_tabs(copy, col, 64) : 0, found = 0;
	for (size_t f = 0; f < t->n_fields; f++) {
		colof[f] = (int)f;
		for (size_t c = 0; c < n; c++)
			if (strcmp(col[c], t->fields[f]) == 0) {
				colof[f] = (int)c;
				found++;
				break;
			}
	}
	free(copy);
	if (found == t->n_fields)
		return 1;
	for (size_t f = 0; f < t->n_fields; f++)
		colof[f] = (int)f;
	return 0;
}

/* The input's examples (labels 0: unknown). */
static int read_input(const bbt_task_t *t, const char *path, bbt_dataset_t **out, char *err,
                      size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
		return bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
	bbt_dataset_t *ds = calloc(1, sizeof *ds);
	int colof[64], rc = BBT_OK, first = 1;
	char *line = NULL, *col[64];
	size_t cap = 0, lineno = 0, alloc = 0;
	ssize_t len;
	if (ds == NULL || (ds->path = bbt_strdup(path)) == NULL || t->n_fields > 64)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (ds != NULL)
		ds->n_fields = t->n_fields;
	while (rc == BBT_OK && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (first && (first = 0, map_header(t, line, colof)))
			continue;
		size_t n = split_tabs(line, col, 64);
		if (ds->n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			struct bbt_example *ex = realloc(ds->ex, alloc * sizeof *ex);
			if (ex == NULL) {
				rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
				break;
			}
			ds->ex = ex;
		}
		struct bbt_example *e = &ds->ex[ds->n++];
		*e = (struct bbt_example){ .field = calloc(t->n_fields, sizeof(char *)),
			                   .label = 0, .line = lineno };
		for (size_t fi = 0; e->field && fi < t->n_fields; fi++) {
			if ((size_t)colof[fi] >= n) {
				rc = bbt_error(err, errlen, BBT_EFORMAT,
				               "%s:%zu: expected %zu tab-separated fields (%s), found %zu",
				               path, lineno, t->n_fields, t->fields[fi], n);
				break;
			}
			e->field[fi] = bbt_strdup(col[colof[fi]]);
		}
		if (rc == BBT_OK && e->field == NULL)
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (rc != BBT_OK) {
		bbt_dataset_free(ds);
		return rc;
	}
	*out = ds;
	return BBT_OK;
}

static void print_row(const struct bbt_saved *sv, const bbt_dataset_t *ds, size_t i,
                      const float *lg, int jsonl)
{
	const bbt_task_t *t = sv->setup.task;
	size_t L = sv->setup.L, best = 0;
	for (size_t l = 1; l < L; l++)
		if (lg[l] > lg[best])
			best = l;
	if (!jsonl) {
		printf("%zu\t%s", ds->ex[i].line, t->label_words[best]);
		for (size_t l = 0; l < L; l++)
			printf("\t%.9g", lg[l]);
		putchar('\n');
		return;
	}
	json_t *j = json_object(), *sc = json_object();
	json_object_set_new(j, "line", json_integer((json_int_t)ds->ex[i].line));
	json_object_set_new(j, "label", json_string(t->label_words[best]));
	json_object_set_new(j, "index", json_integer((json_int_t)best));
	for (size_t l = 0; l < L; l++)
		json_object_set_new(sc, t->label_words[l], json_real(lg[l]));
	json_object_set_new(j, "scores", sc);
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(j);
}

static int predict(const char *run_dir, const char *input, int jsonl, bbt_registry_t *reg,
                   char *err, size_t errlen)
{
	struct bbt_saved sv;
	struct bbt_saved_params sp = bbt_saved_default_params();
	bbt_dataset_t *ds = NULL;
	bbt_encoded_t *enc = NULL;
	float *lg = NULL;
	int rc = bbt_saved_open(&sv, run_dir, &sp, reg, err, errlen);
	if (rc == BBT_OK)
		rc = read_input(sv.setup.task, input, &ds, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_setup_encode(&sv.setup, &sv.plan, ds, &enc, err, errlen);
	if (rc == BBT_OK && (lg = malloc((ds->n + 1) * sv.setup.L * sizeof *lg)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	struct bbt_prompt pr = bbt_saved_prompt(&sv);
	if (rc == BBT_OK && ds->n > 0)
		rc = bbt_score_split(sv.sc, enc, &pr, lg, err, errlen);
	if (rc == BBT_OK && !jsonl) {
		printf("line\tlabel");
		for (size_t l = 0; l < sv.setup.L; l++)
			printf("\t%s", sv.setup.task->label_words[l]);
		putchar('\n');
	}
	for (size_t i = 0; rc == BBT_OK && i < ds->n; i++)
		print_row(&sv, ds, i, lg + i * sv.setup.L, jsonl);
	free(lg);
	bbt_encoded_free(enc);
	bbt_dataset_free(ds);
	bbt_saved_release(&sv);
	return rc;
}

int bbt_cmd_predict(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		BBT_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct bbt_cli_common common = { 0 };
	int jsonl = 0, opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qvh", longopts, NULL)) != -1) {
		int c = bbt_cli_common_option(&common, opt, optarg);
		if (c < 0)
			return BBT_EXIT_USAGE;
		if (c > 0)
			continue;
		switch (opt) {
		case OPT_FORMAT:
			if (strcmp(optarg, "tsv") != 0 && strcmp(optarg, "jsonl") != 0) {
				bbt_log(BBT_LOG_ERROR, NULL, "predict: --format '%s': expected tsv or jsonl",
				        optarg);
				return BBT_EXIT_USAGE;
			}
			jsonl = strcmp(optarg, "jsonl") == 0;
			break;
		case 'h': usage(stdout); return BBT_EXIT_OK;
		default:   /* ':' a value missing, '?' an unknown option */
			return bbt_cli_option_error("predict", opt, argv[optind - 1], longopts);
		}
	}
	if (optind >= argc || argc - optind > 2) {
		bbt_log(BBT_LOG_ERROR, NULL,
		        "predict: expected a run folder and an input file; see bbtbench predict --help");
		return BBT_EXIT_USAGE;
	}
	char err[BBT_ERRLEN];
	bbt_registry_t *reg = bbt_cli_open_registry(&common);
	if (reg == NULL)
		return BBT_EXIT_FAILED;
	int rc = predict(argv[optind], optind + 1 < argc ? argv[optind + 1] : "-", jsonl, reg, err,
	                 sizeof err);
	if (rc != BBT_OK)
		bbt_log(BBT_LOG_ERROR, NULL, "%s", err);
	bbt_registry_free(reg);
	return bbt_exit_code_input(rc);
}
