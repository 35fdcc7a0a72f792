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
		                             .title = NULL };
}

static int starts_number(const char *s)
{
	return isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]));
}

/* Values in a legend's order: numbers by value, also inside combined
 * values ("dim=50 seed=1" before "dim=100 seed=1"), other text by bytes. */
static int cmp_value(const char *a0, const char *b0)
{
	const char *a = a0, *b = b0;
	while (*a && *b) {
		if (starts_number(a) && starts_number(b)) {
			char *ea, *eb;
			double x = strtod(a, &ea), y = strtod(b, &eb);
			if (x != y)
				return (x > y) - (x < y);
			a = ea;
			b = eb;
		} else if (*a != *b) {
			break;
		} else {
			a++, b++;
		}
	}
	int c = (unsigned char)*a - (unsigned char)*b;
	return c ? c : strcmp(a0, b0);  /* "1.5" and "1.50": still one order */
}

static int cmp_value_p(const void *a, const void *b)
{
	return cmp_value(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct values of key over the runs, sorted; borrowed strings. */
static size_t distinct(const bbt_resultset_t *rs, const char *key, const char **out)
{
	size_t n = 0;
	for (size_t i = 0; i < bbt_resultset_count(rs); i++) {
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
};

static const char *const curve_names[] = { "train_loss", "dev_metric", "grad_cos",
	                                   "grad_norm_ratio" };

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

/* The columns of trace.csv (results.c writes it); the last three may be
 * empty, the gradient checks' two are there only with --grad-check (the
 * header says so). Columns after them (layer, a served model's bytes and
 * latency) are not read here. */
enum { T_CALL, T_BATCH, T_LOSS, T_BEST_LOSS, T_DEV, T_WALL, T_GRAD_COS, T_GRAD_RATIO, T_COLS };
static const char *const trace_cols[T_COLS] = {
	"call", "batch", "loss", "best_loss", "dev_metric", "wall_s", "grad_cos", "grad_norm_ratio",
};
#define T_MAX_FIELDS 16   /* a row with more is not one of ours */

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
                        double *x)
{
	if (col < nf && bbt_parse_double(field[col], x) == 0)
		return 0;
	bbt_log(BBT_LOG_WARNING, NULL, "%s:%zu: %s: expected a number, got '%.40s'; left out", path,
	        lineno, trace_cols[col], col < nf ? field[col] : "");
	return -1;
}

/* v[k]: the curve's value after API call k + 1, or at step k + 1 for the
 * gradient checks (NaN where there is none: before the first dev
 * evaluation, a step the optimizer skipped, a value that is not a number).
 * Row k of the file is call k, so a row that cannot be read still takes
 * its place. */
static int read_trace(const char *run_dir, enum curve curve, double **out, size_t *n, char *err,
                      size_t errlen)
{
	char *path = bbt_path_join(run_dir, "trace.csv");
	FILE *f = path ? fopen(path, "r") : NULL;
	if (f == NULL) {
		int rc = path ? bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno))
		              : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		free(path);
		return rc;
	}
	size_t cap = 1024, len = 0, lineno = 0;
	double *v = malloc(cap * sizeof *v), cur = NAN;
	char line[512];
	int has_grad = 0;   /* the header names the gradient checks' columns */
	int rc = v ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
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
			ll = 0;  /* no field of ours is that long */
		}
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0';
		if (lineno == 1) {  /* the header */
			has_grad = strstr(line, ",grad_cos,grad_norm_ratio") != NULL;
			continue;
		}
		if (ll > 0)
			nf = split_row(line, field);
		if (nf < T_WALL + 1 || nf > T_MAX_FIELDS) {
			bbt_log(BBT_LOG_WARNING, NULL,
			        "%s:%zu: expected %d to %d comma-separated fields (call, batch, loss, "
			        "best_loss, dev_metric, wall_s, ...); left out", path, lineno,
			        T_WALL + 1, T_MAX_FIELDS);
			nf = 0;  /* no field: the row still takes its call's place */
		}
		size_t at = len;      /* where this row's value goes */
		double x = NAN;
		if (curve == CURVE_DEV) {
			if (nf > 0 && field[T_DEV][0] != '\0' &&
			    trace_number(path, lineno, field, nf, T_DEV, &x) == 0)
				cur = isnan(cur) || x > cur ? x : cur;
			x = cur;
		} else if (curve == CURVE_LOSS) {
			if (nf > 0 && trace_number(path, lineno, field, nf, T_BEST_LOSS, &x) < 0)
				x = NAN;
		} else {
			size_t col = curve == CURVE_GRAD_COS ? T_GRAD_COS : T_GRAD_RATIO;
			if (!has_grad || nf <= col || field[col][0] == '\0')
				continue;
			long step;
			/* A step takes at least one call, so one row: a larger one
			 * is not a step of this run (and would size the array). */
			if (bbt_parse_long(field[T_BATCH], &step) != 0 || step < 1 ||
			    (size_t)step > lineno) {
				bbt_log(BBT_LOG_WARNING, NULL,
				        "%s:%zu: %s: expected a step number from 1 to the row's, got "
				        "'%.40s'; left out", path, lineno, trace_cols[T_BATCH],
				        field[T_BATCH]);
				continue;
			}
			if (trace_number(path, lineno, field, nf, col, &x) < 0)
				continue;
			at = (size_t)step - 1;
		}
		while (at >= cap) {
			double *nv = realloc(v, 2 * cap * sizeof *nv);
			if (nv == NULL) {
				rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap *= 2;
		}
		if (rc < 0)
			break;
		for (; len <= at; len++)
			v[len] = NAN;
		v[at] = x;
	}
	fclose(f);
	free(path);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n = len;
	return BBT_OK;
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

