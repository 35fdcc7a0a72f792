/*
 * t/ggml.c - the ggml backend against the native backend on the tiny
 * random models of tinymodel.h (BERT, RoBERTa, GPT-2, Llama with grouped
 * key/value heads): the same model info and tokens, and label logits
 * within 1e-4 relative with f32 weights, without and with prompts (cat,
 * add, deep), V variants per call, sequences of different lengths padded
 * in one graph or one per chunk. Q8_0 and Q4_0 weights (quantized by
 * bbt_ggml_quantize) run and stay within a stated tolerance of native's
 * logits on the same weights restored to f32. Both backends are compiled in, their descriptors renamed
 * apart, and driven through the host's real option handling.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bbtbench/plugin.h>

#include <bbtbench/model/gguf.h>
#include "plugin_host.h"
#include "tap.h"
#include "tinymodel.h"

extern const struct bbt_plugin native_plugin, ggml_plugin;

/* Quantized weights are compared with native on the same weights
 * quantized and restored to f32 (tinymodel's roundtrip): what remains is
 * ggml's own rounding of the activations to Q8_0 blocks inside its matrix
 * products (its CPU kernels do that for Q8_0 and Q4_0 weights alike):
 * 0.6 to 3 % of the largest logit on these models (Llama's the most). Against the original f32
 * weights the differences are what the quantization costs (Q8_0 ~2e-2,
 * Q4_0 up to ~0.4 on these random 32-wide models), which we only report.
 * f16 matrices: ggml rounds the activations to f16 for the products. */
#define TOL_F32 1e-4
#define TOL_F16 3e-3
#define TOL_QUANT 5e-2
struct be {
	const struct bbt_plugin *pl;
	struct plugin_host ph;
	void *st;
	struct bbt_model_info info;
	char err[BBT_ERRLEN];
};

static int be_open(struct be *b, const struct bbt_plugin *pl, const char *path, size_t P,
                   size_t Lp, const char *o1, const char *o2)
{
	const char *over[3] = { o1, o2, NULL };
	struct bbt_backend_params p = { path, P, Lp, 1 };
	b->pl = pl;
	b->st = NULL;
	b->err[0] = '\0';
	const bbt_host_t *h = plugin_host_init(&b->ph, pl, 1, over);
	if (h == NULL)
		return BBT_EINVAL;
	b->ph.quiet = 1;
	int rc = pl->backend->open(h, &p, &b->st, &b->info, b->err, sizeof b->err);
	if (rc < 0)
		plugin_host_release(&b->ph);
	return rc;
}

static void be_close(struct be *b)
{
	if (b->st == NULL)
		return;
	b->pl->backend->close(b->st);
	plugin_host_release(&b->ph);
	b->st = NULL;
}

enum { P = 4, V = 3 };

/* Largest |a - b| over the largest |b| (at least 1), as t/native's. */
static double max_rel(const float *a, const float *b, size_t n)
{
	double scale = 1, worst = 0;
	for (size_t i = 0; i < n; i++)
		scale = fmax(scale, fabs(b[i]));
	for (size_t i = 0; i < n; i++)
		worst = fmax(worst, fabs((double)a[i] - b[i]) / scale);
	return worst;
}

static float prompts[V * NL * P * H];

/* Open path with both backends (ggml with `opt` and ggml_path, which may
 * be a quantized file), score the batch without a prompt and with V
 * prompts, and return the worst relative difference, or 1e9 when
 * something failed (with a diag). */
static double compare(const char *path, const char *ggml_path, size_t Pb, size_t Lp,
                      const char *mode, const char *opt, int with_prompt)
{
	struct be n, g;
	char m[64] = "";
	if (mode != NULL)
		snprintf(m, sizeof m, "prompt_mode=%s", mode);
	if (be_open(&n, &native_plugin, path, Pb, Lp, m[0] ? m : NULL, NULL) < 0) {
		diag("native: %s", n.err);
		return 1e9;
	}
	if (be_open(&g, &ggml_plugin, ggml_path, Pb, Lp, m[0] ? m : NULL, opt) < 0) {
		diag("ggml: %s", g.err);
		be_close(&n);
		return 1e9;
	}
	struct bbt_batch bt;
	tiny_batch(&bt, n.info.causal, Pb, Lp);
	size_t nv = with_prompt ? V : 1;
	float ln[V * NSEQ * NLAB], lg[V * NSEQ * NLAB];
	const float *pr = with_prompt ? prompts : NULL;
	double e = 1e9;
	if (native_plugin.backend->score(n.st, &bt, pr, nv, ln, n.err, sizeof n.err) < 0)
		diag("native score: %s", n.err);
	else if (ggml_plugin.backend->score(g.st, &bt, pr, nv, lg, g.err, sizeof g.err) < 0)
		diag("ggml score: %s", g.err);
	else
		e = max_rel(lg, ln, nv * NSEQ * NLAB);
	be_close(&n);
	be_close(&g);
	return e;
}

