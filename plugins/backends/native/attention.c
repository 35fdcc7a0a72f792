/*
 * attention.c - the native backend's attention kernels, one head of one
 * packed sequence at a time (forward.h): the forward pass's (forward.c)
 * and its backward (grad.c). Both recompute what they need from q|k|v;
 * no n x n matrix outlives a query block.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "forward.h"
#include "mathfn.h"

size_t nat_keys_padded(size_t n)
{
	return (n + 7) / 8 * 8;
}

/* Eight floats, the tile of the attention loops: a register each (AVX2,
 * and AVX-512's lower half), two on SSE. */
typedef float vf8 __attribute__((vector_size(8 * sizeof(float))));
/* The same at any float's address (loads and stores of a tile). */
typedef float vf8u __attribute__((vector_size(8 * sizeof(float)), aligned(4), may_alias));
#define TILE(p) (*(vf8u *)(p))

/* Attention of one head of one sequence (n rows from base, bias not yet
 * added) for query rows [qa, qe) into ctx (stride H, row r at ctx + r H);
 * causal: row r sees rows 0..r only. kt is scratch for K^T [dh][np] (np:
 * n padded to whole tiles), so that the scores of a query row are a
 * contiguous sweep over the keys; s holds the scores of NAT_QBLOCK query rows
 * (stride np). Both products keep a NAT_QBLOCK x 8 tile in registers, over
 * keys (scores) or head dimensions (output), and sum in the same order as
 * a plain loop over e, then c, would: the results do not depend on the
 * tiling. */
NAT_CLONES
void nat_attend(const float *base, const float *bqkv, size_t n, size_t qa, size_t qe, size_t H,
                struct qkv_geom ge, int causal, float scale, float *s, float *qb, float *kt,
                float *ctx)
{
	size_t dh = ge.dh, st = ge.stride, np = nat_keys_padded(n);
	const float *bq = bqkv + ge.q, *bv = bqkv + ge.v;
	/* The keys' bias adds q·bk to every score of a row, which softmax
	 * cancels: only q and v need theirs. */
	for (size_t e = 0; e < dh; e++) {
		for (size_t c = 0; c < n; c++)
			kt[e * np + c] = base[c * st + ge.k + e];
		for (size_t c = n; c < np; c++)
			kt[e * np + c] = 0;
	}
	for (size_t r0 = qa; r0 < qe; r0 += NAT_QBLOCK) {
		size_t nr = qe - r0 < NAT_QBLOCK ? qe - r0 : NAT_QBLOCK;
		size_t nc = causal ? r0 + nr : n;   /* keys any row of the block may see */
		for (size_t j = 0; j < NAT_QBLOCK; j++) {
			const float *q = base + (r0 + (j < nr ? j : 0)) * st + ge.q;
			for (size_t e = 0; e < dh; e++)
				qb[j * dh + e] = (q[e] + bq[e]) * scale;
		}
		for (size_t c0 = 0; c0 < nc; c0 += 8) {
			vf8 acc[NAT_QBLOCK] = { 0 };
			for (size_t e = 0; e < dh; e++) {
				vf8 k = TILE(kt + e * np + c0);
#pragma GCC unroll 8
				for (size_t j = 0; j < NAT_QBLOCK; j++)
					acc[j] += qb[j * dh + e] * k;
			}
			for (size_t j = 0; j < NAT_QBLOCK; j++)
				TILE(s + j * np + c0) = acc[j];
		}
		for (size_t j = 0; j < NAT_QBLOCK; j++) {
			float *sr = s + j * np, mx = -INFINITY, sum = 0;
			size_t lim = j >= nr ? 0 : causal ? r0 + j + 1 : n;
			OMP_SIMD_MAX_MX
			for (size_t c = 0; c < lim; c++)
				mx = sr[c] > mx ? sr[c] : mx;
			for (size_t c = 0; c < lim; c++)
				sr[c] -= mx;
			nat_exp(sr, lim);
			for (size_t c = 0; c < lim; c++)
				sum += sr[c];
			float inv = lim > 0 ? 1.0f / sum : 0.0f;
			for (size_t c = 0; c < lim; c++)
				sr[c] *= inv;
			for (size_t c = lim; c < nc; c++)
				sr[c] = 0;   /* masked: the block's later keys, or no query row */
		}
		for (size_t e0 = 0; e0 < dh; e0 += 8) {
			vf8 acc[NAT_QBLOCK];
			for (size_t j = 0; j < NAT_QBLOCK; j++)
				acc[j] = TILE(bv + e0);   /* weights sum to 1: v's bias once */
			for (size_t c = 0; c < nc; c++) {
				vf8 v = TILE(base + c * st + ge.v + e0);
#pragma GCC unroll 8
				for (size_t j = 0; j < NAT_QBLOCK; j++)
					acc[j] += s[j * np + c] * v;
			}
			for (size_t j = 0; j < nr; j++)
				TILE(ctx + (r0 + j) * H + ge.q + e0) = acc[j];
		}
	}
}

