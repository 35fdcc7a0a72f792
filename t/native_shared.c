/*
 * t/native_shared.c - the native backend on the real pretrained model in
 * ../shared/models/bert-l8-h128-reviews (skipped when absent): convert it
 * with `bbtbench convert`, check that clearly positive sentences rank
 * " great" above " terrible" and " bad", and reproduce the model README's
 * zero-shot SST-2 accuracy ({terrible, great}, 56.1% of the 872 GLUE dev
 * sentences) with no prompt at all, through the backend API, with the
 * README's template `[CLS] <sentence> . it was [MASK] . [SEP]`; and the
 * prompt gradient against finite differences (t/native_fd.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bbtbench/plugin.h>

#include "native_fd.h"
#include "tap.h"
#include "core/util.h"

extern const struct bbt_plugin bbt_plugin;

static const char *opt_str(void *ctx, const char *key)
{
	(void)ctx;
	return strcmp(key, "prompt_mode") == 0 ? "cat" : "";
}
static long opt_int(void *ctx, const char *key)
{
	(void)ctx;
	return strcmp(key, "max_rows") == 0 ? 4096 : 0;
}
static double opt_double(void *ctx, const char *key) { (void)ctx; (void)key; return 0; }
static int opt_bool(void *ctx, const char *key) { (void)ctx; (void)key; return 0; }
static double r_u(void *ctx) { (void)ctx; return 0.5; }
static uint64_t r_i(void *ctx, uint64_t n) { (void)ctx; (void)n; return 0; }
static void say(void *ctx, enum bbt_log_level l, const char *fmt, ...)
{
	(void)ctx;
	(void)l;
	va_list ap;
	fprintf(stderr, "# ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

struct enc {
	int32_t *ids;
	size_t *off, *pred, *pp, n, cap, nseq, capseq;
};

/* Append "[CLS] text . it was [MASK] . [SEP]" */
static int add_sentence(void *st, struct enc *e, const char *sentence, char *err)
{
	char *text = bbt_asprintf("%s . it was [MASK] .", sentence);
	size_t n = 0;
	int rc = bbt_plugin.backend->tokenize(st, text, NULL, 0, &n, err, BBT_ERRLEN);
	if (rc < 0) {
		free(text);
		return rc;
	}
	if (e->n + n + 2 > e->cap) {
		e->cap = 2 * (e->n + n + 2) + 1024;
		e->ids = realloc(e->ids, e->cap * sizeof *e->ids);
	}
	if (e->nseq + 2 > e->capseq) {
		e->capseq = 2 * e->nseq + 64;
		e->off = realloc(e->off, (e->capseq + 1) * sizeof *e->off);
		e->pred = realloc(e->pred, e->capseq * sizeof *e->pred);
		e->pp = realloc(e->pp, e->capseq * sizeof *e->pp);
	}
	e->off[e->nseq] = e->n;
	e->ids[e->n++] = 101;   /* [CLS] */
	bbt_plugin.backend->tokenize(st, text, e->ids + e->n, n, &n, err, BBT_ERRLEN);
	size_t mask = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		if (e->ids[e->n + i] == 103)
			mask = i + 1;
	e->n += n;
	e->ids[e->n++] = 102;   /* [SEP] */
	e->pred[e->nseq] = mask;
	e->pp[e->nseq] = 1;
	e->nseq++;
	e->off[e->nseq] = e->n;
	free(text);
	return mask == SIZE_MAX ? -1 : 0;
}

static int32_t word_id(void *st, const char *w)
{
	int32_t id = -1;
	size_t n = 0;
	char err[BBT_ERRLEN];
	bbt_plugin.backend->tokenize(st, w, &id, 1, &n, err, sizeof err);
	return n == 1 ? id : -1;
}

