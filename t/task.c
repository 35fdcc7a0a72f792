/*
 * t/task.c - the task YAML loader: every shipped task loads, and broken
 * files give an error that names file:line instead of a crash.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/task.h"
#include "core/util.h"
#include "tap.h"

static char tmpdir[] = "/tmp/bbt-task-XXXXXX";
static int n_tmp;
static char tmp_files[64][256];

/* Write `len` bytes to tmpdir/name; returns the path (static storage). */
static const char *write_file(const char *name, const char *data, size_t len)
{
	char want[256];
	snprintf(want, sizeof want, "%s/%s", tmpdir, name);
	int i = 0;
	while (i < n_tmp && strcmp(tmp_files[i], want) != 0)
		i++;
	if (i == n_tmp && n_tmp < 64)
		n_tmp++;
	char *path = tmp_files[i < 64 ? i : 63];
	snprintf(path, 256, "%s", want);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		diag("cannot write %s", path);
	return path;
}

static const char *write_str(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

static void cleanup(void)
{
	for (int i = 0; i < n_tmp; i++)
		unlink(tmp_files[i]);
	rmdir(tmpdir);
}

/* A valid task, with one line to splice in at the end. */
#define GOOD_HEAD \
	"name: t\n"                                   /* 1 */ \
	"metric: acc\n"                               /* 2 */ \
	"fields: [sentence]\n"                        /* 3 */ \
	"template: \"{sentence} . It was {mask} .\"\n" /* 4 */ \
	"labels:\n"                                   /* 5 */ \
	"  - {value: \"0\", word: bad}\n"             /* 6 */ \
	"  - {value: \"1\", word: great}\n"           /* 7 */ \
	"test:\n"                                     /* 8 */ \
	"  file: x.tsv\n"                             /* 9 */ \
	"  format: tsv\n"                             /* 10 */ \
	"  columns: {sentence: sentence, label: label}\n" /* 11 */

/* Load `text` as a task file; expect failure with `code` and a message
 * containing "<path>:<line>:" and `needle`. */
static void bad(const char *name, const char *text, size_t len, int code, int line,
                const char *needle, const char *what)
{
	const char *path = write_file(name, text, len);
	bbt_task_t *t = (bbt_task_t *)1;
	char err[BBT_ERRLEN] = "";
	int rc = bbt_task_load(path, &t, err, sizeof err);
	char where[300];
	snprintf(where, sizeof where, "%s:%d:", path, line);
	ok(rc == code && t == NULL, "%s: fails with code %d", what, code);
	if (rc != code)
		diag("  rc %d, message: %s", rc, err);
	like(err, where, "%s: message names %s", what, where);
	if (needle != NULL)
		like(err, needle, "%s: message says \"%s\"", what, needle);
}

static void bad_str(const char *name, const char *text, int line, const char *needle,
                    const char *what)
{
	bad(name, text, strlen(text), BBT_EFORMAT, line, needle, what);
}

static void test_shipped(const char *top)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/tasks", top);
	DIR *d = opendir(dir);
	ok(d != NULL, "tasks/ directory at %s", dir);
	if (d == NULL)
		return;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml") != 0)
			continue;
		char path[1400];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		bbt_task_t *t = NULL;
		char err[BBT_ERRLEN] = "";
		int rc = bbt_task_load(path, &t, err, sizeof err);
		if (!ok(rc == 0 && t != NULL, "tasks/%s loads", de->d_name))
			diag("  %s", err);
		if (t != NULL) {
			char want[300];
			snprintf(want, sizeof want, "%s.yaml", t->name);
			is_string(de->d_name, want, "tasks/%s: name matches the file name", de->d_name);
			ok(t->generator != NULL || t->kshot != NULL,
			   "tasks/%s: has a k-shot folder or a generator", de->d_name);
		}
		bbt_task_free(t);
		n++;
	}
	closedir(d);
	ok(n >= 8, "at least eight task files (toy and the paper's seven), found %d", n);
}

