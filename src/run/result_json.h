/*
 * result_json.h - result.json's schema, both ways: the one module that
 * writes a run's result.json and reads it back (a finished run reported
 * again, tables and plots), and the one list of the metrics a reader can
 * ask for.
 *
 * Layout (keys in this order; "icl", "grad_check" and "error" only when
 * they apply):
 *
 *     status            finished | interrupted | failed
 *     run_id, bbtbench_version, abi
 *     settings          the [run] settings
 *     seeds             run, data, optimizer, backend, projection
 *     method            tune | manual | calibrated | icl
 *     optimizer         name, version, abi, path, options (null for a baseline)
 *     backend           the same, and "model": arch, hidden, layers, ..., sha256
 *                       (of the model file; null when there is none)
 *     task, data, projection, prompt, calibration, icl
 *     metrics           metric, train_loss, dev_metric, best_dev_call, test_metric,
 *                       test_acc, test_f1 [, the four *_calibrated]
 *     api_calls, batches, dev_evaluations, test_evaluations, tokens_scored
 *     white_box, grad_check {true_gradient_calls, mean_cosine}
 *     stop_reason, optimizer_state, blas, wall_time_s [, error]
 *
 * A number that is not finite is written as null and read back as NaN.
 */
#ifndef BBT_RESULT_JSON_H
#define BBT_RESULT_JSON_H

#include <stddef.h>
#include <jansson.h>

/* The numbers and words of a result.json that its readers use. */
struct bbt_result {
	char status[16];            /* finished | interrupted | failed */
	char run_id[256];
	char method[16];            /* tune | manual | calibrated | icl */
	char metric[16];            /* the task metric's name: acc, f1, macro_f1 */
	double train_loss;          /* best training loss */
	double dev_metric;          /* best dev metric */
	size_t best_dev_call;       /* the API call that reached it */
	double test_metric, test_acc, test_f1;   /* the best-on-dev prompt on test */
	int calibrated;             /* a tuned prompt also calibrated: the four below */
	double dev_metric_calibrated, test_metric_calibrated, test_acc_calibrated,
	        test_f1_calibrated;
	size_t api_calls;           /* training API calls: the budget spent */
	size_t batches;             /* ask/tell rounds */
	size_t dev_evaluations, test_evaluations;
	size_t tokens_scored;       /* positions the backend scored */
	int white_box;              /* every API call was a gradient evaluation */
	int grad_check;             /* --grad-check: the two below */
	size_t true_gradient_calls;
	double mean_cosine;         /* of the ZO estimate and the true gradient */
	char stop_reason[32];       /* maxfevals, tolx, ..., baseline, interrupted */
	double wall_time_s;
};

/* A result with nothing known: numbers NaN, counts 0, words "". */
void bbt_result_init(struct bbt_result *r);

/* result.json's objects that describe the run rather than its numbers,
 * made by the caller (record.h); each is taken over (NULL is written as
 * null; icl NULL leaves "icl" out). */
struct bbt_result_parts {
	json_t *settings, *seeds, *optimizer, *backend, *task, *data, *projection, *prompt,
	        *calibration, *icl, *optimizer_state, *blas;
	json_t *deep;   /* deep prompts only (schedule.h's bbt_deep_json); else NULL */
};

/* The whole result.json; the parts are consumed. NULL when out of memory. */
json_t *bbt_result_json(const struct bbt_result *r, struct bbt_result_parts *parts);

/* Read a result.json's numbers; 0, or BBT_EFORMAT when it is not an object.
 * Missing keys leave NaN, 0 or "". */
int bbt_result_read(const json_t *j, struct bbt_result *r, char *err, size_t errlen);
/* The same from a file: BBT_EIO naming it when it cannot be read as JSON. */
int bbt_result_load(const char *path, struct bbt_result *r, char *err, size_t errlen);

/* The metrics a table or plot can show, in this order. */
enum bbt_result_metric {
	BBT_RESULT_TEST_ACC = 0,
	BBT_RESULT_TEST_F1,
	BBT_RESULT_TEST_METRIC,
	BBT_RESULT_TEST_METRIC_CALIBRATED,
	BBT_RESULT_DEV_METRIC,
	BBT_RESULT_TRAIN_LOSS,
	BBT_RESULT_API_CALLS,
	BBT_RESULT_WALL_TIME,
	BBT_RESULT_N_METRICS
};

/* Its name ("test_acc"), or NULL past the last. */
const char *bbt_result_metric_name(int m);
/* The index of a name, or -1. */
int bbt_result_metric_parse(const char *name);
/* Words for a header or an axis ("test accuracy (%)"). */
const char *bbt_result_metric_label(int m);
/* 1 when larger is better (and the value is a fraction shown in percent). */
int bbt_result_metric_higher_better(int m);
/* "test_acc, test_f1, ... or wall_time": the names for a message. */
const char *bbt_result_metric_list(void);
/* Its value in r (NaN when unknown). */
double bbt_result_metric_value(const struct bbt_result *r, int m);

#endif /* BBT_RESULT_JSON_H */
