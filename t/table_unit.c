/*
 * t/table_unit.c - bbt_table_write on result sets made in a scratch
 * folder, its output compared whole where it is short: rows and columns
 * in order, mean ± sd, an empty cell, LaTeX escaping of every special
 * character in keys and values, CSV quoting, JSON that parses, the
 * Wilcoxon footnote's three forms (exact, normal beyond 25 pairs, "cannot
 * reach"), the bootstrap interval, and the errors that name what is wrong.
 * t/table.sh drives the same code through the command line.
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "experiments/table.h"
#include "tap.h"
#include "tmptree.h"

/* One finished run: settings and optimizer options as JSON members. */
static void res(const char *rel, const char *settings, const char *options, double acc,
                int calls)
{
	char path[512];
	snprintf(path, sizeof path, "%s/result.json", rel);
	tree_writef(path,
	            "{\"status\": \"finished\", \"run_id\": \"%s\",\n"
	            " \"settings\": {%s},\n"
	            " \"optimizer\": {\"options\": {%s}},\n"
	            " \"metrics\": {\"metric\": \"acc\", \"test_metric\": %.17g, "
	            "\"test_acc\": %.17g, \"train_loss\": 0.5},\n"
	            " \"api_calls\": %d, \"wall_time_s\": 1.0}\n",
	            rel, settings, options, acc, acc, calls);
}

