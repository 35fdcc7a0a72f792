/*
 * bench/cmaes.c - speed and efficiency figures of the CMA-ES engine
 * (`make bench`; not a test: the numbers depend on the machine).
 *
 * 1. The optimizer's own CPU time per generation (ask + tell, no
 *    objective: the losses are random numbers) at d = 100, 500, 1000 with
 *    lambda = 20, averaged over enough generations to include the lazy
 *    eigendecompositions at their real rate.
 * 2. Evaluations to reach f < 1e-8 on the shifted sphere and ellipsoid
 *    (t/testfun.h) at d = 10 and 40 from x0 = 0, sigma0 = 1, default
 *    popsize, median (and range) of 15 seeds, for cmaes and sepcmaes.
 *
 * OpenBLAS is pinned to one thread, so the figures are single-core ones.
 * Usage: bench/cmaes [--quick]   (--quick: fewer generations and seeds)
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include <bbtbench/plugin.h>

#include "../plugins/optimizers/cmaes/cma_common.h"
#include "core/blas.h"
#include "../t/plugin_host.h"
#include "../t/testfun.h"

/* Both covariance models through the engine directly: linking the two
 * plugins' descriptors into one program would define bbt_plugin twice. */
static int create_full(const bbt_host_t *h, const struct bbt_optimizer_params *p, void **s,
                       struct bbt_optimizer_info *i, char *e, size_t el)
{
	return bbt_cma_create(h, p, BBT_CMA_FULL, s, i, e, el);
}

static int create_sep(const bbt_host_t *h, const struct bbt_optimizer_params *p, void **s,
                      struct bbt_optimizer_info *i, char *e, size_t el)
{
	return bbt_cma_create(h, p, BBT_CMA_SEPARABLE, s, i, e, el);
}

static const struct bbt_optimizer_ops full_ops = {
	create_full, bbt_cma_ask, bbt_cma_tell, bbt_cma_recommend, bbt_cma_stop_reason,
	bbt_cma_stats, bbt_cma_free, NULL,   /* CMA-ES has no gradient estimate */
};
static const struct bbt_optimizer_ops sep_ops = {
	create_sep, bbt_cma_ask, bbt_cma_tell, bbt_cma_recommend, bbt_cma_stop_reason,
	bbt_cma_stats, bbt_cma_free, NULL,   /* CMA-ES has no gradient estimate */
};
static const struct bbt_plugin plugins[2] = {
	{ .abi_major = BBT_ABI_MAJOR, .kind = BBT_PLUGIN_OPTIMIZER, .name = "cmaes",
	  .options = bbt_cma_options, .optimizer = &full_ops },
	{ .abi_major = BBT_ABI_MAJOR, .kind = BBT_PLUGIN_OPTIMIZER, .name = "sepcmaes",
	  .options = bbt_cma_options, .optimizer = &sep_ops },
};

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Mean CPU seconds of one ask + tell at dimension d, lambda 20. */
static double time_generation(const struct bbt_plugin *pl, size_t d, size_t gens)
{
	struct plugin_host ph;
	const bbt_host_t *host;
	struct bbt_optimizer_params prm;
	struct bbt_optimizer_info info = { 0 };
	char err[BBT_ERRLEN];
	void *st = NULL;
	memset(&prm, 0, sizeof prm);
	prm.space.kind = BBT_SPACE_BOX;
	prm.space.dim = d;
	prm.popsize = 20;
	prm.sigma = 1;
	/* No stop test may end the timing early. */
	const char *over[] = { "tolfun=0", "tolx=0", "tolstagnation=1000000000", NULL };
	if ((host = plugin_host_init(&ph, pl, 7, over)) == NULL)
		return NAN;
	if (pl->optimizer->create(host, &prm, &st, &info, err, sizeof err) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		plugin_host_release(&ph);
		return NAN;
	}
	double *x = malloc(info.batch * d * sizeof *x), loss[20];
	uint64_t s = 99;
	double t = 0;
	for (size_t g = 0; x && g < gens; g++) {
		size_t m;
		for (size_t k = 0; k < 20; k++)
			loss[k] = (double)(tf_splitmix(&s) >> 11);
		double t0 = cpu_seconds();
		pl->optimizer->ask(st, x, &m, err, sizeof err);
		int rc = pl->optimizer->tell(st, x, m, loss, NULL, err, sizeof err);
		t += cpu_seconds() - t0;
		if (rc != 0) {
			fprintf(stderr, "bench: %s stopped at generation %zu (%s)\n", pl->name, g + 1,
			        rc < 0 ? err : pl->optimizer->stop_reason(st));
			gens = g + 1;
			break;
		}
	}
	free(x);
	pl->optimizer->free(st);
	plugin_host_release(&ph);
	return t / (double)gens;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	size_t seeds = quick ? 5 : 15;
	openblas_set_num_threads(1);

	printf("CMA-ES CPU time per generation (ask + tell, no objective), lambda = 20, "
	       "1 OpenBLAS thread\n");
	bbt_blas_print_header(stdout);
	printf("%-9s %6s %12s %10s\n", "plugin", "d", "ms/gen", "gens");
	const size_t dims[] = { 100, 500, 1000 };
	for (int p = 0; p < 2; p++) {
		for (size_t i = 0; i < 3; i++) {
			/* Enough generations for 10+ lazy eigendecompositions at d = 1000
			 * (one per 10 generations there). */
			size_t gens = quick ? 20 : (dims[i] >= 1000 ? 100 : 200);
			double t = time_generation(&plugins[p], dims[i], gens);
			printf("%-9s %6zu %12.3f %10zu\n", plugins[p].name, dims[i], 1e3 * t, gens);
			fflush(stdout);
		}
	}

	printf("\nEvaluations to f < 1e-8 from x0 = 0, sigma0 = 1, default popsize; "
	       "median [min, max] of %zu seeds\n", seeds);
	printf("%-9s %-10s %4s %10s %22s %6s\n", "plugin", "function", "d", "median", "range",
	       "hits");
	const enum tf_kind kinds[] = { TF_SPHERE, TF_ELLI };
	const size_t ds[] = { 10, 40 };
	for (int p = 0; p < 2; p++) {
		for (size_t k = 0; k < 2; k++) {
			for (size_t i = 0; i < 2; i++) {
				struct tf_problem pr;
				size_t ev[15], hits = 0, maxevals = 2000000;
				if (tf_init(&pr, kinds[k], ds[i]) < 0)
					return 1;
				for (size_t r = 0; r < seeds; r++) {
					struct tf_result res;
					int rc = tf_run(&plugins[p], &pr, r + 1, 0, 1e-8, maxevals, NULL, &res);
					ev[r] = rc == 0 && res.reached ? res.evals : maxevals + 1;
					hits += rc == 0 && res.reached;
				}
				tf_release(&pr);
				qsort(ev, seeds, sizeof *ev, tf_cmp_size);
				char range[64];
				snprintf(range, sizeof range, "[%zu, %zu]", ev[0], ev[seeds - 1]);
				printf("%-9s %-10s %4zu %10zu %22s %3zu/%zu\n", plugins[p].name,
				       tf_names[kinds[k]], ds[i], ev[seeds / 2], range, hits, seeds);
				fflush(stdout);
			}
		}
	}
	return 0;
}
