/*
 * registry.c - plugin discovery and loading; the only file that uses
 * libltdl (lt_dlinit once per registry, modules opened with an advise of
 * "try extensions" + "local symbols", so every module's one exported
 * descriptor stays private to its handle).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <ltdl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/paths.h"
#include "plugin/registry.h"
#include "core/suggest.h"
#include "core/util.h"

struct search_dir {
	char *path;
	char *origin;
	int usable;              /* exists, is a folder, and only its owner can write it */
};

struct loaded {
	struct bbt_plugin_entry entry;
	lt_dlhandle handle;
};

struct bbt_registry {
	struct search_dir *dirs;
	size_t n_dirs;
	struct loaded **mods;    /* each its own allocation: entries handed out stay put
	                            while later finds open more modules */
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
		lt_dlclose(reg->mods[i]->handle);
		free(reg->mods[i]->entry.path);
		free(reg->mods[i]->entry.dir_origin);
		free(reg->mods[i]);
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

static void add_problem(bbt_registry_t *reg, const char *msg)
{
	for (size_t i = 0; i < reg->n_problems; i++)
		if (strcmp(reg->problems[i], msg) == 0)
			return;   /* a file looked at twice (by name, then by a scan) */
	char **p = realloc(reg->problems, (reg->n_problems + 1) * sizeof *p);
	if (p == NULL)
		return;
	reg->problems = p;
	if ((p[reg->n_problems] = bbt_strdup(msg)) != NULL)
		reg->n_problems++;
}

/* Whether a file's group is its owner's own: a user private group (the
 * owner's primary group, of the owner's name, with no other members), as
 * Debian and Ubuntu give every user with umask 002. Writable by that group
 * is writable by the owner alone; Debian's OpenSSH makes the same
 * exception. */
static int owners_private_group(const struct stat *st)
{
	const struct passwd *pw = getpwuid(st->st_uid);
	const struct group *gr = getgrgid(st->st_gid);
	if (pw == NULL || gr == NULL || pw->pw_gid != st->st_gid ||
	    strcmp(pw->pw_name, gr->gr_name) != 0)
		return 0;
	for (char *const *member = gr->gr_mem; *member != NULL; member++)
		if (strcmp(*member, pw->pw_name) != 0)
			return 0;
	return 1;
}

/* Code that someone other than the caller (or root) can replace is not
 * loaded, as ssh will not use such a key: the file or folder must not be
 * world-writable, nor group-writable unless the group is the owner's
 * private one, and must belong to the caller or root. */
static int check_private(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return bbt_error(err, errlen, BBT_EIO, "%s: cannot read %s: %s", path, what,
		                 strerror(errno));
	if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && !owners_private_group(&st)))
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: refused: this plugin %s is writable by others (mode %04o), "
		                 "so anyone could plant code in it; chmod go-w %s",
		                 path, what, (unsigned)(st.st_mode & 07777), path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "%s: refused: this plugin %s belongs to user %u, not to you or root",
		                 path, what, (unsigned)st.st_uid);
	return BBT_OK;
}

/* Folders that need not exist: nothing installed yet, no per-user
 * plugins, nothing dropped in. */
static int may_be_missing(const char *origin)
{
	return strcmp(origin, "installed") == 0 || strcmp(origin, "per-user") == 0 ||
	       strcmp(origin, "build tree") == 0;
}

/* A folder is searched only when it is a folder that check_private
 * accepts; the others are reported (a missing pkglibdir or per-user
 * folder is normal and is not). */
static int folder_usable(bbt_registry_t *reg, const char *dir, const char *origin)
{
	char err[BBT_ERRLEN];
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || !may_be_missing(origin)) {
			snprintf(err, sizeof err, "%s (%s): cannot read folder: %s", dir, origin,
			         strerror(errno));
			add_problem(reg, err);
		}
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, sizeof err, "%s (%s): not a folder", dir, origin);
		add_problem(reg, err);
		return 0;
	}
	if (check_private(dir, "folder", err, sizeof err) < 0) {
		add_problem(reg, err);
		return 0;
	}
	return 1;
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
	d[reg->n_dirs].usable = folder_usable(reg, dir, origin);
	reg->n_dirs++;
	return BBT_OK;
}

/* plugins/<kind>/<name>/ folders of the build tree, sorted, then its
 * top-level plugins/ folder, where a module can be dropped in. */
