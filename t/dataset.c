/*
 * t/dataset.c - the data readers, one small file per quirk of the real data
 * sets, and one per kind of bad input (each error must name file:line).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "core/util.h"
#include "tap.h"

static char tmpdir[] = "/tmp/bbt-dataset-XXXXXX";
static int n_tmp;
static char tmp_files[64][256];

static const char *tmp_path(const char *name)
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
	return path;
}

static const char *write_file(const char *name, const char *data, size_t len)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		diag("cannot write %s", path);
	return path;
}

static const char *write_str(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

/* A task with `fields` and `labels` whose test source is `source` (the
 * YAML body of the source mapping, indented by two), and the top-level
 * lines `extra`. */
static bbt_task_t *make_task_with(const char *extra, const char *fields, const char *labels,
                                  const char *source)
{
	char *yaml = bbt_asprintf("name: t\nmetric: acc\nfields: %s\n"
	                          "template: \"{mask}\"\nlabels: %s\n%stest:\n%s",
	                          fields, labels, extra, source);
	const char *p = write_str("task.yaml", yaml);
	free(yaml);
	bbt_task_t *t = NULL;
	char err[BBT_ERRLEN];
	if (bbt_task_load(p, &t, err, sizeof err) < 0)
		diag("task: %s", err);
	return t;
}

static bbt_task_t *make_task(const char *fields, const char *labels, const char *source)
{
	return make_task_with("", fields, labels, source);
}

static const char *const LABELS01 = "[{value: \"0\", word: bad}, {value: \"1\", word: great}]";
static const char *const GLUE_SST =
	"  file: x\n  format: tsv\n  columns: {sentence: sentence, label: label}\n";

/* Read `data` as file `name` with `task`'s test source. */
static int read_data(const bbt_task_t *t, const char *name, const char *data, size_t len,
                     bbt_dataset_t **ds, char *err, size_t errlen)
{
	const char *p = write_file(name, data, len);
	*ds = NULL;
	err[0] = '\0';
	return bbt_dataset_read(t, t->test, p, ds, err, errlen);
}

#define READ_STR(t, name, text, ds, err) \
	read_data((t), (name), (text), sizeof(text) - 1, (ds), (err), sizeof(err))

/* Expect failure `code` whose message contains "<file>:<line>:" and needle. */
static void bad(const bbt_task_t *t, const char *name, const char *data, size_t len, int code,
                int line, const char *needle, const char *what)
{
	bbt_dataset_t *ds;
	char err[BBT_ERRLEN];
	int rc = read_data(t, name, data, len, &ds, err, sizeof err);
	if (!ok(rc == code && ds == NULL, "%s: fails with code %d", what, code))
		diag("  rc %d: %s", rc, err);
	char where[300];
	if (line > 0)
		snprintf(where, sizeof where, "%s:%d:", tmp_path(name), line);
	else
		snprintf(where, sizeof where, "%s:", tmp_path(name));
	like(err, where, "%s: message names %s", what, where + strlen(tmpdir) + 1);
	like(err, needle, "%s: message says \"%s\"", what, needle);
	bbt_dataset_free(ds);
}

#define BAD(t, name, text, code, line, needle, what) \
	bad((t), (name), (text), sizeof(text) - 1, (code), (line), (needle), (what))

