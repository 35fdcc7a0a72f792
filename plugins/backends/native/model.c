/*
 * model.c - the native backend's weights from GGUF, for encoders and
 * decoders (see model.h; the forward pass is forward.c's).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/status.h>

#include "forward.h"
#include "mathfn.h"
#include "model.h"

/* ------------------------------------------------------------------ */
/* Loading */

static void *own(struct nat_model *m, size_t bytes)
{
	void **o = realloc(m->owned, (m->n_owned + 1) * sizeof *o);
	if (o == NULL)
		return NULL;
	m->owned = o;
	void *p = malloc(bytes ? bytes : 1);
	if (p != NULL)
		m->owned[m->n_owned++] = p;
	return p;
}

void nat_model_release(struct nat_model *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_owned; i++)
		free(m->owned[i]);
	free(m->owned);
	free(m->layers);
	memset(m, 0, sizeof *m);
}

/* Tensor `name` as f32 values of shape ne0 (x ne1 when ne1 > 0): a pointer
 * into the mapping for aligned f32, else a converted copy. */
static int tensor(struct nat_model *m, const bbt_gguf_t *g, const char *path, const char *name,
                  uint64_t ne0, uint64_t ne1, const float **out, char *err, size_t errlen)
{
	const struct bbt_gguf_tensor *t;
	int rc = bbt_lm_tensor_find(g, path, name, ne0, ne1, &t, err, errlen);
	if (rc < 0)
		return rc;
	size_t n = (size_t)t->n_elements;
	if (t->type == BBT_GGML_F32 && ((uintptr_t)t->data % sizeof(float)) == 0) {
		*out = t->data;
		return BBT_OK;
	}
	if (t->type != BBT_GGML_F32 && t->type != BBT_GGML_F16 && t->type != BBT_GGML_BF16)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "%s: tensor %s is %s; the native backend computes with f32, f16 and "
		                 "bf16 weights (quantized files run with --backend ggml)", path, name,
		                 bbt_ggml_type_name(t->type));
	float *f = own(m, n * sizeof *f);
	if (f == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory loading %s", name);
	const unsigned char *p = t->data;
	for (size_t i = 0; i < n; i++) {
		if (t->type == BBT_GGML_F32) {
			memcpy(&f[i], p + 4 * i, 4);
		} else {
			uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
			f[i] = t->type == BBT_GGML_F16 ? bbt_fp16_to_fp32(h) : bbt_bf16_to_fp32(h);
		}
	}
	*out = f;
	return BBT_OK;
}

