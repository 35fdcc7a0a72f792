/*
 * resultset.c - finished runs read back from result.json files.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "plugin/options.h"
#include "experiments/resultset.h"
#include "core/util.h"
#include "run/plan.h"
#include "run/result_json.h"

/* The metrics and how to read them from result.json: run/result_json.h. */
#define N_METRICS BBT_RESULT_N_METRICS

struct record {
	char *dir;
	bbt_kvlist_t keys;
	bbt_kvlist_t facts;     /* what result.json says of the run besides its settings */
	double metric[N_METRICS];
	char *task_metric;      /* the task's (paper's) metric: acc, f1, macro_f1; or NULL */
};

struct bbt_resultset {
	struct record *runs;
	size_t n, cap, unfinished, unreadable;
};

int bbt_resultset_metric_known(const char *metric)
{
	return bbt_result_metric_parse(metric) >= 0;
}

int bbt_resultset_metric_higher_better(const char *metric)
{
	return bbt_result_metric_higher_better(bbt_result_metric_parse(metric));
}

int bbt_resultset_metric_is_fraction(const char *metric)
{
	return bbt_resultset_metric_higher_better(metric);
}

static void record_release(struct record *r)
{
	free(r->dir);
	free(r->task_metric);
	bbt_kvlist_clear(&r->keys);
	bbt_kvlist_clear(&r->facts);
}

void bbt_resultset_free(bbt_resultset_t *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->n; i++)
		record_release(&rs->runs[i]);
	free(rs->runs);
	free(rs);
}

/* JSON scalar as the text a user would write in a grid file. */
static int scalar_text(const json_t *v, char *buf, size_t n)
{
	if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v)) {
		/* The shortest text that reads back as the same double. */
		double x = json_real_value(v);
		for (int prec = 6; prec <= 17; prec++) {
			snprintf(buf, n, "%.*g", prec, x);
			if (strtod(buf, NULL) == x)
				break;
		}
	} else if (json_is_boolean(v))
		snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
	else
		return -1;
	return 0;
}

/* The scalars of obj as keys PREFIXNAME; with a method, only the settings
 * that matter to it (a manual prompt's "dim" is the default it never
 * used, and would split a table's cells or pose as a setting). */
static int add_keys_of(bbt_kvlist_t *kv, json_t *obj, const char *prefix, const char *method)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		char text[512], key[256];
		if (scalar_text(v, text, sizeof text) != 0 ||
		    (method != NULL && !bbt_run_setting_matters(method, k)))
			continue;
		snprintf(key, sizeof key, "%s%s", prefix, k);
		if (bbt_kvlist_set(kv, key, text, NULL) < 0)
			return BBT_ENOMEM;
	}
	return BBT_OK;
}

static int add_keys(bbt_kvlist_t *kv, json_t *obj, const char *prefix)
{
	return add_keys_of(kv, obj, prefix, NULL);
}

/* The run's record beside its settings, by JSON path: the top level's
 * scalars as result.NAME (bbtbench_version, api_calls, tokens_scored,
 * wall_time_s, ...), those of "seeds", "metrics" and "blas", and the model
 * file's hash as model.sha256. Read generically, so that a number
 * result_json.c adds reaches runs.csv; every name has a dot, so that no
 * fact reads as a setting. */
static int add_facts(bbt_kvlist_t *kv, json_t *j)
{
	static const char *const skip[] = { "status", "run_id", "abi", "method" };
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		char text[512], name[256];
		int skipped = 0;
		for (size_t s = 0; s < sizeof skip / sizeof skip[0]; s++)
			skipped |= strcmp(k, skip[s]) == 0;
		snprintf(name, sizeof name, "result.%s", k);
		if (!skipped && scalar_text(v, text, sizeof text) == 0 &&
		    bbt_kvlist_set(kv, name, text, NULL) < 0)
			return BBT_ENOMEM;
	}
	static const char *const objects[] = { "seeds", "metrics", "blas" };
	for (size_t o = 0; o < sizeof objects / sizeof objects[0]; o++) {
		char prefix[16];
		snprintf(prefix, sizeof prefix, "%s.", objects[o]);
		if (add_keys(kv, json_object_get(j, objects[o]), prefix) < 0)
			return BBT_ENOMEM;
	}
	json_t *sha = json_object_get(json_object_get(json_object_get(j, "backend"), "model"),
	                              "sha256");
	if (json_is_string(sha) && bbt_kvlist_set(kv, "model.sha256", json_string_value(sha), NULL) < 0)
		return BBT_ENOMEM;
	return BBT_OK;
}

