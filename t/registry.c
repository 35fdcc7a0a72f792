/*
 * t/registry.c - plugin discovery order, ABI refusal, modules that are not
 * plugins, duplicate names, drop-in modules; a run opens only the file
 * named for the plugin it asks for; folders and files others can write are
 * refused; a missing name gets a suggestion or configure's reason.
 */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/registry.h"
#include "tap.h"
#include "core/util.h"

static char dir[] = "/tmp/bbt-registry-XXXXXX";

/* Copy a freshly built test module's .so into folder `to` as AS.so. */
static int copy_module_as(const char *builddir, const char *name, const char *to,
                          const char *as)
{
	char *src = bbt_asprintf("%s/t/plugins/.libs/%s.so", builddir, name);
	char *dst = bbt_asprintf("%s/%s.so", to, as);
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

static int copy_module(const char *builddir, const char *name)
{
	return copy_module_as(builddir, name, dir, name);
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

static int origin_of(bbt_registry_t *reg, enum bbt_plugin_kind kind, const char *name,
                     const char *origin, const char *in)
{
	char err[BBT_ERRLEN];
	const struct bbt_plugin_entry *e = bbt_registry_find(reg, kind, name, err, sizeof err);
	if (e == NULL)
		diag("%s", err);
	else if (strcmp(e->dir_origin, origin) != 0 || strstr(e->path, in) == NULL)
		diag("found %s (%s)", e->path, e->dir_origin);
	return e != NULL && strcmp(e->dir_origin, origin) == 0 && strstr(e->path, in) != NULL;
}

/* Modules dropped into the build tree's top-level plugins/ folder and into
 * the per-user folder are found with no rebuild, under the loader's rules. */
static void per_user_and_drop_in(const char *builddir)
{
	char *tree = bbt_asprintf("%s/tree", dir), *tree_plugins = bbt_asprintf("%s/plugins", tree);
	char *xdg = bbt_asprintf("%s/xdg", dir), *home = bbt_asprintf("%s/home", dir);
	char *user = bbt_asprintf("%s/bbtbench/plugins", xdg);
	char *home_user = bbt_asprintf("%s/.local/share/bbtbench/plugins", home);
	char err[BBT_ERRLEN];
	ok(bbt_mkdir_p(tree_plugins, err, sizeof err) == 0 && bbt_mkdir_p(user, err, sizeof err) == 0 &&
	   bbt_mkdir_p(home_user, err, sizeof err) == 0 && chmod(tree_plugins, 0700) == 0 &&
	   chmod(user, 0700) == 0 && chmod(home_user, 0700) == 0 &&
	   copy_module_as(builddir, "extra", tree_plugins, "optimizer_extra") == 0 &&
	   copy_module_as(builddir, "extra", user, "optimizer_extra") == 0 &&
	   copy_module_as(builddir, "dup_random", user, "optimizer_random") == 0 &&
	   copy_module_as(builddir, "extra", home_user, "optimizer_extra") == 0,
	   "a build tree's plugins/, $XDG_DATA_HOME/bbtbench/plugins and "
	   "~/.local/share/bbtbench/plugins, each with a module dropped in");

	bbt_registry_t *reg = bbt_registry_alloc();
	bbt_registry_add_build_tree(reg, tree);
	bbt_registry_scan(reg);
	ok(origin_of(reg, BBT_PLUGIN_OPTIMIZER, "extra", "build tree", "/tree/plugins/optimizer_extra.so"),
	   "a module in the build tree's top-level plugins/ is found");
	bbt_registry_free(reg);

	setenv("XDG_DATA_HOME", xdg, 1);
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);
	ok(origin_of(reg, BBT_PLUGIN_OPTIMIZER, "extra", "per-user", "/xdg/bbtbench/plugins/"),
	   "a module in $XDG_DATA_HOME/bbtbench/plugins is found");
	ok(origin_of(reg, BBT_PLUGIN_OPTIMIZER, "random", "build tree", "plugins/optimizers/random/"),
	   "the plugins just built come before the per-user folder");
	ok(has_problem(reg, "/xdg/bbtbench/plugins/optimizer_random.so", "already provided by"),
	   "and a per-user module of a taken name is reported and skipped");
	bbt_registry_free(reg);

	chmod(user, 0777);
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	ok(has_problem(reg, user, "refused: this plugin folder is writable by others"),
	   "a per-user folder others can write is refused");
	ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "extra", err, sizeof err) == NULL,
	   "and its modules are not opened");
	bbt_registry_free(reg);
	chmod(user, 0700);

	setenv("XDG_DATA_HOME", "relative/xdg", 1);   /* invalid by the XDG spec: ignored */
	setenv("HOME", home, 1);
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	ok(origin_of(reg, BBT_PLUGIN_OPTIMIZER, "extra", "per-user",
	             "/home/.local/share/bbtbench/plugins/"),
	   "without an absolute XDG_DATA_HOME, ~/.local/share/bbtbench/plugins");
	bbt_registry_free(reg);

	setenv("HOME", dir, 1);   /* no per-user folder there */
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	is_int((long long)bbt_registry_problem_count(reg), 0, "a missing per-user folder is no problem");
	bbt_registry_free(reg);

	const char *const files[] = { "tree/plugins/optimizer_extra.so",
		"xdg/bbtbench/plugins/optimizer_extra.so", "xdg/bbtbench/plugins/optimizer_random.so",
		"home/.local/share/bbtbench/plugins/optimizer_extra.so" };
	const char *const dirs[] = { "tree/plugins", "tree", "xdg/bbtbench/plugins", "xdg/bbtbench",
		"xdg", "home/.local/share/bbtbench/plugins", "home/.local/share/bbtbench",
		"home/.local/share", "home/.local", "home" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *p = bbt_asprintf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char *p = bbt_asprintf("%s/%s", dir, dirs[i]);
		rmdir(p);
		free(p);
	}
	free(tree);
	free(tree_plugins);
	free(xdg);
	free(home);
	free(user);
	free(home_user);
}

