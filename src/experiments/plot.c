/*
 * plot.c - convergence curves and metric-vs-key figures, as gnuplot data
 * and scripts, rendered by running gnuplot.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "experiments/plot.h"
#include "experiments/stats.h"
#include "core/util.h"
#include "run/result_json.h"
#include "run/trail.h"

/* Okabe & Ito's colour-blind-safe palette. */
static const char *const colours[] = {
	"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
};
#define N_COLOURS (sizeof colours / sizeof colours[0])

static const char png_terminal[] =
	"set terminal pngcairo size 1200,800 font \"DejaVu Sans,20\" linewidth 2 noenhanced\n";
static const char svg_terminal[] =
	"set terminal svg size 600,400 font \"Helvetica,12\" linewidth 1 noenhanced dynamic\n";

struct bbt_plot_params bbt_plot_default_params(void)
{
	return (struct bbt_plot_params){ .out_dir = "plots", .by = "optimizer", .y = "train_loss",
		                             .x = NULL, .metric = "test_metric", .points = 200,
		                             .title = NULL, .x_axis = "calls", .convergence = 1,
		                             .name = NULL, .reference = NULL };
}

static int cmp_value_p(const void *a, const void *b)
{
	return bbt_resultset_value_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct values of key over the runs with use[i] set, sorted;
 * borrowed strings. */
static size_t distinct(const bbt_resultset_t *rs, const char *use, const char *key,
                       const char **out)
{
	size_t n = 0;
	for (size_t i = 0; i < bbt_resultset_count(rs); i++) {
		if (!use[i])
			continue;
		const char *v = bbt_resultset_value(rs, i, key);
		if (v == NULL)
			v = "-";
		size_t j = 0;
		while (j < n && strcmp(out[j], v) != 0)
			j++;
		if (j == n)
			out[n++] = v;
	}
	qsort(out, n, sizeof *out, cmp_value_p);
	return n;
}

/* What a key means, for an axis or a key title: the grid keys a paper's
 * ablations vary. A key not here is shown as it is. */
static const char *key_label(const char *key)
{
	static const struct {
		const char *key, *label;
	} labels[] = {
		{ "dim", "subspace dimension d" },
		{ "prompt-len", "prompt length P" },
		{ "popsize", "population size" },
		{ "budget", "budget (API calls)" },
		{ "api_calls", "API calls" },
		{ "k-shot", "training examples per class" },
		{ "sigma", "initial step size sigma" },
		{ "alpha", "projection scale alpha" },
		{ "search-space", "candidate n-grams per position" },
		{ "icl-shots", "demonstrations per class" },
		{ "eval-every", "API calls between dev evaluations" },
	};
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
		/* Setting names take '-' or '_' (bbt_resultset_value). */
		const char *a = labels[i].key, *b = key;
		while (*a && (*a == *b || (*a == '-' && *b == '_')))
			a++, b++;
		if (*a == '\0' && *b == '\0')
			return labels[i].label;
	}
	return key;
}

static const char *group_of(const bbt_resultset_t *rs, size_t i, const char *key)
{
	const char *v = bbt_resultset_value(rs, i, key);
	return v ? v : "-";
}

/* Every string that is data (a value read from a result.json, a key or
 * title from the command line) reaches the .gp and .dat files only
 * through write_text, because results folders come from other people and
 * gnuplot runs what a script says: a line break would end the command and
 * let the next line begin with `!` (a shell command), and a "double-quoted"
 * string runs `backquoted` commands. So control characters become '?', and
 * in the script every data string is single-quoted, where gnuplot expands
 * nothing and only '' is special.
 *
 * within: '\'' inside a single-quoted gnuplot string ('' for a quote);
 * '"' inside a quoted column of a data file, which cannot escape '"' (it
 * becomes '\''); 0 elsewhere in a data file (its comments). */
static void write_text(FILE *f, const char *s, char within)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			fputc('?', f);
		else if (c == '\'' && within == '\'')
			fputs("''", f);
		else if (c == '"' && within == '"')
			fputc('\'', f);
		else
			fputc(c, f);
	}
}

/* A gnuplot string literal holding s as plain text. */
static void gp_string(FILE *f, const char *s)
{
	fputc('\'', f);
	write_text(f, s, '\'');
	fputc('\'', f);
}

/* The literal of the file NAME.EXT (NAME holds the --x key). */
static void gp_file(FILE *f, const char *name, const char *ext)
{
	fputc('\'', f);
	write_text(f, name, '\'');
	fprintf(f, ".%s'", ext);
}

/* A string column of a data file: xtic() labels. */
static void dat_string(FILE *f, const char *s)
{
	fputc('"', f);
	write_text(f, s, '"');
	fputc('"', f);
}

/* ------------------------------------------------------------------ */
/* Traces */

/* What a convergence figure draws (--y). */
enum curve {
	CURVE_LOSS,       /* best training loss after each API call */
	CURVE_DEV,        /* best dev metric after each API call */
	CURVE_GRAD_COS,   /* --grad-check: cosine(estimate, true gradient) per step */
	CURVE_GRAD_RATIO, /* --grad-check: |estimate| / |true gradient| per step */
	CURVE_TEST,       /* the test metric of the prompt the run would have
	                   * returned after each API call (eval-trail-test.tsv) */
};

