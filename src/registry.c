/*
 * registry.c - plugin discovery and loading; the only file that uses
 * libltdl (lt_dlinit once per registry, modules opened with an advise of
 * "try extensions" + "local symbols", so every module's one exported
 * descriptor stays private to its handle).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <ltdl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "registry.h"
#include "util.h"

struct search_dir {
	char *path;
	char *origin;
};

struct loaded {
	struct bbt_plugin_entry entry;
	lt_dlhandle handle;
};

struct bbt_registry {
	struct search_dir *dirs;
	size_t n_dirs;
	struct loaded *mods;
	size_t n_mods;
	char **problems;
	size_t n_problems;
};

const char *bbt_plugin_kind_name(enum bbt_plugin_kind kind)
{
	switch (kind) {
	case BBT_PLUGIN_OPTIMIZER: return "optimizer";
	case BBT_PLUGIN_BACKEND: return "backend";
	}
	return "unknown";
}

bbt_registry_t *bbt_registry_alloc(void)
{
	if (lt_dlinit() != 0) {
		bbt_log(BBT_LOG_ERROR, NULL, "cannot start libltdl: %s", lt_dlerror());
		return NULL;
	}
	bbt_registry_t *reg = calloc(1, sizeof *reg);
	if (reg == NULL)
		lt_dlexit();
	return reg;
}

void bbt_registry_free(bbt_registry_t *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->n_mods; i++) {
		lt_dlclose(reg->mods[i].handle);
		free(reg->mods[i].entry.path);
		free(reg->mods[i].entry.dir_origin);
	}
	for (size_t i = 0; i < reg->n_dirs; i++) {
		free(reg->dirs[i].path);
		free(reg->dirs[i].origin);
	}
	for (size_t i = 0; i < reg->n_problems; i++)
		free(reg->problems[i]);
	free(reg->mods);
	free(reg->dirs);
	free(reg->problems);
	free(reg);
	lt_dlexit();
}

int bbt_registry_add_dir(bbt_registry_t *reg, const char *dir, const char *origin)
{
	for (size_t i = 0; i < reg->n_dirs; i++)
		if (strcmp(reg->dirs[i].path, dir) == 0)
			return BBT_OK;
	struct search_dir *d = realloc(reg->dirs, (reg->n_dirs + 1) * sizeof *d);
	if (d == NULL)
		return BBT_ENOMEM;
	reg->dirs = d;
	d[reg->n_dirs].path = bbt_strdup(dir);
	d[reg->n_dirs].origin = bbt_strdup(origin);
	if (d[reg->n_dirs].path == NULL || d[reg->n_dirs].origin == NULL) {
		free(d[reg->n_dirs].path);
		free(d[reg->n_dirs].origin);
		return BBT_ENOMEM;
	}
	reg->n_dirs++;
	return BBT_OK;
}

const char *bbt_build_tree(void)
{
	static char root[PATH_MAX];
	static int checked;
	if (checked)
		return root[0] ? root : NULL;
	checked = 1;

	char exe[PATH_MAX], build[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0 || realpath(BBT_ABS_BUILDDIR, build) == NULL)
		return NULL;
	exe[n] = '\0';
	size_t len = strlen(build);
	if (strncmp(exe, build, len) == 0 && exe[len] == '/')
		memcpy(root, build, len + 1);
	return root[0] ? root : NULL;
}

/* plugins/<kind>/<name>/ folders of the build tree, sorted. */
static int add_build_tree_dirs(bbt_registry_t *reg, const char *root)
{
	static const char *const kinds[] = { "optimizers", "backends" };
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		char *kdir = bbt_asprintf("%s/plugins/%s", root, kinds[k]);
		if (kdir == NULL)
			return BBT_ENOMEM;
		struct dirent **names = NULL;
		int n = scandir(kdir, &names, NULL, alphasort);
		for (int i = 0; i < n; i++) {
			char *sub = names[i]->d_name[0] == '.' ? NULL
			            : bbt_asprintf("%s/%s", kdir, names[i]->d_name);
			struct stat st;
			if (sub != NULL && stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				bbt_registry_add_dir(reg, sub, "build tree");
			free(sub);
			free(names[i]);
		}
		free(names);
		free(kdir);
	}
	return BBT_OK;
}

