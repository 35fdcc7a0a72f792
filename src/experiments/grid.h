/*
 * grid.h - an experiment as a grid of runs: the Cartesian product of the
 * value lists in a grid file's [grid] section, minus `exclude` lines, on
 * top of the file's fixed [run], [optimizer...] and [backend...] sections.
 *
 *     ; ablations/cmaes-vs-adam.ini
 *     [grid]
 *     optimizer = cmaes, zo-adam          ; a run setting (see bbtbench --help)
 *     dim = 50, 100, 200, 500, 1000
 *     seed = 13, 21, 42, 87, 100
 *     optimizer.zo-adam.lr = 0.1, 0.01    ; a plugin option: optimizer.KEY,
 *                                         ; optimizer.NAME.KEY, backend.KEY, ...
 *     exclude = optimizer=cmaes, dim=1000 ; drop combinations matching all of these
 *     [run]
 *     task = sst2
 *     budget = 8000
 *
 * Combinations are numbered 0..count-1 in nested-loop order (the first key
 * varies slowest), so an index names the same run on every machine as long
 * as the file is the same; `--shard I/N` takes the indices i with
 * i % N == I - 1. Combinations that differ only in options of a plugin that
 * does not run in them (optimizer.zo-adam.lr for a cmaes run) are one run
 * and are listed once.
 *
 * Runs go to OUT/EXPERIMENT/RUN-ID/, EXPERIMENT being [run] experiment or
 * else the file's name without ".ini". bbt_run skips finished runs and
 * redoes incomplete ones, so re-running a grid resumes it.
 *
 *     bbt_grid_t *g;
 *     if (bbt_grid_load("grid.ini", &g, err, sizeof err) < 0) ...
 *     struct bbt_grid_params p = bbt_grid_default_params();
 *     p.jobs = 2;
 *     struct bbt_grid_summary s;
 *     rc = bbt_grid_run(g, reg, &p, &s, err, sizeof err);
 *     bbt_grid_free(g);
 */
#ifndef BBT_GRID_H
#define BBT_GRID_H

#include <stddef.h>
#include "plugin/registry.h"
#include "run/runconfig.h"

typedef struct bbt_grid bbt_grid_t;

/* The sections of a grid file that hold no run settings: [grid], and
 * [report], what `bbtbench report` makes of the results (report.h). */
#define BBT_GRID_OWN_SECTIONS "grid report"

/* Read and check a grid file: every key and value of [grid] (errors name
 * FILE:LINE), the exclude lines and the fixed sections. NULL on error. */
int bbt_grid_load(const char *path, bbt_grid_t **out, char *err, size_t errlen);
void bbt_grid_free(bbt_grid_t *g);

/* Combinations (after excludes and duplicates are dropped). */
size_t bbt_grid_count(const bbt_grid_t *g);
/* The experiment folder name (under the results root). */
const char *bbt_grid_experiment(const bbt_grid_t *g);
/* The grid keys in file order, as written in the file. */
size_t bbt_grid_key_count(const bbt_grid_t *g);
const char *bbt_grid_key(const bbt_grid_t *g, size_t k);
/* Combination `index`'s value of key k; NULL when the key is an option of
 * a plugin that does not run in this combination. */
const char *bbt_grid_value(const bbt_grid_t *g, size_t index, size_t k);

/* The settings of combination `index`: defaults, the fixed sections, then
 * the grid's values. cfg is initialised here; release it with
 * bbt_config_release, also on error. */
int bbt_grid_config(const bbt_grid_t *g, size_t index, struct bbt_config *cfg, char *err,
                    size_t errlen);

/* 1 when `index` belongs to shard `shard` (1-based) of `nshards`. */
int bbt_grid_in_shard(size_t index, size_t shard, size_t nshards);

struct bbt_grid_params {
	size_t jobs;           /* runs at a time; 1: in this process, more: one worker process per run */
	size_t shard;          /* 1-based slice of the grid to run ... */
	size_t nshards;        /* ... out of this many (1/1: all of it) */
	const char *out;       /* results root; NULL: the file's [run] out */
	int force;             /* redo finished runs */
};

struct bbt_grid_params bbt_grid_default_params(void);

struct bbt_grid_summary {
	size_t total;          /* runs in this shard */
	size_t finished;       /* run now */
	size_t skipped;        /* already finished before */
	size_t failed;         /* ended with an error (logged) */
	size_t interrupted;    /* stopped by a signal */
	double wall;           /* seconds */
};

/* Run this shard's combinations. Progress on stderr: runs done/total, the
 * grid's ETA, and the current run's progress (with workers: the calls of
 * the runs under way, each run's own progress going to its run.log), and
 * a line for every run that ends. A run's own failure is logged and the
 * grid goes on (BBT_EIO at the end); a configuration error (a bad plugin
 * option) stops the grid with that status; Ctrl-C stops it after the
 * current runs have saved what they did (BBT_EINTR). */
int bbt_grid_run(const bbt_grid_t *g, bbt_registry_t *reg, const struct bbt_grid_params *p,
                 struct bbt_grid_summary *s, char *err, size_t errlen);

#endif /* BBT_GRID_H */
