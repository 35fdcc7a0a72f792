/*
 * t/prompt_file.c - a saved prompt: our safetensors writer read back by our
 * reader bit for bit (F64 z, F32 prompt, the metadata), a run's prompt
 * saved from a real setup (p = A z regenerated), and bad files refused
 * with one line naming the file: truncated, not a prompt, missing tensors.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "model/safetensors.h"
#include "plugin/registry.h"
#include "run/prompt_file.h"
#include "run/setup.h"
#include "tap.h"

static char dir[] = "/tmp/bbt-prompt-file.XXXXXX";

static char *tmp_path(const char *name)
{
	return bbt_path_join(dir, name);
}

static json_t *meta_prompt(void)
{
	json_t *m = json_object();
	json_object_set_new(m, "format", json_string(BBT_PROMPT_FILE_FORMAT));
	json_object_set_new(m, "task", json_string("toy"));
	return m;
}

/* Write z (F64 [5]) and a 2 x 3 prompt; read back exactly. */
static void roundtrip(void)
{
	double z[5] = { 1.0 / 3, -0.0, 1e-300, -2.5e10, 0.1 };
	float pr[6] = { 1.5f, -2.25f, 3.0f / 7, 0, 1e-30f, -1e30f };
	struct bbt_safetensors_out t[2] = {
		{ .name = "z", .f64 = z, .n_dims = 1, .shape = { 5 } },
		{ .name = "prompt", .f32 = pr, .n_dims = 2, .shape = { 2, 3 } },
	};
	char err[BBT_ERRLEN], *path = tmp_path("a.safetensors");
	json_t *meta = meta_prompt();
	is_int(bbt_safetensors_write(path, t, 2, meta, err, sizeof err), BBT_OK, "write");
	json_decref(meta);
	struct bbt_prompt_file pf;
	int rc = bbt_prompt_file_read(path, &pf, err, sizeof err);
	if (!is_int(rc, BBT_OK, "read back"))
		diag("%s", err);
	is_int((long long)pf.d, 5, "d");
	ok(pf.z && memcmp(pf.z, z, sizeof z) == 0, "z bit for bit (F64)");
	is_int((long long)pf.prompt_len, 2, "P");
	is_int((long long)pf.hidden, 3, "hidden");
	ok(pf.prompt && memcmp(pf.prompt, pr, sizeof pr) == 0, "prompt bit for bit (F32)");
	is_string(bbt_prompt_file_meta(&pf, "task"), "toy", "metadata");
	is_string(bbt_prompt_file_meta(&pf, "nothing"), "", "absent metadata is empty");
	bbt_prompt_file_release(&pf);

	/* the header is padded to 8 bytes; the reader agrees on the layout */
	struct bbt_safetensors st;
	rc = bbt_safetensors_open(path, &st, err, sizeof err);
	is_int(rc, BBT_OK, "the safetensors reader opens it");
	size_t hlen = 0;
	for (int i = 0; i < 8 && st.map; i++)
		hlen |= (size_t)((const unsigned char *)st.map)[i] << (8 * i);
	is_int((long long)(hlen % 8), 0, "header length a multiple of 8");
	is_int((long long)st.size, (long long)(8 + hlen + 5 * 8 + 6 * 4), "file size");
	bbt_safetensors_close(&st);

	/* truncated by a few bytes: refused, one line naming the file */
	is_int(truncate(path, 8 + (off_t)hlen + 5 * 8 + 6 * 4 - 3), 0, "truncate");
	rc = bbt_prompt_file_read(path, &pf, err, sizeof err);
	is_int(rc, BBT_EFORMAT, "a truncated file is refused");
	like(err, path, "the message names the file");
	ok(strchr(err, '\n') == NULL, "in one line: %s", err);
	ok(pf.z == NULL && pf.meta == NULL, "nothing is left to release");
	is_int(truncate(path, 4), 0, "truncate to 4 bytes");
	rc = bbt_prompt_file_read(path, &pf, err, sizeof err);
	is_int(rc, BBT_EFORMAT, "4 bytes: refused (%s)", err);
	unlink(path);
	free(path);
}

/* A deep prompt: z [2, 3] and prompt [2, 1, 2]; a prompt whose layers are
 * not z's; per-layer metadata that is not one number per layer. */
static void deep(void)
{
	double z[6] = { 1, 2, 3, -4, -5, -6 }, hats[2];
	float pr[4] = { 0.5f, 1.5f, -2.5f, 3.5f };
	struct bbt_safetensors_out t[2] = {
		{ .name = "z", .f64 = z, .n_dims = 2, .shape = { 2, 3 } },
		{ .name = "prompt", .f32 = pr, .n_dims = 3, .shape = { 2, 1, 2 } },
	};
	char err[BBT_ERRLEN], *path = tmp_path("deep.safetensors");
	json_t *meta = meta_prompt();
	json_object_set_new(meta, "layer_sigma_hats", json_string("[0.25,1e-3]"));
	json_object_set_new(meta, "layer_stds", json_string("[0.25]"));
	bbt_safetensors_write(path, t, 2, meta, err, sizeof err);
	struct bbt_prompt_file pf;
	int rc = bbt_prompt_file_read(path, &pf, err, sizeof err);
	if (!is_int(rc, BBT_OK, "deep: read back"))
		diag("%s", err);
	ok(pf.layers == 2 && pf.d == 3 && pf.prompt_len == 1 && pf.hidden == 2,
	   "deep: 2 layers of d = 3, P = 1, hidden 2");
	ok(pf.z && memcmp(pf.z, z, sizeof z) == 0 && pf.prompt &&
	   memcmp(pf.prompt, pr, sizeof pr) == 0, "deep: z and prompt bit for bit");
	rc = bbt_prompt_file_layer_values(&pf, path, "layer_sigma_hats", hats, err, sizeof err);
	ok(rc == BBT_OK && hats[0] == 0.25 && hats[1] == 1e-3, "deep: per-layer metadata read");
	rc = bbt_prompt_file_layer_values(&pf, path, "layer_stds", hats, err, sizeof err);
	is_int(rc, BBT_EFORMAT, "deep: one number for two layers is refused");
	like(err, "layer_stds: expected a JSON array of 2 numbers", "naming the key: %s", err);
	bbt_prompt_file_release(&pf);
	t[1].shape[0] = 3;
	float pr3[6] = { 0 };
	t[1].f32 = pr3;
	bbt_safetensors_write(path, t, 2, meta, err, sizeof err);
	is_int(bbt_prompt_file_read(path, &pf, err, sizeof err), BBT_EFORMAT,
	       "deep: a prompt of 3 layers beside z of 2 is refused");
	like(err, "\"prompt\" of layers (z's first dimension) x P x hidden", "says what was expected: %s",
	     err);
	json_decref(meta);
	unlink(path);
	free(path);
}

