/*
 * t/result_json.c - result.json's schema both ways: every field written
 * reads back, keys in their order, non-finite numbers as null, the metric
 * names listed once.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "run/result_json.h"
#include "tap.h"

static struct bbt_result full(void)
{
	struct bbt_result r;
	bbt_result_init(&r);
	snprintf(r.status, sizeof r.status, "finished");
	snprintf(r.run_id, sizeof r.run_id, "cmaes-synthetic-toy-d10-s42-90d8e6df8ca0");
	snprintf(r.method, sizeof r.method, "tune");
	snprintf(r.metric, sizeof r.metric, "f1");
	snprintf(r.stop_reason, sizeof r.stop_reason, "tolx");
	r.train_loss = 0.648265735;
	r.dev_metric = 0.6875;
	r.best_dev_call = 20;
	r.test_metric = 0.71;
	r.test_acc = 0.72;
	r.test_f1 = 0.7812971342;
	r.calibrated = 1;
	r.dev_metric_calibrated = 0.75;
	r.test_metric_calibrated = 0.8;
	r.test_acc_calibrated = 0.81;
	r.test_f1_calibrated = 0.82;
	r.api_calls = 100;
	r.batches = 5;
	r.dev_evaluations = 6;
	r.test_evaluations = 1;
	r.tokens_scored = 123456;
	r.white_box = 1;
	r.grad_check = 1;
	r.true_gradient_calls = 4;
	r.mean_cosine = 0.25;
	r.wall_time_s = 1.5;
	return r;
}

static int same(const struct bbt_result *a, const struct bbt_result *b)
{
#define D(f) (a->f == b->f || (a->f != a->f && b->f != b->f))   /* NaN == NaN */
#define S(f) (strcmp(a->f, b->f) == 0)
	return S(status) && S(run_id) && S(method) && S(metric) && S(stop_reason) &&
	       D(train_loss) && D(dev_metric) && D(best_dev_call) && D(test_metric) &&
	       D(test_acc) && D(test_f1) && D(calibrated) && D(dev_metric_calibrated) &&
	       D(test_metric_calibrated) && D(test_acc_calibrated) && D(test_f1_calibrated) &&
	       D(api_calls) && D(batches) && D(dev_evaluations) && D(test_evaluations) &&
	       D(tokens_scored) && D(white_box) && D(grad_check) && D(true_gradient_calls) &&
	       D(mean_cosine) && D(wall_time_s);
#undef D
#undef S
}

/* Write r, dump and parse the text as a reader would, read it back. */
static int round_trip(const struct bbt_result *r, struct bbt_result *back, char **text)
{
	struct bbt_result_parts parts = { 0 };
	parts.settings = json_pack("{s:s}", "task", "toy");
	parts.icl = r->calibrated ? NULL : json_object();
	json_t *j = bbt_result_json(r, &parts);
	*text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(j);
	json_t *again = json_loads(*text, 0, NULL);
	char err[BBT_ERRLEN];
	int rc = bbt_result_read(again, back, err, sizeof err);
	json_decref(again);
	return rc;
}

/* Keys of text's top level in order, as "a,b,c". */
static void key_order(const char *text, char *out, size_t n)
{
	json_t *j = json_loads(text, JSON_PRESERVE_ORDER, NULL);
	const char *k;
	json_t *v;
	size_t at = 0;
	out[0] = '\0';
	json_object_foreach(j, k, v)
		at += (size_t)snprintf(out + at, n - at, "%s%s", at ? "," : "", k);
	json_decref(j);
}

int main(void)
{
	plan(19);
	struct bbt_result r = full(), back;
	char *text = NULL, err[BBT_ERRLEN] = "";
	is_int(round_trip(&r, &back, &text), BBT_OK, "a full result reads back");
	ok(same(&r, &back), "every field round-trips");
	char keys[1024];
	key_order(text, keys, sizeof keys);
	is_string(keys,
	          "status,run_id,bbtbench_version,abi,settings,seeds,method,optimizer,backend,"
	          "task,data,projection,prompt,metrics,calibration,api_calls,batches,"
	          "dev_evaluations,test_evaluations,tokens_scored,white_box,grad_check,"
	          "stop_reason,optimizer_state,blas,wall_time_s",
	          "top-level keys in the documented order");
	like(text, "\"metrics\": {\n    \"metric\": \"f1\",\n    \"train_loss\": 0.648265735,",
	     "metrics first name the task metric");
	free(text);

	/* A baseline: no calibration of a tuned prompt, no grad-check, NaNs. */
	r.calibrated = r.grad_check = r.white_box = 0;
	r.test_f1 = NAN;
	r.dev_metric = INFINITY;
	snprintf(r.method, sizeof r.method, "icl");
	is_int(round_trip(&r, &back, &text), BBT_OK, "a baseline's result reads back");
	ok(strstr(text, "_calibrated") == NULL && strstr(text, "grad_check") == NULL,
	   "calibrated metrics and grad_check only when they apply");
	like(text, "\"icl\": {}", "icl where given");
	like(text, "\"test_f1\": null", "NaN written as null");
	ok(isnan(back.test_f1) && isnan(back.dev_metric), "and read back as NaN");
	ok(!back.calibrated && isnan(back.test_metric_calibrated), "no calibration read");
	r.dev_metric = NAN;   /* what was not written is not known */
	r.dev_metric_calibrated = r.test_metric_calibrated = NAN;
	r.test_acc_calibrated = r.test_f1_calibrated = NAN;
	r.true_gradient_calls = 0;
	r.mean_cosine = NAN;
	ok(same(&r, &back), "all else round-trips");
	free(text);

	json_t *arr = json_array();
	ok(bbt_result_read(arr, &back, err, sizeof err) == BBT_EFORMAT && isnan(back.train_loss),
	   "not an object: refused, nothing known");
	json_decref(arr);
	ok(bbt_result_load("/nonexistent-bbt/result.json", &back, err, sizeof err) == BBT_EIO,
	   "a missing file");
	like(err, "/nonexistent-bbt/result.json", "is named");

	/* The metric names, listed once. */
	is_string(bbt_result_metric_list(),
	          "test_acc, test_f1, test_metric, test_metric_calibrated, dev_metric, train_loss, "
	          "api_calls or wall_time",
	          "the metrics a table or plot can show");
	int ok_all = 1;
	for (int m = 0; m < BBT_RESULT_N_METRICS; m++)
		ok_all &= bbt_result_metric_parse(bbt_result_metric_name(m)) == m;
	ok(ok_all && bbt_result_metric_parse("accuracy") == -1, "names parse back; others not");
	r = full();
	is_double(bbt_result_metric_value(&r, bbt_result_metric_parse("wall_time")), 1.5, 0,
	          "wall_time is result.json's wall_time_s");
	is_double(bbt_result_metric_value(&r, BBT_RESULT_API_CALLS), 100, 0, "api_calls");
	ok(bbt_result_metric_higher_better(BBT_RESULT_DEV_METRIC) &&
	   !bbt_result_metric_higher_better(BBT_RESULT_TRAIN_LOSS), "accuracy up, loss down");
	return done_testing();
}