static int convergence(const bbt_resultset_t *rs, const struct bbt_plot_params *p,
                       const char **groups, size_t ng, char **written, size_t cap, size_t *nw,
                       char *err, size_t errlen)
{
	size_t nr = bbt_resultset_count(rs);
	enum curve curve = (enum curve)curve_parse(p->y);
	int dev = curve == CURVE_DEV, per_step = curve_per_step(curve);
	const char *name = per_step ? p->y : "convergence";   /* the files' name */
	double **best = calloc(nr, sizeof *best);
	size_t *len = calloc(nr, sizeof *len), max_calls = 0;
	double *col = malloc(nr * sizeof *col);
	if (best == NULL || len == NULL || col == NULL) {
		free(best);
		free(len);
		free(col);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	int rc = BBT_OK;
	for (size_t i = 0; rc == BBT_OK && i < nr; i++) {
		rc = read_trace(bbt_resultset_run_dir(rs, i), curve, &best[i], &len[i], err, errlen);
		if (rc == BBT_OK && len[i] > max_calls)
			max_calls = len[i];
	}
	struct figure fg = { 0 };
	if (rc == BBT_OK)
		rc = figure_open(&fg, p->out_dir, name, err, errlen);
	FILE *dat = fg.dat;
	double scale = dev ? 100 : 1;
	size_t points = p->points < 2 ? 2 : p->points;
	for (size_t g = 0; rc == BBT_OK && g < ng; g++) {
		size_t written_points = 0, runs = 0;
		for (size_t i = 0; i < nr; i++)
			runs += strcmp(group_of(rs, i, p->by), groups[g]) == 0;
		figure_block(&fg, p->by, groups[g]);
		fprintf(dat, " (%zu runs): %s median q1 q3\n", runs, per_step ? "step" : "calls");
		size_t last = 0;
		for (size_t k = 0; k < points; k++) {
			size_t x = 1 + (size_t)llround((double)k * (double)(max_calls - 1) /
			                               (double)(points - 1));
			if (x == last || max_calls == 0)
				continue;
			last = x;
			size_t m = 0;
			for (size_t i = 0; i < nr; i++)
				if (len[i] >= x && !isnan(best[i][x - 1]) &&
				    strcmp(group_of(rs, i, p->by), groups[g]) == 0)
					col[m++] = best[i][x - 1] * scale;
			if (m == 0)
				continue;
			for (size_t a = 1; a < m; a++)  /* insertion sort: m is the seeds */
				for (size_t b = a; b > 0 && col[b - 1] > col[b]; b--) {
					double t = col[b];
					col[b] = col[b - 1];
					col[b - 1] = t;
				}
			fprintf(dat, "%zu %.10g %.10g %.10g\n", x, bbt_stats_quantile_sorted(col, m, 0.5),
			        bbt_stats_quantile_sorted(col, m, 0.25),
			        bbt_stats_quantile_sorted(col, m, 0.75));
			written_points++;
		}
		fprintf(dat, "\n\n");
		if (written_points == 0)
			continue;  /* gnuplot refuses an empty block; the group has no data */
		const char *c = figure_element(&fg, g);
		fprintf(fg.cmd.f, "using 1:3:4 with filledcurves lc rgb \"%s\" notitle", c);
		figure_element(&fg, g);
		fprintf(fg.cmd.f, "using 1:2 with lines lc rgb \"%s\" lw 2 title ", c);
		legend(fg.cmd.f, groups[g], runs, runs);
	}
	rc = figure_close(&fg, rc, err, errlen);
	static const char *const what[] = { "API call", "dev evaluation",
		                            "gradient check (run with --grad-check)",
		                            "gradient check (run with --grad-check)" };
	static const char *const ylabel[] = { "best training loss", "best dev metric (%)",
		                              "cosine(ZO estimate, true gradient)",
		                              "|ZO estimate| / |true gradient|" };
	if (rc == BBT_OK && fg.elements == 0)
		rc = bbt_error(err, errlen, BBT_ENOTFOUND, "no %s in the runs' traces to plot",
		               what[curve]);
	if (rc == BBT_OK) {
		char *ylab = bbt_asprintf("%s (median, IQR)", ylabel[curve]);
		char *extra = bbt_asprintf("set style fill transparent solid 0.2 noborder\n"
		                           "set xrange [0:%zu]\n", max_calls);
		char *setup = ylab && extra
			? setup_lines(per_step ? "optimizer step" : "API calls", ylab,
			              dev || curve == CURVE_GRAD_COS ? "bottom right" : "top right",
			              key_label(p->by), extra, p->title)
			: NULL;
		free(ylab);
		free(extra);
		rc = setup ? render(p->out_dir, name, setup, fg.cmd.s, written, cap, nw, err,
		                    errlen)
		           : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		free(setup);
	}
	figure_free(&fg);
	for (size_t i = 0; i < nr; i++)
		free(best[i]);
	free(best);
	free(len);
	free(col);
	return rc;
}

static int metric_vs_key(const bbt_resultset_t *rs, const struct bbt_plot_params *p,
                         const char **groups, size_t ng, char **written, size_t cap,
                         size_t *nw, char *err, size_t errlen)
{
	size_t nr = bbt_resultset_count(rs);
	const char **xs = malloc(nr * sizeof *xs);
	double *v = malloc(nr * sizeof *v);
	char *name = bbt_asprintf("%s-vs-%s", p->metric, p->x);
	int rc = xs && v && name ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	size_t nx = rc == BBT_OK ? distinct(rs, p->x, xs) : 0;
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
	for (size_t g = 0; rc == BBT_OK && g < ng; g++) {
		size_t pts = 0, n_min = SIZE_MAX, n_max = 0;
		double shift = (double)g - (double)(ng - 1) / 2;  /* in dodges */
		figure_block(&fg, p->by, groups[g]);
		fputs(": ", dat);
		write_text(dat, p->x, 0);
		fputs(" (or its position), moved aside by the group's dodge; mean std label n\n",
		      dat);
		for (size_t k = 0; k < nx; k++) {
			size_t m = 0;
			for (size_t i = 0; i < nr; i++) {
				double y = bbt_resultset_metric(rs, i, p->metric);
				if (!isnan(y) && strcmp(group_of(rs, i, p->by), groups[g]) == 0 &&
				    strcmp(group_of(rs, i, p->x), xs[k]) == 0)
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
		const char *c = figure_element(&fg, g);
		fprintf(fg.cmd.f, "using 1:2:3 with yerrorlines lc rgb \"%s\" lw 2 pt 7 ps 1.5 title ",
		        c);
		legend(fg.cmd.f, groups[g], n_min, n_max);
	}
	rc = figure_close(&fg, rc, err, errlen);
	if (rc == BBT_OK && fg.elements == 0)
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
		char *setup = setup_lines(key_label(p->x), bbt_resultset_metric_label(rs, p->metric),
		                          "bottom right opaque", key_label(p->by), extra.s, p->title);
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

int bbt_plot_draw(const bbt_resultset_t *rs, const struct bbt_plot_params *p, char **written,
                  size_t cap, size_t *n_written, char *err, size_t errlen)
{
	*n_written = 0;
	if (curve_parse(p->y) < 0)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--y '%s': expected train_loss, dev_metric, grad_cos or "
		                 "grad_norm_ratio", p->y);
	if (p->x != NULL && !bbt_resultset_metric_known(p->metric))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "--metric '%s': expected %s", p->metric, bbt_result_metric_list());
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
	const char **groups = malloc(nr * sizeof *groups);
	if (groups == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	size_t ng = distinct(rs, p->by, groups);
	rc = convergence(rs, p, groups, ng, written, cap, n_written, err, errlen);
	if (rc == BBT_OK && p->x != NULL)
		rc = metric_vs_key(rs, p, groups, ng, written, cap, n_written, err, errlen);
	free(groups);
	return rc;
}
