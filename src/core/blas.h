/*
 * blas.h - which BLAS runs the GEMMs, and whether it runs kernels far older
 * than the CPU.
 *
 * OpenBLAS built with DYNAMIC_ARCH picks its kernels at start-up from the
 * CPU model. A release that does not know a new model falls back to a
 * generic core (Debian 12's 0.3.21 runs its Prescott, SSE3, kernels on some
 * AVX-512 CPUs), and every GEMM is then about 5x slower with nothing said.
 * Setting OPENBLAS_CORETYPE (e.g. SkylakeX) in the environment fixes it.
 * This module finds that trap for the host and the benchmarks, and gives the
 * one description that `list`, the bench headers and result.json show.
 *
 *     struct bbt_blas blas;
 *     bbt_blas_query(&blas);
 *     char line[256];
 *     bbt_blas_describe(&blas, line, sizeof line);   // "OpenBLAS 0.3.21 ..., core SkylakeX, 2 threads"
 *     bbt_blas_warn_fallback(&blas);                 // a warning, once per process
 *
 * Test hook: BBTBENCH_TEST_BLAS_CORE, when set, replaces the core name
 * OpenBLAS reports and makes the CPU count as one with AVX-512, so the shell
 * tests can see the warning on any machine. It changes what is reported,
 * never the kernels that run. Tests never set OPENBLAS_CORETYPE itself.
 *
 * Without the openblas_get_* functions (another CBLAS) nothing is known
 * beyond the library's name and nothing is said.
 */
#ifndef BBT_BLAS_H
#define BBT_BLAS_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stddef.h>
#include <stdio.h>

/* The instruction-set features that decide which OpenBLAS core fits. */
struct bbt_cpu_features {
	int avx;
	int avx2;
	int fma;
	int avx512f;
	int avx512bw;
	int avx512vl;
	int avx512dq;
};

/* The BLAS in use. Strings are the library's own (static) or NULL when it
 * cannot say. */
struct bbt_blas {
	const char *library;         /* "OpenBLAS", or "cblas" for another */
	const char *config;          /* openblas_get_config(): version and build options */
	const char *core;            /* openblas_get_corename(): the kernels that run */
	int threads;                 /* openblas_get_num_threads(); 0: unknown */
	const char *suggested_core;  /* an OPENBLAS_CORETYPE that fits the CPU when `core`
	                              * is a fallback far older than it; NULL: fine or unknown */
};

/* The features of the CPU this runs on (all 0 off x86). */
void bbt_blas_cpu_features(struct bbt_cpu_features *cpu);

/* The OPENBLAS_CORETYPE to suggest when OpenBLAS runs `core` (case is
 * ignored) on a CPU with `cpu`: only for a core older than Haswell on a CPU
 * with AVX or better, the trap that costs several times in every GEMM.
 * NULL when `core` fits, is newer, or is a name this module does not know. */
const char *bbt_blas_suggest_core(const char *core, const struct bbt_cpu_features *cpu);

/* Fill `blas` for the library linked in and this CPU. */
void bbt_blas_query(struct bbt_blas *blas);

/* One line for humans: library, config, core and threads. */
void bbt_blas_describe(const struct bbt_blas *blas, char *buf, size_t len);

/* When `blas` runs a fallback core: a warning on stderr naming the core and
 * the OPENBLAS_CORETYPE that fixes it (shown under --quiet, as warnings
 * are). Said at most once per process, and a grid says it before forking
 * its workers, so they inherit having said it. */
void bbt_blas_warn_fallback(const struct bbt_blas *blas);

/* For `list` and the benchmarks' headers: "BLAS: <description>" on `f`, then the
 * warning above when there is one. */
void bbt_blas_print_header(FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* BBT_BLAS_H */
