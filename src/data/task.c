/*
 * task.c - load a task YAML file (see task.h for the schema).
 *
 * libyaml's document API builds the whole node tree first; the loader then
 * walks it against the schema, so every error can point at the line of the
 * offending node (start_mark.line + 1). The file is checked for UTF-8 before
 * libyaml sees it: libyaml's own reader error gives only a byte offset and a
 * terse "invalid leading UTF-8 octet".
 *
 * Column specs: a plain scalar that is an integer (`0`, `-1`) is a column
 * index; anything else, and any quoted scalar (`"1"`), is a header name or
 * JSON key. Quoting is the way to name a header column that looks like a
 * number.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "data/task.h"
#include "core/util.h"

struct ctx {
	const char *path;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static yaml_node_t *get_node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static int oom(struct ctx *c)
{
	return bbt_error(c->err, c->errlen, BBT_ENOMEM, "%s: out of memory", c->path);
}

/* A scalar's text as a malloc'ed string. A value with an embedded NUL is
 * refused: every consumer treats these as C strings. */
static int scalar_dup(struct ctx *c, yaml_node_t *n, const char *what, char **out)
{
	*out = NULL;
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s: expected a single value",
		                 c->path, n ? line_of(n) : 1, what);
	const char *v = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (strlen(v) != len)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s: NUL byte in value",
		                 c->path, line_of(n), what);
	*out = bbt_strndup(v, len);
	return *out ? BBT_OK : oom(c);
}

/* A non-empty scalar. */
static int text_dup(struct ctx *c, yaml_node_t *n, const char *what, char **out)
{
	int rc = scalar_dup(c, n, what, out);
	if (rc < 0)
		return rc;
	if ((*out)[0] == '\0') {
		free(*out);
		*out = NULL;
		return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s: expected a non-empty value",
		                 c->path, line_of(n), what);
	}
	return BBT_OK;
}

static int is_ident(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static void free_strv(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A sequence of scalars (`what: [a, b]`) into a malloc'ed string vector. */
static int scalar_list(struct ctx *c, yaml_node_t *n, const char *what, const char *expected,
                       char ***out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s: expected %s",
		                 c->path, line_of(n), what, expected);
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	char **v = calloc(cnt ? cnt : 1, sizeof *v);
	if (v == NULL)
		return oom(c);
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = get_node(c, n->data.sequence.items.start[i]);
		if (it == NULL || it->type != YAML_SCALAR_NODE) {
			free_strv(v, cnt);
			return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s: expected %s",
			                 c->path, it ? line_of(it) : line_of(n), what, expected);
		}
		int rc = scalar_dup(c, it, what, &v[i]);
		if (rc < 0) {
			free_strv(v, cnt);
			return rc;
		}
	}
	*out = v;
	*n_out = cnt;
	return BBT_OK;
}

/* ------------------------------------------------------------------ */
/* Sources */

static void column_clear(struct bbt_column *col)
{
	if (col->parts != NULL)
		for (size_t i = 0; i < col->n_parts; i++)
			free(col->parts[i].name);
	free(col->parts);
	col->parts = NULL;
	col->n_parts = 0;
}

static void source_free(struct bbt_source *s, size_t n_fields, size_t n_labels)
{
	if (s == NULL)
		return;
	free(s->file);
	if (s->fields != NULL)
		for (size_t i = 0; i < n_fields; i++)
			column_clear(&s->fields[i]);
	free(s->fields);
	column_clear(&s->label);
	free_strv(s->label_values, n_labels);
	free(s);
}

static int column_part(struct ctx *c, yaml_node_t *n, const char *key, struct bbt_column_part *p)
{
	char *v;
	int rc = text_dup(c, n, key, &v);
	if (rc < 0)
		return rc;
	long idx;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && bbt_parse_long(v, &idx) == 0) {
		free(v);
		p->name = NULL;
		p->index = idx;
	} else {
		p->name = v;
		p->index = 0;
	}
	return BBT_OK;
}

