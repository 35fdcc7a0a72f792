/*
 * table.c - results tables: grouping, mean ± std, best cells, Wilcoxon
 * marks, and Markdown / LaTeX (booktabs) / CSV / JSON output.
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "experiments/stats.h"
#include "experiments/table.h"
#include "core/util.h"
#include "run/result_json.h"

#define MAX_ROW_KEYS 4
#define MAX_PAIR_KEYS 4

/* --ci bootstrap: the interval's level, its resamples, and the seed of
 * every cell's resampling (a cell's interval depends on its runs only). */
#define CI_LEVEL 0.95
#define CI_RESAMPLES 10000
#define CI_SEED 1

struct bbt_table_params bbt_table_default_params(void)
{
	return (struct bbt_table_params){ .rows = "optimizer", .cols = NULL, .metric = "test_metric",
		                              .format = "md", .wilcoxon = 0, .alpha = 0.05,
		                              .pair_by = NULL };
}

struct row {
	const char *v[MAX_ROW_KEYS];
	size_t nk;
};

struct cell {
	double *x;            /* metric of each run */
	char **pair;          /* its pairing keys' values, joined */
	size_t n;
	double mean, std, p;  /* p: NaN when not tested */
	double ci_lo, ci_hi;  /* bootstrap interval of the mean; NaN when not asked */
	int best, sig;
};

struct tab {
	const struct bbt_table_params *p;
	const char *metric_label;      /* the metric in words, for headers and notes */
	char *keybuf;                  /* the row keys, split in place */
	const char *rk[MAX_ROW_KEYS];
	size_t nrk;
	char *pairbuf;                 /* the pairing keys, split in place */
	const char *pk[MAX_PAIR_KEYS]; /* the keys that pair runs across cells */
	size_t npk;
	struct row *rows;
	size_t nrows;
	const char **cols;
	size_t ncols;
	struct cell *cells;            /* nrows x ncols */
	int counts_differ;
	/* The cells tested, their fewest and most non-zero differences and
	 * the smallest p they could give (1 when none was tested). */
	size_t tested, min_pairs, max_pairs;
	double min_possible_p;
};

static const char *value_or_dash(const bbt_resultset_t *rs, size_t i, const char *key)
{
	const char *v = bbt_resultset_value(rs, i, key);
	return v ? v : "-";
}

static int cmp_row(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	for (size_t k = 0; k < a->nk; k++) {
		int c = bbt_resultset_value_cmp(a->v[k], b->v[k]);
		if (c != 0)
			return c;
	}
	return 0;
}

static int cmp_col(const void *pa, const void *pb)
{
	return bbt_resultset_value_cmp(*(const char *const *)pa, *(const char *const *)pb);
}

static void row_of(const struct tab *t, const bbt_resultset_t *rs, size_t i, struct row *r)
{
	r->nk = t->nrk;
	for (size_t k = 0; k < t->nrk; k++)
		r->v[k] = value_or_dash(rs, i, t->rk[k]);
}

static size_t find_row(const struct tab *t, const struct row *r)
{
	for (size_t i = 0; i < t->nrows; i++) {
		int same = 1;
		for (size_t k = 0; k < r->nk; k++)
			same &= strcmp(t->rows[i].v[k], r->v[k]) == 0;
		if (same)
			return i;
	}
	return SIZE_MAX;
}

static size_t find_col(const struct tab *t, const char *c)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i], c) == 0)
			return i;
	return SIZE_MAX;
}

static void tab_release(struct tab *t)
{
	for (size_t i = 0; t->cells != NULL && i < t->nrows * t->ncols; i++) {
		free(t->cells[i].x);
		for (size_t r = 0; r < t->cells[i].n; r++)
			free(t->cells[i].pair[r]);
		free(t->cells[i].pair);
	}
	free(t->cells);
	free(t->rows);
	free(t->cols);
	free(t->keybuf);
	free(t->pairbuf);
}

