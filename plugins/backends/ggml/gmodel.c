/*
 * gmodel.c - weights from GGUF into a ggml backend buffer, and the
 * chunked, padded forward pass as ggml graphs (see gmodel.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ggml-alloc.h>

#include "gmodel.h"
#include <bbtbench/status.h>

/* ------------------------------------------------------------------ */
/* Loading */

/* Two passes: the tensor headers first (so that one buffer of the right
 * size holds them all), then the data. */
struct src {
	struct ggml_tensor *t;
	const struct bbt_gguf_tensor *g;
};

struct loader {
	struct gml_model *m;
	const bbt_gguf_t *g;
	const char *path;
	struct src *srcs;
	size_t n, cap;
	char *err;
	size_t errlen;
};

/* Header of tensor `name`, shape ne0 (x ne1): in its file type, or f32
 * when `f32` (vectors, and tables used elementwise), converted from any
 * type ggml can dequantize. */
static int wt(struct loader *ld, const char *name, uint64_t ne0, uint64_t ne1, int f32,
              struct ggml_tensor **out)
{
	const struct bbt_gguf_tensor *gt;
	int rc = bbt_lm_tensor_find(ld->g, ld->path, name, ne0, ne1, &gt, ld->err, ld->errlen);
	if (rc < 0)
		return rc;
	enum ggml_type type = (enum ggml_type)gt->type;
	const struct ggml_type_traits *tr = gt->type < GGML_TYPE_COUNT ? ggml_get_type_traits(type) : NULL;
	if (tr == NULL || tr->blck_size == 0 || tr->type_size == 0 ||
	    ne0 % (uint64_t)tr->blck_size != 0 ||
	    ggml_row_size(type, (int64_t)ne0) * (ne1 ? ne1 : 1) != gt->nbytes)
		return bbt_error(ld->err, ld->errlen, BBT_ENOTSUP,
		                 "%s: tensor %s has type %u (%s), which this ggml cannot read", ld->path, name,
		                 gt->type, bbt_ggml_type_name(gt->type) ? bbt_ggml_type_name(gt->type) : "?");
	if (ne1 == 0)
		f32 = 1;
	if (f32 && type != GGML_TYPE_F32 && tr->to_float == NULL)
		return bbt_error(ld->err, ld->errlen, BBT_ENOTSUP,
		                 "%s: tensor %s is %s, which ggml cannot convert to f32", ld->path, name,
		                 ggml_type_name(type));
	if (ld->n == ld->cap) {
		size_t cap = ld->cap ? 2 * ld->cap : 64;
		struct src *s = realloc(ld->srcs, cap * sizeof *s);
		if (s == NULL)
			return bbt_error(ld->err, ld->errlen, BBT_ENOMEM, "out of memory loading %s", name);
		ld->srcs = s;
		ld->cap = cap;
	}
	struct ggml_tensor *t = ne1 ? ggml_new_tensor_2d(ld->m->wctx, f32 ? GGML_TYPE_F32 : type,
	                                                 (int64_t)ne0, (int64_t)ne1)
	                            : ggml_new_tensor_1d(ld->m->wctx, GGML_TYPE_F32, (int64_t)ne0);
	if (t == NULL)
		return bbt_error(ld->err, ld->errlen, BBT_ENOMEM, "out of memory loading %s", name);
	ggml_set_name(t, name);
	ld->srcs[ld->n++] = (struct src){ t, gt };
	*out = t;
	return BBT_OK;
}

/* Tensor blk.<l>.<sfx>. */
static int lt(struct loader *ld, size_t l, const char *sfx, uint64_t ne0, uint64_t ne1,
              struct ggml_tensor **out)
{
	char name[96];
	snprintf(name, sizeof name, "blk.%zu.%s", l, sfx);
	return wt(ld, name, ne0, ne1, 0, out);
}