/* A result.json that is not JSON (a run's copy cut short, a hand edit) is
 * an error with `strict`, else reported, counted and left out: one bad
 * file in a folder of other people's runs must not hide all the others. */
static int add_run(bbt_resultset_t *rs, const char *path, int strict, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (j == NULL && strict)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s:%d: %s", path, jerr.line, jerr.text);
	if (j == NULL) {
		bbt_log(BBT_LOG_WARNING, NULL, "%s:%d: %s; left out (--strict refuses the folder)",
		        path, jerr.line, jerr.text);
		rs->unreadable++;
		return BBT_OK;
	}
	const char *status = json_string_value(json_object_get(j, "status"));
	if (status == NULL || strcmp(status, "finished") != 0) {
		rs->unfinished++;
		json_decref(j);
		return BBT_OK;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 64;
		struct record *r = realloc(rs->runs, cap * sizeof *r);
		if (r == NULL) {
			json_decref(j);
			return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		}
		rs->runs = r;
		rs->cap = cap;
	}
	struct record *r = &rs->runs[rs->n];
	memset(r, 0, sizeof *r);
	const char *slash = strrchr(path, '/');
	r->dir = slash ? bbt_strndup(path, (size_t)(slash - path)) : bbt_strdup(".");
	int rc = r->dir ? BBT_OK : BBT_ENOMEM;
	if (rc == BBT_OK)
		rc = add_keys_of(&r->keys, json_object_get(j, "settings"), "",
		                 json_string_value(json_object_get(json_object_get(j, "settings"),
		                                                   "method")));
	if (rc == BBT_OK)
		rc = add_keys(&r->keys, json_object_get(json_object_get(j, "optimizer"), "options"),
		              "optimizer.");
	if (rc == BBT_OK)
		rc = add_keys(&r->keys, json_object_get(json_object_get(j, "backend"), "options"),
		              "backend.");
	if (rc == BBT_OK)
		rc = add_facts(&r->facts, j);
	const char *id = json_string_value(json_object_get(j, "run_id"));
	if (rc == BBT_OK && id != NULL && bbt_kvlist_set(&r->keys, "run_id", id, NULL) < 0)
		rc = BBT_ENOMEM;
	struct bbt_result res;
	bbt_result_read(j, &res, NULL, 0);   /* an object: "status" was read from it */
	if (rc == BBT_OK && res.metric[0] != '\0' && (r->task_metric = bbt_strdup(res.metric)) == NULL)
		rc = BBT_ENOMEM;
	for (int i = 0; i < N_METRICS; i++)
		r->metric[i] = bbt_result_metric_value(&res, i);
	json_decref(j);
	rs->n++;  /* even on error, so that free releases what was taken */
	return rc < 0 ? bbt_error(err, errlen, rc, "out of memory") : BBT_OK;
}

struct paths {
	char **v;
	size_t n, cap;
};

/* Every result.json below dir (symbolic links not followed, so a link
 * loop cannot trap the walk). */
static int walk(const char *dir, struct paths *ps, int depth, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		if (depth == 0)
			return bbt_error(err, errlen, BBT_ENOTFOUND, "%s: %s", dir, strerror(errno));
		return BBT_OK;  /* an unreadable sub-folder holds no run we can read */
	}
	int rc = BBT_OK;
	struct dirent *e;
	while (rc == BBT_OK && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;  /* ., .., and hidden files: no run folder is hidden */
		char *path = bbt_path_join(dir, e->d_name);
		struct stat st;
		if (path == NULL) {
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		} else if (lstat(path, &st) != 0) {
			/* vanished since readdir (a run being redone): nothing to read */
		} else if (S_ISDIR(st.st_mode) && depth < 32) {
			rc = walk(path, ps, depth + 1, err, errlen);
		} else if (S_ISREG(st.st_mode) && strcmp(e->d_name, "result.json") == 0) {
			if (ps->n == ps->cap) {
				size_t cap = ps->cap ? 2 * ps->cap : 64;
				char **v = realloc(ps->v, cap * sizeof *v);
				if (v == NULL) {
					rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
					free(path);
					break;
				}
				ps->v = v;
				ps->cap = cap;
			}
			ps->v[ps->n++] = path;
			path = NULL;
		}
		free(path);
	}
	closedir(d);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int bbt_resultset_load(const char *dir, int strict, bbt_resultset_t **out, char *err,
                       size_t errlen)
{
	*out = NULL;
	struct paths ps = { 0 };
	int rc = walk(dir, &ps, 0, err, errlen);
	bbt_resultset_t *rs = rc == BBT_OK ? calloc(1, sizeof *rs) : NULL;
	if (rc == BBT_OK && rs == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK)
		qsort(ps.v, ps.n, sizeof *ps.v, cmp_str);
	for (size_t i = 0; rc == BBT_OK && i < ps.n; i++)
		rc = add_run(rs, ps.v[i], strict, err, errlen);
	for (size_t i = 0; i < ps.n; i++)
		free(ps.v[i]);
	free(ps.v);
	if (rc == BBT_OK && rs->unfinished > 0)
		bbt_log(BBT_LOG_INFO, NULL, "%s: %zu unfinished runs left out", dir, rs->unfinished);
	if (rc == BBT_OK && rs->unreadable > 0)
		bbt_log(BBT_LOG_WARNING, NULL, "%s: %zu unreadable result.json left out", dir,
		        rs->unreadable);
	if (rc == BBT_OK && rs->n == 0)
		rc = bbt_error(err, errlen, BBT_ENOTFOUND,
		               "%s: no finished run (no readable result.json with \"status\": "
		               "\"finished\")", dir);
	if (rc < 0) {
		bbt_resultset_free(rs);
		return rc;
	}
	*out = rs;
	return BBT_OK;
}