static int column_parse(struct ctx *c, yaml_node_t *n, const char *key, struct bbt_column *col)
{
	if (n->type == YAML_SCALAR_NODE) {
		col->parts = calloc(1, sizeof *col->parts);
		if (col->parts == NULL)
			return oom(c);
		col->n_parts = 1;
		return column_part(c, n, key, &col->parts[0]);
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: columns: %s: expected a column name, an index or a list of them",
		                 c->path, line_of(n), key);
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (cnt == 0)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: columns: %s: expected at least one column", c->path,
		                 line_of(n), key);
	col->parts = calloc(cnt, sizeof *col->parts);
	if (col->parts == NULL)
		return oom(c);
	col->n_parts = cnt;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = get_node(c, n->data.sequence.items.start[i]);
		if (it == NULL || it->type != YAML_SCALAR_NODE)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: columns: %s: expected a column name or index",
			                 c->path, it ? line_of(it) : line_of(n), key);
		int rc = column_part(c, it, key, &col->parts[i]);
		if (rc < 0)
			return rc;
	}
	return BBT_OK;
}

/* Names vs indices must suit the format: JSON has only keys, a file without
 * a header only positions. */
static int column_check(struct ctx *c, int line, const char *which, const char *key,
                        const struct bbt_column *col, const struct bbt_source *s)
{
	for (size_t i = 0; i < col->n_parts; i++) {
		const struct bbt_column_part *p = &col->parts[i];
		if (s->format == BBT_FORMAT_JSONL && p->name == NULL)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: columns: %s: JSON Lines columns are keys, not "
			                 "indices (%ld)", c->path, line, which, key, p->index);
		if (s->format != BBT_FORMAT_JSONL && p->name != NULL && !s->header)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: columns: %s: column \"%s\" by name needs header: "
			                 "true (or give a 0-based index)", c->path, line, which, key,
			                 p->name);
	}
	return BBT_OK;
}

static int parse_format(const char *s, enum bbt_data_format *f)
{
	if (strcmp(s, "tsv") == 0)
		*f = BBT_FORMAT_TSV;
	else if (strcmp(s, "tsv-quoted") == 0)
		*f = BBT_FORMAT_TSV_QUOTED;
	else if (strcmp(s, "csv") == 0)
		*f = BBT_FORMAT_CSV;
	else if (strcmp(s, "jsonl") == 0)
		*f = BBT_FORMAT_JSONL;
	else
		return -1;
	return 0;
}

