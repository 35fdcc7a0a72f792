/*
 * resultset.h - the finished runs under a results folder, read back for
 * tables and plots.
 *
 * Every result.json below the folder (any depth: results/, one experiment,
 * or the shared folder of a sharded grid) whose "status" is "finished" is
 * one run; interrupted and incomplete runs are left out (and counted).
 * A run is described by keys: its settings ("dim", "optimizer", "seed"),
 * its plugins' options ("optimizer.lr", "backend.hidden") and "run_id";
 * a bare option name ("lr") is looked up among the settings, then the
 * optimizer's options, then the backend's.
 *
 *     bbt_resultset_t *rs;
 *     if (bbt_resultset_load("results/cmaes-vs-adam", &rs, err, sizeof err) < 0) ...
 *     for (size_t i = 0; i < bbt_resultset_count(rs); i++)
 *         printf("%s %g\n", bbt_resultset_value(rs, i, "dim"),
 *                bbt_resultset_metric(rs, i, "test_acc"));
 *     bbt_resultset_free(rs);
 */
#ifndef BBT_RESULTSET_H
#define BBT_RESULTSET_H

#include <stddef.h>
#include <stdio.h>

typedef struct bbt_resultset bbt_resultset_t;

/* Read every finished run under dir, in path order. A result.json that is
 * not valid JSON is reported (file:line) and left out, or with `strict` an
 * error naming it; the runs left out are counted on stderr. A folder with
 * no finished run is BBT_ENOTFOUND. */
int bbt_resultset_load(const char *dir, int strict, bbt_resultset_t **out, char *err,
                       size_t errlen);
void bbt_resultset_free(bbt_resultset_t *rs);

size_t bbt_resultset_count(const bbt_resultset_t *rs);
/* result.json files skipped because their run did not finish, or because
 * they are not JSON. */
size_t bbt_resultset_unfinished(const bbt_resultset_t *rs);
size_t bbt_resultset_unreadable(const bbt_resultset_t *rs);
/* A key "k1,k2,..." naming several settings: give every run a value
 * "k1=v1 k2=v2" under that key ("-" for a missing one), so one line of a
 * figure can stand for a combination (e.g. --by q,mu). BBT_ENOMEM or 0. */
int bbt_resultset_combine_keys(bbt_resultset_t *rs, const char *keys);

/* Keep only the runs whose key has this value (a figure of one task), or
 * with equal 0 those whose key has another value or none. */
int bbt_resultset_keep(bbt_resultset_t *rs, const char *key, const char *value, int equal);

/* Choose `key` on the dev metric, as a user would (Adam's learning rate
 * per d): among runs with the same settings but for key and their seeds,
 * keep those whose value of key has the best mean dev metric (a tie: the
 * first value in value order), and leave the others out. Runs without
 * key stay. With note, one line per setting says the means and the
 * choice ("- dim=50 optimizer=adam: optimizer.lr by mean dev metric:
 * 0.001 0.61 (n=10), 0.01 0.72 (n=10); kept 0.01"). 0 or BBT_ENOMEM. */
int bbt_resultset_best_on_dev(bbt_resultset_t *rs, const char *key, FILE *note);

/* Values in the order tables, legends and runs.csv give them: numbers by
 * value, also inside combined values ("dim=50 seed=1" before "dim=100
 * seed=1"), other text by bytes. */
int bbt_resultset_value_cmp(const char *a, const char *b);

/* The run's folder (holding trace.csv). */
const char *bbt_resultset_run_dir(const bbt_resultset_t *rs, size_t i);

/* Run i's k-th key as stored ("dim", "optimizer.lr", "run_id", ...), with
 * its value in *value; NULL past the last. */
const char *bbt_resultset_key(const bbt_resultset_t *rs, size_t i, size_t k, const char **value);

/* 1 when run i has exactly this key (no '_' or bare-name lookup), its
 * value in *value. */
int bbt_resultset_key_value(const bbt_resultset_t *rs, size_t i, const char *key,
                            const char **value);

/* Run i's k-th fact, with its value in *value; NULL past the last. Facts
 * are what result.json records of a run besides its settings, named by
 * their JSON path, each with a dot (result.api_calls, result.tokens_scored,
 * result.wall_time_s, result.bbtbench_version, seeds.run, metrics.test_acc,
 * blas.core, blas.threads, model.sha256, ...), and written as text
 * (numbers as the shortest text that reads back as the same double).
 * They are not keys: tables and figures never group by them. */
const char *bbt_resultset_fact(const bbt_resultset_t *rs, size_t i, size_t k,
                               const char **value);

/* A key's value for run i as text ("500", "cmaes", "0.1"); NULL when the
 * run has no such key. Setting names take '-' or '_'. */
const char *bbt_resultset_value(const bbt_resultset_t *rs, size_t i, const char *key);

/* Metrics: test_acc, test_f1, test_metric, dev_metric, train_loss,
 * api_calls, wall_time. NaN when the run has no value. */
double bbt_resultset_metric(const bbt_resultset_t *rs, size_t i, const char *metric);
/* Its words in a table header or on an axis ("test accuracy (%)"); for
 * test_metric the task metric all the runs share, or "each task's own". */
const char *bbt_resultset_metric_label(const bbt_resultset_t *rs, const char *metric);
/* 1 for a known metric name. */
int bbt_resultset_metric_known(const char *metric);
/* 1 when larger is better (accuracy), 0 when smaller is (loss, cost). */
int bbt_resultset_metric_higher_better(const char *metric);
/* 1 for metrics that are fractions shown in percent (accuracy, F1). */
int bbt_resultset_metric_is_fraction(const char *metric);

#endif /* BBT_RESULTSET_H */