/* The table of folder rel, or NULL with *rc and err set. Caller frees. */
static char *table(const char *rel, const struct bbt_table_params *p, int *rc, char *err,
                   size_t errlen)
{
	bbt_resultset_t *rs = NULL;
	*rc = bbt_resultset_load(tree_path(rel), 1, &rs, err, errlen);
	if (*rc < 0)
		return NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	*rc = bbt_table_write(rs, p, f, err, errlen);
	fclose(f);
	bbt_resultset_free(rs);
	if (*rc < 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The line of text that starts with prefix, in static storage ("" when none). */
static const char *line_of(const char *text, const char *prefix)
{
	static char line[1024];
	line[0] = '\0';
	for (const char *s = text; s != NULL && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		if (strncmp(s, prefix, strlen(prefix)) == 0) {
			size_t n = strcspn(s, "\n");
			snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1),
			         s);
			break;
		}
	return line;
}

/* A 2 x 2 grid: A beats B at d=50 on all six seeds; at d=100 only A ran,
 * three seeds. */
static void make_grid(void)
{
	static const double a50[] = { 0.80, 0.82, 0.84, 0.86, 0.88, 0.90 };
	char rel[64], set[256];
	for (int s = 1; s <= 6; s++) {
		snprintf(rel, sizeof rel, "grid/A-50-%d", s);
		snprintf(set, sizeof set, "\"optimizer\": \"A\", \"dim\": 50, \"seed\": %d", s);
		res(rel, set, "\"lr\": \"0.1\"", a50[s - 1], 400);
		snprintf(rel, sizeof rel, "grid/B-50-%d", s);
		snprintf(set, sizeof set, "\"optimizer\": \"B\", \"dim\": 50, \"seed\": %d", s);
		res(rel, set, "\"lr\": \"0.1\"", a50[s - 1] - 0.01 * s, 400);
	}
	for (int s = 1; s <= 3; s++) {
		snprintf(rel, sizeof rel, "grid/A-100-%d", s);
		snprintf(set, sizeof set, "\"optimizer\": \"A\", \"dim\": 100, \"seed\": %d", s);
		res(rel, set, "\"lr\": \"0.1\"", 0.68 + 0.02 * s, 400);
	}
}

static void test_markdown(void)
{
	struct bbt_table_params p = bbt_table_default_params();
	char err[BBT_ERRLEN];
	int rc;
	p.cols = "dim";
	p.wilcoxon = 1;
	char *md = table("grid", &p, &rc, err, sizeof err);
	is_int(rc, BBT_OK, "md table of a 2 x 2 grid");
	const char *want =
		"| optimizer | dim=50 | dim=100 |\n"
		"|:---|---:|---:|\n"
		"| A | **85.00 ± 3.74** (n=6) | **72.00 ± 2.00** (n=3) |\n"
		"| B | 81.50 ± 1.87 (n=6) † | – |\n"
		"\n"
		"test accuracy (%): mean ± sample standard deviation over runs (n: runs per cell); "
		"best of each column in bold. †: differs from the column's best at p < 0.05 "
		"(two-sided Wilcoxon signed-rank test paired by seed, exact for n ≤ 25, zero "
		"differences dropped).\n";
	is_string(md, want, "rows by name, columns in numeric order, bold best, dagger, empty "
	                    "cell, counts, footnote");
	free(md);

	/* Rows by dim alone: the runs of a cell differ in their optimizer, so
	 * it becomes a second row key rather than being averaged over. */
	p.wilcoxon = 0;
	p.rows = "dim";
	p.cols = NULL;
	stderr_catch();
	md = table("grid", &p, &rc, err, sizeof err);
	char *said = stderr_release();
	is_string(line_of(md, "| dim"), "| dim | optimizer | test accuracy (%) |",
	          "no --cols: one column named after the metric; optimizer split off");
	is_string(line_of(md, "| 50 | B"), "| 50 | B | 81.50 ± 1.87 (n=6) |",
	          "rows sorted by dim, then optimizer");
	like(said, "differ in optimizer besides their seeds", "the split said on stderr");
	ok(md != NULL && strstr(md, "†") == NULL && strstr(md, "Wilcoxon") == NULL,
	   "no dagger and no test footnote without the test");
	free(said);
	free(md);

	/* Number formats follow the metric: calls are whole, lowest is best. */
	p.rows = "optimizer";
	p.cols = "dim";
	p.metric = "api_calls";
	md = table("grid", &p, &rc, err, sizeof err);
	is_string(line_of(md, "| A"), "| A | **400 ± 0** (n=6) | **400 ± 0** (n=3) |",
	          "api_calls: whole numbers");
	p.metric = "train_loss";
	free(md);
	md = table("grid", &p, &rc, err, sizeof err);
	is_string(line_of(md, "| B"), "| B | **0.5000 ± 0.0000** (n=6) | – |",
	          "train_loss: four places, ties both bold");
	free(md);
}

static void test_latex(void)
{
	/* Every character LaTeX treats specially, in a row value, a row key
	 * and the column key. */
	res("tex/r1", "\"optimizer\": \"a_b&c%d#e$f{g}h~i^j\\\\k\", \"my_key\": 1, \"seed\": 1", "",
	    0.5, 10);
	res("tex/r2", "\"optimizer\": \"a_b&c%d#e$f{g}h~i^j\\\\k\", \"my_key\": 2, \"seed\": 1", "",
	    0.25, 10);
	struct bbt_table_params p = bbt_table_default_params();
	char err[BBT_ERRLEN];
	int rc;
	p.cols = "my_key";
	p.format = "latex";
	p.wilcoxon = 1;
	char *tex = table("tex", &p, &rc, err, sizeof err);
	is_int(rc, BBT_OK, "latex table");
	like(tex, "\\begin{tabular}{lrr}\n", "one l column for the row key, r for each value");
	like(tex, " & \\multicolumn{2}{c}{my\\_key} \\\\\n\\cmidrule(lr){2-3}\n",
	     "the column key escaped over its values");
	like(tex, "\noptimizer & 1 & 2 \\\\\n", "header row");
	like(tex,
	     "\na\\_b\\&c\\%d\\#e\\$f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j"
	     "\\textbackslash{}k & \\textbf{50.00} & \\textbf{25.00} \\\\\n",
	     "every special character escaped; one run: no ± part");
	like(tex, "{\\footnotesize test accuracy (\\%): mean $\\pm$ sample standard deviation",
	     "footnote: the metric's %% escaped, ± as math");
	like(tex, "$^\\dagger$: differs from the column's best at $p < 0.05$",
	     "dagger and threshold as math");
	like(tex, "exact for n $\\le$ 25", "≤ as math");
	like(tex, "\\bottomrule\n\\end{tabular}", "booktabs rules");
	ok(tex != NULL && strstr(tex, "±") == NULL && strstr(tex, "†") == NULL &&
	           strstr(tex, "≤") == NULL,
	   "no raw Unicode symbol in the LaTeX");
	free(tex);

	/* An empty cell in LaTeX, and a pairing key with an underscore. */
	p.cols = "dim";
	p.pair_by = "data_seed";
	tex = table("grid", &p, &rc, err, sizeof err);
	like(tex, "\nB & 81.50 $\\pm$ 1.87 (n=6) & -- \\\\\n",
	     "empty cell as --; no dagger: nothing pairs by data_seed");
	like(tex, "paired by data\\_seed", "the pairing key escaped in the footnote");
	free(tex);
}

static void test_csv_json(void)
{
	res("csv/r1", "\"optimizer\": \"x,\\\"y\\\"\", \"seed\": 1", "", 0.5, 10);
	res("csv/r2", "\"optimizer\": \"plain\", \"seed\": 1", "", 0.75, 10);
	struct bbt_table_params p = bbt_table_default_params();
	char err[BBT_ERRLEN];
	int rc;
	p.format = "csv";
	p.ci_bootstrap = 1;
	char *csv = table("csv", &p, &rc, err, sizeof err);
	is_string(csv,
	          "optimizer,metric,n,mean,std,best,p_value,ci_low,ci_high\n"
	          "plain,test_metric,1,0.75,,1,,,\n"
	          "\"x,\"\"y\"\"\",test_metric,1,0.5,,0,,,\n",
	          "csv: raw numbers, a comma and quotes quoted; no std, p or interval of one run");
	free(csv);

	p.format = "json";
	p.ci_bootstrap = 0;
	p.cols = "dim";
	p.wilcoxon = 1;
	char *text = table("grid", &p, &rc, err, sizeof err);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	ok(j != NULL, "json output parses");
	json_t *cells = json_object_get(j, "cells");
	is_int((long long)json_array_size(cells), 4, "four cells, the empty one too");
	json_t *b50 = json_array_get(cells, 2);
	is_string(json_string_value(json_object_get(json_object_get(b50, "row"), "optimizer")), "B",
	          "third cell: row B");
	is_string(json_string_value(json_object_get(b50, "col")), "50", "column 50");
	is_double(json_number_value(json_object_get(b50, "mean")), 0.815, 1e-12, "its mean");
	is_double(json_number_value(json_object_get(b50, "p_value")), 2.0 / 64, 1e-12,
	          "exact p: all six differences negative, 2/64");
	ok(json_is_true(json_object_get(b50, "significant")), "significant");
	json_t *b100 = json_array_get(cells, 3);
	ok(json_integer_value(json_object_get(b100, "n")) == 0 &&
	           json_is_null(json_object_get(b100, "mean")),
	   "the empty cell: n 0, mean null");
	is_double(json_number_value(json_object_get(j, "alpha")), 0.05, 0, "alpha recorded");
	json_decref(j);
	free(text);
}

static void test_footnotes(void)
{
	struct bbt_table_params p = bbt_table_default_params();
	char err[BBT_ERRLEN];
	int rc;
	/* Two seeds: no p below 0.5 is possible, and the footnote says so. */
	res("two/A1", "\"optimizer\": \"A\", \"seed\": 1", "", 0.9, 10);
	res("two/A2", "\"optimizer\": \"A\", \"seed\": 2", "", 0.8, 10);
	res("two/B1", "\"optimizer\": \"B\", \"seed\": 1", "", 0.7, 10);
	res("two/B2", "\"optimizer\": \"B\", \"seed\": 2", "", 0.6, 10);
	p.wilcoxon = 1;
	char *md = table("two", &p, &rc, err, sizeof err);
	is_string(line_of(md, "| B"), "| B | 65.00 ± 7.07 |", "B worse on both seeds: no dagger");
	like(md, " With 2 pairs the smallest possible p is 0.5, so no cell can reach p < 0.05.\n",
	     "footnote: the test could not find a difference");
	free(md);
	p.alpha = 0.6;
	md = table("two", &p, &rc, err, sizeof err);
	is_string(line_of(md, "| B"), "| B | 65.00 ± 7.07 † |", "--alpha 0.6: B marked");
	ok(md != NULL && strstr(md, "smallest possible") == NULL, "and no such sentence");
	free(md);

	/* Five splits x two run seeds: the default pairs by both seeds, so B,
	 * worse on every one of the ten (split, seed) pairs, is marked (p =
	 * 2/1024); paired by the run seed alone it would be two pairs. */
	for (int d = 1; d <= 5; d++)
		for (int s = 1; s <= 2; s++) {
			char r[64], set[128];
			snprintf(r, sizeof r, "splits/A%d-%d", d, s);
			snprintf(set, sizeof set,
			         "\"optimizer\": \"A\", \"seed\": %d, \"data-seed\": %d", s, d);
			res(r, set, "", 0.7 + 0.01 * d + 0.002 * s, 10);
			snprintf(r, sizeof r, "splits/B%d-%d", d, s);
			snprintf(set, sizeof set,
			         "\"optimizer\": \"B\", \"seed\": %d, \"data-seed\": %d", s, d);
			res(r, set, "", 0.69 + 0.01 * d + 0.001 * s * d, 10);
		}
	p.alpha = 0.05;
	md = table("splits", &p, &rc, err, sizeof err);
	like(md, "| B | 72.45 ± 1.72 † |", "splits x run seeds: ten pairs, B marked");
	like(md, "test paired by seed and data-seed, exact", "the footnote names both seed keys");
	free(md);
	p.pair_by = "seed";
	md = table("splits", &p, &rc, err, sizeof err);
	like(md, " With 2 pairs the smallest possible p is 0.5",
	     "--pair-by seed: the splits averaged into two pairs");
	free(md);
	p.pair_by = NULL;

	/* 30 seeds, beyond the exact test: the normal approximation. */
	char rel[64], set[128];
	for (int s = 1; s <= 30; s++) {
		snprintf(rel, sizeof rel, "many/A%d", s);
		snprintf(set, sizeof set, "\"optimizer\": \"A\", \"seed\": %d", s);
		res(rel, set, "", 0.5 + 0.01 * s, 10);
		snprintf(rel, sizeof rel, "many/B%d", s);
		snprintf(set, sizeof set, "\"optimizer\": \"B\", \"seed\": %d", s);
		res(rel, set, "", 0.5 + 0.01 * s - (s % 3 == 0 ? -0.001 : 0.002), 10);
	}
	p.alpha = 0.05;
	p.format = "json";
	char *text = table("many", &p, &rc, err, sizeof err);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	double pv = json_number_value(json_object_get(json_array_get(json_object_get(j, "cells"), 1),
	                                              "p_value"));
	/* B - A: +0.001 on 10 seeds, -0.002 on 20: ranks 1-10 positive, T+ = 55,
	 * n = 30: mean 232.5, sd sqrt(30*31*61/24) = 48.62; z = -3.65. */
	ok(pv > 0 && pv < 0.001, "30 pairs, B mostly worse: p from the normal approximation (%g)",
	   pv);
	json_decref(j);
	free(text);

	/* Bootstrap: the same interval on every call (seeded), inside the data. */
	p.format = "md";
	p.wilcoxon = 0;
	p.ci_bootstrap = 1;
	p.cols = "dim";
	char *once = table("grid", &p, &rc, err, sizeof err);
	char *twice = table("grid", &p, &rc, err, sizeof err);
	is_string(once, twice, "bootstrap intervals are reproducible");
	like(once, "| **72.00 ± 2.00** [70.00, 74.00] (n=3) |",
	     "three runs 70, 72, 74: the interval within their range");
	like(once, " [ ]: 95% percentile bootstrap interval of the mean (10000 resamples;",
	     "footnote names the interval");
	free(once);
	free(twice);
}

static void test_errors(void)
{
	struct bbt_table_params p = bbt_table_default_params();
	char err[BBT_ERRLEN];
	int rc;
	p.metric = "accuracy";
	ok(table("grid", &p, &rc, err, sizeof err) == NULL && rc == BBT_EINVAL,
	   "an unknown metric is refused");
	like(err, "--metric 'accuracy': expected test_acc", "naming it and the choices");
	p = bbt_table_default_params();
	p.format = "html";
	ok(table("grid", &p, &rc, err, sizeof err) == NULL && rc == BBT_EINVAL,
	   "an unknown format is refused");
	like(err, "--format 'html': expected md, latex, csv or json", "naming it");
	p = bbt_table_default_params();
	p.rows = "optimizer,nope";
	ok(table("grid", &p, &rc, err, sizeof err) == NULL && rc == BBT_EINVAL,
	   "a row key no run has is refused");
	like(err, "--rows: no run has a setting or option 'nope'", "naming it");
	p.rows = "optimizer";
	p.cols = "nope";
	ok(table("grid", &p, &rc, err, sizeof err) == NULL && rc == BBT_EINVAL,
	   "a column key no run has is refused");
	like(err, "--cols: no run has a setting or option 'nope'", "naming it");
	p.cols = NULL;
	p.rows = "optimizer,dim,seed,lr,run_id";
	ok(table("grid", &p, &rc, err, sizeof err) == NULL && rc == BBT_EINVAL,
	   "five row keys are refused");
	like(err, "--rows: at most 4 keys", "saying the limit");

	/* A run copied: the same settings and seeds twice in one cell. */
	res("dup/one", "\"optimizer\": \"A\", \"seed\": 1", "", 0.5, 10);
	res("dup/two", "\"optimizer\": \"A\", \"seed\": 1", "", 0.5, 10);
	p = bbt_table_default_params();
	ok(table("dup", &p, &rc, err, sizeof err) == NULL && rc == BBT_EINVAL,
	   "a run twice in a cell is refused");
	like(err, "dup/one and ", "naming the first folder");
	like(err, "dup/two: the same settings and seeds in one cell", "and the second");

	/* Runs of a cell that differ in an option split its row. */
	res("split/a", "\"optimizer\": \"A\", \"seed\": 1", "\"lr\": \"0.1\"", 0.5, 10);
	res("split/b", "\"optimizer\": \"A\", \"seed\": 2", "\"lr\": \"0.1\"", 0.7, 10);
	res("split/c", "\"optimizer\": \"A\", \"seed\": 1", "\"lr\": \"0.2\"", 0.9, 10);
	stderr_catch();
	char *md = table("split", &p, &rc, err, sizeof err);
	char *said = stderr_release();
	is_string(line_of(md, "| optimizer"), "| optimizer | optimizer.lr | test accuracy (%) |",
	          "rows split by the option the runs differ in");
	is_string(line_of(md, "| A | 0.1"), "| A | 0.1 | 60.00 ± 14.14 (n=2) |", "lr 0.1: two seeds");
	is_string(line_of(md, "| A | 0.2"), "| A | 0.2 | **90.00** (n=1) |", "lr 0.2: one");
	like(said, "differ in optimizer.lr besides their seeds: rows split by it",
	     "said on stderr");
	free(said);
	free(md);
}

int main(void)
{
	plan(58);
	tree_init("bbt-table");
	make_grid();
	test_markdown();
	test_latex();
	test_csv_json();
	test_footnotes();
	test_errors();
	tree_remove();
	return done_testing();
}
