/*
 * dataset.c - read one data file into examples (see dataset.h).
 *
 * The delimited formats share one record reader: it reads physical lines,
 * strips a UTF-8 BOM at the start of the file, checks every line for UTF-8
 * and NUL bytes (so the error can name the line), and, for the quoted
 * formats, keeps appending lines while a quoted field is still open
 * (RFC 4180 allows newlines inside quotes). The line end of the record
 * (LF or CRLF) is then removed and the record is split:
 *
 *   tsv         split on TAB, nothing else: GLUE writes no quoting, and a
 *               field that begins with '"' is literal text (RTE, MRPC)
 *   tsv-quoted  pandas' to_csv(sep="\t"): a field that begins with '"' runs
 *               to the matching '"', "" inside it is one '"'; other fields
 *               are literal
 *   csv         the same rules with ',' (Zhang et al. quote every field)
 *
 * JSONL is read line by line with jansson. No text is unescaped beyond what
 * the format itself defines: AG News' '\' and '#39;' stay as they are.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "core/util.h"

/* ------------------------------------------------------------------ */
/* What a source expects, in words (for "no such file" and "empty file") */

static void append(char *buf, size_t len, const char *fmt, const char *s)
{
	size_t l = strlen(buf);
	if (l < len)
		snprintf(buf + l, len - l, fmt, s);
}

static const char *format_words(enum bbt_data_format f)
{
	switch (f) {
	case BBT_FORMAT_TSV: return "GLUE TSV";
	case BBT_FORMAT_TSV_QUOTED: return "quoted TSV (pandas)";
	case BBT_FORMAT_CSV: return "RFC 4180 CSV";
	case BBT_FORMAT_JSONL: return "JSON Lines";
	}
	return "?";
}

static void describe_index(char *buf, size_t len, long index)
{
	char tmp[48];
	if (index == -1)
		snprintf(tmp, sizeof tmp, "the last column");
	else if (index < 0)
		snprintf(tmp, sizeof tmp, "column %ld from the end", -index);
	else
		snprintf(tmp, sizeof tmp, "column %ld", index);
	append(buf, len, "%s", tmp);
}

/* e.g. "GLUE TSV with a header naming sentence, label" or
 * "RFC 4180 CSV without header; text in columns 1+2, label in column 0". */