static const char *const curve_names[] = { "train_loss", "dev_metric", "grad_cos",
	                                   "grad_norm_ratio", "test_metric" };

static int curve_parse(const char *y)
{
	for (size_t c = 0; c < sizeof curve_names / sizeof curve_names[0]; c++)
		if (strcmp(y, curve_names[c]) == 0)
			return (int)c;
	return -1;
}

static int curve_per_step(enum curve c)
{
	return c == CURVE_GRAD_COS || c == CURVE_GRAD_RATIO;
}

/* The columns of trace.csv this file reads, found by their names in its
 * header (results.c writes it; columns may be added, in any place). The
 * gradient checks' two are there only with --grad-check. */
enum { T_BATCH, T_BEST_LOSS, T_DEV, T_WALL, T_GRAD_COS, T_GRAD_RATIO, T_READ };
static const char *const trace_cols[T_READ] = {
	"batch", "best_loss", "dev_metric", "wall_s", "grad_cos", "grad_norm_ratio",
};
/* A row with more fields than this is not one of ours. */
#define T_MAX_FIELDS 64

/* Split a row at its commas, in place; the number of fields, or
 * T_MAX_FIELDS + 1 for too many. */
static size_t split_row(char *line, char **field)
{
	size_t nf = 0;
	for (char *c = line;; c++) {
		if (nf == T_MAX_FIELDS)
			return T_MAX_FIELDS + 1;
		field[nf++] = c;
		c += strcspn(c, ",");
		if (*c == '\0')
			return nf;
		*c = '\0';
	}
}

/* A number in a trace someone may have edited: reported with its place
 * when it is not one (the caller leaves it out). */
static int trace_number(const char *path, size_t lineno, char **field, size_t nf, size_t col,
                        const char *name, double *x)
{
	if (col < nf && bbt_parse_double(field[col], x) == 0)
		return 0;
	bbt_log(BBT_LOG_WARNING, NULL, "%s:%zu: %s: expected a number, got '%.40s'; left out", path,
	        lineno, name, col < nf ? field[col] : "");
	return -1;
}

/* One run's curve: v[k] its value after API call k + 1, or at step k + 1
 * for the gradient checks (NaN where there is none: before the first dev
 * evaluation, a step the optimizer skipped, a value that is not a
 * number); wall[k] the seconds into the run at call k + 1 (NaN unknown). */
struct trace {
	double *v, *wall;
	size_t n;
};

/* Leaves t empty: read_trace frees what it read on an error, and its
 * caller frees every trace after. */
static void trace_free(struct trace *t)
{
	free(t->v);
	free(t->wall);
	memset(t, 0, sizeof *t);
}

/* Make room for index at in t (NaN-filled up to it). */
static int trace_grow(struct trace *t, size_t *cap, size_t at)
{
	while (at >= *cap) {
		double *nv = realloc(t->v, 2 * *cap * sizeof *nv);
		if (nv != NULL)
			t->v = nv;
		double *nw = realloc(t->wall, 2 * *cap * sizeof *nw);
		if (nw != NULL)
			t->wall = nw;
		if (nv == NULL || nw == NULL)
			return BBT_ENOMEM;
		*cap *= 2;
	}
	for (; t->n <= at; t->n++)
		t->v[t->n] = t->wall[t->n] = NAN;
	return BBT_OK;
}

/* The header's column of each name we read (SIZE_MAX: absent). */
static void trace_header(char *line, size_t *col)
{
	char *field[T_MAX_FIELDS];
	size_t nf = split_row(line, field);
	for (size_t c = 0; c < T_READ; c++) {
		col[c] = SIZE_MAX;
		for (size_t f = 0; f < nf && f < T_MAX_FIELDS; f++)
			if (strcmp(field[f], trace_cols[c]) == 0)
				col[c] = f;
	}
}

/* The test curve: after call k + 1, the test metric of the last prompt
 * the trail says the run chose by then (NaN before the first). The trace
 * gave the calls and their wall times. */
static int trail_values(const char *run_dir, struct trace *t, char *err, size_t errlen)
{
	struct bbt_trail tr;
	int rc = bbt_trail_load(run_dir, &tr, err, errlen);
	for (size_t k = 0, r = 0; rc == BBT_OK && k < t->n; k++) {
		while (r < tr.n && tr.call[r] <= k + 1)
			r++;
		t->v[k] = r > 0 ? tr.metric[r - 1] : NAN;
	}
	bbt_trail_release(&tr);
	return rc;
}

/* Row k of the file is call k, so a row that cannot be read still takes
 * its place. */
