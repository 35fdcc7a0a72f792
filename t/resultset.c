/*
 * t/resultset.c - finished runs read back from a folder of result.json
 * files: found at any depth and in path order, unfinished and hidden ones
 * left out, settings and options looked up by the names a user types,
 * metrics and their labels, combined keys, and a broken file named (by
 * --strict's error, or on stderr when it is left out).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "experiments/resultset.h"
#include "tap.h"
#include "tmptree.h"

/* A finished run: settings, one optimizer and one backend option. */
static void run(const char *rel, const char *optimizer, int dim, int seed, const char *acc,
                const char *metric)
{
	tree_writef(rel,
	            "{\"status\": \"finished\", \"run_id\": \"%s-d%d-s%d\",\n"
	            " \"settings\": {\"optimizer\": \"%s\", \"dim\": %d, \"seed\": %d,\n"
	            "  \"data-seed\": 13, \"alpha\": 1.0, \"sigma\": 0.1, \"calibrate\": false,\n"
	            "  \"list\": [1, 2]},\n"
	            " \"optimizer\": {\"options\": {\"lr\": \"0.1\"}},\n"
	            " \"backend\": {\"options\": {\"hidden\": 16}},\n"
	            " \"metrics\": {\"metric\": \"%s\", \"test_metric\": %s, \"test_acc\": %s,\n"
	            "  \"test_f1\": null, \"train_loss\": 0.5, \"dev_metric\": 0.75},\n"
	            " \"api_calls\": 400, \"wall_time_s\": 1.25}\n",
	            optimizer, dim, seed, optimizer, dim, seed, metric, acc, acc);
}

