/*
 * forward.c - the native backend's packed, batched forward pass, for
 * encoders and decoders (model.h, forward.h).
 */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "mathfn.h"
#include "util.h"

/* Query rows per attention block (attend). */
#define QBLOCK 4

struct nat_work *nat_work_alloc(void)
{
	return calloc(1, sizeof(struct nat_work));
}

void nat_work_free(struct nat_work *w)
{
	if (w == NULL)
		return;
	free(w->x);
	free(w->qkv);
	free(w->ctx);
	free(w->tmp);
	free(w->ffn);
	free(w->scores);
	free(w->row0);
	free(w->len);
	free(w);
}

/* Per-thread scratch: attention scores and K^T of one head, or the head's
 * hidden vector. */
static size_t scratch_stride(const struct nat_model *m, size_t longest)
{
	size_t a = QBLOCK * longest + (m->hp.H / m->hp.heads) * longest;
	return a > m->hp.H ? a : m->hp.H;
}

static int grow(void **p, size_t n, size_t size)
{
	void *q = realloc(*p, (n ? n : 1) * size);
	if (q == NULL)
		return -1;
	*p = q;
	return 0;
}

/* Buffers for chunks of up to `rows` rows, `seqs` sequences and `longest`
 * positions; kept between calls, so repeated calls of one shape allocate
 * (and page-fault) nothing. */
static int work_reserve(struct nat_work *w, const struct nat_model *m, size_t rows, size_t seqs,
                        size_t longest)
{
	if (rows > w->cap_rows) {
		if (grow((void **)&w->x, rows * m->hp.H, sizeof(float)) < 0 ||
		    grow((void **)&w->qkv, rows * 3 * m->hp.H, sizeof(float)) < 0 ||
		    grow((void **)&w->ctx, rows * m->hp.H, sizeof(float)) < 0 ||
		    grow((void **)&w->tmp, rows * m->hp.H, sizeof(float)) < 0 ||
		    grow((void **)&w->ffn, rows * m->hp.F * (m->hp.family == NAT_LLAMA ? 2 : 1), sizeof(float)) < 0)
			return -1;
		w->cap_rows = rows;
	}
	if (seqs > w->cap_seq) {
		if (grow((void **)&w->row0, seqs, sizeof(size_t)) < 0 ||
		    grow((void **)&w->len, seqs, sizeof(size_t)) < 0)
			return -1;
		w->cap_seq = seqs;
	}
	size_t sc = (size_t)max_threads() * scratch_stride(m, longest);
	if (sc > w->cap_scores) {
		if (grow((void **)&w->scores, sc, sizeof(float)) < 0)
			return -1;
		w->cap_scores = sc;
	}
	return 0;
}

static void layer_norm(float *x, size_t n, const float *g, const float *b, float eps)
{
	double s = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	double mean = s / (double)n;
	for (size_t i = 0; i < n; i++) {
		double d = x[i] - mean;
		ss += d * d;
	}
	float inv = (float)(1.0 / sqrt(ss / (double)n + eps));
	float mu = (float)mean;
	for (size_t i = 0; i < n; i++)
		x[i] = (x[i] - mu) * inv * g[i] + b[i];
}

/* Y[rows][out] = X[rows][in] · W[out][in]^T (bias added by the caller's
 * next pass, fused with what it does anyway). */
static void gemm(float *y, const float *x, size_t rows, size_t in, size_t out, const float *w)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)out, (int)in, 1.0f, x,
	            (int)in, w, (int)in, 0.0f, y, (int)out);
}

/* x = LN(t + bias + x), row by row. */
static void residual_ln(float *x, float *t, size_t rows, size_t H, const float *bias,
                        const float *g, const float *b, float eps)
{
	OMP_FOR
	for (size_t r = 0; r < rows; r++) {
		float *tr = t + r * H, *xr = x + r * H;
		for (size_t h = 0; h < H; h++)
			tr[h] += bias[h] + xr[h];
		layer_norm(tr, H, g, b, eps);
		memcpy(xr, tr, H * sizeof *xr);
	}
}

