/*
 * bench/native.c - speed of the native backend on a RoBERTa-base-shaped
 * encoder (12 layers, hidden 768, 12 heads, FFN 3072; random weights) for
 * a batch of 32 sequences of 47 tokens plus a 50-vector prompt, with V = 1
 * and V = 20 prompt variants per call. Prints tokens/s, achieved GFLOP/s
 * and the fraction of this machine's OpenBLAS sgemm peak, measured in the
 * same run on a large square sgemm. Then the prompt gradient (V = 1): its
 * time against a forward call's, and the memory it adds (the tape of
 * activations and the backward's buffers) as the growth of the process's
 * peak resident size. OpenBLAS threads are pinned (BBT_BENCH_THREADS,
 * default 2).
 *
 *     make bench       or      ./bench/native [V...]
 */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bbtbench/plugin.h>

#include "basemodel.h"
#include "core/blas.h"
#include <bbtbench/model/gguf.h>
#include "core/util.h"

extern const struct bbt_plugin bbt_plugin;

static const char *opt_str(void *c, const char *k) { (void)c; (void)k; return "cat"; }
static long opt_int(void *c, const char *k)
{
	(void)c;
	return strcmp(k, "max_rows") == 0 ? 4096 : 0;
}
static double opt_d(void *c, const char *k) { (void)c; (void)k; return 0; }
static int opt_b(void *c, const char *k) { (void)c; (void)k; return 0; }
static double r_u(void *c) { (void)c; return 0.5; }
static uint64_t r_i(void *c, uint64_t n) { (void)c; (void)n; return 0; }
static void say(void *c, enum bbt_log_level l, const char *f, ...) { (void)c; (void)l; (void)f; }

/* Process CPU seconds (all threads). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best GFLOP/s of an n x n x n sgemm over a few repetitions, by wall
 * time and per CPU-second (the latter holds up on a shared machine). */
static void sgemm_peak(int n, double *wall, double *cpu)
{
	size_t nn = (size_t)n * n;
	float *a = bench_buf(nn, 0), *b = bench_buf(nn, 0), *c = bench_buf(nn, 0);
	*wall = *cpu = 0;
	for (int r = 0; r < 5; r++) {
		double t0 = bbt_now(), c0 = cpu_now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
		double fl = 2.0 * n * n * (double)n / 1e9;
		double g = fl / (bbt_now() - t0), gc = fl / (cpu_now() - c0);
		if (g > *wall)
			*wall = g;
		if (gc > *cpu)
			*cpu = gc;
	}
	free(a);
	free(b);
	free(c);
}

/* Peak resident size of the process, MB. */
static double peak_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

/* The loss's derivative for the gradient call: cross-entropy against label 0. */
static int ce_grad(void *ctx, const float *logits, size_t V, size_t n_seq, size_t n_labels,
                   float *dlogits)
{
	(void)ctx;
	for (size_t s = 0; s < V * n_seq; s++) {
		const float *z = logits + s * n_labels;
		float *d = dlogits + s * n_labels, mx = z[0], sum = 0;
		for (size_t c = 1; c < n_labels; c++)
			mx = fmaxf(mx, z[c]);
		for (size_t c = 0; c < n_labels; c++)
			sum += d[c] = expf(z[c] - mx);
		for (size_t c = 0; c < n_labels; c++)
			d[c] = d[c] / sum - (c == 0);
	}
	return 0;
}

/* Best of 3 wall times of a forward and a gradient call, V = 1. */
static int bench_gradient(void *st, const struct bbt_batch *b)
{
	float *prompts = bench_buf((size_t)P * H, 0), *grad = malloc((size_t)P * H * sizeof *grad);
	float logits[B * 2];
	char err[BBT_ERRLEN];
	double fwd = 1e30, bwd = 1e30, before = peak_mb(), after = before;
	for (int r = 0; r < 3; r++) {
		double t0 = bbt_now();
		if (bbt_plugin.backend->score(st, b, prompts, 1, logits, err, sizeof err) < 0)
			break;
		double t1 = bbt_now();
		if (bbt_plugin.backend->gradient(st, b, prompts, 1, ce_grad, NULL, logits, grad, err,
		                                 sizeof err) < 0)
			break;
		double t2 = bbt_now();
		fwd = fmin(fwd, t1 - t0);
		bwd = fmin(bwd, t2 - t1);
		if (r == 0)
			after = peak_mb();
	}
	free(prompts);
	free(grad);
	if (fwd == 1e30 || bwd == 1e30) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	printf("gradient V=1: %8.1f ms/call, forward %8.1f ms/call, ratio %.2f; peak memory +%.0f MB "
	       "(%.0f MB before the first gradient)\n", 1e3 * bwd, 1e3 * fwd, bwd / fwd,
	       after - before, before);
	return 0;
}