static void describe_source(const bbt_task_t *task, const struct bbt_source *src,
                            char *buf, size_t len)
{
	size_t nc = task->n_fields + 1;
	buf[0] = '\0';
	append(buf, len, "%s", format_words(src->format));
	if (src->format == BBT_FORMAT_JSONL)
		append(buf, len, "%s", " with keys ");
	else if (src->header)
		append(buf, len, "%s", " with a header");
	else
		append(buf, len, "%s", " without header");

	int named = 0;
	for (size_t c = 0; c < nc; c++) {
		const struct bbt_column *col = c < task->n_fields ? &src->fields[c] : &src->label;
		for (size_t p = 0; p < col->n_parts; p++) {
			if (col->parts[p].name == NULL)
				continue;
			if (named++ == 0 && src->format != BBT_FORMAT_JSONL)
				append(buf, len, "%s", " naming ");
			else if (named > 1)
				append(buf, len, "%s", ", ");
			append(buf, len, "%s", col->parts[p].name);
		}
	}
	int indexed = 0;
	for (size_t c = 0; c < nc; c++) {
		const struct bbt_column *col = c < task->n_fields ? &src->fields[c] : &src->label;
		size_t ni = 0;
		for (size_t p = 0; p < col->n_parts; p++)
			ni += col->parts[p].name == NULL;
		if (ni == 0)
			continue;
		append(buf, len, "%s", indexed++ ? ", " : "; ");
		append(buf, len, "%s", c < task->n_fields ? task->fields[c] : "label");
		if (ni > 1) {
			append(buf, len, "%s", " in columns ");
			int first = 1;
			for (size_t p = 0; p < col->n_parts; p++) {
				if (col->parts[p].name != NULL)
					continue;
				char tmp[24];
				snprintf(tmp, sizeof tmp, "%s%ld", first ? "" : "+", col->parts[p].index);
				append(buf, len, "%s", tmp);
				first = 0;
			}
		} else {
			append(buf, len, "%s", " in ");
			for (size_t p = 0; p < col->n_parts; p++)
				if (col->parts[p].name == NULL)
					describe_index(buf, len, col->parts[p].index);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Data sets */

static void example_clear(struct bbt_example *e, size_t n_fields)
{
	if (e->field != NULL)
		for (size_t i = 0; i < n_fields; i++)
			free(e->field[i]);
	free(e->field);
	e->field = NULL;
}

void bbt_dataset_free(bbt_dataset_t *ds)
{
	if (ds == NULL)
		return;
	for (size_t i = 0; i < ds->n; i++)
		example_clear(&ds->ex[i], ds->n_fields);
	free(ds->ex);
	free(ds->path);
	free(ds);
}

static bbt_dataset_t *dataset_new(const char *path, size_t n_fields)
{
	bbt_dataset_t *ds = calloc(1, sizeof *ds);
	if (ds == NULL)
		return NULL;
	ds->n_fields = n_fields;
	if ((ds->path = bbt_strdup(path)) == NULL) {
		free(ds);
		return NULL;
	}
	return ds;
}

/* Room for one more example; returns it zeroed, or NULL on out of memory. */
static struct bbt_example *dataset_push(bbt_dataset_t *ds, size_t *cap)
{
	if (ds->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct bbt_example *ne = realloc(ds->ex, nc * sizeof *ne);
		if (ne == NULL)
			return NULL;
		ds->ex = ne;
		*cap = nc;
	}
	struct bbt_example *e = &ds->ex[ds->n];
	memset(e, 0, sizeof *e);
	e->field = calloc(ds->n_fields ? ds->n_fields : 1, sizeof *e->field);
	if (e->field == NULL)
		return NULL;
	ds->n++;
	return e;
}

bbt_dataset_t *bbt_dataset_subset(const bbt_dataset_t *from, const size_t *idx, size_t n)
{
	bbt_dataset_t *ds = dataset_new(from->path, from->n_fields);
	if (ds == NULL)
		return NULL;
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		if (idx[i] >= from->n)
			goto fail; /* a caller's bug; never index past the end */
		const struct bbt_example *src = &from->ex[idx[i]];
		struct bbt_example *e = dataset_push(ds, &cap);
		if (e == NULL)
			goto fail;
		e->label = src->label;
		e->line = src->line;
		for (size_t f = 0; f < ds->n_fields; f++)
			if ((e->field[f] = bbt_strdup(src->field[f])) == NULL)
				goto fail;
	}
	return ds;
fail:
	bbt_dataset_free(ds);
	return NULL;
}

void bbt_dataset_label_counts(const bbt_dataset_t *ds, size_t n_labels, size_t *counts)
{
	memset(counts, 0, n_labels * sizeof *counts);
	for (size_t i = 0; i < ds->n; i++)
		if (ds->ex[i].label >= 0 && (size_t)ds->ex[i].label < n_labels)
			counts[ds->ex[i].label]++;
}

/* ------------------------------------------------------------------ */
/* Reading: shared state */

struct reader {
	const bbt_task_t *task;
	const struct bbt_source *src;
	const char *path;
	FILE *f;
	char *err;
	size_t errlen;

	char *line;          /* the current physical line */
	size_t line_cap;
	size_t lineno;       /* physical lines read so far */

	char *rec;           /* the current record, line end removed */
	size_t rec_len, rec_cap;
	size_t rec_line;     /* line the record starts on */
	int any;             /* a non-blank line was seen */

	char *scratch;       /* unquoted fields, NUL-separated */
	size_t scratch_cap;
	size_t *col_off;     /* offsets of the fields in scratch */
	size_t n_cols, col_cap;

	long *hdr;           /* header column of each named part, in part order */
	size_t n_parts;

	char *join;          /* a multi-part column joined */
	size_t join_cap;
};

static int reader_oom(struct reader *r)
{
	return bbt_error(r->err, r->errlen, BBT_ENOMEM, "%s: out of memory", r->path);
}

static int grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 256;
	while (nc < need)
		nc *= 2;
	char *nb = realloc(*buf, nc);
	if (nb == NULL)
		return -1;
	*buf = nb;
	*cap = nc;
	return 0;
}

/* The next physical line, checked, into r->line (with its line end).
 * Returns its length, 0 at end of file, or a negative status. Unlike
 * getline(3) it stops at BBT_DATASET_MAX_LINE bytes, so that a file
 * without line ends cannot fill the memory. */
static long next_line(struct reader *r)
{
	size_t n = 0;
	int c = EOF;
	errno = 0;
	while (n <= (size_t)BBT_DATASET_MAX_LINE && (c = getc_unlocked(r->f)) != EOF) {
		if (grow(&r->line, &r->line_cap, n + 2) != 0)
			return reader_oom(r);
		r->line[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (n > (size_t)BBT_DATASET_MAX_LINE)
		return bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                 "%s:%zu: line longer than %ld bytes, expected one example per line",
		                 r->path, r->lineno + 1, BBT_DATASET_MAX_LINE);
	if (c == EOF && ferror(r->f))
		return bbt_error(r->err, r->errlen, BBT_EIO, "%s:%zu: read error: %s",
		                 r->path, r->lineno + 1, strerror(errno));
	if (n == 0)
		return 0;
	r->line[n] = '\0';
	r->lineno++;
	char *s = r->line;
	size_t len = n;
	if (r->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		/* GLUE's MRPC files (and Microsoft's) start with a BOM. */
		memmove(s, s + 3, len - 3 + 1);
		len -= 3;
	}
	if (memchr(s, '\0', len) != NULL)
		return bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                 "%s:%zu: NUL byte, expected UTF-8 text", r->path, r->lineno);
	size_t bad;
	if (!bbt_utf8_valid(s, len, &bad))
		return bbt_error(r->err, r->errlen, BBT_EFORMAT,
		                 "%s:%zu: invalid UTF-8 byte 0x%02x at column %zu, expected UTF-8 text",
		                 r->path, r->lineno, (unsigned char)s[bad], bad + 1);
	return (long)len;
}

static int strip_eol(char *s, size_t *len)
{
	int had = 0;
	if (*len > 0 && s[*len - 1] == '\n') {
		(*len)--;
		had = 1;
		if (*len > 0 && s[*len - 1] == '\r')
			(*len)--;
	}
	s[*len] = '\0';
	return had;
}

/* ------------------------------------------------------------------ */
/* Delimited records */

/* Where a scan of a quoted-format record stands, so that a record that
 * grows line by line is scanned once, not once per line. */
enum quote_mode { Q_FIELD_START, Q_UNQUOTED, Q_QUOTED, Q_QUOTE_IN_QUOTED };

static enum quote_mode quote_scan(const char *s, size_t from, size_t to, char sep,
                                  enum quote_mode m)
{
	for (size_t i = from; i < to; i++) {
		char c = s[i];
		switch (m) {
		case Q_FIELD_START:
			m = c == '"' ? Q_QUOTED : c == sep ? Q_FIELD_START : Q_UNQUOTED;
			break;
		case Q_UNQUOTED:
			if (c == sep)
				m = Q_FIELD_START;
			break;
		case Q_QUOTED:
			if (c == '"')
				m = Q_QUOTE_IN_QUOTED;
			break;
		case Q_QUOTE_IN_QUOTED: /* "" is a quote; anything else closed it */
			m = c == '"' ? Q_QUOTED : c == sep ? Q_FIELD_START : Q_UNQUOTED;
			break;
		}
	}
	return m;
}

/* The next record into r->rec. 1: a record, 0: end of file, < 0 error.
 * Blank lines are skipped (a trailing empty line is common). */
static int next_record(struct reader *r)
{
	int quoted = r->src->format != BBT_FORMAT_TSV;
	char sep = r->src->format == BBT_FORMAT_CSV ? ',' : '\t';
	for (;;) {
		r->rec_len = 0;
		long n = next_line(r);
		if (n <= 0)
			return (int)n;
		r->rec_line = r->lineno;
		if (grow(&r->rec, &r->rec_cap, (size_t)n + 1) != 0)
			return reader_oom(r);
		memcpy(r->rec, r->line, (size_t)n + 1);
		r->rec_len = (size_t)n;
		/* A quoted field may hold line breaks: keep them, byte for byte. */
		enum quote_mode m = Q_FIELD_START;
		size_t scanned = 0;
		while (quoted && (m = quote_scan(r->rec, scanned, r->rec_len, sep, m)) == Q_QUOTED) {
			scanned = r->rec_len;
			n = next_line(r);
			if (n < 0)
				return (int)n;
			if (n == 0)
				return bbt_error(r->err, r->errlen, BBT_EFORMAT,
				                 "%s:%zu: quoted field not closed before the end of the "
				                 "file, expected a closing '\"'", r->path, r->rec_line);
			if (r->rec_len + (size_t)n > (size_t)BBT_DATASET_MAX_LINE)
				return bbt_error(r->err, r->errlen, BBT_EFORMAT,
				                 "%s:%zu: quoted field longer than %ld bytes, expected a "
				                 "closing '\"'", r->path, r->rec_line, BBT_DATASET_MAX_LINE);
			if (grow(&r->rec, &r->rec_cap, r->rec_len + (size_t)n + 1) != 0)
				return reader_oom(r);
			memcpy(r->rec + r->rec_len, r->line, (size_t)n + 1);
			r->rec_len += (size_t)n;
		}
		strip_eol(r->rec, &r->rec_len);
		if (r->rec_len > 0) {
			r->any = 1;
			return 1;
		}
	}
}

static int push_col(struct reader *r, size_t off)
{
	if (r->n_cols == r->col_cap) {
		size_t nc = r->col_cap ? r->col_cap * 2 : 16;
		size_t *no = realloc(r->col_off, nc * sizeof *no);
		if (no == NULL)
			return reader_oom(r);
		r->col_off = no;
		r->col_cap = nc;
	}
	r->col_off[r->n_cols++] = off;
	return 0;
}

/* Split r->rec into NUL-terminated fields in r->scratch. */
static int split_record(struct reader *r)
{
	int quoted = r->src->format != BBT_FORMAT_TSV;
	char sep = r->src->format == BBT_FORMAT_CSV ? ',' : '\t';
	const char *s = r->rec;
	size_t len = r->rec_len;
	/* Unquoting only shrinks: the record's length plus one NUL is enough. */
	if (grow(&r->scratch, &r->scratch_cap, len + 1) != 0)
		return reader_oom(r);
	char *out = r->scratch;
	size_t o = 0, i = 0;
	r->n_cols = 0;
	for (;;) {
		int rc = push_col(r, o);
		if (rc < 0)
			return rc;
		if (quoted && i < len && s[i] == '"') {
			i++;
			for (;;) {
				if (i >= len) /* next_record returns closed quotes only */
					return bbt_error(r->err, r->errlen, BBT_EINTERNAL,
					                 "%s:%zu: quoted field not closed", r->path,
					                 r->rec_line);
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						out[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				out[o++] = s[i++];
			}
			if (i < len && s[i] != sep) {
				size_t line = r->rec_line;
				for (size_t k = 0; k < i; k++)
					line += s[k] == '\n';
				return bbt_error(r->err, r->errlen, BBT_EFORMAT,
				                 "%s:%zu: column %zu: expected '%s' or the end of the line "
				                 "after a closing quote, got '%c'", r->path, line, r->n_cols - 1,
				                 sep == '\t' ? "\\t" : ",", s[i]);
			}
		} else {
			while (i < len && s[i] != sep)
				out[o++] = s[i++];
		}
		out[o++] = '\0';
		if (i >= len)
			break;
		i++; /* the separator */
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Columns */

static const struct bbt_column *column_of(const struct reader *r, size_t c)
{
	return c < r->task->n_fields ? &r->src->fields[c] : &r->src->label;
}

static const char *column_title(const struct reader *r, size_t c)
{
	return c < r->task->n_fields ? r->task->fields[c] : "label";
}

/* Map every named part to its header column. */
static int read_header(struct reader *r)
{
	size_t nc = r->task->n_fields + 1, k = 0;
	r->n_parts = 0;
	for (size_t c = 0; c < nc; c++)
		r->n_parts += column_of(r, c)->n_parts;
	r->hdr = calloc(r->n_parts ? r->n_parts : 1, sizeof *r->hdr);
	if (r->hdr == NULL)
		return reader_oom(r);
	for (size_t c = 0; c < nc; c++) {
		const struct bbt_column *col = column_of(r, c);
		for (size_t p = 0; p < col->n_parts; p++, k++) {
			r->hdr[k] = -1;
			const char *name = col->parts[p].name;
			if (name == NULL || !r->src->header)
				continue;
			for (size_t h = 0; h < r->n_cols; h++)
				if (strcmp(r->scratch + r->col_off[h], name) == 0) {
					r->hdr[k] = (long)h;
					break;
				}
			if (r->hdr[k] < 0) {
				char cols[256] = "";
				for (size_t h = 0; h < r->n_cols; h++) {
					append(cols, sizeof cols, "%s", h ? ", " : "");
					append(cols, sizeof cols, "%s", r->scratch + r->col_off[h]);
				}
				return bbt_error(r->err, r->errlen, BBT_EFORMAT,
				                 "%s:%zu: header has no column \"%s\" (for %s); it has: %s",
				                 r->path, r->rec_line, name, column_title(r, c), cols);
			}
		}
	}
	return 0;
}

/* The value of column c of the current record: one part as it is, several
 * joined with one space. *out points into reader buffers. */
/* A multi-part column is joined in two passes over its parts: the first
 * sums their lengths (join_part with pass 0), join_reserve sizes the
 * buffer, the second copies them with one space between. */
static void join_part(struct reader *r, int pass, size_t part, const char *s, size_t *total)
{
	size_t len = strlen(s);
	if (pass == 0) {
		*total += len + 1;
		return;
	}
	if (part > 0)
		r->join[(*total)++] = ' ';
	memcpy(r->join + *total, s, len);
	*total += len;
}

static int join_reserve(struct reader *r, size_t *total)
{
	if (grow(&r->join, &r->join_cap, *total + 1) != 0)
		return -1;
	*total = 0;
	return 0;
}

static int column_value(struct reader *r, size_t c, size_t part0, const char **out)
{
	const struct bbt_column *col = column_of(r, c);
	size_t total = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t p = 0; p < col->n_parts; p++) {
			const struct bbt_column_part *cp = &col->parts[p];
			long idx = cp->name != NULL ? r->hdr[part0 + p]
			         : cp->index < 0 ? (long)r->n_cols + cp->index : cp->index;
			if (idx < 0 || (size_t)idx >= r->n_cols) {
				char want[96];
				if (cp->name != NULL)
					snprintf(want, sizeof want, "column \"%s\" (column %ld of the header)",
					         cp->name, r->hdr[part0 + p]);
				else if (cp->index < 0)
					snprintf(want, sizeof want, "column %ld from the end", -cp->index);
				else
					snprintf(want, sizeof want, "column %ld", cp->index);
				return bbt_error(r->err, r->errlen, BBT_EFORMAT,
				                 "%s:%zu: missing %s for %s: the row has %zu column%s",
				                 r->path, r->rec_line, want, column_title(r, c), r->n_cols,
				                 r->n_cols == 1 ? "" : "s");
			}
			const char *v = r->scratch + r->col_off[idx];
			if (col->n_parts == 1) {
				*out = v;
				return 0;
			}
			join_part(r, pass, p, v, &total);
		}
		if (pass == 0 && join_reserve(r, &total) != 0)
			return reader_oom(r);
	}
	r->join[total] = '\0';
	*out = r->join;
	return 0;
}

/* Label text -> label index; -2 for the task's unlabelled marker. */
static int label_index(struct reader *r, const char *value, size_t line, int *label)
{
	/* Tolerate spaces around a label: they never distinguish two labels. */
	while (*value == ' ')
		value++;
	size_t len = strlen(value);
	while (len > 0 && value[len - 1] == ' ')
		len--;
	for (size_t i = 0; i < r->task->n_labels; i++) {
		const char *lv = r->src->label_values[i];
		if (strlen(lv) == len && memcmp(lv, value, len) == 0) {
			*label = (int)i;
			return 0;
		}
	}
	const char *skip = r->task->unlabelled;
	if (skip != NULL && strlen(skip) == len && memcmp(skip, value, len) == 0) {
		*label = -2;
		return 0;
	}
	char allowed[256] = "";
	for (size_t i = 0; i < r->task->n_labels; i++) {
		append(allowed, sizeof allowed, "%s", i ? ", " : "");
		append(allowed, sizeof allowed, "%s", r->src->label_values[i]);
	}
	return bbt_error(r->err, r->errlen, BBT_EFORMAT, "%s:%zu: label \"%.*s\" is not one of %s",
	                 r->path, line, (int)(len > 64 ? 64 : len), value, allowed);
}

/* The current record, split, as one example (or one skipped row). */
static int take_record(struct reader *r, bbt_dataset_t *ds, size_t *cap)
{
	size_t label_part0 = 0;
	for (size_t c = 0; c < r->task->n_fields; c++)
		label_part0 += column_of(r, c)->n_parts;
	const char *lv;
	int label, rc = column_value(r, r->task->n_fields, label_part0, &lv);
	if (rc == 0)
		rc = label_index(r, lv, r->rec_line, &label);
	if (rc < 0)
		return rc;
	if (label == -2) {
		ds->skipped++;
		return 0;
	}
	struct bbt_example *e = dataset_push(ds, cap);
	if (e == NULL)
		return reader_oom(r);
	e->label = label;
	e->line = r->rec_line;
	size_t part0 = 0;
	for (size_t c = 0; c < r->task->n_fields; c++) {
		const char *v;
		if ((rc = column_value(r, c, part0, &v)) < 0)
			return rc;
		if ((e->field[c] = bbt_strdup(v)) == NULL)
			return reader_oom(r);
		part0 += column_of(r, c)->n_parts;
	}
	return 0;
}

static int read_delimited(struct reader *r, bbt_dataset_t *ds)
{
	size_t cap = 0;
	int rc = next_record(r);
	if (rc <= 0)
		return rc;
	if ((rc = split_record(r)) < 0)
		return rc;
	/* Without a header this only sizes r->hdr; the record is data. */
	if ((rc = read_header(r)) < 0)
		return rc;
	if (!r->src->header && (rc = take_record(r, ds, &cap)) < 0)
		return rc;
	while ((rc = next_record(r)) > 0) {
		if ((rc = split_record(r)) < 0)
			return rc;
		if ((rc = take_record(r, ds, &cap)) < 0)
			return rc;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* JSON Lines */

static int json_column(struct reader *r, json_t *obj, size_t c, int is_label, const char **out)
{
	const struct bbt_column *col = column_of(r, c);
	size_t total = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t p = 0; p < col->n_parts; p++) {
			const char *key = col->parts[p].name;
			if (key == NULL)
				return bbt_error(r->err, r->errlen, BBT_EFORMAT,
				                 "%s:%zu: %s: JSON Lines columns are keys, not indices",
				                 r->path, r->rec_line, column_title(r, c));
			json_t *v = json_object_get(obj, key);
			char num[32];
			const char *s;
			if (v == NULL)
				return bbt_error(r->err, r->errlen, BBT_EFORMAT,
				                 "%s:%zu: missing key \"%s\" for %s", r->path, r->rec_line,
				                 key, column_title(r, c));
			if (json_is_string(v)) {
				s = json_string_value(v);
			} else if (is_label && json_is_integer(v)) {
				snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
				s = num;
			} else {
				return bbt_error(r->err, r->errlen, BBT_EFORMAT,
				                 "%s:%zu: key \"%s\": expected a string%s", r->path,
				                 r->rec_line, key, is_label ? " or an integer" : "");
			}
			join_part(r, pass, p, s, &total);
		}
		if (pass == 0 && join_reserve(r, &total) != 0)
			return reader_oom(r);
	}
	r->join[total] = '\0';
	*out = r->join;
	return 0;
}

static int read_jsonl(struct reader *r, bbt_dataset_t *ds)
{
	size_t cap = 0;
	long n;
	while ((n = next_line(r)) > 0) {
		size_t len = (size_t)n;
		strip_eol(r->line, &len);
		if (len == 0)
			continue;
		r->any = 1;
		r->rec_line = r->lineno;
		json_error_t jerr;
		json_t *obj = json_loadb(r->line, len, 0, &jerr);
		if (obj == NULL)
			return bbt_error(r->err, r->errlen, BBT_EFORMAT,
			                 "%s:%zu: expected one JSON object per line: %s (column %d)",
			                 r->path, r->lineno, jerr.text, jerr.column);
		if (!json_is_object(obj)) {
			json_decref(obj);
			return bbt_error(r->err, r->errlen, BBT_EFORMAT,
			                 "%s:%zu: expected a JSON object, got another JSON value",
			                 r->path, r->lineno);
		}
		const char *lv;
		int label, rc = json_column(r, obj, r->task->n_fields, 1, &lv);
		if (rc == 0)
			rc = label_index(r, lv, r->rec_line, &label);
		if (rc < 0) {
			json_decref(obj);
			return rc;
		}
		if (label == -2) {
			ds->skipped++;
			json_decref(obj);
			continue;
		}
		struct bbt_example *e = dataset_push(ds, &cap);
		if (e == NULL) {
			json_decref(obj);
			return reader_oom(r);
		}
		e->label = label;
		e->line = r->rec_line;
		for (size_t c = 0; c < r->task->n_fields; c++) {
			const char *v;
			if ((rc = json_column(r, obj, c, 0, &v)) < 0) {
				json_decref(obj);
				return rc;
			}
			if ((e->field[c] = bbt_strdup(v)) == NULL) {
				json_decref(obj);
				return reader_oom(r);
			}
		}
		json_decref(obj);
	}
	return (int)n;
}

/* ------------------------------------------------------------------ */

int bbt_dataset_read(const bbt_task_t *task, const struct bbt_source *src,
                     const char *path, bbt_dataset_t **out, char *err, size_t errlen)
{
	*out = NULL;
	char expect[320];
	describe_source(task, src, expect, sizeof expect);

	/* Opened without blocking and checked on the descriptor: a FIFO would
	 * wait for a writer in open(2), a device never ends. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return bbt_error(err, errlen, BBT_ENOTFOUND, "%s: no such file (expected %s)",
			                 path, expect);
		return bbt_error(err, errlen, BBT_EIO, "%s: %s (expected %s)", path, strerror(errno),
		                 expect);
	}
	struct stat st;
	const char *not_file = fstat(fd, &st) != 0 ? strerror(errno)
	                     : S_ISDIR(st.st_mode) ? "is a directory"
	                     : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
	FILE *f = not_file == NULL ? fdopen(fd, "rb") : NULL;
	if (f == NULL) {
		int rc = bbt_error(err, errlen, BBT_EIO, "%s: %s (expected %s)", path,
		                   not_file ? not_file : strerror(errno), expect);
		close(fd);
		return rc;
	}

	struct reader r;
	memset(&r, 0, sizeof r);
	r.task = task;
	r.src = src;
	r.path = path;
	r.f = f;
	r.err = err;
	r.errlen = errlen;

	int rc;
	bbt_dataset_t *ds = dataset_new(path, task->n_fields);
	if (ds == NULL)
		rc = reader_oom(&r);
	else if (src->format == BBT_FORMAT_JSONL)
		rc = read_jsonl(&r, ds);
	else
		rc = read_delimited(&r, ds);

	if (rc == 0 && ds->n == 0) {
		if (ds->skipped > 0)
			rc = bbt_error(err, errlen, BBT_EFORMAT,
			               "%s: no labelled examples (%zu %s marked \"%s\")", path,
			               ds->skipped, ds->skipped == 1 ? "row" : "rows", task->unlabelled);
		else if (!r.any)
			rc = bbt_error(err, errlen, BBT_EFORMAT, "%s:1: empty file, expected %s", path,
			               expect);
		else
			rc = bbt_error(err, errlen, BBT_EFORMAT, "%s:%zu: no examples%s, expected %s",
			               path, r.lineno + 1, src->header ? " after the header" : "",
			               expect);
	}
	fclose(f);
	free(r.line);
	free(r.rec);
	free(r.scratch);
	free(r.col_off);
	free(r.hdr);
	free(r.join);
	if (rc < 0) {
		bbt_dataset_free(ds);
		return rc;
	}
	*out = ds;
	return BBT_OK;
}
