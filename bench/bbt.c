/*
 * bench/bbt.c - the native backend's speed where BBT spends its time, beside
 * PyTorch running the same forward on the same machine, in one table:
 *
 *   BBT generation  one CMA-ES population (20 prompts) x 32 shots of
 *                   SST-2-like lengths plus a 50-vector prompt, on the shared
 *                   BERT (../shared/models/bert-l8-h128-reviews converted by
 *                   `bbtbench convert`) or, without ../shared, a random model
 *                   of its shape: seconds per API call (one prompt's forward
 *                   of the 32 shots), as the host runs it (one backend call
 *                   for the population);
 *   RoBERTa-base    12 x 768, 32 x 47 tokens + 50 prompt, V = 1 and V = 20;
 *   gradient        the prompt gradient on that shape (V = 1) against a
 *                   forward call, and the tape it keeps.
 *
 * GFLOP/s count the FLOPs of the real tokens' standard forward (every layer
 * over every row, attention per sequence, the head at the mask rows), the
 * same figure for both sides, against this run's best square sgemm (2048);
 * also per CPU-second (all threads) against the sgemm's, which a machine
 * shared with other jobs disturbs far less than wall time.
 * PyTorch runs bench/torch_forward.py with /usr/bin/python3 when it imports
 * torch (skipped otherwise), on as many threads; the two sides alternate
 * and each reports its best. OpenBLAS and OpenMP threads: BBT_BENCH_THREADS
 * (default 2).
 *
 *     make bench      or      ./bench/bbt [bbt] [base] [grad]
 *
 * (BBTBENCH, BBT_SHARED_DIR and top_srcdir come from make; the arguments
 * pick rows, all by default; BBT_BENCH_TORCH=0 leaves PyTorch out.)
 */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "basemodel.h"
#include "core/blas.h"
#include "core/util.h"
#include "model.h"
#include <bbtbench/model/gguf.h>

/* Tokens of the first 32 SST-2 shots (k-shot 16-13) under "<S> . It was
 * <mask> ." with [CLS] and [SEP]: mean 28.6, 11 to 57. */
static const int sst2_lengths[32] = {
	16, 15, 54, 57, 45, 31, 52, 34, 28, 24, 17, 32, 25, 38, 12, 20,
	32, 22, 26, 15, 27, 11, 37, 33, 54, 27, 24, 21, 12, 28, 14, 32,
};
static const struct bench_shape shared_shape = { 8, 128, 2, 512, 512, 30522 };
enum { POPSIZE = 20 };

struct bench_model {
	bbt_gguf_t *g;
	struct nat_model m;
	struct nat_work *w;
	struct nat_forward_params fp;
	struct bbt_batch b;
	int32_t *ids;
	size_t *off, *pred, *pp;
	int32_t labels[2];
	int lengths[64];       /* tokens of each sequence, prompt excluded */
};

static void model_free(struct bench_model *bm)
{
	nat_work_free(bm->w);
	nat_model_release(&bm->m);
	bbt_gguf_free(bm->g);
	free(bm->ids);
	free(bm->off);
	free(bm->pred);
	free(bm->pp);
}

/* Open path and make a batch of n sequences of lens[i] tokens each:
 * [CLS] words . It was [MASK] . [SEP], the prompt after [CLS]. */
