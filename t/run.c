/*
 * t/run.c - the run loop on the synthetic backend: exact budget accounting,
 * trace rows, dev evaluation points, reproducibility, finished runs found
 * again, bad settings leaving results alone.
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin/registry.h"
#include "run/run.h"
#include "run/runconfig.h"
#include "tap.h"
#include "core/util.h"

static char dir[] = "/tmp/bbt-run-XXXXXX";

static int setup(struct bbt_config *cfg, const char *budget, const char *popsize)
{
	char err[BBT_ERRLEN];
	int rc = bbt_config_init(cfg);
	const char *kv[][2] = { { "optimizer", "random" }, { "backend", "synthetic" },
		                { "task", "toy" }, { "budget", budget }, { "popsize", popsize },
		                { "dim", "20" }, { "prompt-len", "5" }, { "eval-every", "20" },
		                { "seed", "7" }, { "out", dir } };
	for (size_t i = 0; rc == BBT_OK && i < sizeof kv / sizeof kv[0]; i++)
		rc = bbt_config_set(cfg, kv[i][0], kv[i][1], "test", err, sizeof err);
	return rc;
}

/* The trace without its wall-time column, and its number of rows. */
static char *trace_text(const char *run_dir, size_t *rows, size_t *dev_rows)
{
	char *path = bbt_path_join(run_dir, "trace.csv"), *data = NULL;
	size_t len;
	*rows = *dev_rows = 0;
	if (bbt_file_read(path, &data, &len, NULL, 0) < 0) {
		free(path);
		return NULL;
	}
	free(path);
	char *out = calloc(len + 1, 1), *o = out;
	for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		char *last = strrchr(line, ',');
		if (last)
			*last = '\0';
		o += sprintf(o, "%s\n", line);
		if (strncmp(line, "call,", 5) != 0) {
			(*rows)++;
			*dev_rows += line[strlen(line) - 1] != ',';
		}
	}
	free(data);
	return out;
}

static json_t *result_of(const char *run_dir)
{
	char *path = bbt_path_join(run_dir, "result.json");
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	free(path);
	return j;
}

int main(void)
{
	if (getenv("top_srcdir") == NULL)
		skip_all("top_srcdir is not set (run through make check)");
	if (mkdtemp(dir) == NULL)
		skip_all("cannot make a temporary folder");
	plan(22);
	char err[BBT_ERRLEN];
	unsetenv("BBTBENCH_PLUGIN_PATH");
	bbt_registry_t *reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);

	/* 50 calls with a population of 20: batches of 20, 20 and a cut 10. */
	struct bbt_config cfg;
	setup(&cfg, "50", "20");
	struct bbt_run_flags flags = { 0 };
	struct bbt_run_summary s1, s2;
	int rc = bbt_run(&cfg, reg, &flags, &s1, err, sizeof err);
	is_int(rc, BBT_OK, "run finishes");
	if (rc != BBT_OK)
		diag("%s", err);
	is_string(s1.status, "finished", "status finished");
	is_int((long long)s1.api_calls, 50, "exactly the budget is spent, though 50 %% 20 != 0");
	is_string(s1.stop_reason, "maxfevals", "stop reason named as pycma does");
	size_t rows, dev_rows;
	char *t1 = trace_text(s1.run_dir, &rows, &dev_rows);
	is_int((long long)rows, 50, "one trace row per API call");
	is_int((long long)dev_rows, 3, "dev evaluated at calls 20, 40 and at the end (50)");
	json_t *j = result_of(s1.run_dir);
	is_int(json_integer_value(json_object_get(j, "api_calls")), 50, "result.json counts the calls");
	is_int(json_integer_value(json_object_get(j, "batches")), 3, "three ask rounds");
	is_string(json_string_value(json_object_get(j, "status")), "finished", "result.json status");
	json_t *m = json_object_get(j, "metrics");
	ok(json_is_real(json_object_get(m, "test_metric")), "test metric reported");
	is_int(json_integer_value(json_object_get(json_object_get(j, "data"), "n_train")), 32,
	       "16 shots per class, two classes");
	char *cfgpath = bbt_path_join(s1.run_dir, "config.ini");
	ok(access(cfgpath, F_OK) == 0, "config.ini written");
	free(cfgpath);

	/* The same settings again: found finished, nothing rerun. */
	rc = bbt_run(&cfg, reg, &flags, &s2, err, sizeof err);
	is_string(s2.status, "skipped", "a finished run is not redone");
	is_double(s2.test_metric, s1.test_metric, 0, "its result is reported");

	/* --force: rerun, bit-identical results. */
	flags.force = 1;
	rc = bbt_run(&cfg, reg, &flags, &s2, err, sizeof err);
	is_string(s2.status, "finished", "--force reruns");
	char *t2 = trace_text(s2.run_dir, &rows, &dev_rows);
	ok(t1 && t2 && strcmp(t1, t2) == 0, "same seed: identical trace (wall time aside)");
	json_t *j2 = result_of(s2.run_dir);
	ok(json_equal(json_object_get(j, "metrics"), json_object_get(j2, "metrics")),
	   "same seed: identical metrics");
	json_decref(j2);
	free(t2);

	/* Another seed: another run folder and another trace. */
	bbt_config_set(&cfg, "seed", "8", "test", err, sizeof err);
	rc = bbt_run(&cfg, reg, &flags, &s2, err, sizeof err);
	ok(rc == BBT_OK && strcmp(s1.run_dir, s2.run_dir) != 0, "another seed, another run id");
	t2 = trace_text(s2.run_dir, &rows, &dev_rows);
	ok(t1 && t2 && strcmp(t1, t2) != 0, "another seed, another trace");
	free(t2);
	bbt_config_release(&cfg);

	/* Bad settings fail before the results folder is touched. */
	setup(&cfg, "50", "20");
	bbt_config_set(&cfg, "task", "sst2", "test", err, sizeof err);
	bbt_config_set(&cfg, "data-dir", "/nonexistent-bbt", "test", err, sizeof err);
	bbt_config_set(&cfg, "experiment", "bad", "test", err, sizeof err);
	flags.force = 1;
	rc = bbt_run(&cfg, reg, &flags, &s2, err, sizeof err);
	ok(rc == BBT_ENOTFOUND, "missing data is an error");
	like(err, "/nonexistent-bbt/", "naming where the file was expected");
	char *bad = bbt_path_join(dir, "bad");
	ok(access(bad, F_OK) != 0, "and no results folder was created");
	free(bad);
	bbt_config_release(&cfg);

	free(t1);
	json_decref(j);
	bbt_registry_free(reg);
	char *cmd = bbt_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	return done_testing();
}
