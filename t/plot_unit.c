/*
 * t/plot_unit.c - bbt_plot_draw's data and script files, with a stand-in
 * for gnuplot: groups in their order (numbers by value), medians and
 * quartiles per API call, a trace row that cannot be read keeping its
 * place, log axis and dodged points of a metric-vs-key figure, and
 * control characters and quotes of values from other people's
 * result.json defused before they reach the script gnuplot runs.
 * t/plot.sh draws real figures through the command line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "experiments/plot.h"
#include "tap.h"
#include "tmptree.h"

/* A value with a quote, a double quote, a line break and a gnuplot shell
 * escape, as JSON. */
#define EVIL_JSON "\"evil'\\\"\\n!touch pwned\""

static void run(const char *dir, const char *optimizer_json, int dim, double acc,
                const char *trace)
{
	char path[256];
	snprintf(path, sizeof path, "%s/result.json", dir);
	tree_writef(path,
	            "{\"status\": \"finished\", \"run_id\": \"%s\",\n"
	            " \"settings\": {\"optimizer\": %s, \"dim\": %d, \"seed\": 1},\n"
	            " \"metrics\": {\"metric\": \"acc\", \"test_metric\": %g, \"test_acc\": %g}}\n",
	            dir, optimizer_json, dim, acc, acc);
	snprintf(path, sizeof path, "%s/trace.csv", dir);
	tree_writef(path, "call,batch,loss,best_loss,dev_metric,wall_s\n%s", trace);
}

static bbt_resultset_t *load(const char *rel)
{
	char err[BBT_ERRLEN];
	bbt_resultset_t *rs = NULL;
	if (bbt_resultset_load(tree_path(rel), 1, &rs, err, sizeof err) < 0)
		diag("%s", err);
	return rs;
}

/* The lines of text from the one starting with `from` up to the next
 * empty line, in static storage. */
static const char *block(const char *text, const char *from)
{
	static char out[2048];
	out[0] = '\0';
	const char *s = text ? strstr(text, from) : NULL;
	if (s != NULL) {
		const char *e = strstr(s, "\n\n");
		size_t n = e ? (size_t)(e - s) + 1 : strlen(s);
		snprintf(out, sizeof out, "%.*s", (int)(n < sizeof out ? n : sizeof out - 1), s);
	}
	return out;
}

static void free_written(char **w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i]);
}