/* Stack q, k, v (and their biases, zeros when absent) into one matrix. */
static int stack_qkv(struct nat_model *m, struct nat_layer *ly, const float *q, const float *k,
                     const float *v, const float *bq, const float *bk, const float *bv,
                     char *err, size_t errlen)
{
	size_t H = m->hp.H, Hkv = m->hp.H / m->hp.heads * m->hp.kv_heads, rows = H + 2 * Hkv;
	float *w = own(m, rows * H * sizeof *w), *bb = own(m, rows * sizeof *bb);
	if (w == NULL || bb == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	memcpy(w, q, H * H * sizeof *w);
	memcpy(w + H * H, k, Hkv * H * sizeof *w);
	memcpy(w + (H + Hkv) * H, v, Hkv * H * sizeof *w);
	memset(bb, 0, rows * sizeof *bb);
	if (bq != NULL) {
		memcpy(bb, bq, H * sizeof *bb);
		memcpy(bb + H, bk, Hkv * sizeof *bb);
		memcpy(bb + H + Hkv, bv, Hkv * sizeof *bb);
	}
	ly->wqkv = w;
	ly->bqkv = bb;
	return BBT_OK;
}

static const float *zeros(struct nat_model *m, size_t n)
{
	float *z = own(m, n * sizeof *z);
	if (z != NULL)
		memset(z, 0, n * sizeof *z);
	return z;
}

/* GPT-2 and Llama as llama.cpp writes them. */
static int load_decoder(struct nat_model *m, const bbt_gguf_t *g, const char *path, char *err,
                        size_t errlen)
{
	int llama = m->hp.family == BBT_LM_LLAMA, rc;
	size_t dh = m->hp.H / m->hp.heads, Hkv = dh * m->hp.kv_heads, H = m->hp.H, F = m->hp.F;
	size_t ctx = m->hp.n_pos;
	if ((rc = tensor(m, g, path, "token_embd.weight", H, m->hp.V, &m->tok_embd, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "output_norm.weight", H, 0, &m->out_norm_g, err, errlen)) < 0)
		return rc;
	if (!llama &&
	    ((rc = tensor(m, g, path, "position_embd.weight", H, ctx, &m->pos_embd, err, errlen)) < 0 ||
	     (rc = tensor(m, g, path, "output_norm.bias", H, 0, &m->out_norm_b, err, errlen)) < 0))
		return rc;
	if (bbt_gguf_find_tensor(g, "output.weight") != NULL) {
		if ((rc = tensor(m, g, path, "output.weight", H, m->hp.V, &m->out_w, err, errlen)) < 0)
			return rc;
	} else {
		m->out_w = m->tok_embd;   /* tied */
	}
	m->layers = calloc(m->hp.L, sizeof *m->layers);
	if (m->layers == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t l = 0; l < m->hp.L; l++) {
		struct nat_layer *ly = &m->layers[l];
		char n[16][64];
		static const char *const sfx[16] = {
			"attn_norm.weight", "attn_norm.bias", "attn_qkv.weight", "attn_qkv.bias",
			"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
			"attn_output.bias", "ffn_norm.weight", "ffn_norm.bias", "ffn_up.weight",
			"ffn_up.bias", "ffn_down.weight", "ffn_down.bias", "ffn_gate.weight",
		};
		for (int i = 0; i < 16; i++)
			snprintf(n[i], sizeof n[i], "blk.%zu.%s", l, sfx[i]);
		if ((rc = tensor(m, g, path, n[0], H, 0, &ly->ln1_g, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[7], H, H, &ly->wo, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[9], H, 0, &ly->ln2_g, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[11], H, F, &ly->w1, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[13], F, H, &ly->w2, err, errlen)) < 0)
			return rc;
		if (llama) {
			const float *q, *k, *v;
			if ((rc = tensor(m, g, path, n[4], H, H, &q, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[5], H, Hkv, &k, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[6], H, Hkv, &v, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[15], H, F, &ly->wg, err, errlen)) < 0 ||
			    (rc = stack_qkv(m, ly, q, k, v, NULL, NULL, NULL, err, errlen)) < 0)
				return rc;
			if ((ly->bo = zeros(m, H)) == NULL || (ly->b1 = zeros(m, F)) == NULL ||
			    (ly->b2 = zeros(m, H)) == NULL)
				return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		} else {
			if ((rc = tensor(m, g, path, n[1], H, 0, &ly->ln1_b, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[2], H, 3 * H, &ly->wqkv, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[3], 3 * H, 0, &ly->bqkv, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[8], H, 0, &ly->bo, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[10], H, 0, &ly->ln2_b, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[12], F, 0, &ly->b1, err, errlen)) < 0 ||
			    (rc = tensor(m, g, path, n[14], H, 0, &ly->b2, err, errlen)) < 0)
				return rc;
		}
	}
	return BBT_OK;
}

static int load_encoder(struct nat_model *m, const bbt_gguf_t *g, const char *path, char *err,
                        size_t errlen)
{
	int rc;
	size_t H = m->hp.H, F = m->hp.F;
	if ((rc = tensor(m, g, path, "token_embd.weight", H, m->hp.V, &m->tok_embd, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "position_embd.weight", H, m->hp.pos_rows, &m->pos_embd, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "token_types.weight", H, m->hp.n_types, &m->type_embd, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "token_embd_norm.weight", H, 0, &m->emb_ln_g, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "token_embd_norm.bias", H, 0, &m->emb_ln_b, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "mlm.dense.weight", H, H, &m->mlm_w, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "mlm.dense.bias", H, 0, &m->mlm_b, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "mlm.norm.weight", H, 0, &m->mlm_ln_g, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "mlm.norm.bias", H, 0, &m->mlm_ln_b, err, errlen)) < 0 ||
	    (rc = tensor(m, g, path, "mlm.output.bias", m->hp.V, 0, &m->out_b, err, errlen)) < 0)
		return rc;
	if (bbt_gguf_find_tensor(g, "mlm.output.weight") != NULL) {
		if ((rc = tensor(m, g, path, "mlm.output.weight", H, m->hp.V, &m->out_w, err, errlen)) < 0)
			return rc;
	} else {
		m->out_w = m->tok_embd;   /* tied decoder */
	}
	m->layers = calloc(m->hp.L, sizeof *m->layers);
	if (m->layers == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t l = 0; l < m->hp.L; l++) {
		struct nat_layer *ly = &m->layers[l];
		const float *q, *k, *v, *bq, *bk, *bv;
		char n[12][64];
		static const char *const sfx[12] = {
			"attn_q.weight", "attn_q.bias", "attn_k.weight", "attn_k.bias", "attn_v.weight",
			"attn_v.bias", "attn_output.weight", "attn_output.bias", "ffn_up.weight",
			"ffn_up.bias", "ffn_down.weight", "ffn_down.bias",
		};
		for (int i = 0; i < 12; i++)
			snprintf(n[i], sizeof n[i], "blk.%zu.%s", l, sfx[i]);
		char ln[4][64];
		snprintf(ln[0], sizeof ln[0], "blk.%zu.attn_output_norm.weight", l);
		snprintf(ln[1], sizeof ln[1], "blk.%zu.attn_output_norm.bias", l);
		snprintf(ln[2], sizeof ln[2], "blk.%zu.layer_output_norm.weight", l);
		snprintf(ln[3], sizeof ln[3], "blk.%zu.layer_output_norm.bias", l);
		if ((rc = tensor(m, g, path, n[0], H, H, &q, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[1], H, 0, &bq, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[2], H, H, &k, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[3], H, 0, &bk, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[4], H, H, &v, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[5], H, 0, &bv, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[6], H, H, &ly->wo, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[7], H, 0, &ly->bo, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[8], H, F, &ly->w1, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[9], F, 0, &ly->b1, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[10], F, H, &ly->w2, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, n[11], H, 0, &ly->b2, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, ln[0], H, 0, &ly->ln1_g, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, ln[1], H, 0, &ly->ln1_b, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, ln[2], H, 0, &ly->ln2_g, err, errlen)) < 0 ||
		    (rc = tensor(m, g, path, ln[3], H, 0, &ly->ln2_b, err, errlen)) < 0)
			return rc;
		/* one GEMM for q, k and v */
		if ((rc = stack_qkv(m, ly, q, k, v, bq, bk, bv, err, errlen)) < 0)
			return rc;
	}
	return BBT_OK;
}

int nat_model_load(struct nat_model *m, const bbt_gguf_t *g, const char *path, char *err,
                   size_t errlen)
{
	memset(m, 0, sizeof *m);
	int rc = bbt_lm_hparams_load(&m->hp, g, path, err, errlen);
	if (rc == BBT_OK)
		rc = m->hp.causal ? load_decoder(m, g, path, err, errlen)
		                  : load_encoder(m, g, path, err, errlen);
	if (rc < 0)
		nat_model_release(m);
	return rc;
}
