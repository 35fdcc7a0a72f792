/*
 * grad.c - the backward pass of the native backend's transformer: the
 * gradient of the host's loss with respect to the prompt vectors (model.h,
 * nat_model_gradient), for activations only (the weights get none).
 *
 * The forward pass of a chunk keeps a tape (forward.h) of what the
 * backward pass cannot get back cheaply: per layer the q|k|v rows and the
 * inputs of the two norms, 3H + 2H floats a row a layer, and per sequence
 * the final hidden state at its prediction row and the encoder head's
 * gelu output. Everything else is recomputed: the FFN's pre-activations
 * (Llama: and its gate) with one GEMM from the norm input before the FFN,
 * the norms' statistics from their inputs, the attention probabilities
 * from q and k (so no n x n matrix is kept), the head's dense output from
 * the final hidden states, the embedding LayerNorm's input at the prompt
 * rows. As in the forward pass, the last layer after its attention runs
 * at the prediction rows only (row k: the chunk's k-th sequence); their
 * gradient is spread to the full rows for the attention's backward. The
 * backward GEMMs dX = dY·W run over the chunk's packed rows with
 * cblas_sgemm into the forward's own work buffers (free once the forward
 * is done), so the backward adds only the tape, one [rows][H] gradient and
 * the recomputed FFN rows to the forward's memory.
 *
 * Derivatives, per row (g: gain, x^ the normalized input, r = 1/std):
 *   LayerNorm  dx = r (g dy - mean(g dy) - x^ mean(g dy x^))
 *   RMSNorm    dx = r (g dy - x^ mean(g dy x^))
 *   attention  dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(P dP)),
 *              dQ = dS K scale, dK = dS^T Q scale (per head; grouped-query
 *              heads add into their shared k and v)
 *   RoPE       the transpose rotation (angle -theta)
 *   SwiGLU     d up = dh silu(gate), d gate = dh up s (1 + gate (1 - s)), s = sigmoid(gate)
 */
#include "config.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include <bbtbench/status.h>

struct nat_tape {
	float *act;             /* [L][slot][rows][width]: the layers' slots for this chunk */
	float *head;            /* encoders: gelu(dense) at each sequence's prediction row, [ns][H] */
	float *dx;              /* gradient of the hidden states between layers, [rows][H] */
	float *hx, *hd;         /* final hidden states at the prediction rows, and scratch, [ns][H] */
	float *up;              /* recomputed FFN pre-activations (Llama: and gate), [rows][F or 2F] */
	float *dlogits;         /* dL/dlogits from the host, [V][n_seq][n_labels] */
	float *relogits;        /* logits of a repeated forward pass (more than one chunk) */
	float *scratch;         /* per thread, scr_stride floats */
	size_t width[NAT_SLOTS], off[NAT_SLOTS], per_row, rows, scr_stride;
	size_t cap_act, cap_head, cap_dx, cap_hx, cap_hd, cap_up, cap_dl, cap_rl, cap_scr;
};

struct nat_tape *nat_tape_alloc(void)
{
	return calloc(1, sizeof(struct nat_tape));
}

void nat_tape_free(struct nat_tape *tp)
{
	if (tp == NULL)
		return;
	free(tp->act);
	free(tp->head);
	free(tp->dx);
	free(tp->hx);
	free(tp->hd);
	free(tp->up);
	free(tp->dlogits);
	free(tp->relogits);
	free(tp->scratch);
	free(tp);
}

size_t nat_tape_bytes(const struct nat_tape *tp)
{
	if (tp == NULL)
		return 0;
	return sizeof(float) * (tp->cap_act + tp->cap_head + tp->cap_dx + tp->cap_hx + tp->cap_hd +
	                        tp->cap_up + tp->cap_dl + tp->cap_rl + tp->cap_scr);
}

