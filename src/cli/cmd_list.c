/*
 * cmd_list.c - `bbtbench list`: the plugins found, the modules skipped,
 * the tasks and the BLAS in use.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/blas.h"
#include "core/log.h"
#include "core/util.h"
#include "data/catalog.h"
#include "plugin/registry.h"
#include "core/paths.h"

/* getopt value of list's own option, after the shared ones. */
enum { OPT_OPTIONS = BBT_CLI_OPT_PLUGIN_DIR + 1 };

static void list_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench list [--options] [--plugin-dir DIR]...\n"
	        "List the plugins found (kind, name, ABI, file), any module that was skipped\n"
	        "and why, the tasks, and the BLAS in use.\n\n"
	        "      --options          also list each plugin's options and defaults\n"
	        "      --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
	        "  -h, --help             this help\n\n"
	        "Plugin folders, searched in this order (the first plugin of a name wins):\n"
	        "  --plugin-dir DIR, then $BBTBENCH_PLUGIN_PATH (colon-separated);\n"
	        "  in a build tree, its plugins/KIND/NAME/ folders, then plugins/ itself;\n"
	        "  the per-user folder $XDG_DATA_HOME/bbtbench/plugins\n"
	        "    (default ~/.local/share/bbtbench/plugins);\n"
	        "  the installed PREFIX/lib/bbtbench, found beside the program's bin/.\n"
	        "Drop KIND_NAME.so into any of them: `list` shows it, no rebuild needed.\n"
	        "Task folders, in the same way: $BBTBENCH_TASKS_PATH, the source tree's tasks/\n"
	        "  in a build tree, the per-user $XDG_DATA_HOME/bbtbench/tasks (default\n"
	        "  ~/.local/share/bbtbench/tasks), PREFIX/share/bbtbench/tasks.\n");
}

static const char *type_name(enum bbt_option_type t)
{
	switch (t) {
	case BBT_OPT_INT: return "int";
	case BBT_OPT_DOUBLE: return "number";
	case BBT_OPT_BOOL: return "bool";
	case BBT_OPT_STRING: return "text";
	case BBT_OPT_CHOICE: return "choice";
	}
	return "?";
}

/* What a plugin can do with gradients, for `list`; NULL: nothing to say. */
static const char *capabilities(const struct bbt_plugin *d)
{
	if (d->kind == BBT_PLUGIN_BACKEND && (d->flags & BBT_BACKEND_NO_CONTINUOUS))
		return "text only: discrete prompts and baselines, no continuous prompt";
	if (d->kind == BBT_PLUGIN_BACKEND)
		return bbt_plugin_backend_gradient(d)
		               ? "gradients: yes (white-box optimizers such as adam, --grad-check)"
		               : "gradients: no (black-box optimizers only)";
	if (d->flags & BBT_OPTIMIZER_WANTS_GRADIENT)
		return "white-box: needs a backend with gradients";
	if (d->flags & BBT_OPTIMIZER_CATEGORICAL)
		return "discrete prompts (categorical search space)";
	if (bbt_plugin_gradient_estimate(d))
		return "estimates gradients: --grad-check compares them with the true ones";
	return NULL;
}

static void list_plugins(const bbt_registry_t *reg, int with_options)
{
	printf("Plugins:\n");
	size_t n = bbt_registry_count(reg);
	for (int kind = BBT_PLUGIN_OPTIMIZER; kind <= BBT_PLUGIN_BACKEND; kind++) {
		for (size_t i = 0; i < n; i++) {
			const struct bbt_plugin_entry *e = bbt_registry_entry(reg, i);
			const struct bbt_plugin *d = e->desc;
			if ((int)d->kind != kind)
				continue;
			printf("  %-9s  %-12s ABI %u.%u  %s\n", bbt_plugin_kind_name(d->kind), d->name,
			       (unsigned)d->abi_major, (unsigned)d->abi_minor,
			       d->description ? d->description : "");
			printf("  %-9s  %-12s %s (%s)\n", "", "", e->path, e->dir_origin);
			if (!e->named_for_lookup)
				printf("  %-9s  %-12s only `list` sees it: a run opens files named "
				       "%s_NAME.so\n", "", "", bbt_plugin_kind_name(d->kind));
			const char *caps = capabilities(d);
			if (caps != NULL)
				printf("  %-9s  %-12s %s\n", "", "", caps);
			for (const struct bbt_option_spec *s = d->options;
			     with_options && s != NULL && s->name != NULL; s++)
				printf("  %-9s  %-12s   %s=%s (%s%s%s) %s\n", "", "", s->name,
				       s->def ? s->def : "", type_name(s->type), s->choices ? ": " : "",
				       s->choices ? s->choices : "", s->help ? s->help : "");
		}
	}
	if (n == 0)
		printf("  (none)\n");
	if (bbt_registry_problem_count(reg) > 0) {
		printf("\nSkipped modules:\n");
		for (size_t i = 0; i < bbt_registry_problem_count(reg); i++)
			printf("  %s\n", bbt_registry_problem(reg, i));
	}
	printf("\nPlugin search path (first found wins):\n");
	for (size_t i = 0; i < bbt_registry_dir_count(reg); i++)
		printf("  %s (%s%s)\n", bbt_registry_dir(reg, i), bbt_registry_dir_origin(reg, i),
		       bbt_registry_dir_usable(reg, i)               ? ""
		       : access(bbt_registry_dir(reg, i), F_OK) != 0 ? "; absent"
		                                                     : "; refused, see above");
}


static void list_tasks(void)
{
	bbt_catalog_t *cat = bbt_catalog_load();
	if (cat == NULL) {
		bbt_log(BBT_LOG_ERROR, NULL, "out of memory");
		return;
	}
	printf("\nTasks:\n");
	for (size_t i = 0; i < cat->n; i++)
		printf("  %-10s %-48s %s\n", cat->tasks[i]->name,
		       cat->tasks[i]->description ? cat->tasks[i]->description : "",
		       cat->tasks[i]->path);
	for (size_t i = 0; i < cat->n_bad; i++)
		printf("  (skipped) %s\n", cat->bad[i]);
	bbt_catalog_free(cat);

	const char *dirs[20];
	size_t nd = bbt_task_dirs(dirs, 20);
	printf("\nTask search path:\n");
	for (size_t d = 0; d < nd; d++)
		printf("  %s\n", dirs[d]);
}

int bbt_cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "options", no_argument, NULL, OPT_OPTIONS },
		BBT_CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct bbt_cli_common common = { 0 };
	int with_options = 0, opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:qvh", longopts, NULL)) != -1) {
		int c = bbt_cli_common_option(&common, opt, optarg);
		if (c < 0)
			return BBT_EXIT_USAGE;
		if (c > 0)
			continue;
		if (opt == OPT_OPTIONS) {
			with_options = 1;
		} else if (opt == 'h') {
			list_usage(stdout);
			return BBT_EXIT_OK;
		} else {
			bbt_log_unknown_option("list", argv[optind - 1], longopts);
			return BBT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		bbt_log(BBT_LOG_ERROR, NULL, "list: unexpected argument '%s'", argv[optind]);
		return BBT_EXIT_USAGE;
	}
	bbt_registry_t *reg = bbt_cli_open_registry(&common);
	if (reg == NULL)
		return BBT_EXIT_FAILED;
	bbt_registry_scan(reg);
	list_plugins(reg, with_options);
	list_tasks();
	putchar('\n');
	bbt_blas_print_header(stdout);
	bbt_registry_free(reg);
	return BBT_EXIT_OK;
}
