/*
 * results.c - run folders, traces and result files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "run/results.h"
#include "core/util.h"

struct bbt_rundir {
	char *path;
	char *trace_part;   /* trace.csv.part */
	FILE *trace;
	int grad_columns;   /* the --grad-check columns */
	int layer_column;   /* deep prompts: the layer each call tuned */
	int transport_columns;   /* a networked backend: bytes_sent, bytes_received, latency_ms */
	int lock_fd;        /* .lock, flock'ed while this process writes the folder */
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

/* Take the folder's lock, or say which process holds it. The lock is an
 * flock on .lock, so the kernel drops it when its holder dies, however it
 * dies; the file holds the holder's pid for the message. */
static int lock_folder(bbt_rundir_t *rd, char *err, size_t errlen)
{
	char *path = bbt_path_join(rd->path, ".lock");
	if (path == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	rd->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int locked = rd->lock_fd >= 0 && flock(rd->lock_fd, LOCK_EX | LOCK_NB) == 0;
	int rc = BBT_OK;
	if (!locked && (rd->lock_fd < 0 || errno != EWOULDBLOCK)) {
		rc = bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
	} else if (!locked) {
		char pid[24] = "";
		ssize_t n = pread(rd->lock_fd, pid, sizeof pid - 1, 0);
		if (n > 0 && pid[n - 1] == '\n')
			pid[n - 1] = '\0';
		else
			snprintf(pid, sizeof pid, "unknown");   /* its holder is still writing it */
		rc = bbt_error(err, errlen, BBT_RUNDIR_LOCKED, "%s: run in progress (pid %s)",
		               rd->path, pid);
	} else {
		char pid[24];
		int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
		if (ftruncate(rd->lock_fd, 0) != 0 || pwrite(rd->lock_fd, pid, (size_t)len, 0) != len)
			rc = bbt_error(err, errlen, BBT_EIO, "%s: %s", path, strerror(errno));
	}
	free(path);
	return rc;
}

/* The trace's first line for these columns. */
static void trace_header(const bbt_rundir_t *rd, char *buf, size_t len)
{
	snprintf(buf, len, "call,batch,loss,best_loss,dev_metric,wall_s%s%s%s\n",
	         rd->grad_columns ? ",grad_cos,grad_norm_ratio" : "",
	         rd->layer_column ? ",layer" : "",
	         rd->transport_columns ? ",bytes_sent,bytes_received,latency_ms" : "");
}

/* A resumed run's trace so far: the first `rows` rows of the trace an
 * earlier attempt left (trace.csv.part if it was killed, trace.csv if it
 * was interrupted), after a header that must be this run's. */
static int trace_prefix(const bbt_rundir_t *rd, const char *header, size_t rows, char **out,
                        size_t *outlen, char *err, size_t errlen)
{
	char *done = bbt_path_join(rd->path, "trace.csv");
	if (done == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	const char *from = access(rd->trace_part, F_OK) == 0 ? rd->trace_part : done;
	FILE *in = fopen(from, "r");
	FILE *mem = open_memstream(out, outlen);
	int rc = BBT_OK;
	if (in == NULL || mem == NULL) {
		rc = in == NULL ? bbt_error(err, errlen, BBT_EIO, "%s: %s", from, strerror(errno))
		                : bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	} else {
		char *line = NULL;
		size_t cap = 0, n = 0;
		ssize_t got = getline(&line, &cap, in);
		if (got < 0 || strcmp(line, header) != 0)
			rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: its columns are not this run's "
			               "(expected %.*s)", from, (int)strlen(header) - 1, header);
		while (rc == BBT_OK && n < rows && (got = getline(&line, &cap, in)) > 0 &&
		       line[got - 1] == '\n') {
			fputs(line, mem);
			n++;
		}
		if (rc == BBT_OK && n < rows)
			rc = bbt_error(err, errlen, BBT_EFORMAT, "%s: %zu complete rows, but the state "
			               "to resume is at API call %zu", from, n, rows);
		free(line);
	}
	if (in != NULL)
		fclose(in);
	if (mem != NULL)
		fclose(mem);
	free(done);
	return rc;
}

int bbt_rundir_reopen(const char *path, int columns, size_t rows, bbt_rundir_t **out,
                      char *err, size_t errlen)
{
	*out = NULL;
	int rc = bbt_mkdir_p(path, err, errlen);
	if (rc < 0)
		return rc;
	bbt_rundir_t *rd = calloc(1, sizeof *rd);
	if (rd != NULL)
		rd->lock_fd = -1;
	if (rd == NULL || (rd->path = bbt_strdup(path)) == NULL ||
	    (rd->trace_part = bbt_path_join(path, "trace.csv.part")) == NULL) {
		bbt_rundir_free(rd);
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	}
	if ((rc = lock_folder(rd, err, errlen)) != BBT_OK) {
		bbt_rundir_free(rd);
		return rc;
	}
	rd->grad_columns = (columns & BBT_TRACE_GRAD) != 0;
	rd->layer_column = (columns & BBT_TRACE_LAYER) != 0;
	rd->transport_columns = (columns & BBT_TRACE_TRANSPORT) != 0;
	char header[160], *prefix = NULL;
	size_t prefix_len = 0;
	trace_header(rd, header, sizeof header);
	if (rows > 0 && (rc = trace_prefix(rd, header, rows, &prefix, &prefix_len, err, errlen)) < 0) {
		free(prefix);
		bbt_rundir_free(rd);
		return rc;
	}
	/* What an earlier run left (a finished run's result.json and trace.csv
	 * under --force, an interrupted one's) stays until bbt_rundir_finish
	 * replaces it: a run killed before then loses nothing that was there. */
	rd->trace = fopen(rd->trace_part, "w");
	if (rd->trace == NULL) {
		rc = bbt_error(err, errlen, BBT_EIO, "%s: %s", rd->trace_part, strerror(errno));
		free(prefix);
		bbt_rundir_free(rd);
		return rc;
	}
	fputs(header, rd->trace);
	if (prefix != NULL)
		fwrite(prefix, 1, prefix_len, rd->trace);
	free(prefix);
	*out = rd;
	return BBT_OK;
}

int bbt_rundir_open(const char *path, int columns, bbt_rundir_t **out, char *err,
                    size_t errlen)
{
	return bbt_rundir_reopen(path, columns, 0, out, err, errlen);
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
	if (rd->layer_column)
		fprintf(rd->trace, ",%zu", r->layer);
	if (rd->transport_columns)   /* last, so that readers by position keep working */
		fprintf(rd->trace, ",%llu,%llu,%.3f", r->bytes_sent, r->bytes_received,
		        1e3 * r->latency);
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
	if (rd->lock_fd >= 0)
		close(rd->lock_fd);   /* releases the lock */
	free(rd->trace_part);
	free(rd->path);
	free(rd);
}
