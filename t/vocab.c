/*
 * t/vocab.c - the candidate vocabulary of discrete prompts: PMI ranking on
 * a tiny hand-made corpus whose order is worked out by hand below, the
 * tokenization of each candidate, and its failure modes.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/status.h>

#include "tap.h"
#include "data/vocab.h"

/* A fake tokenizer: one id per space-separated word (FNV-1a, 1000 ids from
 * 10), or, in `collapse` mode, id 7 for every word. */
static int collapse;

static int fake_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                         char *err, size_t errlen)
{
	(void)state;
	(void)err;
	(void)errlen;
	size_t count = 0;
	const char *s = text;
	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		uint32_t h = 2166136261u;
		while (*s && *s != ' ') {
			h ^= (unsigned char)*s++;
			h *= 16777619u;
		}
		if (count < cap)
			ids[count] = collapse ? 7 : (int32_t)(10 + h % 1000);
		count++;
	}
	*n = count;
	return 0;
}

static int failing_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                            char *err, size_t errlen)
{
	(void)state;
	(void)text;
	(void)ids;
	(void)cap;
	(void)n;
	snprintf(err, errlen, "tokenizer broke");
	return BBT_EINTERNAL;
}

static const struct bbt_backend_ops fake_ops = { .tokenize = fake_tokenize };
static const struct bbt_backend_ops failing_ops = { .tokenize = failing_tokenize };

/*
 * Six examples, N = 6: label 0 (N_0 = 4), label 1 (N_1 = 2). With
 * min_count 2 and n-grams up to 2 words, the n-grams in two or more
 * examples, counted once per example, and their PMI log(n(g,y) N / (n(g) N_y)):
 *
 *   dull      3 examples (0: 1, 1: 2)  y=1: log(2*6 / (3*2)) = log 2    = 0.693
 *   great     3 examples (0: 3)        y=0: log(3*6 / (3*4)) = log 1.5  = 0.405
 *   fun       2 examples (0: 2)        y=0: log(2*6 / (2*4)) = log 1.5
 *   movie     2 examples (0: 1, 1: 1)  y=1: log(1*6 / (2*2)) = log 1.5
 *   a great   2 examples (0: 2)        y=0: log(2*6 / (2*4)) = log 1.5
 *   a dull    2 examples (0: 1, 1: 1)  y=1: log(1*6 / (2*2)) = log 1.5
 *   a         4 examples (0: 3, 1: 1)  y=0: log(3*6 / (4*4)) = log 1.125 = 0.118
 *
 * "great" appears twice in example 2 but counts once; "great fun" is one
 * example only; the comma ends a segment, so "story great" is no bigram.
 * Ties at log 1.5: "great" first (3 examples), then the unigrams "fun",
 * "movie" (alphabetical), then the bigrams "a dull", "a great".
 */
static const char *const texts[6] = {
	"A great movie",
	"a great story, GREAT fun",
	"great acting!",
	"a dull start but fun",
	"a dull movie",
	"dull and slow",
};
static const int labels[6] = { 0, 0, 0, 0, 1, 1 };

