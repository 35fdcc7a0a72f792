/*
 * template.c - templates, verbalizers and truncation.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "data/template.h"
#include "core/util.h"

enum item_kind { ITEM_TEXT, ITEM_FIELD, ITEM_MASK };

struct item {
	enum item_kind kind;
	char *text;        /* ITEM_TEXT: the literal, leading space kept */
	int field;         /* ITEM_FIELD: index into the task's fields */
	int space_before;  /* ITEM_FIELD: tokenize as " " + value */
};

struct bbt_template {
	size_t n;
	struct item *items;
	int mask_item;     /* index of the mask item */
	char *task_path;
};

void bbt_template_free(bbt_template_t *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i].text);
	free(t->items);
	free(t->task_path);
	free(t);
}

static int push_item(bbt_template_t *t, struct item it)
{
	struct item *items = realloc(t->items, (t->n + 1) * sizeof *items);
	if (items == NULL)
		return BBT_ENOMEM;
	t->items = items;
	t->items[t->n++] = it;
	return BBT_OK;
}

/* Literal text [s, e): trailing whitespace moves to the next item. */
static int push_text(bbt_template_t *t, const char *s, const char *e, int *space_after)
{
	const char *end = e;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*space_after = end < e;
	if (end == s)
		return BBT_OK;
	char *text = bbt_strndup(s, (size_t)(end - s));
	if (text == NULL)
		return BBT_ENOMEM;
	int rc = push_item(t, (struct item){ ITEM_TEXT, text, -1, 0 });
	if (rc < 0)
		free(text);
	return rc;
}

int bbt_template_parse(const bbt_task_t *task, bbt_template_t **out, char *err, size_t errlen)
{
	*out = NULL;
	bbt_template_t *t = calloc(1, sizeof *t);
	if (t == NULL || (t->task_path = bbt_strdup(task->path ? task->path : task->name)) == NULL) {
		free(t);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	t->mask_item = -1;
	const char *s = task->template_text, *lit = s;
	int rc = BBT_OK, space = 0;
	while (rc == BBT_OK && *s != '\0') {
		if (*s != '{') {
			s++;
			continue;
		}
		const char *close = strchr(s, '}');
		if (close == NULL) {
			rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: template: '{' without '}'",
			               t->task_path);
			break;
		}
		if ((rc = push_text(t, lit, s, &space)) < 0)
			break;
		char name[64];
		size_t len = (size_t)(close - s - 1);
		snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1),
		         s + 1);
		if (strcmp(name, "mask") == 0) {
			if (t->mask_item >= 0) {
				rc = bbt_error(err, errlen, BBT_EFORMAT,
				               "%s: template has {mask} more than once", t->task_path);
				break;
			}
			t->mask_item = (int)t->n;
			rc = push_item(t, (struct item){ ITEM_MASK, NULL, -1, space });
		} else {
			int f = bbt_task_field_index(task, name);
			if (f < 0) {
				rc = bbt_error(err, errlen, BBT_EFORMAT,
				               "%s: template field {%s} is not one of the task's fields",
				               t->task_path, name);
				break;
			}
			rc = push_item(t, (struct item){ ITEM_FIELD, NULL, f, space });
		}
		s = lit = close + 1;
	}
	if (rc == BBT_OK)
		rc = push_text(t, lit, s, &space);
	if (rc == BBT_OK && t->mask_item < 0)
		rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: template has no {mask}", t->task_path);
	if (rc < 0) {
		if (rc == BBT_ENOMEM)
			bbt_error(err, errlen, rc, "out of memory");
		bbt_template_free(t);
		return rc;
	}
	*out = t;
	return BBT_OK;
}

/* Tokens of one string into a growable array. */
struct toks {
	int32_t *v;
	size_t n, cap;
};