static int source_parse(struct ctx *c, bbt_task_t *t, const char *which, yaml_node_t *key,
                        yaml_node_t *n, char **label_values, struct bbt_source **out)
{
	/* kshot names a folder; the other sources name one file. */
	const char *file_key = strcmp(which, "kshot") == 0 ? "dir" : "file";
	if (n->type != YAML_MAPPING_NODE)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: %s: expected a mapping with %s, format, header, columns",
		                 c->path, line_of(n), which, file_key);

	struct bbt_source *s = calloc(1, sizeof *s);
	if (s == NULL)
		return oom(c);
	s->line = line_of(key);
	s->fields = calloc(t->n_fields, sizeof *s->fields);
	if (s->fields == NULL) {
		free(s);
		return oom(c);
	}
	*out = s; /* the caller frees it on error, partial or not */

	yaml_node_t *file = NULL, *format = NULL, *header = NULL, *columns = NULL, *lv = NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = get_node(c, p->key), *v = get_node(c, p->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s: expected plain keys",
			                 c->path, k ? line_of(k) : line_of(n), which);
		const char *kn = (const char *)k->data.scalar.value;
		yaml_node_t **slot = strcmp(kn, file_key) == 0 ? &file
		                   : strcmp(kn, "format") == 0 ? &format
		                   : strcmp(kn, "header") == 0 ? &header
		                   : strcmp(kn, "columns") == 0 ? &columns
		                   : strcmp(kn, "label_values") == 0 ? &lv : NULL;
		if (slot == NULL)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: unknown key \"%s\" (expected %s, format, header, "
			                 "columns, label_values)", c->path, line_of(k), which, kn, file_key);
		if (*slot != NULL)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s: duplicate key \"%s\"",
			                 c->path, line_of(k), which, kn);
		*slot = v;
	}
	const char *need = file == NULL ? file_key : format == NULL ? "format"
	                 : columns == NULL ? "columns" : NULL;
	if (need != NULL)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: %s: missing key \"%s\"",
		                 c->path, line_of(n), which, need);

	char what[64];
	snprintf(what, sizeof what, "%s: %s", which, file_key);
	int rc = text_dup(c, file, what, &s->file);
	if (rc < 0)
		return rc;

	char *fmt;
	snprintf(what, sizeof what, "%s: format", which);
	if ((rc = text_dup(c, format, what, &fmt)) < 0)
		return rc;
	if (parse_format(fmt, &s->format) != 0) {
		rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
		               "%s:%d: %s: format \"%s\" is not one of tsv, tsv-quoted, csv, jsonl",
		               c->path, line_of(format), which, fmt);
		free(fmt);
		return rc;
	}
	free(fmt);

	/* GLUE and pandas files carry a header, Zhang et al.'s CSV does not. */
	s->header = s->format == BBT_FORMAT_TSV || s->format == BBT_FORMAT_TSV_QUOTED;
	if (header != NULL) {
		char *h;
		snprintf(what, sizeof what, "%s: header", which);
		if ((rc = scalar_dup(c, header, what, &h)) < 0)
			return rc;
		int b;
		int bad = bbt_parse_bool(h, &b) != 0;
		free(h);
		if (bad)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: header: expected true or false", c->path,
			                 line_of(header), which);
		if (s->format == BBT_FORMAT_JSONL && b)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: header: JSON Lines files have no header line",
			                 c->path, line_of(header), which);
		s->header = b;
	}
	if (s->format == BBT_FORMAT_JSONL)
		s->header = 0;

	if (columns->type != YAML_MAPPING_NODE)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: %s: columns: expected a mapping of each field and label "
		                 "to a column", c->path, line_of(columns), which);
	for (yaml_node_pair_t *p = columns->data.mapping.pairs.start;
	     p < columns->data.mapping.pairs.top; p++) {
		yaml_node_t *k = get_node(c, p->key), *v = get_node(c, p->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: columns: expected plain keys", c->path,
			                 k ? line_of(k) : line_of(columns), which);
		const char *kn = (const char *)k->data.scalar.value;
		struct bbt_column *col;
		if (strcmp(kn, "label") == 0) {
			col = &s->label;
		} else {
			int fi = bbt_task_field_index(t, kn);
			if (fi < 0)
				return bbt_error(c->err, c->errlen, BBT_EFORMAT,
				                 "%s:%d: %s: columns: \"%s\" is neither a field of this "
				                 "task nor label", c->path, line_of(k), which, kn);
			col = &s->fields[fi];
		}
		if (col->n_parts != 0)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: columns: duplicate key \"%s\"", c->path,
			                 line_of(k), which, kn);
		if ((rc = column_parse(c, v, kn, col)) < 0)
			return rc;
		if ((rc = column_check(c, line_of(v), which, kn, col, s)) < 0)
			return rc;
	}
	for (size_t i = 0; i < t->n_fields; i++)
		if (s->fields[i].n_parts == 0)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: columns: no column for field \"%s\"", c->path,
			                 line_of(columns), which, t->fields[i]);
	if (s->label.n_parts == 0)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: %s: columns: no column for \"label\"", c->path,
		                 line_of(columns), which);
	if (s->label.n_parts != 1)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: %s: columns: label: expected one column, not a list",
		                 c->path, line_of(columns), which);

	if (lv != NULL) {
		size_t nv;
		snprintf(what, sizeof what, "%s: label_values", which);
		if ((rc = scalar_list(c, lv, what, "a list of values, one per label",
		                      &s->label_values, &nv)) < 0)
			return rc;
		if (nv != t->n_labels) {
			free_strv(s->label_values, nv);
			s->label_values = NULL;
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: %s: label_values: expected %zu values (one per label), "
			                 "got %zu", c->path, line_of(lv), which, t->n_labels, nv);
		}
		for (size_t i = 0; i < nv; i++)
			for (size_t j = 0; j < i; j++)
				if (strcmp(s->label_values[i], s->label_values[j]) == 0)
					return bbt_error(c->err, c->errlen, BBT_EFORMAT,
					                 "%s:%d: %s: label_values: \"%s\" given twice",
					                 c->path, line_of(lv), which, s->label_values[i]);
	} else {
		s->label_values = calloc(t->n_labels, sizeof *s->label_values);
		if (s->label_values == NULL)
			return oom(c);
		for (size_t i = 0; i < t->n_labels; i++)
			if ((s->label_values[i] = bbt_strdup(label_values[i])) == NULL)
				return oom(c);
	}
	return BBT_OK;
}

