/*
 * results.c - run folders, traces and result files.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results.h"
#include "util.h"

struct bbt_rundir {
	char *path;
	char *trace_part;   /* trace.csv.part */
	FILE *trace;
	int grad_columns;   /* the --grad-check columns */
};

enum bbt_rundir_state bbt_rundir_state(const char *path)
{
	char *result = bbt_path_join(path, "result.json");
	if (result == NULL)
		return BBT_RUNDIR_ABSENT;
	json_error_t jerr;
	json_t *j = json_load_file(result, 0, &jerr);
	int exists = access(result, F_OK) == 0;
	free(result);
	if (j != NULL) {
		const char *status = json_string_value(json_object_get(j, "status"));
		int finished = status != NULL && strcmp(status, "finished") == 0;
		json_decref(j);
		return finished ? BBT_RUNDIR_FINISHED : BBT_RUNDIR_INCOMPLETE;
	}
	if (exists)
		return BBT_RUNDIR_INCOMPLETE;
	static const char *const traces[] = { "trace.csv.part", "trace.csv", "config.ini" };
	for (size_t i = 0; i < sizeof traces / sizeof traces[0]; i++) {
		char *p = bbt_path_join(path, traces[i]);
		int here = p != NULL && access(p, F_OK) == 0;
		free(p);
		if (here)
			return BBT_RUNDIR_INCOMPLETE;
	}
	return BBT_RUNDIR_ABSENT;
}

int bbt_rundir_open(const char *path, int grad_columns, bbt_rundir_t **out, char *err,
                    size_t errlen)
{
	*out = NULL;
	int rc = bbt_mkdir_p(path, err, errlen);
	if (rc < 0)
		return rc;
	bbt_rundir_t *rd = calloc(1, sizeof *rd);
	if (rd == NULL || (rd->path = bbt_strdup(path)) == NULL ||
	    (rd->trace_part = bbt_path_join(path, "trace.csv.part")) == NULL) {
		bbt_rundir_free(rd);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	/* What an incomplete earlier attempt left is stale: the run starts over. */
	static const char *const stale[] = { "result.json", "trace.csv" };
	for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++) {
		char *p = bbt_path_join(path, stale[i]);
		if (p != NULL)
			unlink(p);
		free(p);
	}
	rd->trace = fopen(rd->trace_part, "w");
	if (rd->trace == NULL) {
		rc = bbt_error(err, errlen, BBT_EIO, "%s: %s", rd->trace_part, strerror(errno));
		bbt_rundir_free(rd);
		return rc;
	}
	rd->grad_columns = grad_columns;
	fputs(grad_columns ? "call,batch,loss,best_loss,dev_metric,wall_s,grad_cos,grad_norm_ratio\n"
	                   : "call,batch,loss,best_loss,dev_metric,wall_s\n",
	      rd->trace);
	*out = rd;
	return BBT_OK;
}

const char *bbt_rundir_path(const bbt_rundir_t *rd)
{
	return rd->path;
}

int bbt_rundir_write(bbt_rundir_t *rd, const char *name, const char *text,
                     char *err, size_t errlen)
{
	char *p = bbt_path_join(rd->path, name);
	if (p == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	int rc = bbt_file_write_atomic(p, text, strlen(text), err, errlen);
	free(p);
	return rc;
}

/* ",value", or "," alone for NaN (not measured at this call). */
static void put_optional(FILE *f, double v, const char *fmt)
{
	fputc(',', f);
	if (!isnan(v))
		fprintf(f, fmt, v);
}

int bbt_rundir_trace(bbt_rundir_t *rd, const struct bbt_trace_row *r)
{
	fprintf(rd->trace, "%zu,%zu,%.9g,%.9g", r->call, r->batch, r->loss, r->best_loss);
	put_optional(rd->trace, r->dev_metric, "%.9g");
	fprintf(rd->trace, ",%.3f", r->wall);
	if (rd->grad_columns) {
		put_optional(rd->trace, r->grad_cos, "%.9g");
		put_optional(rd->trace, r->grad_ratio, "%.9g");
	}
	fputc('\n', rd->trace);
	return ferror(rd->trace) ? BBT_EIO : BBT_OK;
}

int bbt_rundir_flush(bbt_rundir_t *rd, char *err, size_t errlen)
{
	if (fflush(rd->trace) != 0 || ferror(rd->trace))
		return bbt_error(err, errlen, BBT_EIO, "%s: write failed: %s", rd->trace_part,
		                 strerror(errno));
	return BBT_OK;
}

int bbt_rundir_finish(bbt_rundir_t *rd, json_t *result, char *err, size_t errlen)
{
	int rc = bbt_rundir_flush(rd, err, errlen);
	if (rc < 0)
		return rc;
	fsync(fileno(rd->trace));
	int closed = fclose(rd->trace);
	rd->trace = NULL;
	char *final = bbt_path_join(rd->path, "trace.csv");
	if (final == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (closed != 0 || rename(rd->trace_part, final) != 0) {
		rc = bbt_error(err, errlen, BBT_EIO, "%s: %s", final, strerror(errno));
		free(final);
		return rc;
	}
	free(final);

	char *text = json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (text == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "result.json: cannot encode");
	size_t len = strlen(text);
	char *withnl = realloc(text, len + 2);
	if (withnl == NULL) {
		free(text);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	withnl[len] = '\n';
	withnl[len + 1] = '\0';
	rc = bbt_rundir_write(rd, "result.json", withnl, err, errlen);
	free(withnl);
	return rc;
}

void bbt_rundir_free(bbt_rundir_t *rd)
{
	if (rd == NULL)
		return;
	if (rd->trace != NULL)
		fclose(rd->trace);
	free(rd->trace_part);
	free(rd->path);
	free(rd);
}