/* *p holds at least n floats (*cap of them now); buffers only grow. */
static int reserve(float **p, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	float *q = realloc(*p, n * sizeof *q);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Size the tape for chunks of up to `rows` rows and `seqs` sequences of
 * up to `longest` positions, and `nlog` logits in all. */
static int tape_reserve(struct nat_tape *tp, const struct nat_model *m, size_t rows, size_t seqs,
                        size_t longest, size_t nlog)
{
	size_t H = m->hp.H, dh = H / m->hp.heads;
	tp->width[NAT_QKV] = nat_geom(m, 0).stride;
	tp->width[NAT_NORM1] = tp->width[NAT_NORM2] = H;
	tp->per_row = 0;
	for (int s = 0; s < NAT_SLOTS; s++) {
		tp->off[s] = tp->per_row;
		tp->per_row += tp->width[s];
	}
	tp->scr_stride = 2 * longest + 2 * dh > 2 * H ? 2 * longest + 2 * dh : 2 * H;
	if (reserve(&tp->act, &tp->cap_act, m->hp.L * tp->per_row * rows) < 0 ||
	    reserve(&tp->head, &tp->cap_head, m->hp.causal ? 0 : seqs * H) < 0 ||
	    reserve(&tp->dx, &tp->cap_dx, rows * H) < 0 ||
	    reserve(&tp->hx, &tp->cap_hx, seqs * H) < 0 ||
	    reserve(&tp->hd, &tp->cap_hd, seqs * H) < 0 ||
	    reserve(&tp->up, &tp->cap_up, rows * m->hp.F * (m->hp.family == BBT_LM_LLAMA ? 2 : 1)) < 0 ||
	    reserve(&tp->dlogits, &tp->cap_dl, nlog) < 0 ||
	    reserve(&tp->scratch, &tp->cap_scr, (size_t)max_threads() * tp->scr_stride) < 0)
		return -1;
	return 0;
}

static float *slot(const struct nat_tape *tp, size_t l, enum nat_slot s)
{
	return tp->act + (l * tp->per_row + tp->off[s]) * tp->rows;
}

/* ------------------------------------------------------------------ */
/* The forward pass's hooks */

void nat_tape_keep(struct nat_tape *tp, size_t l, enum nat_slot s, size_t r0, size_t n,
                   const float *src)
{
	memcpy(slot(tp, l, s) + r0 * tp->width[s], src, n * tp->width[s] * sizeof *src);
}

void nat_tape_sum(struct nat_tape *tp, size_t l, enum nat_slot s, size_t r0, size_t n,
                  const float *a, const float *bias, const float *b)
{
	size_t wd = tp->width[s];
	float *y = slot(tp, l, s) + r0 * wd;
	OMP_FOR
	for (size_t r = 0; r < n; r++)
		for (size_t h = 0; h < wd; h++)
			y[r * wd + h] = a[r * wd + h] + (bias[h] + b[r * wd + h]);   /* residual_ln's order */
}

void nat_tape_head(struct nat_tape *tp, size_t k, const float *x, const float *hv)
{
	size_t H = tp->width[NAT_NORM1];
	memcpy(tp->hx + k * H, x, H * sizeof *x);
	if (hv != NULL)
		memcpy(tp->head + k * H, hv, H * sizeof *hv);
}

/* ------------------------------------------------------------------ */
/* Pieces */

/* Y[rows][n] (= beta Y +) X[rows][k] · W, W being [k][n], or W^T for a
 * [n][k] W when wt. The backward's dX = dY·W is the wt = 0 case. */
static void mm(float *y, const float *x, const float *w, size_t rows, size_t k, size_t n, int wt,
               float beta)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, wt ? CblasTrans : CblasNoTrans, (int)rows, (int)n,
	            (int)k, 1.0f, x, (int)k, w, wt ? (int)k : (int)n, beta, y, (int)n);
}

/* dx (+)= the gradient through a LayerNorm (rms: an RMSNorm) of input x
 * and gain g, given dy; dx may be dy when not adding. The statistics are
 * the forward's, in double. */
static void norm_back(const float *x, size_t n, const float *g, float eps, int rms,
                      const float *dy, float *dx, int add)
{
	double s = 0, ss = 0;
	if (!rms)
		for (size_t i = 0; i < n; i++)
			s += x[i];
	double mean = s / (double)n;
	for (size_t i = 0; i < n; i++) {
		double d = x[i] - mean;
		ss += d * d;
	}
	float r = (float)(1.0 / sqrt(ss / (double)n + eps)), mu = (float)mean;
	double a = 0, c = 0;
	for (size_t i = 0; i < n; i++) {
		float gd = g[i] * dy[i];
		a += gd;
		c += gd * ((x[i] - mu) * r);
	}
	float am = rms ? 0.0f : (float)(a / (double)n), cm = (float)(c / (double)n);
	for (size_t i = 0; i < n; i++) {
		float v = r * (g[i] * dy[i] - am - (x[i] - mu) * r * cm);
		dx[i] = add ? dx[i] + v : v;
	}
}

