/*
 * results.h - one run's folder: results/<experiment>/<run-id>/
 *
 *     config.ini    the resolved settings; `bbtbench --config` on it re-runs the run
 *     trace.csv     one row per API call: call, batch, loss, best_loss,
 *                   dev_metric (when evaluated), wall_s; with --grad-check
 *                   also grad_cos, grad_norm_ratio on the last call of each
 *                   step (the estimate against the true gradient); with a
 *                   backend that reaches its model over a network (http,
 *                   openai), last bytes_sent, bytes_received, latency_ms:
 *                   the request that scored the call's generation, its
 *                   bytes split evenly over the generation's calls (so they
 *                   sum to the training traffic), its latency whole;
 *                   in-process backends have no such columns
 *     result.json   settings, seeds, final train/dev/test metrics, API calls,
 *                   wall time, versions; written last, so its presence with
 *                   "status": "finished" marks a finished run
 *     state.bin     a tuned run's state after its last finished generation
 *                   (checkpoint.h), for --resume; removed when the run finishes
 *     run.log       the run's messages and progress (log.c), appended per
 *                   attempt, so a --force rerun keeps the earlier attempt's
 *     .lock         flock'ed by the process writing the folder; holds its pid
 *
 * Nothing is ever half-written: files are written under a temporary name and
 * renamed; the trace is written as trace.csv.part (flushed after each batch,
 * so a killed run leaves a valid partial trace) and renamed at the end. An
 * interrupted run (Ctrl-C) renames its partial trace and writes result.json
 * with "status": "interrupted", a failed one with "status": "failed". An
 * earlier run's trace.csv and result.json (a rerun under --force) stay in
 * place until the new ones replace them at the end, so a rerun killed
 * part-way leaves the earlier run as it was.
 */
#ifndef BBT_RESULTS_H
#define BBT_RESULTS_H

#include <stddef.h>
#include <jansson.h>

enum bbt_rundir_state {
	BBT_RUNDIR_ABSENT = 0,      /* no folder, or nothing of a run in it */
	BBT_RUNDIR_INCOMPLETE = 1,  /* started, killed or interrupted */
	BBT_RUNDIR_FINISHED = 2,    /* result.json says "finished" */
};

enum bbt_rundir_state bbt_rundir_state(const char *path);

/* bbt_rundir_open's answer when another process holds the folder: not an
 * error of this run (a grid skips the run), but nothing was written. */
#define BBT_RUNDIR_LOCKED 2

typedef struct bbt_rundir bbt_rundir_t;

/* Optional trace columns. */
#define BBT_TRACE_GRAD 1     /* --grad-check: grad_cos, grad_norm_ratio */
#define BBT_TRACE_LAYER 2    /* deep prompts: layer, last */
#define BBT_TRACE_TRANSPORT 4 /* a backend with transport (http, openai): bytes_sent,
                               * bytes_received, latency_ms, always the last three */

/* Create (or reuse) the folder, lock it (BBT_RUNDIR_LOCKED and "PATH: run
 * in progress (pid N)" when another process has it), and start
 * trace.csv.part; columns: BBT_TRACE_* bits. */
int bbt_rundir_open(const char *path, int columns, bbt_rundir_t **out, char *err,
                    size_t errlen);
/* The same for a resumed run: the new trace starts with the first `rows`
 * rows of the earlier attempt's (trace.csv.part, or trace.csv of an
 * interrupted run); BBT_EFORMAT when its columns differ or it has fewer
 * rows, before anything is written. */
int bbt_rundir_reopen(const char *path, int columns, size_t rows, bbt_rundir_t **out,
                      char *err, size_t errlen);
const char *bbt_rundir_path(const bbt_rundir_t *rd);

/* A whole file in the folder, atomically. */
int bbt_rundir_write(bbt_rundir_t *rd, const char *name, const char *text,
                     char *err, size_t errlen);

struct bbt_trace_row {
	size_t call;         /* 1-based API call number */
	size_t batch;        /* 1-based ask/tell round */
	double loss;         /* this candidate's training loss */
	double best_loss;    /* best so far, this call included */
	double dev_metric;   /* NaN when dev was not evaluated at this call */
	double wall;         /* seconds since the run started */
	double grad_cos;     /* --grad-check: cosine(estimate, true gradient), or NaN */
	double grad_ratio;   /* --grad-check: |estimate| / |true gradient|, or NaN */
	size_t layer;        /* deep prompts: the layer this call tuned (0-based) */
	unsigned long long bytes_sent, bytes_received;   /* transport: this call's share of
	                                                    the request that scored it */
	double latency;      /* transport: that request's wall time, seconds */
};

int bbt_rundir_trace(bbt_rundir_t *rd, const struct bbt_trace_row *row);
/* Flush the trace (after each batch). */
int bbt_rundir_flush(bbt_rundir_t *rd, char *err, size_t errlen);

/* Close the trace, rename it to trace.csv, write result.json last. */
int bbt_rundir_finish(bbt_rundir_t *rd, json_t *result, char *err, size_t errlen);

/* Close without finishing (an error): the partial trace stays as .part. */
void bbt_rundir_free(bbt_rundir_t *rd);

#endif /* BBT_RESULTS_H */