/* ------------------------------------------------------------------ */
/* Top level */

static int parse_labels(struct ctx *c, bbt_task_t *t, yaml_node_t *n, char ***values_out)
{
	static const char expected[] = "expected a list of {value, word}";
	*values_out = NULL;
	if (n->type != YAML_SEQUENCE_NODE)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: labels: %s", c->path,
		                 line_of(n), expected);
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (cnt < 2)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: labels: expected at least 2 labels, got %zu", c->path,
		                 line_of(n), cnt);
	char **values = calloc(cnt, sizeof *values);
	t->label_words = calloc(cnt, sizeof *t->label_words);
	if (values == NULL || t->label_words == NULL) {
		free(values);
		return oom(c);
	}
	t->n_labels = cnt;
	*values_out = values;
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *it = get_node(c, n->data.sequence.items.start[i]);
		if (it == NULL || it->type != YAML_MAPPING_NODE)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: labels: %s", c->path,
			                 it ? line_of(it) : line_of(n), expected);
		yaml_node_t *val = NULL, *word = NULL;
		for (yaml_node_pair_t *p = it->data.mapping.pairs.start;
		     p < it->data.mapping.pairs.top; p++) {
			yaml_node_t *k = get_node(c, p->key), *v = get_node(c, p->value);
			const char *kn = (k && k->type == YAML_SCALAR_NODE)
			               ? (const char *)k->data.scalar.value : "";
			yaml_node_t **slot = strcmp(kn, "value") == 0 ? &val
			                   : strcmp(kn, "word") == 0 ? &word : NULL;
			if (slot == NULL || *slot != NULL || v == NULL)
				return bbt_error(c->err, c->errlen, BBT_EFORMAT,
				                 "%s:%d: labels: %s (unexpected key \"%s\")", c->path,
				                 k ? line_of(k) : line_of(it), expected, kn);
			*slot = v;
		}
		if (val == NULL || word == NULL)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: labels: %s (missing %s)", c->path, line_of(it),
			                 expected, val == NULL ? "value" : "word");
		int rc = text_dup(c, val, "labels: value", &values[i]);
		if (rc == 0)
			rc = text_dup(c, word, "labels: word", &t->label_words[i]);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(values[i], values[j]) == 0)
				return bbt_error(c->err, c->errlen, BBT_EFORMAT,
				                 "%s:%d: labels: value \"%s\" given twice", c->path,
				                 line_of(val), values[i]);
			/* Two labels with one word could never be told apart. */
			if (strcmp(t->label_words[i], t->label_words[j]) == 0)
				return bbt_error(c->err, c->errlen, BBT_EFORMAT,
				                 "%s:%d: labels: word \"%s\" given twice", c->path,
				                 line_of(word), t->label_words[i]);
		}
	}
	return BBT_OK;
}