/* Derivatives of the exact (erf) and the tanh GELU. */
static float gelu_grad(float x)
{
	return 0.5f * (1.0f + erff(x * (float)M_SQRT1_2)) + x * 0.3989422804014327f * expf(-0.5f * x * x);
}

static float gelu_tanh_grad(float x)
{
	const float c = 0.7978845608028654f, a = 0.044715f;
	float t = tanhf(c * (x + a * x * x * x));
	return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * c * (1.0f + 3.0f * a * x * x);
}

/* The transpose of forward.c's rope: the same angles, rotated back. */
static void rope_back(float *x, size_t t, size_t dims, float base)
{
	for (size_t i = 0; i < dims; i += 2) {
		double th = (double)t * pow((double)base, -(double)i / (double)dims);
		float c = (float)cos(th), sn = (float)sin(th), a = x[i], b = x[i + 1];
		x[i] = a * c + b * sn;
		x[i + 1] = b * c - a * sn;
	}
}

/* Attention backward of every sequence of the chunk: w->ctx holds dctx,
 * w->qkv receives dqkv. */
static void attention_back(const struct nat_model *m, const struct nat_layer *ly,
                           const float *qkv, struct nat_work *w, struct nat_tape *tp, size_t ns)
{
	size_t QS = tp->width[NAT_QKV], pairs = ns * m->hp.kv_heads;
	float scale = 1.0f / sqrtf((float)(m->hp.H / m->hp.heads));
	memset(w->qkv, 0, tp->rows * QS * sizeof *w->qkv);
	OMP_FOR_DYN
	for (size_t j = 0; j < pairs; j++) {
		size_t k = j / m->hp.kv_heads, kvh = j % m->hp.kv_heads, r0 = w->row0[k];
		nat_attend_back(m, qkv + r0 * QS, ly->bqkv, w->ctx + r0 * m->hp.H, w->qkv + r0 * QS, w->len[k],
		            m->hp.causal, scale, kvh, tp->scratch + (size_t)thread_id() * tp->scr_stride);
	}
}

/* dst [rows][H] = zeros but at each sequence's prediction row, which
 * gets row k of the compact src [ns][H] (the last layer's rows); src may
 * be dst itself, tmp is [ns][H] scratch. */
static void spread_rows(const struct bbt_batch *b, size_t P, size_t s0, size_t ns,
                        const struct nat_work *w, size_t rows, size_t H, float *dst,
                        const float *src, float *tmp)
{
	memcpy(tmp, src, ns * H * sizeof *tmp);
	memset(dst, 0, rows * H * sizeof *dst);
	for (size_t k = 0; k < ns; k++)
		memcpy(dst + (w->row0[k] + nat_predict_row(b, (s0 + k) % b->n_seq, P)) * H, tmp + k * H,
		       H * sizeof *dst);
}

/* The FFN's pre-activations of n rows into tp->up (Llama: then the gate's
 * beside them), recomputed from `norm_in`, the input of the norm before
 * the FFN (encoders LN1, decoders norm2), through w->tmp. */
static void ffn_recompute(const struct nat_model *m, const struct nat_layer *ly,
                          const float *norm_in, const float *g, const float *nb, size_t n,
                          struct nat_work *w, struct nat_tape *tp)
{
	size_t H = m->hp.H, F = m->hp.F;
	nat_norm_rows(m, w->tmp, norm_in, n, g, nb);
	mm(tp->up, w->tmp, ly->w1, n, H, F, 1, 0.0f);
	if (ly->wg != NULL)
		mm(tp->up + n * F, w->tmp, ly->wg, n, H, F, 1, 0.0f);
}

/* dhv = sum over labels c of dlogit_c times the label's output row. */
static void label_rows_back(const struct nat_model *m, const struct bbt_batch *b,
                            const float *dl, float *dhv)
{
	memset(dhv, 0, m->hp.H * sizeof *dhv);
	for (size_t c = 0; c < b->n_labels; c++) {
		const float *row = m->out_w + (size_t)b->label_ids[c] * m->hp.H;
		float d = dl[c];
		for (size_t h = 0; h < m->hp.H; h++)
			dhv[h] += d * row[h];
	}
}

/* Layer l's prompt gradient += the hidden states' gradient at the prompt
 * rows (serially: the sequences of a variant share its prompt). */
