/*
 * serve_request.c - fuzz target: a request body as `bbtbench serve` reads
 * it (src/serve/protocol.c), before any backend sees it: the /v1/score
 * body (4-byte length, JSON metadata, float32 prompts), checked against a
 * fixed model (hidden 32, 2 layers, 120 tokens, 64 positions) and limits.
 * The answer does not matter (an error line is the right answer to a bad
 * body); a crash, a sanitizer report, a leak or a hang is what fails. A
 * request that passes must describe a batch the backend can score safely:
 * that is asserted here, so a parser that lets a bad index through fails
 * as a crash.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "serve/protocol.h"

static const struct bbt_model_info model = {
	.arch = "bert", .hidden = 32, .layers = 2, .vocab_size = 120, .max_len = 64,
	.bos_id = 1, .eos_id = 2, .mask_id = 3, .pad_id = 0,
	.embed_mean = 0, .embed_std = 0.02,
};

/* What the backend will assume of a parsed request. */
static void check_batch(const struct bbt_score_req *r)
{
	const struct bbt_batch *b = &r->batch;
	assert(r->n_variants >= 1 && r->n_variants <= 64);
	assert(b->n_labels >= 1 && b->offset[0] == 0);
	for (size_t l = 0; l < b->n_labels; l++)
		assert(b->label_ids[l] >= 0 && (size_t)b->label_ids[l] < model.vocab_size);
	for (size_t i = 0; i < b->n_seq; i++) {
		size_t len = b->offset[i + 1] - b->offset[i];
		assert(b->offset[i + 1] >= b->offset[i] && len > 0);
		assert(b->predict_pos[i] < len && b->prompt_pos[i] <= len);
		assert(len + b->prompt_len <= model.max_len);
		for (size_t k = b->offset[i]; k < b->offset[i + 1]; k++)
			assert(b->ids[k] >= 0 && (size_t)b->ids[k] < model.vocab_size);
	}
	if (r->prompts != NULL) {   /* every prompt value is there: touch the last */
		size_t n = r->n_variants * b->prompt_layers * b->prompt_len * model.hidden;
		volatile float last = r->prompts[n - 1];
		(void)last;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct bbt_serve_limits lim = { .max_body = 1 << 20, .max_batch = 16,
		                              .max_variants = 64, .max_seq_len = 64,
		                              .max_prompt_len = 63 };
	char err[512];
	struct bbt_score_req req;
	if (bbt_score_req_parse(data, size, &model, &lim, &req, err, sizeof err) == 0) {
		check_batch(&req);
		bbt_score_req_release(&req);
	} else {
		assert(err[0] != '\0' && strchr(err, '\n') == NULL);
	}
	struct bbt_completion_req cr;
	if (bbt_completion_req_parse(data, size, "tiny.gguf", 16, 120, &cr, err, sizeof err) == 0) {
		assert(cr.n >= 1 && cr.n <= 16 && cr.logprobs >= -1 && cr.logprobs <= 120);
		for (size_t i = 0; i < cr.n; i++)
			assert(cr.prompts[i] != NULL);
		bbt_completion_req_release(&cr);
	}
	return 0;
}
