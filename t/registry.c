/*
 * t/registry.c - plugin discovery order, ABI refusal, modules that are not
 * plugins, duplicate names, drop-in modules.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/bbt-registry-XXXXXX";

/* Copy a freshly built test module's .so into the temporary folder. */
static int copy_module(const char *builddir, const char *name)
{
	char *src = bbt_asprintf("%s/t/plugins/.libs/%s.so", builddir, name);
	char *dst = bbt_asprintf("%s/%s.so", dir, name);
	char *data = NULL;
	size_t len;
	int rc = bbt_file_read(src, &data, &len, NULL, 0);
	if (rc == BBT_OK)
		rc = bbt_file_write_atomic(dst, data, len, NULL, 0);
	free(data);
	free(src);
	free(dst);
	return rc;
}

static int has_problem(const bbt_registry_t *reg, const char *a, const char *b)
{
	for (size_t i = 0; i < bbt_registry_problem_count(reg); i++) {
		const char *p = bbt_registry_problem(reg, i);
		if (strstr(p, a) && strstr(p, b))
			return 1;
	}
	return 0;
}

int main(void)
{
	const char *builddir = getenv("top_builddir");
	if (builddir == NULL)
		skip_all("top_builddir is not set (run through make check)");
	if (mkdtemp(dir) == NULL)
		skip_all("cannot make a temporary folder");
	plan(17);
	unsetenv("BBTBENCH_PLUGIN_PATH");
	char err[BBT_ERRLEN];

	ok(bbt_build_tree() != NULL, "test program is recognised as running in the build tree");

	/* Build tree only: the project's plugins, no problems. */
	bbt_registry_t *reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);
	const struct bbt_plugin_entry *e =
		bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "random", err, sizeof err);
	ok(e != NULL && strstr(e->path, "plugins/optimizers/random/") != NULL,
	   "random found in the build tree without installing");
	ok(bbt_registry_find(reg, BBT_PLUGIN_BACKEND, "synthetic", err, sizeof err) != NULL,
	   "synthetic backend found");
	ok(bbt_registry_find(reg, BBT_PLUGIN_BACKEND, "random", err, sizeof err) == NULL,
	   "kinds are separate name spaces");
	ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "cmaes-x", err, sizeof err) == NULL,
	   "unknown name not found");
	/* Other optimizers may sort before random in the list. */
	ok(strstr(err, "no optimizer plugin named 'cmaes-x' (found: ") != NULL &&
	   strstr(err, "random") != NULL, "message lists what was found (%s)", err);
	is_int((long long)bbt_registry_problem_count(reg), 0, "no problems in the build tree");

	/* Loading the real random a second time: a duplicate name. */
	char *rpath = bbt_strdup(e->path);
	is_int(bbt_registry_load(reg, rpath, "test", err, sizeof err), BBT_EINVAL,
	       "a second plugin with a taken name is refused");
	like(err, "optimizer 'random' is already provided by", "naming the other file");
	free(rpath);
	bbt_registry_free(reg);

	/* A plugin folder given first, holding a wrong ABI, a module that is no
	 * plugin, a second "random" and a working drop-in. */
	ok(copy_module(builddir, "bad_abi") == 0 && copy_module(builddir, "not_plugin") == 0 &&
	   copy_module(builddir, "dup_random") == 0 && copy_module(builddir, "extra") == 0,
	   "test modules copied into a plugin folder");
	const char *dirs[] = { dir };
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, dirs, 1);
	bbt_registry_scan(reg);
	char abi[64];
	snprintf(abi, sizeof abi, "plugin built for ABI %d.0, this bbtbench has ABI %d.%d",
	         BBT_ABI_MAJOR + 1, BBT_ABI_MAJOR, BBT_ABI_MINOR);
	ok(has_problem(reg, "bad_abi.so", abi), "wrong ABI refused, naming the file and both versions");
	ok(has_problem(reg, "not_plugin.so", "not a bbtbench plugin (no symbol 'bbt_plugin')"),
	   "a module without the descriptor refused, naming the file");
	e = bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "random", err, sizeof err);
	ok(e != NULL && strstr(e->path, "dup_random.so") != NULL,
	   "--plugin-dir is searched before the build tree");
	ok(has_problem(reg, "optimizer_random", "already provided by"),
	   "the later same-named plugin is reported and skipped");
	e = bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "extra", err, sizeof err);
	ok(e != NULL && strcmp(e->dir_origin, "--plugin-dir") == 0, "a dropped-in module appears");
	ok(bbt_registry_find(reg, BBT_PLUGIN_BACKEND, "synthetic", err, sizeof err) != NULL,
	   "the build tree is still searched");
	bbt_registry_free(reg);

	/* BBTBENCH_PLUGIN_PATH works the same way. */
	setenv("BBTBENCH_PLUGIN_PATH", dir, 1);
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);
	ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "extra", err, sizeof err) != NULL,
	   "BBTBENCH_PLUGIN_PATH folders are searched");
	bbt_registry_free(reg);

	static const char *const names[] = { "bad_abi", "not_plugin", "dup_random", "extra" };
	for (size_t i = 0; i < 4; i++) {
		char *p = bbt_asprintf("%s/%s.so", dir, names[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	return done_testing();
}