static void prompt_back(const struct bbt_batch *b, size_t P, size_t Lp, size_t l, size_t s0,
                        size_t ns, const struct nat_work *w, const float *dx, size_t H,
                        float *grad)
{
	for (size_t k = 0; k < ns; k++) {
		size_t v = (s0 + k) / b->n_seq, i = (s0 + k) % b->n_seq;
		const float *d = dx + (w->row0[k] + b->prompt_pos[i]) * H;
		float *g = grad + (v * Lp + l) * P * H;
		for (size_t j = 0; j < P * H; j++)
			g[j] += d[j];
	}
}

/* ------------------------------------------------------------------ */
/* Encoders (post-LN) and decoders (pre-norm) */

static void backward_encoder(const struct nat_model *m, const struct nat_forward_params *fp,
                             const struct bbt_batch *b, const float *prompts, size_t P, size_t Lp,
                             size_t s0, size_t s1, struct nat_work *w, struct nat_tape *tp,
                             float *grad)
{
	size_t H = m->hp.H, F = m->hp.F, ns = s1 - s0, rows = tp->rows, QS = tp->width[NAT_QKV];
	float *dx = tp->dx;
	/* MLM head: logit = E[w]·LN(gelu(Wd x + bd)) + b[w] at the prediction
	 * rows, whose x the tape holds: dx starts compact, row k a sequence */
	mm(tp->hd, tp->hx, m->mlm_w, ns, H, H, 1, 0.0f);
	OMP_FOR
	for (size_t k = 0; k < ns; k++) {
		float *dhv = tp->scratch + (size_t)thread_id() * tp->scr_stride, *dz = tp->hd + k * H;
		label_rows_back(m, b, tp->dlogits + (s0 + k) * b->n_labels, dhv);
		norm_back(tp->head + k * H, H, m->mlm_ln_g, m->hp.eps, 0, dhv, dhv, 0);
		for (size_t o = 0; o < H; o++)
			dz[o] = dhv[o] * gelu_grad(dz[o] + m->mlm_b[o]);
	}
	mm(dx, tp->hd, m->mlm_w, ns, H, H, 0, 0.0f);
	for (size_t l = m->hp.L; l-- > 0;) {
		const struct nat_layer *ly = &m->layers[l];
		const float *n1 = slot(tp, l, NAT_NORM1), *n2 = slot(tp, l, NAT_NORM2);
		size_t n = l + 1 == m->hp.L ? ns : rows;   /* rows after the attention */
		/* x2 = LN2(x1 + W2 gelu(W1 x1 + b1) + b2), x1 = LN1(n1) */
		OMP_FOR
		for (size_t r = 0; r < n; r++)
			norm_back(n2 + r * H, H, ly->ln2_g, m->hp.eps, 0, dx + r * H, dx + r * H, 0);
		ffn_recompute(m, ly, n1, ly->ln1_g, ly->ln1_b, n, w, tp);
		mm(w->ffn, dx, ly->w2, n, H, F, 0, 0.0f);
		OMP_FOR
		for (size_t r = 0; r < n; r++)
			for (size_t j = 0; j < F; j++)
				w->ffn[r * F + j] *= gelu_grad(tp->up[r * F + j] + ly->b1[j]);
		mm(dx, w->ffn, ly->w1, n, F, H, 0, 1.0f);
		/* x1 = LN1(x0 + Wo attn(x0) + bo) */
		OMP_FOR
		for (size_t r = 0; r < n; r++)
			norm_back(n1 + r * H, H, ly->ln1_g, m->hp.eps, 0, dx + r * H, dx + r * H, 0);
		mm(w->ctx, dx, ly->wo, n, H, H, 0, 0.0f);
		if (n < rows) {
			spread_rows(b, P, s0, ns, w, rows, H, w->ctx, w->ctx, tp->hd);
			spread_rows(b, P, s0, ns, w, rows, H, dx, dx, tp->hd);
		}
		attention_back(m, ly, slot(tp, l, NAT_QKV), w, tp, ns);
		mm(dx, w->qkv, ly->wqkv, rows, QS, H, 0, 1.0f);
		if (Lp > 1 && l > 0)
			prompt_back(b, P, Lp, l, s0, ns, w, dx, H, grad);
	}
	/* embedding layer: cat puts the prompt before the LayerNorm, add after */
	if (fp->mode == NAT_PROMPT_ADD) {
		prompt_back(b, P, Lp, 0, s0, ns, w, dx, H, grad);
		return;
	}
	float *pre = tp->scratch, *d = tp->scratch + H;
	for (size_t k = 0; k < ns; k++) {
		size_t v = (s0 + k) / b->n_seq, pp = b->prompt_pos[(s0 + k) % b->n_seq];
		for (size_t p = 0; p < P; p++) {
			const float *pv = prompts + (v * Lp * P + p) * H;
			const float *pe = m->pos_embd + (m->hp.pos_offset + pp + p) * H, *te = m->type_embd;
			for (size_t h = 0; h < H; h++)
				pre[h] = pv[h] + pe[h] + te[h];
			norm_back(pre, H, m->emb_ln_g, m->hp.eps, 0, dx + (w->row0[k] + pp + p) * H, d, 0);
			float *g = grad + (v * Lp * P + p) * H;
			for (size_t h = 0; h < H; h++)
				g[h] += d[h];
		}
	}
}