static void test_glue(void)
{
	bbt_task_t *t = make_task("[sentence]", LABELS01, GLUE_SST);
	bbt_dataset_t *ds;
	char err[BBT_ERRLEN];

	int rc = READ_STR(t, "plain.tsv", "sentence\tlabel\nit 's good \t1\nbad\t0\n", &ds, err);
	ok(rc == 0 && ds != NULL && ds->n == 2, "GLUE TSV: two examples");
	if (ds != NULL && ds->n == 2) {
		is_string(ds->ex[0].field[0], "it 's good ", "GLUE TSV: trailing space kept");
		is_int(ds->ex[0].label, 1, "GLUE TSV: label 1");
		is_int((long long)ds->ex[1].line, 3, "GLUE TSV: line numbers count the header");
		is_int((long long)ds->skipped, 0, "GLUE TSV: nothing skipped");
		ok(strcmp(ds->path, tmp_path("plain.tsv")) == 0, "data set remembers its path");
	}
	bbt_dataset_free(ds);

	rc = READ_STR(t, "crlf.tsv", "sentence\tlabel\r\nfoo\t1\r\nbar\t0\r\n", &ds, err);
	ok(rc == 0 && ds != NULL && ds->n == 2, "CRLF: two examples");
	if (ds != NULL && ds->n == 2) {
		is_string(ds->ex[0].field[0], "foo", "CRLF: no CR in the text");
		is_int(ds->ex[1].label, 0, "CRLF: no CR in the label");
	}
	bbt_dataset_free(ds);

	rc = READ_STR(t, "nofinal.tsv", "sentence\tlabel\nfoo\t1\n\nbar\t0", &ds, err);
	ok(rc == 0 && ds != NULL && ds->n == 2, "blank line and no final newline");
	bbt_dataset_free(ds);

	/* GLUE's TSV has no quoting: a leading '"' is text (RTE, MRPC). */
	rc = READ_STR(t, "quote.tsv",
	              "sentence\tlabel\n\" the witness \" said\t1\n\"unbalanced\t0\n"
	              "\"all quoted\"\t1\n", &ds, err);
	ok(rc == 0 && ds != NULL && ds->n == 3, "GLUE field starting with '\"': three rows");
	if (ds != NULL && ds->n == 3) {
		is_string(ds->ex[0].field[0], "\" the witness \" said", "leading quote kept");
		is_string(ds->ex[1].field[0], "\"unbalanced", "unbalanced quote kept, row ends");
		is_string(ds->ex[2].field[0], "\"all quoted\"", "fully quoted field kept as is");
	}
	bbt_dataset_free(ds);
	bbt_task_free(t);

	/* MRPC: BOM before the header, names with spaces and '#'. */
	t = make_task("[sentence1, sentence2]", LABELS01,
	              "  file: x\n  format: tsv\n  header: true\n"
	              "  columns: {sentence1: \"#1 String\", sentence2: \"#2 String\", label: Quality}\n");
	rc = READ_STR(t, "bom.tsv",
	              "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
	              "1\t702876\t702977\tAmrozi accused\tReferring to him\n", &ds, err);
	if (!ok(rc == 0 && ds != NULL && ds->n == 1, "BOM: header found"))
		diag("%s", err);
	if (ds != NULL && ds->n == 1) {
		is_string(ds->ex[0].field[0], "Amrozi accused", "BOM: #1 String");
		is_string(ds->ex[0].field[1], "Referring to him", "BOM: #2 String");
		is_int(ds->ex[0].label, 1, "BOM: Quality is the first column");
	}
	bbt_dataset_free(ds);
	bbt_task_free(t);
}

static void test_quoted(void)
{
	bbt_task_t *t = make_task("[text]", "[{value: \"1\", word: a}, {value: \"2\", word: b}]",
	                          "  file: x\n  format: tsv-quoted\n  columns: {text: 0, label: -1}\n"
	                          "  label_values: [\"0\", \"1\"]\n");
	bbt_dataset_t *ds;
	char err[BBT_ERRLEN];
	int rc = READ_STR(t, "pandas.tsv",
	                  "text\tlabel\r\n"
	                  "\"He said \"\"hi\"\" twice\"\t1\r\n"
	                  "a \"b\" c\t0\r\n"
	                  "\"tab\tinside\"\t1\r\n"
	                  "\"two\r\nlines\"\t0\r\n"
	                  "last\t1\r\n", &ds, err);
	if (!ok(rc == 0 && ds != NULL && ds->n == 5, "pandas TSV: five rows"))
		diag("%s", err);
	if (ds != NULL && ds->n == 5) {
		is_string(ds->ex[0].field[0], "He said \"hi\" twice", "pandas TSV: \"\" is one quote");
		is_int(ds->ex[0].label, 1, "pandas TSV: 0-based label_values map 1 -> label 1");
		is_string(ds->ex[1].field[0], "a \"b\" c", "pandas TSV: unquoted field literal");
		is_int(ds->ex[1].label, 0, "pandas TSV: label 0 -> label index 0 (value \"1\")");
		is_string(ds->ex[2].field[0], "tab\tinside", "pandas TSV: tab inside quotes");
		is_string(ds->ex[3].field[0], "two\r\nlines", "pandas TSV: line break inside quotes");
		is_int((long long)ds->ex[4].line, 7, "pandas TSV: line count includes inner breaks");
	}
	bbt_dataset_free(ds);
	bbt_task_free(t);
}