static void test_load(void)
{
	run("exp/b-s1/result.json", "zo-adam", 50, 1, "0.7", "acc");
	run("exp/a-s2/result.json", "cmaes", 100, 2, "0.9", "acc");
	run("exp/a-s1/result.json", "cmaes", 50, 1, "0.8", "acc");
	run("exp/deep/x/y/z/result.json", "random", 50, 1, "0.5", "acc");
	run("exp/.hidden/result.json", "hidden", 50, 1, "0.1", "acc");
	run("exp/a-s1/copy.json", "copy", 50, 1, "0.1", "acc");   /* not result.json */
	tree_write("exp/cut/result.json", "{\"status\": \"interrupted\", \"run_id\": \"x\"}\n");
	tree_write("exp/nostatus/result.json", "{\"run_id\": \"y\"}\n");
	tree_write("exp/notes.txt", "not a run\n");

	char err[BBT_ERRLEN] = "";
	bbt_resultset_t *rs = NULL;
	is_int(bbt_resultset_load(tree_path("exp"), 1, &rs, err, sizeof err), BBT_OK,
	       "load a folder of runs");
	if (rs == NULL) {
		diag("%s", err);
		skip(33, "nothing loaded");
		return;
	}
	is_int((long long)bbt_resultset_count(rs), 4,
	       "four finished runs: any depth; hidden folders and other files left out");
	is_int((long long)bbt_resultset_unfinished(rs), 2,
	       "interrupted and status-less runs counted as unfinished");
	is_int((long long)bbt_resultset_unreadable(rs), 0, "none unreadable");

	/* Path order: a-s1, a-s2, b-s1, deep/x/y/z. */
	char want[1024];
	snprintf(want, sizeof want, "%s", tree_path("exp/a-s1"));
	is_string(bbt_resultset_run_dir(rs, 0), want, "run 0 is a-s1 (path order), its folder");
	is_string(bbt_resultset_value(rs, 1, "run_id"), "cmaes-d100-s2", "run 1 is a-s2");
	is_string(bbt_resultset_value(rs, 2, "optimizer"), "zo-adam", "run 2 is b-s1");
	snprintf(want, sizeof want, "%s", tree_path("exp/deep/x/y/z"));
	is_string(bbt_resultset_run_dir(rs, 3), want, "run 3 found four folders down");

	/* Values as a user writes them. */
	is_string(bbt_resultset_value(rs, 0, "dim"), "50", "an integer setting as text");
	is_string(bbt_resultset_value(rs, 0, "alpha"), "1", "1.0 as the shortest text, 1");
	is_string(bbt_resultset_value(rs, 0, "sigma"), "0.1", "0.1 as 0.1, not 0.10000000000000001");
	is_string(bbt_resultset_value(rs, 0, "calibrate"), "false", "a boolean as false");
	is_string(bbt_resultset_value(rs, 0, "list"), NULL, "an array is no key");
	is_string(bbt_resultset_value(rs, 0, "data_seed"), "13", "data_seed finds data-seed");
	is_string(bbt_resultset_value(rs, 0, "DIM"), "50", "a setting in capitals");
	is_string(bbt_resultset_value(rs, 0, "optimizer.lr"), "0.1", "optimizer.lr");
	is_string(bbt_resultset_value(rs, 0, "lr"), "0.1", "bare lr: the optimizer's option");
	is_string(bbt_resultset_value(rs, 0, "hidden"), "16", "bare hidden: the backend's option");
	is_string(bbt_resultset_value(rs, 0, "backend.lr"), NULL, "backend.lr: no such option");
	is_string(bbt_resultset_value(rs, 0, "nothing"), NULL, "an unknown key: NULL");

	/* Every stored key once, the run id among them. */
	const char *k, *v;
	size_t nk = 0, seen_id = 0, seen_opt = 0;
	for (; (k = bbt_resultset_key(rs, 0, nk, &v)) != NULL; nk++) {
		seen_id += strcmp(k, "run_id") == 0 && strcmp(v, "cmaes-d50-s1") == 0;
		seen_opt += strcmp(k, "optimizer.lr") == 0;
	}
	/* optimizer dim seed data-seed alpha sigma calibrate, lr, hidden, run_id */
	is_int((long long)nk, 10, "ten keys: seven settings, two options, run_id");
	ok(seen_id == 1 && seen_opt == 1, "run_id and optimizer.lr among them");

	/* Metrics. */
	is_double(bbt_resultset_metric(rs, 0, "test_acc"), 0.8, 0, "test_acc");
	is_double(bbt_resultset_metric(rs, 1, "test_metric"), 0.9, 0, "test_metric");
	ok(isnan(bbt_resultset_metric(rs, 0, "test_f1")), "test_f1 null: NaN");
	is_double(bbt_resultset_metric(rs, 0, "api_calls"), 400, 0, "api_calls");
	is_double(bbt_resultset_metric(rs, 0, "wall_time"), 1.25, 0, "wall_time from wall_time_s");
	ok(isnan(bbt_resultset_metric(rs, 0, "accuracy")), "an unknown metric: NaN");
	is_string(bbt_resultset_metric_label(rs, "test_metric"), "test accuracy (%)",
	          "test_metric named after the task metric all runs share");
	is_string(bbt_resultset_metric_label(rs, "train_loss"), "best training loss",
	          "train_loss's label");
	is_string(bbt_resultset_metric_label(rs, "bogus"), "bogus", "an unknown metric as it is");

	/* Combined keys: one value per run for a pair of settings. */
	is_int(bbt_resultset_combine_keys(rs, "dim"), BBT_OK, "a single key: nothing to combine");
	is_string(bbt_resultset_value(rs, 0, "dim"), "50", "and dim untouched");
	is_int(bbt_resultset_combine_keys(rs, "optimizer,dim,nope"), BBT_OK, "combine three keys");
	is_string(bbt_resultset_value(rs, 1, "optimizer,dim,nope"), "optimizer=cmaes dim=100 nope=-",
	          "combined value, '-' for the missing key");
	bbt_resultset_free(rs);
	bbt_resultset_free(NULL);
}