int bbt_registry_add_build_tree(bbt_registry_t *reg, const char *root)
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
	char *top = bbt_path_join(root, "plugins");
	int rc = top != NULL ? bbt_registry_add_dir(reg, top, "build tree") : BBT_ENOMEM;
	free(top);
	return rc;
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
		rc = bbt_registry_add_build_tree(reg, tree);
	char *user = bbt_paths_user_dir("plugins");
	if (user != NULL && rc == BBT_OK)
		rc = bbt_registry_add_dir(reg, user, "per-user");
	free(user);
	if (rc == BBT_OK)
		rc = bbt_registry_add_dir(reg, bbt_paths_pkglibdir(), "installed");
	return rc;
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
		const struct bbt_plugin_entry *e = &reg->mods[i]->entry;
		if (e->desc->kind == d->kind && strcmp(e->desc->name, d->name) == 0)
			return bbt_error(err, errlen, BBT_EINVAL,
			                 "%s: %s '%s' is already provided by %s; skipped", path,
			                 bbt_plugin_kind_name(d->kind), d->name, e->path);
	}
	return BBT_OK;
}

/* The file name (without extension) a plugin of that kind and name has:
 * KIND_NAME with '-' written '_' (optimizer_zo_adam for zo-adam), as
 * Makefile.am names the modules; NULL when the name could not be a file
 * name (empty, or with anything but letters, digits, '-' and '_'). */
static char *module_stem(enum bbt_plugin_kind kind, const char *name)
{
	if (name[0] == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                     "0123456789-_") != strlen(name))
		return NULL;
	char *stem = bbt_asprintf("%s_%s", bbt_plugin_kind_name(kind), name);
	for (char *c = stem; c != NULL && *c != '\0'; c++)
		if (*c == '-')
			*c = '_';
	return stem;
}

/* 1 when the module at path has the file name its descriptor calls for,
 * so that a run, which opens files by name, finds it. */
static int named_for(const char *path, const struct bbt_plugin *d)
{
	char *stem = module_stem(d->kind, d->name);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = stem ? strlen(stem) : 0;
	int match = stem != NULL && strncmp(base, stem, n) == 0 &&
	            (strcmp(base + n, ".la") == 0 || strcmp(base + n, ".so") == 0);
	free(stem);
	return match;
}

/* check_private for a module file and, for a libtool .la, the places
 * libltdl takes the shared object from (.libs/STEM.so beside it in a
 * build tree, STEM.so beside it when installed). */
static int check_module_files(const char *path, char *err, size_t errlen)
{
	int rc = check_private(path, "file", err, errlen);
	if (rc < 0 || !bbt_has_extension(path, ".la"))
		return rc;
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 1;
	const char *dir = slash ? path : ".", *base = slash ? slash + 1 : path;
	int stemlen = (int)strlen(base) - 3;
	char *libs = bbt_asprintf("%.*s/.libs", dirlen, dir);
	char *built = bbt_asprintf("%.*s/.libs/%.*s.so", dirlen, dir, stemlen, base);
	char *installed = bbt_asprintf("%.*s/%.*s.so", dirlen, dir, stemlen, base);
	const char *const others[] = { libs, built, installed };
	for (size_t i = 0; i < 3 && rc == BBT_OK; i++) {
		if (others[i] == NULL)
			rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		else if (access(others[i], F_OK) == 0)
			rc = check_private(others[i], i == 0 ? "folder" : "file", err, errlen);
	}
	free(libs);
	free(built);
	free(installed);
	return rc;
}