static int headers_decoder(struct loader *ld)
{
	struct gml_model *m = ld->m;
	const struct bbt_lm_hparams *hp = &m->hp;
	int llama = hp->family == BBT_LM_LLAMA, rc;
	size_t H = hp->H, F = hp->F, Hkv = H / hp->heads * hp->kv_heads;
	if ((rc = wt(ld, "token_embd.weight", H, hp->V, 0, &m->tok_embd)) < 0 ||
	    (rc = wt(ld, "output_norm.weight", H, 0, 1, &m->out_norm_g)) < 0)
		return rc;
	if (!llama &&
	    ((rc = wt(ld, "position_embd.weight", H, hp->n_pos, 0, &m->pos_embd)) < 0 ||
	     (rc = wt(ld, "output_norm.bias", H, 0, 1, &m->out_norm_b)) < 0))
		return rc;
	if (bbt_gguf_find_tensor(ld->g, "output.weight") != NULL) {
		if ((rc = wt(ld, "output.weight", H, hp->V, 0, &m->out_w)) < 0)
			return rc;
	} else {
		m->out_w = m->tok_embd;   /* tied */
	}
	for (size_t l = 0; l < hp->L; l++) {
		struct gml_layer *ly = &m->layers[l];
		if ((rc = lt(ld, l, "attn_norm.weight", H, 0, &ly->ln1_g)) < 0 ||
		    (rc = lt(ld, l, "attn_output.weight", H, H, &ly->wo)) < 0 ||
		    (rc = lt(ld, l, "ffn_norm.weight", H, 0, &ly->ln2_g)) < 0 ||
		    (rc = lt(ld, l, "ffn_up.weight", H, F, &ly->w1)) < 0 ||
		    (rc = lt(ld, l, "ffn_down.weight", F, H, &ly->w2)) < 0)
			return rc;
		if (llama) {
			if ((rc = lt(ld, l, "attn_q.weight", H, H, &ly->wq)) < 0 ||
			    (rc = lt(ld, l, "attn_k.weight", H, Hkv, &ly->wk)) < 0 ||
			    (rc = lt(ld, l, "attn_v.weight", H, Hkv, &ly->wv)) < 0 ||
			    (rc = lt(ld, l, "ffn_gate.weight", H, F, &ly->wg)) < 0)
				return rc;
		} else if ((rc = lt(ld, l, "attn_norm.bias", H, 0, &ly->ln1_b)) < 0 ||
		           (rc = lt(ld, l, "attn_qkv.weight", H, 3 * H, &ly->wqkv)) < 0 ||
		           (rc = lt(ld, l, "attn_qkv.bias", 3 * H, 0, &ly->bqkv)) < 0 ||
		           (rc = lt(ld, l, "attn_output.bias", H, 0, &ly->bo)) < 0 ||
		           (rc = lt(ld, l, "ffn_norm.bias", H, 0, &ly->ln2_b)) < 0 ||
		           (rc = lt(ld, l, "ffn_up.bias", F, 0, &ly->b1)) < 0 ||
		           (rc = lt(ld, l, "ffn_down.bias", H, 0, &ly->b2)) < 0) {
			return rc;
		}
	}
	return BBT_OK;
}

