/*
 * forward.c - the native backend's packed, batched forward pass (model.h,
 * forward.h), one code path for encoders (post-LayerNorm) and decoders
 * (pre-norm, causal).
 *
 * Why it is shaped as it is (figures: bench/bbt, README's performance
 * section):
 *   - A chunk's sequences are split into blocks of whole sequences whose
 *     activations (x, q|k|v, attention output, FFN rows) fit in a core's
 *     L2 cache, and each block goes through every layer before the next
 *     starts: a whole-chunk pass streams 10 to 100 MB per layer through
 *     memory, a block's passes stay in cache.
 *   - Blocks run on the OpenMP threads, each with single-threaded GEMMs:
 *     the small GEMMs of a block (128 rows x hidden 128 here) scale badly
 *     over OpenBLAS's threads, and the two pools must not both take the
 *     cores. With fewer blocks than threads the blocks run one after the
 *     other on OpenBLAS's threads, as a whole-chunk pass would.
 *   - The loss reads one row per sequence: the last layer computes q|k|v
 *     of every row (keys and values) and the rest (attention queries,
 *     output projection, norms, FFN) only at the prediction rows, for the
 *     gradient's tape too (its backward pass does the same), so a
 *     gradient's logits are the score's, bit for bit.
 *   - Rows are packed with no padding (model.h).
 */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "mathfn.h"

/* Rows a block aims at. Hidden 128: 2.5 MB of activations, about a
 * core's L2; hidden 768: fewer rows would repack the weights (OpenBLAS
 * packs them on every call) for too little work. bench/bbt measured 256
 * to 1600 rows (hidden 128) within 5 %, and 70 rows 20 % slower than 530
 * (hidden 768). */
#define BLOCK_ROWS 512

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
	free(w->blocks);
	free(w);
}

/* Floats of FFN activations a row: up, and Llama's gate beside it. */
static size_t ffn_width(const struct nat_model *m)
{
	return m->hp.F * (m->hp.family == BBT_LM_LLAMA ? 2 : 1);
}

/* Per-thread scratch: attention scores and K^T of one head, or the head's
 * hidden vector. */
