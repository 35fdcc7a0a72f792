/*
 * report.c - a grid file's [report] section, and the folder it makes:
 * runs.csv, the tables, the figures and a README.md.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"
#include "experiments/plot.h"
#include "experiments/report.h"
#include "experiments/table.h"
#include "plugin/options.h"
#include "run/result_json.h"
#include "run/runconfig.h"
#include "run/trail.h"

enum spec_kind { SPEC_TABLE, SPEC_FIGURE };

/* One line of [report]: table.NAME or figure.NAME and its words. */
struct spec {
	enum spec_kind kind;
	char *name;
	size_t line;
	bbt_kvlist_t words;      /* word -> value, where= excepted */
	char **where;            /* "KEY=VALUE", in order */
	size_t nwhere;
};

struct bbt_report {
	char *path;
	struct spec *specs;
	size_t n;
};

static const char *spec_kind_name(const struct spec *s)
{
	return s->kind == SPEC_TABLE ? "table" : "figure";
}

static void spec_release(struct spec *s)
{
	free(s->name);
	bbt_kvlist_clear(&s->words);
	for (size_t w = 0; w < s->nwhere; w++)
		free(s->where[w]);
	free(s->where);
}

void bbt_report_free(bbt_report_t *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		spec_release(&r->specs[i]);
	free(r->specs);
	free(r->path);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Reading [report] */

static const char *const table_words =
	"rows|cols|metric|wilcoxon|alpha|pair-by|ci|where|best-on-dev";
static const char *const figure_words =
	"x|y|by|metric|x-axis|points|title|where|best-on-dev|reference";

static const char *word(const struct spec *s, const char *w)
{
	const struct bbt_kv *kv = bbt_kvlist_get(&s->words, w);
	return kv ? kv->value : NULL;
}

/* Each word's value is what the command-line option takes; checked here
 * so that a typo stops the report before its grid runs. */
static int check_word(const char *origin, const char *w, const char *v, char *err,
                      size_t errlen)
{
	double x;
	long l;
	int b;
	if (strcmp(w, "metric") == 0 && !bbt_resultset_metric_known(v))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: metric=%s: expected one of %s", origin,
		                 v, bbt_result_metric_list());
	if (strcmp(w, "wilcoxon") == 0 && bbt_parse_bool(v, &b) != 0)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: wilcoxon=%s: expected yes or no",
		                 origin, v);
	if (strcmp(w, "alpha") == 0 && (bbt_parse_double(v, &x) != 0 || x <= 0 || x >= 1))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: alpha=%s: expected a number in (0, 1)",
		                 origin, v);
	if (strcmp(w, "ci") == 0 && strcmp(v, "bootstrap") != 0)
		return bbt_error(err, errlen, BBT_EINVAL, "%s: ci=%s: expected bootstrap", origin, v);
	if (strcmp(w, "y") == 0 &&
	    !bbt_choice_valid("train_loss|dev_metric|test_metric|grad_cos|grad_norm_ratio", v))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: y=%s: expected train_loss, dev_metric, test_metric, grad_cos or "
		                 "grad_norm_ratio", origin, v);
	if (strcmp(w, "x-axis") == 0 && !bbt_choice_valid("calls|wall", v))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: x-axis=%s: expected calls or wall",
		                 origin, v);
	if (strcmp(w, "points") == 0 && (bbt_parse_long(v, &l) != 0 || l < 2 || l > 100000))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: points=%s: expected 2 to 100000",
		                 origin, v);
	if (strcmp(w, "x") == 0 && !bbt_name_is_plain(v))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: x=%s: expected %s", origin, v,
		                 BBT_PLAIN_WORD);
	if (strcmp(w, "where") == 0) {
		const char *eq = strchr(v, '=');
		if (eq == NULL || eq == v || eq[1] == '\0' || (eq == v + 1 && v[0] == '!'))
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: where=%s: expected where=KEY=VALUE or where=KEY!=VALUE "
			                 "(e.g. where=task=sst2)",
			                 origin, v);
	}
	return BBT_OK;
}

/* The next word of a spec, "KEY=VALUE" or KEY="VALUE WITH SPACES", cut
 * in place; NULL at the end, or with *bad set when it has no '='. */
