/*
 * tokvocab.c - the vocabulary every tokenizer looks up: token text to id
 * (open addressing over the GGUF's token strings), the BPE merge ranks, the
 * SentencePiece scores and byte tokens (see <bbtbench/model/tokenizer.h>).
 * It knows no tokenizer; wordpiece.c, bpe.c and spm.c use it, and
 * tokenizer.c dispatches to them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/model/tokenizer.h>
#include "tokenizers.h"

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

int32_t bbt_tok_find(const struct bbt_tok *t, const char *s, size_t len)
{
	size_t i = fnv1a(s, len) & t->mask;
	while (t->slots[i] != 0) {
		const char *w = t->tokens[t->slots[i] - 1];
		if (strncmp(w, s, len) == 0 && w[len] == '\0')
			return (int32_t)(t->slots[i] - 1);
		i = (i + 1) & t->mask;
	}
	return -1;
}

void bbt_tok_release(struct bbt_tok *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t->mslots);
	free(t->scores);
	t->slots = NULL;
	t->mslots = NULL;
	t->scores = NULL;
}

int bbt_tok_init_merges(struct bbt_tok *t, const char *const *merges, size_t n, char *err,
                        size_t errlen)
{
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	free(t->mslots);
	t->mslots = calloc(size, sizeof *t->mslots);
	if (t->mslots == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for %zu merges", n);
	t->merges = merges;
	t->n_merges = n;
	t->mmask = size - 1;
	for (size_t r = 0; r < n; r++) {
		size_t i = fnv1a(merges[r], strlen(merges[r])) & t->mmask;
		int dup = 0;
		while (t->mslots[i] != 0 && !(dup = strcmp(merges[t->mslots[i] - 1], merges[r]) == 0))
			i = (i + 1) & t->mmask;
		if (!dup)   /* a repeated merge keeps its first (best) rank */
			t->mslots[i] = (uint32_t)(r + 1);
	}
	return BBT_OK;
}

long mdl_merge_rank(const struct bbt_tok *t, const char *key, size_t len)
{
	size_t i = fnv1a(key, len) & t->mmask;
	while (t->mslots[i] != 0) {
		const char *m = t->merges[t->mslots[i] - 1];
		if (strncmp(m, key, len) == 0 && m[len] == '\0')
			return (long)t->mslots[i] - 1;
		i = (i + 1) & t->mmask;
	}
	return -1;
}

int bbt_tok_init(struct bbt_tok *t, enum bbt_tok_kind kind, const char *const *tokens, size_t n,
                 char *err, size_t errlen)
{
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	memset(t, 0, sizeof *t);
	t->kind = kind;
	t->tokens = tokens;
	t->n = n;
	t->mask = size - 1;
	t->slots = calloc(size, sizeof *t->slots);
	if (t->slots == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory for a vocabulary of %zu", n);
	for (size_t id = 0; id < n; id++) {
		size_t len = strlen(tokens[id]);
		/* HF's vocab loader keeps the last id of a duplicate; so do we by
		 * overwriting, which needs the slot of the earlier one. */
		size_t i = fnv1a(tokens[id], len) & t->mask;
		while (t->slots[i] != 0 && strcmp(tokens[t->slots[i] - 1], tokens[id]) != 0)
			i = (i + 1) & t->mask;
		t->slots[i] = (uint32_t)(id + 1);
	}
	t->lower = 1;
	t->strip_accents = 1;
	t->unk_id = -1;
	t->lstrip_id = -1;
	return BBT_OK;
}

void bbt_tok_init_spm(struct bbt_tok *t, float *scores)
{
	t->scores = scores;
	t->add_space_prefix = 1;
	for (int b = 0; b < 256; b++) {
		char name[8];
		snprintf(name, sizeof name, "<0x%02X>", b);
		t->byte_id[b] = bbt_tok_find(t, name, strlen(name));
	}
}
