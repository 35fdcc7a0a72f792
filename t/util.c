/*
 * t/util.c - status words, error buffers, strings, parsing, UTF-8 and
 * file helpers.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "core/util.h"

/* One UTF-8 case: bytes, their length, the expected verdict and, when
 * invalid, the offset the validator must report. */
struct utf8_case {
	const char *s;
	size_t len;
	int valid;
	size_t bad;
	const char *what;
};

#define U8(lit) lit, sizeof(lit) - 1

static const struct utf8_case utf8_cases[] = {
	{ U8(""), 1, 0, "empty string" },
	{ U8("plain ASCII"), 1, 0, "ASCII" },
	{ U8("a\0b"), 1, 0, "embedded NUL is valid UTF-8" },
	{ U8("caf\xc3\xa9"), 1, 0, "2-byte sequence (U+00E9)" },
	{ U8("\xe2\x82\xac"), 1, 0, "3-byte sequence (U+20AC)" },
	{ U8("\xf0\x9f\x98\x80"), 1, 0, "4-byte sequence (U+1F600)" },
	{ U8("\xf4\x8f\xbf\xbf"), 1, 0, "U+10FFFF, the last code point" },
	{ U8("\xef\xbb\xbfx"), 1, 0, "BOM is valid" },
	{ U8("\xed\x9f\xbf"), 1, 0, "U+D7FF, just below the surrogates" },
	{ U8("\xee\x80\x80"), 1, 0, "U+E000, just above the surrogates" },
	{ U8("ab\xc0\xaf"), 0, 2, "overlong '/' (C0 AF)" },
	{ U8("\xc1\xbf"), 0, 0, "overlong C1 BF" },
	{ U8("x\xe0\x80\xaf"), 0, 1, "overlong 3-byte '/'" },
	{ U8("\xe0\x9f\xbf"), 0, 0, "overlong 3-byte U+07FF" },
	{ U8("\xf0\x80\x80\xaf"), 0, 0, "overlong 4-byte '/'" },
	{ U8("\xf0\x8f\xbf\xbf"), 0, 0, "overlong 4-byte U+FFFF" },
	{ U8("\xed\xa0\x80"), 0, 0, "surrogate U+D800" },
	{ U8("ok\xed\xbf\xbf"), 0, 2, "surrogate U+DFFF" },
	{ U8("\xf4\x90\x80\x80"), 0, 0, "U+110000, beyond Unicode" },
	{ U8("\xf5\x80\x80\x80"), 0, 0, "lead byte F5" },
	{ U8("\xf8\x88\x80\x80\x80"), 0, 0, "5-byte form" },
	{ U8("\xff"), 0, 0, "byte FF" },
	{ U8("abc\x80"), 0, 3, "lone continuation byte" },
	{ U8("\xc3\x28"), 0, 0, "lead byte followed by ASCII" },
	{ U8("ab\xe2\x82"), 0, 2, "truncated 3-byte sequence at the end" },
	{ U8("\xc3"), 0, 0, "truncated 2-byte sequence at the end" },
	{ U8("\xf0\x9f\x98"), 0, 0, "truncated 4-byte sequence at the end" },
	{ U8("\xe2\x82\xac\xe2\x82"), 0, 3, "valid then truncated" },
};

#define N_UTF8 (sizeof utf8_cases / sizeof utf8_cases[0])

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