size_t bbt_resultset_count(const bbt_resultset_t *rs)
{
	return rs->n;
}

size_t bbt_resultset_unfinished(const bbt_resultset_t *rs)
{
	return rs->unfinished;
}

size_t bbt_resultset_unreadable(const bbt_resultset_t *rs)
{
	return rs->unreadable;
}

const char *bbt_resultset_run_dir(const bbt_resultset_t *rs, size_t i)
{
	return rs->runs[i].dir;
}

const char *bbt_resultset_key(const bbt_resultset_t *rs, size_t i, size_t k, const char **value)
{
	const bbt_kvlist_t *kv = &rs->runs[i].keys;
	if (k >= kv->n)
		return NULL;
	*value = kv->items[k].value;
	return kv->items[k].key;
}

int bbt_resultset_key_value(const bbt_resultset_t *rs, size_t i, const char *key,
                            const char **value)
{
	const struct bbt_kv *e = bbt_kvlist_get(&rs->runs[i].keys, key);
	*value = e ? e->value : NULL;
	return e != NULL;
}

const char *bbt_resultset_fact(const bbt_resultset_t *rs, size_t i, size_t k, const char **value)
{
	const bbt_kvlist_t *kv = &rs->runs[i].facts;
	if (k >= kv->n)
		return NULL;
	*value = kv->items[k].value;
	return kv->items[k].key;
}

const char *bbt_resultset_value(const bbt_resultset_t *rs, size_t i, const char *key)
{
	const bbt_kvlist_t *kv = &rs->runs[i].keys;
	const struct bbt_kv *e = bbt_kvlist_get(kv, key);
	if (e != NULL)
		return e->value;
	if (strchr(key, '.') != NULL)
		return NULL;
	/* A setting written with '_' or in capitals; then a bare option name. */
	char norm[128];
	size_t n = 0;
	for (; key[n] != '\0' && n < sizeof norm - 1; n++)
		norm[n] = key[n] == '_' ? '-' : (char)tolower((unsigned char)key[n]);
	norm[n] = '\0';
	if ((e = bbt_kvlist_get(kv, norm)) != NULL)
		return e->value;
	char pre[160];
	snprintf(pre, sizeof pre, "optimizer.%s", key);
	if ((e = bbt_kvlist_get(kv, pre)) != NULL)
		return e->value;
	snprintf(pre, sizeof pre, "backend.%s", key);
	e = bbt_kvlist_get(kv, pre);
	return e ? e->value : NULL;
}

double bbt_resultset_metric(const bbt_resultset_t *rs, size_t i, const char *metric)
{
	int m = bbt_result_metric_parse(metric);
	return m < 0 ? NAN : rs->runs[i].metric[m];
}

