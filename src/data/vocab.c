/*
 * vocab.c - the candidate vocabulary of discrete prompts: n-grams ranked
 * by PMI with the labels (see vocab.h).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "data/vocab.h"

struct cand {
	char *text;
	size_t words;
	size_t count;          /* examples containing it */
	size_t last;           /* last example counted + 1; 0: none */
	size_t *per_label;     /* n_labels counts */
	double score;
	int label;
};

struct entry {
	char *text;
	int32_t *ids;
	size_t n_ids;
	double score;
	int label;
	size_t count;
};

struct bbt_vocab {
	size_t n;
	struct entry *e;
	size_t max_tokens;
};

struct bbt_vocab_params bbt_vocab_default_params(void)
{
	struct bbt_vocab_params p = {
		.size = 200,      /* BDPL's search space K */
		.max_n = 3,       /* words and short phrases, as BDPL's n-gram lists */
		.min_count = 2,   /* seen once is not evidence of association */
	};
	return p;
}

/* ------------------------------------------------------------------ */
/* Counting: an open-addressing table of n-gram text -> candidate. */

struct table {
	struct cand *c;
	size_t n, cap;        /* candidates */
	size_t *slot;         /* index + 1, 0 empty */
	size_t mask;
	size_t n_labels;
};

static void table_clear(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->c[i].text);
		free(t->c[i].per_label);
	}
	free(t->c);
	free(t->slot);
}

static int table_grow(struct table *t)
{
	size_t size = t->mask ? 2 * (t->mask + 1) : 1024;
	size_t *slot = calloc(size, sizeof *slot);
	if (slot == NULL)
		return BBT_ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const char *s = t->c[i].text;
		size_t h = (size_t)bbt_hash64(s, strlen(s), BBT_HASH64_INIT) & (size_t)(size - 1);
		while (slot[h] != 0)
			h = (h + 1) & (size - 1);
		slot[h] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->mask = size - 1;
	return BBT_OK;
}

/* Count n-gram s[0..len) once for example `ex` with label `label`. */
static int table_add(struct table *t, const char *s, size_t len, size_t words, size_t ex,
                     int label)
{
	if (2 * (t->n + 1) > t->mask + 1 && table_grow(t) < 0)
		return BBT_ENOMEM;
	size_t h = (size_t)bbt_hash64(s, len, BBT_HASH64_INIT) & t->mask;
	while (t->slot[h] != 0) {
		struct cand *c = &t->c[t->slot[h] - 1];
		if (strncmp(c->text, s, len) == 0 && c->text[len] == '\0') {
			if (c->last != ex + 1) {
				c->last = ex + 1;
				c->count++;
				c->per_label[label]++;
			}
			return BBT_OK;
		}
		h = (h + 1) & t->mask;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct cand *c = realloc(t->c, cap * sizeof *c);
		if (c == NULL)
			return BBT_ENOMEM;
		t->c = c;
		t->cap = cap;
	}
	struct cand *c = &t->c[t->n];
	memset(c, 0, sizeof *c);
	c->text = bbt_strndup(s, len);
	c->per_label = calloc(t->n_labels, sizeof *c->per_label);
	if (c->text == NULL || c->per_label == NULL) {
		free(c->text);
		free(c->per_label);
		return BBT_ENOMEM;
	}
	c->words = words;
	c->count = 1;
	c->last = ex + 1;
	c->per_label[label] = 1;
	t->slot[h] = ++t->n;
	return BBT_OK;
}

static int is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80;
}

/* The n-grams of one text. `buf` holds the lowercased segment with single
 * spaces between words; `starts` the offset of each word in it. */
static int count_text(struct table *t, const char *text, size_t max_n, size_t ex, int label,
                      char *buf, size_t *starts)
{
	const char *s = text;
	while (*s != '\0') {
		/* one segment: words separated by whitespace only */
		size_t nw = 0, len = 0;
		for (;;) {
			while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
				s++;
			if (!is_word_byte((unsigned char)*s))
				break;
			if (nw > 0)
				buf[len++] = ' ';
			starts[nw++] = len;
			while (is_word_byte((unsigned char)*s)) {
				char c = *s++;
				buf[len++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
			}
		}
		for (size_t i = 0; i < nw; i++) {
			for (size_t n = 1; n <= max_n && i + n <= nw; n++) {
				size_t end = i + n < nw ? starts[i + n] - 1 : len;
				int rc = table_add(t, buf + starts[i], end - starts[i], n, ex, label);
				if (rc < 0)
					return rc;
			}
		}
		if (*s != '\0' && !is_word_byte((unsigned char)*s))
			s++;   /* the punctuation (or other) byte that ended the segment */
	}
	return BBT_OK;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = *(const struct cand *const *)a, *y = *(const struct cand *const *)b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->words != y->words)
		return x->words < y->words ? -1 : 1;
	return strcmp(x->text, y->text);
}

/* ------------------------------------------------------------------ */

void bbt_vocab_free(bbt_vocab_t *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->e[i].text);
		free(v->e[i].ids);
	}
	free(v->e);
	free(v);
}

static int same_ids(const struct entry *e, const int32_t *ids, size_t n)
{
	return e->n_ids == n && memcmp(e->ids, ids, n * sizeof *ids) == 0;
}