static void test_task_metric_mixed(void)
{
	run("mixed/a/result.json", "cmaes", 50, 1, "0.8", "acc");
	run("mixed/b/result.json", "cmaes", 50, 2, "0.6", "f1");
	char err[BBT_ERRLEN];
	bbt_resultset_t *rs = NULL;
	int rc = bbt_resultset_load(tree_path("mixed"), 0, &rs, err, sizeof err);
	is_int(rc, BBT_OK, "load runs of two task metrics");
	is_string(rs ? bbt_resultset_metric_label(rs, "test_metric") : NULL,
	          "test metric (%): each task's own",
	          "test_metric's label when the runs' task metrics differ");
	bbt_resultset_free(rs);

	run("f1/a/result.json", "cmaes", 50, 1, "0.8", "f1");
	rc = bbt_resultset_load(tree_path("f1"), 0, &rs, err, sizeof err);
	is_string(rc == BBT_OK ? bbt_resultset_metric_label(rs, "test_metric") : NULL,
	          "test F1 (%)", "test_metric's label for F1 tasks");
	bbt_resultset_free(rs);
}

static void test_metric_names(void)
{
	ok(bbt_resultset_metric_known("test_acc") && bbt_resultset_metric_known("wall_time"),
	   "test_acc and wall_time are metrics");
	ok(!bbt_resultset_metric_known("wall_time_s") && !bbt_resultset_metric_known(""),
	   "wall_time_s (the JSON key) and \"\" are not");
	ok(bbt_resultset_metric_higher_better("test_acc") &&
	           bbt_resultset_metric_higher_better("dev_metric"),
	   "accuracy and dev metric: higher is better");
	ok(!bbt_resultset_metric_higher_better("train_loss") &&
	           !bbt_resultset_metric_higher_better("api_calls"),
	   "loss and calls: lower is better");
	ok(bbt_resultset_metric_is_fraction("test_f1") &&
	           !bbt_resultset_metric_is_fraction("wall_time"),
	   "F1 is a fraction shown in percent, wall time is not");
}

static void test_bad_files(void)
{
	run("bad/good/result.json", "cmaes", 50, 1, "0.8", "acc");
	tree_write("bad/broken/result.json",
	           "{\"status\": \"finished\",\n \"run_id\": oops,\n \"api_calls\": 1}\n");
	char err[BBT_ERRLEN] = "";
	bbt_resultset_t *rs = NULL;
	char want[1100];
	snprintf(want, sizeof want, "%s:", tree_path("bad/broken/result.json"));

	int rc = bbt_resultset_load(tree_path("bad"), 1, &rs, err, sizeof err);
	is_int(rc, BBT_EFORMAT, "strict: a result.json that is not JSON is an error");
	like(err, want, "naming the file");
	like(err, "result.json:2:", "and the line where the JSON broke off");
	ok(rs == NULL, "and no result set");

	stderr_catch();
	rc = bbt_resultset_load(tree_path("bad"), 0, &rs, err, sizeof err);
	char *said = stderr_release();
	is_int(rc, BBT_OK, "not strict: the folder loads");
	is_int(rs ? (long long)bbt_resultset_count(rs) : -1, 1, "with the good run");
	is_int(rs ? (long long)bbt_resultset_unreadable(rs) : -1, 1, "the broken one counted");
	like(said, want, "and named on stderr");
	like(said, "1 unreadable result.json left out", "with the count");
	free(said);
	bbt_resultset_free(rs);

	tree_write("empty/a/notes.txt", "nothing\n");
	tree_write("empty/b/result.json", "{\"status\": \"failed\"}\n");
	rc = bbt_resultset_load(tree_path("empty"), 0, &rs, err, sizeof err);
	is_int(rc, BBT_ENOTFOUND, "a folder with no finished run: not found");
	like(err, "no finished run", "said so");
	ok(rs == NULL, "no result set");

	rc = bbt_resultset_load(tree_path("missing"), 0, &rs, err, sizeof err);
	is_int(rc, BBT_ENOTFOUND, "a folder that does not exist: not found");
	like(err, tree_path("missing"), "naming it");
	like(err, "No such file", "with the system's reason");

	tree_write("notjson/r/result.json", "[1, 2]\n");
	rc = bbt_resultset_load(tree_path("notjson"), 1, &rs, err, sizeof err);
	is_int(rc, BBT_ENOTFOUND, "a JSON array has no status: unfinished, so no finished run");
	bbt_resultset_free(rs);
}

int main(void)
{
	plan(59);
	tree_init("bbt-resultset");
	test_load();
	test_task_metric_mixed();
	test_metric_names();
	test_bad_files();
	tree_remove();
	return done_testing();
}
