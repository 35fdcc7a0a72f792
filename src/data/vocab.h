/*
 * vocab.h - the candidate vocabulary of discrete prompts (BDPL, Diao et al.
 * TMLR 2023): the K word n-grams of the training texts most associated
 * with a label, each mapped to token ids by the backend's tokenizer.
 *
 * Texts are split into lowercased words (runs of ASCII letters and digits
 * and of non-ASCII UTF-8 bytes); any other character ends a segment, and
 * n-grams (1..max_n words) never cross a segment. Counts are per example
 * (an n-gram counts once per example however often it occurs there). The
 * association of n-gram g with label y is the pointwise mutual information
 *
 *     PMI(g, y) = log( P(g, y) / (P(g) P(y)) ) = log( n(g,y) N / (n(g) N_y) )
 *
 * (N examples, N_y of label y, n(g) examples containing g, n(g,y) of them
 * labelled y), and an n-gram scores its largest PMI over the labels. Only
 * n-grams in at least min_count examples are ranked, since PMI favours rare
 * events: an n-gram seen once scores the highest PMI its label allows. The
 * ranking: score descending, then n(g) descending, then fewer words, then
 * bytewise text, so it is a total order and does not depend on hashing.
 * Each n-gram is tokenized as " " + text (byte-level BPE sees a word
 * start); one whose tokens are empty or repeat a better-ranked candidate's
 * is skipped.
 *
 *     struct bbt_vocab_params vp = bbt_vocab_default_params();
 *     vp.size = 200;
 *     bbt_vocab_t *v;
 *     if (bbt_vocab_build(train, n_labels, &tok, &vp, &v, err, sizeof err) < 0) ...
 *     for (size_t i = 0; i < bbt_vocab_size(v); i++)
 *         ids = bbt_vocab_ids(v, i, &n);
 *     bbt_vocab_free(v);
 */
#ifndef BBT_VOCAB_H
#define BBT_VOCAB_H

#include <stddef.h>
#include <stdint.h>
#include "data/dataset.h"
#include "data/template.h"

struct bbt_vocab_params {
	size_t size;       /* K, candidates wanted (BDPL: 200); fewer if the texts lack them */
	size_t max_n;      /* longest n-gram, in words (3) */
	size_t min_count;  /* examples an n-gram must occur in to be ranked (2) */
};

struct bbt_vocab_params bbt_vocab_default_params(void);

typedef struct bbt_vocab bbt_vocab_t;

/* Rank the n-grams of every field of ds's examples (labels 0..n_labels-1)
 * and tokenize the best params->size of them with tok. The vocabulary may
 * be smaller than asked, even empty (the caller decides whether that is an
 * error). NULL in *out on failure. */
int bbt_vocab_build(const bbt_dataset_t *ds, size_t n_labels, const struct bbt_tokenizer *tok,
                    const struct bbt_vocab_params *params, bbt_vocab_t **out,
                    char *err, size_t errlen);
void bbt_vocab_free(bbt_vocab_t *v);

/* Candidates, best first. */
size_t bbt_vocab_size(const bbt_vocab_t *v);
/* The n-gram's words, space-separated, lowercased. */
const char *bbt_vocab_text(const bbt_vocab_t *v, size_t i);
/* Its token ids (n of them, n >= 1). */
const int32_t *bbt_vocab_ids(const bbt_vocab_t *v, size_t i, size_t *n);
/* Its score (largest PMI, nats), the label that gives it, and n(g). */
double bbt_vocab_score(const bbt_vocab_t *v, size_t i);
int bbt_vocab_label(const bbt_vocab_t *v, size_t i);
size_t bbt_vocab_count(const bbt_vocab_t *v, size_t i);
/* Most tokens of any candidate: L of them need at most L times this. */
size_t bbt_vocab_max_tokens(const bbt_vocab_t *v);

#endif /* BBT_VOCAB_H */