static bbt_task_t *load_shipped(const char *top, const char *name)
{
	char path[1200], err[BBT_ERRLEN] = "";
	snprintf(path, sizeof path, "%s/tasks/%s.yaml", top, name);
	bbt_task_t *t = NULL;
	if (bbt_task_load(path, &t, err, sizeof err) < 0)
		diag("%s", err);
	return t;
}

static void test_contents(const char *top)
{
	bbt_task_t *t = load_shipped(top, "sst2");
	ok(t != NULL, "sst2 loads");
	if (t != NULL) {
		is_int((long long)t->n_fields, 1, "sst2: one field");
		is_string(t->fields[0], "sentence", "sst2: field sentence");
		is_string(t->template_text, "{sentence} . It was {mask} .", "sst2: BBT template");
		is_int((long long)t->n_labels, 2, "sst2: two labels");
		is_string(t->label_words[0], "bad", "sst2: label 0 -> bad");
		is_string(t->label_words[1], "great", "sst2: label 1 -> great");
		is_int(t->metric, BBT_METRIC_ACC, "sst2: metric acc");
		ok(t->train && t->test && t->kshot && !t->dev, "sst2: train, test, kshot");
		is_string(t->train->file, "SST-2/train.tsv", "sst2: train file");
		is_string(t->test->file, "SST-2/dev.tsv", "sst2: GLUE dev is the test set");
		is_string(t->kshot->file, "k-shot/SST-2", "sst2: k-shot folder");
		is_string(t->train->label_values[1], "1", "sst2: label values default to labels");
		is_int(bbt_task_field_index(t, "sentence"), 0, "field_index(sentence) = 0");
		is_int(bbt_task_field_index(t, "nope"), -1, "field_index(nope) = -1");
	}
	bbt_task_free(t);

	t = load_shipped(top, "mrpc");
	ok(t != NULL, "mrpc loads");
	if (t != NULL) {
		is_int(t->metric, BBT_METRIC_F1, "mrpc: metric f1");
		is_int(t->positive, 1, "mrpc: the positive class is \"1\" (equivalent), label 1");
		is_string(t->label_words[0], "No", "mrpc: label 0 (not paraphrase) -> No");
		is_string(t->label_words[1], "Yes", "mrpc: label 1 (paraphrase) -> Yes");
		is_string(t->train->label.parts[0].name, "Quality", "mrpc: label column Quality");
		is_string(t->train->fields[1].parts[0].name, "#2 String", "mrpc: #2 String");
	}
	bbt_task_free(t);

	t = load_shipped(top, "agnews");
	ok(t != NULL, "agnews loads");
	if (t != NULL) {
		is_int((long long)t->train->fields[0].n_parts, 2, "agnews: text = title + description");
		ok(t->train->fields[0].parts[0].name == NULL && t->train->fields[0].parts[0].index == 1 &&
		   t->train->fields[0].parts[1].index == 2, "agnews: CSV columns 1 and 2");
		is_int(t->train->format, BBT_FORMAT_CSV, "agnews: CSV");
		is_int(t->train->header, 0, "agnews: CSV has no header");
		is_string(t->train->label_values[0], "1", "agnews: CSV labels 1-based");
		is_string(t->kshot->label_values[0], "0", "agnews: k-shot labels 0-based");
		is_int(t->kshot->format, BBT_FORMAT_TSV_QUOTED, "agnews: k-shot is pandas TSV");
		ok(t->kshot->label.parts[0].name == NULL && t->kshot->label.parts[0].index == -1,
		   "agnews: k-shot label in the last column");
		is_string(t->template_text, "{mask} News: {text}", "agnews: BBT template");
		is_string(t->label_words[3], "Tech", "agnews: label 4 -> Tech");
	}
	bbt_task_free(t);

	t = load_shipped(top, "snli");
	ok(t != NULL, "snli loads");
	if (t != NULL) {
		is_int((long long)t->n_labels, 3, "snli: three labels");
		is_string(t->label_words[1], "Maybe", "snli: neutral -> Maybe");
		is_int(t->train->format, BBT_FORMAT_JSONL, "snli: JSONL");
		is_string(t->train->label.parts[0].name, "gold_label", "snli: label key gold_label");
		is_string(t->test->file, "snli_1.0/snli_1.0_dev.jsonl", "snli: evaluated on the dev file (LM-BFF's test set)");
		ok(t->kshot->label.parts[0].name == NULL && t->kshot->label.parts[0].index == -1,
		   "snli: k-shot label is the last column");
	}
	bbt_task_free(t);

	t = load_shipped(top, "dbpedia");
	ok(t != NULL && t->n_labels == 14, "dbpedia: 14 labels");
	bbt_task_free(t);

	t = load_shipped(top, "toy");
	ok(t != NULL && t->generator != NULL && strcmp(t->generator, "toy") == 0,
	   "toy: generator toy");
	bbt_task_free(t);
}

