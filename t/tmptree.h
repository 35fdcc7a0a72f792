/*
 * t/tmptree.h - a scratch folder for one test program: files written by
 * relative path (parent folders made), read back whole, everything
 * removed at the end; and stderr caught into a string, for the host's
 * bbt_log messages.
 *
 *     tree_init("bbt-resultset");            // /tmp/bbt-resultset-XXXXXX
 *     tree_write("exp/a/result.json", "{...}");   // or tree_writef(rel, fmt, ...)
 *     const char *p = tree_path("exp");       // static storage, one at a time
 *     char *text = tree_slurp("plots/convergence.gp");   // caller frees
 *     stderr_catch(); ...; char *said = stderr_release();  // caller frees
 *     tree_remove();
 *
 * Header-only, like tap.h; include it after tap.h.
 */
#ifndef BBT_TMPTREE_H
#define BBT_TMPTREE_H

#include <fcntl.h>
#include <stdarg.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tree_root[256];

TAP_FN void tree_init(const char *name)
{
	snprintf(tree_root, sizeof tree_root, "/tmp/%s-XXXXXX", name);
	if (mkdtemp(tree_root) == NULL)
		skip_all("mkdtemp %s failed", tree_root);
}

/* tree_root/rel, in static storage (valid until the next call). */
TAP_FN const char *tree_path(const char *rel)
{
	static char path[1024];
	snprintf(path, sizeof path, "%s/%s", tree_root, rel);
	return path;
}

/* Write text to tree_root/rel, making its folders; 0 or -1 (said). */
TAP_FN int tree_write(const char *rel, const char *text)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", tree_root, rel);
	for (char *s = path + strlen(tree_root) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		diag("cannot write %s", path);
		return -1;
	}
	return 0;
}

/* tree_write with printf formatting. */
TAP_FN int tree_writef(const char *rel, const char *fmt, ...) TAP_PRINTF(2, 3);
TAP_FN int tree_writef(const char *rel, const char *fmt, ...)
{
	char text[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return tree_write(rel, text);
}

/* The whole file tree_root/rel (an absolute path as it is), or NULL. */
TAP_FN char *tree_slurp(const char *rel)
{
	char path[1024];
	if (rel[0] == '/')
		snprintf(path, sizeof path, "%s", rel);
	else
		snprintf(path, sizeof path, "%s/%s", tree_root, rel);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0, got;
	char *s = malloc(cap + 1);
	while (s != NULL && (got = fread(s + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *t = realloc(s, 2 * cap + 1);
			if (t == NULL)
				free(s);
			s = t;
			cap *= 2;
		}
	}
	fclose(f);
	if (s != NULL)
		s[n] = '\0';
	return s;
}

/* Remove path and, for a folder, all below it (links not followed). */
TAP_FN void tree_remove_at(const char *path)
{
	struct stat st;
	DIR *d = lstat(path, &st) == 0 && S_ISDIR(st.st_mode) ? opendir(path) : NULL;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char sub[1024];
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		tree_remove_at(sub);
	}
	if (d != NULL)
		closedir(d);
	remove(path);
}

TAP_FN void tree_remove(void)
{
	if (tree_root[0] != '\0')
		tree_remove_at(tree_root);
}

/* stderr into a file of the tree until stderr_release, which gives back
 * what was written (caller frees). One catch at a time. */
static int stderr_saved = -1;

TAP_FN void stderr_catch(void)
{
	fflush(stderr);
	stderr_saved = dup(2);
	int fd = open(tree_path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

TAP_FN char *stderr_release(void)
{
	fflush(stderr);
	if (stderr_saved >= 0) {
		dup2(stderr_saved, 2);
		close(stderr_saved);
		stderr_saved = -1;
	}
	char *text = tree_slurp("stderr.txt");
	remove(tree_path("stderr.txt"));
	return text;
}

#endif /* BBT_TMPTREE_H */
