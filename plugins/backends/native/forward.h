/*
 * forward.h - what the backward pass (grad.c) shares with the forward pass
 * (forward.c); internal to the native backend.
 *
 *     nat_batch_prepare(...)                     checks, buffers, chunk size
 *     for each chunk [s0, s1) (nat_chunk_end):
 *         nat_forward_chunk(..., tape)           tape NULL: score only
 *         ... backward over w's buffers and the tape (grad.c)
 *
 * The tape holds the activations of one chunk that the backward pass
 * reads. The forward pass fills it through the nat_tape_* hooks only when
 * it is given one, so scoring keeps nothing and costs one NULL test per
 * layer. Per layer, slot by slot, each [rows][width] over the chunk's
 * packed rows.
 */
#ifndef BBT_NATIVE_FORWARD_H
#define BBT_NATIVE_FORWARD_H

#include "model.h"

/* The forward pass runs blocks of rows on OpenMP threads, each with
 * single-threaded GEMMs (forward.c); its loops inside a block are then
 * nested regions of one thread. With fewer blocks than threads, and in the
 * backward pass, the elementwise, norm and attention loops run on OpenMP
 * threads between OpenBLAS-threaded GEMMs. Without OpenMP all of it runs
 * serially. */
#ifdef _OPENMP
#include <omp.h>
/* Never nested, whatever OMP_MAX_ACTIVE_LEVELS says: the scratch of a
 * loop inside a block's thread is that thread's (thread_id). */
#define OMP_FOR _Pragma("omp parallel for schedule(static) if(!omp_in_parallel())")
#define OMP_FOR_DYN _Pragma("omp parallel for schedule(dynamic, 1) if(!omp_in_parallel())")
#define OMP_SIMD_SUM_S _Pragma("omp simd reduction(+:s)")
#define OMP_SIMD_SUM_SS _Pragma("omp simd reduction(+:ss)")
#define OMP_SIMD_MAX_MX _Pragma("omp simd reduction(max:mx)")
#define OMP_SIMD _Pragma("omp simd")
/* The thread's index in the outermost team (0 outside one), which picks
 * its scratch: a loop nested in a block's thread is a team of one whose
 * own thread number is 0 on every thread. */
static inline int thread_id(void)
{
	int t = omp_get_ancestor_thread_num(1);
	return t < 0 ? 0 : t;
}
static inline int max_threads(void) { return omp_get_max_threads(); }
#else
#define OMP_FOR
#define OMP_FOR_DYN
#define OMP_SIMD_SUM_S
#define OMP_SIMD_SUM_SS
#define OMP_SIMD_MAX_MX
#define OMP_SIMD
static inline int thread_id(void) { return 0; }
static inline int max_threads(void) { return 1; }
#endif

/* Activation buffers of one chunk; row0/len: each packed sequence's first
 * row and length (prompt included), set by the forward pass; blocks: the
 * first sequence of each block and one past the last (forward.c). */
struct nat_work {
	float *x, *qkv, *ctx, *tmp, *ffn, *scores;
	size_t *row0, *len, *blocks;
	size_t cap_rows, cap_seq, cap_scores;
};

/* Geometry of the stacked q|k|v rows: row stride, and where head hd's
 * query, key and value start (grouped-query attention shares a key/value
 * head among heads / kv_heads query heads). */
struct qkv_geom {
	size_t stride, q, k, v, dh;
};

static inline struct qkv_geom nat_geom(const struct nat_model *m, size_t hd)
{
	size_t dh = m->hp.H / m->hp.heads, Hkv = dh * m->hp.kv_heads, kvh = hd / (m->hp.heads / m->hp.kv_heads);
	return (struct qkv_geom){ m->hp.H + 2 * Hkv, hd * dh, m->hp.H + kvh * dh, m->hp.H + Hkv + kvh * dh, dh };
}

/* Attention kernels (attention.c), one head of one sequence of n packed
 * rows whose q|k|v (biases not added) start at base / qkv.
 *
 * nat_attend: query rows [qa, qe) into ctx (stride H, row r at
 * ctx + r H); causal: row r sees rows 0..r only. Scratch: s, NAT_QBLOCK
 * rows of nat_keys_padded(n) scores; kt, head size x nat_keys_padded(n)
 * floats (K^T); qb, NAT_QBLOCK x head size. */
