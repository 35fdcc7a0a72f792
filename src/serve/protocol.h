/*
 * protocol.h - the request and response bodies of bbtbench serve's
 * protocol, version 1 (doc/protocol.md), without any HTTP: what the
 * server parses and checks, apart from the sockets, so that it can be
 * tested and fuzzed on its own.
 *
 *     struct bbt_score_req req;
 *     struct bbt_serve_limits lim = ...;
 *     if (bbt_score_req_parse(body, len, &info, &lim, &req, err, sizeof err) < 0)
 *         reply 400 with err
 *     backend->score(state, &req.batch, req.prompts, req.n_variants, logits, ...);
 *     bbt_score_req_release(&req);
 */
#ifndef BBT_SERVE_PROTOCOL_H
#define BBT_SERVE_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/backend.h>

#define BBT_PROTOCOL_VERSION 1

/* What one request may ask for; 0 in a field: no limit of that kind. */
struct bbt_serve_limits {
	size_t max_body;       /* bytes of a request body */
	size_t max_batch;      /* sequences per score request */
	size_t max_variants;   /* prompt variants per score request */
	size_t max_seq_len;    /* positions of one sequence, the prompt included */
	size_t max_prompt_len; /* continuous prompt vectors per layer */
};

/* A parsed /v1/score request: owns its arrays; batch points into them. */
struct bbt_score_req {
	struct bbt_batch batch;
	size_t n_variants;
	float *prompts;        /* [V][layers][P][H], or NULL ("prompts": false) */
	size_t tokens;         /* V x sum(sequence length + P): the positions to score */
	int32_t *ids, *label_ids;
	size_t *offset, *predict_pos, *prompt_pos;
};

/* Parse and check a /v1/score body (layout in doc/protocol.md) against the
 * model and the limits. 0, or BBT_EINVAL / BBT_ENOMEM with one line in err
 * (what the client sent wrong); req is then released. */
int bbt_score_req_parse(const void *body, size_t len, const struct bbt_model_info *info,
                        const struct bbt_serve_limits *lim, struct bbt_score_req *req,
                        char *err, size_t errlen);
void bbt_score_req_release(struct bbt_score_req *req);

/* A parsed /v1/completions request (the OpenAI-compatible shape the
 * openai backend sends; doc/protocol.md): owns its texts. */
struct bbt_completion_req {
	char **prompts;        /* n texts */
	size_t n;
	long logprobs;         /* top log-probabilities asked for; -1: none */
};

/* Parse a /v1/completions body: "prompt" a string or an array of strings,
 * "max_tokens" 1 (this server scores one position; it does not generate),
 * "echo" false, "n" 1, no "stream"; "model", when given, must be `model`
 * (else BBT_ENOTFOUND). Other fields (temperature, top_p, ...) are
 * accepted and ignored: the answer is the log-softmax, its argmax the
 * text. 0 or a negative status with one line in err; req released then. */
int bbt_completion_req_parse(const void *body, size_t len, const char *model, size_t max_batch,
                             long max_logprobs, struct bbt_completion_req *req, char *err,
                             size_t errlen);
void bbt_completion_req_release(struct bbt_completion_req *req);

/* /v1/info's JSON for a model (malloc'ed text; NULL on out of memory).
 * model_file/model_sha256 NULL: "model": null. */
char *bbt_info_json(const struct bbt_model_info *info, const char *backend,
                    const char *model_file, long long model_size, const char *model_sha256,
                    const struct bbt_serve_limits *lim);

#endif /* BBT_SERVE_PROTOCOL_H */