int main(void)
{
	const char *builddir = getenv("top_builddir");
	if (builddir == NULL)
		skip_all("top_builddir is not set (run through make check)");
	if (mkdtemp(dir) == NULL)
		skip_all("cannot make a temporary folder");
	plan(45);
	unsetenv("BBTBENCH_PLUGIN_PATH");
	/* No per-user folder but the ones made below. */
	char *no_user = bbt_asprintf("%s/no-such-xdg", dir);
	setenv("XDG_DATA_HOME", no_user, 1);
	free(no_user);
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
	ok(strstr(err, "no optimizer plugin named 'cmaes-x'; did you mean 'cmaes'? (found: ") !=
	           NULL && strstr(err, "random") != NULL,
	   "message suggests the nearest name and lists what was found (%s)", err);
	ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "CMAES", err, sizeof err) == NULL &&
	           strstr(err, "did you mean 'cmaes'?") != NULL,
	   "names are exact; another case is a suggestion (%s)", err);
	ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "zo_adam", err, sizeof err) == NULL &&
	           strstr(err, "did you mean 'zo-adam'?") != NULL,
	   "'_' for '-' is a suggestion (%s)", err);
	ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "../random/optimizer_random", err,
	                     sizeof err) == NULL, "a name is never a path");
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

	unsetenv("BBTBENCH_PLUGIN_PATH");

	static const char *const names[] = { "bad_abi", "not_plugin", "dup_random", "extra" };
	for (size_t i = 0; i < 4; i++) {
		char *p = bbt_asprintf("%s/%s.so", dir, names[i]);
		unlink(p);
		free(p);
	}

	/* Lookup by file name: a folder holding the plugin asked for, another
	 * plugin, and a module whose constructor leaves a marker, once under
	 * a plugin's file name and once under another name. */
	char *marker = bbt_asprintf("%s/marker", dir);
	setenv("BBT_TEST_MARKER", marker, 1);
	ok(copy_module_as(builddir, "dup_random", dir, "optimizer_random") == 0 &&
	   copy_module_as(builddir, "extra", dir, "optimizer_extra") == 0 &&
	   copy_module_as(builddir, "marker", dir, "optimizer_marker") == 0 &&
	   copy_module_as(builddir, "marker", dir, "marker") == 0,
	   "plugin folder: optimizer_random.so, optimizer_extra.so, two markers");
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, dirs, 1);
	e = bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "random", err, sizeof err);
	ok(e != NULL && strstr(e->path, "/optimizer_random.so") != NULL && e->named_for_lookup,
	   "find opens the file named for the plugin, first folder first");
	ok(bbt_registry_find(reg, BBT_PLUGIN_BACKEND, "synthetic", err, sizeof err) != NULL,
	   "and the next folders for another name");
	is_int((long long)bbt_registry_count(reg), 2, "only the two modules asked for are open");
	ok(access(marker, F_OK) != 0, "no other module's code ran");
	ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "random", err, sizeof err) == e,
	   "a second find reuses the open module");
	ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "nonesuch", err, sizeof err) == NULL &&
	           strstr(err, "extra") != NULL,
	   "a missing name lists the optimizer_* plugins (%s)", err);
	bbt_registry_free(reg);
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, dirs, 1);
	bbt_registry_scan(reg);
	ok(access(marker, F_OK) == 0, "a scan (bbtbench list) opens every module");
	e = bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "extra", err, sizeof err);
	ok(e != NULL && e->named_for_lookup, "a plugin under its own file name is findable");
	bbt_registry_free(reg);
	unlink(marker);

	/* Code others can replace is refused: the folder, then a file. */
	chmod(dir, 0777);
	reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, dirs, 1);
	ok(has_problem(reg, dir, "refused: this plugin folder is writable by others (mode 0777)"),
	   "a world-writable folder is refused when it is added");
	e = bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "random", err, sizeof err);
	ok(e != NULL && strstr(e->path, dir) == NULL, "and not searched");
	bbt_registry_free(reg);
	chmod(dir, 0700);
	char *extra = bbt_asprintf("%s/optimizer_extra.so", dir);
	chmod(extra, 0664);
	if (chown(extra, (uid_t)-1, 65534) != 0) {   /* nogroup: not the owner's own group */
		skip(2, "cannot give a file to group 65534 here");
	} else {
		reg = bbt_registry_alloc();
		bbt_registry_add_default_dirs(reg, dirs, 1);
		ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "extra", err, sizeof err) == NULL,
		   "a module file writable by another group is not opened");
		like(err, "optimizer_extra.so: refused: this plugin file is writable by others",
		     "the message names the file and why");
		bbt_registry_free(reg);
	}
	/* The owner's private group (umask 002 on Debian) is the owner. */
	const struct passwd *me = getpwuid(geteuid());
	const struct group *mine = me ? getgrgid(me->pw_gid) : NULL;
	if (mine == NULL || strcmp(mine->gr_name, me->pw_name) != 0 || mine->gr_mem[0] != NULL ||
	    chown(extra, (uid_t)-1, me->pw_gid) != 0) {
		skip(1, "no user private group here");
	} else {
		reg = bbt_registry_alloc();
		bbt_registry_add_default_dirs(reg, dirs, 1);
		ok(bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "extra", err, sizeof err) != NULL,
		   "a module file writable by the owner's private group is opened (%s)", err);
		bbt_registry_free(reg);
	}
	free(extra);

	per_user_and_drop_in(builddir);

	/* A plugin configure left out says so, with configure's reason. */
	const char *skipped = BBT_SKIPPED_PLUGINS;
	if (skipped[0] == '\0') {
		skip(2, "configure skipped no plugin in this build");
	} else {
		char kind[32], name[64];
		sscanf(skipped, "%31s %63[^:]", kind, name);
		reg = bbt_registry_alloc();
		bbt_registry_add_default_dirs(reg, NULL, 0);
		bbt_registry_find(reg, strcmp(kind, "backend") == 0 ? BBT_PLUGIN_BACKEND
		                                                    : BBT_PLUGIN_OPTIMIZER,
		                  name, err, sizeof err);
		like(err, "this build has none, configure skipped it (", "a skipped plugin says why");
		like(err, "README.md", "and where to read how to build it");
		bbt_registry_free(reg);
	}

	static const char *const lookup[] = { "optimizer_random", "optimizer_extra",
	                                      "optimizer_marker", "marker" };
	for (size_t i = 0; i < 4; i++) {
		char *p = bbt_asprintf("%s/%s.so", dir, lookup[i]);
		unlink(p);
		free(p);
	}
	free(marker);
	rmdir(dir);
	return done_testing();
}