/* {mask} exactly once, every other {name} a declared field. */
static int check_template(struct ctx *c, const bbt_task_t *t, int line)
{
	const char *s = t->template_text;
	int masks = 0;
	while ((s = strchr(s, '{')) != NULL) {
		const char *end = strchr(s, '}');
		if (end == NULL)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: template: \"{\" without a closing \"}\"", c->path, line);
		size_t len = (size_t)(end - s - 1);
		char name[64];
		if (len < sizeof name) {
			memcpy(name, s + 1, len);
			name[len] = '\0';
		}
		if (len >= sizeof name || !is_ident(name))
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: template: expected {mask} or {field}, got \"%.*s\"",
			                 c->path, line, (int)(len + 2 > 80 ? 80 : len + 2), s);
		if (strcmp(name, "mask") == 0) {
			masks++;
		} else if (bbt_task_field_index(t, name) < 0) {
			char list[256] = "";
			for (size_t i = 0; i < t->n_fields; i++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof list - l, "%s{%s}", i ? ", " : "", t->fields[i]);
			}
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: template: {%s} is not a field of this task "
			                 "(fields: %s; the label goes in {mask})",
			                 c->path, line, name, list);
		}
		s = end + 1;
	}
	if (masks != 1)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: template: expected {mask} exactly once, found it %d times",
		                 c->path, line, masks);
	return BBT_OK;
}

enum { K_NAME, K_DESCRIPTION, K_METRIC, K_FIELDS, K_TEMPLATE, K_LABELS, K_POSITIVE,
       K_UNLABELLED, K_TRAIN, K_DEV, K_TEST, K_KSHOT, K_GENERATOR, K_COUNT };
static const char *const top_keys[K_COUNT] = {
	"name", "description", "metric", "fields", "template", "labels", "positive", "unlabelled",
	"train", "dev", "test", "kshot", "generator",
};
static const char top_keys_list[] = "name, description, metric, fields, template, labels, "
                                    "positive, unlabelled, train, dev, test, kshot, generator";

/* `positive: VALUE`: the label (by its value) whose F1 a binary task
 * reports. */
static int parse_positive(struct ctx *c, bbt_task_t *t, yaml_node_t *n, char **values)
{
	char *v;
	int rc = text_dup(c, n, "positive", &v);
	if (rc < 0)
		return rc;
	if (t->n_labels != 2)
		rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
		               "%s:%d: positive: only a task of 2 labels has a positive class, this "
		               "one has %zu (its F1 is the macro-F1)",
		               c->path, line_of(n), t->n_labels);
	for (size_t i = 0; rc == 0 && i < t->n_labels && t->positive == BBT_NO_POSITIVE; i++)
		if (strcmp(values[i], v) == 0)
			t->positive = (int)i;
	if (rc == 0 && t->positive == BBT_NO_POSITIVE)
		rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
		               "%s:%d: positive: \"%s\" is not a label value (expected \"%s\" or "
		               "\"%s\")", c->path, line_of(n), v, values[0], values[1]);
	free(v);
	return rc;
}

/* The value that marks a row as unlabelled in this task's files. It may
 * not also be a label's value in any of them. */
static int parse_unlabelled(struct ctx *c, bbt_task_t *t, yaml_node_t *n)
{
	int rc = text_dup(c, n, "unlabelled", &t->unlabelled);
	if (rc < 0)
		return rc;
	const struct bbt_source *sources[] = { t->train, t->dev, t->test, t->kshot };
	for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++)
		for (size_t i = 0; sources[s] != NULL && i < t->n_labels; i++)
			if (strcmp(sources[s]->label_values[i], t->unlabelled) == 0)
				return bbt_error(c->err, c->errlen, BBT_EFORMAT,
				                 "%s:%d: unlabelled: \"%s\" is the value of label %s, "
				                 "expected a value no label has", c->path, line_of(n),
				                 t->unlabelled, t->label_words[i]);
	return BBT_OK;
}

