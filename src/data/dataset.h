/*
 * dataset.h - examples read from one data file (or made by a generator),
 * and the train/dev/test splits of a run.
 *
 * Readers take the real files as their authors distribute them: UTF-8 BOM,
 * CRLF line ends, GLUE's unquoted TSV (a field may begin with '"' and is
 * taken literally), pandas' quoted TSV, RFC 4180 CSV without header, rows
 * with more columns than the header, JSONL. Text is kept byte for byte
 * (no unescaping of AG News' '\' or '#39;'). Every error names the file
 * and line and says what was expected:
 *
 *     data/RTE/train.tsv:17: label "maybe" is not one of entailment, not_entailment
 *
 * Non-UTF-8 bytes, a missing column, an empty file, a label outside the
 * task's label set: each an error (BBT_EFORMAT), never a crash. Rows
 * whose label is the task's `unlabelled` value (SNLI's gold_label "-")
 * are skipped and counted in `skipped`.
 */
#ifndef BBT_DATASET_H
#define BBT_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include "data/task.h"

struct bbt_example {
	char **field;      /* task->n_fields strings, NUL-terminated UTF-8 */
	int label;         /* index into task->label_words */
	size_t line;       /* line in the source file (1-based); 0 if generated */
};

struct bbt_dataset {
	char *path;        /* file read, or "<toy>" */
	size_t n_fields;
	size_t n;
	struct bbt_example *ex;
	size_t skipped;    /* rows skipped as unlabelled (task->unlabelled) */
};

typedef struct bbt_dataset bbt_dataset_t;

/* The longest line (or quoted multi-line record) a reader accepts, in
 * bytes: the real data sets' longest example is a few KB, and a file
 * without line ends must not be read into memory whole. */
#define BBT_DATASET_MAX_LINE (1L << 20)

/* Read `path` (already joined with the data dir) as source `src` of `task`.
 * Only regular files are read: a FIFO or a device is refused (BBT_EIO). */
int bbt_dataset_read(const bbt_task_t *task, const struct bbt_source *src,
                     const char *path, bbt_dataset_t **out, char *err, size_t errlen);

/* A new data set holding deep copies of examples idx[0..n) of `from`
 * (n may be 0). NULL on out of memory. */
bbt_dataset_t *bbt_dataset_subset(const bbt_dataset_t *from, const size_t *idx, size_t n);

void bbt_dataset_free(bbt_dataset_t *ds);

/* Examples per label (counts has n_labels entries). */
void bbt_dataset_label_counts(const bbt_dataset_t *ds, size_t n_labels, size_t *counts);

/* ------------------------------------------------------------------ */
/* Splits of a run */

enum bbt_split_source {
	BBT_SPLIT_AUTO = 0,  /* sample from the full train file if present, else k-shot */
	BBT_SPLIT_FULL = 1,  /* sample from the full train file; error if absent */
	BBT_SPLIT_KSHOT = 2, /* the published k-shot folder <k>-<seed>/ as it is */
};

struct bbt_splits_params {
	const char *data_dir;          /* where the task's files are looked up */
	size_t k;                      /* shots per class (default 16) */
	uint32_t data_seed;            /* shuffle seed / k-shot folder seed */
	enum bbt_split_source source;
};

struct bbt_splits {
	bbt_dataset_t *train;          /* k per label; its `skipped` counts the whole
	                                  file the shots came from */
	bbt_dataset_t *dev;            /* k per label; host-sampled: skipped 0 */
	bbt_dataset_t *test;           /* the full evaluation file, else k-shot test.tsv */
	char *train_from;              /* file the shots were taken from */
	char *test_from;               /* file the test set was read from */
	int sampled;                   /* 1: host-sampled from the full train file */
	size_t n_pool;                 /* host-sampled: labelled rows of that file */
};

struct bbt_splits_params bbt_splits_default_params(void);

/* Build the three splits of a run; this decides whether a task's data is
 * usable, for `run` and `tasks` alike. With the full train file (host-sampled):
 * shuffle its indices with RandomState(data_seed).shuffle, walk them in
 * order, give the first k of each label to train and the next k to dev, as
 * the BBT code does. Missing files: BBT_ENOTFOUND naming every file looked
 * for and its expected format. */
int bbt_splits_load(const bbt_task_t *task, const struct bbt_splits_params *params,
                    struct bbt_splits *out, char *err, size_t errlen);
void bbt_splits_free(struct bbt_splits *splits);

/* The BBT sampler on its own: indices into `full` (k per label at most for
 * each of train and dev, in the walk order). train_idx and dev_idx hold
 * n_labels * k entries. Fails (BBT_EFORMAT) if a label has fewer than k
 * examples for train. */
int bbt_kshot_sample(const bbt_dataset_t *full, size_t n_labels, size_t k, uint32_t seed,
                     size_t *train_idx, size_t *n_train, size_t *dev_idx, size_t *n_dev,
                     char *err, size_t errlen);

/* The built-in demo data (task generator "toy"): short review-like
 * sentences of sentiment words and filler, labelled 0 (negative) or
 * 1 (positive); deterministic for a seed. */
bbt_dataset_t *bbt_toy_generate(size_t n, uint32_t seed);

#endif /* BBT_DATASET_H */
