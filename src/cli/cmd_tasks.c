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

#include "data/catalog.h"
#include "cli/commands.h"
#include "data/dataset.h"
#include "core/log.h"
#include "core/util.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench tasks [--data-dir DIR] [--k-shot K]\n"
	        "For every task: whether `bbtbench run` finds its data (with --data-dir\n"
	        "and --k-shot as given, the default data seed), the files it reads with\n"
	        "their row counts, the published k-shot seeds, or why it is not ready.\n\n"
	        "      --data-dir DIR   data folder (default $BBTBENCH_DATA, else data)\n"
	        "      --k-shot K       shots per class of the k-shot folders to list [16]\n"
	        "  -h, --help           this help\n");
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* `path` as the task file names it: relative to the data folder. */
static const char *in_data_dir(const char *path, const char *data_dir)
{
	size_t n = strlen(data_dir);
	while (n > 0 && data_dir[n - 1] == '/')
		n--;
	if (n > 0 && strncmp(path, data_dir, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

/* "FILE (N rows)" or "FILE (N rows; M unlabelled skipped)". */
static void print_rows(const char *label, const char *what, const char *file, size_t n,
                       size_t skipped)
{
	printf("  %-7s %s%s (%zu rows", label, what, file, n);
	if (skipped > 0)
		printf("; %zu unlabelled skipped", skipped);
	printf(")\n");
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
	char kshot[BBT_ERRLEN] = "";
	if (t->kshot != NULL) {
		char *dir = bbt_path_join(data_dir, t->kshot->file);
		size_t with_test = 0;
		char seeds[512] = "";
		if (dir != NULL && kshot_seeds(dir, k, seeds, sizeof seeds, &with_test) > 0)
			snprintf(kshot, sizeof kshot, "%s: %zu-shot seeds %s", t->kshot->file, k, seeds);
		else
			snprintf(kshot, sizeof kshot, "%s: no %zu-<seed>/ folders with train.tsv and dev.tsv",
			         t->kshot->file, k);
		free(dir);
	}

	/* Ready means that `run` with this data folder and k finds its data:
	 * the verdict is that of the loader `run` uses, reading the same files. */
	struct bbt_splits_params p = bbt_splits_default_params();
	p.data_dir = data_dir;
	p.k = k;
	struct bbt_splits s;
	char err[BBT_ERRLEN];
	int ready = bbt_splits_load(t, &p, &s, err, sizeof err) == BBT_OK;
	if (!ready) {
		printf("%-9s not ready: %s\n", t->name, err);
		if (t->kshot)
			printf("  k-shot  %s\n", kshot);
		printf("\n");
		return 0;
	}
	printf("%-9s ready\n", t->name);
	if (s.sampled) {
		print_rows("shots", "sampled from ", in_data_dir(s.train_from, data_dir), s.n_pool,
		           s.train->skipped);
	} else {
		printf("  shots   %s and dev.tsv (data seed %lu)\n", in_data_dir(s.train_from, data_dir),
		       (unsigned long)p.data_seed);
		char *full = t->train ? bbt_path_join(data_dir, t->train->file) : NULL;
		if (full != NULL && !exists(full))
			printf("  train   %s: not found, so not sampled from\n", t->train->file);
		free(full);
	}
	if (t->kshot)
		printf("  k-shot  %s\n", kshot);
	print_rows("test", "", in_data_dir(s.test_from, data_dir), s.test->n, s.test->skipped);
	printf("\n");
	bbt_splits_free(&s);
	return 1;
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
			bbt_log_unknown_option("tasks", argv[optind - 1], longopts);
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