int main(void)
{
	char err[BBT_ERRLEN];
	struct bbt_example ex[6];
	char *fields[6][1];
	for (int i = 0; i < 6; i++) {
		fields[i][0] = (char *)texts[i];
		ex[i].field = fields[i];
		ex[i].label = labels[i];
		ex[i].line = (size_t)i + 1;
	}
	bbt_dataset_t ds = { .path = (char *)"<hand>", .n_fields = 1, .n = 6, .ex = ex };
	struct bbt_tokenizer tok = { &fake_ops, NULL };

	plan(22);

	struct bbt_vocab_params p = bbt_vocab_default_params();
	ok(p.size == 200 && p.max_n == 3 && p.min_count == 2, "defaults: K 200, n <= 3, count >= 2");

	p.max_n = 2;
	bbt_vocab_t *v = NULL;
	int rc = bbt_vocab_build(&ds, 2, &tok, &p, &v, err, sizeof err);
	ok(rc == 0 && v != NULL, "build");
	const char *want[] = { "dull", "great", "fun", "movie", "a dull", "a great", "a" };
	size_t nw = sizeof want / sizeof want[0];
	is_int((long long)bbt_vocab_size(v), (long long)nw, "7 n-grams occur in 2+ examples");
	int order = bbt_vocab_size(v) == nw;
	for (size_t i = 0; order && i < nw; i++)
		order = strcmp(bbt_vocab_text(v, i), want[i]) == 0;
	ok(order, "PMI order: dull, great, fun, movie, a dull, a great, a");
	if (!order)
		for (size_t i = 0; i < bbt_vocab_size(v); i++)
			diag("  %zu: %s %.4f (%zu)", i, bbt_vocab_text(v, i), bbt_vocab_score(v, i),
			     bbt_vocab_count(v, i));
	is_double(bbt_vocab_score(v, 0), log(2.0), 1e-12, "dull: PMI log 2");
	is_int(bbt_vocab_label(v, 0), 1, "dull: label 1");
	is_int((long long)bbt_vocab_count(v, 0), 3, "dull: in 3 examples");
	is_double(bbt_vocab_score(v, 1), log(1.5), 1e-12, "great: PMI log 1.5");
	is_int((long long)bbt_vocab_count(v, 1), 3, "great: counted once per example");
	is_int(bbt_vocab_label(v, 3), 1, "movie: label 1");
	is_double(bbt_vocab_score(v, 6), log(1.125), 1e-12, "a: PMI log 1.125");
	size_t n = 0;
	const int32_t *ids = bbt_vocab_ids(v, 4, &n);
	ok(n == 2 && ids != NULL && ids[0] != ids[1], "a bigram is two tokens");
	is_int((long long)bbt_vocab_max_tokens(v), 2, "longest candidate: 2 tokens");
	ok(bbt_vocab_text(v, 7) == NULL && bbt_vocab_ids(v, 7, &n) == NULL && n == 0,
	   "out of range: NULL");
	bbt_vocab_free(v);

	/* K smaller than what is available: the best K. */
	p.size = 3;
	rc = bbt_vocab_build(&ds, 2, &tok, &p, &v, err, sizeof err);
	ok(rc == 0 && bbt_vocab_size(v) == 3 && strcmp(bbt_vocab_text(v, 2), "fun") == 0,
	   "size 3: dull, great, fun");
	bbt_vocab_free(v);

	/* Trigrams and min_count 1: a single occurrence becomes rankable. */
	p.size = 200;
	p.max_n = 3;
	p.min_count = 1;
	rc = bbt_vocab_build(&ds, 2, &tok, &p, &v, err, sizeof err);
	int has_tri = 0;
	for (size_t i = 0; i < bbt_vocab_size(v); i++)
		has_tri |= strcmp(bbt_vocab_text(v, i), "a dull start") == 0;
	ok(rc == 0 && has_tri && bbt_vocab_max_tokens(v) == 3, "min_count 1, n <= 3: trigrams too");
	ok(strcmp(bbt_vocab_text(v, 0), "and") == 0 && fabs(bbt_vocab_score(v, 0) - log(3.0)) < 1e-12,
	   "the rare-event bias: a word seen once in label 1 tops the list (log 3)");
	bbt_vocab_free(v);

	/* A tokenizer that maps distinct n-grams to the same tokens: the
	 * repeats are dropped, the best-ranked one kept. */
	collapse = 1;
	p = bbt_vocab_default_params();
	p.max_n = 2;
	rc = bbt_vocab_build(&ds, 2, &tok, &p, &v, err, sizeof err);
	ok(rc == 0 && bbt_vocab_size(v) == 2 && strcmp(bbt_vocab_text(v, 0), "dull") == 0 &&
	   strcmp(bbt_vocab_text(v, 1), "a dull") == 0,
	   "same tokens: only the first unigram and the first bigram remain");
	bbt_vocab_free(v);
	collapse = 0;

	/* Failures */
	struct bbt_tokenizer bad = { &failing_ops, NULL };
	v = (bbt_vocab_t *)&ds;
	rc = bbt_vocab_build(&ds, 2, &bad, &p, &v, err, sizeof err);
	ok(rc == BBT_EINTERNAL && v == NULL, "a tokenizer error is passed on, nothing returned");
	like(err, "tokenizer broke", "with the tokenizer's message");
	rc = bbt_vocab_build(&ds, 1, &tok, &p, &v, err, sizeof err);
	ok(rc == BBT_EINVAL && v == NULL, "a label outside 0..n_labels-1 is refused");
	like(err, "label 1 of 1", "message");

	bbt_vocab_free(NULL);
	return done_testing();
}
