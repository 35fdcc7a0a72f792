/*
 * toy.c - the built-in demo data of task "toy" (generator: toy).
 *
 * Short review-like sentences: mostly filler, one to three words of the
 * label's polarity and, three times in ten, one word of the opposite
 * polarity. The vocabulary is fixed and shared with the synthetic backend,
 * which knows each word's polarity: change a list here and the demo's
 * accuracy changes there. A classifier that counts polarity words is right
 * about 92% of the time (it can only tie, never lose, so the ceiling stays
 * below 100% and the demo has something to optimise).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "core/rng.h"
#include "core/util.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const positive[] = {
	"good", "great", "excellent", "wonderful", "superb", "brilliant", "delightful",
	"charming", "moving", "enjoyable", "beautiful", "fun", "fantastic", "touching", "funny",
};
static const char *const negative[] = {
	"bad", "terrible", "awful", "boring", "dull", "poor", "weak", "mediocre", "tedious",
	"annoying", "painful", "messy", "bland", "clumsy", "forgettable",
};
static const char *const filler[] = {
	"the", "a", "this", "film", "movie", "story", "plot", "acting", "cast", "director",
	"script", "it", "is", "was", "and", "but", "with", "of", "to", "in", "its", "ending",
	"scenes", "characters", "music", "pace", "performance", "quite", "really", "very",
	"rather", "somewhat", "just",
};

enum { MIN_WORDS = 6, MAX_WORDS = 14 };

static char *toy_sentence(bbt_rng_t *rng, int label)
{
	const char *words[MAX_WORDS];
	int used[MAX_WORDS] = { 0 };
	size_t len = MIN_WORDS + (size_t)bbt_rng_uint(rng, MAX_WORDS - MIN_WORDS + 1);
	/* Mostly one sentiment word, sometimes two or three (1/2, 1/3, 1/6). */
	double u = bbt_rng_uniform(rng);
	size_t n_same = u < 0.5 ? 1 : u < 5.0 / 6.0 ? 2 : 3;
	size_t n_opp = bbt_rng_uniform(rng) < 0.3 ? 1 : 0;
	const char *const *same = label ? positive : negative;
	const char *const *opp = label ? negative : positive;

	for (size_t i = 0; i < len; i++)
		words[i] = filler[bbt_rng_uint(rng, N_OF(filler))];
	for (size_t s = 0; s < n_same + n_opp; s++) {
		size_t pos;
		do
			pos = (size_t)bbt_rng_uint(rng, len);
		while (used[pos]);
		used[pos] = 1;
		/* Both lists have 15 words. */
		words[pos] = (s < n_same ? same : opp)[bbt_rng_uint(rng, N_OF(positive))];
	}

	size_t total = 0;
	for (size_t i = 0; i < len; i++)
		total += strlen(words[i]) + 1;
	char *s = malloc(total);
	if (s == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		size_t l = strlen(words[i]);
		if (i > 0)
			s[o++] = ' ';
		memcpy(s + o, words[i], l);
		o += l;
	}
	s[o] = '\0';
	return s;
}

bbt_dataset_t *bbt_toy_generate(size_t n, uint32_t seed)
{
	bbt_rng_t *rng = bbt_rng_alloc(seed);
	bbt_dataset_t *ds = calloc(1, sizeof *ds);
	if (rng == NULL || ds == NULL)
		goto fail;
	ds->n_fields = 1;
	if ((ds->path = bbt_strdup("<toy>")) == NULL)
		goto fail;
	if ((ds->ex = calloc(n ? n : 1, sizeof *ds->ex)) == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct bbt_example *e = &ds->ex[i];
		if ((e->field = calloc(1, sizeof *e->field)) == NULL)
			goto fail;
		ds->n = i + 1; /* so that bbt_dataset_free releases it */
		e->label = (int)bbt_rng_uint(rng, 2);
		e->line = 0;
		if ((e->field[0] = toy_sentence(rng, e->label)) == NULL)
			goto fail;
	}
	bbt_rng_free(rng);
	return ds;
fail:
	bbt_rng_free(rng);
	bbt_dataset_free(ds);
	return NULL;
}
