/*
 * tinymodel.h - tiny random language models of every family the GGUF
 * backends run, written with the project's GGUF writer: a BERT (WordPiece)
 * or RoBERTa (byte-level BPE, positions offset by 2) masked LM with its MLM
 * head, and GPT-2 / Llama decoders (Llama with 2 key/value heads for 4
 * query heads, and a BPE or SentencePiece vocabulary). t/native checks
 * the native backend against a double-precision reference on them; t/ggml
 * checks the ggml backend against native.
 *
 *     struct tiny t;
 *     tiny_init(&t);                               random weights, fixed seed
 *     struct damage d = { .mtype = BBT_GGML_Q8_0 };
 *     tiny_write(&t, path, &d);                    (d: what to leave out,
 *     tiny_free(&t);                                misshape or quantize)
 *
 * The weights are kept in f32 for the references; `mtype` only changes
 * how the matrices are written (f16, or Q8_0/Q4_0 through
 * bbt_ggml_quantize).
 */
#ifndef BBT_T_TINYMODEL_H
#define BBT_T_TINYMODEL_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/backend.h>

#define NV 40       /* vocabulary */
#define POS_OFF 2   /* RoBERTa: positions start at padding_idx + 1 */
enum { H = 32, HEADS = 4, FF = 64, NL = 2, NPOS = 64, NTYPES = 2 };
enum { KVH = 2 };   /* the Llama's key/value heads */

/* A normal deviate from the models' fixed-seed stream. */
double rnd_normal(void);

struct tiny {
	float *tok, *pos, *type, *eg, *eb;
	float *wq[NL], *bq[NL], *wk[NL], *bk[NL], *wv[NL], *bv[NL], *wo[NL], *bo[NL];
	float *g1[NL], *b1n[NL], *w1[NL], *b1[NL], *w2[NL], *b2[NL], *g2[NL], *b2n[NL];
	float *mw, *mb, *mg, *mbn, *ob;
	float *all[64];
	int n_all;
};

/* Which tensor to leave out, misshape or fill with NaN, for the bad-model
 * tests. */
struct damage {
	const char *drop;      /* tensor name not written */
	const char *reshape;   /* tensor written with ne[0] = H + 1 */
	const char *arch;      /* architecture name */
	uint32_t mtype;        /* matrices as this type (0: f32; f16, q8_0, q4_0) */
	int roundtrip;         /* matrices quantized to mtype and back, written as f32 */
	int roberta;           /* RoBERTa: BPE vocabulary, positions offset by 2 */
	double eps;            /* layer_norm_epsilon written (0: 1e-12) */
	const char *nan_in;    /* tensor written with every value NaN */
};

/* Random weights (the same on every run of a program). */
void tiny_init(struct tiny *t);
void tiny_free(struct tiny *t);
/* Write t as GGUF; 0 or a negative status. */
int tiny_write(const struct tiny *t, const char *path, const struct damage *d);

struct tdec {
	int llama, spm;
	float *tok, *pos, *onorm_g, *onorm_b, *out;
	float *n1g[NL], *n1b[NL], *wq[NL], *wk[NL], *wv[NL], *bqkv[NL], *wo[NL], *bo[NL];
	float *n2g[NL], *n2b[NL], *w1[NL], *b1[NL], *wg[NL], *w2[NL], *b2[NL];
	struct tiny mem;   /* owns the arrays */
};

/* A GPT-2 (llama 0) or Llama decoder; d->spm = 1 gives the Llama a
 * SentencePiece vocabulary. Free with tiny_free(&d->mem). */
void tdec_init(struct tdec *d, int llama);
/* Write d as GGUF with its matrices as mtype (0: f32), or, roundtrip,
 * quantized to mtype and back to f32. */
int tdec_write(struct tdec *d, const char *path, uint32_t mtype, int roundtrip);

/* Three sequences of different lengths (6, 11, 5 tokens) and NLAB label
 * words. Encoders: [CLS] ... [MASK] ... [SEP], prompt after [CLS],
 * prediction at the mask; decoders (causal): prompt at the start,
 * prediction at the last token. P prompt vectors in Lp layers. */
#define NSEQ 3
#define NLAB 4
void tiny_batch(struct bbt_batch *b, int causal, size_t P, size_t Lp);

#endif /* BBT_T_TINYMODEL_H */
