/*
 * bench/ggml.c - the native backend against the ggml backend, f32 and
 * Q8_0 weights, side by side in one run, on bench/bbt's RoBERTa-base shape: a
 * RoBERTa-base-shaped encoder (basemodel.h), a batch of 32 sequences of 47
 * tokens plus a 50-vector prompt, V = 1 and V = 20 prompt variants per
 * call, every backend with one thread per online core (BBT_BENCH_THREADS
 * overrides). Prints tokens/s (prompt positions included) per backend and
 * the ggml/native ratios.
 *
 *     make bench       or      ./bench/ggml [V...]
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bbtbench/plugin.h>

#include "basemodel.h"
#include "core/blas.h"
#include <bbtbench/model/gguf.h>
#include "core/util.h"

extern const struct bbt_plugin native_plugin, ggml_plugin;

static long threads;

static const char *opt_str(void *c, const char *k)
{
	(void)c;
	return strcmp(k, "device") == 0 ? "CPU" : "cat";
}
static long opt_int(void *c, const char *k)
{
	(void)c;
	return strcmp(k, "max_rows") == 0 ? 4096 : strcmp(k, "threads") == 0 ? threads : 0;
}
static double opt_d(void *c, const char *k) { (void)c; (void)k; return 0; }
static int opt_b(void *c, const char *k) { (void)c; (void)k; return 0; }
static double r_u(void *c) { (void)c; return 0.5; }
static uint64_t r_i(void *c, uint64_t n) { (void)c; (void)n; return 0; }
static void say(void *c, enum bbt_log_level l, const char *f, ...) { (void)c; (void)l; (void)f; }

/* Best seconds per call of one backend on the model at path under V
 * variants, or -1 with a message. */
static double time_call(const struct bbt_plugin *pl, const char *path, const struct bbt_batch *b,
                        int V)
{
	bbt_host_t host = { NULL, say, r_u, r_u, r_i, opt_int, opt_d, opt_b, opt_str };
	struct bbt_backend_params p = { path, P, 1, 1 };
	struct bbt_model_info info;
	void *st = NULL;
	char err[BBT_ERRLEN];
	if (pl->backend->open(&host, &p, &st, &info, err, sizeof err) < 0) {
		fprintf(stderr, "bench: %s: %s\n", pl->name, err);
		return -1;
	}
	float *prompts = bench_buf((size_t)V * P * H, 0);
	float *logits = malloc((size_t)V * B * 2 * sizeof *logits);
	double best = 1e30;
	for (int r = 0; r < (V == 1 ? 3 : 1); r++) {
		double t0 = bbt_now();
		if (pl->backend->score(st, b, prompts, (size_t)V, logits, err, sizeof err) < 0) {
			fprintf(stderr, "bench: %s: %s\n", pl->name, err);
			best = -1;
			break;
		}
		double s = bbt_now() - t0;
		if (s < best)
			best = s;
	}
	pl->backend->close(st);
	free(prompts);
	free(logits);
	return best;
}

int main(int argc, char **argv)
{
	/* as bench/bbt: idle OpenMP threads must sleep, not spin, or they
	 * take the cores the next GEMM needs (read when libgomp loads) */
	if (getenv("OMP_WAIT_POLICY") == NULL) {
		setenv("OMP_WAIT_POLICY", "passive", 1);
		execv("/proc/self/exe", argv);
	}
	const char *th = getenv("BBT_BENCH_THREADS");
	threads = th ? atol(th) : sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	char f32[] = "/tmp/bbt-bench-ggml-XXXXXX", q8[] = "/tmp/bbt-bench-ggml-q-XXXXXX";
	int fd = mkstemp(f32), qfd = mkstemp(q8);
	if (fd < 0 || qfd < 0)
		return 1;
	close(fd);
	close(qfd);
	if (bench_write_model(f32, BBT_GGML_F32) < 0 || bench_write_model(q8, BBT_GGML_Q8_0) < 0)
		return 1;

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

	printf("native vs ggml, RoBERTa-base shape (L=%d, H=%d, heads=%d, FFN=%d), batch %d x (%d tokens "
	       "+ %d prompt), %ld threads each\n", L, H, HEADS, FF, B, T, P, threads);
	bbt_blas_print_header(stdout);
	printf("%-5s %16s %16s %16s %10s %10s\n", "V", "native tokens/s", "ggml f32", "ggml q8_0",
	       "f32/nat", "q8_0/nat");
	int nv_list[8] = { 1, 20 }, nnv = 2;
	if (argc > 1) {
		nnv = 0;
		for (int i = 1; i < argc && nnv < 8; i++)
			nv_list[nnv++] = atoi(argv[i]);
	}
	int rc = 0;
	for (int k = 0; k < nnv && rc == 0; k++) {
		int V = nv_list[k] > 0 ? nv_list[k] : 1;
		double tokens = (double)(T + P) * B * V;
		double sn = time_call(&native_plugin, f32, &b, V);
		double sg = time_call(&ggml_plugin, f32, &b, V);
		double sq = time_call(&ggml_plugin, q8, &b, V);
		if (sn <= 0 || sg <= 0 || sq <= 0) {
			rc = 1;
			break;
		}
		printf("%-5d %16.0f %16.0f %16.0f %9.2fx %9.2fx\n", V, tokens / sn, tokens / sg,
		       tokens / sq, sn / sg, sn / sq);
		fflush(stdout);
	}
	unlink(f32);
	unlink(q8);
	free(ids);
	return rc;
}
