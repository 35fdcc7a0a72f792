/*
 * task.h - a task as described by one YAML file in tasks/.
 *
 * A task names its text fields, the template that turns an example into
 * model input, the label words (in label order = logit order), the metric,
 * and where its data lives under --data-dir, in the layout its authors
 * distribute (GLUE TSV, Zhang et al. CSV, SNLI JSONL, LM-BFF k-shot
 * folders). Example (tasks/sst2.yaml):
 *
 *     name: sst2
 *     description: SST-2 binary sentiment (GLUE)
 *     metric: acc                     # the paper's: acc | f1 | macro_f1
 *     fields: [sentence]
 *     template: "{sentence} . It was {mask} ."
 *     labels:                         # label order = logit order
 *       - {value: "0", word: bad}
 *       - {value: "1", word: great}
 *     positive: "1"                   # binary: the class test_f1 is the F1 of
 *     train:
 *       file: SST-2/train.tsv
 *       format: tsv                   # tsv | tsv-quoted | csv | jsonl
 *       header: true
 *       columns: {sentence: sentence, label: label}
 *     test:
 *       file: SST-2/dev.tsv
 *       format: tsv
 *       header: true
 *       columns: {sentence: sentence, label: label}
 *     kshot:
 *       dir: k-shot/SST-2             # holds <k>-<seed>/{train,dev,test}.tsv
 *       format: tsv
 *       header: true
 *       columns: {sentence: sentence, label: label}
 *
 * Column specs: a header name (or JSON key), a 0-based column index, a
 * negative index counting from the end (-1: last column), or a list of
 * these whose values are joined with one space (AG News: title + " " +
 * description). `unlabelled: "-"` names the label value that marks a row
 * without a label (SNLI's gold_label "-": no annotator majority); such
 * rows are skipped and counted. Without it every row needs a label. `label_values: [...]` in a source overrides the labels'
 * `value`s for that file (0-based k-shot files of 1-based data sets).
 * Instead of files, `generator: toy` makes the data in memory (demo task).
 */
#ifndef BBT_TASK_H
#define BBT_TASK_H

#include <stddef.h>
#include "run/loss.h"

enum bbt_data_format {
	BBT_FORMAT_TSV = 1,        /* GLUE: tab-separated, no quoting at all */
	BBT_FORMAT_TSV_QUOTED = 2, /* pandas: tab-separated, CSV-style "quoting" */
	BBT_FORMAT_CSV = 3,        /* RFC 4180 */
	BBT_FORMAT_JSONL = 4,      /* one JSON object per line */
};

struct bbt_column_part {
	char *name;                /* header name or JSON key; NULL: use index */
	long index;                /* 0-based; negative counts from the end */
};

struct bbt_column {
	size_t n_parts;            /* > 1: the parts' values joined with one space */
	struct bbt_column_part *parts;
};

struct bbt_source {
	char *file;                /* relative to the data dir (kshot: a folder) */
	enum bbt_data_format format;
	int header;                /* first line is a header */
	struct bbt_column *fields; /* one per task field */
	struct bbt_column label;
	char **label_values;       /* n_labels: each label as written in this file */
	int line;                  /* line of the YAML file that declares it */
};

struct bbt_task {
	char *name;
	char *description;
	char *path;                /* the YAML file it was read from */
	enum bbt_metric metric;    /* the paper's metric: test_metric, dev selection, perf */
	int positive;              /* a binary task's positive class (label index), whose F1
	                            * test_f1 is; BBT_NO_POSITIVE: test_f1 is the macro-F1 */
	size_t n_fields;
	char **fields;             /* field names used by the template */
	char *template_text;       /* e.g. "{sentence} . It was {mask} ." */
	size_t n_labels;
	char **label_words;        /* verbalizer, label order */
	struct bbt_source *train;  /* NULL when absent */
	struct bbt_source *dev;
	struct bbt_source *test;
	struct bbt_source *kshot;
	char *generator;           /* "toy" for built-in data, else NULL */
	char *unlabelled;          /* label value of rows to skip (SNLI "-"), else NULL */
};

typedef struct bbt_task bbt_task_t;

/* A task file is a page of YAML: larger files, and values nested deeper
 * than BBT_TASK_MAX_DEPTH (a task needs 4 levels), are refused before
 * they are parsed. */
#define BBT_TASK_MAX_BYTES (64 * 1024)
#define BBT_TASK_MAX_DEPTH 32

/* Parse a task YAML file. Errors name the file and line ("tasks/rte.yaml:12:
 * labels: expected a list of {value, word}"). */
int bbt_task_load(const char *path, bbt_task_t **task, char *err, size_t errlen);
void bbt_task_free(bbt_task_t *task);

/* Resolve `name_or_path`: a path (it contains '/' or ends in .yaml/.yml) is
 * taken as it is; a name is looked up as NAME.yaml in each of dirs, in
 * order. *path is malloc'ed. BBT_ENOTFOUND names the places looked in. */
int bbt_task_find(const char *name_or_path, const char *const *dirs, size_t n_dirs,
                  char **path, char *err, size_t errlen);

/* Field index of `name` in task->fields, or -1. */
int bbt_task_field_index(const bbt_task_t *task, const char *name);

#endif /* BBT_TASK_H */