int bbt_registry_add_default_dirs(bbt_registry_t *reg, const char *const *plugin_dirs, size_t n)
{
	int rc = BBT_OK;
	for (size_t i = 0; i < n && rc == BBT_OK; i++)
		rc = bbt_registry_add_dir(reg, plugin_dirs[i], "--plugin-dir");

	const char *env = getenv("BBTBENCH_PLUGIN_PATH");
	if (env != NULL && rc == BBT_OK) {
		char *copy = bbt_strdup(env), *save = NULL;
		if (copy == NULL)
			return BBT_ENOMEM;
		for (char *tok = strtok_r(copy, ":", &save); tok != NULL && rc == BBT_OK;
		     tok = strtok_r(NULL, ":", &save))
			rc = bbt_registry_add_dir(reg, tok, "BBTBENCH_PLUGIN_PATH");
		free(copy);
	}
	const char *tree = bbt_build_tree();
	if (tree != NULL && rc == BBT_OK)
		rc = add_build_tree_dirs(reg, tree);
	if (rc == BBT_OK)
		rc = bbt_registry_add_dir(reg, BBT_PKGLIBDIR, "installed");
	return rc;
}

static void add_problem(bbt_registry_t *reg, const char *msg)
{
	char **p = realloc(reg->problems, (reg->n_problems + 1) * sizeof *p);
	if (p == NULL)
		return;
	reg->problems = p;
	if ((p[reg->n_problems] = bbt_strdup(msg)) != NULL)
		reg->n_problems++;
}

static int check_descriptor(const bbt_registry_t *reg, const struct bbt_plugin *d,
                            const char *path, char *err, size_t errlen)
{
	if (d->abi_major != BBT_ABI_MAJOR || d->abi_minor > BBT_ABI_MINOR)
		return bbt_error(err, errlen, BBT_EABI,
		                 "%s: plugin built for ABI %u.%u, this bbtbench has ABI %d.%d", path,
		                 (unsigned)d->abi_major, (unsigned)d->abi_minor, BBT_ABI_MAJOR,
		                 BBT_ABI_MINOR);
	if (d->name == NULL || d->name[0] == '\0')
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: plugin has no name", path);
	int ops_ok = (d->kind == BBT_PLUGIN_OPTIMIZER && d->optimizer != NULL) ||
	             (d->kind == BBT_PLUGIN_BACKEND && d->backend != NULL);
	if (!ops_ok)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: plugin '%s' has kind %d and no matching function table", path,
		                 d->name, (int)d->kind);
	for (size_t i = 0; i < reg->n_mods; i++) {
		const struct bbt_plugin_entry *e = &reg->mods[i].entry;
		if (e->desc->kind == d->kind && strcmp(e->desc->name, d->name) == 0)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: %s '%s' is already provided by %s; skipped", path,
			                 bbt_plugin_kind_name(d->kind), d->name, e->path);
	}
	return BBT_OK;
}