int main(void)
{
	plan((int)N_UTF8 + 97);

	/* --- status words and error buffers --- */
	is_string(bbt_status_str(BBT_OK), "success", "status_str OK");
	is_string(bbt_status_str(BBT_EINVAL), "invalid argument", "status_str EINVAL");
	is_string(bbt_status_str(BBT_EABI), "plugin ABI mismatch", "status_str EABI");
	is_string(bbt_status_str(-1000), "unknown status", "status_str of an unknown code");
	{
		int all = 1;
		for (int c = BBT_EINTERNAL; c <= BBT_STOP; c++)
			all &= strcmp(bbt_status_str(c), "unknown status") != 0;
		ok(all, "every status code has words");
	}

	char err[BBT_ERRLEN];
	is_int(bbt_error(err, sizeof err, BBT_EFORMAT, "%s:%d: expected %s", "t.yaml", 12, "a list"),
	       BBT_EFORMAT, "bbt_error returns the status");
	is_string(err, "t.yaml:12: expected a list", "bbt_error formats the message");
	{
		char small[8];
		bbt_error(small, sizeof small, BBT_EIO, "%s", "a long message");
		is_string(small, "a long ", "bbt_error truncates to the buffer");
	}
	is_int(bbt_error(NULL, 0, BBT_ENOMEM, "x"), BBT_ENOMEM, "bbt_error with no buffer");
	bbt_error(err, sizeof err, BBT_EIO, "cannot open");
	bbt_error_prefix(err, sizeof err, "%s:%d", "run.ini", 3);
	is_string(err, "run.ini:3: cannot open", "bbt_error_prefix");
	{
		char small[12];
		bbt_error(small, sizeof small, BBT_EIO, "boom");
		bbt_error_prefix(small, sizeof small, "context");
		is_string(small, "context: bo", "bbt_error_prefix truncates");
		bbt_error_prefix(NULL, 0, "x");
		ok(1, "bbt_error_prefix with no buffer");
	}

	/* --- strings --- */
	ok(bbt_has_extension("optimizer_random.la", ".la"), "has_extension: stem and extension");
	ok(!bbt_has_extension(".la", ".la"), "has_extension: the extension alone has no stem");
	ok(!bbt_has_extension("random.so", ".la"), "has_extension: another extension");
	ok(!bbt_has_extension("la", ".la"), "has_extension: shorter than the extension");
	{
		char *a = bbt_strdup("hello"), *b = bbt_strndup("hello", 3);
		char *c = bbt_asprintf("%d-%s", 7, "x"), *n = bbt_strdup(NULL);
		is_string(a, "hello", "strdup");
		is_string(b, "hel", "strndup");
		is_string(c, "7-x", "asprintf");
		ok(n == NULL, "strdup(NULL) is NULL");
		free(a);
		free(b);
		free(c);
	}
	{
		const struct { const char *dir, *name, *want; } cases[] = {
			{ "a", "b", "a/b" },
			{ "a/", "b", "a/b" },
			{ "/x/y", "z.txt", "/x/y/z.txt" },
			{ "a", "/abs/b", "/abs/b" },
			{ "", "b", "b" },
			{ NULL, "b", "b" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			char *j = bbt_path_join(cases[i].dir, cases[i].name);
			is_string(j, cases[i].want, "path_join(%s%s%s, \"%s\")",
			          cases[i].dir ? "\"" : "", cases[i].dir ? cases[i].dir : "NULL",
			          cases[i].dir ? "\"" : "", cases[i].name);
			free(j);
		}
	}

	/* --- UTF-8 --- */
	for (size_t i = 0; i < N_UTF8; i++) {
		const struct utf8_case *c = &utf8_cases[i];
		size_t bad = 999;
		int v = bbt_utf8_valid(c->s, c->len, &bad);
		if (c->valid)
			ok(v == 1, "utf8 valid: %s", c->what);
		else
			ok(v == 0 && bad == c->bad, "utf8 invalid at %zu: %s (got %d at %zu)",
			   c->bad, c->what, v, bad);
	}
	ok(bbt_utf8_valid("\xc3\xa9", 1, NULL) == 0, "utf8: the length bounds the scan, bad may be NULL");

	/* --- numbers --- */
	{
		long l = -1;
		ok(bbt_parse_long("42", &l) == 0 && l == 42, "parse_long 42");
		ok(bbt_parse_long("-7", &l) == 0 && l == -7, "parse_long -7");
		ok(bbt_parse_long("+5", &l) == 0 && l == 5, "parse_long +5");
		char buf[32];
		snprintf(buf, sizeof buf, "%ld", LONG_MIN);
		ok(bbt_parse_long(buf, &l) == 0 && l == LONG_MIN, "parse_long LONG_MIN");
		l = 99;
		ok(bbt_parse_long("", &l) == -1 && l == 99, "parse_long empty fails, out untouched");
		ok(bbt_parse_long("12abc", &l) == -1, "parse_long trailing junk");
		ok(bbt_parse_long("1.5", &l) == -1, "parse_long decimal");
		ok(bbt_parse_long("12 ", &l) == -1, "parse_long trailing space");
		ok(bbt_parse_long(" 12", &l) == -1, "parse_long leading space");
		ok(bbt_parse_long("99999999999999999999", &l) == -1, "parse_long out of range");
		ok(bbt_parse_long(NULL, &l) == -1, "parse_long NULL");
		ok(bbt_parse_long("-", &l) == -1, "parse_long lone sign");
	}
	{
		double d = -1;
		ok(bbt_parse_double("0.25", &d) == 0 && d == 0.25, "parse_double 0.25");
		ok(bbt_parse_double("-1e-3", &d) == 0 && d == -1e-3, "parse_double -1e-3");
		ok(bbt_parse_double("3", &d) == 0 && d == 3.0, "parse_double integer");
		ok(bbt_parse_double("1e400", &d) == -1, "parse_double overflow");
		ok(bbt_parse_double("nan", &d) == -1, "parse_double nan");
		ok(bbt_parse_double("inf", &d) == -1, "parse_double inf");
		ok(bbt_parse_double("1.5x", &d) == -1, "parse_double trailing junk");
		ok(bbt_parse_double(" 1.5", &d) == -1, "parse_double leading space");
		ok(bbt_parse_double("", &d) == -1, "parse_double empty");
	}
	{
		int b = -1;
		ok(bbt_parse_bool("true", &b) == 0 && b == 1, "parse_bool true");
		ok(bbt_parse_bool("YES", &b) == 0 && b == 1, "parse_bool YES");
		ok(bbt_parse_bool("On", &b) == 0 && b == 1, "parse_bool On");
		ok(bbt_parse_bool("1", &b) == 0 && b == 1, "parse_bool 1");
		ok(bbt_parse_bool("false", &b) == 0 && b == 0, "parse_bool false");
		ok(bbt_parse_bool("no", &b) == 0 && b == 0, "parse_bool no");
		ok(bbt_parse_bool("OFF", &b) == 0 && b == 0, "parse_bool OFF");
		ok(bbt_parse_bool("0", &b) == 0 && b == 0, "parse_bool 0");
		ok(bbt_parse_bool("maybe", &b) == -1, "parse_bool maybe");
		ok(bbt_parse_bool("", &b) == -1, "parse_bool empty");
		ok(bbt_parse_bool(NULL, &b) == -1, "parse_bool NULL");
	}

	/* --- hash --- */
	ok(bbt_hash64("", 0, BBT_HASH64_INIT) == BBT_HASH64_INIT, "hash64 of nothing is the basis");
	/* The published FNV-1a 64 test vectors. */
	ok(bbt_hash64("a", 1, BBT_HASH64_INIT) == 0xaf63dc4c8601ec8cULL, "hash64(\"a\")");
	ok(bbt_hash64("foobar", 6, BBT_HASH64_INIT) == 0x85944171f73967e8ULL, "hash64(\"foobar\")");
	ok(bbt_hash64("bar", 3, bbt_hash64("foo", 3, BBT_HASH64_INIT)) == 0x85944171f73967e8ULL,
	   "hash64 chains");
	{
		double t0 = bbt_now(), t1 = bbt_now();
		ok(t1 >= t0 && t0 > 0.0, "bbt_now is monotonic");
	}

	/* --- files --- */
	char tmpl[] = "/tmp/bbt-util-XXXXXX";
	char *root = mkdtemp(tmpl);
	if (root == NULL) {
		skip(33, "mkdtemp failed");
		return done_testing();
	}
	ok(1, "temporary directory %s", root);

	char *deep = bbt_asprintf("%s/x/y//z/", root);
	is_int(bbt_mkdir_p(deep, err, sizeof err), BBT_OK, "mkdir_p of a nested path");
	struct stat st;
	char *z = bbt_asprintf("%s/x/y/z", root);
	ok(stat(z, &st) == 0 && S_ISDIR(st.st_mode), "mkdir_p made every level");
	is_int(bbt_mkdir_p(z, err, sizeof err), BBT_OK, "mkdir_p of an existing directory");
	is_int(bbt_mkdir_p("/", err, sizeof err), BBT_OK, "mkdir_p /");
	is_int(bbt_mkdir_p("", err, sizeof err), BBT_EINVAL, "mkdir_p of an empty path fails");
	like(err, "empty", "and says so");

	/* 200 kB with NULs and every byte value: past the reader's first 64 KiB
	 * buffer, and binary-safe. */
	size_t big_len = 200000;
	unsigned char *big = malloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (unsigned char)(i * 7 + (i >> 9));
	char *f = bbt_asprintf("%s/data.bin", z);
	is_int(bbt_file_write_atomic(f, big, big_len, err, sizeof err), BBT_OK, "write_atomic 200 kB");
	char *data = NULL;
	size_t len = 0;
	is_int(bbt_file_read(f, &data, &len, err, sizeof err), BBT_OK, "file_read");
	is_int((long long)len, (long long)big_len, "read length equals written length");
	ok(data != NULL && memcmp(data, big, big_len) == 0, "read bytes equal written bytes");
	ok(data != NULL && data[len] == '\0', "buffer is NUL-terminated");
	free(data);
	is_int(count_entries(z), 1, "no temporary file left behind");

	is_int(bbt_file_write_atomic(f, "short", 5, err, sizeof err), BBT_OK, "overwrite atomically");
	is_int(bbt_file_read(f, &data, &len, err, sizeof err), BBT_OK, "read it back");
	ok(len == 5 && strcmp(data, "short") == 0, "the new content replaced the old whole");
	free(data);
	is_int(bbt_file_write_atomic(f, "", 0, err, sizeof err), BBT_OK, "write an empty file");
	is_int(bbt_file_read(f, &data, &len, err, sizeof err), BBT_OK, "read an empty file");
	ok(len == 0 && data != NULL && data[0] == '\0', "empty file reads as \"\"");
	free(data);
	is_int(count_entries(z), 1, "still one file");

	char *missing = bbt_asprintf("%s/nope.txt", root);
	data = (char *)1;
	is_int(bbt_file_read(missing, &data, &len, err, sizeof err), BBT_EIO, "reading a missing file");
	like(err, missing, "message names the file");
	like(err, strerror(ENOENT), "message gives the cause");
	ok(data == NULL && len == 0, "outputs cleared on failure");

	char *nodir = bbt_asprintf("%s/no/such/dir/f.txt", root);
	is_int(bbt_file_write_atomic(nodir, "x", 1, err, sizeof err), BBT_EIO,
	       "writing into a missing directory");
	like(err, "no/such/dir/f.txt", "message names the file");

	is_int(bbt_file_read(z, &data, &len, err, sizeof err), BBT_EIO, "reading a directory fails");
	like(err, z, "message names it");

	/* A regular file in the way of mkdir_p. */
	char *under_file = bbt_asprintf("%s/sub", f);
	is_int(bbt_mkdir_p(under_file, err, sizeof err), BBT_EIO, "mkdir_p below a regular file");
	like(err, f, "message names the path");
	is_int(bbt_mkdir_p(f, err, sizeof err), BBT_EIO, "mkdir_p of a regular file");
	like(err, "not a directory", "message says why");

	/* Clean up what we made. */
	unlink(f);
	char *y = bbt_asprintf("%s/x/y", root), *x = bbt_asprintf("%s/x", root);
	ok(rmdir(z) == 0 && rmdir(y) == 0 && rmdir(x) == 0 && rmdir(root) == 0,
	   "cleaned up the temporary tree");

	free(deep);
	free(z);
	free(y);
	free(x);
	free(big);
	free(f);
	free(missing);
	free(nodir);
	free(under_file);
	return done_testing();
}
