/*
 * t/grid.c - grid files: keys, values, excludes, duplicates, the settings
 * of one combination, shards and the errors that name a line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiments/grid.h"
#include "plugin/options.h"
#include "tap.h"
#include "core/util.h"

static char dir[] = "/tmp/bbt-grid-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load text as a grid; the status, with the message in err. */
static int load(const char *text, bbt_grid_t **g, char *err, size_t errlen)
{
	return bbt_grid_load(write_file("g.ini", text), g, err, errlen);
}

static void expect_error(const char *text, const char *msg, const char *what)
{
	bbt_grid_t *g = NULL;
	char err[BBT_ERRLEN] = "";
	int rc = load(text, &g, err, sizeof err);
	ok(rc == BBT_EINVAL && g == NULL && strstr(err, msg) != NULL, "%s", what);
	if (strstr(err, msg) == NULL)
		diag("got '%s', want '%s'", err, msg);
}

int main(void)
{
	plan(36);
	if (mkdtemp(dir) == NULL)
		skip_all("no temporary folder");

	bbt_grid_t *g = NULL;
	char err[BBT_ERRLEN] = "";
	int rc = load("; a grid\n"
	              "[grid]\n"
	              "optimizer = random, cmaes\n"
	              "dim = 50, 100, 200   ; d\n"
	              "optimizer.cmaes.popsize = 10, 20\n"
	              "backend.hidden = 16\n"
	              "exclude = optimizer=random dim=200\n"
	              "exclude = optimizer=cmaes, dim=50, optimizer.cmaes.popsize=20\n"
	              "[run]\n"
	              "task = toy\n"
	              "budget = 100\n"
	              "[optimizer.cmaes]\n"
	              "popsize = 5\n",
	              &g, err, sizeof err);
	ok(rc == BBT_OK && g != NULL, "a grid file loads (%s)", err);
	/* random: dim 50,100 (popsize irrelevant: once each) = 2;
	 * cmaes: 3 dims x 2 popsizes - 1 excluded = 5. */
	is_int(bbt_grid_count(g), 7, "product minus excludes, options of absent plugins once");
	is_int(bbt_grid_key_count(g), 4, "four keys");
	bbt_grid_t *gm = NULL;
	rc = bbt_grid_load(write_file("m.ini", "[grid]\nmethod = manual, icl, tune\n"
	                              "optimizer = random, cmaes\ndim = 10, 20\n"
	                              "icl-shots = 1, 2\n[run]\ntask = toy\n"),
	                   &gm, err, sizeof err);
	ok(rc == BBT_OK, "a grid over methods loads (%s)", err);
	/* manual: once; icl: once per icl-shots (2); tune: 2 optimizers x 2 dims. */
	is_int(gm ? bbt_grid_count(gm) : 0, 7,
	       "a baseline runs once whatever the tuning settings; icl-shots only for icl");
	bbt_grid_free(gm);
	ok(strcmp(bbt_grid_experiment(g), "g") == 0, "experiment: the file's name");
	ok(strcmp(bbt_grid_value(g, 0, 0), "random") == 0 &&
	   strcmp(bbt_grid_value(g, 0, 1), "50") == 0 && bbt_grid_value(g, 0, 2) == NULL,
	   "combination 0: random, d=50, no cmaes option");
	ok(strcmp(bbt_grid_value(g, 1, 1), "100") == 0, "combination 1: random, d=100");
	ok(strcmp(bbt_grid_value(g, 2, 0), "cmaes") == 0 &&
	   strcmp(bbt_grid_value(g, 2, 2), "10") == 0, "combination 2: cmaes, d=50, popsize 10");
	ok(strcmp(bbt_grid_value(g, 6, 1), "200") == 0 &&
	   strcmp(bbt_grid_value(g, 6, 2), "20") == 0, "last: cmaes, d=200, popsize 20");

	struct bbt_config cfg;
	rc = bbt_grid_config(g, 6, &cfg, err, sizeof err);
	ok(rc == BBT_OK, "settings of combination 6 (%s)", err);
	is_int(cfg.dim, 200, "grid value: dim");
	is_int(cfg.budget, 100, "fixed [run] value: budget");
	ok(strcmp(cfg.optimizer, "cmaes") == 0, "grid value: optimizer");
	ok(strcmp(cfg.experiment, "g") == 0, "experiment set to the grid's name");
	const struct bbt_kv *kv = bbt_kvlist_get(&cfg.ini_plugin_opts, "optimizer.cmaes.popsize");
	ok(kv != NULL && strcmp(kv->value, "20") == 0 && strstr(kv->origin, "g.ini:5") != NULL,
	   "plugin option from the grid replaces [optimizer.cmaes], origin names the line");
	kv = bbt_kvlist_get(&cfg.ini_plugin_opts, "backend.hidden");
	ok(kv != NULL && strcmp(kv->value, "16") == 0, "backend option from the grid");
	bbt_config_release(&cfg);
	bbt_grid_free(g);
	bbt_grid_free(NULL);

	/* Shards: disjoint, covering. */
	size_t hits = 0, n = 23;
	for (size_t i = 0; i < n; i++) {
		int owners = 0;
		for (size_t s = 1; s <= 4; s++)
			owners += bbt_grid_in_shard(i, s, 4);
		hits += owners == 1;
	}
	is_int(hits, n, "every index in exactly one of 4 shards");
	ok(bbt_grid_in_shard(5, 1, 1), "one shard holds everything");

	/* [run] experiment wins over the file name. */
	rc = load("[grid]\nseed = 1\n[run]\nexperiment = abl\n", &g, err, sizeof err);
	ok(rc == BBT_OK && strcmp(bbt_grid_experiment(g), "abl") == 0, "[run] experiment wins");
	bbt_grid_free(g);

	expect_error("[run]\ntask = toy\n", "no [grid] section", "a file without [grid]");
	expect_error("[grid]\nwidth = 1, 2\n", "g.ini:2: grid key 'width'", "unknown key, with line");
	expect_error("[grid]\ndim = 1, 2, 1\n", "g.ini:2: dim: value '1' listed twice", "duplicate");
	expect_error("[grid]\nloss = ce, mse\n", "g.ini:2: loss 'mse': expected one of",
	             "bad choice value");
	expect_error("[grid]\nout = a, b\n", "'out' cannot vary", "out cannot vary");
	expect_error("[grid]\ndim = 1, 2\nexclude = dim=3\n", "g.ini:3: exclude: dim=3",
	             "exclude with a value not in the list");
	expect_error("[grid]\ndim = 1\nexclude = seed=3\n", "'seed' is not a key of [grid]",
	             "exclude with a key not in the grid");
	expect_error("[grid]\ndim = 1, 2\nexclude = dim=1\nexclude = dim=2\n",
	             "every combination is excluded", "nothing left");
	expect_error("[grid]\nfoo.bar = 1\n", "a plugin option is optimizer.KEY",
	             "bad plugin prefix");

	expect_error("[grid]\nseed = 1\n[run]\nexperiment = ../up\n",
	             "g.ini:4: experiment '../up': expected a plain word", "[run] experiment: a plain word");
	expect_error("[grid]\nseed = 1\n[run]\nbudget = 5\nbudget = 6\n",
	             "g.ini:5: 'budget' is set twice in [run] (first on line 4)",
	             "a key set twice in a fixed section");
	const char *odd_names[] = { "my grid.ini", "..ini" };
	for (size_t i = 0; i < 2; i++) {
		const char *path = write_file(odd_names[i], "[grid]\nseed = 1\n");
		rc = bbt_grid_load(path, &g, err, sizeof err);
		ok(rc == BBT_EINVAL && strstr(err, "not a plain word") != NULL &&
		           strstr(err, "rename the file or set [run] experiment") != NULL,
		   "experiment from the file name '%s' refused: %s", odd_names[i], err);
		bbt_grid_free(g);
		unlink(path);
	}
	rc = load("seed = 1\n[grid]\ndim = 1\n", &g, err, sizeof err);
	ok(rc == BBT_EFORMAT && strstr(err, "g.ini:1: 'seed' is outside any section") != NULL,
	   "a key before the first section: %s", err);
	rc = load("\xef\xbb\xbf[grid]\nseed = 1, 2\n", &g, err, sizeof err);
	ok(rc == BBT_OK && bbt_grid_count(g) == 2, "a byte-order mark is skipped (%s)", err);
	bbt_grid_free(g);
	char longgrid[4096] = "[grid]\ndim = 1";
	for (int d = 2; d <= 500; d++)
		snprintf(longgrid + strlen(longgrid), sizeof longgrid - strlen(longgrid), ",%d", d);
	strcat(longgrid, "\n");
	rc = load(longgrid, &g, err, sizeof err);
	ok(rc == BBT_OK && bbt_grid_count(g) == 500, "a line of %zu bytes is read whole (%s)",
	   strlen(longgrid), err);
	bbt_grid_free(g);

	unlink(write_file("g.ini", ""));
	unlink(write_file("m.ini", ""));
	rmdir(dir);
	return done_testing();
}