static void test_find(const char *top)
{
	char dir[1100], err[BBT_ERRLEN] = "";
	snprintf(dir, sizeof dir, "%s/tasks", top);
	const char *dirs[] = { tmpdir, dir };
	char *path = NULL;
	int rc = bbt_task_find("rte", dirs, 2, &path, err, sizeof err);
	ok(rc == 0 && path != NULL && strstr(path, "/tasks/rte.yaml") != NULL,
	   "find: a name is looked up as NAME.yaml in the directories");
	free(path);

	path = NULL;
	const char *mine = write_str("mytask.yaml", GOOD_HEAD);
	rc = bbt_task_find(mine, dirs, 2, &path, err, sizeof err);
	ok(rc == 0 && path != NULL && strcmp(path, mine) == 0, "find: a path is taken as it is");
	free(path);

	path = NULL;
	rc = bbt_task_find("nosuchtask", dirs, 2, &path, err, sizeof err);
	is_int(rc, BBT_ENOTFOUND, "find: unknown name is BBT_ENOTFOUND");
	like(err, "nosuchtask.yaml", "find: message names the file looked for");
	like(err, dir, "find: message names every directory");
	ok(path == NULL, "find: no path on failure");

	rc = bbt_task_find("/nonexistent/x.yaml", dirs, 2, &path, err, sizeof err);
	is_int(rc, BBT_ENOTFOUND, "find: missing path is BBT_ENOTFOUND");
	like(err, "/nonexistent/x.yaml", "find: message names the path");
}

static void test_good_minimal(void)
{
	const char *p = write_str("good.yaml", GOOD_HEAD);
	bbt_task_t *t = NULL;
	char err[BBT_ERRLEN] = "";
	int rc = bbt_task_load(p, &t, err, sizeof err);
	if (!ok(rc == 0 && t != NULL, "minimal task loads"))
		diag("%s", err);
	if (t != NULL) {
		is_int(t->test->header, 1, "tsv: header defaults to true");
		is_int(t->test->line, 8, "source line is where it is declared");
		is_string(t->path, p, "task remembers its path");
		is_int(t->positive, BBT_NO_POSITIVE, "no positive: key: no positive class");
	}
	bbt_task_free(t);

	/* A quoted number is a header name, a plain one an index. */
	p = write_str("cols.yaml", GOOD_HEAD
	              "kshot:\n"
	              "  dir: k\n"
	              "  format: tsv-quoted\n"
	              "  columns: {sentence: [\"0\", 0, -2], label: -1}\n");
	t = NULL;
	rc = bbt_task_load(p, &t, err, sizeof err);
	if (!ok(rc == 0 && t != NULL, "column forms load"))
		diag("%s", err);
	if (t != NULL) {
		const struct bbt_column *c = &t->kshot->fields[0];
		ok(c->n_parts == 3 && c->parts[0].name != NULL && strcmp(c->parts[0].name, "0") == 0,
		   "quoted \"0\" is a header name");
		ok(c->parts[1].name == NULL && c->parts[1].index == 0, "plain 0 is an index");
		ok(c->parts[2].name == NULL && c->parts[2].index == -2, "plain -2 counts from the end");
	}
	bbt_task_free(t);
}