static void test_csv(void)
{
	/* Zhang et al.: no header, every field quoted, 1-based classes. */
	bbt_task_t *t = make_task("[text]",
	                          "[{value: \"1\", word: World}, {value: \"2\", word: Sports},"
	                          " {value: \"3\", word: Business}, {value: \"4\", word: Tech}]",
	                          "  file: x\n  format: csv\n  columns: {label: 0, text: [1, 2]}\n");
	bbt_dataset_t *ds;
	char err[BBT_ERRLEN];
	int rc = READ_STR(t, "zhang.csv",
	                  "\"3\",\"Fears for T N pension\",\"Unions say \"\"no\"\", then\"\n"
	                  "\"4\",\"Title\",\"A second\\team #39;s  #36;10 and \\\\ more\"\n"
	                  "\"1\",\"Multi\",\"line one\nline two\"\n"
	                  "\"2\",\"\",\"empty title\"\n", &ds, err);
	if (!ok(rc == 0 && ds != NULL && ds->n == 4, "RFC 4180 CSV: four records"))
		diag("%s", err);
	if (ds != NULL && ds->n == 4) {
		is_string(ds->ex[0].field[0], "Fears for T N pension Unions say \"no\", then",
		          "CSV: title + \" \" + description, \"\" unescaped, comma inside quotes");
		is_int(ds->ex[0].label, 2, "CSV: 1-based class 3 -> label index 2");
		is_string(ds->ex[1].field[0], "Title A second\\team #39;s  #36;10 and \\\\ more",
		          "AG News: backslashes and #39; kept literally");
		is_string(ds->ex[2].field[0], "Multi line one\nline two", "CSV: newline inside quotes");
		is_int((long long)ds->ex[3].line, 5, "CSV: record after a two-line record is on line 5");
		is_string(ds->ex[3].field[0], " empty title", "CSV: empty field joined with one space");
		is_int(ds->ex[3].label, 1, "CSV: class 2 -> label index 1");
	}
	bbt_dataset_free(ds);

	BAD(t, "unterminated.csv", "\"1\",\"a\",\"b\"\n\"2\",\"never closed,x\n", BBT_EFORMAT, 2,
	    "quoted field not closed", "CSV quote open at end of file");
	BAD(t, "junk.csv", "\"1\",\"a\"x,\"b\"\n", BBT_EFORMAT, 1, "after a closing quote",
	    "CSV text after a closing quote");
	bbt_task_free(t);
}