static int tokenize_into(const struct bbt_tokenizer *tok, const char *text, struct toks *tk,
                         char *err, size_t errlen)
{
	size_t n = 0;
	int rc = tok->ops->tokenize(tok->state, text, NULL, 0, &n, err, errlen);
	if (rc < 0)
		return rc;
	if (n > tk->cap) {
		int32_t *v = realloc(tk->v, n * sizeof *v);
		if (v == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		tk->v = v;
		tk->cap = n;
	}
	tk->n = 0;
	if (n > 0) {
		size_t got = 0;
		rc = tok->ops->tokenize(tok->state, text, tk->v, tk->cap, &got, err, errlen);
		if (rc < 0)
			return rc;
		if (got != n)
			return bbt_error(err, errlen, BBT_EINTERNAL,
			                 "backend tokenizer gave %zu then %zu tokens for one text", n, got);
	}
	tk->n = n;
	return BBT_OK;
}

/* A field's value as the model should see it: trailing white space cut
 * (GLUE SST-2 sentences end in a space), one leading space when the
 * template has one before the field. */
static int tokenize_field(const struct bbt_tokenizer *tok, const struct item *it,
                          const char *value, struct toks *tk, char *err, size_t errlen)
{
	size_t vl = strlen(value);
	while (vl > 0 && isspace((unsigned char)value[vl - 1]))
		vl--;
	char *spaced = bbt_asprintf("%s%.*s", it->space_before ? " " : "", (int)vl, value);
	if (spaced == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = tokenize_into(tok, spaced, tk, err, errlen);
	free(spaced);
	return rc;
}

struct enc_builder {
	bbt_encoded_t *e;
	size_t cap_ids;
};

static int append_ids(struct enc_builder *b, const int32_t *ids, size_t n)
{
	bbt_encoded_t *e = b->e;
	size_t used = e->offset[e->n_seq + 1];
	if (used + n > b->cap_ids) {
		size_t cap = b->cap_ids ? b->cap_ids : 1024;
		while (cap < used + n)
			cap *= 2;
		int32_t *v = realloc(e->ids, cap * sizeof *v);
		if (v == NULL)
			return BBT_ENOMEM;
		e->ids = v;
		b->cap_ids = cap;
	}
	memcpy(e->ids + used, ids, n * sizeof *ids);
	e->offset[e->n_seq + 1] += n;
	return BBT_OK;
}

/* Render one example: the items' tokens (after truncation) between the
 * special tokens. `tk` holds one token array per item. */
static int render_one(const bbt_template_t *t, const struct bbt_encode_params *p,
                      struct toks *tk, struct enc_builder *b, int label,
                      size_t example_no, char *err, size_t errlen)
{
	bbt_encoded_t *e = b->e;
	size_t last_item = p->causal ? (size_t)t->mask_item : t->n;  /* causal: stop at mask */
	size_t specials = (p->bos_id >= 0) + (!p->causal && p->eos_id >= 0);
	size_t total = specials + p->n_prefix;
	for (size_t i = 0; i < last_item; i++)
		total += t->items[i].kind == ITEM_MASK ? 1 : tk[i].n;

	size_t limit = p->max_len > p->prompt_len ? p->max_len - p->prompt_len : 0;
	size_t dropped = 0;
	while (total > limit) {
		size_t longest = SIZE_MAX, best = 0;
		for (size_t i = 0; i < last_item; i++) {
			if (t->items[i].kind == ITEM_FIELD && tk[i].n > best) {
				best = tk[i].n;
				longest = i;
			}
		}
		if (longest == SIZE_MAX)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: example %zu: the template alone needs %zu positions, the "
			                 "model has %zu (%zu taken by the prompt)",
			                 t->task_path, example_no + 1, total, p->max_len, p->prompt_len);
		tk[longest].n--;
		total--;
		dropped++;
	}

	size_t seq = e->n_seq;
	e->offset[seq + 1] = e->offset[seq];
	e->prompt_pos[seq] = 0;
	if (p->bos_id >= 0) {
		if (append_ids(b, &p->bos_id, 1) < 0)
			return BBT_ENOMEM;
		e->prompt_pos[seq] = 1;
	}
	if (p->n_prefix > 0 && append_ids(b, p->prefix, p->n_prefix) < 0)
		return BBT_ENOMEM;
	for (size_t i = 0; i < last_item; i++) {
		if (t->items[i].kind == ITEM_MASK) {
			e->predict_pos[seq] = e->offset[seq + 1] - e->offset[seq];
			if (append_ids(b, &p->mask_id, 1) < 0)
				return BBT_ENOMEM;
		} else if (append_ids(b, tk[i].v, tk[i].n) < 0) {
			return BBT_ENOMEM;
		}
	}
	if (!p->causal && p->eos_id >= 0 && append_ids(b, &p->eos_id, 1) < 0)
		return BBT_ENOMEM;
	size_t len = e->offset[seq + 1] - e->offset[seq];
	if (p->causal) {
		if (len == 0)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: example %zu renders to no tokens before {mask}",
			                 t->task_path, example_no + 1);
		e->predict_pos[seq] = len - 1;
	}
	if (len > e->max_seq_len)
		e->max_seq_len = len;
	e->labels[seq] = label;
	e->n_truncated += dropped > 0;
	e->tokens_dropped += dropped;
	e->n_seq++;
	return BBT_OK;
}