static void backward_decoder(const struct nat_model *m, const struct bbt_batch *b, size_t P,
                             size_t Lp, size_t s0, size_t s1, struct nat_work *w,
                             struct nat_tape *tp, float *grad)
{
	size_t H = m->hp.H, F = m->hp.F, ns = s1 - s0, rows = tp->rows, QS = tp->width[NAT_QKV];
	int rms = m->hp.family == BBT_LM_LLAMA;
	float *dx = tp->dx;
	/* logit = out[w]·norm(x) at the prediction rows, whose x the tape
	 * holds: dx starts compact, row k a sequence */
	OMP_FOR
	for (size_t k = 0; k < ns; k++) {
		float *dhv = tp->scratch + (size_t)thread_id() * tp->scr_stride;
		label_rows_back(m, b, tp->dlogits + (s0 + k) * b->n_labels, dhv);
		norm_back(tp->hx + k * H, H, m->out_norm_g, m->hp.eps, rms, dhv, dx + k * H, 0);
	}
	for (size_t l = m->hp.L; l-- > 0;) {
		const struct nat_layer *ly = &m->layers[l];
		const float *n1 = slot(tp, l, NAT_NORM1), *n2 = slot(tp, l, NAT_NORM2);
		size_t n = l + 1 == m->hp.L ? ns : rows;   /* rows after the attention */
		/* x2 = x1 + W2 act(W1 norm2(x1)) + b2, x1 = n2 */
		ffn_recompute(m, ly, n2, ly->ln2_g, ly->ln2_b, n, w, tp);
		const float *up = tp->up;
		mm(w->ffn, dx, ly->w2, n, H, F, 0, 0.0f);
		if (ly->wg != NULL) {
			const float *gate = tp->up + n * F;
			float *dgate = w->ffn + n * F;
			OMP_FOR
			for (size_t r = 0; r < n; r++)
				for (size_t j = 0; j < F; j++) {
					size_t i = r * F + j;
					float gv = gate[i], sg = 1.0f / (1.0f + expf(-gv)), dh = w->ffn[i];
					dgate[i] = dh * up[i] * sg * (1.0f + gv * (1.0f - sg));
					w->ffn[i] = dh * gv * sg;
				}
			mm(w->tmp, w->ffn, ly->w1, n, F, H, 0, 0.0f);
			mm(w->tmp, dgate, ly->wg, n, F, H, 0, 1.0f);
		} else {
			OMP_FOR
			for (size_t r = 0; r < n; r++)
				for (size_t j = 0; j < F; j++)
					w->ffn[r * F + j] *= gelu_tanh_grad(up[r * F + j] + ly->b1[j]);
			mm(w->tmp, w->ffn, ly->w1, n, F, H, 0, 0.0f);
		}
		OMP_FOR
		for (size_t r = 0; r < n; r++)
			norm_back(n2 + r * H, H, ly->ln2_g, m->hp.eps, rms, w->tmp + r * H, dx + r * H, 1);
		/* x1 = x0 + Wo attn(norm1(x0)) + bo */
		mm(w->ctx, dx, ly->wo, n, H, H, 0, 0.0f);
		if (n < rows) {
			spread_rows(b, P, s0, ns, w, rows, H, w->ctx, w->ctx, tp->hd);
			spread_rows(b, P, s0, ns, w, rows, H, dx, dx, tp->hd);
		}
		attention_back(m, ly, slot(tp, l, NAT_QKV), w, tp, ns);
		if (m->hp.family == BBT_LM_LLAMA) {
			size_t dh = H / m->hp.heads;
			OMP_FOR_DYN
			for (size_t k = 0; k < ns; k++)
				for (size_t t = 0; t < w->len[k]; t++) {
					float *row = w->qkv + (w->row0[k] + t) * QS;
					for (size_t hd = 0; hd < m->hp.heads; hd++)
						rope_back(row + hd * dh, t, m->hp.rope_dims, m->hp.rope_base);
					for (size_t hd = 0; hd < m->hp.kv_heads; hd++)
						rope_back(row + H + hd * dh, t, m->hp.rope_dims, m->hp.rope_base);
				}
		}
		mm(w->tmp, w->qkv, ly->wqkv, rows, QS, H, 0, 0.0f);
		OMP_FOR
		for (size_t r = 0; r < rows; r++)
			norm_back(n1 + r * H, H, ly->ln1_g, m->hp.eps, rms, w->tmp + r * H, dx + r * H, 1);
		if (Lp > 1 && l > 0)
			prompt_back(b, P, Lp, l, s0, ns, w, dx, H, grad);
	}
	/* the prompt is the input of its positions in both modes */
	prompt_back(b, P, Lp, 0, s0, ns, w, dx, H, grad);
}