static void test_snli_kshot(void)
{
	/* LM-BFF SNLI: 5-column header here, some rows longer; label is the last
	 * column of each row. */
	bbt_task_t *t = make_task("[sentence1, sentence2]",
	                          "[{value: entailment, word: \"Yes\"}, {value: neutral, word: Maybe},"
	                          " {value: contradiction, word: \"No\"}]",
	                          "  file: x\n  format: tsv\n"
	                          "  columns: {sentence1: sentence1, sentence2: sentence2, label: -1}\n");
	bbt_dataset_t *ds;
	char err[BBT_ERRLEN];
	int rc = READ_STR(t, "snli.tsv",
	                  "index\tsentence1\tsentence2\tlabel1\tgold_label\n"
	                  "0\tA man.\tA person.\tentailment\tentailment\n"
	                  "1\tA dog.\tA cat.\tneutral\tcontradiction\tcontradiction\tneutral\tcontradiction\n",
	                  &ds, err);
	if (!ok(rc == 0 && ds != NULL && ds->n == 2, "SNLI k-shot: rows longer than the header"))
		diag("%s", err);
	if (ds != NULL && ds->n == 2) {
		is_int(ds->ex[0].label, 0, "SNLI k-shot: 5-column row label");
		is_int(ds->ex[1].label, 2, "SNLI k-shot: 8-column row takes the last column");
		is_string(ds->ex[1].field[1], "A cat.", "SNLI k-shot: sentence2 by header name");
	}
	bbt_dataset_free(ds);
	bbt_task_free(t);

	t = make_task_with("unlabelled: \"-\"\n", "[sentence1, sentence2]",
	              "[{value: entailment, word: \"Yes\"}, {value: neutral, word: Maybe},"
	              " {value: contradiction, word: \"No\"}]",
	              "  file: x\n  format: jsonl\n"
	              "  columns: {sentence1: sentence1, sentence2: sentence2, label: gold_label}\n");
	rc = READ_STR(t, "snli.jsonl",
	              "{\"gold_label\": \"neutral\", \"sentence1\": \"A \\\"b\\\" c\", \"sentence2\": \"d\"}\n"
	              "{\"annotator_labels\": [\"x\"], \"gold_label\": \"-\", \"sentence1\": \"e\", "
	              "\"sentence2\": \"f\"}\n"
	              "{\"sentence2\": \"h\", \"sentence1\": \"g\\u00e9\", \"gold_label\": \"entailment\"}\n"
	              "\n", &ds, err);
	if (!ok(rc == 0 && ds != NULL && ds->n == 2, "JSONL: two labelled rows"))
		diag("%s", err);
	if (ds != NULL && ds->n == 2) {
		is_int((long long)ds->skipped, 1, "JSONL: the \"-\" row is skipped and counted");
		is_string(ds->ex[0].field[0], "A \"b\" c", "JSONL: JSON string escapes decoded");
		is_int(ds->ex[0].label, 1, "JSONL: neutral -> 1");
		is_string(ds->ex[1].field[0], "g\xc3\xa9", "JSONL: keys by name in any order");
		is_int((long long)ds->ex[1].line, 3, "JSONL: line numbers");
	}
	bbt_dataset_free(ds);

	BAD(t, "badjson.jsonl", "{\"gold_label\": \"neutral\", \"sentence1\": \"a\", \"sentence2\": \"b\"}\n"
	    "{\"gold_label\": \"neutral\", \"sentence1\": \"a\"\n", BBT_EFORMAT, 2,
	    "expected one JSON object per line", "JSONL: broken line");
	BAD(t, "nokey.jsonl", "{\"gold_label\": \"neutral\", \"sentence1\": \"a\"}\n", BBT_EFORMAT, 1,
	    "missing key \"sentence2\"", "JSONL: missing key");
	BAD(t, "array.jsonl", "[1, 2]\n", BBT_EFORMAT, 1, "expected a JSON object",
	    "JSONL: not an object");
	BAD(t, "numtext.jsonl", "{\"gold_label\": \"neutral\", \"sentence1\": 3, \"sentence2\": \"b\"}\n",
	    BBT_EFORMAT, 1, "expected a string", "JSONL: number as text");
	BAD(t, "allskip.jsonl", "{\"gold_label\": \"-\", \"sentence1\": \"a\", \"sentence2\": \"b\"}\n",
	    BBT_EFORMAT, 0, "no labelled examples (1 row marked \"-\")", "JSONL: only \"-\" rows");
	bbt_task_free(t);
}

/* Only a task that declares an unlabelled marker skips rows: elsewhere
 * "-" is a label outside the set, like any other. */
static void test_unlabelled(void)
{
	bbt_task_t *t = make_task("[sentence]", LABELS01, GLUE_SST);
	BAD(t, "dash.tsv", "sentence\tlabel\ngood\t1\nwho knows\t-\n", BBT_EFORMAT, 3,
	    "label \"-\" is not one of 0, 1", "\"-\" in a task without unlabelled:");
	bbt_task_free(t);

	t = make_task_with("unlabelled: \"?\"\n", "[sentence]", LABELS01, GLUE_SST);
	bbt_dataset_t *ds;
	char err[BBT_ERRLEN];
	int rc = READ_STR(t, "mark.tsv", "sentence\tlabel\ngood\t1\nwho\t?\nbad\t0\nhm\t ? \n",
	                  &ds, err);
	ok(rc == 0 && ds != NULL && ds->n == 2 && ds->skipped == 2,
	   "unlabelled: \"?\": its rows are skipped and counted (%s)", rc ? err : "ok");
	bbt_dataset_free(ds);
	BAD(t, "dash2.tsv", "sentence\tlabel\ngood\t1\nx\t-\n", BBT_EFORMAT, 3,
	    "label \"-\" is not one of 0, 1", "another task's marker is no marker here:");
	bbt_task_free(t);
}