static char *next_word(char **cur, char **value, int *bad)
{
	char *s = *cur + strspn(*cur, " \t");
	*bad = 0;
	if (*s == '\0')
		return NULL;
	char *key = s, *eq = s + strcspn(s, "= \t");
	if (*eq != '=') {
		*bad = 1;
		*eq = '\0';
		return key;
	}
	*eq = '\0';
	char *v = eq + 1, *end;
	if (*v == '"' && (end = strchr(v + 1, '"')) != NULL) {
		v++;
	} else {
		end = v + strcspn(v, " \t");
	}
	*cur = *end ? end + 1 : end;
	*end = '\0';
	*value = v;
	return key;
}

static int add_spec(bbt_report_t *r, const struct bbt_ini_line *l, char *err, size_t errlen)
{
	char origin[BBT_ERRLEN];
	snprintf(origin, sizeof origin, "%s:%zu: %s", r->path, l->line, l->key);
	const char *dot = strchr(l->key, '.');
	struct spec s = { .line = l->line };
	if (dot != NULL && (size_t)(dot - l->key) == 5 && strncasecmp(l->key, "table", 5) == 0)
		s.kind = SPEC_TABLE;
	else if (dot != NULL && (size_t)(dot - l->key) == 6 && strncasecmp(l->key, "figure", 6) == 0)
		s.kind = SPEC_FIGURE;
	else
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: [report] holds table.NAME = ... and figure.NAME = ... lines",
		                 origin);
	if (!bbt_name_is_plain(dot + 1))
		return bbt_error(err, errlen, BBT_EINVAL, "%s: the name names its files: expected %s",
		                 origin, BBT_PLAIN_WORD);
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->specs[i].name, dot + 1) == 0)
			return bbt_error(err, errlen, BBT_EINVAL, "%s: '%s' is named on line %zu too",
			                 origin, dot + 1, r->specs[i].line);
	if ((s.name = bbt_strdup(dot + 1)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	char *text = bbt_strdup(l->value), *cur = text, *key, *value = NULL;
	int rc = text ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	const char *allowed = s.kind == SPEC_TABLE ? table_words : figure_words;
	int bad;
	while (rc == BBT_OK && (key = next_word(&cur, &value, &bad)) != NULL) {
		if (bad || !bbt_choice_valid(allowed, key)) {
			char list[160] = "";
			for (const char *a = allowed; *a; a += *a == '|') {
				size_t w = strcspn(a, "|"), len = strlen(list);
				snprintf(list + len, sizeof list - len, "%s%.*s", len ? ", " : "", (int)w, a);
				a += w;
			}
			rc = bbt_error(err, errlen, BBT_EINVAL, "%s: '%s': expected KEY=VALUE, KEY one of %s",
			               origin, key, list);
			break;
		}
		rc = value[0] == '\0'
			? bbt_error(err, errlen, BBT_EINVAL, "%s: %s= needs a value", origin, key)
			: check_word(origin, key, value, err, errlen);
		if (rc != BBT_OK)
			break;
		if (strcmp(key, "where") == 0) {
			char **w = realloc(s.where, (s.nwhere + 1) * sizeof *w);
			if (w == NULL || (w[s.nwhere] = bbt_strdup(value)) == NULL) {
				if (w != NULL)
					s.where = w;
				rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
				break;
			}
			s.where = w;
			s.nwhere++;
		} else if (bbt_kvlist_get(&s.words, key) != NULL) {
			rc = bbt_error(err, errlen, BBT_EINVAL, "%s: %s= given twice", origin, key);
		} else if (bbt_kvlist_set(&s.words, key, value, NULL) < 0) {
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		}
	}
	free(text);
	if (rc == BBT_OK && s.kind == SPEC_FIGURE && word(&s, "x") != NULL && word(&s, "y") != NULL)
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "%s: x= draws a metric against a key, y= a convergence figure: give one",
		               origin);
	if (rc == BBT_OK && s.kind == SPEC_FIGURE && word(&s, "x") != NULL &&
	    word(&s, "x-axis") != NULL)
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "%s: x-axis= is for a convergence figure (y=), not one against x=", origin);
	struct spec *n = rc == BBT_OK ? realloc(r->specs, (r->n + 1) * sizeof *n) : NULL;
	if (rc == BBT_OK && n == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc != BBT_OK) {
		spec_release(&s);
		return rc;
	}
	r->specs = n;
	r->specs[r->n++] = s;
	return BBT_OK;
}

