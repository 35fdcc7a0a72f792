/*
 * t/checkpoint.c - state.bin (src/run/checkpoint.c): written and read back
 * field for field; another run's, version's or optimizer's file, a
 * truncated one, a changed byte, a missing file and bytes left unread
 * each refused with one line naming the file; the random stream's state
 * round trip; which plugins count as saving their state (ABI 1.3).
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "core/rng.h"
#include "core/util.h"
#include "plugin/registry.h"
#include "run/checkpoint.h"
#include "tap.h"
#include "tmptree.h"

/* 1 when the tree holds a state.bin.tmp* file (a write that was not
 * renamed into place). */
static int temp_left(void)
{
	DIR *d = opendir(tree_path("."));
	struct dirent *e;
	int found = 0;
	while (d != NULL && (e = readdir(d)) != NULL)
		found |= strncmp(e->d_name, "state.bin.tmp", 13) == 0;
	if (d != NULL)
		closedir(d);
	return found;
}

static const struct bbt_checkpoint_id id = { "1.0", "cmaes-synthetic-toy-s1-abc", "cmaes", "1.0" };

/* A checkpoint of `id` with two fields, as path. */
static int write_one(const char *path, const struct bbt_checkpoint_id *who, double v)
{
	struct bbt_checkpoint ck = { 0 };
	char err[BBT_ERRLEN];
	struct bbt_state_writer *w = bbt_checkpoint_begin(&ck, who);
	uint64_t calls = 300;
	bbt_state_put_u64(w, "calls", &calls, 1);
	bbt_state_put_f64(w, "x", &v, 1);
	int rc = bbt_checkpoint_commit(&ck, path, err, sizeof err);
	if (rc < 0)
		diag("%s", err);
	bbt_checkpoint_release(&ck);
	return rc;
}

/* Open path as `id`: the status, the message in err. */
static int open_as(const char *path, char *err, size_t errlen)
{
	struct bbt_checkpoint_file f;
	err[0] = '\0';
	int rc = bbt_checkpoint_open(&f, path, &id, err, errlen);
	bbt_checkpoint_file_release(&f);
	return rc;
}

static void refused(const char *path, const char *want, const char *what)
{
	char err[BBT_ERRLEN];
	int rc = open_as(path, err, sizeof err);
	ok(rc == BBT_EFORMAT && strstr(err, want) != NULL && strstr(err, path) != NULL &&
	   strchr(err, '\n') == NULL, "%s: refused in one line naming the file (%s)", what, err);
}