static int any_has(const bbt_resultset_t *rs, const char *key)
{
	for (size_t i = 0; i < bbt_resultset_count(rs); i++)
		if (bbt_resultset_value(rs, i, key) != NULL)
			return 1;
	return 0;
}

/* Per pairing value, the mean of a cell's runs with it. */
static size_t by_pair(const struct cell *c, const char **keys, double *vals)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++) {
		size_t j = 0;
		while (j < n && strcmp(keys[j], c->pair[i]) != 0)
			j++;
		if (j == n) {
			keys[n] = c->pair[i];
			vals[n] = 0;
			n++;
		}
		vals[j] += c->x[i];
	}
	for (size_t j = 0; j < n; j++) {
		size_t cnt = 0;
		for (size_t i = 0; i < c->n; i++)
			cnt += strcmp(keys[j], c->pair[i]) == 0;
		vals[j] /= (double)cnt;
	}
	return n;
}

/* Two-sided paired test of cell c against the best cell b: *p (NaN when
 * they share no pairing key) and the non-zero differences it used. */
static int test_cell(const struct cell *c, const struct cell *b, double *p, size_t *n_used)
{
	size_t cap = c->n + b->n + 1;
	const char **kc = malloc(cap * sizeof *kc), **kb = malloc(cap * sizeof *kb);
	double *vc = malloc(cap * sizeof *vc), *vb = malloc(cap * sizeof *vb);
	double *d = malloc(cap * sizeof *d);
	int rc = BBT_OK;
	if (!kc || !kb || !vc || !vb || !d) {
		rc = BBT_ENOMEM;
	} else {
		size_t nc = by_pair(c, kc, vc), nb = by_pair(b, kb, vb), nd = 0;
		for (size_t i = 0; i < nc; i++)
			for (size_t j = 0; j < nb; j++)
				if (strcmp(kc[i], kb[j]) == 0)
					d[nd++] = vc[i] - vb[j];
		int exact;
		*p = NAN;
		*n_used = 0;
		if (nd > 0)
			rc = bbt_stats_wilcoxon(d, nd, p, n_used, &exact);
	}
	free(kc);
	free(kb);
	free(vc);
	free(vb);
	free(d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* What a cell may average: runs that differ in their seeds only */

/* The seeds a cell averages over (with the --pair-by key). */
static const char *const seed_keys[] = { "seed", "data-seed" };
#define N_SEED_KEYS (sizeof seed_keys / sizeof seed_keys[0])

/* Keys that are no setting of the experiment: the seeds, the run's name,
 * and where it read and wrote its files. */
static int is_seed_or_place(const struct tab *t, const char *key)
{
	static const char *const places[] = { "run_id", "out", "data-dir" };
	for (size_t i = 0; i < N_SEED_KEYS; i++)
		if (strcmp(key, seed_keys[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
		if (strcmp(key, places[i]) == 0)
			return 1;
	for (size_t k = 0; k < t->npk; k++)
		if (strcmp(key, t->pk[k]) == 0)
			return 1;
	return 0;
}

static int same_cell(const struct tab *t, const bbt_resultset_t *rs, size_t i, size_t j)
{
	for (size_t k = 0; k < t->nrk; k++)
		if (strcmp(value_or_dash(rs, i, t->rk[k]), value_or_dash(rs, j, t->rk[k])) != 0)
			return 0;
	return t->p->cols == NULL ||
	       strcmp(value_or_dash(rs, i, t->p->cols), value_or_dash(rs, j, t->p->cols)) == 0;
}

#define MAX_DIFFERING 16

/* Add to diff (borrowed names, each once) the settings in which runs i
 * and j differ. */
static void add_differing(const struct tab *t, const bbt_resultset_t *rs, size_t i, size_t j,
                          const char **diff, size_t *nd)
{
	size_t runs[2] = { i, j };
	for (size_t r = 0; r < 2; r++) {
		const char *k, *v;
		for (size_t n = 0; (k = bbt_resultset_key(rs, runs[r], n, &v)) != NULL; n++) {
			const char *other;
			if ((bbt_resultset_key_value(rs, runs[1 - r], k, &other) && strcmp(other, v) == 0) ||
			    is_seed_or_place(t, k))
				continue;
			size_t d = 0;
			while (d < *nd && strcmp(diff[d], k) != 0)
				d++;
			if (d == *nd && *nd < MAX_DIFFERING)
				diff[(*nd)++] = k;
		}
	}
}

static int same_seeds(const struct tab *t, const bbt_resultset_t *rs, size_t i, size_t j)
{
	for (size_t k = 0; k < N_SEED_KEYS; k++)
		if (strcmp(value_or_dash(rs, i, seed_keys[k]), value_or_dash(rs, j, seed_keys[k])) != 0)
			return 0;
	for (size_t k = 0; k < t->npk; k++)
		if (strcmp(value_or_dash(rs, i, t->pk[k]), value_or_dash(rs, j, t->pk[k])) != 0)
			return 0;
	return 1;
}

static int varies(const bbt_resultset_t *rs, const char *key)
{
	for (size_t i = 1; i < bbt_resultset_count(rs); i++)
		if (strcmp(value_or_dash(rs, i, key), value_or_dash(rs, 0, key)) != 0)
			return 1;
	return 0;
}

/* The keys that pair runs across cells: --pair-by's list, or else every
 * seed key that varies (split and run seed together: paired by the run
 * seed alone, a grid over five splits would average them into one pair
 * per run seed), or "seed" when none does. */
static int pair_keys(struct tab *t, const bbt_resultset_t *rs, char *err, size_t errlen)
{
	if (t->p->pair_by == NULL) {
		for (size_t k = 0; k < N_SEED_KEYS; k++)
			if (varies(rs, seed_keys[k]))
				t->pk[t->npk++] = seed_keys[k];
		if (t->npk == 0)
			t->pk[t->npk++] = "seed";
		return BBT_OK;
	}
	if ((t->pairbuf = bbt_strdup(t->p->pair_by)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (char *save = NULL, *k = strtok_r(t->pairbuf, ",", &save); k != NULL;
	     k = strtok_r(NULL, ",", &save)) {
		if (t->npk == MAX_PAIR_KEYS)
			return bbt_error(err, errlen, BBT_EINVAL, "--pair-by: at most %d keys",
			                 MAX_PAIR_KEYS);
		t->pk[t->npk++] = k;
	}
	if (t->npk == 0)
		return bbt_error(err, errlen, BBT_EINVAL, "--pair-by: expected KEY[,KEY...]");
	return BBT_OK;
}

/* Run i's pairing: its pairing keys' values, joined by '/'. */
static char *pair_of(const struct tab *t, const bbt_resultset_t *rs, size_t i)
{
	size_t len = 1;
	for (size_t k = 0; k < t->npk; k++)
		len += strlen(value_or_dash(rs, i, t->pk[k])) + 1;
	char *s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (size_t k = 0; k < t->npk; k++) {
		if (k > 0)
			strcat(s, "/");
		strcat(s, value_or_dash(rs, i, t->pk[k]));
	}
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A cell's mean ± std is over seeds: runs of one cell that differ in
 * another setting split it, that setting becoming a row key (said on
 * stderr; too many to show: refused, naming them). The same settings
 * and seeds twice (a folder copied) are refused, naming both. */
static int split_cells(struct tab *t, const bbt_resultset_t *rs, char *err, size_t errlen)
{
	size_t n = bbt_resultset_count(rs), nd = 0;
	const char *diff[MAX_DIFFERING];
	size_t *first = malloc((n ? n : 1) * sizeof *first), ncells = 0;
	if (first == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	/* A setting in which two runs of a cell differ is one in which one of
	 * them differs from the cell's first run. */
	for (size_t i = 0; i < n; i++) {
		size_t c = 0;
		while (c < ncells && !same_cell(t, rs, first[c], i))
			c++;
		if (c == ncells)
			first[ncells++] = i;
		else
			add_differing(t, rs, i, first[c], diff, &nd);
	}
	free(first);
	if (nd > 0) {
		qsort(diff, nd, sizeof *diff, cmp_str);
		char listed[512] = "";
		for (size_t d = 0; d < nd; d++) {
			size_t l = strlen(listed);
			snprintf(listed + l, sizeof listed - l, "%s%s", d ? ", " : "", diff[d]);
		}
		if (t->nrk + nd > MAX_ROW_KEYS)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "the runs of one cell differ in %s%s besides their seeds: too "
			                 "many to split the rows by (at most %d row keys); give --rows "
			                 "and --cols that tell them apart, or a folder that holds fewer",
			                 listed, nd == MAX_DIFFERING ? ", ..." : "", MAX_ROW_KEYS);
		for (size_t d = 0; d < nd; d++)
			t->rk[t->nrk++] = diff[d];
		bbt_log(BBT_LOG_INFO, NULL,
		        "table: the runs of one cell differ in %s besides their seeds: rows split by %s",
		        listed, nd == 1 ? "it" : "them");
	}
	/* Now the runs of a cell differ in nothing but their seeds, so two
	 * with the same seeds are one run twice. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (same_seeds(t, rs, i, j) && same_cell(t, rs, i, j))
				return bbt_error(err, errlen, BBT_EINVAL,
				                 "%s and %s: the same settings and seeds in one cell (one "
				                 "run copied twice?); leave one out",
				                 bbt_resultset_run_dir(rs, j), bbt_resultset_run_dir(rs, i));
	return BBT_OK;
}

static int build(struct tab *t, const bbt_resultset_t *rs, char *err, size_t errlen)
{
	const struct bbt_table_params *p = t->p;
	size_t n = bbt_resultset_count(rs);
	t->keybuf = bbt_strdup(p->rows && p->rows[0] ? p->rows : "optimizer");
	if (t->keybuf == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (char *save = NULL, *k = strtok_r(t->keybuf, ",", &save); k != NULL;
	     k = strtok_r(NULL, ",", &save)) {
		if (t->nrk == MAX_ROW_KEYS)
			return bbt_error(err, errlen, BBT_EINVAL, "--rows: at most %d keys",
			                 MAX_ROW_KEYS);
		t->rk[t->nrk++] = k;
	}
	for (size_t k = 0; k < t->nrk; k++)
		if (!any_has(rs, t->rk[k]))
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "--rows: no run has a setting or option '%s'", t->rk[k]);
	if (p->cols != NULL && !any_has(rs, p->cols))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--cols: no run has a setting or option '%s'", p->cols);
	int rc = pair_keys(t, rs, err, errlen);
	if (rc == BBT_OK)
		rc = split_cells(t, rs, err, errlen);
	if (rc < 0)
		return rc;

	t->rows = malloc(n * sizeof *t->rows);
	t->cols = malloc(n * sizeof *t->cols);
	if (t->rows == NULL || t->cols == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct row r;
		row_of(t, rs, i, &r);
		if (find_row(t, &r) == SIZE_MAX)
			t->rows[t->nrows++] = r;
		const char *c = p->cols ? value_or_dash(rs, i, p->cols) : p->metric;
		if (find_col(t, c) == SIZE_MAX)
			t->cols[t->ncols++] = c;
	}
	qsort(t->rows, t->nrows, sizeof *t->rows, cmp_row);
	qsort(t->cols, t->ncols, sizeof *t->cols, cmp_col);

	t->cells = calloc(t->nrows * t->ncols, sizeof *t->cells);
	if (t->cells == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		double x = bbt_resultset_metric(rs, i, p->metric);
		if (isnan(x))
			continue;
		struct row r;
		row_of(t, rs, i, &r);
		size_t ri = find_row(t, &r);
		size_t ci = find_col(t, p->cols ? value_or_dash(rs, i, p->cols) : p->metric);
		struct cell *c = &t->cells[ri * t->ncols + ci];
		double *nx = realloc(c->x, (c->n + 1) * sizeof *nx);
		if (nx != NULL)
			c->x = nx;
		char **np = realloc(c->pair, (c->n + 1) * sizeof *np);
		if (np != NULL)
			c->pair = np;
		char *pair = nx && np ? pair_of(t, rs, i) : NULL;
		if (pair == NULL)
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		c->x[c->n] = x;
		c->pair[c->n] = pair;
		c->n++;
	}

	/* Statistics, best per column, tests against it. */
	size_t first_n = SIZE_MAX;
	int higher = bbt_resultset_metric_higher_better(p->metric);
	for (size_t ci = 0; ci < t->ncols; ci++) {
		double best = NAN;
		for (size_t ri = 0; ri < t->nrows; ri++) {
			struct cell *c = &t->cells[ri * t->ncols + ci];
			bbt_stats_mean_std(c->x, c->n, &c->mean, &c->std);
			c->ci_lo = c->ci_hi = NAN;
			if (p->ci_bootstrap &&
			    bbt_stats_bootstrap_mean_ci(c->x, c->n, CI_LEVEL, CI_RESAMPLES, CI_SEED,
			                                &c->ci_lo, &c->ci_hi) < 0)
				return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			c->p = NAN;
			if (c->n == 0)
				continue;
			if (first_n == SIZE_MAX)
				first_n = c->n;
			t->counts_differ |= c->n != first_n;
			if (isnan(best) || (higher ? c->mean > best : c->mean < best))
				best = c->mean;
		}
		size_t best_ri = SIZE_MAX;
		for (size_t ri = 0; ri < t->nrows; ri++) {
			struct cell *c = &t->cells[ri * t->ncols + ci];
			if (c->n > 0 && c->mean == best) {
				c->best = 1;
				if (best_ri == SIZE_MAX)
					best_ri = ri;
			}
		}
		for (size_t ri = 0; p->wilcoxon && best_ri != SIZE_MAX && ri < t->nrows; ri++) {
			struct cell *c = &t->cells[ri * t->ncols + ci];
			if (c->n == 0 || c->best)
				continue;
			size_t used;
			if (test_cell(c, &t->cells[best_ri * t->ncols + ci], &c->p, &used) < 0)
				return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			c->sig = !isnan(c->p) && c->p < p->alpha;
			if (isnan(c->p))
				continue;
			if (t->tested++ == 0 || used < t->min_pairs)
				t->min_pairs = used;
			if (used > t->max_pairs)
				t->max_pairs = used;
			t->min_possible_p = fmin(t->min_possible_p, bbt_stats_wilcoxon_min_p(used));
		}
	}
	return BBT_OK;
}

/* ------------------------------------------------------------------ */
/* Output */

/* A metric's value as the tables print it: fractions in percent. */
static void number(const char *metric, double x, char *buf, size_t n)
{
	int m = bbt_result_metric_parse(metric);
	if (bbt_result_metric_higher_better(m))
		snprintf(buf, n, "%.2f", 100 * x);
	else if (m == BBT_RESULT_TRAIN_LOSS)
		snprintf(buf, n, "%.4f", x);
	else if (m == BBT_RESULT_API_CALLS)
		snprintf(buf, n, "%.0f", x);
	else
		snprintf(buf, n, "%.1f", x);
}

/* "85.20 ± 1.30" in the format's notation; the count when cells differ. */
static void cell_text(const struct tab *t, const struct cell *c, int latex, char *buf, size_t n)
{
	if (c->n == 0) {
		snprintf(buf, n, "%s", latex ? "--" : "–");
		return;
	}
	const char *m = t->p->metric;
	char mean[64], sd[64] = "", ci[112] = "", count[32] = "";
	number(m, c->mean, mean, sizeof mean);
	if (!isnan(c->std)) {
		char s[48];
		number(m, c->std, s, sizeof s);
		snprintf(sd, sizeof sd, "%s%s", latex ? " $\\pm$ " : " ± ", s);
	}
	if (!isnan(c->ci_lo)) {
		char lo[48], hi[48];
		number(m, c->ci_lo, lo, sizeof lo);
		number(m, c->ci_hi, hi, sizeof hi);
		snprintf(ci, sizeof ci, " [%s, %s]", lo, hi);
	}
	if (t->counts_differ)
		snprintf(count, sizeof count, " (n=%zu)", c->n);
	const char *b0 = "", *b1 = "";
	if (c->best) {
		b0 = latex ? "\\textbf{" : "**";
		b1 = latex ? "}" : "**";
	}
	snprintf(buf, n, "%s%s%s%s%s%s%s", b0, mean, sd, b1, ci, count,
	         c->sig ? (latex ? "$^\\dagger$" : " †") : "");
}

/* printf at the end of the text in buf[0..n), truncating. */
static void BBT_PRINTF(3, 4) append(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

static void footnote(const struct tab *t, int latex, char *buf, size_t n)
{
	const struct bbt_table_params *p = t->p;
	const char *math = latex ? "$" : "";
	snprintf(buf, n,
	         "%s: mean %s sample standard deviation over runs%s; best of each column in bold.",
	         t->metric_label, latex ? "$\\pm$" : "±",
	         t->counts_differ ? " (n: runs per cell)" : "");
	if (p->ci_bootstrap)
		append(buf, n,
		       " [ ]: %g%% percentile bootstrap interval of the mean (%d resamples; too "
		       "narrow with few runs).",
		       100 * CI_LEVEL, CI_RESAMPLES);
	if (!p->wilcoxon)
		return;
	char by[256] = "";
	for (size_t k = 0; k < t->npk; k++)
		append(by, sizeof by, "%s%s", k == 0 ? "" : k + 1 < t->npk ? ", " : " and ", t->pk[k]);
	append(buf, n,
	       " %s: differs from the column's best at %sp < %g%s (two-sided Wilcoxon signed-rank "
	       "test paired by %s, exact for n %s %d, zero differences dropped).",
	       latex ? "$^\\dagger$" : "†", math, p->alpha, math, by,
	       latex ? "$\\le$" : "≤", BBT_WILCOXON_EXACT_MAX);
	/* A mark that cannot fire (two seeds: p >= 0.5) would read as "no
	 * difference found"; say that the test could not find one. */
	if (t->tested == 0 || t->min_possible_p < p->alpha)
		return;
	char pairs[64];
	if (t->min_pairs == t->max_pairs)
		snprintf(pairs, sizeof pairs, "%zu", t->max_pairs);
	else
		snprintf(pairs, sizeof pairs, "%zu to %zu", t->min_pairs, t->max_pairs);
	append(buf, n,
	       " With %s pairs the smallest possible %sp%s is %g, so no cell can reach %sp < %g%s.",
	       pairs, math, math, t->min_possible_p, math, p->alpha, math);
}

static void latex_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '_': case '%': case '&': case '#': case '$': case '{': case '}':
			fprintf(f, "\\%c", *s);
			break;
		case '~': fputs("\\textasciitilde{}", f); break;
		case '^': fputs("\\textasciicircum{}", f); break;
		case '\\': fputs("\\textbackslash{}", f); break;
		default: fputc(*s, f);
		}
	}
}

static void col_header(const struct tab *t, size_t ci, char *buf, size_t n)
{
	if (t->p->cols)
		snprintf(buf, n, "%s=%s", t->p->cols, t->cols[ci]);
	else
		snprintf(buf, n, "%s", t->metric_label);
}

/* " TEXT |": a '|' in a value (a template, a path) would end the cell. */
static void md_cell(FILE *f, const char *s)
{
	fputc(' ', f);
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputs(" |", f);
}

static void write_md(const struct tab *t, FILE *f)
{
	char buf[256];
	fputc('|', f);
	for (size_t k = 0; k < t->nrk; k++)
		md_cell(f, t->rk[k]);
	for (size_t ci = 0; ci < t->ncols; ci++) {
		col_header(t, ci, buf, sizeof buf);
		md_cell(f, buf);
	}
	fputs("\n|", f);
	for (size_t k = 0; k < t->nrk; k++)
		fputs(":---|", f);
	for (size_t ci = 0; ci < t->ncols; ci++)
		fputs("---:|", f);
	fputc('\n', f);
	for (size_t ri = 0; ri < t->nrows; ri++) {
		fputc('|', f);
		for (size_t k = 0; k < t->nrk; k++)
			md_cell(f, t->rows[ri].v[k]);
		for (size_t ci = 0; ci < t->ncols; ci++) {
			cell_text(t, &t->cells[ri * t->ncols + ci], 0, buf, sizeof buf);
			fprintf(f, " %s |", buf);
		}
		fputc('\n', f);
	}
	char note[1024];
	footnote(t, 0, note, sizeof note);
	fprintf(f, "\n%s\n", note);
}

static void write_latex(const struct tab *t, FILE *f)
{
	char buf[256];
	fputs("% bbtbench table; needs \\usepackage{booktabs}\n", f);
	fputs("\\begin{table}[t]\n\\centering\n\\begin{tabular}{", f);
	for (size_t k = 0; k < t->nrk; k++)
		fputc('l', f);
	for (size_t ci = 0; ci < t->ncols; ci++)
		fputc('r', f);
	fputs("}\n\\toprule\n", f);
	if (t->p->cols) {
		for (size_t k = 0; k < t->nrk; k++)
			fputs(" & ", f);
		fprintf(f, "\\multicolumn{%zu}{c}{", t->ncols);
		latex_escape(f, t->p->cols);
		fprintf(f, "} \\\\\n\\cmidrule(lr){%zu-%zu}\n", t->nrk + 1, t->nrk + t->ncols);
	}
	for (size_t k = 0; k < t->nrk; k++) {
		if (k > 0)
			fputs(" & ", f);
		latex_escape(f, t->rk[k]);
	}
	for (size_t ci = 0; ci < t->ncols; ci++) {
		fputs(" & ", f);
		latex_escape(f, t->p->cols ? t->cols[ci] : t->metric_label);
	}
	fputs(" \\\\\n\\midrule\n", f);
	for (size_t ri = 0; ri < t->nrows; ri++) {
		for (size_t k = 0; k < t->nrk; k++) {
			if (k > 0)
				fputs(" & ", f);
			latex_escape(f, t->rows[ri].v[k]);
		}
		for (size_t ci = 0; ci < t->ncols; ci++) {
			cell_text(t, &t->cells[ri * t->ncols + ci], 1, buf, sizeof buf);
			fprintf(f, " & %s", buf);
		}
		fputs(" \\\\\n", f);
	}
	char note[1024];
	footnote(t, 1, note, sizeof note);
	fputs("\\bottomrule\n\\end{tabular}\n\\par\\smallskip\n{\\footnotesize ", f);
	/* The footnote's own markup ($\pm$, $^\dagger$) is kept; the metric
	 * names in it are escaped. */
	for (const char *s = note; *s; s++) {
		if (*s == '_')
			fputs("\\_", f);
		else if (*s == '%' && (s == note || s[-1] != '\\'))
			fputs("\\%", f);
		else
			fputc(*s, f);
	}
	fputs("}\n\\end{table}\n", f);
}

static void write_csv(const struct tab *t, FILE *f)
{
	for (size_t k = 0; k < t->nrk; k++) {
		bbt_csv_field(f, t->rk[k]);
		fputc(',', f);
	}
	bbt_csv_field(f, t->p->cols ? t->p->cols : "metric");
	fprintf(f, ",n,mean,std,best,p_value%s\n", t->p->ci_bootstrap ? ",ci_low,ci_high" : "");
	for (size_t ri = 0; ri < t->nrows; ri++)
		for (size_t ci = 0; ci < t->ncols; ci++) {
			const struct cell *c = &t->cells[ri * t->ncols + ci];
			for (size_t k = 0; k < t->nrk; k++) {
				bbt_csv_field(f, t->rows[ri].v[k]);
				fputc(',', f);
			}
			bbt_csv_field(f, t->cols[ci]);
			fprintf(f, ",%zu,", c->n);
			if (c->n > 0)
				fprintf(f, "%.17g", c->mean);
			fputc(',', f);
			if (!isnan(c->std))
				fprintf(f, "%.17g", c->std);
			fprintf(f, ",%d,", c->best);
			if (!isnan(c->p))
				fprintf(f, "%.17g", c->p);
			if (t->p->ci_bootstrap && !isnan(c->ci_lo))
				fprintf(f, ",%.17g,%.17g", c->ci_lo, c->ci_hi);
			else if (t->p->ci_bootstrap)
				fputs(",,", f);
			fputc('\n', f);
		}
}

static json_t *num_or_null(double x)
{
	return isnan(x) ? json_null() : json_real(x);
}

static int write_json(const struct tab *t, FILE *f)
{
	json_t *j = json_object(), *cells = json_array(), *rk = json_array();
	for (size_t k = 0; k < t->nrk; k++)
		json_array_append_new(rk, json_string(t->rk[k]));
	json_object_set_new(j, "metric", json_string(t->p->metric));
	json_object_set_new(j, "rows", rk);
	json_object_set_new(j, "cols", t->p->cols ? json_string(t->p->cols) : json_null());
	json_object_set_new(j, "pair_by", json_string(t->p->pair_by));
	json_object_set_new(j, "alpha", t->p->wilcoxon ? json_real(t->p->alpha) : json_null());
	for (size_t ri = 0; ri < t->nrows; ri++)
		for (size_t ci = 0; ci < t->ncols; ci++) {
			const struct cell *c = &t->cells[ri * t->ncols + ci];
			json_t *o = json_object(), *row = json_object();
			for (size_t k = 0; k < t->nrk; k++)
				json_object_set_new(row, t->rk[k], json_string(t->rows[ri].v[k]));
			json_object_set_new(o, "row", row);
			json_object_set_new(o, "col", json_string(t->cols[ci]));
			json_object_set_new(o, "n", json_integer((json_int_t)c->n));
			json_object_set_new(o, "mean", num_or_null(c->mean));
			json_object_set_new(o, "std", num_or_null(c->std));
			json_object_set_new(o, "best", json_boolean(c->best));
			json_object_set_new(o, "p_value", num_or_null(c->p));
			json_object_set_new(o, "significant", json_boolean(c->sig));
			if (t->p->ci_bootstrap) {
				json_object_set_new(o, "ci_low", num_or_null(c->ci_lo));
				json_object_set_new(o, "ci_high", num_or_null(c->ci_hi));
			}
			json_array_append_new(cells, o);
		}
	json_object_set_new(j, "cells", cells);
	int rc = json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(j);
	return rc == 0 ? BBT_OK : BBT_EIO;
}

int bbt_table_write(const bbt_resultset_t *rs, const struct bbt_table_params *p, FILE *f,
                    char *err, size_t errlen)
{
	if (!bbt_resultset_metric_known(p->metric))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--metric '%s': expected %s", p->metric, bbt_result_metric_list());
	const char *fmt = p->format;
	if (strcmp(fmt, "md") != 0 && strcmp(fmt, "latex") != 0 && strcmp(fmt, "csv") != 0 &&
	    strcmp(fmt, "json") != 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--format '%s': expected md, latex, csv or json", fmt);
	struct tab t = { .p = p, .metric_label = bbt_resultset_metric_label(rs, p->metric),
		             .min_possible_p = 1 };
	int rc = build(&t, rs, err, errlen);
	if (rc == BBT_OK) {
		if (strcmp(fmt, "md") == 0)
			write_md(&t, f);
		else if (strcmp(fmt, "latex") == 0)
			write_latex(&t, f);
		else if (strcmp(fmt, "csv") == 0)
			write_csv(&t, f);
		else
			rc = write_json(&t, f);
		if (rc == BBT_OK && ferror(f))
			rc = bbt_error(err, errlen, BBT_EIO, "writing the table: output error");
	}
	tab_release(&t);
	return rc;
}
