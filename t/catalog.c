/*
 * t/catalog.c - the task catalog over two scratch folders named by
 * $BBTBENCH_TASKS_PATH, ahead of the source tree's tasks/: tasks found in
 * folder order and file name order, the first file of a name kept (over
 * a later file, a later folder and the shipped task), only *.yaml read, a
 * broken file reported by name, and the "did you mean" explanation of a
 * task that is missing. The per-user folder ($XDG_DATA_HOME/bbtbench/tasks)
 * comes after the task path and the source tree, before the installed one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "core/util.h"
#include "data/catalog.h"
#include "tap.h"
#include "tmptree.h"

/* A valid task file (test data from a file the catalog never opens). */
static void task(const char *rel, const char *name, const char *description)
{
	tree_writef(rel,
	            "name: %s\n"
	            "description: %s\n"
	            "metric: acc\n"
	            "fields: [sentence]\n"
	            "template: \"{sentence} . It was {mask} .\"\n"
	            "labels:\n"
	            "  - {value: \"0\", word: bad}\n"
	            "  - {value: \"1\", word: great}\n"
	            "test:\n"
	            "  file: x.tsv\n"
	            "  format: tsv\n"
	            "  columns: {sentence: sentence, label: label}\n",
	            name, description);
}

static size_t count_named(const bbt_catalog_t *cat, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < cat->n; i++)
		n += strcmp(cat->tasks[i]->name, name) == 0;
	return n;
}

static const bbt_task_t *named(const bbt_catalog_t *cat, const char *name)
{
	for (size_t i = 0; i < cat->n; i++)
		if (strcmp(cat->tasks[i]->name, name) == 0)
			return cat->tasks[i];
	return NULL;
}

int main(void)
{
	plan(27);
	tree_init("bbt-catalog");
	task("a/zeta.yaml", "mytask", "from a, second by file name");
	task("a/alpha.yaml", "mytask", "from a, first by file name");
	task("a/sst2.yaml", "sst2", "from a, over the shipped sst2");
	task("a/ignored.yml", "yml", "not a .yaml file");
	tree_write("a/notes.txt", "not a task\n");
	tree_write("a/broken.yaml", "name: [unclosed\n");
	task("b/mytask.yaml", "mytask", "from b");
	task("b/other.yaml", "other", "from b");
	char path[2200];
	snprintf(path, sizeof path, "%s/a:%s/b:%s/missing", tree_root, tree_root, tree_root);
	setenv("BBTBENCH_TASKS_PATH", path, 1);
	task("xdg/bbtbench/tasks/mine.yaml", "mine", "per-user");
	task("xdg/bbtbench/tasks/other.yaml", "other", "per-user, after b");
	task("xdg/bbtbench/tasks/toy.yaml", "toy", "per-user, after the source tree");
	setenv("XDG_DATA_HOME", tree_path("xdg"), 1);

	bbt_catalog_t *cat = bbt_catalog_load();
	ok(cat != NULL, "catalog loads (a folder that does not exist is no error)");
	if (cat == NULL)
		skip_all("no catalog");
	ok(cat->n >= 3, "at least the three task names of the two folders (%zu)", cat->n);
	is_string(cat->tasks[0]->name, "mytask", "folder a first, alpha.yaml before sst2.yaml");
	is_string(cat->tasks[0]->description, "from a, first by file name",
	          "of one name in one folder, the first file by name is kept");
	is_string(cat->tasks[1]->name, "sst2", "then a's sst2");
	is_string(cat->tasks[2]->name, "other", "then folder b's new name");
	is_int((long long)count_named(cat, "mytask"), 1, "mytask once: b's left out");
	is_int((long long)count_named(cat, "sst2"), 1, "sst2 once");
	is_string(named(cat, "sst2") ? named(cat, "sst2")->description : NULL,
	          "from a, over the shipped sst2", "a task path folder wins over tasks/");
	like(cat->tasks[1]->path, "/a/sst2.yaml", "the task remembers its file");
	ok(named(cat, "yml") == NULL, "a .yml file is not read");
	if (bbt_build_srcdir() != NULL)
		ok(named(cat, "toy") != NULL && count_named(cat, "toy") == 1,
		   "the source tree's tasks follow: toy, once");
	else
		skip(1, "not run from the build tree");
	const bbt_task_t *mine = named(cat, "mine");
	ok(mine != NULL, "a task in $XDG_DATA_HOME/bbtbench/tasks is found");
	like(mine ? mine->path : NULL, "/xdg/bbtbench/tasks/mine.yaml", "from that folder");
	is_string(named(cat, "other") ? named(cat, "other")->description : NULL, "from b",
	          "a task path folder wins over the per-user folder");
	if (bbt_build_srcdir() != NULL)
		ok(named(cat, "toy") && strcmp(named(cat, "toy")->description, "per-user, after the "
		                                                               "source tree") != 0,
		   "the source tree's toy wins over the per-user one");
	else
		skip(1, "not run from the build tree");
	const char *dirs[20];
	size_t nd = bbt_task_dirs(dirs, 20);
	like(nd >= 2 ? dirs[nd - 2] : NULL, "/xdg/bbtbench/tasks",
	     "the per-user folder is searched just before the installed one");
	is_int((long long)cat->n_bad, 1, "one file did not load");
	like(cat->n_bad ? cat->bad[0] : NULL, "/a/broken.yaml", "its message names it");

	/* Names are unique. */
	int unique = 1;
	for (size_t i = 0; i < cat->n; i++)
		unique &= count_named(cat, cat->tasks[i]->name) == 1;
	ok(unique, "every task name once");
	bbt_catalog_free(cat);
	bbt_catalog_free(NULL);

	/* A missing task, explained. */
	char err[BBT_ERRLEN] = "task 'sts2' not found";
	bbt_catalog_explain_missing("sts2", err, sizeof err);
	like(err, "task 'sts2' not found; did you mean 'sst2'?", "the nearest name suggested");
	like(err, "? (tasks: mytask, sst2, other", "then every task, in catalog order");
	ok(err[strlen(err) - 1] == ')', "the list closed");
	snprintf(err, sizeof err, "task 'qqqqqqqqqq' not found");
	bbt_catalog_explain_missing("qqqqqqqqqq", err, sizeof err);
	ok(strstr(err, "did you mean") == NULL, "no suggestion for a name near nothing");
	like(err, "task 'qqqqqqqqqq' not found (tasks: mytask,", "the list still given");

	char small[24] = "no task 'x'";
	memset(small + 12, 'Z', sizeof small - 12);   /* a canary after the room */
	small[12] = '\0';
	bbt_catalog_explain_missing("x", small, 16);
	ok(strlen(small) == 15 && small[16] == 'Z', "a short buffer: cut, terminated, not overrun");
	bbt_catalog_explain_missing("x", NULL, 0);
	ok(1, "no buffer: nothing written, no crash");

	tree_remove();
	return done_testing();
}