static int model_open(struct bench_model *bm, const char *path, const int *lens, size_t n)
{
	char err[BBT_ERRLEN];
	memset(bm, 0, sizeof *bm);
	if (bbt_gguf_open(path, &bm->g, err, sizeof err) < 0 ||
	    nat_model_load(&bm->m, bm->g, path, err, sizeof err) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	bm->w = nat_work_alloc();
	bm->fp = (struct nat_forward_params){ NAT_PROMPT_CAT, 4096 };
	size_t total = 0, V = bm->m.hp.V;
	for (size_t i = 0; i < n; i++)
		total += (size_t)(bm->lengths[i] = lens[i]);
	bm->ids = malloc(total * sizeof *bm->ids);
	bm->off = malloc((n + 1) * sizeof *bm->off);
	bm->pred = malloc(n * sizeof *bm->pred);
	bm->pp = malloc(n * sizeof *bm->pp);
	for (size_t i = 0, o = 0; i < n; o += (size_t)lens[i], i++) {
		size_t len = (size_t)lens[i];
		bm->off[i] = o;
		bm->pred[i] = len - 3;
		bm->pp[i] = 1;
		for (size_t t = 0; t < len; t++)
			bm->ids[o + t] = t == 0 ? 2 : t == len - 1 ? 3 : t == len - 3 ? 4
			                 : (int32_t)(5 + (i * 31 + t * 7) % (V - 5));
	}
	bm->off[n] = total;
	bm->labels[0] = 10;
	bm->labels[1] = 11;
	bm->b = (struct bbt_batch){ n, bm->ids, bm->off, bm->pred, bm->pp, 2, bm->labels, P, 1 };
	return 0;
}

/* FLOPs of one forward of the batch: per layer the GEMMs over every row and
 * attention (QK^T, PV) per sequence; the head at one row per sequence. */
static double forward_flops(const struct bench_model *bm)
{
	double h = (double)bm->m.hp.H, ff = (double)bm->m.hp.F, nl = (double)bm->m.hp.L, f = 0;
	for (size_t i = 0; i < bm->b.n_seq; i++) {
		double n = bm->lengths[i] + P;
		f += nl * (n * 2.0 * (4.0 * h * h + 2.0 * h * ff) + 4.0 * n * n * h) + 2.0 * h * h + 4.0 * h;
	}
	return f;
}


/* Process CPU seconds (all threads). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best GFLOP/s of a 2048^3 sgemm over a few repetitions, by wall time
 * and per CPU-second (*cpu). */
static double sgemm_peak(double *cpu)
{
	const int n = 2048;
	size_t nn = (size_t)n * n;
	float *a = bench_buf(nn, 0), *b = bench_buf(nn, 0), *c = bench_buf(nn, 0);
	double best = 0, fl = 2.0 * n * n * (double)n / 1e9;
	*cpu = 0;
	for (int r = 0; r < 4; r++) {
		double t0 = bbt_now(), c0 = cpu_now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
		best = fmax(best, fl / (bbt_now() - t0));
		*cpu = fmax(*cpu, fl / (cpu_now() - c0));
	}
	free(a);
	free(b);
	free(c);
	return best;
}

/* Wall seconds of one score call under V random prompts, its CPU seconds
 * (all threads: steadier than wall time on a loaded machine) in *cpu;
 * < 0 on error. */
static double native_call(struct bench_model *bm, size_t V, double *cpu)
{
	char err[BBT_ERRLEN];
	size_t h = bm->m.hp.H;
	float *prompts = bench_buf(V * P * h, 0), *logits = malloc(V * bm->b.n_seq * 2 * sizeof *logits);
	double t0 = bbt_now(), c0 = cpu_now();
	int rc = nat_model_score(&bm->m, &bm->fp, bm->w, &bm->b, prompts, V, logits, err, sizeof err);
	double s = bbt_now() - t0;
	*cpu = cpu_now() - c0;
	if (rc < 0)
		fprintf(stderr, "bench: %s\n", err);
	free(prompts);
	free(logits);
	return rc < 0 ? -1 : s;
}

/* Seconds per API call of PyTorch on the same shape and batch, V prompts
 * in one padded batch; 0 when /usr/bin/python3 has no torch. */
static double torch_call(const struct bench_model *bm, size_t V, int threads)
{
	static int have = -1;
	const char *want = getenv("BBT_BENCH_TORCH");
	if (have < 0)
		have = (want == NULL || strcmp(want, "0") != 0) && system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
	if (!have)
		return 0;
	const char *src = getenv("top_srcdir");
	char lens[512] = "", cmd[1024];
	for (size_t i = 0, o = 0; i < bm->b.n_seq && o < sizeof lens - 8; i++)
		o += (size_t)snprintf(lens + o, sizeof lens - o, "%s%d", i ? "," : "", bm->lengths[i]);
	snprintf(cmd, sizeof cmd,
	         "OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d /usr/bin/python3 %s/bench/torch_forward.py "
	         "--layers %zu --hidden %zu --heads %zu --ffn %zu --prompt %d --variants %zu "
	         "--threads %d --reps 1 --lengths %s", threads, threads, src ? src : ".", bm->m.hp.L,
	         bm->m.hp.H, bm->m.hp.heads, bm->m.hp.F, P, V, threads, lens);
	FILE *f = popen(cmd, "r");
	double s = 0;
	if (f == NULL || fscanf(f, "%lf", &s) != 1)
		s = 0;
	if (f != NULL && pclose(f) != 0)
		s = 0;
	return s;
}

struct row {
	const char *what;
	double native, torch;  /* seconds per API call (0: not run) */
	double native_cpu;     /* CPU seconds per API call */
	double gflop, peak;    /* GFLOPs of one API call, sgemm GFLOP/s */
	double peak_cpu;       /* sgemm GFLOP per CPU-second */
};

/* Native and PyTorch alternately, `rounds` times each, best of each;
 * warm: one native call first, which allocates and pages in the buffers
 * (the model's first call). */
static int measure(struct bench_model *bm, size_t V, int threads, int rounds, struct row *r)
{
	r->gflop = forward_flops(bm) / 1e9;
	r->peak = sgemm_peak(&r->peak_cpu);   /* just before, under the same load */
	r->native = r->torch = r->native_cpu = 1e30;
	double cpu;
	if (rounds > 1)
		native_call(bm, V, &cpu);
	for (int k = 0; k < rounds; k++) {
		double s = native_call(bm, V, &cpu);
		if (s < 0)
			return -1;
		r->native = fmin(r->native, s / (double)V);
		r->native_cpu = fmin(r->native_cpu, cpu / (double)V);
		double t = torch_call(bm, V, threads);
		r->torch = t > 0 ? fmin(r->torch, t) : 0;
		fprintf(stderr, "bench: %s round %d: native %.4f s (%.4f CPU-s), PyTorch %.4f s per call\n",
		        r->what, k + 1, s / (double)V, cpu / (double)V, t);
	}
	return 0;
}

static void print_row(const struct row *r)
{
	double g = r->gflop / r->native, gc = r->gflop / r->native_cpu;
	printf("| %-36s | %8.4f s | %6.1f = %5.1f%% of %5.1f | %6.1f = %5.1f%% of %5.1f |", r->what,
	       r->native, g, 100.0 * g / r->peak, r->peak, gc, 100.0 * gc / r->peak_cpu, r->peak_cpu);
	if (r->torch > 0)
		printf(" %8.4f s | %6.1f | %5.2fx |\n", r->torch, r->gflop / r->torch, r->torch / r->native);
	else
		printf(" (no torch) | | |\n");
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

/* Best of 3 gradient calls against best of 3 forward calls, V = 1. */
static int gradient_row(struct bench_model *bm)
{
	size_t h = bm->m.hp.H;
	float *prompts = bench_buf(P * h, 0), *grad = malloc(P * h * sizeof *grad), logits[64 * 2];
	struct nat_tape *tp = nat_tape_alloc();
	char err[BBT_ERRLEN];
	double fwd = 1e30, bwd = 1e30;
	int rc = 0;
	for (int r = 0; r < 3 && rc == 0; r++) {
		double cpu;
		fwd = fmin(fwd, native_call(bm, 1, &cpu));
		double t0 = bbt_now();
		rc = nat_model_gradient(&bm->m, &bm->fp, bm->w, tp, &bm->b, prompts, 1, ce_grad, NULL,
		                        logits, grad, err, sizeof err);
		bwd = fmin(bwd, bbt_now() - t0);
	}
	if (rc < 0)
		fprintf(stderr, "bench: %s\n", err);
	else
		printf("| %-36s | %8.4f s | %5.2fx a forward (%.4f s) | tape and buffers %.0f MB |\n",
		       "gradient, RoBERTa-base shape, V=1", bwd, bwd / fwd, fwd,
		       (double)nat_tape_bytes(tp) / 1048576.0);
	nat_tape_free(tp);
	free(prompts);
	free(grad);
	return rc;
}

/* The shared BERT converted to path, or a random model of its shape;
 * *what names which. */
static int shared_model(const char *path, const char **what)
{
	const char *shared = getenv("BBT_SHARED_DIR"), *exe = getenv("BBTBENCH");
	char dir[1024], cmd[4096];
	snprintf(dir, sizeof dir, "%s/models/bert-l8-h128-reviews", shared ? shared : "../shared");
	if (access(dir, R_OK) == 0) {
		snprintf(cmd, sizeof cmd, "'%s' convert '%s' -o '%s' >/dev/null", exe ? exe : "./bbtbench",
		         dir, path);
		if (system(cmd) == 0) {
			*what = "BBT, shared BERT (L8 H128), V=20";
			return 0;
		}
		fprintf(stderr, "bench: `%s` failed; a random model of its shape instead\n", cmd);
	}
	*what = "BBT, random L8 H128 BERT, V=20";
	return bench_write_shape(path, BBT_GGML_F32, &shared_shape);
}

static void print_machine(int threads)
{
	char line[256], model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "model name", 10) == 0) {
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	if (f != NULL)
		fclose(f);
	double load[3] = { 0, 0, 0 };
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("machine: %s, %ld cores, load average %.2f; %d threads (OpenBLAS and OpenMP)\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), load[0], threads);
	bbt_blas_print_header(stdout);
}

/* Whether the command line asks for row `name` (none named: all). */
static int wanted(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return argc < 2;
}

int main(int argc, char **argv)
{
	/* libgomp reads its wait policy when it is loaded, before main: idle
	 * OpenMP threads spinning take the cores OpenBLAS's threads need (the
	 * host sets the same before it loads plugins). Re-run once with it set. */
	if (getenv("OMP_WAIT_POLICY") == NULL) {
		setenv("OMP_WAIT_POLICY", "passive", 1);
		execv("/proc/self/exe", argv);
	}
	const char *th = getenv("BBT_BENCH_THREADS");
	int threads = th ? atoi(th) : 2;
	openblas_set_num_threads(threads);
#ifdef _OPENMP
	omp_set_num_threads(threads);
#endif
	print_machine(threads);
	char path[] = "/tmp/bbt-bench-bbt-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	struct row rows[3];
	memset(rows, 0, sizeof rows);
	int n_rows = 0, rc = 0;
	struct bench_model bm;
	if (wanted(argc, argv, "bbt")) {
		if (shared_model(path, &rows[0].what) < 0 || model_open(&bm, path, sst2_lengths, 32) < 0)
			return 1;
		rc = measure(&bm, POPSIZE, threads, 2, &rows[n_rows++]);
		model_free(&bm);
	}
	int base = wanted(argc, argv, "base"), grad = wanted(argc, argv, "grad");
	int base_lens[B];
	for (int i = 0; i < B; i++)
		base_lens[i] = T;
	if (rc == 0 && (base || grad) &&
	    (bench_write_model(path, BBT_GGML_F32) < 0 || model_open(&bm, path, base_lens, B) < 0))
		rc = -1;
	unlink(path);
	if (rc == 0 && base) {
		rows[n_rows].what = "RoBERTa-base shape, 32x(47+50), V=1";
		rc = measure(&bm, 1, threads, 2, &rows[n_rows++]);
		rows[n_rows].what = "RoBERTa-base shape, 32x(47+50), V=20";
		if (rc == 0)
			rc = measure(&bm, 20, threads, 1, &rows[n_rows++]);
	}
	if (rc < 0)
		return 1;
	printf("| %-36s | %10s | %-27s | %-27s | %10s | %6s | %6s |\n", "work (per API call)",
	       "bbtbench", "GFLOP/s, % of sgemm's", "per CPU-s, % of sgemm's", "PyTorch", "GFLOP/s",
	       "ratio");
	printf("|--------------------------------------|------------|-----------------------------|"
	       "-----------------------------|------------|--------|--------|\n");
	for (int k = 0; k < n_rows; k++)
		print_row(&rows[k]);
	if (grad)
		rc = gradient_row(&bm);
	if (base || grad)
		model_free(&bm);
	return rc < 0;
}
