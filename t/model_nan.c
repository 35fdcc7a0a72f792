/*
 * t/model_nan.c - a model that computes NaN fails the run: a tiny BERT
 * with NaN weights in a layer gives every candidate a NaN loss, which must
 * end the run with exit 1, one line that says why and a result.json that
 * says "failed", never a "finished" run at chance accuracy. A NaN
 * layer_norm_epsilon is refused when the model loads (exit 2).
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tap.h"
#include "tinymodel.h"
#include "core/util.h"

static char dir[] = "/tmp/bbt-nan-XXXXXX";

/* bbtbench on the model in dir with `method`; the exit status, stderr in msg. */
static int run(const char *method, char *msg, size_t msglen)
{
	char *cmd = bbt_asprintf("'%s' --backend native --model '%s/m.gguf' --task toy --method %s"
	                         " --optimizer random --budget 40 --popsize 20 --prompt-len 2"
	                         " --quiet --out '%s/out' >/dev/null 2>'%s/err'",
	                         getenv("BBTBENCH"), dir, method, dir, dir);
	int rc = system(cmd);
	free(cmd);
	char *path = bbt_path_join(dir, "err"), *text = NULL;
	size_t len;
	msg[0] = '\0';
	if (bbt_file_read(path, &text, &len, NULL, 0) == 0)
		snprintf(msg, msglen, "%s", text);
	free(text);
	free(path);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* "status" of the one result.json under dir/out/toy/. */
static char *result_status(void)
{
	char *cmd = bbt_asprintf("cat '%s'/out/toy/*/result.json 2>/dev/null", dir);
	FILE *p = popen(cmd, "r");
	free(cmd);
	json_t *j = p ? json_loadf(p, 0, NULL) : NULL;
	if (p)
		pclose(p);
	const char *s = json_string_value(json_object_get(j, "status"));
	char *copy = s ? bbt_strdup(s) : NULL;
	json_decref(j);
	return copy;
}

static void write_model(const struct damage *d)
{
	struct tiny t;
	tiny_init(&t);
	char *path = bbt_path_join(dir, "m.gguf");
	if (tiny_write(&t, path, d) != 0)
		diag("cannot write %s", path);
	free(path);
	tiny_free(&t);
}

int main(void)
{
	if (getenv("BBTBENCH") == NULL)
		skip_all("run through make check (BBTBENCH)");
	if (mkdtemp(dir) == NULL)
		skip_all("cannot create a temporary directory");
	char msg[2048];

	struct damage fine = { 0 };
	write_model(&fine);
	ok(run("tune", msg, sizeof msg) == 0, "the tiny BERT tunes: %s", msg);

	static const char *const methods[] = { "tune", "manual" };
	struct damage nan_weights = { .nan_in = "blk.1.ffn_down.weight" };
	write_model(&nan_weights);
	for (size_t i = 0; i < 2; i++) {
		char *clean = bbt_asprintf("rm -rf '%s/out'", dir);
		if (system(clean) != 0)
			diag("cannot clean %s/out", dir);
		free(clean);
		int rc = run(methods[i], msg, sizeof msg);
		ok(rc == 1, "%s: NaN weights in blk.1.ffn_down fail the run with exit 1 (got %d)",
		   methods[i], rc);
		ok(strstr(msg, "non-finite") != NULL && strchr(msg, '\n') == msg + strlen(msg) - 1,
		   "%s: one line says why: %s", methods[i], msg);
		char *status = result_status();
		ok(status != NULL && strcmp(status, "failed") == 0,
		   "%s: result.json says \"failed\" (%s)", methods[i], status ? status : "none");
		free(status);
	}

	struct damage nan_eps = { .eps = NAN };
	write_model(&nan_eps);
	int rc = run("tune", msg, sizeof msg);
	ok(rc == 2 && strstr(msg, "layer_norm_epsilon"),
	   "a NaN layer_norm_epsilon is refused at load (exit 2, named): %d %s", rc, msg);

	char *cmd = bbt_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	return done_testing();
}