static int parse_task(struct ctx *c, bbt_task_t *t)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	if (root == NULL)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:1: empty file, expected a task mapping (%s)", c->path,
		                 top_keys_list);
	if (root->type != YAML_MAPPING_NODE)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: expected a mapping of task keys (%s)", c->path,
		                 line_of(root), top_keys_list);

	yaml_node_t *key[K_COUNT] = { 0 }, *val[K_COUNT] = { 0 };
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = get_node(c, p->key), *v = get_node(c, p->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT, "%s:%d: expected plain keys",
			                 c->path, k ? line_of(k) : line_of(root));
		const char *kn = (const char *)k->data.scalar.value;
		int i = 0;
		while (i < K_COUNT && strcmp(kn, top_keys[i]) != 0)
			i++;
		if (i == K_COUNT)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: unknown key \"%s\" (expected one of %s)", c->path,
			                 line_of(k), kn, top_keys_list);
		if (key[i] != NULL)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: duplicate key \"%s\" (first on line %d)", c->path,
			                 line_of(k), kn, line_of(key[i]));
		key[i] = k;
		val[i] = v;
	}
	static const int required[] = { K_NAME, K_METRIC, K_FIELDS, K_TEMPLATE, K_LABELS };
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (key[required[i]] == NULL)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: missing key \"%s\" (a task needs name, metric, fields, "
			                 "template, labels)", c->path, line_of(root),
			                 top_keys[required[i]]);

	int rc;
	/* The name is a folder of result paths (the experiment by default) and
	 * part of every run id: a plain word, never "..". */
	if ((rc = text_dup(c, val[K_NAME], "name", &t->name)) < 0)
		return rc;
	if (!bbt_name_is_plain(t->name))
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: name: expected " BBT_PLAIN_WORD ", got \"%s\"", c->path,
		                 line_of(val[K_NAME]), t->name);
	if (val[K_DESCRIPTION] != NULL &&
	    (rc = scalar_dup(c, val[K_DESCRIPTION], "description", &t->description)) < 0)
		return rc;

	char *metric;
	if ((rc = text_dup(c, val[K_METRIC], "metric", &metric)) < 0)
		return rc;
	t->metric = bbt_metric_parse(metric);
	if ((int)t->metric == 0) {
		rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
		               "%s:%d: metric: \"%s\" is not one of acc, f1, macro_f1", c->path,
		               line_of(val[K_METRIC]), metric);
		free(metric);
		return rc;
	}
	free(metric);

	if ((rc = scalar_list(c, val[K_FIELDS], "fields", "a list of field names", &t->fields,
	                      &t->n_fields)) < 0)
		return rc;
	if (t->n_fields == 0)
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: fields: expected at least one field", c->path,
		                 line_of(val[K_FIELDS]));
	for (size_t i = 0; i < t->n_fields; i++) {
		/* "mask" and "label" already mean something in template and columns. */
		if (!is_ident(t->fields[i]) || strcmp(t->fields[i], "mask") == 0 ||
		    strcmp(t->fields[i], "label") == 0)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: fields: \"%s\": expected a name of letters, digits "
			                 "and '_' other than mask and label", c->path,
			                 line_of(val[K_FIELDS]), t->fields[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->fields[i], t->fields[j]) == 0)
				return bbt_error(c->err, c->errlen, BBT_EFORMAT,
				                 "%s:%d: fields: \"%s\" given twice", c->path,
				                 line_of(val[K_FIELDS]), t->fields[i]);
	}

	if ((rc = text_dup(c, val[K_TEMPLATE], "template", &t->template_text)) < 0)
		return rc;
	if ((rc = check_template(c, t, line_of(val[K_TEMPLATE]))) < 0)
		return rc;

	char **values = NULL;
	rc = parse_labels(c, t, val[K_LABELS], &values);
	t->positive = BBT_NO_POSITIVE;
	if (rc == 0 && t->metric == BBT_METRIC_F1 && t->n_labels != 2)
		rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
		               "%s:%d: metric: f1 is the F1 of a positive class and needs exactly 2 "
		               "labels, this task has %zu (use macro_f1)", c->path,
		               line_of(val[K_METRIC]), t->n_labels);
	if (rc == 0 && val[K_POSITIVE] != NULL)
		rc = parse_positive(c, t, val[K_POSITIVE], values);
	if (rc == 0 && t->metric == BBT_METRIC_F1 && t->positive == BBT_NO_POSITIVE)
		rc = bbt_error(c->err, c->errlen, BBT_EFORMAT,
		               "%s:%d: metric: f1 is the F1 of the positive class: expected "
		               "positive: VALUE naming one of the labels", c->path,
		               line_of(val[K_METRIC]));

	static const int src_keys[] = { K_TRAIN, K_DEV, K_TEST, K_KSHOT };
	struct bbt_source **slots[] = { &t->train, &t->dev, &t->test, &t->kshot };
	for (size_t i = 0; rc == 0 && i < 4; i++)
		if (val[src_keys[i]] != NULL)
			rc = source_parse(c, t, top_keys[src_keys[i]], key[src_keys[i]],
			                  val[src_keys[i]], values, slots[i]);
	free_strv(values, t->n_labels);
	if (rc < 0)
		return rc;

	if (val[K_UNLABELLED] != NULL && (rc = parse_unlabelled(c, t, val[K_UNLABELLED])) < 0)
		return rc;

	if (val[K_GENERATOR] != NULL) {
		if ((rc = text_dup(c, val[K_GENERATOR], "generator", &t->generator)) < 0)
			return rc;
		int line = line_of(val[K_GENERATOR]);
		if (strcmp(t->generator, "toy") != 0)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: generator: \"%s\" is not a known generator (toy)",
			                 c->path, line, t->generator);
		/* The toy data has one field `sentence` and labels 0/1: a task that
		 * says otherwise would silently be fed something else. */
		if (t->n_fields != 1 || strcmp(t->fields[0], "sentence") != 0 || t->n_labels != 2)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: generator: toy makes one field \"sentence\" and 2 labels "
			                 "(negative, positive)", c->path, line);
		if (t->train || t->dev || t->test || t->kshot)
			return bbt_error(c->err, c->errlen, BBT_EFORMAT,
			                 "%s:%d: generator: toy makes its own data; expected no "
			                 "train, dev, test or kshot", c->path, line);
	} else if (t->train == NULL && t->test == NULL && t->kshot == NULL) {
		return bbt_error(c->err, c->errlen, BBT_EFORMAT,
		                 "%s:%d: no data: expected generator: toy or at least one of train, "
		                 "test, kshot", c->path, line_of(root));
	}
	return BBT_OK;
}