static size_t scratch_stride(const struct nat_model *m, size_t longest)
{
	size_t a = (NAT_QBLOCK + m->hp.H / m->hp.heads) * nat_keys_padded(longest);
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
	size_t H = m->hp.H;
	if (rows > w->cap_rows) {
		if (grow((void **)&w->x, rows * H, sizeof(float)) < 0 ||
		    grow((void **)&w->qkv, rows * nat_geom(m, 0).stride, sizeof(float)) < 0 ||
		    grow((void **)&w->ctx, rows * H, sizeof(float)) < 0 ||
		    grow((void **)&w->tmp, rows * H, sizeof(float)) < 0 ||
		    grow((void **)&w->ffn, rows * ffn_width(m), sizeof(float)) < 0)
			return -1;
		w->cap_rows = rows;
	}
	if (seqs > w->cap_seq) {
		if (grow((void **)&w->row0, seqs, sizeof(size_t)) < 0 ||
		    grow((void **)&w->len, seqs, sizeof(size_t)) < 0 ||
		    grow((void **)&w->blocks, seqs + 1, sizeof(size_t)) < 0)
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

/* ------------------------------------------------------------------ */
/* Row operations */

/* The statistics sum in double over vector lanes: a row's sum of floats
 * is exact in double (unless its values span over 2^29), so the lanes
 * change no mean, and the variance only past float's precision. */
NAT_CLONES
static void layer_norm(float *x, size_t n, const float *g, const float *b, float eps)
{
	double s = 0, ss = 0;
	OMP_SIMD_SUM_S
	for (size_t i = 0; i < n; i++)
		s += x[i];
	double mean = s / (double)n;
	OMP_SIMD_SUM_SS
	for (size_t i = 0; i < n; i++) {
		double d = x[i] - mean;
		ss += d * d;
	}
	float inv = (float)(1.0 / sqrt(ss / (double)n + eps));
	float mu = (float)mean;
	for (size_t i = 0; i < n; i++)
		x[i] = (x[i] - mu) * inv * g[i] + b[i];
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

/* Pre-norm of a row x into y: LayerNorm (GPT-2) or RMSNorm (Llama). */
static void pre_norm(const struct nat_model *m, float *y, const float *x, const float *g,
                     const float *b)
{
	memcpy(y, x, m->hp.H * sizeof *y);
	if (m->hp.family == BBT_LM_LLAMA)
		rms_norm(y, m->hp.H, g, m->hp.eps);
	else
		layer_norm(y, m->hp.H, g, b, m->hp.eps);
}

void nat_norm_rows(const struct nat_model *m, float *y, const float *x, size_t n,
                   const float *g, const float *b)
{
	OMP_FOR
	for (size_t r = 0; r < n; r++)
		pre_norm(m, y + r * m->hp.H, x + r * m->hp.H, g, b);
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

/* x += t + bias, row by row (the pre-norm residual). */
static void residual_add(float *x, const float *t, size_t rows, size_t H, const float *bias)
{
	OMP_FOR
	for (size_t r = 0; r < rows; r++)
		for (size_t h = 0; h < H; h++)
			x[r * H + h] += t[r * H + h] + bias[h];
}

static float dot(const float *a, const float *b, size_t n)
{
	float s = 0;
	OMP_SIMD_SUM_S
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static float gelu_tanh(float x)
{
	return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
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

/* ------------------------------------------------------------------ */
/* Layout: chunks, blocks, rows */

/* Sequences s0..s1 of the V x n_seq variants, packed back to back with
 * their P prompt rows (no padding): each one's first row and length go to
 * w->row0 and w->len; returns the rows in all. */
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

/* Split the chunk's ns sequences into blocks of whole sequences of about
 * BLOCK_ROWS rows, their number a multiple of the threads' so that none
 * waits at the chunk's end: block j is sequences [blocks[j],
 * blocks[j + 1]). Returns the number of blocks. */
static size_t split_blocks(size_t ns, size_t rows, struct nat_work *w)
{
	size_t threads = (size_t)max_threads(), nb = (rows + BLOCK_ROWS - 1) / BLOCK_ROWS;
	nb = (nb + threads - 1) / threads * threads;
	size_t target = (rows + nb - 1) / nb;
	nb = 0;
	for (size_t k = 0; k < ns; nb++) {
		size_t r = 0;
		w->blocks[nb] = k;
		while (k < ns && (r == 0 || r + w->len[k] <= target))
			r += w->len[k++];
	}
	w->blocks[nb] = ns;
	return nb;
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

/* What one block's passes share. */
struct pass {
	const struct nat_model *m;
	const struct nat_forward_params *fp;
	const struct bbt_batch *b;
	const float *prompts;
	size_t P, Lp, s0, longest;
	struct nat_work *w;
	struct nat_tape *tp;
	float *logits;
};

/* A block: the chunk's sequences [k0, k1), rows [r0, r0 + rows). */
struct block {
	size_t k0, k1, r0, rows;
};

/* The embedding layer's output for the block's sequences into w->x: token
 * (or, cat mode, prompt) vector + position + token type (encoders), then
 * the encoder's LayerNorm; add-mode prompts are added to that output, so a
 * prompt row is position (+ type) alone before. Decoders have no type
 * embedding and no norm here; Llama no position embedding either. */
static void embed(const struct pass *ps, const struct block *bk)
{
	const struct nat_model *m = ps->m;
	size_t H = m->hp.H, n_seq = ps->b->n_seq, P = ps->P;
	struct nat_work *w = ps->w;
	OMP_FOR_DYN
	for (size_t k = bk->k0; k < bk->k1; k++) {
		size_t v = (ps->s0 + k) / n_seq, i = (ps->s0 + k) % n_seq, pp = ps->b->prompt_pos[i];
		const int32_t *ids = ps->b->ids + ps->b->offset[i];
		for (size_t t = 0; t < w->len[k]; t++) {
			float *xr = w->x + (w->row0[k] + t) * H;
			size_t tok = 0;
			long pr = prompt_row(t, pp, P, &tok);
			const float *prompt = pr >= 0 ? ps->prompts + ((v * ps->Lp) * P + (size_t)pr) * H : NULL;
			int add = prompt != NULL && ps->fp->mode == NAT_PROMPT_ADD;
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
static void add_deep_prompt(const struct pass *ps, const struct block *bk, size_t l)
{
	size_t H = ps->m->hp.H, n_seq = ps->b->n_seq;
	for (size_t k = bk->k0; k < bk->k1; k++) {
		size_t v = (ps->s0 + k) / n_seq, i = (ps->s0 + k) % n_seq, pp = ps->b->prompt_pos[i];
		for (size_t p = 0; p < ps->P; p++) {
			float *xr = ps->w->x + (ps->w->row0[k] + pp + p) * H;
			const float *pv = ps->prompts + ((v * ps->Lp + l) * ps->P + p) * H;
			for (size_t h = 0; h < H; h++)
				xr[h] += pv[h];
		}
	}
}

/* ------------------------------------------------------------------ */
/* A layer over one block */

/* Llama: q and k of the block's rows (bias-free) rotated at each row's
 * position in its sequence; qkv holds the block's rows. */
static void rope_rows(const struct nat_model *m, const struct nat_work *w,
                      const struct block *bk, float *qkv)
{
	size_t H = m->hp.H, QS = nat_geom(m, 0).stride, dh = nat_geom(m, 0).dh;
	for (size_t k = bk->k0; k < bk->k1; k++)
		for (size_t t = 0; t < w->len[k]; t++) {
			float *row = qkv + (w->row0[k] - bk->r0 + t) * QS;
			for (size_t hd = 0; hd < m->hp.heads; hd++)
				rope(row + hd * dh, t, m->hp.rope_dims, m->hp.rope_base);
			for (size_t hd = 0; hd < m->hp.kv_heads; hd++)
				rope(row + H + hd * dh, t, m->hp.rope_dims, m->hp.rope_base);
		}
}

/* Attention of the block's sequences over their q|k|v rows into ctx, for
 * every query row, or (last) the prediction rows only, whose outputs and
 * hidden states are then gathered to the block's first rows, one a
 * sequence. */
static void attention(const struct pass *ps, const struct nat_layer *ly, const struct block *bk,
                      int last, float *x, float *qkv, float *ctx)
{
	const struct nat_model *m = ps->m;
	struct nat_work *w = ps->w;
	size_t H = m->hp.H, QS = nat_geom(m, 0).stride, pairs = (bk->k1 - bk->k0) * m->hp.heads;
	size_t stride_s = scratch_stride(m, ps->longest);
	float scale = 1.0f / sqrtf((float)nat_geom(m, 0).dh);
	OMP_FOR_DYN
	for (size_t j = 0; j < pairs; j++) {
		size_t k = bk->k0 + j / m->hp.heads, hd = j % m->hp.heads, r = w->row0[k] - bk->r0;
		size_t qa = last ? nat_predict_row(ps->b, (ps->s0 + k) % ps->b->n_seq, ps->P) : 0;
		size_t qe = last ? qa + 1 : w->len[k];
		float *s = w->scores + (size_t)thread_id() * stride_s;
		float qb[NAT_QBLOCK * 512];
		nat_attend(qkv + r * QS, ly->bqkv, w->len[k], qa, qe, H, nat_geom(m, hd), m->hp.causal, scale,
		       s, qb, s + NAT_QBLOCK * nat_keys_padded(ps->longest), ctx + r * H);
	}
	if (!last)
		return;
	for (size_t k = bk->k0; k < bk->k1; k++) {
		size_t from = w->row0[k] - bk->r0 + nat_predict_row(ps->b, (ps->s0 + k) % ps->b->n_seq, ps->P);
		memmove(ctx + (k - bk->k0) * H, ctx + from * H, H * sizeof *ctx);
		memmove(x + (k - bk->k0) * H, x + from * H, H * sizeof *x);
	}
}

/* The FFN's activation in place over n rows of ffn_width floats:
 * encoders gelu(up + b1) (erf), GPT-2 its tanh form, Llama up * silu(gate). */
static void activation(const struct nat_model *m, const struct nat_layer *ly, float *ffn, size_t n)
{
	size_t F = m->hp.F;
	OMP_FOR
	for (size_t r = 0; r < n; r++) {
		float *u = ffn + r * F;
		if (ly->wg != NULL) {
			const float *gate = ffn + n * F + r * F;
			for (size_t j = 0; j < F; j++)
				u[j] *= gate[j] / (1.0f + expf(-gate[j]));
		} else if (!m->hp.causal) {
			nat_gelu(u, ly->b1, F);
		} else {
			for (size_t j = 0; j < F; j++)
				u[j] = gelu_tanh(u[j] + ly->b1[j]);
		}
	}
}

/* Layer l over the block's rows of w->x, in place; last: only the
 * prediction rows after the attention (see attention()). Encoders:
 *   x = LN1(x + Wo attn(x) + bo); x = LN2(x + W2 act(W1 x + b1) + b2)
 * decoders:
 *   x += Wo attn(norm1(x)) + bo;  x += W2 act(W1 norm2(x) + b1) + b2 */
static void layer(const struct pass *ps, size_t l, const struct block *bk, int last)
{
	const struct nat_model *m = ps->m;
	const struct nat_layer *ly = &m->layers[l];
	struct nat_work *w = ps->w;
	struct nat_tape *tp = ps->tp;
	size_t H = m->hp.H, F = m->hp.F, QS = nat_geom(m, 0).stride, n = bk->rows, r0 = bk->r0;
	int pre = m->hp.causal;
	float *x = w->x + r0 * H, *qkv = w->qkv + r0 * QS, *ctx = w->ctx + r0 * H;
	float *tmp = w->tmp + r0 * H, *ffn = w->ffn + r0 * ffn_width(m);
	const float *in = x;
	if (pre) {
		if (tp != NULL)
			nat_tape_keep(tp, l, NAT_NORM1, r0, n, x);
		nat_norm_rows(m, tmp, x, n, ly->ln1_g, ly->ln1_b);
		in = tmp;
	}
	gemm(qkv, in, n, H, QS, ly->wqkv);
	if (m->hp.family == BBT_LM_LLAMA)
		rope_rows(m, w, bk, qkv);
	if (tp != NULL)
		nat_tape_keep(tp, l, NAT_QKV, r0, n, qkv);
	attention(ps, ly, bk, last, x, qkv, ctx);
	size_t tr = r0;   /* the tape's row of x's first row from here on */
	if (last) {
		n = bk->k1 - bk->k0;
		tr = bk->k0;
	}
	gemm(tmp, ctx, n, H, H, ly->wo);
	if (pre) {
		residual_add(x, tmp, n, H, ly->bo);
		if (tp != NULL)
			nat_tape_keep(tp, l, NAT_NORM2, tr, n, x);
		nat_norm_rows(m, tmp, x, n, ly->ln2_g, ly->ln2_b);
		in = tmp;
	} else {
		if (tp != NULL)
			nat_tape_sum(tp, l, NAT_NORM1, tr, n, tmp, ly->bo, x);
		residual_ln(x, tmp, n, H, ly->bo, ly->ln1_g, ly->ln1_b, m->hp.eps);
		in = x;
	}
	gemm(ffn, in, n, H, F, ly->w1);
	if (ly->wg != NULL)
		gemm(ffn + n * F, in, n, H, F, ly->wg);
	activation(m, ly, ffn, n);
	gemm(tmp, ffn, n, F, H, ly->w2);
	if (pre) {
		residual_add(x, tmp, n, H, ly->b2);
	} else {
		if (tp != NULL)
			nat_tape_sum(tp, l, NAT_NORM2, tr, n, tmp, ly->b2, x);
		residual_ln(x, tmp, n, H, ly->b2, ly->ln2_g, ly->ln2_b, m->hp.eps);
	}
}

/* The label words' logits of the block's sequences from their final
 * hidden states, one row a sequence from the block's first row (the last
 * layer's). Encoders: the MLM head logit_w = E[w]·LN(gelu(Wd x + bd)) +
 * b[w]; decoders: out[w]·norm(x). */
static void head(const struct pass *ps, const struct block *bk)
{
	const struct nat_model *m = ps->m;
	const struct bbt_batch *b = ps->b;
	size_t H = m->hp.H, n_seq = b->n_seq, stride_s = scratch_stride(m, ps->longest);
	OMP_FOR
	for (size_t k = bk->k0; k < bk->k1; k++) {
		size_t v = (ps->s0 + k) / n_seq, i = (ps->s0 + k) % n_seq;
		const float *xr = ps->w->x + (bk->r0 + k - bk->k0) * H;
		float *hv = ps->w->scores + (size_t)thread_id() * stride_s;
		float *out = ps->logits + (v * n_seq + i) * b->n_labels;
		if (m->hp.causal) {
			if (ps->tp != NULL)
				nat_tape_head(ps->tp, k, xr, NULL);
			pre_norm(m, hv, xr, m->out_norm_g, m->out_norm_b);
			for (size_t c = 0; c < b->n_labels; c++)
				out[c] = dot(hv, m->out_w + (size_t)b->label_ids[c] * H, H);
			continue;
		}
		for (size_t o = 0; o < H; o++)
			hv[o] = m->mlm_b[o] + dot(m->mlm_w + o * H, xr, H);
		nat_gelu(hv, NULL, H);
		if (ps->tp != NULL)
			nat_tape_head(ps->tp, k, xr, hv);
		layer_norm(hv, H, m->mlm_ln_g, m->mlm_ln_b, m->hp.eps);
		for (size_t c = 0; c < b->n_labels; c++) {
			size_t id = (size_t)b->label_ids[c];
			out[c] = dot(hv, m->out_w + id * H, H) + m->out_b[id];
		}
	}
}

/* One block through the embedding layer, every layer and the head. */
static void run_block(const struct pass *ps, const struct block *bk)
{
	embed(ps, bk);
	for (size_t l = 0; l < ps->m->hp.L; l++) {
		if (ps->P > 0 && ps->Lp > 1 && l > 0)
			add_deep_prompt(ps, bk, l);
		layer(ps, l, bk, l + 1 == ps->m->hp.L);
	}
	head(ps, bk);
}

/* ------------------------------------------------------------------ */

int nat_batch_prepare(const struct nat_model *m, const struct nat_forward_params *fp,
                      struct nat_work *w, const struct bbt_batch *b, size_t P, size_t Lp,
                      size_t n_variants, size_t *longest_out, size_t *max_rows_out, char *err,
                      size_t errlen)
{
	size_t dh = m->hp.H / m->hp.heads;
	if (dh > 512 || dh % 8 != 0)   /* attend's tiles */
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "head size %zu is over 512 or not a multiple of 8", dh);
	size_t longest;
	int rc = bbt_lm_check_batch(&m->hp, b, P, Lp, &longest, err, errlen);
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
	struct pass ps = { m, fp, b, prompts, P, Lp, s0, longest, w, tape, logits };
	size_t nb = split_blocks(s1 - s0, pack_rows(b, P, s0, s1, w), w);
	int threads = max_threads();
	if (nb < (size_t)threads || threads == 1) {
		/* one block after another, each GEMM on OpenBLAS's threads */
		for (size_t j = 0; j < nb; j++) {
			size_t k0 = w->blocks[j], k1 = w->blocks[j + 1];
			struct block bk = { k0, k1, w->row0[k0], w->row0[k1 - 1] + w->len[k1 - 1] - w->row0[k0] };
			run_block(&ps, &bk);
		}
		return;
	}
	/* a block per OpenMP thread at a time, OpenBLAS on the caller's thread */
	int blas_threads = openblas_get_num_threads();
	openblas_set_num_threads(1);
	OMP_FOR_DYN
	for (size_t j = 0; j < nb; j++) {
		size_t k0 = w->blocks[j], k1 = w->blocks[j + 1];
		struct block bk = { k0, k1, w->row0[k0], w->row0[k1 - 1] + w->len[k1 - 1] - w->row0[k0] };
		run_block(&ps, &bk);
	}
	openblas_set_num_threads(blas_threads);
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
