/*
 * options.c - given key=value pairs and their resolution against a
 * plugin's option table.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "plugin/options.h"
#include "core/util.h"

/* ------------------------------------------------------------------ */
/* Given pairs */

static void kv_release(struct bbt_kv *kv)
{
	free(kv->key);
	free(kv->value);
	free(kv->origin);
}

int bbt_kvlist_set(bbt_kvlist_t *list, const char *key, const char *value, const char *origin)
{
	char *v = bbt_strdup(value), *o = bbt_strdup(origin ? origin : "");
	if (v == NULL || o == NULL)
		goto nomem;
	for (size_t i = 0; i < list->n; i++) {
		if (strcmp(list->items[i].key, key) == 0) {
			free(list->items[i].value);
			free(list->items[i].origin);
			list->items[i].value = v;
			list->items[i].origin = o;
			return BBT_OK;
		}
	}
	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 8;
		struct bbt_kv *items = realloc(list->items, cap * sizeof *items);
		if (items == NULL)
			goto nomem;
		list->items = items;
		list->cap = cap;
	}
	char *k = bbt_strdup(key);
	if (k == NULL)
		goto nomem;
	list->items[list->n++] = (struct bbt_kv){ k, v, o };
	return BBT_OK;
nomem:
	free(v);
	free(o);
	return BBT_ENOMEM;
}

const struct bbt_kv *bbt_kvlist_get(const bbt_kvlist_t *list, const char *key)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i].key, key) == 0)
			return &list->items[i];
	return NULL;
}

int bbt_kvlist_merge(bbt_kvlist_t *into, const bbt_kvlist_t *from)
{
	for (size_t i = 0; i < from->n; i++) {
		const struct bbt_kv *kv = &from->items[i];
		int rc = bbt_kvlist_set(into, kv->key, kv->value, kv->origin);
		if (rc < 0)
			return rc;
	}
	return BBT_OK;
}

void bbt_kvlist_clear(bbt_kvlist_t *list)
{
	for (size_t i = 0; i < list->n; i++)
		kv_release(&list->items[i]);
	free(list->items);
	*list = (bbt_kvlist_t){ 0 };
}

/* ------------------------------------------------------------------ */
/* Resolution */

struct resolved {
	const struct bbt_option_spec *spec;
	char *text;
	long i;
	double d;
};

struct bbt_options {
	size_t n;
	struct resolved *v;
};

static const struct bbt_option_spec *spec_find(const struct bbt_option_spec *spec, const char *key)
{
	for (; spec != NULL && spec->name != NULL; spec++)
		if (strcmp(spec->name, key) == 0)
			return spec;
	return NULL;
}

int bbt_options_declares(const struct bbt_option_spec *spec, const char *key)
{
	return spec_find(spec, key) != NULL;
}

static const char *type_word(enum bbt_option_type t)
{
	switch (t) {
	case BBT_OPT_INT: return "an integer";
	case BBT_OPT_DOUBLE: return "a number";
	case BBT_OPT_BOOL: return "true or false";
	case BBT_OPT_STRING: return "text";
	case BBT_OPT_CHOICE: return "one of";
	}
	return "a value";
}

/* Parse `text` as option `s`'s type into r; origin names where it came
 * from ("default" for the table's own default, which is checked too:
 * a bad default is the plugin's bug, and it is reported as such). */
static int parse_value(const char *plugin, const struct bbt_option_spec *s, const char *text,
                       const char *origin, struct resolved *r, char *err, size_t errlen)
{
	int bad = 0;
	switch (s->type) {
	case BBT_OPT_INT:
		bad = bbt_parse_long(text, &r->i) != 0;
		r->d = (double)r->i;
		break;
	case BBT_OPT_DOUBLE:
		bad = bbt_parse_double(text, &r->d) != 0;
		break;
	case BBT_OPT_BOOL: {
		int b = 0;
		bad = bbt_parse_bool(text, &b) != 0;
		r->i = b;
		break;
	}
	case BBT_OPT_STRING:
		break;
	case BBT_OPT_CHOICE:
		bad = !bbt_choice_valid(s->choices, text);
		break;
	default:
		return bbt_error(err, errlen, BBT_EINTERNAL, "%s: option '%s' has an unknown type %d",
		                 plugin, s->name, (int)s->type);
	}
	if (bad) {
		if (s->type == BBT_OPT_CHOICE)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: option %s=%s (%s): expected one of %s", plugin,
			                 s->name, text, origin, s->choices ? s->choices : "(none)");
		return bbt_error(err, errlen, BBT_EINVAL, "%s: option %s=%s (%s): expected %s", plugin,
		                 s->name, text, origin, type_word(s->type));
	}
	if ((s->type == BBT_OPT_INT || s->type == BBT_OPT_DOUBLE) && s->min < s->max &&
	    (r->d < s->min || r->d > s->max))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: option %s=%s (%s): expected a value in [%g, %g]", plugin,
		                 s->name, text, origin, s->min, s->max);
	r->text = bbt_strdup(text);
	return r->text ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
}

