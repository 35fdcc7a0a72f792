/*
 * cmd_tasks.c - `bbtbench tasks`: what data each task finds under the data
 * folder, and what is missing where.
 */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "commands.h"
#include "dataset.h"
#include "log.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench tasks [--data-dir DIR] [--k-shot K]\n"
	        "For every task: the full files found under the data folder (with their\n"
	        "row counts), the published k-shot seeds, where the test set comes from,\n"
	        "and what is missing where.\n\n"
	        "      --data-dir DIR   data folder (default $BBTBENCH_DATA, else data)\n"
	        "      --k-shot K       shots per class of the k-shot folders to list [16]\n"
	        "  -h, --help           this help\n");
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* "FILE (N rows)" or "FILE: the reader's error", for one full data file.
 * Returns 1 when the file was read. */
static int describe_file(const bbt_task_t *task, const struct bbt_source *src,
                         const char *data_dir, char *out, size_t n)
{
	char *path = bbt_path_join(data_dir, src->file);
	bbt_dataset_t *ds = NULL;
	char err[BBT_ERRLEN];
	int rc = path ? bbt_dataset_read(task, src, path, &ds, err, sizeof err) : BBT_ENOMEM;
	if (rc == BBT_OK && ds->skipped > 0)
		snprintf(out, n, "%s (%zu rows; %zu unlabelled skipped)", src->file, ds->n,
		         ds->skipped);
	else if (rc == BBT_OK)
		snprintf(out, n, "%s (%zu rows)", src->file, ds->n);
	else
		snprintf(out, n, "%s", err);   /* names the path and the expected format */
	bbt_dataset_free(ds);
	free(path);
	return rc == BBT_OK;
}

/* Seeds of <dir>/<k>-<seed>/ folders holding train.tsv and dev.tsv, as
 * text; counts those that also hold test.tsv. */
static size_t kshot_seeds(const char *dir, size_t k, char *out, size_t n, size_t *with_test)
{
	struct dirent **names = NULL;
	int m = scandir(dir, &names, NULL, alphasort);
	long seeds[64];
	size_t ns = 0;
	*with_test = 0;
	for (int i = 0; i < m; i++) {
		unsigned long kk;
		long seed;
		char tail;
		if (sscanf(names[i]->d_name, "%lu-%ld%c", &kk, &seed, &tail) == 2 && kk == k &&
		    ns < 64) {
			char *sub = bbt_path_join(dir, names[i]->d_name);
			char *tr = sub ? bbt_path_join(sub, "train.tsv") : NULL;
			char *dv = sub ? bbt_path_join(sub, "dev.tsv") : NULL;
			char *te = sub ? bbt_path_join(sub, "test.tsv") : NULL;
			if (tr && dv && exists(tr) && exists(dv)) {
				seeds[ns++] = seed;
				*with_test += te && exists(te);
			}
			free(sub);
			free(tr);
			free(dv);
			free(te);
		}
		free(names[i]);
	}
	free(names);
	/* numeric order: 13 21 42 87 100 */
	for (size_t a = 1; a < ns; a++)
		for (size_t b = a; b > 0 && seeds[b - 1] > seeds[b]; b--) {
			long t = seeds[b];
			seeds[b] = seeds[b - 1];
			seeds[b - 1] = t;
		}
	size_t len = 0;
	out[0] = '\0';
	for (size_t s = 0; s < ns && len < n; s++)
		len += (size_t)snprintf(out + len, n - len, "%s%ld", s ? " " : "", seeds[s]);
	return ns;
}

static int report_task(const bbt_task_t *t, const char *data_dir, size_t k)
{
	if (t->generator != NULL) {
		printf("%-9s ready\n  data    built in (generator %s)\n\n", t->name, t->generator);
		return 1;
	}
	char train[BBT_ERRLEN] = "", test[BBT_ERRLEN] = "", kshot[BBT_ERRLEN] = "";
	int has_train = t->train && describe_file(t, t->train, data_dir, train, sizeof train);
	int has_test = t->test && describe_file(t, t->test, data_dir, test, sizeof test);
	size_t n_seeds = 0, with_test = 0;
	char seeds[512] = "";
	if (t->kshot != NULL) {
		char *dir = bbt_path_join(data_dir, t->kshot->file);
		n_seeds = dir ? kshot_seeds(dir, k, seeds, sizeof seeds, &with_test) : 0;
		if (n_seeds > 0)
			snprintf(kshot, sizeof kshot, "%s: %zu-shot seeds %s", t->kshot->file, k, seeds);
		else
			snprintf(kshot, sizeof kshot, "%s: no %zu-<seed>/ folders with train.tsv and dev.tsv",
			         t->kshot->file, k);
		free(dir);
	}
	int shots = has_train || n_seeds > 0;
	int tests = has_test || with_test > 0;
	printf("%-9s %s", t->name, shots && tests ? "ready" : "not ready:");
	if (!shots)
		printf(" no training data");
	if (!tests)
		printf("%s no test set", shots ? "" : ";");
	printf("\n");
	if (has_train)
		printf("  shots   sampled from %s\n", train);
	else if (t->train)
		printf("  train   %s\n", train);
	if (t->kshot)
		printf("  k-shot  %s\n", kshot);
	if (has_test)
		printf("  test    %s\n", test);
	else if (with_test > 0)
		printf("  test    test.tsv of the k-shot folders (%s missing)\n",
		       t->test ? t->test->file : "no full test file declared");
	else
		printf("  test    %s; no test.tsv in %s/%zu-<seed>/\n",
		       t->test ? test : "no full test file declared",
		       t->kshot ? t->kshot->file : "(no k-shot folder)", k);
	printf("\n");
	return shots && tests;
}

int bbt_cmd_tasks(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "k-shot", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data_dir = getenv("BBTBENCH_DATA");
	if (data_dir == NULL || data_dir[0] == '\0')
		data_dir = "data";
	long k = 16;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			data_dir = optarg;
			break;
		case 'k':
			if (bbt_parse_long(optarg, &k) != 0 || k < 1) {
				bbt_log(BBT_LOG_ERROR, NULL, "tasks: --k-shot '%s': expected a positive integer",
				        optarg);
				return BBT_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return BBT_EXIT_OK;
		case ':':
			bbt_log(BBT_LOG_ERROR, NULL, "tasks: %s needs a value", argv[optind - 1]);
			return BBT_EXIT_USAGE;
		default:
			bbt_log(BBT_LOG_ERROR, NULL, "tasks: unknown option '%s'; see bbtbench tasks --help",
			        argv[optind - 1]);
			return BBT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		bbt_log(BBT_LOG_ERROR, NULL, "tasks: unexpected argument '%s'", argv[optind]);
		return BBT_EXIT_USAGE;
	}
	bbt_catalog_t *cat = bbt_catalog_load();
	if (cat == NULL) {
		bbt_log(BBT_LOG_ERROR, NULL, "out of memory");
		return BBT_EXIT_FAILED;
	}
	printf("Task data under %s\n\n", data_dir);
	size_t ready = 0;
	for (size_t i = 0; i < cat->n; i++)
		ready += (size_t)report_task(cat->tasks[i], data_dir, (size_t)k);
	for (size_t i = 0; i < cat->n_bad; i++)
		printf("(task file skipped) %s\n", cat->bad[i]);
	printf("%zu of %zu tasks ready\n", ready, cat->n);
	bbt_catalog_free(cat);
	return BBT_EXIT_OK;
}
