/*
 * trail.c - a run's best-on-dev prompt along its calls, scored again (see
 * trail.h).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "run/loop.h"
#include "run/trail.h"

static const char trail_header[] = "call\tdev_metric\tmetric\tacc\tf1";

/* 1 when path exists; else 0 with ENOENT, or an error for anything else. */
static int exists(const char *path, int *rc, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return 1;
	*rc = errno == ENOENT ? BBT_OK : bbt_error(err, errlen, BBT_EIO, "%s: %s", path,
	                                           strerror(errno));
	return 0;
}

/* What --trail cannot score, said before the model is loaded: a baseline
 * (no prompt was tuned), a discrete prompt (BDPL keeps no trail of
 * continuous points), a run without prompts.tsv. A folder whose
 * result.json cannot be read is left to bbt_saved_open, which says so. */
static int refuse(const char *run_dir, const char *tsv_path, char *err, size_t errlen)
{
	char *path = bbt_path_join(run_dir, "result.json");
	if (path == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	json_t *res = json_load_file(path, 0, NULL);
	free(path);
	const char *method = json_string_value(
	        json_object_get(json_object_get(res, "settings"), "method"));
	const char *kind = json_string_value(
	        json_object_get(json_object_get(res, "prompt"), "kind"));
	int rc = BBT_OK;
	if (method != NULL && strcmp(method, "tune") != 0)
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "%s: a baseline run (method %s) tunes no prompt: --trail has nothing "
		               "to score", run_dir, method);
	else if (kind != NULL && strcmp(kind, "discrete") == 0)
		rc = bbt_error(err, errlen, BBT_EINVAL,
		               "%s: a discrete (BDPL) prompt: --trail scores the continuous prompts "
		               "of prompts.tsv, which only BBT and BBTv2 runs keep", run_dir);
	else if (res != NULL && !exists(tsv_path, &rc, err, errlen) && rc == BBT_OK)
		rc = bbt_error(err, errlen, BBT_ENOTFOUND,
		               "%s: no %s (the best-so-far prompts a tuned continuous run keeps; a "
		               "run made before bbtbench kept them has none)", run_dir,
		               BBT_PROMPT_TRAIL_NAME);
	json_decref(res);
	return rc;
}

/* The next line of *rest, cut off in place and *rest moved past it; NULL
 * at the end of the text. */
static char *cut_line(char **rest)
{
	char *line = *rest;
	if (line == NULL || *line == '\0')
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl != NULL)
		*nl++ = '\0';
	*rest = nl;
	return line;
}

/* The next tab-separated field of *s as a number, *s moved past it. */
static int field_number(char **s, double *x)
{
	if (*s == NULL)
		return -1;
	char *f = *s, *tab = strchr(f, '\t');
	if (tab != NULL)
		*tab = '\0';
	*s = tab ? tab + 1 : NULL;
	return bbt_parse_double(f, x);
}

/* One prompts.tsv row: call, dev metric, then nz coordinates into z. */
static int trail_row(char *line, size_t nz, size_t *call, double *dev, double *z)
{
	double c;
	if (field_number(&line, &c) != 0 || !(c >= 0) || c != floor(c) ||
	    field_number(&line, dev) != 0)
		return -1;
	*call = (size_t)c;
	for (size_t i = 0; i < nz; i++)
		if (field_number(&line, &z[i]) != 0)
			return -1;
	return line == NULL ? 0 : -1;
}

/* Replay the run's selection on prompts.tsv (text, changed in place) and
 * score each change on enc, one row of the trail file each into out. */