static int headers_encoder(struct loader *ld)
{
	struct gml_model *m = ld->m;
	const struct bbt_lm_hparams *hp = &m->hp;
	size_t H = hp->H, F = hp->F;
	int rc;
	if ((rc = wt(ld, "token_embd.weight", H, hp->V, 0, &m->tok_embd)) < 0 ||
	    (rc = wt(ld, "position_embd.weight", H, hp->pos_rows, 0, &m->pos_embd)) < 0 ||
	    (rc = wt(ld, "token_types.weight", H, hp->n_types, 1, &m->type_embd)) < 0 ||
	    (rc = wt(ld, "token_embd_norm.weight", H, 0, 1, &m->emb_ln_g)) < 0 ||
	    (rc = wt(ld, "token_embd_norm.bias", H, 0, 1, &m->emb_ln_b)) < 0 ||
	    (rc = wt(ld, "mlm.dense.weight", H, H, 0, &m->mlm_w)) < 0 ||
	    (rc = wt(ld, "mlm.dense.bias", H, 0, 1, &m->mlm_b)) < 0 ||
	    (rc = wt(ld, "mlm.norm.weight", H, 0, 1, &m->mlm_ln_g)) < 0 ||
	    (rc = wt(ld, "mlm.norm.bias", H, 0, 1, &m->mlm_ln_b)) < 0 ||
	    (rc = wt(ld, "mlm.output.bias", hp->V, 0, 1, &m->out_b)) < 0)
		return rc;
	if (bbt_gguf_find_tensor(ld->g, "mlm.output.weight") != NULL) {
		if ((rc = wt(ld, "mlm.output.weight", H, hp->V, 0, &m->out_w)) < 0)
			return rc;
	} else {
		m->out_w = m->tok_embd;   /* tied decoder */
	}
	for (size_t l = 0; l < hp->L; l++) {
		struct gml_layer *ly = &m->layers[l];
		if ((rc = lt(ld, l, "attn_q.weight", H, H, &ly->wq)) < 0 ||
		    (rc = lt(ld, l, "attn_q.bias", H, 0, &ly->bq)) < 0 ||
		    (rc = lt(ld, l, "attn_k.weight", H, H, &ly->wk)) < 0 ||
		    (rc = lt(ld, l, "attn_k.bias", H, 0, &ly->bk)) < 0 ||
		    (rc = lt(ld, l, "attn_v.weight", H, H, &ly->wv)) < 0 ||
		    (rc = lt(ld, l, "attn_v.bias", H, 0, &ly->bv)) < 0 ||
		    (rc = lt(ld, l, "attn_output.weight", H, H, &ly->wo)) < 0 ||
		    (rc = lt(ld, l, "attn_output.bias", H, 0, &ly->bo)) < 0 ||
		    (rc = lt(ld, l, "ffn_up.weight", H, F, &ly->w1)) < 0 ||
		    (rc = lt(ld, l, "ffn_up.bias", F, 0, &ly->b1)) < 0 ||
		    (rc = lt(ld, l, "ffn_down.weight", F, H, &ly->w2)) < 0 ||
		    (rc = lt(ld, l, "ffn_down.bias", H, 0, &ly->b2)) < 0 ||
		    (rc = lt(ld, l, "attn_output_norm.weight", H, 0, &ly->ln1_g)) < 0 ||
		    (rc = lt(ld, l, "attn_output_norm.bias", H, 0, &ly->ln1_b)) < 0 ||
		    (rc = lt(ld, l, "layer_output_norm.weight", H, 0, &ly->ln2_g)) < 0 ||
		    (rc = lt(ld, l, "layer_output_norm.bias", H, 0, &ly->ln2_b)) < 0)
			return rc;
	}
	return BBT_OK;
}

/* Copy (or convert to f32) every tensor's data into the buffer. */
static int upload(struct loader *ld)
{
	float *tmp = NULL;
	size_t tmp_n = 0;
	for (size_t i = 0; i < ld->n; i++) {
		struct ggml_tensor *t = ld->srcs[i].t;
		const struct bbt_gguf_tensor *g = ld->srcs[i].g;
		if (t->type == (enum ggml_type)g->type) {
			ggml_backend_tensor_set(t, g->data, 0, g->nbytes);
			continue;
		}
		size_t n = (size_t)g->n_elements;
		if (n > tmp_n) {
			float *p = realloc(tmp, n * sizeof *p);
			if (p == NULL) {
				free(tmp);
				return bbt_error(ld->err, ld->errlen, BBT_ENOMEM, "out of memory converting %s",
				                 g->name);
			}
			tmp = p;
			tmp_n = n;
		}
		ggml_get_type_traits((enum ggml_type)g->type)->to_float(g->data, tmp, (int64_t)n);
		ggml_backend_tensor_set(t, tmp, 0, n * sizeof *tmp);
	}
	free(tmp);
	return BBT_OK;
}

void gml_model_release(struct gml_model *m)
{
	if (m == NULL)
		return;
	if (m->wbuf != NULL)
		ggml_backend_buffer_free(m->wbuf);
	if (m->wctx != NULL)
		ggml_free(m->wctx);
	free(m->layers);
	memset(m, 0, sizeof *m);
}