#define NAT_QBLOCK 8
size_t nat_keys_padded(size_t n);
void nat_attend(const float *base, const float *bqkv, size_t n, size_t qa, size_t qe, size_t H,
                struct qkv_geom ge, int causal, float scale, float *s, float *qb, float *kt,
                float *ctx);
/* nat_attend_back: for the query heads that share key/value head kvh,
 * given dctx (the attention output's gradient, stride H), dqkv (zeroed,
 * stride as qkv) += the gradient of q|k|v; scr holds 2n + 2 x head size
 * floats. */
void nat_attend_back(const struct nat_model *m, const float *qkv, const float *bqkv,
                     const float *dctx, float *dqkv, size_t n, int causal, float scale, size_t kvh,
                     float *scr);

/* Check the batch against the model, size the chunks (*max_rows rows at
 * most, *longest the longest sequence with its prompt) and reserve w for
 * them. P: prompt vectors per sequence (0: none); Lp: prompt layers. */
int nat_batch_prepare(const struct nat_model *m, const struct nat_forward_params *fp,
                      struct nat_work *w, const struct bbt_batch *b, size_t P, size_t Lp,
                      size_t n_variants, size_t *longest, size_t *max_rows, char *err,
                      size_t errlen);

/* The end of the chunk of whole sequences that starts at s0 (of S = V x
 * n_seq): at most max_rows rows, unless one sequence alone is longer. */
size_t nat_chunk_end(const struct bbt_batch *b, size_t P, size_t S, size_t s0, size_t max_rows);

/* Forward pass of sequences [s0, s1): logits of each into
 * logits[(v * n_seq + i) * n_labels]; fills the tape when not NULL. */
void nat_forward_chunk(const struct nat_model *m, const struct nat_forward_params *fp,
                       const struct bbt_batch *b, const float *prompts, size_t P, size_t Lp,
                       size_t s0, size_t s1, struct nat_work *w, size_t longest, float *logits,
                       struct nat_tape *tape);

/* Tape slots of a layer (grad.c sizes them per family). The FFN's
 * pre-activations are not kept: the backward pass recomputes them from
 * the norm input before the FFN, a third of the layer's FLOPs for 40 %
 * of an encoder's tape. */
enum nat_slot {
	NAT_QKV,     /* q|k|v before their biases (Llama: after RoPE) */
	NAT_NORM1,   /* input of the layer's first norm: encoder x + attention + bias,
	                decoder the layer's input */
	NAT_NORM2,   /* input of the second norm: encoder x + FFN + bias, decoder x + attention */
	NAT_SLOTS
};

/* Hooks of the forward pass (grad.c): rows [r0, r0 + n) of slot s of
 * layer l = src, or a + bias + b row by row (src, a and b hold those n
 * rows); the last layer's rows after its attention are the prediction
 * rows only, row k for the chunk's k-th sequence. nat_tape_head: that
 * sequence's final hidden state x at its prediction row, and the encoder
 * head's gelu(dense) (NULL for decoders). Blocks call them from their
 * threads, on disjoint rows. */
void nat_tape_keep(struct nat_tape *tp, size_t l, enum nat_slot s, size_t r0, size_t n,
                   const float *src);
void nat_tape_sum(struct nat_tape *tp, size_t l, enum nat_slot s, size_t r0, size_t n,
                  const float *a, const float *bias, const float *b);
void nat_tape_head(struct nat_tape *tp, size_t k, const float *x, const float *hv);

/* y = the pre-FFN norm of n rows of x (LayerNorm, or Llama's RMSNorm),
 * as the forward pass computes it: for the backward's recomputation. */
void nat_norm_rows(const struct nat_model *m, float *y, const float *x, size_t n,
                   const float *g, const float *b);

/* Sequence i's prediction row in its packed rows (P prompt rows). */
static inline size_t nat_predict_row(const struct bbt_batch *b, size_t i, size_t P)
{
	size_t pr = b->predict_pos[i];
	return P > 0 && pr >= b->prompt_pos[i] ? pr + P : pr;
}

#endif /* BBT_NATIVE_FORWARD_H */