int bbt_vocab_build(const bbt_dataset_t *ds, size_t n_labels, const struct bbt_tokenizer *tok,
                    const struct bbt_vocab_params *p, bbt_vocab_t **out, char *err,
                    size_t errlen)
{
	*out = NULL;
	if (n_labels == 0 || p->max_n == 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "candidate vocabulary: %zu labels, n-grams of up to %zu words",
		                 n_labels, p->max_n);
	struct table t = { .n_labels = n_labels };
	size_t *n_y = calloc(n_labels, sizeof *n_y);
	size_t longest = 1;
	for (size_t x = 0; x < ds->n; x++)
		for (size_t f = 0; f < ds->n_fields; f++) {
			size_t l = strlen(ds->ex[x].field[f]) + 1;
			longest = l > longest ? l : longest;
		}
	char *buf = malloc(longest);
	size_t *starts = malloc(longest * sizeof *starts);
	int rc = n_y && buf && starts ? BBT_OK : BBT_ENOMEM;
	for (size_t x = 0; rc == BBT_OK && x < ds->n; x++) {
		int y = ds->ex[x].label;
		if (y < 0 || (size_t)y >= n_labels) {
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "candidate vocabulary: example %zu has label %d of %zu", x + 1, y,
			               n_labels);
			break;
		}
		n_y[y]++;
		for (size_t f = 0; rc == BBT_OK && f < ds->n_fields; f++)
			rc = count_text(&t, ds->ex[x].field[f], p->max_n, x, y, buf, starts);
	}
	free(buf);
	free(starts);

	/* Score, filter, rank. */
	struct cand **rank = NULL;
	size_t n_rank = 0;
	if (rc == BBT_OK && (rank = malloc((t.n ? t.n : 1) * sizeof *rank)) == NULL)
		rc = BBT_ENOMEM;
	for (size_t i = 0; rc == BBT_OK && i < t.n; i++) {
		struct cand *c = &t.c[i];
		if (c->count < p->min_count)
			continue;
		c->score = -HUGE_VAL;
		for (size_t y = 0; y < n_labels; y++) {
			if (c->per_label[y] == 0)
				continue;
			/* Integer products first: equal ratios give equal doubles, so
			 * ties are exact and the tie-breaks apply. */
			double ratio = (double)(c->per_label[y] * ds->n) / (double)(c->count * n_y[y]);
			double pmi = log(ratio);
			if (pmi > c->score) {
				c->score = pmi;
				c->label = (int)y;
			}
		}
		rank[n_rank++] = c;
	}
	if (rc == BBT_OK)
		qsort(rank, n_rank, sizeof *rank, cand_cmp);

	bbt_vocab_t *v = rc == BBT_OK ? calloc(1, sizeof *v) : NULL;
	size_t want = p->size < n_rank ? p->size : n_rank;
	if (rc == BBT_OK && (v == NULL || (v->e = calloc(want ? want : 1, sizeof *v->e)) == NULL))
		rc = BBT_ENOMEM;
	int32_t *ids = NULL;
	size_t cap = 0;
	for (size_t r = 0; rc == BBT_OK && r < n_rank && v->n < want; r++) {
		char *spaced = bbt_asprintf(" %s", rank[r]->text);
		size_t n = 0;
		if (spaced == NULL) {
			rc = BBT_ENOMEM;
			break;
		}
		rc = tok->ops->tokenize(tok->state, spaced, NULL, 0, &n, err, errlen);
		if (rc == BBT_OK && n > cap) {
			int32_t *grown = realloc(ids, n * sizeof *ids);
			if (grown == NULL)
				rc = BBT_ENOMEM;
			else {
				ids = grown;
				cap = n;
			}
		}
		size_t got = 0;
		if (rc == BBT_OK && n > 0)
			rc = tok->ops->tokenize(tok->state, spaced, ids, cap, &got, err, errlen);
		free(spaced);
		if (rc < 0)
			break;
		if (n == 0 || got != n)
			continue;
		int dup = 0;
		for (size_t k = 0; k < v->n && !dup; k++)
			dup = same_ids(&v->e[k], ids, n);
		if (dup)
			continue;
		struct entry *e = &v->e[v->n];
		e->text = bbt_strdup(rank[r]->text);
		e->ids = malloc(n * sizeof *e->ids);
		if (e->text == NULL || e->ids == NULL) {
			free(e->text);
			free(e->ids);
			rc = BBT_ENOMEM;
			break;
		}
		memcpy(e->ids, ids, n * sizeof *ids);
		e->n_ids = n;
		e->score = rank[r]->score;
		e->label = rank[r]->label;
		e->count = rank[r]->count;
		v->max_tokens = n > v->max_tokens ? n : v->max_tokens;
		v->n++;
	}
	free(ids);
	free(rank);
	free(n_y);
	table_clear(&t);
	if (rc < 0) {
		if (rc == BBT_ENOMEM)
			bbt_error(err, errlen, rc, "out of memory building the candidate vocabulary");
		bbt_vocab_free(v);
		return rc;
	}
	*out = v;
	return BBT_OK;
}

size_t bbt_vocab_size(const bbt_vocab_t *v)
{
	return v ? v->n : 0;
}

const char *bbt_vocab_text(const bbt_vocab_t *v, size_t i)
{
	return v && i < v->n ? v->e[i].text : NULL;
}

const int32_t *bbt_vocab_ids(const bbt_vocab_t *v, size_t i, size_t *n)
{
	if (v == NULL || i >= v->n) {
		*n = 0;
		return NULL;
	}
	*n = v->e[i].n_ids;
	return v->e[i].ids;
}

double bbt_vocab_score(const bbt_vocab_t *v, size_t i)
{
	return v && i < v->n ? v->e[i].score : NAN;
}

int bbt_vocab_label(const bbt_vocab_t *v, size_t i)
{
	return v && i < v->n ? v->e[i].label : -1;
}

size_t bbt_vocab_count(const bbt_vocab_t *v, size_t i)
{
	return v && i < v->n ? v->e[i].count : 0;
}

size_t bbt_vocab_max_tokens(const bbt_vocab_t *v)
{
	return v ? v->max_tokens : 0;
}
