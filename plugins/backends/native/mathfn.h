/*
 * mathfn.h - vectorizable float math for the native backend's elementwise
 * passes: exp, erf and the exact (erf) GELU over arrays.
 *
 * libm's expf and erff are scalar calls, which left the GELU of the FFN
 * (rows x 3072 values a layer) as a fifth of a RoBERTa forward pass.
 * These loops compile to SIMD code (OpenMP simd; with GCC on x86-64 one
 * clone each for AVX-512, AVX2+FMA and the baseline, picked at load
 * time). Accuracy, checked by t/mathfn.c against double libm over dense
 * grids: exp within 2 ulp (2.4e-7 relative); erf within 2e-7 absolute;
 * GELU within 2e-7 x |x| absolute.
 *
 *     nat_gelu(f, b1, F);      // f[j] = gelu(f[j] + b1[j]), j < F
 */
#ifndef BBT_NATIVE_MATHFN_H
#define BBT_NATIVE_MATHFN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One clone of a function per x86-64 level, chosen by the loader from the
 * CPU (an ifunc), for loops that gain from wider vectors: the baseline
 * build is SSE2 only. (GCC vectorizes the selects of mathfn.c only where
 * the CPU has quiet vector compares, AVX on: their baseline clone stays
 * scalar.) */
#ifdef HAVE_TARGET_CLONES
#define NAT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NAT_CLONES
#endif

/* y[i] = exp(y[i]); arguments under -87 give exp(-87) (~1.6e-38, not 0),
 * over 88 exp(88). */
void nat_exp(float *y, size_t n);

/* y[i] = erf(y[i]). */
void nat_erf(float *y, size_t n);

/* y[i] = gelu(y[i] + bias[i]) = x/2 (1 + erf(x / sqrt 2)), the exact
 * form of BERT and RoBERTa; bias may be NULL. */
void nat_gelu(float *y, const float *bias, size_t n);

#ifdef __cplusplus
}
#endif

#endif
