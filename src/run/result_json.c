/*
 * result_json.c - result.json written and read back in one place.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <bbtbench/plugin.h>
#include "core/util.h"
#include "run/result_json.h"

/* One number of struct bbt_result and its key in result.json. */
enum field_kind { NUM, COUNT };
struct field {
	const char *key;
	size_t at;              /* offsetof(struct bbt_result, ...) */
	enum field_kind kind;   /* a double (null when not finite), or a size_t */
};
#define F(name, kind) { #name, offsetof(struct bbt_result, name), kind }

/* "metrics", after its "metric"; the tuned prompt calibrated; the counts
 * at the top level; "grad_check". */
static const struct field metric_fields[] = {
	F(train_loss, NUM), F(dev_metric, NUM), F(best_dev_call, COUNT),
	F(test_metric, NUM), F(test_acc, NUM), F(test_f1, NUM),
};
static const struct field calibrated_fields[] = {
	F(dev_metric_calibrated, NUM), F(test_metric_calibrated, NUM),
	F(test_acc_calibrated, NUM), F(test_f1_calibrated, NUM),
};
static const struct field count_fields[] = {
	F(api_calls, COUNT), F(batches, COUNT), F(dev_evaluations, COUNT),
	F(test_evaluations, COUNT), F(tokens_scored, COUNT),
};
static const struct field grad_check_fields[] = {
	F(true_gradient_calls, COUNT), F(mean_cosine, NUM),
};
#define N_FIELDS(a) (sizeof a / sizeof a[0])

/* The metrics readers ask for, in enum bbt_result_metric's order. */
static const struct {
	const char *name, *label;
	struct field field;
	int higher_better;    /* and a fraction shown in percent */
} metrics[BBT_RESULT_N_METRICS] = {
	{ "test_acc", "test accuracy (%)", F(test_acc, NUM), 1 },
	{ "test_f1", "test F1 (%)", F(test_f1, NUM), 1 },
	{ "test_metric", "test metric (%): each task's own", F(test_metric, NUM), 1 },
	/* a tuned run's with --calibrate (its best prompt calibrated as the
	 * calibrated baseline is); none for other runs */
	{ "test_metric_calibrated", "calibrated test metric (%): each task's own",
	  F(test_metric_calibrated, NUM), 1 },
	{ "dev_metric", "best dev metric (%)", F(dev_metric, NUM), 1 },
	{ "train_loss", "best training loss", F(train_loss, NUM), 0 },
	{ "api_calls", "API calls", F(api_calls, COUNT), 0 },
	{ "wall_time", "wall time (s)", F(wall_time_s, NUM), 0 },
};

static double field_value(const struct bbt_result *r, const struct field *f)
{
	const char *base = (const char *)r + f->at;
	return f->kind == NUM ? *(const double *)(const void *)base
	                      : (double)*(const size_t *)(const void *)base;
}

const char *bbt_result_metric_name(int m)
{
	return m >= 0 && m < BBT_RESULT_N_METRICS ? metrics[m].name : NULL;
}

int bbt_result_metric_parse(const char *name)
{
	for (int m = 0; m < BBT_RESULT_N_METRICS; m++)
		if (strcmp(metrics[m].name, name) == 0)
			return m;
	return -1;
}

const char *bbt_result_metric_label(int m)
{
	return m >= 0 && m < BBT_RESULT_N_METRICS ? metrics[m].label : NULL;
}

int bbt_result_metric_higher_better(int m)
{
	return m >= 0 && m < BBT_RESULT_N_METRICS && metrics[m].higher_better;
}

const char *bbt_result_metric_list(void)
{
	static char list[256];
	if (list[0] == '\0') {
		size_t at = 0;
		for (int m = 0; m < BBT_RESULT_N_METRICS; m++)
			at += (size_t)snprintf(list + at, sizeof list - at, "%s%s",
			                       m == 0 ? "" : m == BBT_RESULT_N_METRICS - 1 ? " or " : ", ",
			                       metrics[m].name);
	}
	return list;
}

double bbt_result_metric_value(const struct bbt_result *r, int m)
{
	return m >= 0 && m < BBT_RESULT_N_METRICS ? field_value(r, &metrics[m].field) : NAN;
}

void bbt_result_init(struct bbt_result *r)
{
	memset(r, 0, sizeof *r);
	r->train_loss = r->dev_metric = NAN;
	r->test_metric = r->test_acc = r->test_f1 = NAN;
	r->dev_metric_calibrated = r->test_metric_calibrated = NAN;
	r->test_acc_calibrated = r->test_f1_calibrated = NAN;
	r->mean_cosine = r->wall_time_s = NAN;
}

/* ------------------------------------------------------------------ */
/* Writing */

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *or_null(json_t *v)
{
	return v ? v : json_null();
}

static void put(json_t *o, const struct field *f, size_t n, const struct bbt_result *r)
{
	for (size_t i = 0; i < n; i++) {
		double v = field_value(r, &f[i]);
		json_object_set_new(o, f[i].key, f[i].kind == COUNT ? json_integer((json_int_t)v)
		                                                    : num_or_null(v));
	}
}

