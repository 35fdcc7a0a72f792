/*
 * task_yaml.c - fuzz target: a task's YAML file (src/data/task.c).
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "data/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	bbt_task_t *task;
	if (fuzz_dir_reset() == NULL)
		return 0;
	char *path = fuzz_write_file("task.yaml", data, size);
	if (path != NULL && bbt_task_load(path, &task, err, sizeof err) == 0) {
		for (size_t i = 0; i < task->n_fields; i++)
			bbt_task_field_index(task, task->fields[i]);
		bbt_task_free(task);
	}
	free(path);
	return 0;
}