int main(int argc, char **argv)
{
	/* libgomp reads its wait policy when it is loaded, before main: the
	 * default spinning of idle OpenMP threads takes the cores the OpenBLAS
	 * threads of the next GEMM need (the host sets the same before it loads
	 * plugins). Re-run once with it set. */
	if (getenv("OMP_WAIT_POLICY") == NULL) {
		setenv("OMP_WAIT_POLICY", "passive", 1);
		execv("/proc/self/exe", argv);
	}
	const char *th = getenv("BBT_BENCH_THREADS");
	int threads = th ? atoi(th) : 2;
	openblas_set_num_threads(threads);
	char path[] = "/tmp/bbt-bench-native-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	if (bench_write_model(path, BBT_GGML_F32) < 0)
		return 1;
	bbt_host_t host = { NULL, say, r_u, r_u, r_i, opt_int, opt_d, opt_b, opt_str };
	struct bbt_backend_params p = { path, P, 1, 1 };
	struct bbt_model_info info;
	void *st = NULL;
	char err[BBT_ERRLEN];
	if (bbt_plugin.backend->open(&host, &p, &st, &info, err, sizeof err) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		return 1;
	}
	unlink(path);

	int32_t *ids = malloc(B * T * sizeof *ids);
	size_t off[B + 1], pred[B], pp[B];
	for (int i = 0; i < B; i++) {
		off[i] = (size_t)i * T;
		pred[i] = T - 3;
		pp[i] = 1;
		for (int t = 0; t < T; t++)
			ids[i * T + t] = t == 0 ? 2 : t == T - 1 ? 3 : t == T - 3 ? 4 : 5 + (i * 31 + t * 7) % (NV - 5);
	}
	off[B] = (size_t)B * T;
	int32_t labels[2] = { 10, 11 };
	struct bbt_batch b = { B, ids, off, pred, pp, 2, labels, P, 1 };

	/* FLOPs per call: the GEMMs of every layer over all rows, attention
	 * (QK^T and PV) per sequence, the head at one row per sequence. */
	double n = T + P;
	double per_seq = L * (n * 2.0 * (4.0 * H * H + 2.0 * H * FF) + 4.0 * n * n * H) +
	                 2.0 * H * H + 4.0 * H;
	printf("native backend, RoBERTa-base shape (L=%d, H=%d, heads=%d, FFN=%d), batch %d x (%d tokens "
	       "+ %d prompt), OpenBLAS threads %d\n", L, H, HEADS, FF, B, T, P, threads);
	bbt_blas_print_header(stdout);
	int nv_list[8] = { 1, 20 }, nnv = 2;
	if (argc > 1) {
		nnv = 0;
		for (int i = 1; i < argc && nnv < 8; i++)
			nv_list[nnv++] = atoi(argv[i]);
	}
	for (int k = 0; k < nnv; k++) {
		int V = nv_list[k] > 0 ? nv_list[k] : 1;
		double peak, peak_cpu;
		sgemm_peak(2048, &peak, &peak_cpu);   /* just before, under the same load */
		float *prompts = bench_buf((size_t)V * P * H, 0);
		float *logits = malloc((size_t)V * B * 2 * sizeof *logits);
		int reps = V == 1 ? 3 : 1;
		double best = 1e30, best_cpu = 1e30;
		for (int r = 0; r < reps; r++) {
			double t0 = bbt_now(), c0 = cpu_now();
			if (bbt_plugin.backend->score(st, &b, prompts, (size_t)V, logits, err, sizeof err) < 0) {
				fprintf(stderr, "bench: %s\n", err);
				return 1;
			}
			double s = bbt_now() - t0, cs = cpu_now() - c0;
			if (s < best)
				best = s;
			if (cs < best_cpu)
				best_cpu = cs;
		}
		double flop = per_seq * B * V, tokens = n * B * V;
		printf("V=%-3d %8.3f s/call %8.0f tokens/s %7.1f GFLOP/s = %5.1f%% of sgemm peak %.1f | "
		       "per CPU-s: %6.1f GFLOP = %5.1f%% of sgemm's %.1f\n", V, best, tokens / best,
		       flop / best / 1e9, 100.0 * flop / best / 1e9 / peak, peak, flop / best_cpu / 1e9,
		       100.0 * flop / best_cpu / 1e9 / peak_cpu, peak_cpu);
		fflush(stdout);
		free(prompts);
		free(logits);
	}
	int rc = bench_gradient(st, &b);
	bbt_plugin.backend->close(st);
	free(ids);
	return rc < 0;
}