/* A safetensors file that is not a prompt, or lacks z. */
static void not_a_prompt(void)
{
	float pr[2] = { 1, 2 };
	struct bbt_safetensors_out t[1] = {
		{ .name = "prompt", .f32 = pr, .n_dims = 2, .shape = { 1, 2 } } };
	char err[BBT_ERRLEN], *path = tmp_path("b.safetensors");
	struct bbt_prompt_file pf;
	bbt_safetensors_write(path, t, 1, NULL, err, sizeof err);
	is_int(bbt_prompt_file_read(path, &pf, err, sizeof err), BBT_EFORMAT,
	       "no bbtbench metadata: refused");
	like(err, "not a bbtbench prompt", "says so: %s", err);
	json_t *meta = meta_prompt();
	bbt_safetensors_write(path, t, 1, meta, err, sizeof err);
	json_decref(meta);
	is_int(bbt_prompt_file_read(path, &pf, err, sizeof err), BBT_EFORMAT, "no z: refused");
	like(err, "\"z\"", "names the missing tensor: %s", err);
	is_int(bbt_prompt_file_read("/nonexistent/p.safetensors", &pf, err, sizeof err), BBT_EIO,
	       "a missing file: BBT_EIO");
	unlink(path);
	free(path);
}

/* A run's prompt from a real setup: p = A z as the scorer builds it. */
static void from_setup(void)
{
	char err[BBT_ERRLEN];
	struct bbt_config cfg;
	bbt_config_init(&cfg);
	const char *kv[][2] = { { "backend", "synthetic" }, { "task", "toy" }, { "dim", "7" },
		                { "prompt-len", "3" } };
	for (size_t i = 0; i < 4; i++)
		bbt_config_set(&cfg, kv[i][0], kv[i][1], "test", err, sizeof err);
	bbt_registry_t *reg = bbt_registry_alloc();
	bbt_registry_add_default_dirs(reg, NULL, 0);
	bbt_registry_scan(reg);
	struct bbt_plan p;
	struct bbt_setup s = { 0 };
	int rc = bbt_plan_init(&p, &cfg, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_setup_resolve(&s, &p, reg, err, sizeof err);
	if (rc == BBT_OK)
		rc = bbt_setup_open(&s, &p, err, sizeof err);
	if (!is_int(rc, BBT_OK, "a synthetic setup")) {
		diag("%s", err);
		skip(8, "no setup");
	} else {
		double z[7] = { 0.5, -1, 2, 0.25, -0.125, 3, 1.0 / 3 };
		char sha[65] = "";
		rc = bbt_prompt_file_save(&p, &s, z, 0.75, 40, dir, sha, err, sizeof err);
		if (!is_int(rc, BBT_OK, "saved"))
			diag("%s", err);
		is_int((long long)strlen(sha), 64, "sha256: 64 hex digits");
		char *path = tmp_path(BBT_PROMPT_FILE_NAME);
		struct bbt_prompt_file pf;
		rc = bbt_prompt_file_read(path, &pf, err, sizeof err);
		is_int(rc, BBT_OK, "read back");
		ok(pf.z && memcmp(pf.z, z, sizeof z) == 0, "z");
		float *want = malloc(s.D * sizeof *want);
		bbt_subspace_project(s.sub, z, 1, want);
		ok(pf.prompt && pf.prompt_len * pf.hidden == s.D &&
		       memcmp(pf.prompt, want, s.D * sizeof *want) == 0,
		   "prompt = A z, %zu x %zu", pf.prompt_len, pf.hidden);
		is_string(bbt_prompt_file_meta(&pf, "projection"), "normal", "projection kind");
		is_string(bbt_prompt_file_meta(&pf, "d"), "7", "d");
		is_string(bbt_prompt_file_meta(&pf, "task"), "toy", "task");
		free(want);
		bbt_prompt_file_release(&pf);
		unlink(path);
		free(path);
	}
	bbt_setup_release(&s);
	bbt_plan_release(&p);
	bbt_config_release(&cfg);
	bbt_registry_free(reg);
}

int main(void)
{
	plan(41);
	if (mkdtemp(dir) == NULL) {
		skip_all("mkdtemp");
		return 0;
	}
	roundtrip();
	not_a_prompt();
	deep();
	from_setup();
	rmdir(dir);
	return done_testing();
}