int bbt_template_encode(const bbt_template_t *t, const struct bbt_tokenizer *tok,
                        const struct bbt_encode_params *p, const bbt_dataset_t *ds,
                        bbt_encoded_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!p->causal && p->mask_id < 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: the model has no mask token, and is not causal", t->task_path);
	bbt_encoded_t *e = calloc(1, sizeof *e);
	struct toks *tk = calloc(t->n, sizeof *tk);
	size_t n = ds->n;
	if (e != NULL) {
		e->offset = calloc(n + 1, sizeof *e->offset);
		e->predict_pos = calloc(n ? n : 1, sizeof *e->predict_pos);
		e->prompt_pos = calloc(n ? n : 1, sizeof *e->prompt_pos);
		e->labels = calloc(n ? n : 1, sizeof *e->labels);
	}
	struct enc_builder b = { e, 0 };
	int rc = BBT_OK;
	if (e == NULL || tk == NULL || !e->offset || !e->predict_pos || !e->prompt_pos ||
	    !e->labels)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");

	/* Literal items tokenize the same for every example: do them once. */
	for (size_t i = 0; rc == BBT_OK && i < t->n; i++)
		if (t->items[i].kind == ITEM_TEXT)
			rc = tokenize_into(tok, t->items[i].text, &tk[i], err, errlen);
	struct toks *lit_copy = calloc(t->n, sizeof *lit_copy);  /* lengths before truncation */
	if (rc == BBT_OK && lit_copy == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; rc == BBT_OK && i < t->n; i++)
		lit_copy[i].n = tk[i].n;

	for (size_t x = 0; rc == BBT_OK && x < n; x++) {
		const struct bbt_example *ex = &ds->ex[x];
		for (size_t i = 0; rc == BBT_OK && i < t->n; i++) {
			const struct item *it = &t->items[i];
			if (it->kind == ITEM_TEXT)
				tk[i].n = lit_copy[i].n;
			else if (it->kind == ITEM_FIELD)
				rc = tokenize_field(tok, it, ex->field[it->field], &tk[i], err, errlen);
		}
		if (rc == BBT_OK)
			rc = render_one(t, p, tk, &b, ex->label, x, err, errlen);
		if (rc == BBT_ENOMEM)
			bbt_error(err, errlen, rc, "out of memory");
	}
	for (size_t i = 0; tk != NULL && i < t->n; i++)
		free(tk[i].v);
	free(tk);
	free(lit_copy);
	if (rc < 0) {
		bbt_encoded_free(e);
		return rc;
	}
	*out = e;
	return BBT_OK;
}

void bbt_encoded_free(bbt_encoded_t *e)
{
	if (e == NULL)
		return;
	free(e->ids);
	free(e->offset);
	free(e->predict_pos);
	free(e->prompt_pos);
	free(e->labels);
	free(e);
}

void bbt_encoded_batch(const bbt_encoded_t *e, size_t first, size_t n, struct bbt_batch *b)
{
	memset(b, 0, sizeof *b);
	b->n_seq = n;
	b->ids = e->ids;
	b->offset = e->offset + first;
	b->predict_pos = e->predict_pos + first;
	b->prompt_pos = e->prompt_pos + first;
}

int bbt_template_demonstration(const bbt_template_t *t, const struct bbt_tokenizer *tok,
                               const struct bbt_example *ex, int32_t label_id, int32_t **ids,
                               size_t *n, size_t *cap, char *err, size_t errlen)
{
	struct toks tk = { 0 };
	int rc = BBT_OK;
	for (size_t i = 0; rc == BBT_OK && i < t->n; i++) {
		const struct item *it = &t->items[i];
		if (it->kind == ITEM_MASK) {
			tk.n = 0;
			if (tk.cap == 0 && (tk.v = malloc(sizeof *tk.v)) != NULL)
				tk.cap = 1;
			if (tk.v == NULL) {
				rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
				break;
			}
			tk.v[tk.n++] = label_id;
		} else if (it->kind == ITEM_TEXT) {
			rc = tokenize_into(tok, it->text, &tk, err, errlen);
		} else {
			rc = tokenize_field(tok, it, ex->field[it->field], &tk, err, errlen);
		}
		if (rc == BBT_OK && *n + tk.n > *cap) {
			size_t c = *cap ? *cap : 256;
			while (c < *n + tk.n)
				c *= 2;
			int32_t *v = realloc(*ids, c * sizeof *v);
			if (v == NULL)
				rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			else {
				*ids = v;
				*cap = c;
			}
		}
		if (rc == BBT_OK) {
			memcpy(*ids + *n, tk.v, tk.n * sizeof *tk.v);
			*n += tk.n;
		}
	}
	free(tk.v);
	return rc;
}

int bbt_template_label_ids(const bbt_task_t *task, const struct bbt_tokenizer *tok,
                           int32_t *ids, char *err, size_t errlen)
{
	struct toks tk = { 0 };
	int rc = BBT_OK;
	for (size_t l = 0; rc == BBT_OK && l < task->n_labels; l++) {
		char *spaced = bbt_asprintf(" %s", task->label_words[l]);
		if (spaced == NULL) {
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			break;
		}
		rc = tokenize_into(tok, spaced, &tk, err, errlen);
		free(spaced);
		if (rc == BBT_OK && tk.n != 1)
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "%s: label word \"%s\" is not one token in this vocabulary "
			               "(%zu tokens)",
			               task->path ? task->path : task->name, task->label_words[l], tk.n);
		if (rc == BBT_OK)
			ids[l] = tk.v[0];
	}
	for (size_t a = 0; rc == BBT_OK && a < task->n_labels; a++)
		for (size_t c = a + 1; c < task->n_labels; c++)
			if (ids[a] == ids[c])
				rc = bbt_error(err, errlen, BBT_EINVAL,
				               "%s: label words \"%s\" and \"%s\" are the same token",
				               task->path ? task->path : task->name,
				               task->label_words[a], task->label_words[c]);
	free(tk.v);
	return rc;
}