static size_t line_at(const char *s, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off; i++)
		if (s[i] == '\n')
			line++;
	return line;
}

/* libyaml's scanner looks at every open flow level on each token, so the
 * document loader takes a minute over a value nested 100,000 deep. The
 * event stream shows the depth as it grows: stop at BBT_TASK_MAX_DEPTH.
 * Syntax errors are left to the loader, which reports them in full. */
static int check_depth(const char *path, const char *data, size_t len, char *err,
                       size_t errlen)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", path);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	int depth = 0, rc = BBT_OK;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev))
			break;
		yaml_event_type_t type = ev.type;
		size_t line = ev.start_mark.line + 1;
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > BBT_TASK_MAX_DEPTH) {
				rc = bbt_error(err, errlen, BBT_EFORMAT,
				               "%s:%zu: nested deeper than %d levels, expected a task "
				               "mapping (4 levels)", path, line, BBT_TASK_MAX_DEPTH);
				break;
			}
		} else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
	}
	yaml_parser_delete(&parser);
	return rc;
}

int bbt_task_load(const char *path, bbt_task_t **task, char *err, size_t errlen)
{
	*task = NULL;
	char *data;
	size_t len;
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return bbt_error(err, errlen, BBT_ENOTFOUND,
			                 "%s: no such file (expected a task YAML file)", path);
		return bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode))
		return bbt_error(err, errlen, BBT_EIO, "%s: is a directory (expected a task YAML file)",
		                 path);
	/* A FIFO would block in open(2), a device never end. */
	if (!S_ISREG(st.st_mode))
		return bbt_error(err, errlen, BBT_EIO,
		                 "%s: not a regular file (expected a task YAML file)", path);
	if (st.st_size > BBT_TASK_MAX_BYTES)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s:1: %lld bytes, expected a task file of at most %d bytes", path,
		                 (long long)st.st_size, BBT_TASK_MAX_BYTES);
	int rc = bbt_file_read(path, &data, &len, err, errlen);
	if (rc < 0)
		return rc;
	size_t bad;
	if (!bbt_utf8_valid(data, len, &bad)) {
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "%s:%zu: invalid UTF-8 byte 0x%02x, expected UTF-8 text", path,
		               line_at(data, bad), (unsigned char)data[bad]);
		free(data);
		return rc;
	}

	if ((rc = check_depth(path, data, len, err, errlen)) < 0) {
		free(data);
		return rc;
	}

	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		free(data);
		return bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", path);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		/* Reader errors (bad bytes) carry an offset, the others a mark. */
		size_t line = parser.error == YAML_READER_ERROR
		            ? line_at(data, parser.problem_offset < len ? parser.problem_offset : len)
		            : parser.problem_mark.line + 1;
		/* At the end of the input libyaml's mark is on the line after the
		 * last one; a truncated file is better blamed on its last line. */
		size_t last = line_at(data, len) - (len > 0 && data[len - 1] == '\n');
		if (line > last && last > 0)
			line = last;
		rc = bbt_error(err, errlen, parser.error == YAML_MEMORY_ERROR ? BBT_ENOMEM : BBT_EFORMAT,
		               "%s:%zu: invalid YAML: %s%s%s", path, line,
		               parser.problem ? parser.problem : "parse error",
		               parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		free(data);
		return rc;
	}

	bbt_task_t *t = calloc(1, sizeof *t);
	if (t == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", path);
	} else if ((t->path = bbt_strdup(path)) == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "%s: out of memory", path);
	} else {
		struct ctx c = { path, &doc, err, errlen };
		rc = parse_task(&c, t);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(data);
	if (rc < 0) {
		bbt_task_free(t);
		return rc;
	}
	*task = t;
	return BBT_OK;
}