static int report_line(const struct bbt_ini_line *l, void *ctx, char *err, size_t errlen)
{
	if (strcmp(l->section, "report") != 0 || l->key == NULL)
		return BBT_OK;
	return add_spec(ctx, l, err, errlen);
}

int bbt_report_load(const char *path, bbt_report_t **out, char *err, size_t errlen)
{
	*out = NULL;
	bbt_report_t *r = calloc(1, sizeof *r);
	if (r == NULL || (r->path = bbt_strdup(path)) == NULL) {
		bbt_report_free(r);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	int rc = bbt_ini_scan_file(path, report_line, r, err, errlen);
	if (rc < 0) {
		bbt_report_free(r);
		return rc;
	}
	*out = r;
	return BBT_OK;
}

/* ------------------------------------------------------------------ */
/* runs.csv */

struct columns {
	const char **name;      /* borrowed from the result set */
	size_t n, cap, nkeys;   /* the first nkeys are keys (run_id and settings) */
};

static int add_column(struct columns *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return BBT_OK;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		const char **v = realloc(c->name, cap * sizeof *v);
		if (v == NULL)
			return BBT_ENOMEM;
		c->name = v;
		c->cap = cap;
	}
	c->name[c->n++] = name;
	return BBT_OK;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Run i's value in a column (a key, or a fact); NULL when it has none. */
static const char *cell(const bbt_resultset_t *rs, size_t i, const struct columns *c, size_t col)
{
	const char *k, *v;
	if (col < c->nkeys)
		return bbt_resultset_key_value(rs, i, c->name[col], &v) ? v : NULL;
	for (size_t n = 0; (k = bbt_resultset_fact(rs, i, n, &v)) != NULL; n++)
		if (strcmp(k, c->name[col]) == 0)
			return v;
	return NULL;
}

static int cmp_runs(const bbt_resultset_t *rs, const struct columns *c, size_t a, size_t b)
{
	/* The settings left to right, then the run id, then the folder. */
	for (size_t col = 1; col <= c->nkeys; col++) {
		size_t k = col < c->nkeys ? col : 0;
		const char *x = cell(rs, a, c, k), *y = cell(rs, b, c, k);
		int d = bbt_resultset_value_cmp(x ? x : "", y ? y : "");
		if (d != 0)
			return d;
	}
	return strcmp(bbt_resultset_run_dir(rs, a), bbt_resultset_run_dir(rs, b));
}

/* Merge sort of run indices (qsort has no context argument in C11). */
static void sort_runs(const bbt_resultset_t *rs, const struct columns *c, size_t *v, size_t *tmp,
                      size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_runs(rs, c, v, tmp, h);
	sort_runs(rs, c, v + h, tmp, n - h);
	size_t i = 0, j = h, o = 0;
	while (i < h || j < n)
		tmp[o++] = j == n || (i < h && cmp_runs(rs, c, v[i], v[j]) <= 0) ? v[i++] : v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

int bbt_report_runs_csv(const bbt_resultset_t *rs, FILE *f, char *err, size_t errlen)
{
	size_t n = bbt_resultset_count(rs);
	struct columns c = { 0 };
	size_t *order = malloc((n ? n : 1) * sizeof *order), *tmp = malloc((n ? n : 1) * sizeof *tmp);
	int rc = order && tmp ? add_column(&c, "run_id") : BBT_ENOMEM;
	/* The keys in an order that does not depend on which runs there are:
	 * the settings in `bbtbench run --help`'s order, then the options by
	 * name. Where a run wrote its files ("out") is this machine's, and a
	 * combined key ("q,mu") is no setting. */
	for (size_t s = 0; rc == BBT_OK && s < bbt_config_key_count(); s++) {
		const char *name = bbt_config_key_name(s), *v;
		for (size_t i = 0; rc == BBT_OK && i < n; i++)
			if (strcmp(name, "out") != 0 && bbt_resultset_key_value(rs, i, name, &v))
				rc = add_column(&c, name);
	}
	size_t first_option = c.n;
	for (size_t i = 0; rc == BBT_OK && i < n; i++) {
		const char *k, *v;
		for (size_t j = 0; rc == BBT_OK && (k = bbt_resultset_key(rs, i, j, &v)) != NULL; j++)
			if (strchr(k, '.') != NULL && strchr(k, ',') == NULL)
				rc = add_column(&c, k);
	}
	if (rc == BBT_OK)
		qsort(c.name + first_option, c.n - first_option, sizeof *c.name, cmp_names);
	c.nkeys = c.n;
	for (size_t i = 0; rc == BBT_OK && i < n; i++) {
		const char *k, *v;
		for (size_t j = 0; rc == BBT_OK && (k = bbt_resultset_fact(rs, i, j, &v)) != NULL; j++)
			rc = add_column(&c, k);
	}
	if (rc == BBT_OK) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		sort_runs(rs, &c, order, tmp, n);
		for (size_t col = 0; col < c.n; col++) {
			fputs(col ? "," : "", f);
			bbt_csv_field(f, c.name[col]);
		}
		fputc('\n', f);
		for (size_t r = 0; r < n; r++) {
			for (size_t col = 0; col < c.n; col++) {
				const char *v = cell(rs, order[r], &c, col);
				fputs(col ? "," : "", f);
				bbt_csv_field(f, v ? v : "");
			}
			fputc('\n', f);
		}
	}
	free(c.name);
	free(order);
	free(tmp);
	if (rc < 0)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return ferror(f) ? bbt_error(err, errlen, BBT_EIO, "runs.csv: output error") : BBT_OK;
}

/* ------------------------------------------------------------------ */
/* The folder */

/* Text made in memory, then written whole under dest (atomically: a
 * reader never sees half a table). */
struct memfile {
	char *s;
	size_t len;
	FILE *f;
};

static int memfile_open(struct memfile *m, char *err, size_t errlen)
{
	*m = (struct memfile){ 0 };
	if ((m->f = open_memstream(&m->s, &m->len)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return BBT_OK;
}

static int memfile_save(struct memfile *m, const char *dest, const char *name, char *err,
                        size_t errlen)
{
	int rc = fclose(m->f) == 0 ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	m->f = NULL;
	char *path = rc == BBT_OK ? bbt_path_join(dest, name) : NULL;
	if (rc == BBT_OK && path == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK)
		rc = bbt_file_write_atomic(path, m->s, m->len, err, errlen);
	free(path);
	return rc;
}

static void memfile_release(struct memfile *m)
{
	if (m->f != NULL)
		fclose(m->f);
	free(m->s);
}

/* The runs of a spec: every finished run, narrowed by its where= words,
 * then its best-on-dev= choice (said in note). */
static int spec_runs(const bbt_report_t *r, const struct spec *s, const char *results_dir,
                     bbt_resultset_t **rs, FILE *note, char *err, size_t errlen)
{
	int rc = bbt_resultset_load(results_dir, 0, rs, err, errlen);
	for (size_t w = 0; rc == BBT_OK && w < s->nwhere; w++) {
		char *key = bbt_strdup(s->where[w]);
		if (key == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		char *eq = strchr(key, '=');
		int equal = key[eq - key - 1] != '!';   /* KEY!=VALUE: the runs without it */
		*eq = '\0';
		if (!equal)
			eq[-1] = '\0';
		bbt_resultset_keep(*rs, key, eq + 1, equal);
		if (bbt_resultset_count(*rs) == 0)
			rc = bbt_error(err, errlen, BBT_ENOTFOUND,
			               "%s:%zu: %s.%s: where=%s: no finished run has %s %s %s", r->path,
			               s->line, spec_kind_name(s), s->name, s->where[w], key,
			               equal ? "=" : "other than", eq + 1);
		free(key);
	}
	const char *choose = word(s, "best-on-dev");
	if (rc == BBT_OK && choose != NULL && bbt_resultset_best_on_dev(*rs, choose, note) < 0)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return rc;
}

static int write_table(const struct spec *s, const bbt_resultset_t *rs, const char *dest,
                       FILE *readme, char *err, size_t errlen)
{
	struct bbt_table_params p = bbt_table_default_params();
	const char *v;
	int b;
	if ((v = word(s, "rows")) != NULL)
		p.rows = v;
	p.cols = word(s, "cols");
	if ((v = word(s, "metric")) != NULL)
		p.metric = v;
	if ((v = word(s, "wilcoxon")) != NULL && bbt_parse_bool(v, &b) == 0)
		p.wilcoxon = b;
	if ((v = word(s, "alpha")) != NULL)
		bbt_parse_double(v, &p.alpha);
	if ((v = word(s, "pair-by")) != NULL)
		p.pair_by = v;
	p.ci_bootstrap = word(s, "ci") != NULL;
	static const char *const formats[][2] = { { "md", "md" }, { "latex", "tex" } };
	int rc = BBT_OK;
	for (size_t fmt = 0; rc == BBT_OK && fmt < 2; fmt++) {
		struct memfile m;
		p.format = formats[fmt][0];
		rc = memfile_open(&m, err, errlen);
		if (rc == BBT_OK)
			rc = bbt_table_write(rs, &p, m.f, err, errlen);
		if (rc == BBT_OK && fmt == 0) {
			fflush(m.f);
			fprintf(readme, "## %s\n\n%s\n", s->name, m.s);
		}
		char *name = bbt_asprintf("%s.%s", s->name, formats[fmt][1]);
		if (rc == BBT_OK)
			rc = name ? memfile_save(&m, dest, name, err, errlen)
			          : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		free(name);
		memfile_release(&m);
	}
	return rc;
}

/* A test_metric figure draws each tuned run's eval-trail-test.tsv: made
 * here, as `bbtbench eval RUN --trail` makes it, where it is missing or
 * not the finished run's. Without a registry (--no-run) nothing is made,
 * and the figure names the run that lacks it. */
static int make_trails(const bbt_resultset_t *rs, bbt_registry_t *reg, char *err,
                       size_t errlen)
{
	struct bbt_saved_params sp = bbt_saved_default_params();
	for (size_t i = 0; reg != NULL && i < bbt_resultset_count(rs); i++) {
		const char *method = bbt_resultset_value(rs, i, "method"),
		           *dir = bbt_resultset_run_dir(rs, i);
		if (method != NULL && strcmp(method, "tune") != 0)
			continue;  /* a baseline is a reference line: its result.json's */
		struct bbt_trail tr;
		char why[BBT_ERRLEN];
		int rc = bbt_trail_load(dir, &tr, why, sizeof why);
		bbt_trail_release(&tr);
		if (rc == BBT_ENOMEM || rc == BBT_EIO)
			return bbt_error(err, errlen, rc, "%s", why);
		if (rc == BBT_OK)
			continue;
		size_t rows;
		if ((rc = bbt_trail_eval(dir, "test", &sp, reg, NULL, &rows, err, errlen)) < 0)
			return rc;
		bbt_log(BBT_LOG_INFO, NULL, "%s: %s: %zu prompt%s chosen on dev, scored on test",
		        dir, BBT_TRAIL_TEST_NAME, rows, rows == 1 ? "" : "s");
	}
	return BBT_OK;
}

static int write_figure(const struct spec *s, bbt_resultset_t *rs, const char *dest,
                        bbt_registry_t *reg, FILE *readme, char *err, size_t errlen)
{
	struct bbt_plot_params p = bbt_plot_default_params();
	const char *v;
	long points;
	p.out_dir = dest;
	p.name = s->name;
	p.x = word(s, "x");
	p.convergence = p.x == NULL;
	if ((v = word(s, "y")) != NULL)
		p.y = v;
	if ((v = word(s, "by")) != NULL)
		p.by = v;
	if ((v = word(s, "metric")) != NULL)
		p.metric = v;
	if ((v = word(s, "x-axis")) != NULL)
		p.x_axis = v;
	if ((v = word(s, "points")) != NULL && bbt_parse_long(v, &points) == 0)
		p.points = (size_t)points;
	p.title = word(s, "title");
	p.reference = word(s, "reference");
	if (bbt_resultset_combine_keys(rs, p.by) < 0)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	char *written[4];
	size_t nw = 0;
	int rc = p.convergence && strcmp(p.y, "test_metric") == 0
	                 ? make_trails(rs, reg, err, errlen) : BBT_OK;
	if (rc == BBT_OK)
		rc = bbt_plot_draw(rs, &p, written, 4, &nw, err, errlen);
	for (size_t i = 0; i < nw; i++)
		free(written[i]);
	/* The README shows the figure even when gnuplot is missing here: the
	 * script beside it draws it. */
	if (rc == BBT_OK || rc == BBT_ENOTFOUND)
		fprintf(readme, "## %s\n\n![%s](%s.png)\n\n[SVG](%s.svg), numbers: [%s.dat](%s.dat)\n\n",
		        s->name, s->name, s->name, s->name, s->name, s->name);
	return rc;
}

int bbt_report_write(const bbt_report_t *r, const char *results_dir, const char *dest,
                     bbt_registry_t *reg, char *err, size_t errlen)
{
	/* The runs first: no results, no folder. */
	bbt_resultset_t *all = NULL;
	struct memfile csv = { 0 }, readme = { 0 };
	int rc = bbt_resultset_load(results_dir, 0, &all, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_mkdir_p(dest, err, errlen);
	if (rc == BBT_OK)
		rc = memfile_open(&csv, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_report_runs_csv(all, csv.f, err, errlen);
	if (rc == BBT_OK)
		rc = memfile_save(&csv, dest, "runs.csv", err, errlen);
	if (rc == BBT_OK)
		rc = memfile_open(&readme, err, errlen);
	if (rc == BBT_OK) {
		const char *base = strrchr(dest, '/');
		fprintf(readme.f,
		        "# %s\n\n"
		        "Made by `bbtbench report %s` from %zu finished runs, one row each in\n"
		        "[runs.csv](runs.csv) (settings, seeds, metrics, API calls, tokens scored,\n"
		        "wall time, BLAS core and threads, bbtbench version, model file's SHA-256).\n"
		        "The same command makes this folder again, running or resuming the grid\n"
		        "first; with `--no-run` it only redraws it from the finished runs.\n\n",
		        base && base[1] ? base + 1 : dest, r->path, bbt_resultset_count(all));
	}
	/* A figure gnuplot could not draw is said once at the end; everything
	 * else is written first. */
	int missing = BBT_OK;
	char missing_err[BBT_ERRLEN] = "";
	for (size_t i = 0; rc == BBT_OK && i < r->n; i++) {
		const struct spec *s = &r->specs[i];
		bbt_resultset_t *rs = NULL;
		struct memfile note = { 0 };
		rc = memfile_open(&note, err, errlen);
		if (rc == BBT_OK)
			rc = spec_runs(r, s, results_dir, &rs, note.f, err, errlen);
		if (rc == BBT_OK)
			rc = s->kind == SPEC_TABLE ? write_table(s, rs, dest, readme.f, err, errlen)
			                           : write_figure(s, rs, dest, reg, readme.f, err, errlen);
		if (note.f != NULL && fflush(note.f) == 0 && note.len > 0)
			fprintf(readme.f, "%s chosen on the dev metric (best-on-dev):\n\n%s\n",
			        word(s, "best-on-dev"), note.s);
		memfile_release(&note);
		if (rc == BBT_ENOTFOUND && s->kind == SPEC_FIGURE && missing == BBT_OK &&
		    strstr(err, "gnuplot") != NULL) {
			missing = rc;
			snprintf(missing_err, sizeof missing_err, "%s", err);
			rc = BBT_OK;
		} else if (rc < 0 && strncmp(err, r->path, strlen(r->path)) != 0) {
			bbt_error_prefix(err, errlen, "%s:%zu: %s.%s", r->path, s->line, spec_kind_name(s),
			                 s->name);
		}
		bbt_resultset_free(rs);
	}
	if (rc == BBT_OK)
		rc = memfile_save(&readme, dest, "README.md", err, errlen);
	memfile_release(&csv);
	memfile_release(&readme);
	bbt_resultset_free(all);
	if (rc == BBT_OK && missing != BBT_OK)
		rc = bbt_error(err, errlen, missing, "%s", missing_err);
	return rc;
}