/* The model info and a few tokenizations agree. */
static void same_info(const char *path, const char *name)
{
	struct be n, g;
	int rn = be_open(&n, &native_plugin, path, 0, 1, NULL, NULL);
	int rg = be_open(&g, &ggml_plugin, path, 0, 1, NULL, NULL);
	ok(rn == 0 && rg == 0, "%s: both backends open it%s%s", name, rg ? ": " : "", rg ? g.err : "");
	if (rn < 0 || rg < 0) {
		skip(2, "not open");
		be_close(&n);
		be_close(&g);
		return;
	}
	const struct bbt_model_info *a = &n.info, *b = &g.info;
	ok(strcmp(a->arch, b->arch) == 0 && a->hidden == b->hidden && a->layers == b->layers &&
	   a->vocab_size == b->vocab_size && a->max_len == b->max_len && a->causal == b->causal &&
	   a->bos_id == b->bos_id && a->eos_id == b->eos_id && a->mask_id == b->mask_id &&
	   a->pad_id == b->pad_id && fabs(a->embed_std - b->embed_std) < 1e-12 &&
	   fabs(a->embed_mean - b->embed_mean) < 1e-12, "%s: the same model info", name);
	static const char *const texts[] = { "hello world", " great", "Hello, World!" };
	int same = 1;
	for (size_t i = 0; i < 3; i++) {
		int32_t x[16], y[16];
		size_t nx = 0, ny = 0;
		native_plugin.backend->tokenize(n.st, texts[i], x, 16, &nx, n.err, sizeof n.err);
		ggml_plugin.backend->tokenize(g.st, texts[i], y, 16, &ny, g.err, sizeof g.err);
		same = same && nx == ny && memcmp(x, y, nx * sizeof *x) == 0;
	}
	ok(same && strcmp(ggml_plugin.backend->token_text(g.st, 7), native_plugin.backend->token_text(n.st, 7)) == 0,
	   "%s: the same tokens", name);
	be_close(&n);
	be_close(&g);
}

/* The f32 comparisons of one model. */
static void family(const char *path, const char *name, int causal)
{
	same_info(path, name);
	double e = compare(path, path, 0, 1, NULL, NULL, 0);
	ok(e < TOL_F32, "%s: no prompt, logits as native's (max rel diff %.2g)", name, e);
	e = compare(path, path, P, 1, NULL, NULL, 1);
	ok(e < TOL_F32, "%s: cat prompts, V=%d, padded batch (max rel diff %.2g)", name, V, e);
	e = compare(path, path, P, 1, NULL, "max_rows=1", 1);
	ok(e < TOL_F32, "%s: one sequence per graph (max_rows=1) (max rel diff %.2g)", name, e);
	e = compare(path, path, P, 1, "add", NULL, 1);
	ok(e < TOL_F32, "%s: add prompts%s (max rel diff %.2g)", name,
	   causal ? " (decoders: the same as cat)" : "", e);
	e = compare(path, path, P, NL, NULL, NULL, 1);
	ok(e < TOL_F32, "%s: deep prompts, one per layer (max rel diff %.2g)", name, e);
}

/* Quantized matrices: ggml on the quantized file qpath against native on
 * rpath, the same weights quantized and restored to f32, and against the
 * original f32 file path. */
static void quantized(const char *path, const char *qpath, const char *rpath, const char *name,
                      uint32_t type)
{
	const char *tn = bbt_ggml_type_name(type);
	double e = compare(rpath, qpath, P, 1, NULL, NULL, 1);
	ok(e < TOL_QUANT && e > 0, "%s %s: logits within %.0e of native's on the restored weights "
	   "(max rel diff %.2g)", name, tn, TOL_QUANT, e);
	e = compare(path, qpath, P, 1, NULL, NULL, 1);
	ok(e < 1, "%s %s: and %.2g from native's on the original f32 weights", name, tn, e);
	struct be n;
	int rc = be_open(&n, &native_plugin, qpath, 0, 1, NULL, NULL);
	ok(rc == BBT_ENOTSUP, "%s %s: the native backend refuses the quantized file", name, tn);
	be_close(&n);
}