static int read_trace(const char *run_dir, enum curve curve, struct trace *t, char *err,
                      size_t errlen)
{
	memset(t, 0, sizeof *t);
	char *path = bbt_path_join(run_dir, "trace.csv");
	FILE *f = path ? fopen(path, "r") : NULL;
	if (f == NULL) {
		int rc = path ? bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno))
		              : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		free(path);
		return rc;
	}
	size_t cap = 1024, lineno = 0, col[T_READ];
	t->v = malloc(cap * sizeof *t->v);
	t->wall = malloc(cap * sizeof *t->wall);
	double cur = NAN;
	char line[1024];
	int rc = t->v && t->wall ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	size_t need = curve == CURVE_LOSS ? T_BEST_LOSS : curve == CURVE_DEV ? T_DEV : T_BATCH;
	while (rc == BBT_OK && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		size_t ll = strlen(line), nf = 0;
		char *field[T_MAX_FIELDS];
		if (ll > 0 && line[ll - 1] == '\n') {
			line[--ll] = '\0';
		} else if (!feof(f)) {
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			ll = 0;  /* no row of ours is that long */
		}
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0';
		if (lineno == 1) {
			trace_header(line, col);
			if (col[need] == SIZE_MAX)
				rc = bbt_error(err, errlen, BBT_EFORMAT,
				               "%s:1: no column '%s' in the header", path, trace_cols[need]);
			continue;
		}
		if (ll > 0)
			nf = split_row(line, field);
		if (nf <= col[need] || nf > T_MAX_FIELDS) {
			bbt_log(BBT_LOG_WARNING, NULL,
			        "%s:%zu: expected the header's comma-separated fields; left out", path,
			        lineno);
			nf = 0;  /* no field: the row still takes its call's place */
		}
		size_t at = t->n;      /* where this row's value goes */
		double x = NAN, w = NAN;
		if (nf > col[T_WALL] && field[col[T_WALL]][0] != '\0')
			trace_number(path, lineno, field, nf, col[T_WALL], "wall_s", &w);
		if (curve == CURVE_DEV) {
			if (nf > 0 && field[col[T_DEV]][0] != '\0' &&
			    trace_number(path, lineno, field, nf, col[T_DEV], "dev_metric", &x) == 0)
				cur = isnan(cur) || x > cur ? x : cur;
			x = cur;
		} else if (curve == CURVE_TEST) {
			/* the row is the call's place and wall time; trail_values
			 * gives its value */
		} else if (curve == CURVE_LOSS) {
			if (nf > 0 &&
			    trace_number(path, lineno, field, nf, col[T_BEST_LOSS], "best_loss", &x) < 0)
				x = NAN;
		} else {
			size_t c = col[curve == CURVE_GRAD_COS ? T_GRAD_COS : T_GRAD_RATIO];
			if (c == SIZE_MAX || nf <= c || field[c][0] == '\0')
				continue;
			long step;
			/* A step takes at least one call, so one row: a larger one
			 * is not a step of this run (and would size the array). */
			if (bbt_parse_long(field[col[T_BATCH]], &step) != 0 || step < 1 ||
			    (size_t)step > lineno) {
				bbt_log(BBT_LOG_WARNING, NULL,
				        "%s:%zu: batch: expected a step number from 1 to the row's, got "
				        "'%.40s'; left out", path, lineno, field[col[T_BATCH]]);
				continue;
			}
			if (trace_number(path, lineno, field, nf, c, trace_cols[c == col[T_GRAD_COS]
			                                                       ? T_GRAD_COS
			                                                       : T_GRAD_RATIO],
			                 &x) < 0)
				continue;
			at = (size_t)step - 1;
		}
		if (trace_grow(t, &cap, at) < 0) {
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
			break;
		}
		t->v[at] = x;
		t->wall[at] = w;
	}
	fclose(f);
	free(path);
	if (rc == BBT_OK && curve == CURVE_TEST)
		rc = trail_values(run_dir, t, err, errlen);
	if (rc < 0)
		trace_free(t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* gnuplot */

static int run_gnuplot(const char *dir, const char *script, char *err, size_t errlen)
{
	const char *prog = getenv("BBTBENCH_GNUPLOT");
	if (prog == NULL || prog[0] == '\0')
		prog = "gnuplot";
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return bbt_error(err, errlen, BBT_EIO, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (chdir(dir) == 0)
			execlp(prog, prog, script, (char *)NULL);
		_exit(127);  /* the child only: exec failed */
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return bbt_error(err, errlen, BBT_EIO, "waitpid: %s", strerror(errno));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return bbt_error(err, errlen, BBT_ENOTFOUND,
		                 "cannot run %s: install gnuplot-nox (Debian: apt-get install "
		                 "gnuplot-nox), then run `gnuplot %s` in %s",
		                 prog, script, dir);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return bbt_error(err, errlen, BBT_EIO, "%s failed on %s/%s (its message above)", prog,
		                 dir, script);
	return BBT_OK;
}

/* The settings before the plot command: axis labels, the key with its
 * title, `extra` (lines of our own), the figure's title (NULL: none). The
 * labels and titles may be data. NULL when out of memory. */
static char *setup_lines(const char *xlabel, const char *ylabel, const char *key_at,
                         const char *key_title, const char *extra, const char *title)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (f == NULL)
		return NULL;
	fputs("set xlabel ", f);
	gp_string(f, xlabel);
	fputs("\nset ylabel ", f);
	gp_string(f, ylabel);
	fprintf(f, "\nset grid lc rgb \"#d0d0d0\"\nset key %s noenhanced title ", key_at);
	gp_string(f, key_title);
	fprintf(f, "\n%s", extra);
	if (title != NULL) {
		fputs("set title ", f);
		gp_string(f, title);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Write NAME.gp around the plot command, then render it. */
static int render(const char *dir, const char *name, const char *setup, const char *plot_cmd,
                  char **written, size_t cap, size_t *nw, char *err, size_t errlen)
{
	char *gp = bbt_asprintf("%s/%s.gp", dir, name);
	FILE *f = gp ? fopen(gp, "w") : NULL;
	if (f == NULL) {
		int rc = gp ? bbt_error(err, errlen, BBT_EIO, "%s: %s", gp, strerror(errno))
		            : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		free(gp);
		return rc;
	}
	fputs("# bbtbench plot: ", f);
	write_text(f, name, 0);
	fputs(". Edit and re-run `gnuplot ", f);
	write_text(f, name, 0);
	fputs(".gp` here to restyle.\n", f);
	fprintf(f, "set encoding utf8\n%s%sset output ", setup, png_terminal);
	gp_file(f, name, "png");
	fprintf(f, "\n%s%sset output ", plot_cmd, svg_terminal);
	gp_file(f, name, "svg");
	fputs("\nreplot\nunset output\n", f);
	int rc = fclose(f) == 0 ? BBT_OK : bbt_error(err, errlen, BBT_EIO, "%s: write error", gp);
	free(gp);
	char script[256];
	snprintf(script, sizeof script, "%s.gp", name);
	if (rc == BBT_OK)
		rc = run_gnuplot(dir, script, err, errlen);
	const char *ext[] = { "png", "svg" };
	for (size_t e = 0; rc == BBT_OK && e < 2; e++) {
		char *out = bbt_asprintf("%s/%s.%s", dir, name, ext[e]);
		struct stat st;
		if (out == NULL)
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		else if (stat(out, &st) != 0 || st.st_size == 0)
			rc = bbt_error(err, errlen, BBT_EIO, "gnuplot wrote no %s", out);
		if (rc == BBT_OK && *nw < cap)
			written[(*nw)++] = out;
		else
			free(out);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Figures */

/* A line's title with the runs behind each point, "cmaes (n=5)", or
 * "cmaes (n=3-5)" when some points have fewer: a mean of three seeds is
 * not read like one of ten. */
static void legend(FILE *f, const char *group, size_t n_min, size_t n_max)
{
	fputc('\'', f);
	write_text(f, group, '\'');
	if (n_min == n_max)
		fprintf(f, " (n=%zu)'", n_min);
	else
		fprintf(f, " (n=%zu-%zu)'", n_min, n_max);
}

struct buf {
	char *s;
	size_t len;
	FILE *f;
};

/* What a figure is written through: its numbers in DIR/NAME.dat, one block
 * per group (gnuplot's `index`), and its plot command in memory, for
 * render. figure_open; per group figure_block, its rows, "\n\n", and, when
 * it had rows, figure_element for each curve drawn from it; figure_close;
 * figure_free. */
struct figure {
	const char *name;  /* the files' name, no extension */
	char *datpath;
	FILE *dat;
	struct buf cmd;    /* the plot command */
	size_t elements;   /* curves in the plot command so far */
};

static int figure_open(struct figure *fg, const char *dir, const char *name, char *err,
                       size_t errlen)
{
	memset(fg, 0, sizeof *fg);
	fg->name = name;
	fg->datpath = bbt_asprintf("%s/%s.dat", dir, name);
	if (fg->datpath == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if ((fg->dat = fopen(fg->datpath, "w")) == NULL)
		return bbt_error(err, errlen, BBT_EIO, "%s: %s", fg->datpath, strerror(errno));
	if ((fg->cmd.f = open_memstream(&fg->cmd.s, &fg->cmd.len)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	return BBT_OK;
}

/* The start of a group's block header, "# BY = GROUP"; the caller ends
 * the line with what the columns hold. */
static void figure_block(struct figure *fg, const char *by, const char *group)
{
	fputs("# ", fg->dat);
	write_text(fg->dat, by, 0);
	fputs(" = ", fg->dat);
	write_text(fg->dat, group, 0);
}

/* Starts a curve of block g in the plot command, up to its "using": the
 * caller writes the columns, style and title. Returns the group's colour. */
static const char *figure_element(struct figure *fg, size_t g)
{
	fputs(fg->elements++ ? ", \\\n  " : "plot ", fg->cmd.f);
	gp_file(fg->cmd.f, fg->name, "dat");
	fprintf(fg->cmd.f, " index %zu ", g);
	return colours[g % N_COLOURS];
}

/* Ends the plot command and closes the data file; returns rc, or the data
 * file's write error when rc was BBT_OK. */
static int figure_close(struct figure *fg, int rc, char *err, size_t errlen)
{
	if (fg->cmd.f != NULL) {
		fputc('\n', fg->cmd.f);
		fclose(fg->cmd.f);
		fg->cmd.f = NULL;
	}
	if (fg->dat != NULL && fclose(fg->dat) != 0 && rc == BBT_OK)
		rc = bbt_error(err, errlen, BBT_EIO, "%s: write error", fg->datpath);
	fg->dat = NULL;
	return rc;
}

static void figure_free(struct figure *fg)
{
	free(fg->cmd.s);
	free(fg->datpath);
}

/* What the figures of one bbt_plot_draw share: the runs drawn as curves
 * (a baseline, a run whose method is not tune, is a reference line
 * instead, unless the figure is by method), their groups, and what a
 * group pools. */
struct plot_ctx {
	const bbt_resultset_t *rs;
	const struct bbt_plot_params *p;
	char *curve;          /* per run: 1 drawn in a group, 0 a baseline */
	const char **groups;  /* the --by values of the curve runs, sorted */
	size_t ng;
	const char **bases;   /* the baselines' methods, sorted */
	size_t nb;
};

static int in_group(const struct plot_ctx *c, size_t i, size_t g)
{
	return c->curve[i] && strcmp(group_of(c->rs, i, c->p->by), c->groups[g]) == 0;
}

static int is_base(const struct plot_ctx *c, size_t i, size_t b)
{
	return !c->curve[i] && strcmp(group_of(c->rs, i, "method"), c->bases[b]) == 0;
}

/* The baselines as horizontal lines: each method's mean of `metric` (x
 * scale), written as a comment in the data file and drawn dashed, grey,
 * "manual (n=5)". A baseline with no such number draws nothing. */
static void reference_lines(const struct plot_ctx *c, struct figure *fg, const char *metric,
                            double scale)
{
	static const char *const greys[] = { "#404040", "#808080", "#a0a0a0" };
	size_t nr = bbt_resultset_count(c->rs);
	for (size_t b = 0; b < c->nb; b++) {
		double sum = 0;
		size_t n = 0;
		for (size_t i = 0; i < nr; i++) {
			double y = bbt_resultset_metric(c->rs, i, metric);
			if (is_base(c, i, b) && !isnan(y)) {
				sum += y * scale;
				n++;
			}
		}
		if (n == 0)
			continue;
		fputs("# reference line: method = ", fg->dat);
		write_text(fg->dat, c->bases[b], 0);
		fprintf(fg->dat, ", mean %s %.10g over %zu runs\n", metric, sum / (double)n, n);
		fputs(fg->elements++ ? ", \\\n  " : "plot ", fg->cmd.f);
		fprintf(fg->cmd.f, "%.10g with lines dt %zu lw 2 lc rgb \"%s\" title ", sum / (double)n,
		        2 + b % 3, greys[b % 3]);
		legend(fg->cmd.f, c->bases[b], n, n);
	}
}

/* Keys that are no setting of what a figure compares: seeds, names and
 * places. */
static int pools_nothing(const char *key)
{
	static const char *const keys[] = { "seed", "data-seed", "run_id", "out", "data-dir",
		                             "experiment" };
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
		if (strcmp(key, keys[k]) == 0)
			return 1;
	return 0;
}

/* 1 when key is one of the comma-separated names in list. */
static int listed(const char *list, const char *key)
{
	size_t n = strlen(key);
	for (const char *s = list; *s;) {
		size_t w = strcspn(s, ",");
		if (w == n && strncmp(s, key, n) == 0)
			return 1;
		s += w + (s[w] == ',');
	}
	return 0;
}

/* The title, with what a line or point pools beyond seeds: the settings in
 * which two curve runs of one group (and, with `x`, one x value) differ,
 * "pooled over dim (5 values)", so that a median over d = 50 and d = 1000
 * is never read as one setting's. NULL when there is no title to give;
 * else malloc'ed. */
static char *title_with_pooled(const struct plot_ctx *c, const char *x)
{
	const bbt_resultset_t *rs = c->rs;
	size_t nr = bbt_resultset_count(rs);
	char *s = NULL;
	size_t len = 0, npooled = 0;
	FILE *f = open_memstream(&s, &len);
	if (f == NULL)
		return NULL;
	const char *seen[32];
	size_t nseen = 0;
	for (size_t i = 0; i < nr; i++) {
		const char *k, *v;
		for (size_t n = 0; c->curve[i] && (k = bbt_resultset_key(rs, i, n, &v)) != NULL; n++) {
			/* The --by and --x keys have one value in a group and x:
			 * only other settings can show two. */
			if (pools_nothing(k))
				continue;
			size_t already = 0;
			while (already < nseen && strcmp(seen[already], k) != 0)
				already++;
			if (already < nseen || nseen == sizeof seen / sizeof seen[0])
				continue;
			/* The values of k among the runs of i's group (and x). */
			const char *vals[64];
			size_t nv = 0;
			for (size_t j = 0; j < nr; j++) {
				if (!c->curve[j] ||
				    strcmp(group_of(rs, j, c->p->by), group_of(rs, i, c->p->by)) != 0 ||
				    (x != NULL && strcmp(group_of(rs, j, x), group_of(rs, i, x)) != 0))
					continue;
				const char *w = group_of(rs, j, k);
				size_t u = 0;
				while (u < nv && strcmp(vals[u], w) != 0)
					u++;
				if (u == nv && nv < sizeof vals / sizeof vals[0])
					vals[nv++] = w;
			}
			if (nv < 2)
				continue;
			seen[nseen++] = k;
			fprintf(f, "%s%s (%zu values)", npooled++ ? ", " : "", k, nv);
		}
	}
	fclose(f);
	if (npooled == 0) {
		free(s);
		return c->p->title ? bbt_strdup(c->p->title) : NULL;
	}
	char *t = bbt_asprintf("%s%spooled over %s", c->p->title ? c->p->title : "",
	                       c->p->title ? " (" : "", s);
	free(s);
	if (t != NULL && c->p->title != NULL) {
		char *u = bbt_asprintf("%s)", t);
		free(t);
		t = u;
	}
	return t;
}

/* The x of a convergence point: an API call, or seconds of wall time. */
struct xaxis {
	int wall;
	double max;    /* the largest x of any run */
};

/* Run t's curve at x: after call x, or at the last call made by second x;
 * NaN when the run had not got there. On the wall axis a run that has
 * ended keeps its last value: what it returned is what it holds by then
 * (dropping it would make the median of the slower runs alone, a curve
 * that falls when the quick runs end). */
static double trace_at(const struct trace *t, const struct xaxis *ax, double x)
{
	if (!ax->wall) {
		size_t k = (size_t)x;
		return k >= 1 && k <= t->n ? t->v[k - 1] : NAN;
	}
	/* wall_s grows with the call: the last row at or before x */
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (!(t->wall[mid] > x))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NAN : t->v[lo - 1];   /* not started yet, or its last call by x */
}

static int convergence(const struct plot_ctx *c, char **written, size_t cap, size_t *nw,
                       char *err, size_t errlen)
{
	const bbt_resultset_t *rs = c->rs;
	const struct bbt_plot_params *p = c->p;
	size_t nr = bbt_resultset_count(rs);
	enum curve curve = (enum curve)curve_parse(p->y);
	/* a metric chosen on dev: steps, in percent, with the baselines' */
	int dev = curve == CURVE_DEV || curve == CURVE_TEST, per_step = curve_per_step(curve);
	struct xaxis ax = { .wall = strcmp(p->x_axis, "wall") == 0 };
	const char *name = p->name ? p->name : per_step ? p->y : "convergence";
	struct trace *tr = calloc(nr, sizeof *tr);
	double *col = malloc(nr * sizeof *col);
	if (tr == NULL || col == NULL) {
		free(tr);
		free(col);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	int rc = BBT_OK;
	for (size_t i = 0; rc == BBT_OK && i < nr; i++) {
		if (!c->curve[i])
			continue;
		rc = read_trace(bbt_resultset_run_dir(rs, i), curve, &tr[i], err, errlen);
		double last = tr[i].n == 0 ? 0 : ax.wall ? tr[i].wall[tr[i].n - 1] : (double)tr[i].n;
		if (rc == BBT_OK && last > ax.max)
			ax.max = last;
	}
	struct figure fg = { 0 };
	if (rc == BBT_OK)
		rc = figure_open(&fg, p->out_dir, name, err, errlen);
	FILE *dat = fg.dat;
	double scale = dev ? 100 : 1;
	size_t points = p->points < 2 ? 2 : p->points;
	for (size_t g = 0; rc == BBT_OK && g < c->ng; g++) {
		size_t written_points = 0, runs = 0;
		for (size_t i = 0; i < nr; i++)
			runs += in_group(c, i, g);
		figure_block(&fg, p->by, c->groups[g]);
		fprintf(dat, " (%zu runs): %s median q1 q3\n", runs,
		        per_step ? "step" : ax.wall ? "seconds" : "calls");
		double last = -1;
		for (size_t k = 0; k < points; k++) {
			double x = (double)k * ax.max / (double)(points - 1);
			if (!ax.wall) /* whole calls, from the first */
				x = 1 + (double)llround((double)k * (ax.max - 1) / (double)(points - 1));
			if (x == last || ax.max == 0)
				continue;
			last = x;
			size_t m = 0;
			for (size_t i = 0; i < nr; i++) {
				double y = in_group(c, i, g) ? trace_at(&tr[i], &ax, x) : NAN;
				if (!isnan(y))
					col[m++] = y * scale;
			}
			if (m == 0)
				continue;
			for (size_t a = 1; a < m; a++)  /* insertion sort: m is the seeds */
				for (size_t b = a; b > 0 && col[b - 1] > col[b]; b--) {
					double t = col[b];
					col[b] = col[b - 1];
					col[b - 1] = t;
				}
			fprintf(dat, "%.10g %.10g %.10g %.10g\n", x,
			        bbt_stats_quantile_sorted(col, m, 0.5),
			        bbt_stats_quantile_sorted(col, m, 0.25),
			        bbt_stats_quantile_sorted(col, m, 0.75));
			written_points++;
		}
		fprintf(dat, "\n\n");
		if (written_points == 0)
			continue;  /* gnuplot refuses an empty block; the group has no data */
		const char *colour = figure_element(&fg, g);
		fprintf(fg.cmd.f, "using 1:3:4 with filledcurves lc rgb \"%s\" notitle", colour);
		figure_element(&fg, g);
		/* The best dev metric changes only at an evaluation: steps, not
		 * slopes between evaluations that never happened. */
		fprintf(fg.cmd.f, "using 1:2 with %s lc rgb \"%s\" lw 2 title ",
		        dev ? "steps" : "lines", colour);
		legend(fg.cmd.f, c->groups[g], runs, runs);
	}
	size_t drawn = fg.elements;
	/* A baseline has a dev metric to compare with, but no training loss
	 * that a tuned prompt's is comparable to (calibration leaves it). */
	if (rc == BBT_OK && dev)
		reference_lines(c, &fg, curve_names[curve], scale);
	rc = figure_close(&fg, rc, err, errlen);
	static const char *const what[] = { "API call", "dev evaluation",
		                            "gradient check (run with --grad-check)",
		                            "gradient check (run with --grad-check)",
		                            "dev evaluation" };
	static const char *const ylabel[] = { "best training loss", "best dev metric (%)",
		                              "cosine(ZO estimate, true gradient)",
		                              "|ZO estimate| / |true gradient|",
		                              "test metric of the best-on-dev prompt (%)" };
	if (rc == BBT_OK && drawn == 0)
		rc = bbt_error(err, errlen, BBT_ENOTFOUND, "no %s in the runs' traces to plot",
		               what[curve]);
	if (rc == BBT_OK) {
		char *ylab = bbt_asprintf("%s (median, IQR)", ylabel[curve]);
		char *extra = bbt_asprintf("set style fill transparent solid 0.2 noborder\n"
		                           "set xrange [0:%.10g]\n", ax.max);
		char *title = title_with_pooled(c, NULL);
		char *setup = ylab && extra
			? setup_lines(per_step ? "optimizer step" : ax.wall ? "wall time (s)" : "API calls",
			              ylab, "outside right top",
			              key_label(p->by), extra, title)
			: NULL;
		free(ylab);
		free(extra);
		free(title);
		rc = setup ? render(p->out_dir, name, setup, fg.cmd.s, written, cap, nw, err,
		                    errlen)
		           : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		free(setup);
	}
	figure_free(&fg);
	for (size_t i = 0; i < nr; i++)
		trace_free(&tr[i]);
	free(tr);
	free(col);
	return rc;
}

static int metric_vs_key(const struct plot_ctx *c, char **written, size_t cap, size_t *nw,
                         char *err, size_t errlen)
{
	const bbt_resultset_t *rs = c->rs;
	const struct bbt_plot_params *p = c->p;
	size_t nr = bbt_resultset_count(rs);
	const char **xs = malloc(nr * sizeof *xs);
	double *v = malloc(nr * sizeof *v);
	char *name = p->name ? bbt_strdup(p->name) : bbt_asprintf("%s-vs-%s", p->metric, p->x);
	int rc = xs && v && name ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	size_t nx = rc == BBT_OK ? distinct(rs, c->curve, p->x, xs) : 0;
	int numeric = 1;
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < nx; i++) {
		double d;
		if (bbt_parse_double(xs[i], &d) != 0) {
			numeric = 0;
		} else {
			lo = fmin(lo, d);
			hi = fmax(hi, d);
		}
	}
	int logx = numeric && lo > 0 && hi / lo >= 20;
	/* Each group's points sit a little beside the true x (tics stay
	 * there), so error bars at the same x do not hide each other: a factor
	 * on a log axis, a step on a linear or categorical one. */
	double dodge = logx ? 1.03 : !numeric ? 0.05 : hi > lo ? 0.01 * (hi - lo)
	                                        : lo != 0 ? 0.01 * fabs(lo) : 0.01;
	struct figure fg = { 0 };
	if (rc == BBT_OK)
		rc = figure_open(&fg, p->out_dir, name, err, errlen);
	FILE *dat = fg.dat;
	double scale = bbt_resultset_metric_is_fraction(p->metric) ? 100 : 1;
	for (size_t g = 0; rc == BBT_OK && g < c->ng; g++) {
		size_t pts = 0, n_min = SIZE_MAX, n_max = 0;
		double shift = (double)g - (double)(c->ng - 1) / 2;  /* in dodges */
		figure_block(&fg, p->by, c->groups[g]);
		fputs(": ", dat);
		write_text(dat, p->x, 0);
		fputs(" (or its position), moved aside by the group's dodge; mean std label n\n",
		      dat);
		for (size_t k = 0; k < nx; k++) {
			size_t m = 0;
			for (size_t i = 0; i < nr; i++) {
				double y = bbt_resultset_metric(rs, i, p->metric);
				if (!isnan(y) && in_group(c, i, g) && strcmp(group_of(rs, i, p->x), xs[k]) == 0)
					v[m++] = y * scale;
			}
			if (m == 0)
				continue;
			double mean, sd;
			bbt_stats_mean_std(v, m, &mean, &sd);
			/* x: the value, or the position on a categorical axis */
			double x = (double)k;
			if (numeric)
				bbt_parse_double(xs[k], &x);
			x = logx ? x * pow(dodge, shift) : x + dodge * shift;
			fprintf(dat, "%.10g %.10g %.10g ", x, mean, isnan(sd) ? 0 : sd);
			dat_string(dat, xs[k]);
			fprintf(dat, " %zu\n", m);
			pts++;
			n_min = m < n_min ? m : n_min;
			n_max = m > n_max ? m : n_max;
		}
		fprintf(dat, "\n\n");
		if (pts == 0)
			continue;
		const char *colour = figure_element(&fg, g);
		fprintf(fg.cmd.f, "using 1:2:3 with yerrorlines lc rgb \"%s\" lw 2 pt 7 ps 1.5 title ",
		        colour);
		legend(fg.cmd.f, c->groups[g], n_min, n_max);
		/* Points of one line that stand on different numbers of runs
		 * say theirs beside them. */
		if (n_min != n_max) {
			figure_element(&fg, g);
			fprintf(fg.cmd.f, "using 1:2:(sprintf('n=%%d', $5)) with labels offset 0,1 "
			                  "tc rgb \"%s\" notitle", colour);
		}
	}
	size_t drawn = fg.elements;
	if (rc == BBT_OK)
		reference_lines(c, &fg, p->metric, scale);
	rc = figure_close(&fg, rc, err, errlen);
	if (rc == BBT_OK && drawn == 0)
		rc = bbt_error(err, errlen, BBT_ENOTFOUND, "no run has a %s to plot", p->metric);
	/* A log axis shows d = 50 .. 1000 evenly; the values themselves are
	 * the tics (numbers, as bbt_parse_double accepted them: no text), and
	 * the axis ends at the data (plus the offsets), not at gnuplot's next
	 * power of ten. */
	struct buf extra = { 0 };
	if (rc == BBT_OK && (extra.f = open_memstream(&extra.s, &extra.len)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK) {
		fputs("set offsets graph 0.05, graph 0.05, graph 0.1, graph 0.1\n", extra.f);
		if (logx)
			fputs("set logscale x\nset autoscale xfix\n", extra.f);
		/* The tics at the true values: a categorical axis's labels are
		 * data, so strings, at their positions. */
		fputs("set xtics (", extra.f);
		for (size_t k = 0; k < nx; k++) {
			fputs(k ? ", " : "", extra.f);
			if (numeric) {
				fputs(xs[k], extra.f);
			} else {
				gp_string(extra.f, xs[k]);
				fprintf(extra.f, " %zu", k);
			}
		}
		fputs(")\n", extra.f);
		if (fclose(extra.f) != 0)
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	if (rc == BBT_OK) {
		char *title = title_with_pooled(c, p->x);
		char *setup = setup_lines(key_label(p->x), bbt_resultset_metric_label(rs, p->metric),
		                          "outside right top", key_label(p->by), extra.s, title);
		free(title);
		rc = setup ? render(p->out_dir, name, setup, fg.cmd.s, written, cap, nw, err, errlen)
		           : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		free(setup);
	}
	figure_free(&fg);
	free(extra.s);
	free(name);
	free(xs);
	free(v);
	return rc;
}

/* 1 when a figure by `by` against `x` compares methods itself, so that
 * no baseline is a reference line. */
static int shows_methods(const struct bbt_plot_params *p)
{
	return listed(p->by, "method") || (p->x != NULL && strcmp(p->x, "method") == 0);
}

int bbt_plot_draw(const bbt_resultset_t *rs, const struct bbt_plot_params *p, char **written,
                  size_t cap, size_t *n_written, char *err, size_t errlen)
{
	*n_written = 0;
	if (curve_parse(p->y) < 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--y '%s': expected train_loss, dev_metric, test_metric, grad_cos "
		                 "or grad_norm_ratio", p->y);
	if (strcmp(p->x_axis, "calls") != 0 && strcmp(p->x_axis, "wall") != 0)
		return bbt_error(err, errlen, BBT_EINVAL, "--x-axis '%s': expected calls or wall",
		                 p->x_axis);
	if (strcmp(p->x_axis, "wall") == 0 && curve_per_step((enum curve)curve_parse(p->y)))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--x-axis wall: the gradient checks are drawn per optimizer step");
	if (p->x != NULL && !bbt_resultset_metric_known(p->metric))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--metric '%s': expected %s", p->metric, bbt_result_metric_list());
	if (p->name != NULL && p->convergence && p->x != NULL)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "figure name '%s': one name for two figures", p->name);
	if (p->name != NULL && !bbt_name_is_plain(p->name))
		return bbt_error(err, errlen, BBT_EINVAL, "figure name '%s': expected %s", p->name,
		                 BBT_PLAIN_WORD);
	size_t nr = bbt_resultset_count(rs);
	int has_by = 0, has_x = p->x == NULL;
	for (size_t i = 0; i < nr; i++) {
		has_by |= bbt_resultset_value(rs, i, p->by) != NULL;
		if (p->x != NULL)
			has_x |= bbt_resultset_value(rs, i, p->x) != NULL;
	}
	if (!has_by)
		return bbt_error(err, errlen, BBT_EINVAL, "--by: no run has a setting or option '%s'",
		                 p->by);
	if (!has_x)
		return bbt_error(err, errlen, BBT_EINVAL, "--x: no run has a setting or option '%s'",
		                 p->x);
	int rc = bbt_mkdir_p(p->out_dir, err, errlen);
	if (rc < 0)
		return rc;
	struct plot_ctx c = { .rs = rs, .p = p };
	c.curve = malloc(nr ? nr : 1);
	char *base = malloc(nr ? nr : 1);
	c.groups = malloc((nr ? nr : 1) * sizeof *c.groups);
	c.bases = malloc((nr ? nr : 1) * sizeof *c.bases);
	if (c.curve == NULL || base == NULL || c.groups == NULL || c.bases == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	} else {
		int methods = shows_methods(p);
		for (size_t i = 0; i < nr; i++) {
			const char *m = bbt_resultset_value(rs, i, "method");
			c.curve[i] = methods || m == NULL || strcmp(m, "tune") == 0;
			base[i] = !c.curve[i] && (p->reference == NULL || listed(p->reference, m));
		}
		c.ng = distinct(rs, c.curve, p->by, c.groups);
		c.nb = distinct(rs, base, "method", c.bases);
		if (c.ng == 0)
			rc = bbt_error(err, errlen, BBT_ENOTFOUND,
			               "no tuned run to draw (the baselines are reference lines; "
			               "--by method draws them as lines of their own)");
	}
	if (rc == BBT_OK && p->convergence)
		rc = convergence(&c, written, cap, n_written, err, errlen);
	if (rc == BBT_OK && p->x != NULL)
		rc = metric_vs_key(&c, written, cap, n_written, err, errlen);
	free(c.curve);
	free(base);
	free(c.groups);
	free(c.bases);
	return rc;
}