int main(void)
{
	const char *shared = getenv("BBT_SHARED_DIR");
	const char *bbtbench = getenv("BBTBENCH");
	if (shared == NULL || bbtbench == NULL)
		skip_all("run through make check (BBT_SHARED_DIR, BBTBENCH)");
	char *mdir = bbt_asprintf("%s/models/bert-l8-h128-reviews", shared);
	char *dev = bbt_asprintf("%s/tasks/SST-2/dev.tsv", shared);
	if (access(mdir, R_OK) != 0 || access(dev, R_OK) != 0) {
		free(mdir);
		free(dev);
		skip_all("no ../shared/models/bert-l8-h128-reviews or ../shared/tasks/SST-2");
	}
	char tmpdir[] = "/tmp/bbt-native-shared-XXXXXX";
	if (mkdtemp(tmpdir) == NULL)
		skip_all("cannot create a temporary directory");
	char *gguf = bbt_asprintf("%s/bert.gguf", tmpdir);
	char *cmd = bbt_asprintf("'%s' convert -q '%s' -o '%s'", bbtbench, mdir, gguf);
	ok(system(cmd) == 0, "bbtbench convert the shared BERT model");

	bbt_host_t host = { NULL, say, r_u, r_u, r_i, opt_int, opt_double, opt_bool, opt_str };
	struct bbt_backend_params p = { gguf, 0, 1, 1 };
	struct bbt_model_info info;
	void *st = NULL;
	char err[BBT_ERRLEN];
	int rc = bbt_plugin.backend->open(&host, &p, &st, &info, err, sizeof err);
	ok(rc == 0, "open: %s", rc ? err : "ok");
	if (rc != 0)
		return done_testing();
	is_double(info.embed_std, 0.0855, 0.00005, "embedding std is the README's 0.0855 (%.6f)",
	          info.embed_std);

	int32_t lab[3] = { word_id(st, " great"), word_id(st, " terrible"), word_id(st, " bad") };
	ok(lab[0] >= 0 && lab[1] >= 0 && lab[2] >= 0, "great, terrible, bad are single tokens");

	static const char *const positive[] = {
		"a wonderful , moving film with brilliant performances",
		"one of the best movies i have ever seen",
		"an absolute delight from start to finish",
		"beautifully made and deeply touching",
		"a great , great film",
	};
	struct enc e = { 0 };
	for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++)
		add_sentence(st, &e, positive[i], err);
	struct bbt_batch b = { e.nseq, e.ids, e.off, e.pred, e.pp, 3, lab, 0, 1 };
	float *lg = malloc(e.nseq * 3 * sizeof *lg);
	rc = bbt_plugin.backend->score(st, &b, NULL, 1, lg, err, sizeof err);
	int ranked = rc == 0;
	for (size_t i = 0; ranked && i < e.nseq; i++)
		ranked = lg[i * 3] > lg[i * 3 + 1] && lg[i * 3] > lg[i * 3 + 2];
	ok(ranked, "clearly positive sentences rank \" great\" above \" terrible\" and \" bad\"");
	free(lg);

	/* zero-shot SST-2 over the GLUE dev set */
	char *data;
	size_t len;
	e.n = e.nseq = 0;
	rc = bbt_file_read(dev, &data, &len, err, sizeof err);
	int *gold = malloc(1000 * sizeof *gold);
	size_t ng = 0;
	for (char *line = strchr(data, '\n') + 1, *nl; rc == 0 && line < data + len; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = data + len;
		*nl = '\0';
		char *tab = strrchr(line, '\t');
		if (tab == NULL)
			continue;
		*tab = '\0';
		if (ng < 1000 && add_sentence(st, &e, line, err) == 0)
			gold[ng++] = atoi(tab + 1);
	}
	is_int((long long)ng, 872, "872 SST-2 dev sentences");
	int32_t tg[2] = { lab[1], lab[0] };   /* {terrible, great} */
	struct bbt_batch zb = { e.nseq, e.ids, e.off, e.pred, e.pp, 2, tg, 0, 1 };
	lg = malloc(e.nseq * 2 * sizeof *lg);
	double t0 = bbt_now();
	rc = bbt_plugin.backend->score(st, &zb, NULL, 1, lg, err, sizeof err);
	double secs = bbt_now() - t0;
	size_t right = 0, great = 0;
	for (size_t i = 0; rc == 0 && i < ng; i++) {
		int predict = lg[2 * i + 1] > lg[2 * i];
		right += predict == gold[i];
		great += predict;
	}
	double acc = 100.0 * (double)right / (double)ng;
	diag("zero-shot SST-2 {terrible, great}: %zu / %zu = %.2f%%, predicts great for %.1f%%, "
	     "%.2f s for %zu sequences", right, ng, acc, 100.0 * (double)great / (double)ng, secs, ng);
	is_double(acc, 56.1, 0.06, "zero-shot accuracy is the README's 56.1%% (%.2f%%)", acc);
	is_double(100.0 * (double)great / (double)ng, 94, 0.5, "it predicts great for 94%% of sentences");

	/* ranking quality of great - terrible: ROC AUC, README 0.855 */
	double pairs = 0, wins = 0;
	for (size_t i = 0; rc == 0 && i < ng; i++)
		for (size_t j = 0; j < ng; j++)
			if (gold[i] == 1 && gold[j] == 0) {
				double si = lg[2 * i + 1] - lg[2 * i], sj = lg[2 * j + 1] - lg[2 * j];
				pairs += 1;
				wins += si > sj ? 1 : si == sj ? 0.5 : 0;
			}
	is_double(wins / pairs, 0.855, 0.0006, "ROC AUC of great - terrible is the README's 0.855 (%.4f)",
	          wins / pairs);
	int32_t bg[2] = { lab[2], word_id(st, " good") };   /* {bad, good} */
	zb.label_ids = bg;
	rc = bbt_plugin.backend->score(st, &zb, NULL, 1, lg, err, sizeof err);
	right = 0;
	for (size_t i = 0; rc == 0 && i < ng; i++)
		right += (lg[2 * i + 1] > lg[2 * i]) == gold[i];
	is_double(100.0 * (double)right / (double)ng, 55.2, 0.06,
	          "zero-shot {bad, good} is the README's 55.2%% (%.2f%%)", 100.0 * (double)right / (double)ng);
	/* BBT's starting point: 50 zero prompt vectors after [CLS] (z = 0), the
	 * prompt entering as input embeddings (prompt_mode=cat); README: 53.0 */
	bbt_plugin.backend->close(st);
	st = NULL;
	struct bbt_backend_params pp50 = { gguf, 50, 1, 1 };
	rc = bbt_plugin.backend->open(&host, &pp50, &st, &info, err, sizeof err);
	float *zero = calloc(50 * info.hidden, sizeof *zero);
	zb.label_ids = tg;
	zb.prompt_len = 50;
	if (rc == 0)
		rc = bbt_plugin.backend->score(st, &zb, zero, 1, lg, err, sizeof err);
	right = 0;
	for (size_t i = 0; rc == 0 && i < ng; i++)
		right += (lg[2 * i + 1] > lg[2 * i]) == gold[i];
	is_double(100.0 * (double)right / (double)ng, 53.0, 0.06,
	          "50 zero prompt vectors after [CLS], {terrible, great}: the README's 53.0%% (%.2f%%)",
	          100.0 * (double)right / (double)ng);
	free(zero);

	/* the prompt gradient on the real model (t/native_fd.h): 6 sentences, a
	 * prompt at the projection's scale (the embedding std) */
	enum { GV = 1, GS = 6, GP = 50 };
	size_t gn = GV * GP * info.hidden;
	float *gp = malloc(gn * sizeof *gp), *grad = malloc(gn * sizeof *grad), gl[GV * GS * 2];
	uint64_t rs = 1;
	for (size_t i = 0; i < gn; i++)
		gp[i] = (float)(info.embed_std * fd_normal(&rs));
	struct bbt_batch gb = zb;
	gb.n_seq = GS;
	struct fd_loss ls = { GS, 2, NULL, 0 };
	if (rc == 0)
		rc = bbt_plugin.backend->gradient(st, &gb, gp, GV, fd_dloss, &ls, gl, grad, err, sizeof err);
	double t1 = bbt_now();
	double fe = rc == 0 ? fd_check(st, &gb, &ls, gp, grad, GV, gn, 0.25, &rs) : 1;
	ok(rc == 0 && fe <= 1e-3, "shared BERT, cat prompts, %d sentences, V=%d: gradient = finite "
	   "differences (max rel err %.2g; %.1f s)", GS, GV, fe, bbt_now() - t1);
	free(gp);
	free(grad);
	free(lg);
	free(gold);
	free(data);
	free(e.ids);
	free(e.off);
	free(e.pred);
	free(e.pp);
	bbt_plugin.backend->close(st);
	unlink(gguf);
	rmdir(tmpdir);
	free(gguf);
	free(cmd);
	free(mdir);
	free(dev);
	return done_testing();
}