static void test_bad(void)
{
	bbt_task_t *t = make_task("[sentence]", LABELS01, GLUE_SST);
	BAD(t, "short.tsv", "sentence\tlabel\nfine\t1\nno label here\n", BBT_EFORMAT, 3,
	    "missing column \"label\"", "missing column");
	BAD(t, "label.tsv", "sentence\tlabel\na\t1\nb\t0\nc\tmaybe\n", BBT_EFORMAT, 4,
	    "label \"maybe\" is not one of 0, 1", "label not in the set");
	BAD(t, "empty.tsv", "", BBT_EFORMAT, 1, "empty file, expected GLUE TSV with a header naming "
	    "sentence, label", "empty file");
	BAD(t, "bomonly.tsv", "\xEF\xBB\xBF\n", BBT_EFORMAT, 1, "empty file", "only a BOM");
	BAD(t, "hdronly.tsv", "sentence\tlabel\n", BBT_EFORMAT, 2, "no examples after the header",
	    "header only");
	BAD(t, "latin1.tsv", "sentence\tlabel\ngood\t1\ncaf\xe9\t0\n", BBT_EFORMAT, 3,
	    "invalid UTF-8 byte 0xe9 at column 4", "non-UTF-8 byte");
	BAD(t, "nul.tsv", "sentence\tlabel\ngo\0od\t1\n", BBT_EFORMAT, 2, "NUL byte", "NUL byte");
	BAD(t, "hdr.tsv", "text\tlabel\ngood\t1\n", BBT_EFORMAT, 1,
	    "header has no column \"sentence\"", "header without a named column");

	bbt_dataset_t *ds = (bbt_dataset_t *)1;
	char err[BBT_ERRLEN];
	const char *missing = tmp_path("SST-2/train.tsv");
	int rc = bbt_dataset_read(t, t->test, missing, &ds, err, sizeof err);
	ok(rc == BBT_ENOTFOUND && ds == NULL, "missing file is BBT_ENOTFOUND");
	char want[400];
	snprintf(want, sizeof want,
	         "%s: no such file (expected GLUE TSV with a header naming sentence, label)", missing);
	is_string(err, want, "missing file: names the path and the expected format");
	rc = bbt_dataset_read(t, t->test, tmpdir, &ds, err, sizeof err);
	ok(rc == BBT_EIO && strstr(err, "is a directory") != NULL, "a directory is BBT_EIO");
	bbt_task_free(t);

	t = make_task("[text]", LABELS01, "  file: x\n  format: tsv-quoted\n  columns: {text: 3, label: -1}\n");
	BAD(t, "idx.tsv", "a\tb\nx\t1\n", BBT_EFORMAT, 2, "missing column 3 for text",
	    "missing column by index");
	rc = bbt_dataset_read(t, t->test, tmp_path("none.tsv"), &ds, err, sizeof err);
	like(err, "expected quoted TSV (pandas) with a header; text in column 3, label in the last "
	     "column", "missing file: describes columns by position");
	bbt_task_free(t);
}

/* Inputs that are not data files must be refused at once, not read
 * forever: a FIFO with no writer, an endless device, a line without end. */
static void test_not_files(void)
{
	bbt_task_t *t = make_task("[sentence]", LABELS01, GLUE_SST);
	bbt_dataset_t *ds = NULL;
	char err[BBT_ERRLEN];

	const char *fifo = tmp_path("fifo.tsv");
	if (mkfifo(fifo, 0600) == 0) {
		int rc = bbt_dataset_read(t, t->test, fifo, &ds, err, sizeof err);
		ok(rc == BBT_EIO && ds == NULL, "a FIFO is refused, not waited on");
		like(err, "fifo.tsv: not a regular file", "FIFO: message names the file and why");
	} else {
		skip(2, "mkfifo failed");
	}
	int rc = bbt_dataset_read(t, t->test, "/dev/zero", &ds, err, sizeof err);
	ok(rc == BBT_EIO && ds == NULL, "/dev/zero is refused, not read without end");
	like(err, "/dev/zero: not a regular file (expected GLUE TSV",
	     "/dev/zero: message names the file and the expected format");

	/* A line longer than any example of the real data sets (their longest
	 * is a few KB): refused before it is all in memory. */
	size_t long_len = (size_t)BBT_DATASET_MAX_LINE + 10;
	char *text = malloc(long_len + 32);
	if (text != NULL) {
		int head = snprintf(text, 32, "sentence\tlabel\n");
		memset(text + head, 'x', long_len);
		memcpy(text + head + long_len, "\t1\n", 4);
		bad(t, "longline.tsv", text, (size_t)head + long_len + 4, BBT_EFORMAT, 2,
		    "line longer than", "an over-long line");
		free(text);
	} else {
		skip(3, "out of memory");
	}

	/* Messages carry the whole path and the reason, however deep the
	 * data folder is. */
	char deep[1200];
	int n = snprintf(deep, sizeof deep, "%s", tmpdir);
	for (int i = 0; i < 9; i++)
		n += snprintf(deep + n, sizeof deep - (size_t)n, "/%0100d", i);
	snprintf(deep + n, sizeof deep - (size_t)n, "/train.tsv");
	rc = bbt_dataset_read(t, t->test, deep, &ds, err, sizeof err);
	char want[1400];
	snprintf(want, sizeof want,
	         "%s: no such file (expected GLUE TSV with a header naming sentence, label)", deep);
	ok(rc == BBT_ENOTFOUND, "a missing file under a %zu-byte path is BBT_ENOTFOUND",
	   strlen(deep));
	is_string(err, want, "long path: the message keeps the reason and the expected format");
	bbt_task_free(t);
}