/* ------------------------------------------------------------------ */

static size_t chunk_rows(const struct bbt_batch *b, size_t P, size_t s0, size_t s1)
{
	size_t rows = 0;
	for (size_t s = s0; s < s1; s++)
		rows += b->offset[s % b->n_seq + 1] - b->offset[s % b->n_seq] + P;
	return rows;
}

int nat_model_gradient(const struct nat_model *m, const struct nat_forward_params *fp,
                       struct nat_work *w, struct nat_tape *tp, const struct bbt_batch *b,
                       const float *prompts, size_t n_variants, bbt_logit_grad_fn dloss,
                       void *ctx, float *logits, float *grad, char *err, size_t errlen)
{
	size_t P = prompts != NULL ? b->prompt_len : 0, Lp = b->prompt_layers, longest, max_rows;
	if (P == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "native: a gradient needs a continuous prompt (prompt_len is 0)");
	if (n_variants == 0)
		n_variants = 1;
	int rc = nat_batch_prepare(m, fp, w, b, P, Lp, n_variants, &longest, &max_rows, err, errlen);
	if (rc < 0)
		return rc;
	memset(grad, 0, n_variants * Lp * P * m->hp.H * sizeof *grad);
	size_t S = n_variants * b->n_seq, nlog = S * b->n_labels;
	if (S == 0)
		return BBT_OK;
	if (tape_reserve(tp, m, max_rows, S, longest, nlog) < 0)
		return bbt_error(err, errlen, BBT_ENOMEM,
		                 "native: out of memory for the gradient's tape of %zu rows x %zu layers",
		                 max_rows, m->hp.L);
	/* one chunk: its tape is kept on the way; more: score them all first
	 * (the loss needs every logit), then redo each with its tape */
	int one = nat_chunk_end(b, P, S, 0, max_rows) == S;
	if (one) {
		tp->rows = chunk_rows(b, P, 0, S);
		nat_forward_chunk(m, fp, b, prompts, P, Lp, 0, S, w, longest, logits, tp);
	} else {
		if (reserve(&tp->relogits, &tp->cap_rl, nlog) < 0)
			return bbt_error(err, errlen, BBT_ENOMEM, "native: out of memory");
		for (size_t s0 = 0, s1; s0 < S; s0 = s1) {
			s1 = nat_chunk_end(b, P, S, s0, max_rows);
			nat_forward_chunk(m, fp, b, prompts, P, Lp, s0, s1, w, longest, logits, NULL);
		}
	}
	rc = dloss(ctx, logits, n_variants, b->n_seq, b->n_labels, tp->dlogits);
	if (rc < 0)
		return bbt_error(err, errlen, rc, "native: the loss's derivative failed (%s)",
		                 bbt_status_str(rc));
	for (size_t s0 = 0, s1; s0 < S; s0 = s1) {
		s1 = nat_chunk_end(b, P, S, s0, max_rows);
		if (!one) {
			tp->rows = chunk_rows(b, P, s0, s1);
			nat_forward_chunk(m, fp, b, prompts, P, Lp, s0, s1, w, longest, tp->relogits, tp);
		}
		if (m->hp.causal)
			backward_decoder(m, b, P, Lp, s0, s1, w, tp, grad);
		else
			backward_encoder(m, fp, b, prompts, P, Lp, s0, s1, w, tp, grad);
	}
	return BBT_OK;
}
