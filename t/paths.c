/*
 * t/paths.c - where bbtbench finds its own files: relative install
 * folders, the build-tree marker (in a made-up tree, so nothing depends on
 * where this tree was built), a moved install prefix, the per-user folder.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/paths.h"
#include "core/util.h"
#include "tap.h"

static char dir[] = "/tmp/bbt-paths-XXXXXX";

static void check_relative(const char *from, const char *to, const char *want)
{
	char *got = bbt_paths_relative(from, to);
	if (want == NULL)
		ok(got == NULL, "relative(%s, %s) refused", from, to);
	else
		is_string(got, want, "relative(%s, %s)", from, to);
	free(got);
}

static int write_file(const char *rel, const char *text)
{
	char *path = bbt_asprintf("%s/%s", dir, rel);
	int rc = path ? bbt_file_write_atomic(path, text, strlen(text), NULL, 0) : -1;
	free(path);
	return rc;
}

static int make_dir(const char *rel)
{
	char *path = bbt_asprintf("%s/%s", dir, rel);
	int rc = path ? bbt_mkdir_p(path, NULL, 0) : -1;
	free(path);
	return rc;
}

/* find_build_tree from dir/REL: 1 and the root and srcdir it names
 * (relative to dir), or 0. */
static int tree_from(const char *rel, char *root, char *src)
{
	char *exe = bbt_asprintf("%s/%s", dir, rel), *r = NULL, *s = NULL;
	int found = bbt_paths_find_build_tree(exe, &r, &s);
	size_t n = strlen(dir);
	snprintf(root, 256, "%s", r && strncmp(r, dir, n) == 0 ? r + n : r ? r : "(none)");
	snprintf(src, 256, "%s", s && strncmp(s, dir, n) == 0 ? s + n : s ? s : "(none)");
	free(exe);
	free(r);
	free(s);
	return found;
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		skip_all("cannot make a temporary folder");
	/* realpath: the answers are resolved paths (/tmp may be a symlink) */
	char real[PATH_MAX];
	if (realpath(dir, real) == NULL || strlen(real) >= sizeof dir)
		skip_all("cannot resolve %s", dir);
	strcpy(dir, real);
	plan(27);

	check_relative("/usr/local/bin", "/usr/local/lib/bbtbench", "../lib/bbtbench");
	check_relative("/usr/local/bin", "/usr/local/share/bbtbench", "../share/bbtbench");
	check_relative("/usr/bin", "/usr/lib/x86_64-linux-gnu/bbtbench",
	               "../lib/x86_64-linux-gnu/bbtbench");
	check_relative("/opt/b//bin/", "/opt/b/./lib/bbtbench", "../lib/bbtbench");
	check_relative("/a/b", "/a/b", ".");
	check_relative("/a/b/c", "/a", "../..");
	check_relative("/usr/bin", "/usr/../lib", NULL);
	check_relative("bin", "/usr/lib", NULL);

	/* A build tree: the marker at its top, a VPATH source tree beside it. */
	char root[256], src[256];
	ok(make_dir("src/tasks") == 0 && make_dir("build/t/.libs") == 0 &&
	   make_dir("build/fuzz") == 0 && make_dir("inst/bin") == 0 &&
	   write_file("build/" BBT_BUILD_MARKER, "# a comment\n srcdir = ../src \n") == 0,
	   "a made-up build tree and its source tree");
	ok(tree_from("build", root, src) == 1, "a program beside the marker is in the build tree");
	is_string(root, "/build", "the marker's folder is the root");
	is_string(src, "/src", "and the source tree is the one it names, relative to it");
	ok(tree_from("build/t", root, src) == 1 && strcmp(root, "/build") == 0,
	   "a program one folder down (t/NAME) too");
	ok(tree_from("build/fuzz", root, src) == 1, "fuzz/NAME too");
	ok(tree_from("inst/bin", root, src) == 0, "an installed program is not");
	ok(tree_from("", root, src) == 0, "nor one above the build tree");
	char *abs_src = bbt_asprintf("srcdir=%s/src\n", dir);
	ok(write_file("build/" BBT_BUILD_MARKER, abs_src) == 0 &&
	   tree_from("build", root, src) == 1 && strcmp(src, "/src") == 0,
	   "an absolute srcdir is taken as it is");
	free(abs_src);
	ok(write_file("build/" BBT_BUILD_MARKER, "srcdir=../gone\n") == 0 &&
	   tree_from("build", root, src) == 1 && strcmp(src, "(none)") == 0,
	   "a source tree that is gone leaves the build tree without one");

	/* An install prefix configured as /usr/local, then moved. */
	ok(make_dir("moved/lib/bbtbench") == 0 && make_dir("moved/bin") == 0,
	   "a moved prefix with bin/ and lib/bbtbench/");
	char *bin = bbt_asprintf("%s/moved/bin", dir);
	char *want = bbt_asprintf("%s/moved/lib/bbtbench", dir);
	char *got = bbt_paths_installed(bin, "/usr/local/bin", "/usr/local/lib/bbtbench");
	is_string(got, want, "pkglibdir is found relative to the program");
	free(got);
	got = bbt_paths_installed(bin, "/usr/local/bin", "/usr/local/share/bbtbench");
	is_string(got, "/usr/local/share/bbtbench",
	          "a folder missing there falls back to the configure-time one");
	free(got);
	got = bbt_paths_installed(NULL, "/usr/local/bin", "/usr/local/lib/bbtbench");
	is_string(got, "/usr/local/lib/bbtbench", "so does an unknown program folder");
	free(got);
	free(bin);
	free(want);

	/* The per-user folder. */
	setenv("XDG_DATA_HOME", "/x/data", 1);
	got = bbt_paths_user_dir("plugins");
	is_string(got, "/x/data/bbtbench/plugins", "$XDG_DATA_HOME/bbtbench/plugins");
	free(got);
	setenv("XDG_DATA_HOME", "x/data", 1);
	setenv("HOME", "/home/u", 1);
	got = bbt_paths_user_dir("plugins");
	is_string(got, "/home/u/.local/share/bbtbench/plugins",
	          "a relative XDG_DATA_HOME is ignored: ~/.local/share/bbtbench/plugins");
	free(got);
	unsetenv("XDG_DATA_HOME");
	got = bbt_paths_user_dir("plugins");
	is_string(got, "/home/u/.local/share/bbtbench/plugins", "as is an unset one");
	free(got);
	unsetenv("HOME");
	ok(bbt_paths_user_dir("plugins") == NULL, "no HOME and no XDG_DATA_HOME: none");

	/* This test program itself runs in the build tree. */
	ok(bbt_build_tree() != NULL && bbt_build_srcdir() != NULL,
	   "this test is recognised as running in its build tree");

	static const char *const files[] = { "build/" BBT_BUILD_MARKER };
	static const char *const dirs[] = { "src/tasks", "src", "build/t/.libs", "build/t",
		"build/fuzz", "build", "inst/bin", "inst", "moved/lib/bbtbench", "moved/lib",
		"moved/bin", "moved" };
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
	rmdir(dir);
	return done_testing();
}