const char *bbt_resultset_metric_label(const bbt_resultset_t *rs, const char *metric)
{
	int m = bbt_result_metric_parse(metric);
	if (m < 0)
		return metric;
	if (m != BBT_RESULT_TEST_METRIC)
		return bbt_result_metric_label(m);
	/* Named after the task metric, when every run has the same one. */
	static const char *const task_metrics[][2] = {
		{ "acc", "test accuracy (%)" }, { "f1", "test F1 (%)" },
		{ "macro_f1", "test macro-F1 (%)" },
	};
	const char *shared = rs->n > 0 ? rs->runs[0].task_metric : NULL;
	for (size_t i = 1; shared != NULL && i < rs->n; i++)
		if (rs->runs[i].task_metric == NULL || strcmp(rs->runs[i].task_metric, shared) != 0)
			shared = NULL;
	for (size_t t = 0; shared != NULL && t < sizeof task_metrics / sizeof task_metrics[0]; t++)
		if (strcmp(task_metrics[t][0], shared) == 0)
			return task_metrics[t][1];
	return bbt_result_metric_label(m);
}

static int starts_number(const char *s)
{
	return isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]));
}

int bbt_resultset_value_cmp(const char *a0, const char *b0)
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

int bbt_resultset_keep(bbt_resultset_t *rs, const char *key, const char *value, int equal)
{
	size_t kept = 0;
	for (size_t i = 0; i < rs->n; i++) {
		const char *v = bbt_resultset_value(rs, i, key);
		if ((v != NULL && strcmp(v, value) == 0) == (equal != 0)) {
			rs->runs[kept++] = rs->runs[i];
			continue;
		}
		record_release(&rs->runs[i]);
	}
	rs->n = kept;
	return BBT_OK;
}

/* Keys that tell runs of one setting apart without being a setting. */
static int seed_or_place(const char *key)
{
	static const char *const keys[] = { "seed", "data-seed", "run_id", "out", "data-dir" };
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
		if (strcmp(key, keys[k]) == 0)
			return 1;
	return strchr(key, ',') != NULL;  /* a combined key repeats others */
}

/* 1 when runs a and b have the same settings but for `key` and seeds. */
static int same_setting(const bbt_resultset_t *rs, size_t a, size_t b, const char *key)
{
	const bbt_kvlist_t *ka = &rs->runs[a].keys, *kb = &rs->runs[b].keys;
	for (int pass = 0; pass < 2; pass++) {
		const bbt_kvlist_t *x = pass ? kb : ka, *y = pass ? ka : kb;
		for (size_t k = 0; k < x->n; k++) {
			const char *name = x->items[k].key;
			if (strcmp(name, key) == 0 || seed_or_place(name))
				continue;
			const struct bbt_kv *o = bbt_kvlist_get(y, name);
			if (o == NULL || strcmp(o->value, x->items[k].value) != 0)
				return 0;
		}
	}
	return 1;
}

/* The stored name ("optimizer.lr") of a key as asked ("lr"); NULL when no
 * run has it. */
static const char *stored_name(const bbt_resultset_t *rs, const char *key)
{
	for (size_t i = 0; i < rs->n; i++) {
		const char *v = bbt_resultset_value(rs, i, key);
		for (size_t k = 0; v != NULL && k < rs->runs[i].keys.n; k++)
			if (rs->runs[i].keys.items[k].value == v)
				return rs->runs[i].keys.items[k].key;
	}
	return NULL;
}

/* A setting's runs (those like run `rep` but for key) with value v, and
 * their mean dev metric. */
static double mean_dev(const bbt_resultset_t *rs, const size_t *group, size_t g, const char *key,
                       const char *v, size_t *cnt)
{
	int m = bbt_result_metric_parse("dev_metric");
	double sum = 0;
	*cnt = 0;
	for (size_t j = 0; j < rs->n; j++) {
		const struct bbt_kv *e = bbt_kvlist_get(&rs->runs[j].keys, key);
		if (group[j] == g && e != NULL && strcmp(e->value, v) == 0 &&
		    !isnan(rs->runs[j].metric[m])) {
			sum += rs->runs[j].metric[m];
			(*cnt)++;
		}
	}
	return *cnt ? sum / (double)*cnt : NAN;
}