static void test_bad(void)
{
	bad_str("nomask.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} .\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        4, "{mask} exactly once", "template without {mask}");
	bad_str("twomask.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\n"
	        "template: \"{mask} {sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        4, "found it 2 times", "template with {mask} twice");
	bad_str("unkfield.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\n\n"
	        "template: \"{sentence} {premise} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        5, "{premise} is not a field", "template with an unknown field");
	bad_str("unclosed.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        4, "expected {mask} or {field}", "template with a malformed {...}");
	bad_str("metric.yaml",
	        "name: t\nmetric: accuracy\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        2, "not one of acc, f1, macro_f1", "bad metric");
	bad_str("f1multi.yaml",
	        "name: t\nmetric: f1\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}, {value: c, word: C}]\n"
	        "test: {file: x, format: tsv, columns: {sentence: 0, label: 1}}\n",
	        2, "needs exactly 2", "f1 with three labels");
	bad_str("posmulti.yaml",
	        "name: t\nmetric: macro_f1\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}, {value: c, word: C}]\n"
	        "positive: b\ngenerator: toy\n",
	        6, "only a task of 2 labels has a positive class", "positive with three labels");
	bad_str("posvalue.yaml", GOOD_HEAD "positive: great\n", 12,
	        "positive: \"great\" is not a label value (expected \"0\" or \"1\")",
	        "positive names a word, not a value");
	bad_str("f1nopos.yaml",
	        "name: t\nmetric: f1\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        2, "expected positive: VALUE", "f1 without a positive class");

	/* Truncated in the middle of a flow mapping. */
	const char *full = GOOD_HEAD;
	const char *cut = strstr(full, "word: great");
	bad("trunc.yaml", full, (size_t)(cut - full) + 6, BBT_EFORMAT, 7, "invalid YAML",
	    "file truncated inside a flow mapping");
	/* Truncated after "labels:" (valid YAML, keys missing or null). */
	cut = strstr(full, "  - {value: \"0\"");
	bad("trunc2.yaml", full, (size_t)(cut - full), BBT_EFORMAT, 5, "labels",
	    "file truncated after labels:");

	static const char latin1[] = "name: t\ndescription: caf\xe9 reviews\nmetric: acc\n";
	bad("latin1.yaml", latin1, sizeof latin1 - 1, BBT_EFORMAT, 2,
	    "invalid UTF-8 byte 0xe9", "non-UTF-8 byte");
	static const char nul[] = "name: t\nmetric: a\0c\n";
	bad("nul.yaml", nul, sizeof nul - 1, BBT_EFORMAT, 2, "invalid YAML",
	    "NUL byte");

	bad_str("fieldsscalar.yaml",
	        "name: t\nmetric: acc\nfields: sentence\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        3, "fields: expected a list of field names", "fields: a scalar, not a list");
	bad_str("labelsmap.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels:\n  a: A\n  b: B\ngenerator: toy\n",
	        6, "labels: expected a list of {value, word}", "labels: a mapping, not a list");
	bad_str("labelsscalars.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels:\n  - bad\n  - great\ngenerator: toy\n",
	        6, "labels: expected a list of {value, word}", "labels: a list of scalars");
	bad_str("onelabel.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}]\ngenerator: toy\n",
	        5, "at least 2 labels", "one label only");
	bad_str("dupword.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels:\n  - {value: a, word: A}\n  - {value: b, word: A}\ngenerator: toy\n",
	        7, "word \"A\" given twice", "two labels with one word");
	bad_str("templatelist.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: [a, b]\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        4, "template: expected a single value", "template: a list");
	bad_str("unknownkey.yaml", GOOD_HEAD "verbalizer: x\n", 12,
	        "unknown key \"verbalizer\"", "unknown top-level key");
	bad_str("dupkey.yaml", GOOD_HEAD "metric: f1\n", 12, "duplicate key \"metric\"",
	        "duplicate top-level key");
	bad_str("missingkey.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        1, "missing key \"template\"", "no template");
	bad_str("nodata.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\n",
	        1, "expected generator: toy or at least one of train, test, kshot", "no data");
	bad_str("badgen.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: random\n",
	        6, "not a known generator", "unknown generator");
	bad_str("format.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\n"
	        "train:\n  file: x\n  format: xml\n  columns: {sentence: 0, label: 1}\n",
	        8, "not one of tsv, tsv-quoted, csv, jsonl", "unknown format");
	bad_str("nolabelcol.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\n"
	        "train:\n  file: x\n  format: tsv\n  columns: {sentence: 0}\n",
	        9, "no column for \"label\"", "columns without label");
	bad_str("nofieldcol.yaml",
	        "name: t\nmetric: acc\nfields: [s1, s2]\ntemplate: \"{s1} {mask} {s2}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\n"
	        "train:\n  file: x\n  format: tsv\n\n  columns: {s1: 0, label: 2}\n",
	        10, "no column for field \"s2\"", "columns without a field");
	bad_str("unkcol.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\n"
	        "train:\n  file: x\n  format: tsv\n  columns:\n    sentence: 0\n    label: 1\n"
	        "    idx: 2\n",
	        12, "\"idx\" is neither a field", "columns with an unknown key");
	bad_str("namenohdr.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\n"
	        "test:\n  file: x\n  format: csv\n  columns: {sentence: text, label: 0}\n",
	        9, "needs header: true", "CSV column by name without header");
	bad_str("jsonidx.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\n"
	        "test:\n  file: x\n  format: jsonl\n  columns: {sentence: 1, label: gold}\n",
	        9, "keys, not indices", "JSONL column by index");
	bad_str("lvlen.yaml", GOOD_HEAD "  label_values: [\"0\", \"1\", \"2\"]\n", 12,
	        "expected 2 values", "label_values of the wrong length");
	bad_str("srcscalar.yaml",
	        "name: t\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ntrain: SST-2/train.tsv\n",
	        6, "train: expected a mapping", "source: a scalar, not a mapping");
	bad_str("srcunk.yaml", GOOD_HEAD "  quoting: none\n", 12, "unknown key \"quoting\"",
	        "unknown key in a source");
	bad_str("toyfields.yaml",
	        "name: t\nmetric: acc\nfields: [text]\ntemplate: \"{text} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        6, "one field \"sentence\"", "generator toy with another field");
	bad_str("rootlist.yaml", "- name: t\n- metric: acc\n", 1, "expected a mapping",
	        "a list at the top");
	bad_str("rootscalar.yaml", "hello\n", 1, "expected a mapping", "a scalar at the top");
	bad_str("empty.yaml", "", 1, "empty file", "empty file");
	bad_str("comment.yaml", "# nothing here\n", 1, "empty file", "only a comment");
	bad_str("tabs.yaml", "name: t\n\tmetric: acc\n", 2, "invalid YAML", "tab indentation");
	bad_str("badname.yaml",
	        "name: my task\nmetric: acc\nfields: [sentence]\ntemplate: \"{sentence} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\ngenerator: toy\n",
	        1, "name:", "a name with a space");
	bad_str("alias.yaml",
	        "name: &n t\nmetric: acc\nfields: [*n]\ntemplate: \"{t} {mask}\"\n"
	        "labels: [{value: a, word: A}, {value: b, word: B}]\n"
	        "test: {file: x, format: tsv, columns: {t: 0, label: *n}}\n"
	        "extra: *n\n",
	        7, "unknown key \"extra\"", "aliases resolve and are checked like values");

	char err[BBT_ERRLEN] = "";
	bbt_task_t *t = (bbt_task_t *)1;
	int rc = bbt_task_load("/nonexistent/dir/t.yaml", &t, err, sizeof err);
	ok(rc == BBT_ENOTFOUND && t == NULL, "missing file is BBT_ENOTFOUND");
	like(err, "/nonexistent/dir/t.yaml", "missing file: message names the path");
}

/* Every prefix of a real task file: loads or fails cleanly, never crashes
 * (run under valgrind to see that it never reads out of bounds either). */
static void test_prefixes(const char *top)
{
	char path[1200], err[BBT_ERRLEN];
	snprintf(path, sizeof path, "%s/tasks/agnews.yaml", top);
	char *data;
	size_t len;
	if (bbt_file_read(path, &data, &len, err, sizeof err) < 0) {
		skip(1, "agnews.yaml not readable");
		return;
	}
	int failures_named = 1, loaded = 0;
	for (size_t cut = 0; cut <= len; cut += 7) {
		const char *p = write_file("prefix.yaml", data, cut);
		bbt_task_t *t = NULL;
		err[0] = '\0';
		int rc = bbt_task_load(p, &t, err, sizeof err);
		if (rc == 0)
			loaded++;
		else if (strncmp(err, p, strlen(p)) != 0 || t != NULL)
			failures_named = 0;
		bbt_task_free(t);
	}
	free(data);
	ok(failures_named && loaded > 0,
	   "every prefix of agnews.yaml loads or fails with a file:line message");
}

/* unlabelled: names a value no label has; snli declares "-", sst2 nothing. */
static void test_unlabelled(const char *top)
{
	bad_str("unlab.yaml", GOOD_HEAD "unlabelled: \"0\"\n", 12,
	        "unlabelled: \"0\" is the value of label bad", "unlabelled: a label's value");
	bad_str("unlab2.yaml", GOOD_HEAD "unlabelled: [a]\n", 12, "unlabelled: expected a single value",
	        "unlabelled: a list");
	bbt_task_t *snli = load_shipped(top, "snli"), *sst2 = load_shipped(top, "sst2");
	ok(snli != NULL && snli->unlabelled != NULL && strcmp(snli->unlabelled, "-") == 0,
	   "snli.yaml: rows labelled \"-\" are unlabelled");
	ok(sst2 != NULL && sst2->unlabelled == NULL, "sst2.yaml: no unlabelled marker");
	bbt_task_free(snli);
	bbt_task_free(sst2);
}

/* Inputs that would keep the loader busy without end are refused at
 * once: a FIFO, a file far larger than any task, deep nesting (libyaml
 * checks every open level on each token: quadratic in the depth). */
static void test_hostile(void)
{
	/* As deep as a file within the size limit can be. */
	size_t depth = ((size_t)BBT_TASK_MAX_BYTES - 16) / 2;
	char *deep = malloc(2 * depth + 16);
	if (deep != NULL) {
		size_t n = (size_t)sprintf(deep, "name: ");
		memset(deep + n, '[', depth);
		memset(deep + n + depth, ']', depth);
		deep[n + 2 * depth] = '\n';
		bad("deep.yaml", deep, n + 2 * depth + 1, BBT_EFORMAT, 1, "nested deeper than",
		    "a value nested 32,000 deep");
		free(deep);
	} else {
		skip(3, "out of memory");
	}

	size_t big_len = 2 * (size_t)BBT_TASK_MAX_BYTES;
	char *big = malloc(big_len);
	if (big != NULL) {
		memset(big, '#', big_len);
		for (size_t i = 63; i < big_len; i += 64)
			big[i] = '\n';
		bad("big.yaml", big, big_len, BBT_EFORMAT, 1, "expected a task file of at most",
		    "a file larger than any task");
		free(big);
	} else {
		skip(3, "out of memory");
	}

	char fifo[300];
	snprintf(fifo, sizeof fifo, "%s/fifo.yaml", tmpdir);
	if (mkfifo(fifo, 0600) == 0) {
		char err[BBT_ERRLEN] = "";
		bbt_task_t *t = (bbt_task_t *)1;
		int rc = bbt_task_load(fifo, &t, err, sizeof err);
		ok(rc == BBT_EIO && t == NULL, "a FIFO is refused, not waited on");
		like(err, "fifo.yaml: not a regular file", "FIFO: message says why");
		unlink(fifo);
	} else {
		skip(2, "mkfifo failed");
	}
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	if (top == NULL)
		top = ".";
	if (mkdtemp(tmpdir) == NULL)
		skip_all("mkdtemp failed");

	test_shipped(top);
	test_contents(top);
	test_find(top);
	test_good_minimal();
	test_bad();
	test_prefixes(top);
	test_hostile();
	test_unlabelled(top);

	cleanup();
	return done_testing();
}