int bbt_registry_load(bbt_registry_t *reg, const char *path, const char *origin,
                      char *err, size_t errlen)
{
	lt_dladvise advise;
	if (lt_dladvise_init(&advise) != 0)
		return bbt_error(err, errlen, BBT_EINTERNAL, "%s: libltdl: %s", path, lt_dlerror());
	lt_dladvise_ext(&advise);
	lt_dladvise_local(&advise);
	lt_dlhandle h = lt_dlopenadvise(path, advise);
	lt_dladvise_destroy(&advise);
	if (h == NULL)
		return bbt_error(err, errlen, BBT_EFORMAT, "%s: cannot load module: %s", path,
		                 lt_dlerror());

	const struct bbt_plugin *d = lt_dlsym(h, BBT_PLUGIN_SYMBOL);
	int rc = d == NULL ? bbt_error(err, errlen, BBT_EFORMAT,
	                               "%s: not a bbtbench plugin (no symbol '%s')", path,
	                               BBT_PLUGIN_SYMBOL)
	                   : check_descriptor(reg, d, path, err, errlen);
	struct loaded *mods = rc == BBT_OK ? realloc(reg->mods, (reg->n_mods + 1) * sizeof *mods)
	                                   : NULL;
	if (rc == BBT_OK && mods == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc != BBT_OK) {
		lt_dlclose(h);
		return rc;
	}
	reg->mods = mods;
	struct loaded *m = &mods[reg->n_mods];
	m->handle = h;
	m->entry.desc = d;
	m->entry.path = bbt_strdup(path);
	m->entry.dir_origin = bbt_strdup(origin);
	reg->n_mods++;
	return BBT_OK;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Module files of one folder: every .la, and a .so only when no .la of
 * the same stem stands beside it (libltdl opens the .so through the .la). */
static void scan_dir(bbt_registry_t *reg, const struct search_dir *dir)
{
	struct dirent **names = NULL;
	int n = scandir(dir->path, &names, NULL, alphasort);
	if (n < 0) {
		if (errno != ENOENT || strcmp(dir->origin, "installed") != 0) {
			char msg[BBT_ERRLEN];
			snprintf(msg, sizeof msg, "%s (%s): cannot read folder: %s", dir->path,
			         dir->origin, strerror(errno));
			add_problem(reg, msg);
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		int take = ends_with(name, ".la");
		if (!take && ends_with(name, ".so")) {
			char *la = bbt_strndup(name, strlen(name) - 3);
			char *lapath = la ? bbt_asprintf("%s/%s.la", dir->path, la) : NULL;
			take = lapath != NULL && access(lapath, F_OK) != 0;
			free(la);
			free(lapath);
		}
		if (take) {
			char *path = bbt_path_join(dir->path, name);
			char err[BBT_ERRLEN];
			if (path != NULL && bbt_registry_load(reg, path, dir->origin, err, sizeof err) < 0)
				add_problem(reg, err);
			free(path);
		}
		free(names[i]);
	}
	free(names);
}

size_t bbt_registry_scan(bbt_registry_t *reg)
{
	for (size_t i = 0; i < reg->n_dirs; i++)
		scan_dir(reg, &reg->dirs[i]);
	return reg->n_problems;
}

size_t bbt_registry_count(const bbt_registry_t *reg)
{
	return reg->n_mods;
}

const struct bbt_plugin_entry *bbt_registry_entry(const bbt_registry_t *reg, size_t i)
{
	return i < reg->n_mods ? &reg->mods[i].entry : NULL;
}

size_t bbt_registry_problem_count(const bbt_registry_t *reg)
{
	return reg->n_problems;
}

const char *bbt_registry_problem(const bbt_registry_t *reg, size_t i)
{
	return i < reg->n_problems ? reg->problems[i] : NULL;
}

size_t bbt_registry_dir_count(const bbt_registry_t *reg)
{
	return reg->n_dirs;
}

const char *bbt_registry_dir(const bbt_registry_t *reg, size_t i)
{
	return i < reg->n_dirs ? reg->dirs[i].path : NULL;
}

const struct bbt_plugin_entry *bbt_registry_find(const bbt_registry_t *reg,
                                                 enum bbt_plugin_kind kind, const char *name,
                                                 char *err, size_t errlen)
{
	char found[256] = "";
	size_t len = 0;
	for (size_t i = 0; i < reg->n_mods; i++) {
		const struct bbt_plugin_entry *e = &reg->mods[i].entry;
		if (e->desc->kind != kind)
			continue;
		if (strcmp(e->desc->name, name) == 0)
			return e;
		int w = snprintf(found + len, sizeof found - len, "%s%s", len ? ", " : "",
		                 e->desc->name);
		if (w > 0 && (size_t)w < sizeof found - len)
			len += (size_t)w;
	}
	bbt_error(err, errlen, BBT_ENOTFOUND,
	          "no %s plugin named '%s' (found: %s; searched %zu folders, see `bbtbench list`)",
	          bbt_plugin_kind_name(kind), name, len ? found : "none", reg->n_dirs);
	return NULL;
}

bbt_backend_gradient_fn bbt_plugin_backend_gradient(const struct bbt_plugin *desc)
{
	if (desc->kind != BBT_PLUGIN_BACKEND || desc->abi_minor < 1)
		return NULL;
	return desc->backend->gradient;
}

bbt_gradient_estimate_fn bbt_plugin_gradient_estimate(const struct bbt_plugin *desc)
{
	if (desc->kind != BBT_PLUGIN_OPTIMIZER || desc->abi_minor < 1)
		return NULL;
	return desc->optimizer->gradient_estimate;
}