void bbt_task_free(bbt_task_t *t)
{
	if (t == NULL)
		return;
	source_free(t->train, t->n_fields, t->n_labels);
	source_free(t->dev, t->n_fields, t->n_labels);
	source_free(t->test, t->n_fields, t->n_labels);
	source_free(t->kshot, t->n_fields, t->n_labels);
	free(t->name);
	free(t->description);
	free(t->path);
	free_strv(t->fields, t->n_fields);
	free(t->template_text);
	free_strv(t->label_words, t->n_labels);
	free(t->generator);
	free(t->unlabelled);
	free(t);
}

int bbt_task_find(const char *name_or_path, const char *const *dirs, size_t n_dirs,
                  char **path, char *err, size_t errlen)
{
	struct stat st;
	*path = NULL;
	if (strchr(name_or_path, '/') != NULL || bbt_has_extension(name_or_path, ".yaml") ||
	    bbt_has_extension(name_or_path, ".yml")) {
		if (stat(name_or_path, &st) != 0)
			return bbt_error(err, errlen, BBT_ENOTFOUND,
			                 "%s: no such file (expected a task YAML file)", name_or_path);
		*path = bbt_strdup(name_or_path);
		return *path ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	if (name_or_path[0] == '\0')
		return bbt_error(err, errlen, BBT_EINVAL, "task: expected a name or a path, got \"\"");

	char looked[BBT_ERRLEN] = "";
	char *file = bbt_asprintf("%s.yaml", name_or_path);
	if (file == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n_dirs; i++) {
		char *p = bbt_path_join(dirs[i], file);
		if (p == NULL) {
			free(file);
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		}
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			free(file);
			*path = p;
			return BBT_OK;
		}
		size_t l = strlen(looked);
		snprintf(looked + l, sizeof looked - l, "%s%s", i ? ", " : "", p);
		free(p);
	}
	free(file);
	return bbt_error(err, errlen, BBT_ENOTFOUND, "task \"%s\" not found (looked for %s)",
	                 name_or_path, n_dirs ? looked : "it in no directory");
}

int bbt_task_field_index(const bbt_task_t *task, const char *name)
{
	for (size_t i = 0; i < task->n_fields; i++)
		if (strcmp(task->fields[i], name) == 0)
			return (int)i;
	return -1;
}