static json_t *metrics_json(const struct bbt_result *r)
{
	json_t *m = json_object();
	json_object_set_new(m, "metric", json_string(r->metric));
	put(m, metric_fields, N_FIELDS(metric_fields), r);
	if (r->calibrated)   /* the tuned prompt's scores calibrated, beside the raw ones */
		put(m, calibrated_fields, N_FIELDS(calibrated_fields), r);
	return m;
}

/* The counts after "metrics" and "calibration" (and "icl"). */
static void counts_json(json_t *j, const struct bbt_result *r)
{
	put(j, count_fields, N_FIELDS(count_fields), r);
	/* White-box: every API call was a gradient evaluation (a backward pass
	 * through the model), which a black-box service would not answer. */
	json_object_set_new(j, "white_box", json_boolean(r->white_box));
	if (r->grad_check) {
		json_t *gc = json_object();
		put(gc, grad_check_fields, N_FIELDS(grad_check_fields), r);
		json_object_set_new(j, "grad_check", gc);
	}
	json_object_set_new(j, "stop_reason", json_string(r->stop_reason));
}

json_t *bbt_result_json(const struct bbt_result *r, struct bbt_result_parts *parts)
{
	json_t *j = json_object();
	char abi[16];
	snprintf(abi, sizeof abi, "%d.%d", BBT_ABI_MAJOR, BBT_ABI_MINOR);
	json_object_set_new(j, "status", json_string(r->status));
	json_object_set_new(j, "run_id", json_string(r->run_id));
	json_object_set_new(j, "bbtbench_version", json_string(PACKAGE_VERSION));
	json_object_set_new(j, "abi", json_string(abi));
	json_object_set_new(j, "settings", or_null(parts->settings));
	json_object_set_new(j, "seeds", or_null(parts->seeds));
	json_object_set_new(j, "method", json_string(r->method));
	json_object_set_new(j, "optimizer", or_null(parts->optimizer));
	json_object_set_new(j, "backend", or_null(parts->backend));
	json_object_set_new(j, "task", or_null(parts->task));
	json_object_set_new(j, "data", or_null(parts->data));
	json_object_set_new(j, "projection", or_null(parts->projection));
	json_object_set_new(j, "prompt", or_null(parts->prompt));
	json_object_set_new(j, "metrics", metrics_json(r));
	json_object_set_new(j, "calibration", or_null(parts->calibration));
	if (parts->icl != NULL)
		json_object_set_new(j, "icl", parts->icl);
	counts_json(j, r);
	json_object_set_new(j, "optimizer_state", or_null(parts->optimizer_state));
	if (parts->deep != NULL)
		json_object_set_new(j, "deep", parts->deep);
	json_object_set_new(j, "blas", or_null(parts->blas));
	json_object_set_new(j, "wall_time_s", json_real(r->wall_time_s));
	memset(parts, 0, sizeof *parts);
	return j;
}

/* ------------------------------------------------------------------ */
/* Reading */

/* Missing or null: NaN, or 0 for a count. */
static void get(const json_t *o, const struct field *f, size_t n, struct bbt_result *r)
{
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(o, f[i].key);
		void *at = (char *)r + f[i].at;
		if (f[i].kind == NUM)
			*(double *)at = json_is_number(v) ? json_number_value(v) : NAN;
		else
			*(size_t *)at = json_is_integer(v) && json_integer_value(v) > 0
			                        ? (size_t)json_integer_value(v)
			                        : 0;
	}
}

static void text(char *buf, size_t n, const json_t *v)
{
	snprintf(buf, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int bbt_result_read(const json_t *j, struct bbt_result *r, char *err, size_t errlen)
{
	bbt_result_init(r);
	if (!json_is_object(j))
		return bbt_error(err, errlen, BBT_EFORMAT, "result.json: not a JSON object");
	const json_t *m = json_object_get(j, "metrics"), *gc = json_object_get(j, "grad_check");
	text(r->status, sizeof r->status, json_object_get(j, "status"));
	text(r->run_id, sizeof r->run_id, json_object_get(j, "run_id"));
	text(r->method, sizeof r->method, json_object_get(j, "method"));
	text(r->metric, sizeof r->metric, json_object_get(m, "metric"));
	text(r->stop_reason, sizeof r->stop_reason, json_object_get(j, "stop_reason"));
	get(m, metric_fields, N_FIELDS(metric_fields), r);
	r->calibrated = json_object_get(m, "test_metric_calibrated") != NULL;
	get(m, calibrated_fields, N_FIELDS(calibrated_fields), r);
	get(j, count_fields, N_FIELDS(count_fields), r);
	r->white_box = json_is_true(json_object_get(j, "white_box"));
	r->grad_check = gc != NULL;
	get(gc, grad_check_fields, N_FIELDS(grad_check_fields), r);
	const json_t *wall = json_object_get(j, "wall_time_s");
	r->wall_time_s = json_is_number(wall) ? json_number_value(wall) : NAN;
	return BBT_OK;
}

int bbt_result_load(const char *path, struct bbt_result *r, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (j == NULL) {
		bbt_result_init(r);
		return bbt_error(err, errlen, BBT_EIO, "%s: %s", path, jerr.text);
	}
	int rc = bbt_result_read(j, r, err, errlen);
	json_decref(j);
	return rc;
}
