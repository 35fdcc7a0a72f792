/*
 * dataset.c - fuzz target: the data readers (src/data/dataset.c) on one file of
 * a task's data set: GLUE TSV, pandas' quoted TSV, RFC 4180 CSV, SNLI JSONL.
 *
 * The input's first line names the task and source whose description the
 * file is read under ("sst2.train", "snli.kshot": tasks/NAME.yaml as shipped),
 * the rest is the file:
 *
 *     rte.test
 *     index	sentence1	sentence2	label
 *     0	Dana Reeve ...	Christopher Reeve had an accident.	not_entailment
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "fuzz.h"
#include "core/util.h"

static const char *const task_names[] = {
	"sst2", "rte", "mrpc", "snli", "agnews", "dbpedia", "yelp",
};
enum { N_TASKS = sizeof task_names / sizeof task_names[0] };

/* The shipped task, loaded on first use (kept: the process is the fuzzer). */
static const bbt_task_t *shipped_task(size_t i)
{
	static bbt_task_t *tasks[N_TASKS];
	if (tasks[i] == NULL) {
		char err[512];
		char *path = bbt_asprintf("%s/tasks/%s.yaml", BBT_ABS_SRCDIR, task_names[i]);
		if (path == NULL || bbt_task_load(path, &tasks[i], err, sizeof err) < 0)
			tasks[i] = NULL;
		free(path);
	}
	return tasks[i];
}

static const struct bbt_source *source_named(const bbt_task_t *task, const char *name)
{
	if (strcmp(name, "train") == 0)
		return task->train;
	if (strcmp(name, "dev") == 0)
		return task->dev;
	if (strcmp(name, "test") == 0)
		return task->test;
	if (strcmp(name, "kshot") == 0)
		return task->kshot;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 32 ? size : 32);
	if (nl == NULL)
		return 0;
	char selector[32];
	memcpy(selector, data, (size_t)(nl - data));
	selector[nl - data] = '\0';
	char *dot = strchr(selector, '.');
	if (dot == NULL)
		return 0;
	*dot = '\0';
	const struct bbt_source *src = NULL;
	const bbt_task_t *task = NULL;
	for (size_t i = 0; i < N_TASKS && src == NULL; i++)
		if (strcmp(selector, task_names[i]) == 0 && (task = shipped_task(i)) != NULL)
			src = source_named(task, dot + 1);
	if (src == NULL || fuzz_dir_reset() == NULL)
		return 0;

	char err[512];
	bbt_dataset_t *ds;
	size_t skip = (size_t)(nl - data) + 1;
	char *path = fuzz_write_file("data", data + skip, size - skip);
	if (path != NULL && bbt_dataset_read(task, src, path, &ds, err, sizeof err) == 0) {
		size_t counts[16];
		if (task->n_labels <= 16)
			bbt_dataset_label_counts(ds, task->n_labels, counts);
		bbt_dataset_free(ds);
	}
	free(path);
	return 0;
}
