/*
 * bbtbench/backend.h - the model backend contract.
 *
 * A backend opens a language model, tells the host its shape, tokenizes text
 * and scores batches of token sequences under V prompt variants at once,
 * returning only the logits of the requested label words at each sequence's
 * prediction position:
 *
 *     open(host, &params, &state, &info, err, errlen)
 *     tokenize(state, " It was", ids, cap, &n, ...)     many times, at start-up
 *     score(state, &batch, prompts, V, logits, ...)      once per generation
 *     gradient(state, &batch, prompts, V, dloss, ctx, logits, grad, ...)
 *                                   white-box runs only (optional, ABI 1.1)
 *     hidden_states(state, &batch, layer, out, ...)
 *                                   deep-prompt runs, once per layer at
 *                                   start-up (optional, ABI 1.2)
 *     transport(state, &totals)     what the calls cost on the wire, for
 *                                   backends that reach a model elsewhere
 *                                   (optional, ABI 1.3)
 *     close(state)
 *
 * Sequences are rendered by the host and carry their special tokens
 * (e.g. [CLS] ... [MASK] ... [SEP]) but not the continuous prompt. The
 * backend inserts the prompt itself, before position batch->prompt_pos[i]
 * of sequence i (right after the first special token for encoders, at the
 * start for decoders), so a sequence of n tokens becomes n + P positions.
 * Deep prompts (BBTv2): with prompt_layers = L > 1, the prompt of layer j
 * is added to the hidden states of the P prompt positions entering layer j
 * (layer 0 is the embedding-layer prompt).
 *
 * Memory layouts (all row-major, caller-owned):
 *   prompts  float [V][prompt_layers][prompt_len][hidden]; NULL or
 *            prompt_len == 0: no prompt at all (manual baseline)
 *   logits   float [V][n_seq][n_labels]
 *   grad     float [V][prompt_layers][prompt_len][hidden], like prompts
 *
 * Gradients (ABI 1.1): a backend that holds its model may offer
 * `gradient`, the derivative of the host's loss with respect to each
 * variant's prompt. The loss stays the host's: the backend runs the
 * forward pass, hands the label logits of all V variants to the host's
 * dloss callback, which returns dL/dlogits of the same shape, and
 * backpropagates those through the network to the prompt positions
 * (activations only; the weights get no gradient). For deep prompts the
 * gradient of layer j's prompt is the gradient of the hidden states of the
 * prompt positions entering layer j.
 *
 * Hidden states (ABI 1.2): BBTv2 scales the projection of layer j's prompt
 * by the spread of the hidden states entering layer j, so a backend that
 * offers deep prompts should also offer `hidden_states`: the hidden states
 * entering one layer over a batch, under the all-zero prompt (a deep
 * prompt's start, z = 0). Layer 0's are the embedding layer's output.
 */
#ifndef BBTBENCH_BACKEND_H
#define BBTBENCH_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <bbtbench/host.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bbt_backend_params {
	const char *model;       /* model file (GGUF for real backends); may be NULL */
	size_t prompt_len;       /* P continuous prompt vectors per layer; 0 for none */
	size_t prompt_layers;    /* 1: embedding layer only; the model's layers: deep prompt */
	uint64_t seed;           /* the run seed */
};

struct bbt_model_info {
	char arch[32];           /* architecture name, e.g. "bert", "roberta", "synthetic" */
	size_t hidden;           /* hidden size H */
	size_t layers;           /* transformer layers */
	size_t vocab_size;
	size_t max_len;          /* most positions per sequence, prompt included */
	int causal;              /* 1: decoder, predicts at the last real token */
	int32_t bos_id;          /* first special token ([CLS], <s>), -1 if none */
	int32_t eos_id;          /* closing special token ([SEP], </s>), -1 if none */
	int32_t mask_id;         /* [MASK] / <mask>; -1 for causal models */
	int32_t pad_id;          /* -1 if none */
	double embed_mean;       /* mean of the word-embedding matrix */
	double embed_std;        /* its standard deviation, unbiased (n - 1) as torch.std:
	                          * sigma-hat of the BBT projection */
};

/* A batch of rendered sequences, stored back to back. */
struct bbt_batch {
	size_t n_seq;
	const int32_t *ids;        /* all tokens, sequence after sequence */
	const size_t *offset;      /* n_seq + 1 entries; sequence i is ids[offset[i] .. offset[i+1]) */
	const size_t *predict_pos; /* index within sequence i (prompt excluded) to read logits at */
	const size_t *prompt_pos;  /* the prompt goes before this index of sequence i */
	size_t n_labels;
	const int32_t *label_ids;  /* one token id per label word */
	size_t prompt_len;         /* P: the backend's params.prompt_len, or 0 (no prompt) */
	size_t prompt_layers;      /* the backend's params.prompt_layers */
};