/* Backward of the attention of one sequence's n rows for the query heads
 * sharing key/value head kvh: qkv the taped rows (biases not added), dctx
 * the gradient of the attention output (stride H), into dqkv (zeroed,
 * stride as qkv). Row by row: the probabilities of a query row are
 * recomputed from q and k, and scr holds 2n + 2dh floats. */
void nat_attend_back(const struct nat_model *m, const float *qkv, const float *bqkv,
                     const float *dctx, float *dqkv, size_t n, int causal, float scale, size_t kvh,
                     float *scr)
{
	size_t group = m->hp.heads / m->hp.kv_heads, H = m->hp.H;
	for (size_t hd = kvh * group; hd < (kvh + 1) * group; hd++) {
		struct qkv_geom ge = nat_geom(m, hd);
		size_t dh = ge.dh, st = ge.stride;
		const float *bq = bqkv + ge.q, *bv = bqkv + ge.v;
		float *p = scr, *dp = scr + n, *qs = scr + 2 * n, *dq = qs + dh;
		for (size_t i = 0; i < n; i++) {
			size_t lim = causal ? i + 1 : n;
			const float *q = qkv + i * st + ge.q, *dO = dctx + i * H + ge.q;
			for (size_t e = 0; e < dh; e++)
				qs[e] = (q[e] + bq[e]) * scale;
			float mx = -INFINITY, sum = 0;
			for (size_t j = 0; j < lim; j++) {
				const float *k = qkv + j * st + ge.k;
				float s = 0;
				OMP_SIMD_SUM_S
				for (size_t e = 0; e < dh; e++)
					s += qs[e] * k[e];
				p[j] = s;
				if (s > mx)
					mx = s;
			}
			for (size_t j = 0; j < lim; j++) {
				p[j] = expf(p[j] - mx);
				sum += p[j];
			}
			float inv = 1.0f / sum, D = 0;
			for (size_t j = 0; j < lim; j++) {
				const float *v = qkv + j * st + ge.v;
				float s = 0;
				OMP_SIMD_SUM_S
				for (size_t e = 0; e < dh; e++)
					s += dO[e] * (v[e] + bv[e]);
				p[j] *= inv;
				dp[j] = s;
				D += p[j] * s;
			}
			for (size_t e = 0; e < dh; e++)
				dq[e] = 0;
			for (size_t j = 0; j < lim; j++) {
				/* the keys' bias adds a constant to a row's scores, whose
				 * dS sums to 0: it has no gradient to pass on */
				float ds = p[j] * (dp[j] - D), pj = p[j];
				const float *k = qkv + j * st + ge.k;
				float *dk = dqkv + j * st + ge.k, *dv = dqkv + j * st + ge.v;
				OMP_SIMD
				for (size_t e = 0; e < dh; e++) {
					dq[e] += ds * k[e];
					dk[e] += ds * qs[e];
					dv[e] += pj * dO[e];
				}
			}
			float *dqr = dqkv + i * st + ge.q;
			for (size_t e = 0; e < dh; e++)
				dqr[e] = dq[e] * scale;
		}
	}
}