int bbt_registry_load(bbt_registry_t *reg, const char *path, const char *origin,
                      char *err, size_t errlen)
{
	int rc = check_module_files(path, err, errlen);
	if (rc < 0)
		return rc;
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
	rc = d == NULL ? bbt_error(err, errlen, BBT_EFORMAT,
	                           "%s: not a bbtbench plugin (no symbol '%s')", path,
	                           BBT_PLUGIN_SYMBOL)
	               : check_descriptor(reg, d, path, err, errlen);
	struct loaded **mods = rc == BBT_OK ? realloc(reg->mods, (reg->n_mods + 1) * sizeof *mods)
	                                    : NULL;
	if (mods != NULL)
		reg->mods = mods;
	struct loaded *m = mods != NULL ? calloc(1, sizeof *m) : NULL;
	if (rc == BBT_OK && m == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	if (rc != BBT_OK) {
		lt_dlclose(h);
		return rc;
	}
	mods[reg->n_mods] = m;
	m->handle = h;
	m->entry.desc = d;
	m->entry.path = bbt_strdup(path);
	m->entry.dir_origin = bbt_strdup(origin);
	m->entry.named_for_lookup = named_for(path, d);
	reg->n_mods++;
	return BBT_OK;
}

static int is_loaded(const bbt_registry_t *reg, const char *path)
{
	for (size_t i = 0; i < reg->n_mods; i++)
		if (reg->mods[i]->entry.path != NULL && strcmp(reg->mods[i]->entry.path, path) == 0)
			return 1;
	return 0;
}

/* Module files of one folder whose names start with prefix ("" for all):
 * every .so, and a .la only when no .so of the same stem stands beside it
 * (a build tree's, whose .so is in .libs/). An installed STEM.la names the
 * configure-time libdir, which libltdl tries first: opened through the
 * .la, a moved install would load the modules of the place it came from
 * (another version, or files the checks below never looked at), so the
 * .so beside it is opened itself. */
static void scan_dir(bbt_registry_t *reg, const struct search_dir *dir, const char *prefix)
{
	struct dirent **names = NULL;
	int n = scandir(dir->path, &names, NULL, alphasort);
	if (n < 0) {
		char msg[BBT_ERRLEN];
		snprintf(msg, sizeof msg, "%s (%s): cannot read folder: %s", dir->path, dir->origin,
		         strerror(errno));
		add_problem(reg, msg);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		int wanted = strncmp(name, prefix, strlen(prefix)) == 0;
		int take = wanted && bbt_has_extension(name, ".so");
		if (wanted && !take && bbt_has_extension(name, ".la")) {
			char *sopath = bbt_asprintf("%s/%.*s.so", dir->path, (int)strlen(name) - 3, name);
			take = sopath != NULL && access(sopath, F_OK) != 0;
			free(sopath);
		}
		char *path = take ? bbt_path_join(dir->path, name) : NULL;
		char err[BBT_ERRLEN];
		if (path != NULL && !is_loaded(reg, path) &&
		    bbt_registry_load(reg, path, dir->origin, err, sizeof err) < 0)
			add_problem(reg, err);
		free(path);
		free(names[i]);
	}
	free(names);
}

size_t bbt_registry_scan(bbt_registry_t *reg)
{
	for (size_t i = 0; i < reg->n_dirs; i++)
		if (reg->dirs[i].usable)
			scan_dir(reg, &reg->dirs[i], "");
	return reg->n_problems;
}

size_t bbt_registry_count(const bbt_registry_t *reg)
{
	return reg->n_mods;
}

const struct bbt_plugin_entry *bbt_registry_entry(const bbt_registry_t *reg, size_t i)
{
	return i < reg->n_mods ? &reg->mods[i]->entry : NULL;
}

size_t bbt_registry_problem_count(const bbt_registry_t *reg)
{
	return reg->n_problems;
}

const char *bbt_registry_problem(const bbt_registry_t *reg, size_t i)
{
	return i < reg->n_problems ? reg->problems[i] : NULL;
}

void bbt_registry_warn_problems(const bbt_registry_t *reg)
{
	for (size_t i = 0; reg != NULL && i < reg->n_problems; i++)
		bbt_log(BBT_LOG_WARNING, NULL, "%s", reg->problems[i]);
}

size_t bbt_registry_dir_count(const bbt_registry_t *reg)
{
	return reg->n_dirs;
}

const char *bbt_registry_dir(const bbt_registry_t *reg, size_t i)
{
	return i < reg->n_dirs ? reg->dirs[i].path : NULL;
}

const char *bbt_registry_dir_origin(const bbt_registry_t *reg, size_t i)
{
	return i < reg->n_dirs ? reg->dirs[i].origin : NULL;
}

int bbt_registry_dir_usable(const bbt_registry_t *reg, size_t i)
{
	return i < reg->n_dirs && reg->dirs[i].usable;
}

static const struct bbt_plugin_entry *find_loaded(const bbt_registry_t *reg,
                                                  enum bbt_plugin_kind kind, const char *name)
{
	for (size_t i = 0; i < reg->n_mods; i++) {
		const struct bbt_plugin_entry *e = &reg->mods[i]->entry;
		if (e->desc->kind == kind && strcmp(e->desc->name, name) == 0)
			return e;
	}
	return NULL;
}

/* dir/STEM.so, else dir/STEM.la, else NULL (.so first: see scan_dir). */
static char *module_in_dir(const char *dir, const char *stem)
{
	static const char *const exts[] = { ".so", ".la" };
	for (size_t i = 0; i < 2; i++) {
		char *path = bbt_asprintf("%s/%s%s", dir, stem, exts[i]);
		if (path == NULL || access(path, F_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

/* Why configure left the plugin out of this build ("libggml not found"),
 * from the list it wrote into config.h, or NULL when it did not. */
static char *skipped_by_configure(enum bbt_plugin_kind kind, const char *name)
{
	const char *kind_name = bbt_plugin_kind_name(kind);
	size_t lk = strlen(kind_name);
	for (const char *line = BBT_SKIPPED_PLUGINS; *line != '\0';) {
		const char *end = strchr(line, '\n'), *colon = strstr(line, ": ");
		if (end == NULL)
			end = line + strlen(line);
		if (colon != NULL && colon < end && strncmp(line, kind_name, lk) == 0 &&
		    line[lk] == ' ') {
			char *plugin = bbt_strndup(line + lk + 1, (size_t)(colon - line - lk - 1));
			int match = plugin != NULL && bbt_name_equiv(plugin, name);
			free(plugin);
			if (match)
				return bbt_strndup(line, (size_t)(end - line));
		}
		line = *end ? end + 1 : end;
	}
	return NULL;
}

/* The message for a plugin no folder provides: configure's reason when it
 * was not built, else a "did you mean" among the plugins of that kind,
 * which are loaded now to learn their names (every KIND_* file, never the
 * other modules). */
static void not_found(bbt_registry_t *reg, enum bbt_plugin_kind kind, const char *name,
                      char *err, size_t errlen)
{
	const char *kind_name = bbt_plugin_kind_name(kind);
	char *skipped = skipped_by_configure(kind, name);
	if (skipped != NULL) {
		bbt_error(err, errlen, BBT_ENOTFOUND,
		          "no %s plugin named '%s': this build has none, configure skipped it (%s); "
		          "README.md, section \"Plugins\", says how to build it",
		          kind_name, name, skipped);
		free(skipped);
		return;
	}
	char *prefix = bbt_asprintf("%s_", kind_name);
	for (size_t i = 0; prefix != NULL && i < reg->n_dirs; i++)
		if (reg->dirs[i].usable)
			scan_dir(reg, &reg->dirs[i], prefix);
	free(prefix);

	const char *names[64];
	size_t n = 0;
	char found[256] = "";
	size_t len = 0;
	for (size_t i = 0; i < reg->n_mods; i++) {
		const struct bbt_plugin *d = reg->mods[i]->entry.desc;
		if (d->kind != kind)
			continue;
		if (n < sizeof names / sizeof names[0])
			names[n++] = d->name;
		int w = snprintf(found + len, sizeof found - len, "%s%s", len ? ", " : "", d->name);
		if (w > 0 && (size_t)w < sizeof found - len)
			len += (size_t)w;
	}
	const char *guess = bbt_suggest(name, names, n);
	char hint[128] = "";
	if (guess != NULL)
		snprintf(hint, sizeof hint, "; did you mean '%s'?", guess);
	bbt_error(err, errlen, BBT_ENOTFOUND,
	          "no %s plugin named '%s'%s (found: %s; searched %zu folders, see `bbtbench list`)",
	          kind_name, name, hint, len ? found : "none", reg->n_dirs);
}

const struct bbt_plugin_entry *bbt_registry_find(bbt_registry_t *reg, enum bbt_plugin_kind kind,
                                                 const char *name, char *err, size_t errlen)
{
	const struct bbt_plugin_entry *e = find_loaded(reg, kind, name);
	char *stem = e == NULL ? module_stem(kind, name) : NULL;
	for (size_t i = 0; e == NULL && stem != NULL && i < reg->n_dirs; i++) {
		char *path = reg->dirs[i].usable ? module_in_dir(reg->dirs[i].path, stem) : NULL;
		if (path == NULL)
			continue;
		/* The first file named for the plugin is the one asked for: when
		 * it fails to load, that is the answer (a later folder's file of
		 * the same name would silently stand in for it). */
		int rc = is_loaded(reg, path) ? BBT_OK
		                              : bbt_registry_load(reg, path, reg->dirs[i].origin, err,
		                                                  errlen);
		free(path);
		if (rc < 0) {
			free(stem);
			return NULL;
		}
		e = find_loaded(reg, kind, name);
	}
	free(stem);
	if (e == NULL)
		not_found(reg, kind, name, err, errlen);
	return e;
}

bbt_backend_gradient_fn bbt_plugin_backend_gradient(const struct bbt_plugin *desc)
{
	if (desc->kind != BBT_PLUGIN_BACKEND || desc->abi_minor < 1)
		return NULL;
	return desc->backend->gradient;
}

bbt_backend_hidden_fn bbt_plugin_backend_hidden_states(const struct bbt_plugin *desc)
{
	if (desc->kind != BBT_PLUGIN_BACKEND || desc->abi_minor < 2)
		return NULL;
	return desc->backend->hidden_states;
}

bbt_backend_transport_fn bbt_plugin_backend_transport(const struct bbt_plugin *desc)
{
	if (desc->kind != BBT_PLUGIN_BACKEND || desc->abi_minor < 3)
		return NULL;
	return desc->backend->transport;
}

bbt_gradient_estimate_fn bbt_plugin_gradient_estimate(const struct bbt_plugin *desc)
{
	if (desc->kind != BBT_PLUGIN_OPTIMIZER || desc->abi_minor < 1)
		return NULL;
	return desc->optimizer->gradient_estimate;
}

int bbt_plugin_saves_state(const struct bbt_plugin *desc)
{
	return desc->kind == BBT_PLUGIN_OPTIMIZER && desc->abi_minor >= 3 &&
	       desc->optimizer->save_state != NULL && desc->optimizer->load_state != NULL;
}