/* The host's loss seen from the logits: given the label logits of every
 * variant, logits[V][n_seq][n_labels], write dL_v/dlogits_v into dlogits
 * (same shape). Returns 0 or a negative status (the backend passes it on). */
typedef int (*bbt_logit_grad_fn)(void *ctx, const float *logits, size_t n_variants,
                                 size_t n_seq, size_t n_labels, float *dlogits);

/* What a backend that reaches its model over a network has spent since
 * open (ABI 1.3): the host reads it after each call, so a call's share is
 * the difference. */
struct bbt_backend_transport {
	uint64_t requests;        /* requests made (a retried one counts once) */
	uint64_t retries;         /* requests sent again */
	uint64_t bytes_sent;      /* request lines, headers and bodies */
	uint64_t bytes_received;  /* status lines, headers and bodies */
	double seconds;           /* wall time of the backend's calls, retries and their
	                           * pauses included */
	char server[256];         /* where the model is (URLs), for result.json */
	char model[128];          /* the server's model: its file name, or "" */
	char model_sha256[65];    /* its SHA-256 in hex, or "" */
};

struct bbt_backend_ops {
	/* Open the model. Fills info. On failure *state stays NULL. */
	int (*open)(const bbt_host_t *host, const struct bbt_backend_params *params,
	            void **state, struct bbt_model_info *info,
	            char *err, size_t errlen);

	/* Tokenize text without adding special tokens. Writes at most cap ids
	 * and sets *n to the full count (so cap = 0 asks for the length).
	 * A leading space is significant for byte-level BPE vocabularies. */
	int (*tokenize)(void *state, const char *text, int32_t *ids, size_t cap,
	                size_t *n, char *err, size_t errlen);

	/* Text of one token id, for logs and discrete prompts; NULL if out of range. */
	const char *(*token_text)(void *state, int32_t id);

	/* Label-word logits of every sequence under each of V prompt variants. */
	int (*score)(void *state, const struct bbt_batch *batch, const float *prompts,
	             size_t n_variants, float *logits, char *err, size_t errlen);

	/* Release everything; NULL is a no-op. */
	void (*close)(void *state);

	/* ABI 1.1, optional (NULL: this backend gives no gradients; a plugin
	 * built for ABI 1.0 has no such field, so the host reads it only when
	 * the descriptor's abi_minor >= 1). Like score, filling logits, and
	 * also grad, the gradient of the host's loss with respect to every
	 * prompt value (layout above). Needs batch->prompt_len > 0. */
	int (*gradient)(void *state, const struct bbt_batch *batch, const float *prompts,
	                size_t n_variants, bbt_logit_grad_fn dloss, void *ctx,
	                float *logits, float *grad, char *err, size_t errlen);

	/* ABI 1.2, optional (NULL: no hidden states, so no deep prompts for
	 * the host; read only when abi_minor >= 2). The hidden states entering
	 * layer `layer` (0 <= layer < info.layers; 0: the embedding layer's
	 * output) at every position of every sequence of batch, the
	 * batch->prompt_len prompt positions included (all-zero prompts at
	 * every layer), into out as [sequence][position][hidden] floats, the
	 * prompt positions in place: (offset[n_seq] - offset[0] +
	 * n_seq * prompt_len) * hidden floats in all. */
	int (*hidden_states)(void *state, const struct bbt_batch *batch, size_t layer,
	                     float *out, char *err, size_t errlen);

	/* ABI 1.3, optional (NULL: an in-process backend, nothing on a wire;
	 * read only when abi_minor >= 3). Fill out with the totals since
	 * open; 0, or a negative status. */
	int (*transport)(void *state, struct bbt_backend_transport *out);
};

/* float32 little-endian <-> host floats, n values: the tensors of
 * bbtbench serve's protocol (doc/protocol.md), for the server and the
 * backends that speak it. */
static inline void bbt_le_put_f32(void *dst, const float *src, size_t n)
{
	unsigned char *d = (unsigned char *)dst;
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &src[i], 4);
		d[4 * i] = (unsigned char)u;
		d[4 * i + 1] = (unsigned char)(u >> 8);
		d[4 * i + 2] = (unsigned char)(u >> 16);
		d[4 * i + 3] = (unsigned char)(u >> 24);
	}
}

static inline void bbt_le_get_f32(float *dst, const void *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	for (size_t i = 0; i < n; i++) {
		uint32_t u = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 |
		             (uint32_t)s[4 * i + 2] << 16 | (uint32_t)s[4 * i + 3] << 24;
		memcpy(&dst[i], &u, 4);
	}
}

/* Flags in the descriptor's `flags` field for backends. They name what a
 * backend cannot do, so that 0 (every module built before them) keeps
 * meaning "everything"; the host refuses a run that needs what a backend
 * lacks before the run's folder exists. */
#define BBT_BACKEND_NO_CONTINUOUS 0x1u  /* text only: no continuous prompt (discrete
                                         * prompts and baselines only) */

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_BACKEND_H */