static float dot(const float *a, const float *b, size_t n)
{
	float s = 0;
	OMP_SIMD_SUM_S
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* Attention of one head of one sequence (n rows from base, bias not yet
 * added) into ctx (stride H); causal: row r sees rows 0..r only. kt is
 * scratch for K^T [dh][n], so that the scores of a query row are a
 * contiguous, vectorizable sweep over the keys; s holds the scores of 4
 * query rows, which share every load of K^T and V. */
NAT_CLONES
static void attend(const float *base, const float *bqkv, size_t n, size_t H, struct qkv_geom ge,
                   int causal, float scale, float *s, float *qb, float *kt, float *ctx)
{
	size_t dh = ge.dh, st = ge.stride;
	const float *bq = bqkv + ge.q, *bv = bqkv + ge.v;
	/* The keys' bias adds q·bk to every score of a row, which softmax
	 * cancels: only q and v need theirs. */
	for (size_t c = 0; c < n; c++) {
		const float *k = base + c * st + ge.k;
		for (size_t e = 0; e < dh; e++)
			kt[e * n + c] = k[e];
	}
	for (size_t r0 = 0; r0 < n; r0 += QBLOCK) {
		size_t nr = n - r0 < QBLOCK ? n - r0 : QBLOCK;
		size_t nc = causal ? r0 + nr : n;   /* keys any row of the block may see */
		float *s0 = s, *s1 = s + n, *s2 = s + 2 * n, *s3 = s + 3 * n;
		for (size_t j = 0; j < QBLOCK; j++) {
			const float *q = base + (r0 + (j < nr ? j : 0)) * st + ge.q;
			for (size_t e = 0; e < dh; e++)
				qb[j * dh + e] = (q[e] + bq[e]) * scale;
		}
		for (size_t c = 0; c < nc; c++)
			s0[c] = s1[c] = s2[c] = s3[c] = 0;
		for (size_t e = 0; e < dh; e++) {
			const float *kr = kt + e * n;
			float q0 = qb[e], q1 = qb[dh + e], q2 = qb[2 * dh + e], q3 = qb[3 * dh + e];
			OMP_SIMD
			for (size_t c = 0; c < nc; c++) {
				float k = kr[c];
				s0[c] += q0 * k;
				s1[c] += q1 * k;
				s2[c] += q2 * k;
				s3[c] += q3 * k;
			}
		}
		for (size_t j = 0; j < nr; j++) {
			float *sr = s + j * n, mx = -INFINITY, sum = 0;
			size_t lim = causal ? r0 + j + 1 : n;
			for (size_t c = 0; c < lim; c++)
				if (sr[c] > mx)
					mx = sr[c];
			for (size_t c = 0; c < lim; c++)
				sr[c] -= mx;
			nat_exp(sr, lim);
			for (size_t c = 0; c < lim; c++)
				sum += sr[c];
			float inv = 1.0f / sum;
			for (size_t c = 0; c < lim; c++)
				sr[c] *= inv;
			for (size_t c = lim; c < nc; c++)
				sr[c] = 0;   /* masked: the block's later keys */
		}
		for (size_t j = nr; j < QBLOCK; j++)
			for (size_t c = 0; c < nc; c++)
				s[j * n + c] = 0;
		float *o0 = qb, *o1 = qb + dh, *o2 = qb + 2 * dh, *o3 = qb + 3 * dh;
		for (size_t e = 0; e < dh; e++)
			o0[e] = o1[e] = o2[e] = o3[e] = bv[e];   /* weights sum to 1: v's bias once */
		for (size_t c = 0; c < nc; c++) {
			const float *v = base + c * st + ge.v;
			float p0 = s0[c], p1 = s1[c], p2 = s2[c], p3 = s3[c];
			OMP_SIMD
			for (size_t e = 0; e < dh; e++) {
				float x = v[e];
				o0[e] += p0 * x;
				o1[e] += p1 * x;
				o2[e] += p2 * x;
				o3[e] += p3 * x;
			}
		}
		for (size_t j = 0; j < nr; j++)
			memcpy(ctx + (r0 + j) * H + ge.q, qb + j * dh, dh * sizeof *ctx);
	}
}

/* Sequences s0..s1 of the V x n_seq variants, packed back to back with
 * their P prompt rows (no padding): each one's first row and length go to
 * w->row0 and w->len; returns the rows in all. Encoders and decoders
 * share this layout. */
static size_t pack_rows(const struct bbt_batch *b, size_t P, size_t s0, size_t s1,
                        struct nat_work *w)
{
	size_t rows = 0;
	for (size_t k = 0; k < s1 - s0; k++) {
		size_t i = (s0 + k) % b->n_seq;
		w->row0[k] = rows;
		w->len[k] = b->offset[i + 1] - b->offset[i] + P;
		rows += w->len[k];
	}
	return rows;
}

/* Position t of a sequence with prompt at pp (P prompt rows): the prompt
 * row index, or -1 for a token, whose index is then *tok. */
static long prompt_row(size_t t, size_t pp, size_t P, size_t *tok)
{
	if (P > 0 && t >= pp && t < pp + P)
		return (long)(t - pp);
	*tok = t < pp || P == 0 ? t : t - P;
	return -1;
}

/* The embedding layer's output for sequences s0..s1 into w->x: token (or,
 * cat mode, prompt) vector + position + token type (encoders), then the
 * encoder's LayerNorm; add-mode prompts are added to that output, so a
 * prompt row is position (+ type) alone before. Decoders have no type
 * embedding and no norm here; Llama no position embedding either. */
static void embed(const struct nat_model *m, const struct nat_forward_params *fp,
                  const struct bbt_batch *b, const float *prompts, size_t P, size_t Lp,
                  size_t s0, size_t s1, struct nat_work *w)
{
	size_t H = m->hp.H, n_seq = b->n_seq;
	OMP_FOR_DYN
	for (size_t k = 0; k < s1 - s0; k++) {
		size_t v = (s0 + k) / n_seq, i = (s0 + k) % n_seq, pp = b->prompt_pos[i];
		const int32_t *ids = b->ids + b->offset[i];
		for (size_t t = 0; t < w->len[k]; t++) {
			float *xr = w->x + (w->row0[k] + t) * H;
			size_t tok = 0;
			long pr = prompt_row(t, pp, P, &tok);
			const float *prompt = pr >= 0 ? prompts + ((v * Lp) * P + (size_t)pr) * H : NULL;
			int add = prompt != NULL && fp->mode == NAT_PROMPT_ADD;
			const float *src = pr < 0 ? m->tok_embd + (size_t)ids[tok] * H : add ? NULL : prompt;
			const float *pe = m->pos_embd ? m->pos_embd + (m->hp.pos_offset + t) * H : NULL;
			const float *te = m->type_embd;
			for (size_t h = 0; h < H; h++)
				xr[h] = (src ? src[h] : 0.0f) + (pe ? pe[h] : 0.0f) + (te ? te[h] : 0.0f);
			if (m->emb_ln_g != NULL)
				layer_norm(xr, H, m->emb_ln_g, m->emb_ln_b, m->hp.eps);
			if (add)
				for (size_t h = 0; h < H; h++)
					xr[h] += prompt[h];
		}
	}
}

/* Deep prompts: layer l's prompt vectors added to the prompt rows entering
 * layer l (l > 0; the embedding layer took layer 0's). */
static void add_deep_prompt(const struct nat_model *m, const struct bbt_batch *b,
                            const float *prompts, size_t P, size_t Lp, size_t l, size_t s0,
                            size_t s1, struct nat_work *w)
{
	size_t H = m->hp.H, n_seq = b->n_seq;
	for (size_t k = 0; k < s1 - s0; k++) {
		size_t v = (s0 + k) / n_seq, i = (s0 + k) % n_seq, pp = b->prompt_pos[i];
		for (size_t p = 0; p < P; p++) {
			float *xr = w->x + (w->row0[k] + pp + p) * H;
			const float *pv = prompts + ((v * Lp + l) * P + p) * H;
			for (size_t h = 0; h < H; h++)
				xr[h] += pv[h];
		}
	}
}

static void forward_chunk(const struct nat_model *m, const struct nat_forward_params *fp,
                          const struct bbt_batch *b, const float *prompts, size_t P, size_t Lp,
                          size_t s0, size_t s1, struct nat_work *w, size_t longest, float *logits,
                          struct nat_tape *tp)
{
	size_t H = m->hp.H, F = m->hp.F, dh = H / m->hp.heads, n_seq = b->n_seq;
	size_t ns = s1 - s0, rows = pack_rows(b, P, s0, s1, w);
	embed(m, fp, b, prompts, P, Lp, s0, s1, w);
	float scale = 1.0f / sqrtf((float)dh);
	size_t stride_s = scratch_stride(m, longest);
	for (size_t l = 0; l < m->hp.L; l++) {
		const struct nat_layer *ly = &m->layers[l];
		if (P > 0 && Lp > 1 && l > 0)
			add_deep_prompt(m, b, prompts, P, Lp, l, s0, s1, w);
		gemm(w->qkv, w->x, rows, H, 3 * H, ly->wqkv);
		if (tp != NULL)
			nat_tape_keep(tp, l, NAT_QKV, w->qkv);
		size_t pairs = ns * m->hp.heads;
		OMP_FOR_DYN
		for (size_t j = 0; j < pairs; j++) {
			size_t k = j / m->hp.heads, hd = j % m->hp.heads;
			float *s = w->scores + (size_t)thread_id() * stride_s;
			float qb[QBLOCK * 512];
			attend(w->qkv + w->row0[k] * 3 * H, ly->bqkv, w->len[k], H, nat_geom(m, hd), 0, scale, s,
			       qb, s + QBLOCK * longest, w->ctx + w->row0[k] * H);
		}
		gemm(w->tmp, w->ctx, rows, H, H, ly->wo);
		if (tp != NULL)
			nat_tape_sum(tp, l, NAT_NORM1, w->tmp, ly->bo, w->x);
		residual_ln(w->x, w->tmp, rows, H, ly->bo, ly->ln1_g, ly->ln1_b, m->hp.eps);
		gemm(w->ffn, w->x, rows, H, F, ly->w1);
		if (tp != NULL)
			nat_tape_keep(tp, l, NAT_UP, w->ffn);
		OMP_FOR
		for (size_t r = 0; r < rows; r++)
			nat_gelu(w->ffn + r * F, ly->b1, F);
		gemm(w->tmp, w->ffn, rows, F, H, ly->w2);
		if (tp != NULL)
			nat_tape_sum(tp, l, NAT_NORM2, w->tmp, ly->b2, w->x);
		residual_ln(w->x, w->tmp, rows, H, ly->b2, ly->ln2_g, ly->ln2_b, m->hp.eps);
	}
	/* MLM head, at the prediction rows only, for the label words only */
	OMP_FOR
	for (size_t k = 0; k < ns; k++) {
		size_t v = (s0 + k) / n_seq, i = (s0 + k) % n_seq, pp = b->prompt_pos[i];
		size_t pr = b->predict_pos[i];
		size_t t = P > 0 && pr >= pp ? pr + P : pr;
		const float *xr = w->x + (w->row0[k] + t) * H;
		float *hv = w->scores + (size_t)thread_id() * stride_s;
		for (size_t o = 0; o < H; o++)
			hv[o] = m->mlm_b[o] + dot(m->mlm_w + o * H, xr, H);
		nat_gelu(hv, NULL, H);
		if (tp != NULL)
			nat_tape_head(tp, k, hv);
		layer_norm(hv, H, m->mlm_ln_g, m->mlm_ln_b, m->hp.eps);
		float *out = logits + (v * n_seq + i) * b->n_labels;
		for (size_t c = 0; c < b->n_labels; c++) {
			size_t id = (size_t)b->label_ids[c];
			out[c] = dot(hv, m->out_w + id * H, H) + m->out_b[id];
		}
	}
}

static void rms_norm(float *x, size_t n, const float *g, float eps)
{
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	float inv = (float)(1.0 / sqrt(ss / (double)n + eps));
	for (size_t i = 0; i < n; i++)
		x[i] = x[i] * inv * g[i];
}

static float gelu_tanh(float x)
{
	return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

/* Pre-norm of row r of x into y: LayerNorm (GPT-2) or RMSNorm (Llama). */
static void pre_norm(const struct nat_model *m, float *y, const float *x, const float *g,
                     const float *b)
{
	memcpy(y, x, m->hp.H * sizeof *y);
	if (m->hp.family == NAT_LLAMA)
		rms_norm(y, m->hp.H, g, m->hp.eps);
	else
		layer_norm(y, m->hp.H, g, b, m->hp.eps);
}

/* RoPE on adjacent pairs (llama.cpp's "normal" mode, which its converter
 * permutes Hugging Face's q and k weights for), position t. */
static void rope(float *x, size_t t, size_t dims, float base)
{
	for (size_t i = 0; i < dims; i += 2) {
		double th = (double)t * pow((double)base, -(double)i / (double)dims);
		float c = (float)cos(th), sn = (float)sin(th), a = x[i], b = x[i + 1];
		x[i] = a * c - b * sn;
		x[i + 1] = a * sn + b * c;
	}
}

static void forward_decoder_chunk(const struct nat_model *m, const struct nat_forward_params *fp,
                                  const struct bbt_batch *b, const float *prompts, size_t P,
                                  size_t Lp, size_t s0, size_t s1, struct nat_work *w,
                                  size_t longest, float *logits, struct nat_tape *tp)
{
	size_t H = m->hp.H, F = m->hp.F, n_seq = b->n_seq, ns = s1 - s0;
	size_t rows = pack_rows(b, P, s0, s1, w);
	struct qkv_geom g0 = nat_geom(m, 0);
	size_t QS = g0.stride;
	embed(m, fp, b, prompts, P, Lp, s0, s1, w);
	float scale = 1.0f / sqrtf((float)g0.dh);
	size_t stride_s = scratch_stride(m, longest);
	for (size_t l = 0; l < m->hp.L; l++) {
		const struct nat_layer *ly = &m->layers[l];
		if (P > 0 && Lp > 1 && l > 0)
			add_deep_prompt(m, b, prompts, P, Lp, l, s0, s1, w);
		if (tp != NULL)
			nat_tape_keep(tp, l, NAT_NORM1, w->x);
		OMP_FOR
		for (size_t r = 0; r < rows; r++)
			pre_norm(m, w->tmp + r * H, w->x + r * H, ly->ln1_g, ly->ln1_b);
		gemm(w->qkv, w->tmp, rows, H, QS, ly->wqkv);
		if (m->hp.family == NAT_LLAMA) {
			/* rotate q and k (bias-free in Llama) at each row's position */
			OMP_FOR_DYN
			for (size_t k = 0; k < ns; k++)
				for (size_t t = 0; t < w->len[k]; t++) {
					float *row = w->qkv + (w->row0[k] + t) * QS;
					for (size_t hd = 0; hd < m->hp.heads; hd++)
						rope(row + hd * g0.dh, t, m->hp.rope_dims, m->hp.rope_base);
					for (size_t hd = 0; hd < m->hp.kv_heads; hd++)
						rope(row + H + hd * g0.dh, t, m->hp.rope_dims, m->hp.rope_base);
				}
		}
		if (tp != NULL)
			nat_tape_keep(tp, l, NAT_QKV, w->qkv);
		size_t pairs = ns * m->hp.heads;
		OMP_FOR_DYN
		for (size_t j = 0; j < pairs; j++) {
			size_t k = j / m->hp.heads, hd = j % m->hp.heads;
			float *s = w->scores + (size_t)thread_id() * stride_s;
			float qb[QBLOCK * 512];
			attend(w->qkv + w->row0[k] * QS, ly->bqkv, w->len[k], H, nat_geom(m, hd), 1, scale, s, qb,
			       s + QBLOCK * longest, w->ctx + w->row0[k] * H);
		}
		gemm(w->tmp, w->ctx, rows, H, H, ly->wo);
		OMP_FOR
		for (size_t r = 0; r < rows; r++) {
			float *xr = w->x + r * H, *tr = w->tmp + r * H;
			for (size_t h = 0; h < H; h++)
				xr[h] += tr[h] + ly->bo[h];
			pre_norm(m, tr, xr, ly->ln2_g, ly->ln2_b);
		}
		gemm(w->ffn, w->tmp, rows, H, F, ly->w1);
		if (tp != NULL) {
			nat_tape_keep(tp, l, NAT_NORM2, w->x);
			nat_tape_keep(tp, l, NAT_UP, w->ffn);
		}
		if (ly->wg != NULL) {
			float *gate = w->ffn + rows * F;
			gemm(gate, w->tmp, rows, H, F, ly->wg);
			if (tp != NULL)
				nat_tape_keep(tp, l, NAT_GATE, gate);
			OMP_FOR
			for (size_t r = 0; r < rows; r++)
				for (size_t j = 0; j < F; j++) {
					float gv = gate[r * F + j];
					w->ffn[r * F + j] *= gv / (1.0f + expf(-gv));   /* SwiGLU: up * silu(gate) */
				}
		} else {
			OMP_FOR
			for (size_t r = 0; r < rows; r++)
				for (size_t j = 0; j < F; j++)
					w->ffn[r * F + j] = gelu_tanh(w->ffn[r * F + j] + ly->b1[j]);
		}
		gemm(w->tmp, w->ffn, rows, F, H, ly->w2);
		OMP_FOR
		for (size_t r = 0; r < rows; r++) {
			float *xr = w->x + r * H, *tr = w->tmp + r * H;
			for (size_t h = 0; h < H; h++)
				xr[h] += tr[h] + ly->b2[h];
		}
	}
	/* the label words' logits at each sequence's prediction row */
	OMP_FOR
	for (size_t k = 0; k < ns; k++) {
		size_t v = (s0 + k) / n_seq, i = (s0 + k) % n_seq, pp = b->prompt_pos[i];
		size_t pr = b->predict_pos[i];
		size_t t = P > 0 && pr >= pp ? pr + P : pr;
		float *hv = w->scores + (size_t)thread_id() * stride_s;
		pre_norm(m, hv, w->x + (w->row0[k] + t) * H, m->out_norm_g, m->out_norm_b);
		float *out = logits + (v * n_seq + i) * b->n_labels;
		for (size_t c = 0; c < b->n_labels; c++)
			out[c] = dot(hv, m->out_w + (size_t)b->label_ids[c] * H, H);
	}
}

int nat_batch_prepare(const struct nat_model *m, const struct nat_forward_params *fp,
                      struct nat_work *w, const struct bbt_batch *b, size_t P, size_t Lp,
                      size_t n_variants, size_t *longest_out, size_t *max_rows_out, char *err,
                      size_t errlen)
{
	if (m->hp.H / m->hp.heads > 512)
		return bbt_error(err, errlen, BBT_ENOTSUP, "head size %zu is over 512", m->hp.H / m->hp.heads);
	size_t longest;
	int rc = nat_check_batch(&m->hp, b, P, Lp, &longest, err, errlen);
	if (rc < 0)
		return rc;
	*longest_out = longest;
	*max_rows_out = 0;
	if (b->n_seq == 0)
		return BBT_OK;
	size_t max_rows = fp->max_rows > longest ? fp->max_rows : longest;
	size_t S = n_variants * b->n_seq;
	/* chunks hold whole sequences: never more rows than max_rows, unless
	 * one sequence alone is longer */
	size_t total = 0;
	for (size_t s = 0; s < S; s++)
		total += b->offset[s % b->n_seq + 1] - b->offset[s % b->n_seq] + P;
	if (total < max_rows)
		max_rows = total;
	if (work_reserve(w, m, max_rows, S, longest) < 0)
		return bbt_error(err, errlen, BBT_ENOMEM,
		                 "out of memory for activations of %zu rows x hidden %zu", max_rows, m->hp.H);
	*max_rows_out = max_rows;
	return BBT_OK;
}

size_t nat_chunk_end(const struct bbt_batch *b, size_t P, size_t S, size_t s0, size_t max_rows)
{
	size_t s1 = s0, rows = 0;
	while (s1 < S) {
		size_t i = s1 % b->n_seq, n = b->offset[i + 1] - b->offset[i] + P;
		if (s1 > s0 && rows + n > max_rows)
			break;
		rows += n;
		s1++;
	}
	return s1;
}

void nat_forward_chunk(const struct nat_model *m, const struct nat_forward_params *fp,
                       const struct bbt_batch *b, const float *prompts, size_t P, size_t Lp,
                       size_t s0, size_t s1, struct nat_work *w, size_t longest, float *logits,
                       struct nat_tape *tape)
{
	if (m->hp.causal)
		forward_decoder_chunk(m, fp, b, prompts, P, Lp, s0, s1, w, longest, logits, tape);
	else
		forward_chunk(m, fp, b, prompts, P, Lp, s0, s1, w, longest, logits, tape);
}

int nat_model_score(const struct nat_model *m, const struct nat_forward_params *fp,
                    struct nat_work *w, const struct bbt_batch *b, const float *prompts,
                    size_t n_variants, float *logits, char *err, size_t errlen)
{
	size_t P = prompts != NULL ? b->prompt_len : 0;
	size_t Lp = P > 0 ? b->prompt_layers : 1, longest, max_rows;
	if (n_variants == 0)
		n_variants = 1;
	int rc = nat_batch_prepare(m, fp, w, b, P, Lp, n_variants, &longest, &max_rows, err, errlen);
	if (rc < 0)
		return rc;
	size_t S = n_variants * b->n_seq;
	for (size_t s0 = 0, s1; s0 < S; s0 = s1) {
		s1 = nat_chunk_end(b, P, S, s0, max_rows);
		nat_forward_chunk(m, fp, b, prompts, P, Lp, s0, s1, w, longest, logits, NULL);
	}
	return BBT_OK;
}