int gml_model_load(struct gml_model *m, const struct bbt_lm_hparams *hp, const bbt_gguf_t *g,
                   const char *path, ggml_backend_t backend, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->hp = *hp;
	size_t n_max = 32 + 20 * hp->L;   /* tensors at most */
	struct ggml_init_params ip = { n_max * ggml_tensor_overhead(), NULL, true };
	struct loader ld = { m, g, path, NULL, 0, 0, err, errlen };
	int rc = BBT_OK;
	m->layers = calloc(hp->L, sizeof *m->layers);
	if (m->layers == NULL || (m->wctx = ggml_init(ip)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory for the model's %zu layers", hp->L);
	if (rc == BBT_OK)
		rc = hp->causal ? headers_decoder(&ld) : headers_encoder(&ld);
	if (rc == BBT_OK && (m->wbuf = ggml_backend_alloc_ctx_tensors(m->wctx, backend)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: no %s buffer for the weights (%.1f MiB)", path,
		               ggml_backend_name(backend),
		               (double)ggml_get_mem_size(m->wctx) / 1048576.0);
	if (rc == BBT_OK) {
		ggml_backend_buffer_set_usage(m->wbuf, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
		rc = upload(&ld);
	}
	free(ld.srcs);
	if (rc < 0)
		gml_model_release(m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Forward */

/* The chunk's inputs, filled on the host and copied in after the graph is
 * allocated. */
struct chunk_in {
	struct ggml_tensor *ids, *is_tok, *pidx, *ptab, *pos, *mask, *pred, *labels;
};

static struct ggml_tensor *input(struct ggml_context *c, enum ggml_type type, int64_t ne0,
                                 int64_t ne1, int64_t ne2, int64_t ne3, const char *name)
{
	struct ggml_tensor *t = ggml_new_tensor_4d(c, type, ne0, ne1, ne2, ne3);
	ggml_set_name(t, name);
	ggml_set_input(t);
	return t;
}

static struct ggml_tensor *layer_norm(struct ggml_context *c, struct ggml_tensor *x,
                                      struct ggml_tensor *g, struct ggml_tensor *b, float eps)
{
	x = ggml_mul(c, ggml_norm(c, x, eps), g);
	return b != NULL ? ggml_add(c, x, b) : x;
}

static struct ggml_tensor *linear(struct ggml_context *c, struct ggml_tensor *w,
                                  struct ggml_tensor *b, struct ggml_tensor *x)
{
	x = ggml_mul_mat(c, w, x);
	return b != NULL ? ggml_add(c, x, b) : x;
}

/* GPT-2's tanh GELU, composed: ggml_gelu on the CPU reads an f16 table
 * (errors near 1e-3), which the 1e-4 agreement with native would not
 * survive. */
static struct ggml_tensor *gelu_tanh(struct ggml_context *c, struct ggml_tensor *x)
{
	struct ggml_tensor *x3 = ggml_mul(c, ggml_sqr(c, x), x);
	struct ggml_tensor *u = ggml_scale(c, ggml_add(c, x, ggml_scale(c, x3, 0.044715f)),
	                                   0.7978845608028654f);
	return ggml_mul(c, ggml_scale(c, x, 0.5f), ggml_scale_bias(c, ggml_tanh(c, u), 1.0f, 1.0f));
}

/* The heads of rows [T*S] of x (row stride nb1), starting at element
 * column off: [dh][n][T][S]. */
static struct ggml_tensor *heads(struct ggml_context *c, struct ggml_tensor *x, size_t off,
                                 size_t dh, size_t n, size_t T, size_t S)
{
	return ggml_view_4d(c, x, (int64_t)dh, (int64_t)n, (int64_t)T, (int64_t)S,
	                    dh * sizeof(float), x->nb[1], x->nb[1] * T, off * sizeof(float));
}

/* Self-attention of q [dh][heads][T][S] over k, v [dh][kv_heads][T][S]
 * under mask [T][T][1][S]: the context [H][T*S]. ggml_mul_mat broadcasts
 * key/value head hd / (heads / kv_heads) to query head hd, which is
 * grouped-query attention. */
static struct ggml_tensor *attention(struct ggml_context *c, const struct bbt_lm_hparams *hp,
                                     struct ggml_tensor *q, struct ggml_tensor *k,
                                     struct ggml_tensor *v, struct ggml_tensor *mask, size_t T,
                                     size_t S)
{
	size_t dh = hp->H / hp->heads;
	q = ggml_permute(c, q, 0, 2, 1, 3);                     /* [dh][T][heads][S] */
	k = ggml_permute(c, k, 0, 2, 1, 3);                     /* [dh][T][kv][S] */
	struct ggml_tensor *kq = ggml_mul_mat(c, k, q);         /* [Tk][Tq][heads][S] */
	kq = ggml_soft_max_ext(c, kq, mask, 1.0f / sqrtf((float)dh), 0.0f);
	v = ggml_cont(c, ggml_permute(c, v, 1, 2, 0, 3));       /* [Tk][dh][kv][S] */
	struct ggml_tensor *o = ggml_mul_mat(c, v, kq);         /* [dh][Tq][heads][S] */
	o = ggml_permute(c, o, 0, 2, 1, 3);                     /* [dh][heads][Tq][S] */
	return ggml_cont_2d(c, o, (int64_t)hp->H, (int64_t)(T * S));
}

static struct ggml_tensor *rope(struct ggml_context *c, const struct bbt_lm_hparams *hp,
                                struct ggml_tensor *x, struct ggml_tensor *pos)
{
	return ggml_rope_ext(c, x, pos, NULL, (int)hp->rope_dims, GGML_ROPE_TYPE_NORMAL,
	                     (int)hp->n_pos, hp->rope_base, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
}

/* Prompt rows of layer l for every row (the zero row elsewhere). */
static struct ggml_tensor *prompt_rows(struct ggml_context *c, const struct chunk_in *in,
                                       size_t l, size_t R)
{
	struct ggml_tensor *idx = ggml_view_1d(c, in->pidx, (int64_t)R, l * R * sizeof(int32_t));
	return ggml_get_rows(c, in->ptab, idx);
}

static struct ggml_tensor *encoder_layer(struct ggml_context *c, const struct gml_model *m,
                                         const struct gml_layer *ly, struct ggml_tensor *x,
                                         const struct chunk_in *in, size_t T, size_t S)
{
	const struct bbt_lm_hparams *hp = &m->hp;
	size_t dh = hp->H / hp->heads;
	struct ggml_tensor *q = linear(c, ly->wq, ly->bq, x), *k = linear(c, ly->wk, ly->bk, x);
	struct ggml_tensor *v = linear(c, ly->wv, ly->bv, x);
	struct ggml_tensor *a = attention(c, hp, heads(c, q, 0, dh, hp->heads, T, S),
	                                  heads(c, k, 0, dh, hp->heads, T, S),
	                                  heads(c, v, 0, dh, hp->heads, T, S), in->mask, T, S);
	x = layer_norm(c, ggml_add(c, x, linear(c, ly->wo, ly->bo, a)), ly->ln1_g, ly->ln1_b, hp->eps);
	struct ggml_tensor *f = ggml_gelu_erf(c, linear(c, ly->w1, ly->b1, x));
	return layer_norm(c, ggml_add(c, x, linear(c, ly->w2, ly->b2, f)), ly->ln2_g, ly->ln2_b,
	                  hp->eps);
}

static struct ggml_tensor *pre_norm(struct ggml_context *c, const struct bbt_lm_hparams *hp,
                                    struct ggml_tensor *x, struct ggml_tensor *g,
                                    struct ggml_tensor *b)
{
	if (hp->family == BBT_LM_LLAMA)
		return ggml_mul(c, ggml_rms_norm(c, x, hp->eps), g);
	return layer_norm(c, x, g, b, hp->eps);
}

static struct ggml_tensor *decoder_layer(struct ggml_context *c, const struct gml_model *m,
                                         const struct gml_layer *ly, struct ggml_tensor *x,
                                         const struct chunk_in *in, size_t T, size_t S)
{
	const struct bbt_lm_hparams *hp = &m->hp;
	size_t dh = hp->H / hp->heads, H = hp->H;
	struct ggml_tensor *h = pre_norm(c, hp, x, ly->ln1_g, ly->ln1_b), *q, *k, *v;
	if (ly->wqkv != NULL) {
		struct ggml_tensor *qkv = linear(c, ly->wqkv, ly->bqkv, h);
		q = heads(c, qkv, 0, dh, hp->heads, T, S);
		k = heads(c, qkv, H, dh, hp->kv_heads, T, S);
		v = heads(c, qkv, 2 * H, dh, hp->kv_heads, T, S);
	} else {
		q = heads(c, ggml_mul_mat(c, ly->wq, h), 0, dh, hp->heads, T, S);
		k = heads(c, ggml_mul_mat(c, ly->wk, h), 0, dh, hp->kv_heads, T, S);
		v = heads(c, ggml_mul_mat(c, ly->wv, h), 0, dh, hp->kv_heads, T, S);
	}
	if (hp->family == BBT_LM_LLAMA) {
		q = rope(c, hp, q, in->pos);
		k = rope(c, hp, k, in->pos);
	}
	x = ggml_add(c, x, linear(c, ly->wo, ly->bo, attention(c, hp, q, k, v, in->mask, T, S)));
	h = pre_norm(c, hp, x, ly->ln2_g, ly->ln2_b);
	struct ggml_tensor *f;
	if (ly->wg != NULL)
		f = ggml_swiglu_split(c, ggml_mul_mat(c, ly->wg, h), ggml_mul_mat(c, ly->w1, h));
	else
		f = gelu_tanh(c, linear(c, ly->w1, ly->b1, h));
	return ggml_add(c, x, linear(c, ly->w2, ly->b2, f));
}

/* The graph of one chunk: S sequences padded to T rows, Lp prompt layers
 * in the prompt table; logits [n_labels][S]. */
static struct ggml_tensor *build(struct ggml_context *c, const struct gml_model *m,
                                 const struct gml_forward_params *fp, struct chunk_in *in,
                                 size_t T, size_t S, size_t n_ptab, size_t Lp, int has_prompt,
                                 size_t n_labels)
{
	const struct bbt_lm_hparams *hp = &m->hp;
	size_t H = hp->H, R = T * S;
	in->ids = input(c, GGML_TYPE_I32, (int64_t)R, 1, 1, 1, "ids");
	in->is_tok = input(c, GGML_TYPE_F32, 1, (int64_t)R, 1, 1, "is_token");
	in->pidx = input(c, GGML_TYPE_I32, (int64_t)(R * Lp), 1, 1, 1, "prompt_index");
	in->ptab = input(c, GGML_TYPE_F32, (int64_t)H, (int64_t)n_ptab, 1, 1, "prompt_table");
	in->pos = input(c, GGML_TYPE_I32, (int64_t)T, 1, 1, 1, "positions");
	in->mask = input(c, GGML_TYPE_F32, (int64_t)T, (int64_t)T, 1, (int64_t)S, "mask");
	in->pred = input(c, GGML_TYPE_I32, (int64_t)S, 1, 1, 1, "predict_rows");
	in->labels = input(c, GGML_TYPE_I32, (int64_t)n_labels, 1, 1, 1, "labels");

	struct ggml_tensor *x = ggml_mul(c, ggml_get_rows(c, m->tok_embd, in->ids), in->is_tok);
	int add_late = !hp->causal && fp->mode == GML_PROMPT_ADD;
	if (has_prompt && !add_late)
		x = ggml_add(c, x, prompt_rows(c, in, 0, R));
	if (m->pos_embd != NULL) {
		/* learned positions [H][T] (offset on the host), added to every sequence */
		struct ggml_tensor *pe = ggml_get_rows(c, m->pos_embd, in->pos);
		x = ggml_reshape_2d(c, ggml_add(c, ggml_reshape_3d(c, x, (int64_t)H, (int64_t)T,
		                                                   (int64_t)S), pe), (int64_t)H, (int64_t)R);
	}
	if (!hp->causal) {
		x = ggml_add(c, x, ggml_view_1d(c, m->type_embd, (int64_t)H, 0));   /* token type 0 */
		x = layer_norm(c, x, m->emb_ln_g, m->emb_ln_b, hp->eps);
		if (has_prompt && add_late)
			x = ggml_add(c, x, prompt_rows(c, in, 0, R));
	}
	for (size_t l = 0; l < hp->L; l++) {
		if (has_prompt && Lp > 1 && l > 0)
			x = ggml_add(c, x, prompt_rows(c, in, l, R));
		x = hp->causal ? decoder_layer(c, m, &m->layers[l], x, in, T, S)
		               : encoder_layer(c, m, &m->layers[l], x, in, T, S);
	}
	struct ggml_tensor *h = ggml_get_rows(c, x, in->pred);   /* [H][S] */
	if (hp->causal) {
		h = pre_norm(c, hp, h, m->out_norm_g, m->out_norm_b);
	} else {
		h = ggml_gelu_erf(c, linear(c, m->mlm_w, m->mlm_b, h));
		h = layer_norm(c, h, m->mlm_ln_g, m->mlm_ln_b, hp->eps);
	}
	struct ggml_tensor *w = ggml_get_rows(c, m->out_w, in->labels);   /* [H][n_labels] */
	struct ggml_tensor *lg = ggml_mul_mat(c, w, h);                  /* [n_labels][S] */
	if (m->out_b != NULL) {
		struct ggml_tensor *ob = ggml_reshape_2d(c, m->out_b, 1, (int64_t)hp->V);
		lg = ggml_add(c, lg, ggml_reshape_1d(c, ggml_get_rows(c, ob, in->labels),
		                                     (int64_t)n_labels));
	}
	ggml_set_name(lg, "logits");
	ggml_set_output(lg);
	return lg;
}

/* Host-side inputs of chunk s0..s1 (global sequence s = v * n_seq + i). */
struct host_in {
	int32_t *ids, *pidx, *pos, *pred;
	float *is_tok, *mask, *ptab;
};

static void fill(const struct gml_model *m, const struct bbt_batch *b, const float *prompts,
                 size_t P, size_t Lp, size_t s0, size_t s1, size_t T, size_t v0, size_t n_ptab,
                 struct host_in *hi)
{
	const struct bbt_lm_hparams *hp = &m->hp;
	size_t S = s1 - s0, R = T * S, H = hp->H, n_seq = b->n_seq, zero = n_ptab - 1;
	for (size_t t = 0; t < T; t++)
		hi->pos[t] = (int32_t)(t + (hp->causal ? 0 : hp->pos_offset));
	if (P > 0) {
		/* the chunk's variants' prompts, then the zero row */
		memcpy(hi->ptab, prompts + v0 * Lp * P * H, (n_ptab - 1) * H * sizeof *hi->ptab);
		memset(hi->ptab + (n_ptab - 1) * H, 0, H * sizeof *hi->ptab);
	} else {
		memset(hi->ptab, 0, H * sizeof *hi->ptab);
	}
	for (size_t k = 0; k < S; k++) {
		size_t s = s0 + k, v = s / n_seq, i = s % n_seq, pp = b->prompt_pos[i];
		size_t n = b->offset[i + 1] - b->offset[i], len = n + P;
		const int32_t *ids = b->ids + b->offset[i];
		for (size_t t = 0; t < T; t++) {
			size_t r = k * T + t;
			int is_prompt = P > 0 && t >= pp && t < pp + P;
			hi->ids[r] = t < len && !is_prompt ? ids[t < pp ? t : t - P] : 0;
			hi->is_tok[r] = t < len && !is_prompt ? 1.0f : 0.0f;
			for (size_t l = 0; l < Lp; l++)
				hi->pidx[l * R + r] = is_prompt
				                      ? (int32_t)(((v - v0) * Lp + l) * P + (t - pp))
				                      : (int32_t)zero;
			/* query row t sees keys c < len (and c <= t when causal) */
			float *mr = hi->mask + (k * T + t) * T;
			for (size_t c = 0; c < T; c++)
				mr[c] = c < len && (!hp->causal || c <= t) ? 0.0f : -INFINITY;
		}
		size_t pr = b->predict_pos[i];
		hi->pred[k] = (int32_t)(k * T + (P > 0 && pr >= pp ? pr + P : pr));
	}
}

/* An input the graph uses (one it does not use, such as the prompt table
 * of a call without prompts, has no buffer). */
static void set_input(struct ggml_tensor *t, const void *data, size_t bytes)
{
	if (t->buffer != NULL)
		ggml_backend_tensor_set(t, data, 0, bytes);
}

/* Chunk [s0, s1): score it, logits into out (its [S][n_labels] rows). */
static int run_chunk(const struct gml_model *m, const struct gml_forward_params *fp,
                     ggml_backend_sched_t sched, const struct bbt_batch *b, const float *prompts,
                     size_t P, size_t Lp, size_t s0, size_t s1, size_t T, float *out, char *err,
                     size_t errlen)
{
	const struct bbt_lm_hparams *hp = &m->hp;
	size_t S = s1 - s0, R = T * S, H = hp->H;
	size_t v0 = s0 / b->n_seq, v1 = (s1 - 1) / b->n_seq;
	size_t n_ptab = (P > 0 ? (v1 - v0 + 1) * Lp * P : 0) + 1;
	size_t graph_size = 64 * hp->L + 256;
	struct ggml_init_params ip = {
		ggml_tensor_overhead() * graph_size + ggml_graph_overhead_custom(graph_size, false), NULL,
		true
	};
	struct ggml_context *c = ggml_init(ip);
	struct host_in hi = { 0 };
	hi.ids = malloc(R * sizeof *hi.ids);
	hi.pidx = malloc(R * Lp * sizeof *hi.pidx);
	hi.pos = malloc(T * sizeof *hi.pos);
	hi.pred = malloc(S * sizeof *hi.pred);
	hi.is_tok = malloc(R * sizeof *hi.is_tok);
	hi.mask = malloc(R * T * sizeof *hi.mask);
	hi.ptab = malloc(n_ptab * H * sizeof *hi.ptab);
	int rc = BBT_OK;
	if (c == NULL || !hi.ids || !hi.pidx || !hi.pos || !hi.pred || !hi.is_tok || !hi.mask || !hi.ptab) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory for a chunk of %zu x %zu rows", S, T);
		goto out;
	}
	fill(m, b, prompts, P, Lp, s0, s1, T, v0, n_ptab, &hi);
	struct chunk_in in;
	struct ggml_tensor *lg = build(c, m, fp, &in, T, S, n_ptab, Lp, P > 0, b->n_labels);
	struct ggml_cgraph *gf = ggml_new_graph_custom(c, graph_size, false);
	ggml_build_forward_expand(gf, lg);
	ggml_backend_sched_reset(sched);
	if (!ggml_backend_sched_alloc_graph(sched, gf)) {
		rc = bbt_error(err, errlen, BBT_ENOMEM,
		               "ggml: cannot allocate the graph of %zu sequences x %zu rows (lower max_rows)",
		               S, T);
		goto out;
	}
	set_input(in.ids, hi.ids, R * sizeof *hi.ids);
	set_input(in.is_tok, hi.is_tok, R * sizeof *hi.is_tok);
	set_input(in.pidx, hi.pidx, R * Lp * sizeof *hi.pidx);
	set_input(in.ptab, hi.ptab, n_ptab * H * sizeof *hi.ptab);
	set_input(in.pos, hi.pos, T * sizeof *hi.pos);
	set_input(in.mask, hi.mask, R * T * sizeof *hi.mask);
	set_input(in.pred, hi.pred, S * sizeof *hi.pred);
	set_input(in.labels, b->label_ids, b->n_labels * sizeof *b->label_ids);
	enum ggml_status st = ggml_backend_sched_graph_compute(sched, gf);
	if (st != GGML_STATUS_SUCCESS) {
		rc = bbt_error(err, errlen, BBT_EINTERNAL, "ggml: graph computation failed (%s)",
		               ggml_status_to_string(st));
		goto out;
	}
	ggml_backend_tensor_get(lg, out, 0, S * b->n_labels * sizeof *out);
out:
	ggml_backend_sched_reset(sched);
	free(hi.ids);
	free(hi.pidx);
	free(hi.pos);
	free(hi.pred);
	free(hi.is_tok);
	free(hi.mask);
	free(hi.ptab);
	ggml_free(c);
	return rc;
}

int gml_model_score(const struct gml_model *m, const struct gml_forward_params *fp,
                    ggml_backend_sched_t sched, const struct bbt_batch *b, const float *prompts,
                    size_t n_variants, float *logits, char *err, size_t errlen)
{
	const struct bbt_lm_hparams *hp = &m->hp;
	size_t P = prompts != NULL ? b->prompt_len : 0;
	size_t Lp = P > 0 ? b->prompt_layers : 1;
	if (n_variants == 0)
		n_variants = 1;
	if (b->n_labels == 0 || b->n_seq == 0)
		return BBT_OK;
	size_t longest;
	int rc = bbt_lm_check_batch(hp, b, P, Lp, &longest, err, errlen);
	if (rc < 0)
		return rc;
	/* chunks of whole sequences whose padded rows stay within max_rows
	 * (one sequence alone may exceed it) */
	size_t S_all = n_variants * b->n_seq, s0 = 0;
	while (s0 < S_all) {
		size_t s1 = s0, T = 0;
		while (s1 < S_all) {
			size_t i = s1 % b->n_seq, n = b->offset[i + 1] - b->offset[i] + P;
			size_t Tn = n > T ? n : T;
			if (s1 > s0 && Tn * (s1 - s0 + 1) > fp->max_rows)
				break;
			T = Tn;
			s1++;
		}
		rc = run_chunk(m, fp, sched, b, prompts, P, Lp, s0, s1, T, logits + s0 * b->n_labels,
		               err, errlen);
		if (rc < 0)
			return rc;
		s0 = s1;
	}
	return BBT_OK;
}