static void test_subset(void)
{
	bbt_task_t *t = make_task("[sentence]", LABELS01, GLUE_SST);
	bbt_dataset_t *ds;
	char err[BBT_ERRLEN];
	int rc = READ_STR(t, "sub.tsv", "sentence\tlabel\na\t0\nb\t1\nc\t1\nd\t1\n", &ds, err);
	ok(rc == 0 && ds != NULL && ds->n == 4, "four examples to subset");
	if (ds != NULL) {
		size_t counts[2];
		bbt_dataset_label_counts(ds, 2, counts);
		ok(counts[0] == 1 && counts[1] == 3, "label counts 1 and 3");
		size_t idx[] = { 3, 0 };
		bbt_dataset_t *sub = bbt_dataset_subset(ds, idx, 2);
		ok(sub != NULL && sub->n == 2, "subset of two");
		if (sub != NULL && sub->n == 2) {
			is_string(sub->ex[0].field[0], "d", "subset keeps the index order");
			is_int(sub->ex[1].label, 0, "subset copies labels");
			is_int((long long)sub->ex[0].line, 5, "subset keeps source lines");
			ok(sub->ex[0].field[0] != ds->ex[3].field[0], "subset is a deep copy");
		}
		bbt_dataset_free(sub);
		sub = bbt_dataset_subset(ds, idx, 0);
		ok(sub != NULL && sub->n == 0, "empty subset");
		bbt_dataset_free(sub);
		size_t out_of_range = 4;
		ok(bbt_dataset_subset(ds, &out_of_range, 1) == NULL, "index past the end: NULL");
	}
	bbt_dataset_free(ds);
	bbt_dataset_free(NULL);
	bbt_task_free(t);
}

static void test_toy(void)
{
	bbt_dataset_t *a = bbt_toy_generate(500, 7), *b = bbt_toy_generate(500, 7);
	bbt_dataset_t *c = bbt_toy_generate(500, 8);
	ok(a && b && c && a->n == 500 && a->n_fields == 1, "toy: 500 examples, one field");
	if (a && b && c) {
		int same = 1, differ = 0, words_ok = 1;
		size_t counts[2];
		for (size_t i = 0; i < a->n; i++) {
			same &= strcmp(a->ex[i].field[0], b->ex[i].field[0]) == 0 &&
			        a->ex[i].label == b->ex[i].label;
			differ |= strcmp(a->ex[i].field[0], c->ex[i].field[0]) != 0;
			size_t words = 1;
			for (const char *s = a->ex[i].field[0]; *s; s++)
				words += *s == ' ';
			words_ok &= words >= 6 && words <= 14 && a->ex[i].line == 0;
		}
		ok(same, "toy: same seed, same data");
		ok(differ, "toy: another seed, other data");
		ok(words_ok, "toy: 6 to 14 words per sentence");
		bbt_dataset_label_counts(a, 2, counts);
		ok(counts[0] > 200 && counts[1] > 200, "toy: labels balanced-ish (%zu / %zu)",
		   counts[0], counts[1]);
		is_string(a->path, "<toy>", "toy: path <toy>");
	}
	bbt_dataset_free(a);
	bbt_dataset_free(b);
	bbt_dataset_free(c);
}

int main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		skip_all("mkdtemp failed");
	test_glue();
	test_quoted();
	test_csv();
	test_snli_kshot();
	test_unlabelled();
	test_bad();
	test_not_files();
	test_subset();
	test_toy();
	for (int i = 0; i < n_tmp; i++)
		unlink(tmp_files[i]);
	rmdir(tmpdir);
	return done_testing();
}
