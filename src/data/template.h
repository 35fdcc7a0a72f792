/*
 * template.h - turning examples into token sequences through the backend's
 * tokenizer: the task's template, the verbalizer (label words) and the
 * model's special tokens.
 *
 * A template such as "{sentence1} ? {mask} , {sentence2}" is split into
 * items: fields, literal text and the mask. Whitespace just before a field
 * or the mask belongs to that item (so byte-level BPE sees " word", as it
 * would in the whole string). Each item is tokenized on its own; the
 * sequence is
 *
 *     [bos] items... [eos]        masked LM: predict at the mask token
 *     [bos] items before mask     causal LM: predict at the last token
 *
 * and the continuous prompt goes right after the first special token (at 0
 * when there is none). When a sequence would exceed max_len - prompt_len
 * positions, tokens are cut from the end of the longest field until it
 * fits; the example is kept and counted as truncated.
 */
#ifndef BBT_TEMPLATE_H
#define BBT_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/backend.h>
#include "data/dataset.h"
#include "data/task.h"

/* The backend's tokenizer, as the host calls it. */
struct bbt_tokenizer {
	const struct bbt_backend_ops *ops;
	void *state;
};

typedef struct bbt_template bbt_template_t;

/* Parse task->template_text. Errors name the task file. */
int bbt_template_parse(const bbt_task_t *task, bbt_template_t **out, char *err, size_t errlen);
void bbt_template_free(bbt_template_t *tmpl);

struct bbt_encode_params {
	size_t max_len;     /* the model's positions */
	size_t prompt_len;  /* positions the prompt takes (P) */
	int causal;
	int32_t bos_id, eos_id, mask_id;  /* -1: none */
	const int32_t *prefix;  /* tokens put before every example's items, right
	                         * after bos (in-context demonstrations); may be NULL */
	size_t n_prefix;
};

/* A data set rendered to tokens; arrays have n_seq (offset: n_seq + 1)
 * entries. */
struct bbt_encoded {
	size_t n_seq;
	int32_t *ids;
	size_t *offset;
	size_t *predict_pos;
	size_t *prompt_pos;
	int *labels;
	size_t n_truncated;     /* examples that lost tokens */
	size_t tokens_dropped;  /* tokens cut in all */
	size_t max_seq_len;     /* longest rendered sequence (prompt excluded) */
};

typedef struct bbt_encoded bbt_encoded_t;

int bbt_template_encode(const bbt_template_t *tmpl, const struct bbt_tokenizer *tok,
                        const struct bbt_encode_params *params, const bbt_dataset_t *ds,
                        bbt_encoded_t **out, char *err, size_t errlen);
void bbt_encoded_free(bbt_encoded_t *enc);

/* A batch view of sequences [first, first + n) (pointers into enc). */
void bbt_encoded_batch(const bbt_encoded_t *enc, size_t first, size_t n,
                       struct bbt_batch *batch);

/* Tokens of one in-context demonstration: the template's items for
 * example `ex` with the label word's token `label_id` at the mask, no
 * special tokens, appended to the growable array *ids (*n used, *cap
 * allocated). */
int bbt_template_demonstration(const bbt_template_t *tmpl, const struct bbt_tokenizer *tok,
                               const struct bbt_example *ex, int32_t label_id, int32_t **ids,
                               size_t *n, size_t *cap, char *err, size_t errlen);

/* Token ids of the label words: each word, with a leading space, must be
 * exactly one token ("tasks/rte.yaml: label word "Yes" is not one token in
 * this vocabulary (3 tokens)"). */
int bbt_template_label_ids(const bbt_task_t *task, const struct bbt_tokenizer *tok,
                           int32_t *ids, char *err, size_t errlen);

#endif /* BBT_TEMPLATE_H */