static void bad_input(const char *path)
{
	struct be g;
	int rc = be_open(&g, &ggml_plugin, path, 0, 1, "device=NoSuchDevice", NULL);
	ok(rc == BBT_ENOTFOUND, "an unknown device is refused");
	like(g.err, "no device \"NoSuchDevice\"", "and named, with the devices there are (%s)", g.err);
	rc = be_open(&g, &ggml_plugin, path, 0, 1, NULL, NULL);
	if (rc < 0) {
		skip(4, "not open");
		return;
	}
	int32_t ids[NPOS + 1];
	for (int i = 0; i <= NPOS; i++)
		ids[i] = 5;
	size_t off[2] = { 0, NPOS + 1 }, zero = 0, one = 1;
	struct bbt_batch b;
	tiny_batch(&b, 0, 0, 1);
	b.n_seq = 1;
	b.ids = ids;
	b.offset = off;
	b.predict_pos = &zero;
	b.prompt_pos = &one;
	float lg[NLAB];
	rc = ggml_plugin.backend->score(g.st, &b, NULL, 1, lg, g.err, sizeof g.err);
	ok(rc == BBT_EINVAL, "a sequence over the model's positions is refused");
	like(g.err, "over the model's 64 positions", "and the message says so");
	int32_t unk[1] = { 1 };
	tiny_batch(&b, 0, 0, 1);
	b.n_labels = 1;
	b.label_ids = unk;
	rc = ggml_plugin.backend->score(g.st, &b, NULL, 1, lg, g.err, sizeof g.err);
	ok(rc == BBT_EINVAL, "a label word that is [UNK] is refused");
	like(g.err, "not in this vocabulary", "and the message says so");
	be_close(&g);
}

int main(void)
{
	char path[] = "/tmp/bbt-ggml-XXXXXX", qpath[] = "/tmp/bbt-ggml-q-XXXXXX";
	char rpath[] = "/tmp/bbt-ggml-r-XXXXXX";
	int fd = mkstemp(path), qfd = mkstemp(qpath), rfd = mkstemp(rpath);
	if (fd < 0 || qfd < 0 || rfd < 0)
		skip_all("cannot create a temporary file");
	close(fd);
	close(qfd);
	close(rfd);
	for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++)
		prompts[i] = (float)(0.5 * rnd_normal());
	static const uint32_t qs[2] = { BBT_GGML_Q8_0, BBT_GGML_Q4_0 };

	struct tiny t;
	tiny_init(&t);
	for (int rob = 0; rob <= 1; rob++) {
		const char *name = rob ? "RoBERTa" : "BERT";
		struct damage d = { .roberta = rob };
		ok(tiny_write(&t, path, &d) == 0, "write a tiny random %s", name);
		family(path, name, 0);
		for (size_t q = 0; q < 2; q++) {
			struct damage dq = { .roberta = rob, .mtype = qs[q] };
			tiny_write(&t, qpath, &dq);
			dq.roundtrip = 1;
			tiny_write(&t, rpath, &dq);
			quantized(path, qpath, rpath, name, qs[q]);
		}
	}
	struct damage f16 = { .mtype = BBT_GGML_F16 };
	tiny_write(&t, path, &f16);
	double e = compare(path, path, P, 1, NULL, NULL, 1);
	ok(e < TOL_F16, "BERT with f16 matrices: as native on the same file (max rel diff %.2g)", e);
	struct damage none = { 0 };
	tiny_write(&t, path, &none);
	bad_input(path);
	struct damage drop = { .drop = "blk.1.ffn_down.weight" };
	tiny_write(&t, path, &drop);
	struct be g;
	int rc = be_open(&g, &ggml_plugin, path, 0, 1, NULL, NULL);
	ok(rc == BBT_ENOTFOUND && g.st == NULL, "a missing tensor is refused");
	like(g.err, "blk.1.ffn_down.weight is missing", "and named");
	tiny_free(&t);

	for (int llama = 0; llama <= 1; llama++) {
		const char *name = llama ? "Llama" : "GPT-2";
		struct tdec d;
		tdec_init(&d, llama);
		ok(tdec_write(&d, path, 0, 0) == 0, "write a tiny random %s", name);
		family(path, name, 1);
		for (size_t q = 0; q < 2; q++) {
			tdec_write(&d, qpath, qs[q], 0);
			tdec_write(&d, rpath, qs[q], 1);
			quantized(path, qpath, rpath, name, qs[q]);
		}
		tiny_free(&d.mem);
	}
	unlink(path);
	unlink(qpath);
	unlink(rpath);
	return done_testing();
}