static int unknown_key(const struct bbt_option_spec *spec, const char *plugin,
                       const struct bbt_kv *kv, char *err, size_t errlen)
{
	char known[512] = "";
	size_t len = 0;
	for (const struct bbt_option_spec *s = spec; s != NULL && s->name != NULL; s++) {
		int w = snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", s->name);
		if (w < 0 || (size_t)w >= sizeof known - len)
			break;
		len += (size_t)w;
	}
	return bbt_error(err, errlen, BBT_EINVAL, "%s: unknown option '%s' (%s); %s%s", plugin,
	                 kv->key, kv->origin, len ? "known options: " : "it takes no options",
	                 known);
}

int bbt_options_resolve(const struct bbt_option_spec *spec, const char *plugin,
                        const bbt_kvlist_t *given, bbt_options_t **out,
                        char *err, size_t errlen)
{
	*out = NULL;
	for (size_t i = 0; given != NULL && i < given->n; i++)
		if (spec_find(spec, given->items[i].key) == NULL)
			return unknown_key(spec, plugin, &given->items[i], err, errlen);

	size_t n = 0;
	for (const struct bbt_option_spec *s = spec; s != NULL && s->name != NULL; s++)
		n++;
	bbt_options_t *opts = calloc(1, sizeof *opts);
	if (opts == NULL || (n > 0 && (opts->v = calloc(n, sizeof *opts->v)) == NULL)) {
		free(opts);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const struct bbt_option_spec *s = &spec[i];
		const struct bbt_kv *kv = given ? bbt_kvlist_get(given, s->name) : NULL;
		const char *text = kv ? kv->value : (s->def ? s->def : "");
		int rc = parse_value(plugin, s, text, kv ? kv->origin : "the plugin's default",
		                     &opts->v[i], err, errlen);
		opts->v[i].spec = s;
		opts->n = i + 1;
		if (rc < 0) {
			bbt_options_free(opts);
			return rc;
		}
	}
	*out = opts;
	return BBT_OK;
}

void bbt_options_free(bbt_options_t *opts)
{
	if (opts == NULL)
		return;
	for (size_t i = 0; i < opts->n; i++)
		free(opts->v[i].text);
	free(opts->v);
	free(opts);
}

static const struct resolved *lookup(const bbt_options_t *opts, const char *key)
{
	for (size_t i = 0; opts != NULL && i < opts->n; i++)
		if (strcmp(opts->v[i].spec->name, key) == 0)
			return &opts->v[i];
	bbt_log(BBT_LOG_ERROR, NULL, "internal: option '%s' is not declared by the plugin", key);
	return NULL;
}

long bbt_options_int(const bbt_options_t *opts, const char *key)
{
	const struct resolved *r = lookup(opts, key);
	return r ? r->i : 0;
}

double bbt_options_double(const bbt_options_t *opts, const char *key)
{
	const struct resolved *r = lookup(opts, key);
	return r ? r->d : 0.0;
}

int bbt_options_bool(const bbt_options_t *opts, const char *key)
{
	const struct resolved *r = lookup(opts, key);
	return r ? (int)r->i : 0;
}

const char *bbt_options_string(const bbt_options_t *opts, const char *key)
{
	const struct resolved *r = lookup(opts, key);
	return r ? r->text : "";
}

size_t bbt_options_count(const bbt_options_t *opts)
{
	return opts ? opts->n : 0;
}

const char *bbt_options_key(const bbt_options_t *opts, size_t i)
{
	return opts->v[i].spec->name;
}

const char *bbt_options_text(const bbt_options_t *opts, size_t i)
{
	return opts->v[i].text;
}
