/*
 * mathfn.c - vectorizable exp, erf and GELU (see mathfn.h).
 *
 * Each function is a plain loop over inline, branch-free code (selects,
 * no calls), which the compiler turns into SIMD code under `omp simd`.
 * The selects use the quiet comparisons (isless, isgreater), which need
 * no trap on NaN.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "mathfn.h"

#ifdef _OPENMP
#define SIMD _Pragma("omp simd")
#else
#define SIMD
#endif

static inline float from_bits(int32_t i)
{
	float f;
	memcpy(&f, &i, sizeof f);
	return f;
}

static inline int32_t to_bits(float f)
{
	int32_t i;
	memcpy(&i, &f, sizeof i);
	return i;
}

/* exp(x) for x in [-87, 88] (the caller clamps). Cody and Waite's range
 * reduction (Software Manual for the Elementary Functions, 1980):
 * x = k ln2 + r, |r| <= ln2/2, with ln2 split in two so that k ln2 is
 * exact to float precision; exp(r) by its Taylor series to r^7 (the
 * truncation is under 5e-9 relative), and 2^k put into the exponent bits.
 * k is rounded to nearest by adding and subtracting 1.5 x 2^23, whose
 * low mantissa bits then hold k itself. */
static inline float exp_core(float x)
{
	const float magic = 12582912.0f;   /* 1.5 x 2^23 */
	float km = x * 1.44269504f + magic;
	float k = km - magic;
	int32_t ki = to_bits(km) - to_bits(magic);
	float r = x - k * 0.693359375f;
	r = r - k * -2.12194440e-4f;
	float p = 1.0f / 5040;
	p = p * r + 1.0f / 720;
	p = p * r + 1.0f / 120;
	p = p * r + 1.0f / 24;
	p = p * r + 1.0f / 6;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	return p * from_bits((int32_t)((uint32_t)(ki + 127) << 23));
}

/* 1 - erf(a) for a >= 1, clamped at a = 9 (where it is 4e-37). Abramowitz
 * and Stegun, Handbook of Mathematical Functions, formula 7.1.26:
 * erf(a) = 1 - (a1 t + a2 t^2 + ... + a5 t^5) exp(-a^2), t = 1/(1 + p a),
 * with an absolute error under 1.5e-7. (Near 0 the subtraction from 1
 * would cost that much again: erf_small serves there.) */
static inline float erfc_big(float a)
{
	a = isgreater(a, 9.0f) ? 9.0f : a;
	float t = 1.0f / (1.0f + 0.3275911f * a);
	float q = 1.061405429f;
	q = q * t - 1.453152027f;
	q = q * t + 1.421413741f;
	q = q * t - 0.284496736f;
	q = q * t + 0.254829592f;
	return q * t * exp_core(-a * a);
}

/* erf(z) for |z| < 1 by its Maclaurin series,
 * erf(z) = 2/sqrt(pi) sum_n (-1)^n z^(2n+1) / (n! (2n+1)), to n = 9: the
 * next term is under 1.5e-8. */
static inline float erf_small(float z)
{
	float u = z * z, p = -1.63658447e-7f;
	p = p * u + 1.64621144e-6f;
	p = p * u - 1.49256504e-5f;
	p = p * u + 1.2055533e-4f;
	p = p * u - 8.54832702e-4f;
	p = p * u + 5.22397763e-3f;
	p = p * u - 2.68661706e-2f;
	p = p * u + 0.112837917f;
	p = p * u - 0.376126389f;
	p = p * u + 1.12837917f;
	return z * p;
}

NAT_CLONES void nat_exp(float *y, size_t n)
{
	SIMD
	for (size_t i = 0; i < n; i++) {
		float x = y[i];
		x = isless(x, -87.0f) ? -87.0f : x;
		x = isgreater(x, 88.0f) ? 88.0f : x;
		y[i] = exp_core(x);
	}
}

NAT_CLONES void nat_erf(float *y, size_t n)
{
	SIMD
	for (size_t i = 0; i < n; i++) {
		float x = y[i], a = fabsf(x), e = 1.0f - erfc_big(a);
		e = isless(x, 0) ? -e : e;
		y[i] = isless(a, 1.0f) ? erf_small(x) : e;
	}
}

/* For |z| >= 1, 1 + erf(z) is e = 1 - erf(|z|) itself when z < 0 and 2 - e
 * when z > 0, so the negative side loses nothing to cancellation. */
NAT_CLONES void nat_gelu(float *y, const float *bias, size_t n)
{
	SIMD
	for (size_t i = 0; i < n; i++) {
		float x = bias != NULL ? y[i] + bias[i] : y[i];
		float z = x * 0.70710678f, a = fabsf(z), e = erfc_big(a);
		float p = isless(a, 1.0f) ? 1.0f + erf_small(z) : isless(z, 0) ? e : 2.0f - e;
		y[i] = 0.5f * x * p;
	}
}