static int replay(struct bbt_saved *sv, const char *tsv_path, char *text,
                  const bbt_encoded_t *enc, FILE *out, size_t *rows, char *err, size_t errlen)
{
	size_t nz = sv->layers * sv->d, lineno = 1;
	double *z = malloc(nz * sizeof *z), best = NAN;
	if (z == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	char *rest = text, *line = cut_line(&rest);
	/* the header names the coordinates: a deep prompt's L x d in one row */
	size_t fields = 1;
	for (const char *c = line; c != NULL && *c; c++)
		fields += *c == '\t';
	int rc = line != NULL && strncmp(line, "call\tdev_metric\t", 16) == 0 && fields == 2 + nz
		? BBT_OK
		: bbt_error(err, errlen, BBT_EFORMAT,
		            "%s:1: expected the header call, dev_metric and %zu coordinates "
		            "(the run's prompt)", tsv_path, nz);
	fprintf(out, "%s\n", trail_header);
	size_t last_call = 0;
	while (rc == BBT_OK && (line = cut_line(&rest)) != NULL) {
		lineno++;
		size_t call;
		double dev;
		if (trail_row(line, nz, &call, &dev, z) != 0 || call < last_call) {
			rc = bbt_error(err, errlen, BBT_EFORMAT,
			               "%s:%zu: expected a call (not before the row above's), a dev "
			               "metric and %zu coordinates, tab-separated", tsv_path, lineno, nz);
			break;
		}
		last_call = call;
		if (!bbt_selection_improves(best, dev))
			continue;
		best = dev;
		struct bbt_prompt pr = { sv->kind, z };
		struct bbt_eval ev;
		rc = bbt_score_eval_set(sv->sc, enc, &pr, &ev, err, errlen);
		if (rc == BBT_OK) {
			fprintf(out, "%zu\t%.17g\t%.17g\t%.17g\t%.17g\n", call, dev, ev.metric, ev.acc,
			        ev.f1);
			++*rows;
		}
	}
	free(z);
	return rc;
}

int bbt_trail_eval(const char *run_dir, const char *split, const struct bbt_saved_params *sp,
                   bbt_registry_t *reg, char **path, size_t *rows, char *err, size_t errlen)
{
	*rows = 0;
	if (path != NULL)
		*path = NULL;
	char *tsv_path = bbt_path_join(run_dir, BBT_PROMPT_TRAIL_NAME);
	if (tsv_path == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = refuse(run_dir, tsv_path, err, errlen);
	struct bbt_saved sv;
	memset(&sv, 0, sizeof sv);
	if (rc == BBT_OK)
		rc = bbt_saved_open(&sv, run_dir, sp, reg, err, errlen);
	char *text = NULL, *name = NULL, *out_path = NULL, *buf = NULL;
	size_t len = 0;  /* buf's */
	bbt_encoded_t *own = NULL;
	const bbt_encoded_t *enc = NULL;
	const char *data;
	if (rc == BBT_OK)
		rc = bbt_file_read(tsv_path, &text, &(size_t){ 0 }, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_saved_split(&sv, split, &enc, &own, &data, err, errlen);
	FILE *out = NULL;
	if (rc == BBT_OK && (out = open_memstream(&buf, &len)) == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK)
		rc = replay(&sv, tsv_path, text, enc, out, rows, err, errlen);
	if (out != NULL && fclose(out) != 0 && rc == BBT_OK)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK && *rows == 0)
		rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: no prompt (expected a row per dev "
		               "evaluation of a best-so-far point)", tsv_path);
	if (rc == BBT_OK) {
		name = bbt_saved_output_name(&sv, split, BBT_TRAIL_PREFIX, ".tsv");
		out_path = name ? bbt_path_join(run_dir, name) : NULL;
		rc = out_path ? bbt_file_write_atomic(out_path, buf, len, err, errlen)
		              : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	if (rc == BBT_OK && path != NULL) {
		*path = out_path;
		out_path = NULL;
	}
	free(out_path);
	free(name);
	free(buf);
	free(text);
	free(tsv_path);
	bbt_encoded_free(own);
	bbt_saved_release(&sv);
	return rc;
}

void bbt_trail_release(struct bbt_trail *tr)
{
	free(tr->call);
	free(tr->metric);
	memset(tr, 0, sizeof *tr);
}

/* The file's rows into tr; the header as bbt_trail_eval writes it. */
static int parse_trail(const char *path, char *text, struct bbt_trail *tr, char *err,
                       size_t errlen)
{
	size_t cap = 1, lineno = 1;
	for (const char *c = text; *c; c++)
		cap += *c == '\n';
	tr->call = malloc(cap * sizeof *tr->call);
	tr->metric = malloc(cap * sizeof *tr->metric);
	if (tr->call == NULL || tr->metric == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	char *rest = text, *line = cut_line(&rest);
	if (line == NULL || strcmp(line, trail_header) != 0)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s:1: expected the header call, "
		                 "dev_metric, metric, acc, f1 (tab-separated)", path);
	while ((line = cut_line(&rest)) != NULL) {
		lineno++;
		size_t call;
		double dev, cols[3];
		if (trail_row(line, 3, &call, &dev, cols) != 0 ||
		    (tr->n > 0 && call < tr->call[tr->n - 1]))
			return bbt_error(err, errlen, BBT_EFORMAT,
			                 "%s:%zu: expected a call (not before the row above's), "
			                 "dev_metric, metric, acc and f1, tab-separated", path, lineno);
		tr->call[tr->n] = call;
		tr->metric[tr->n++] = cols[0];
	}
	return BBT_OK;
}

int bbt_trail_load(const char *run_dir, struct bbt_trail *tr, char *err, size_t errlen)
{
	memset(tr, 0, sizeof *tr);
	char *path = bbt_path_join(run_dir, BBT_TRAIL_TEST_NAME),
	     *res_path = bbt_path_join(run_dir, "result.json"), *text = NULL;
	int rc = path && res_path ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc == BBT_OK && !exists(path, &rc, err, errlen) && rc == BBT_OK)
		rc = bbt_error(err, errlen, BBT_ENOTFOUND,
		               "%s: no %s: make it with `bbtbench eval %s --trail`", run_dir,
		               BBT_TRAIL_TEST_NAME, run_dir);
	if (rc == BBT_OK)
		rc = bbt_file_read(path, &text, &(size_t){ 0 }, err, errlen);
	if (rc == BBT_OK)
		rc = parse_trail(path, text, tr, err, errlen);
	/* The run went on (--resume) or was made again after the file was:
	 * its last change is no longer the run's choice. */
	json_t *res = rc == BBT_OK ? json_load_file(res_path, 0, NULL) : NULL;
	json_t *call = json_object_get(json_object_get(res, "metrics"), "best_dev_call");
	if (rc == BBT_OK && tr->n == 0)
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "%s: no row: make it again with `bbtbench eval %s --trail`", path,
		               run_dir);
	else if (rc == BBT_OK && (!json_is_integer(call) ||
	                          (json_int_t)tr->call[tr->n - 1] != json_integer_value(call)))
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "%s: ends at call %zu, but result.json's best_dev_call is %lld: make it "
		               "again with `bbtbench eval %s --trail`", path,
		               tr->call[tr->n - 1], (long long)json_integer_value(call),
		               run_dir);
	else if (rc == BBT_EFORMAT) {
		size_t l = strlen(err);
		snprintf(err + l, errlen - l, ": make it again with `bbtbench eval %s --trail`",
		         run_dir);
	}
	json_decref(res);
	free(text);
	free(res_path);
	free(path);
	if (rc < 0)
		bbt_trail_release(tr);
	return rc;
}
