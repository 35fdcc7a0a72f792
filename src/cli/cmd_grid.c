/*
 * cmd_grid.c - `bbtbench grid FILE.ini`: run (or resume) an experiment's
 * grid of runs, all of it or one shard, one run at a time or N at once.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "cli/commands.h"
#include "experiments/grid.h"
#include "core/log.h"
#include "plugin/registry.h"
#include "core/util.h"

static void grid_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench grid [OPTIONS] FILE.ini\n"
	        "Run the grid of runs a file defines: the Cartesian product of the value lists in\n"
	        "its [grid] section (KEY = V1, V2, ...; KEY a run setting or optimizer.KEY,\n"
	        "optimizer.NAME.KEY, backend.KEY), minus `exclude = KEY=V, KEY=V` lines, on top of\n"
	        "its [run], [optimizer...] and [backend...] sections.\n\n"
	        "  -j, --jobs N           N runs at a time, each in its own process [1]\n"
	        "      --shard I/N        run only the I-th of N disjoint slices (combinations\n"
	        "                         i with i %% N == I-1), e.g. one per job of a job array\n"
	        "      --out DIR          results root (instead of the file's [run] out)\n"
	        "      --list             print the combinations (index and values), run nothing\n"
	        "      --force            redo runs that already finished\n"
	        "      --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
	        "  -q, --quiet            no progress, warnings and errors only\n"
	        "  -v, --verbose          debug messages\n"
	        "  -h, --help             this help\n\n"
	        "Runs go to OUT/EXPERIMENT/RUN-ID/, EXPERIMENT being [run] experiment or the file's\n"
	        "name, " BBT_PLAIN_WORD ".\n"
	        "Running the same grid again resumes it: finished runs are skipped, interrupted\n"
	        "ones go on from their last generation (as run --resume; redone when their\n"
	        "optimizer cannot save its state). Shards of one grid may write into one folder.\n"
	        "Example: bbtbench grid --jobs 2 ablations/synthetic/cmaes-vs-adam.ini\n");
}

static int parse_shard(const char *s, size_t *shard, size_t *n)
{
	long a, b;
	char *slash = strchr(s, '/'), head[32];
	if (slash == NULL || (size_t)(slash - s) >= sizeof head)
		return -1;
	memcpy(head, s, (size_t)(slash - s));
	head[slash - s] = '\0';
	if (bbt_parse_long(head, &a) != 0 || bbt_parse_long(slash + 1, &b) != 0 || b < 1 || a < 1 ||
	    a > b)
		return -1;
	*shard = (size_t)a;
	*n = (size_t)b;
	return 0;
}

static void list_combinations(const bbt_grid_t *g, const struct bbt_grid_params *p)
{
	for (size_t i = 0; i < bbt_grid_count(g); i++) {
		if (!bbt_grid_in_shard(i, p->shard, p->nshards))
			continue;
		printf("%zu", i);
		for (size_t k = 0; k < bbt_grid_key_count(g); k++) {
			const char *v = bbt_grid_value(g, i, k);
			if (v != NULL)
				printf(" %s=%s", bbt_grid_key(g, k), v);
		}
		printf("\n");
	}
}

enum { OPT_SHARD = 3000, OPT_OUT, OPT_LIST, OPT_FORCE, OPT_PLUGIN_DIR };

int bbt_cmd_grid(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bbt_grid_params p = bbt_grid_default_params();
	const char *dirs[16];
	size_t ndirs = 0;
	int list = 0, opt;
	long jobs;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":j:qvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			if (bbt_parse_long(optarg, &jobs) != 0 || jobs < 1 || jobs > 1024) {
				bbt_log(BBT_LOG_ERROR, NULL, "grid: --jobs '%s': expected 1 to 1024", optarg);
				return BBT_EXIT_USAGE;
			}
			p.jobs = (size_t)jobs;
			break;
		case OPT_SHARD:
			if (parse_shard(optarg, &p.shard, &p.nshards) != 0) {
				bbt_log(BBT_LOG_ERROR, NULL,
				        "grid: --shard '%s': expected I/N with 1 <= I <= N (e.g. 2/8)", optarg);
				return BBT_EXIT_USAGE;
			}
			break;
		case OPT_OUT: p.out = optarg; break;
		case OPT_LIST: list = 1; break;
		case OPT_FORCE: p.force = 1; break;
		case OPT_PLUGIN_DIR:
			if (ndirs == sizeof dirs / sizeof dirs[0]) {
				bbt_log(BBT_LOG_ERROR, NULL, "too many --plugin-dir options (at most 16)");
				return BBT_EXIT_USAGE;
			}
			dirs[ndirs++] = optarg;
			break;
		case 'q': bbt_log_set_level(BBT_LOG_WARNING); break;
		case 'v': bbt_log_set_level(BBT_LOG_DEBUG); break;
		case 'h': grid_usage(stdout); return BBT_EXIT_OK;
		default:   /* ':' a value missing, '?' an unknown option */
			return bbt_cli_option_error("grid", opt, argv[optind - 1], longopts);
		}
	}
	if (argc - optind != 1) {
		bbt_log(BBT_LOG_ERROR, NULL, "grid: expected one grid file; see bbtbench grid --help");
		return BBT_EXIT_USAGE;
	}
	const char *path = argv[optind];
	char err[BBT_ERRLEN];
	bbt_grid_t *g = NULL;
	int rc = bbt_grid_load(path, &g, err, sizeof err);
	if (rc < 0) {
		bbt_log(BBT_LOG_ERROR, NULL, "%s", err);
		return bbt_exit_code_input(rc);
	}
	if (list) {
		list_combinations(g, &p);
		bbt_grid_free(g);
		return BBT_EXIT_OK;
	}

	bbt_registry_t *reg = bbt_registry_alloc();
	if (reg == NULL || bbt_registry_add_default_dirs(reg, dirs, ndirs) < 0) {
		bbt_log(BBT_LOG_ERROR, NULL, "out of memory");
		bbt_registry_free(reg);
		bbt_grid_free(g);
		return BBT_EXIT_FAILED;
	}
	bbt_registry_warn_problems(reg);
	/* Before the workers fork: they inherit having said it. */
	struct bbt_blas blas;
	bbt_blas_query(&blas);
	bbt_blas_warn_fallback(&blas);

	struct bbt_grid_summary s;
	rc = bbt_grid_run(g, reg, &p, &s, err, sizeof err);
	if (rc < 0)
		bbt_log(BBT_LOG_ERROR, NULL, "%s", err);
	char shard[64] = "";
	if (p.nshards > 1)
		snprintf(shard, sizeof shard, ", shard %zu/%zu of %zu", p.shard, p.nshards,
		         bbt_grid_count(g));
	printf("grid %s: %zu runs%s: %zu finished, %zu skipped (already finished), %zu failed, "
	       "%zu interrupted, %.1f s\n",
	       path, s.total, shard, s.finished, s.skipped, s.failed, s.interrupted, s.wall);
	struct bbt_config cfg;
	if (bbt_grid_config(g, 0, &cfg, err, sizeof err) == BBT_OK)
		printf("results in %s/%s/\n", p.out ? p.out : cfg.out, bbt_grid_experiment(g));
	bbt_config_release(&cfg);
	bbt_registry_free(reg);
	bbt_grid_free(g);
	return bbt_exit_code(rc);
}