int main(void)
{
	char err[BBT_ERRLEN];
	plan(16);
	tree_init("bbt-checkpoint");
	char *path = bbt_strdup(tree_path("state.bin"));

	/* Round trip */
	ok(write_one(path, &id, 0.25) == BBT_OK, "a checkpoint is written");
	struct bbt_checkpoint_file f;
	int rc = bbt_checkpoint_open(&f, path, &id, err, sizeof err);
	uint64_t calls = 0;
	double x = 0;
	bbt_state_get_u64(&f.r, "calls", &calls, 1);
	bbt_state_get_f64(&f.r, "x", &x, 1);
	ok(rc == BBT_OK && bbt_checkpoint_close(&f) == BBT_OK && calls == 300 && x == 0.25,
	   "read back: identity checked, fields as written, nothing left over");
	bbt_checkpoint_file_release(&f);
	rc = bbt_checkpoint_open(&f, path, &id, err, sizeof err);
	bbt_state_get_u64(&f.r, "calls", &calls, 1);
	ok(rc == BBT_OK && bbt_checkpoint_close(&f) == BBT_EFORMAT && strstr(err, "bytes after"),
	   "a field left unread is an error (%s)", err);
	bbt_checkpoint_file_release(&f);
	ok(!temp_left(), "no temporary file left");

	/* Another run, version, optimizer */
	struct bbt_checkpoint_id other = id;
	other.run_id = "cmaes-synthetic-toy-s2-def";
	write_one(path, &other, 1);
	refused(path, "the state of run cmaes-synthetic-toy-s2-def, not this run's "
	              "cmaes-synthetic-toy-s1-abc", "another run's state");
	other = id;
	other.version = "0.9";
	write_one(path, &other, 1);
	refused(path, "the state of bbtbench 0.9, not this run's 1.0", "another version's state");
	other = id;
	other.optimizer = "sepcmaes";
	write_one(path, &other, 1);
	refused(path, "the state of optimizer sepcmaes, not this run's cmaes",
	        "another optimizer's state");
	other = id;
	other.optimizer_version = "2.0";
	write_one(path, &other, 1);
	refused(path, "optimizer version 2.0", "another optimizer version's state");

	/* Damage */
	write_one(path, &id, 0.25);
	struct bbt_checkpoint_file g;
	rc = bbt_checkpoint_open(&g, path, &id, err, sizeof err);
	size_t len = g.len;
	unsigned char *bytes = malloc(len);
	if (rc < 0 || bytes == NULL)
		skip_all("cannot read the checkpoint back");
	memcpy(bytes, g.data, len);
	bbt_checkpoint_file_release(&g);
	FILE *out = fopen(path, "wb");
	fclose(out);
	refused(path, "truncated or not a bbtbench state file (0 bytes", "an empty file");
	out = fopen(path, "wb");
	fwrite(bytes, 1, len - 5, out);
	fclose(out);
	refused(path, "truncated or not a bbtbench state file", "a truncated file");
	bytes[len / 2] ^= 0x10;
	out = fopen(path, "wb");
	fwrite(bytes, 1, len, out);
	fclose(out);
	refused(path, "checksum mismatch", "a changed byte");
	free(bytes);
	char *missing = bbt_strdup(tree_path("none/state.bin"));
	ok(open_as(missing, err, sizeof err) == BBT_ENOTFOUND && strstr(err, missing),
	   "no file: BBT_ENOTFOUND, naming it (%s)", err);
	free(missing);

	/* The random stream: its state goes on where it was. */
	bbt_rng_t *a = bbt_rng_alloc(42), *b = bbt_rng_alloc(7);
	uint64_t words[BBT_RNG_STATE_WORDS];
	for (int i = 0; i < 1001; i++)
		bbt_rng_normal(a);   /* an odd count: a cached deviate */
	bbt_rng_get_state(a, words);
	ok(bbt_rng_set_state(b, words) == BBT_OK, "a random stream's state loads");
	int same = 1;
	for (int i = 0; i < 2000; i++)
		same &= bbt_rng_normal(a) == bbt_rng_normal(b) && bbt_rng_u32(a) == bbt_rng_u32(b);
	ok(same, "and goes on with the same numbers, the cached deviate included");
	words[624] = 1000;
	ok(bbt_rng_set_state(b, words) == BBT_EFORMAT, "a position past the key is refused");
	bbt_rng_free(a);
	bbt_rng_free(b);

	/* Which plugins save their state: both functions, ABI 1.3 or later. */
	static const struct bbt_optimizer_ops with = { .save_state = (void *)1,
		                                       .load_state = (void *)1 };
	static const struct bbt_optimizer_ops half = { .save_state = (void *)1 };
	struct bbt_plugin d = { BBT_ABI_MAJOR, 3, BBT_PLUGIN_OPTIMIZER, "o", "1", "", NULL, 0,
		                &with, NULL };
	int yes = bbt_plugin_saves_state(&d);
	d.abi_minor = 2;   /* a 1.2 module: its table ends before the fields */
	int old = bbt_plugin_saves_state(&d);
	d.abi_minor = 3;
	d.optimizer = &half;
	ok(yes && !old && !bbt_plugin_saves_state(&d),
	   "saves state: ABI 1.3 with both functions; not a 1.2 module, not one of the two");

	free(path);
	tree_remove();
	return done_testing();
}
