/*
 * forward.h - what the backward pass (grad.c) shares with the forward pass
 * (model.c); internal to the native backend.
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

/* The elementwise, LayerNorm and attention loops run on OpenMP threads
 * between the (OpenBLAS-threaded) GEMMs; no BLAS call is made inside a
 * parallel region. Without OpenMP they run serially. */
#ifdef _OPENMP
#include <omp.h>
#define OMP_FOR _Pragma("omp parallel for schedule(static)")
#define OMP_FOR_DYN _Pragma("omp parallel for schedule(dynamic, 1)")
#define OMP_SIMD_SUM_S _Pragma("omp simd reduction(+:s)")
#define OMP_SIMD _Pragma("omp simd")
static inline int thread_id(void) { return omp_get_thread_num(); }
static inline int max_threads(void) { return omp_get_max_threads(); }
#else
#define OMP_FOR
#define OMP_FOR_DYN
#define OMP_SIMD_SUM_S
#define OMP_SIMD
static inline int thread_id(void) { return 0; }
static inline int max_threads(void) { return 1; }
#endif

/* Activation buffers of one chunk; row0/len: each packed sequence's first
 * row and length (prompt included), set by the forward pass. */
struct nat_work {
	float *x, *qkv, *ctx, *tmp, *ffn, *scores;
	size_t *row0, *len;
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

/* Tape slots of a layer (grad.c sizes them per family). */
enum nat_slot {
	NAT_QKV,     /* q|k|v before their biases (Llama: after RoPE) */
	NAT_NORM1,   /* input of the layer's first norm: encoder x + attention + bias,
	                decoder the layer's input */
	NAT_NORM2,   /* input of the second norm: encoder x + FFN + bias, decoder x + attention */
	NAT_UP,      /* ffn_up output, before its bias and activation */
	NAT_GATE,    /* Llama's ffn_gate output */
	NAT_SLOTS
};

/* Hooks of the forward pass (grad.c): slot s of layer l = src, or
 * a + bias + b row by row; the encoder head's gelu(dense) of the chunk's
 * k-th sequence. */
void nat_tape_keep(struct nat_tape *tp, size_t l, enum nat_slot s, const float *src);
void nat_tape_sum(struct nat_tape *tp, size_t l, enum nat_slot s, const float *a,
                  const float *bias, const float *b);
void nat_tape_head(struct nat_tape *tp, size_t k, const float *hv);

#endif /* BBT_NATIVE_FORWARD_H */