int bbt_resultset_best_on_dev(bbt_resultset_t *rs, const char *asked, FILE *note)
{
	const char *key = stored_name(rs, asked);
	size_t n = rs->n, ng = 0;
	if (key == NULL)
		return BBT_OK;
	/* group[j]: the setting of run j, 1-based (0: no value of key);
	 * rep[g - 1] its first run */
	size_t *group = calloc(n, sizeof *group), *rep = calloc(n, sizeof *rep);
	char *drop = calloc(n, 1);
	const char **vals = malloc(n * sizeof *vals), **vary = malloc(n * sizeof *vary);
	int rc = group && rep && drop && vals && vary ? BBT_OK : BBT_ENOMEM;
	for (size_t i = 0; rc == BBT_OK && i < n; i++) {
		if (group[i] || bbt_kvlist_get(&rs->runs[i].keys, key) == NULL)
			continue;
		rep[ng++] = i;
		for (size_t j = i; j < n; j++)
			if (!group[j] && bbt_kvlist_get(&rs->runs[j].keys, key) != NULL &&
			    same_setting(rs, i, j, key))
				group[j] = ng;
	}
	/* The note names a setting by what tells it from the others. */
	size_t nvary = 0;
	for (size_t g = 1; rc == BBT_OK && note != NULL && g < ng; g++) {
		const bbt_kvlist_t *a = &rs->runs[rep[0]].keys, *b = &rs->runs[rep[g]].keys;
		for (size_t k = 0; k < a->n; k++) {
			const char *name = a->items[k].key;
			const struct bbt_kv *o = bbt_kvlist_get(b, name);
			if (strcmp(name, key) == 0 || seed_or_place(name) ||
			    (o != NULL && strcmp(o->value, a->items[k].value) == 0))
				continue;
			size_t u = 0;
			while (u < nvary && strcmp(vary[u], name) != 0)
				u++;
			if (u == nvary)
				vary[nvary++] = name;
		}
	}
	for (size_t g = 1; rc == BBT_OK && g <= ng; g++) {
		size_t nv = 0, best_v = 0, cnt;
		for (size_t j = 0; j < n; j++) {
			const struct bbt_kv *e = bbt_kvlist_get(&rs->runs[j].keys, key);
			size_t u = 0;
			while (group[j] == g && u < nv && strcmp(vals[u], e->value) != 0)
				u++;
			if (group[j] == g && u == nv)
				vals[nv++] = e->value;
		}
		for (size_t a = 1; a < nv; a++)  /* value order: a tie goes to the first */
			for (size_t b = a; b > 0 && bbt_resultset_value_cmp(vals[b - 1], vals[b]) > 0; b--) {
				const char *t = vals[b];
				vals[b] = vals[b - 1];
				vals[b - 1] = t;
			}
		double best = NAN;
		if (note != NULL) {
			fputc('-', note);
			for (size_t u = 0; u < nvary; u++) {
				const struct bbt_kv *e = bbt_kvlist_get(&rs->runs[rep[g - 1]].keys, vary[u]);
				fprintf(note, " %s=%s", vary[u], e ? e->value : "-");
			}
			fprintf(note, "%s %s by mean dev metric:", nvary ? ":" : "", key);
		}
		for (size_t u = 0; u < nv; u++) {
			double mean = mean_dev(rs, group, g, key, vals[u], &cnt);
			if (note != NULL)
				fprintf(note, " %s %.4g (n=%zu)%s", vals[u], mean, cnt, u + 1 < nv ? "," : "");
			if (!isnan(mean) && (isnan(best) || mean > best)) {
				best = mean;
				best_v = u;
			}
		}
		if (note != NULL)
			fprintf(note, "; kept %s\n", vals[best_v]);
		for (size_t j = 0; j < n; j++)
			if (group[j] == g &&
			    strcmp(bbt_kvlist_get(&rs->runs[j].keys, key)->value, vals[best_v]) != 0)
				drop[j] = 1;
	}
	size_t kept = 0;
	for (size_t i = 0; rc == BBT_OK && i < n; i++) {
		if (!drop[i])
			rs->runs[kept++] = rs->runs[i];
		else
			record_release(&rs->runs[i]);
	}
	if (rc == BBT_OK)
		rs->n = kept;
	free(group);
	free(rep);
	free(drop);
	free(vals);
	free(vary);
	return rc;
}

int bbt_resultset_combine_keys(bbt_resultset_t *rs, const char *keys)
{
	if (strchr(keys, ',') == NULL)
		return BBT_OK;
	for (size_t i = 0; i < rs->n; i++) {
		char *label = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&label, &len);
		if (f == NULL)
			return BBT_ENOMEM;
		for (const char *k = keys; *k;) {
			size_t n = strcspn(k, ",");
			char key[128];
			snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1), k);
			const char *v = bbt_resultset_value(rs, i, key);
			fprintf(f, "%s%s=%s", k == keys ? "" : " ", key, v ? v : "-");
			k += n + (k[n] == ',');
		}
		int bad = fclose(f) != 0;
		int rc = bad ? BBT_ENOMEM : bbt_kvlist_set(&rs->runs[i].keys, keys, label, "combined");
		free(label);
		if (rc < 0)
			return BBT_ENOMEM;
	}
	return BBT_OK;
}