int main(void)
{
	plan(35);
	tree_init("bbt-plot");
	run("runs/r1", "\"cmaes\"", 50, 0.8,
	    "1,1,0.9,0.9,,0.1\n2,1,0.8,0.8,0.5,0.2\n3,2,0.7,0.7,,0.3\n4,2,0.6,0.6,0.75,0.4\n");
	run("runs/r2", "\"cmaes\"", 1000, 0.9,
	    "1,1,0.8,0.8,,0.1\n2,1,0.6,0.6,,0.2\n3,2,0.5,0.5,,0.3\n4,2,0.4,0.4,,0.4\n");
	run("runs/r3", EVIL_JSON, 50, 0.6, "1,1,1.0,1.0,,0.1\ngarbage\n3,2,0.9,0.9,,0.3\n");
	bbt_resultset_t *rs = load("runs");
	if (rs == NULL)
		skip_all("the runs did not load");

	struct bbt_plot_params p = bbt_plot_default_params();
	char err[BBT_ERRLEN];
	char *written[8];
	size_t nw = 99;
	char out_dir[1100];
	snprintf(out_dir, sizeof out_dir, "%s", tree_path("plots"));
	p.out_dir = out_dir;
	p.title = "a'b\nc";

	/* No gnuplot: the data and script are written all the same. */
	setenv("BBTBENCH_GNUPLOT", "/nonexistent/gnuplot", 1);
	stderr_catch();
	int rc = bbt_plot_draw(rs, &p, written, 8, &nw, err, sizeof err);
	char *said = stderr_release();
	is_int(rc, BBT_ENOTFOUND, "no gnuplot: not found");
	like(err, "cannot run /nonexistent/gnuplot: install gnuplot-nox", "naming the program");
	is_int((long long)nw, 0, "nothing rendered");
	like(said, "runs/r3/trace.csv:3: expected 6 to 16 comma-separated fields",
	     "the broken trace row named by file:line");
	free(said);

	char *dat = tree_slurp("plots/convergence.dat");
	char *gp = tree_slurp("plots/convergence.gp");
	ok(dat != NULL && gp != NULL, "convergence.dat and .gp written");
	is_string(block(dat, "# optimizer = cmaes"),
	          "# optimizer = cmaes (2 runs): calls median q1 q3\n"
	          "1 0.85 0.825 0.875\n"
	          "2 0.7 0.65 0.75\n"
	          "3 0.6 0.55 0.65\n"
	          "4 0.5 0.45 0.55\n",
	          "cmaes: median and quartiles of the best loss after each call");
	is_string(block(dat, "# optimizer = evil"),
	          "# optimizer = evil'\"?!touch pwned (1 runs): calls median q1 q3\n"
	          "1 1 1 1\n"
	          "3 0.9 0.9 0.9\n",
	          "the hostile group: its line break defused in the comment; the unreadable "
	          "row 2 left out, row 3 still call 3");
	ok(dat != NULL && strstr(dat, "cmaes") < strstr(dat, "evil"), "groups in order");
	ok(gp != NULL && strstr(gp, "\n!") == NULL && strstr(dat, "\n!") == NULL,
	   "no line of the script or data begins with a shell escape");
	like(gp, "title 'evil''\"?!touch pwned (n=1)'",
	     "the legend single-quoted, its quote doubled, the line break a '?'");
	like(gp, "title 'cmaes (n=2)'", "cmaes's legend counts its runs");
	like(gp, "set title 'a''b?c'\n", "the title defused too");
	like(gp, "plot 'convergence.dat' index 0 using 1:3:4 with filledcurves",
	     "band of group 0 from its block");
	like(gp, "'convergence.dat' index 1 using 1:2 with lines", "line of group 1");
	like(gp, "set xrange [0:4]\n", "x axis to the longest trace");
	like(gp, "set output 'convergence.png'\n", "PNG");
	like(gp, "set output 'convergence.svg'\nreplot\n", "then SVG");
	free(dat);
	free(gp);

	/* A stand-in gnuplot that writes both images: a metric against dim,
	 * one line per optimizer. */
	tree_write("fake-gnuplot", "#!/bin/sh\nb=${1%.gp}\necho png >\"$b.png\"\necho svg >\"$b.svg\"\n");
	chmod(tree_path("fake-gnuplot"), 0755);
	setenv("BBTBENCH_GNUPLOT", tree_path("fake-gnuplot"), 1);
	p.x = "dim";
	p.metric = "test_acc";
	p.title = NULL;
	stderr_catch();
	rc = bbt_plot_draw(rs, &p, written, 8, &nw, err, sizeof err);
	free(stderr_release());
	is_int(rc, BBT_OK, "with gnuplot: drawn");
	is_int((long long)nw, 4, "four images");
	like(nw == 4 ? written[3] : NULL, "plots/test_acc-vs-dim.svg", "the last one named");
	free_written(written, nw);
	dat = tree_slurp("plots/test_acc-vs-dim.dat");
	gp = tree_slurp("plots/test_acc-vs-dim.gp");
	/* d = 50 and 1000 span a factor of 20: log axis; two groups, each
	 * half a dodge (x 1.03) aside. */
	const char *b0 = block(dat, "# optimizer = cmaes");
	const char *row = strchr(b0, '\n');
	double x0 = row ? strtod(row + 1, NULL) : 0;
	is_double(x0, 50 / sqrt(1.03), 1e-6, "cmaes's point at d=50, dodged left on a log axis");
	like(b0, " 80 0 \"50\" 1\n", "mean 80 (percent), no sd of one run, its label and count");
	like(b0, " 90 0 \"1000\" 1\n", "then d=1000");
	like(dat, "\"50\" 1\n\n\n", "the hostile group's block: only d=50");
	like(gp, "set logscale x\n", "log axis");
	like(gp, "set xtics (50, 1000)\n", "tics at the true values, in numeric order");
	like(gp, "set xlabel 'subspace dimension d'", "dim's words on the axis");
	free(dat);
	free(gp);

	/* A categorical axis: the hostile value as a tic label and data column. */
	p.x = "optimizer";
	p.by = "dim";
	stderr_catch();
	rc = bbt_plot_draw(rs, &p, written, 8, &nw, err, sizeof err);
	free(stderr_release());
	is_int(rc, BBT_OK, "metric against a text key");
	free_written(written, nw);
	dat = tree_slurp("plots/test_acc-vs-optimizer.dat");
	gp = tree_slurp("plots/test_acc-vs-optimizer.gp");
	like(gp, "set xtics ('cmaes' 0, 'evil''\"?!touch pwned' 1)\n",
	     "text tics single-quoted at their positions");
	like(dat, "\"evil''?!touch pwned\"", "in the data file's quoted column '\"' becomes '\\''");
	ok(dat != NULL && strstr(dat, "# dim = 50") < strstr(dat, "# dim = 1000"),
	   "groups 50 before 1000: numbers by value");
	free(dat);
	free(gp);

	/* What is refused before anything is written. */
	p.y = "loss";
	is_int(bbt_plot_draw(rs, &p, written, 8, &nw, err, sizeof err), BBT_EINVAL,
	       "an unknown --y is refused");
	like(err, "--y 'loss': expected train_loss, dev_metric", "naming it");
	p.y = "train_loss";
	p.by = "nope";
	is_int(bbt_plot_draw(rs, &p, written, 8, &nw, err, sizeof err), BBT_EINVAL,
	       "a --by key no run has is refused");
	like(err, "--by: no run has a setting or option 'nope'", "naming it");

	bbt_resultset_free(rs);
	tree_remove();
	return done_testing();
}
