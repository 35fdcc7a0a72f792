/*
 * t/native.c - the native backend on the tiny random models of tinymodel.h:
 * the forward pass against a naive double-precision reference written
 * here, batching invariance (alone, in
 * a batch, among V prompt variants, in small chunks), cat/add/deep
 * prompts, f16 weights, the WordPiece tokenizer, and bad models / inputs;
 * and the deep prompts' gradient against the reference's central
 * differences, coordinate by coordinate, in double.
 * The backend's sources are compiled in and driven through its descriptor.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bbtbench/plugin.h>

#include <bbtbench/model/gguf.h>
#include "tap.h"
#include "tinymodel.h"

extern const struct bbt_plugin bbt_plugin;

/* ------------------------------------------------------------------ */
/* Fake host: the plugin's defaults plus key=value overrides. */

#define MAX_OPTS 8
struct fake_host {
	const char *key[MAX_OPTS];
	char val[MAX_OPTS][64];
	size_t n;
};

static const char *fake_value(void *ctx, const char *key)
{
	struct fake_host *f = ctx;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->key[i], key) == 0)
			return f->val[i];
	return NULL;
}

static void fake_log(void *ctx, enum bbt_log_level level, const char *fmt, ...)
{
	(void)ctx;
	(void)level;
	(void)fmt;
}

static double fake_uniform(void *ctx) { (void)ctx; return 0.5; }
static double fake_normal(void *ctx) { (void)ctx; return 0.0; }
static uint64_t fake_uint(void *ctx, uint64_t n) { (void)ctx; (void)n; return 0; }
static long fake_int(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? strtol(v, NULL, 10) : 0;
}
static double fake_double(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? strtod(v, NULL) : 0;
}
static int fake_bool(void *ctx, const char *key) { return fake_int(ctx, key) != 0; }
static const char *fake_string(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? v : "";
}

static void fake_init(struct fake_host *f, bbt_host_t *h, const char *over)
{
	memset(f, 0, sizeof *f);
	for (const struct bbt_option_spec *o = bbt_plugin.options; o->name; o++) {
		f->key[f->n] = o->name;
		snprintf(f->val[f->n], sizeof f->val[0], "%s", o->def ? o->def : "");
		f->n++;
	}
	if (over != NULL) {
		const char *eq = strchr(over, '=');
		for (size_t i = 0; i < f->n; i++)
			if (strncmp(f->key[i], over, (size_t)(eq - over)) == 0 && f->key[i][eq - over] == '\0')
				snprintf(f->val[i], sizeof f->val[0], "%s", eq + 1);
	}
	h->ctx = f;
	h->log = fake_log;
	h->rng_uniform = fake_uniform;
	h->rng_normal = fake_normal;
	h->rng_uint = fake_uint;
	h->opt_int = fake_int;
	h->opt_double = fake_double;
	h->opt_bool = fake_bool;
	h->opt_string = fake_string;
}

/* ------------------------------------------------------------------ */
/* The reference: straightforward loops in double. */

static void ref_ln(double *x, const float *g, const float *b)
{
	double m = 0, v = 0;
	for (int i = 0; i < H; i++)
		m += x[i];
	m /= H;
	for (int i = 0; i < H; i++)
		v += (x[i] - m) * (x[i] - m);
	v /= H;
	for (int i = 0; i < H; i++)
		x[i] = (x[i] - m) / sqrt(v + 1e-12) * g[i] + b[i];
}

static double ref_gelu(double x)
{
	return 0.5 * x * (1 + erf(x / sqrt(2.0)));
}

/* y[out] = W[out][in] x + b */
static void ref_lin(double *y, const float *w, const float *b, const double *x, int in, int out)
{
	for (int o = 0; o < out; o++) {
		double s = b[o];
		for (int i = 0; i < in; i++)
			s += (double)w[o * in + i] * x[i];
		y[o] = s;
	}
}

static int ref_pos_off = POS_OFF;   /* row of position 0 in t->pos: BERT files skip the first 2 */

/* Logits of labels for one sequence; prompt: [Lp][P][H] or NULL. */
static void ref_forward(const struct tiny *t, const int32_t *ids, int n, size_t pp, size_t pred,
                        const float *prompt, int P, int Lp, int add_mode, const int32_t *labels,
                        int nl, double *out)
{
	if (prompt == NULL)
		P = 0;
	int T = n + P;
	double (*x)[H] = calloc((size_t)T, sizeof *x);
	double (*q)[H] = calloc((size_t)T, sizeof *q), (*k)[H] = calloc((size_t)T, sizeof *k);
	double (*v)[H] = calloc((size_t)T, sizeof *v), (*c)[H] = calloc((size_t)T, sizeof *c);
	double *s = calloc((size_t)T, sizeof *s), tmp[FF], tmp2[H];
	for (int p = 0; p < T; p++) {
		int is_prompt = P > 0 && p >= (int)pp && p < (int)pp + P;
		for (int h = 0; h < H; h++) {
			double wv;
			if (is_prompt)
				wv = add_mode ? 0 : prompt[(p - (int)pp) * H + h];
			else
				wv = t->tok[ids[p < (int)pp || P == 0 ? p : p - P] * H + h];
			x[p][h] = wv + t->pos[(p + ref_pos_off) * H + h] + t->type[h];
		}
		ref_ln(x[p], t->eg, t->eb);
		if (is_prompt && add_mode)
			for (int h = 0; h < H; h++)
				x[p][h] += prompt[(p - (int)pp) * H + h];
	}
	int dh = H / HEADS;
	for (int l = 0; l < NL; l++) {
		if (P > 0 && Lp > 1 && l > 0)
			for (int p = 0; p < P; p++)
				for (int h = 0; h < H; h++)
					x[pp + (size_t)p][h] += prompt[((size_t)l * P + (size_t)p) * H + (size_t)h];
		for (int p = 0; p < T; p++) {
			ref_lin(q[p], t->wq[l], t->bq[l], x[p], H, H);
			ref_lin(k[p], t->wk[l], t->bk[l], x[p], H, H);
			ref_lin(v[p], t->wv[l], t->bv[l], x[p], H, H);
		}
		for (int hd = 0; hd < HEADS; hd++) {
			for (int i = 0; i < T; i++) {
				double mx = -1e300, sum = 0;
				for (int j = 0; j < T; j++) {
					double d = 0;
					for (int e = 0; e < dh; e++)
						d += q[i][hd * dh + e] * k[j][hd * dh + e];
					s[j] = d / sqrt((double)dh);
					if (s[j] > mx)
						mx = s[j];
				}
				for (int j = 0; j < T; j++)
					sum += (s[j] = exp(s[j] - mx));
				for (int e = 0; e < dh; e++) {
					double a = 0;
					for (int j = 0; j < T; j++)
						a += s[j] / sum * v[j][hd * dh + e];
					c[i][hd * dh + e] = a;
				}
			}
		}
		for (int p = 0; p < T; p++) {
			ref_lin(tmp2, t->wo[l], t->bo[l], c[p], H, H);
			for (int h = 0; h < H; h++)
				x[p][h] += tmp2[h];
			ref_ln(x[p], t->g1[l], t->b1n[l]);
			ref_lin(tmp, t->w1[l], t->b1[l], x[p], H, FF);
			for (int f = 0; f < FF; f++)
				tmp[f] = ref_gelu(tmp[f]);
			ref_lin(tmp2, t->w2[l], t->b2[l], tmp, FF, H);
			for (int h = 0; h < H; h++)
				x[p][h] += tmp2[h];
			ref_ln(x[p], t->g2[l], t->b2n[l]);
		}
	}
	int row = P > 0 && pred >= pp ? (int)pred + P : (int)pred;
	ref_lin(tmp2, t->mw, t->mb, x[row], H, H);
	for (int h = 0; h < H; h++)
		tmp2[h] = ref_gelu(tmp2[h]);
	ref_ln(tmp2, t->mg, t->mbn);
	for (int j = 0; j < nl; j++) {
		double d = t->ob[labels[j]];
		for (int h = 0; h < H; h++)
			d += tmp2[h] * t->tok[labels[j] * H + h];
		out[j] = d;
	}
	free(x); free(q); free(k); free(v); free(c); free(s);
}

/* ------------------------------------------------------------------ */

struct be {
	struct fake_host fh;
	bbt_host_t host;
	void *st;
	struct bbt_model_info info;
};

static int be_open(struct be *b, const char *path, const char *over, size_t P, size_t Lp,
                   char *err)
{
	struct bbt_backend_params p = { path, P, Lp, 1 };
	fake_init(&b->fh, &b->host, over);
	b->st = NULL;
	return bbt_plugin.backend->open(&b->host, &p, &b->st, &b->info, err, BBT_ERRLEN);
}

/* Three sequences of different lengths: [CLS] ... [MASK] ... [SEP]. */
static const int32_t seq_ids[] = {
	2, 5, 7, 4, 16, 3,                /* 6 tokens, mask at 3 */
	2, 20, 21, 15, 4, 3,              /* 6 tokens */
	2, 14, 15, 22, 12, 21, 16, 4, 3,  /* 9 tokens, mask at 7 */
};
static const size_t seq_off[] = { 0, 6, 12, 21 };
static const size_t seq_pred[] = { 3, 4, 7 };
static const size_t seq_pp[] = { 1, 1, 1 };
static const int32_t labels[] = { 12, 13, 5 };
#define SEQS 3
#define LABS 3

static double max_rel(const float *got, const double *want, size_t n)
{
	double scale = 0, worst = 0;
	for (size_t i = 0; i < n; i++)
		if (fabs(want[i]) > scale)
			scale = fabs(want[i]);
	if (scale < 1)
		scale = 1;
	for (size_t i = 0; i < n; i++) {
		double e = fabs(got[i] - want[i]) / scale;
		if (e > worst)
			worst = e;
	}
	return worst;
}

static void batch_of(struct bbt_batch *b, size_t P, size_t Lp)
{
	memset(b, 0, sizeof *b);
	b->n_seq = SEQS;
	b->ids = seq_ids;
	b->offset = seq_off;
	b->predict_pos = seq_pred;
	b->prompt_pos = seq_pp;
	b->n_labels = LABS;
	b->label_ids = labels;
	b->prompt_len = P;
	b->prompt_layers = Lp;
}

/* Score the batch under V prompts and compare with the reference. */
static double check_forward(const struct tiny *t, struct be *b, const float *prompts, size_t V,
                            size_t P, size_t Lp, int add_mode, float *logits)
{
	struct bbt_batch bt;
	char err[BBT_ERRLEN];
	batch_of(&bt, P, Lp);
	int rc = bbt_plugin.backend->score(b->st, &bt, prompts, V, logits, err, sizeof err);
	if (rc != 0) {
		diag("score: %s", err);
		return 1e9;
	}
	double worst = 0;
	for (size_t v = 0; v < V; v++)
		for (size_t i = 0; i < SEQS; i++) {
			double want[LABS];
			ref_forward(t, seq_ids + seq_off[i], (int)(seq_off[i + 1] - seq_off[i]), seq_pp[i],
			            seq_pred[i], prompts ? prompts + v * Lp * P * H : NULL, (int)P, (int)Lp,
			            add_mode, labels, LABS, want);
			double e = max_rel(logits + (v * SEQS + i) * LABS, want, LABS);
			if (e > worst)
				worst = e;
		}
	return worst;
}

/* The gradient checks' loss: the cross-entropy of sequence i against label
 * i % LABS, summed over the sequences (and variants), in double. */
static double ce_of(const double *z, int y)
{
	double mx = z[0], sum = 0;
	for (int c = 1; c < LABS; c++)
		mx = fmax(mx, z[c]);
	for (int c = 0; c < LABS; c++)
		sum += exp(z[c] - mx);
	return mx + log(sum) - z[y];
}

/* Its derivative as the backend's bbt_logit_grad_fn. */
static int ce_dloss(void *ctx, const float *logits, size_t V, size_t n_seq, size_t n_labels,
                    float *dlogits)
{
	(void)ctx;
	for (size_t s = 0; s < V * n_seq; s++) {
		double z[LABS], mx = -1e300, sum = 0;
		for (size_t c = 0; c < n_labels; c++)
			mx = fmax(mx, z[c] = logits[s * n_labels + c]);
		for (size_t c = 0; c < n_labels; c++)
			sum += exp(z[c] - mx);
		for (size_t c = 0; c < n_labels; c++)
			dlogits[s * n_labels + c] =
				(float)(exp(z[c] - mx) / sum - (c == (s % n_seq) % n_labels));
	}
	return 0;
}

/* The same loss of one variant's prompt [Lp][P][H] on the reference. */
static double ref_loss(const struct tiny *t, const float *prompt, int P, int Lp, int add_mode)
{
	double L = 0;
	for (size_t i = 0; i < SEQS; i++) {
		double z[LABS];
		ref_forward(t, seq_ids + seq_off[i], (int)(seq_off[i + 1] - seq_off[i]), seq_pp[i],
		            seq_pred[i], prompt, P, Lp, add_mode, labels, LABS, z);
		L += ce_of(z, (int)(i % LABS));
	}
	return L;
}

/* The backend's gradient of V variants against the reference's, each
 * coordinate by a central difference of ref_loss in double. With step
 * h = 2^-8 the difference's truncation error (h^2/6 times the third
 * derivative) is ~1e-6 of the gradient's scale at worst and its rounding
 * error 1e-16 / h ~ 1e-13, and native's float32 forward and backward add
 * some ulps grown through the layers; a wrong term shows as 1e-2 - 1.
 * Returns the largest error over all coordinates relative to the largest
 * gradient component (*gmax_out). */
static double check_gradient(const struct tiny *t, struct be *b, float *prompts, size_t V,
                             size_t P, size_t Lp, int add_mode, double *gmax_out)
{
	struct bbt_batch bt;
	char err[BBT_ERRLEN];
	batch_of(&bt, P, Lp);
	size_t per = Lp * P * H;
	float *grad = malloc(V * per * sizeof *grad), z[8 * SEQS * LABS];
	double *want = malloc(V * per * sizeof *want), worst = 0, gmax = 0;
	int rc = bbt_plugin.backend->gradient(b->st, &bt, prompts, V, ce_dloss, NULL, z, grad, err,
	                                      sizeof err);
	if (rc != 0) {
		diag("gradient: %s", err);
		worst = 1e9;
	}
	const float h = 1.0f / 256;
	for (size_t i = 0; rc == 0 && i < V * per; i++) {
		float *v = prompts + i / per * per, keep = prompts[i];
		prompts[i] = keep + h;   /* the steps taken are the floats' own */
		double hp = (double)prompts[i] - keep, lp = ref_loss(t, v, (int)P, (int)Lp, add_mode);
		prompts[i] = keep - h;
		double hm = keep - (double)prompts[i], lm = ref_loss(t, v, (int)P, (int)Lp, add_mode);
		prompts[i] = keep;
		want[i] = (lp - lm) / (hp + hm);
		gmax = fmax(gmax, fabs(want[i]));
	}
	for (size_t i = 0; rc == 0 && i < V * per; i++)
		worst = fmax(worst, fabs(grad[i] - want[i]) / gmax);
	*gmax_out = gmax;
	free(want);
	free(grad);
	return worst;
}

static void tokenizer_tests(struct be *b)
{
	static const struct {
		const char *text;
		int32_t ids[12];
		int n;
		const char *what;
	} cases[] = {
		{ "Hello, World!", { 5, 6, 7, 8 }, 4, "casing and punctuation" },
		{ " unaffable", { 9, 10, 11 }, 3, "greedy longest-match WordPiece with ## pieces" },
		{ "unaffablex", { 1 }, 1, "a word the pieces cannot cover is [UNK] as a whole" },
		{ "hello zzz", { 5, 1 }, 2, "unknown word" },
		{ "Caf\xc3\xa9s", { 17, 18 }, 2, "accent stripped (NFD, Mn dropped)" },
		{ "cafe\xcc\x81", { 17 }, 1, "combining accent stripped" },
		{ "it was [MASK] .", { 14, 15, 4, 16 }, 4, "[MASK] literal kept whole" },
		{ "[mask]", { 1, 1, 1 }, 3, "lowercase [mask] is not the special token" },
		{ "hello\xe5\xa5\xbdworld", { 5, 19, 7 }, 3, "spaces around CJK ideographs" },
		{ "hel\x01lo\tworld\xc2\xa0!", { 5, 7, 8 }, 3, "control character dropped, NBSP is a space" },
		{ "", { 0 }, 0, "empty text" },
		{ "HELLO\xe3\x80\x82", { 5, 1 }, 2, "ideographic full stop is punctuation (P*)" },
	};
	char err[BBT_ERRLEN];
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		int32_t ids[32];
		size_t n = 0;
		int rc = bbt_plugin.backend->tokenize(b->st, cases[c].text, ids, 32, &n, err, sizeof err);
		int same = rc == 0 && n == (size_t)cases[c].n;
		for (size_t i = 0; same && i < n; i++)
			same = ids[i] == cases[c].ids[i];
		ok(same, "tokenize: %s", cases[c].what);
		if (!same) {
			char got[256] = "";
			for (size_t i = 0; i < n && i < 32; i++)
				snprintf(got + strlen(got), sizeof got - strlen(got), " %d", ids[i]);
			diag("  got%s", got);
		}
	}
	char longw[160];
	memset(longw, 'a', 101);
	longw[101] = '\0';
	int32_t one;
	size_t n = 0;
	bbt_plugin.backend->tokenize(b->st, longw, &one, 1, &n, err, sizeof err);
	ok(n == 1 && one == 1, "a word of 101 characters is [UNK]");
	n = 0;
	bbt_plugin.backend->tokenize(b->st, "hello world hello", NULL, 0, &n, err, sizeof err);
	is_int((long long)n, 3, "cap 0 counts tokens");
	is_string(bbt_plugin.backend->token_text(b->st, 10), "##aff", "token_text");
	ok(bbt_plugin.backend->token_text(b->st, NV) == NULL, "token_text out of range is NULL");
}

/* ------------------------------------------------------------------ */
/* The decoders' double-precision reference: GPT-2 (pre-LN, fused qkv with
 * bias, tanh GELU, learned positions) and Llama (RMSNorm, RoPE on adjacent
 * pairs, SwiGLU, grouped-query attention). */

static void ref_norm(const struct tdec *d, double *y, const double *x, const float *g, const float *b)
{
	double m = 0, v = 0;
	for (int i = 0; i < H; i++)
		m += x[i];
	m /= H;
	for (int i = 0; i < H; i++)
		v += d->llama ? x[i] * x[i] : (x[i] - m) * (x[i] - m);
	v /= H;
	for (int i = 0; i < H; i++)
		y[i] = d->llama ? x[i] / sqrt(v + 1e-5) * g[i] : (x[i] - m) / sqrt(v + 1e-5) * g[i] + b[i];
}

static void ref_decoder(const struct tdec *d, const int32_t *ids, int n, const float *prompt, int P,
                        const int32_t *lab, int nl, double *out)
{
	if (prompt == NULL)
		P = 0;
	int T = n + P, dh = H / HEADS, kvh = d->llama ? KVH : HEADS, kv = dh * kvh;
	static const float zero[3 * H + FF];
	double (*x)[H] = calloc((size_t)T, sizeof *x), (*a)[H] = calloc((size_t)T, sizeof *a);
	double (*q)[H] = calloc((size_t)T, sizeof *q), (*k)[H] = calloc((size_t)T, sizeof *k);
	double (*v)[H] = calloc((size_t)T, sizeof *v), (*c)[H] = calloc((size_t)T, sizeof *c);
	double s[NPOS], up[FF], gt[FF], t2[H];
	for (int p = 0; p < T; p++)
		for (int h = 0; h < H; h++)
			x[p][h] = (p < P ? prompt[p * H + h] : d->tok[ids[p - P] * H + h]) +
			          (d->llama ? 0 : d->pos[p * H + h]);
	for (int l = 0; l < NL; l++) {
		const float *bq = d->llama ? zero : d->bqkv[l], *bk = d->llama ? zero : d->bqkv[l] + H,
		            *bv = d->llama ? zero : d->bqkv[l] + 2 * H;
		for (int p = 0; p < T; p++) {
			ref_norm(d, a[p], x[p], d->n1g[l], d->n1b[l]);
			ref_lin(q[p], d->wq[l], bq, a[p], H, H);
			ref_lin(k[p], d->wk[l], bk, a[p], H, kv);
			ref_lin(v[p], d->wv[l], bv, a[p], H, kv);
			if (d->llama) {
				for (int hd = 0; hd < HEADS + kvh; hd++) {
					double *z = hd < HEADS ? q[p] + hd * dh : k[p] + (hd - HEADS) * dh;
					for (int i = 0; i < dh; i += 2) {
						double th = p * pow(10000.0, -(double)i / dh), z0 = z[i], z1 = z[i + 1];
						z[i] = z0 * cos(th) - z1 * sin(th);
						z[i + 1] = z0 * sin(th) + z1 * cos(th);
					}
				}
			}
		}
		for (int hd = 0; hd < HEADS; hd++) {
			int g = hd / (HEADS / kvh);
			for (int i = 0; i < T; i++) {
				double mx = -1e300, sum = 0;
				for (int j = 0; j <= i; j++) {
					double dd = 0;
					for (int e = 0; e < dh; e++)
						dd += q[i][hd * dh + e] * k[j][g * dh + e];
					s[j] = dd / sqrt((double)dh);
					if (s[j] > mx)
						mx = s[j];
				}
				for (int j = 0; j <= i; j++)
					sum += (s[j] = exp(s[j] - mx));
				for (int e = 0; e < dh; e++) {
					double acc = 0;
					for (int j = 0; j <= i; j++)
						acc += s[j] / sum * v[j][g * dh + e];
					c[i][hd * dh + e] = acc;
				}
			}
		}
		for (int p = 0; p < T; p++) {
			ref_lin(t2, d->wo[l], d->llama ? zero : d->bo[l], c[p], H, H);
			for (int h = 0; h < H; h++)
				x[p][h] += t2[h];
			ref_norm(d, a[p], x[p], d->n2g[l], d->n2b[l]);
			ref_lin(up, d->w1[l], d->llama ? zero : d->b1[l], a[p], H, FF);
			if (d->llama) {
				ref_lin(gt, d->wg[l], zero, a[p], H, FF);
				for (int f = 0; f < FF; f++)
					up[f] *= gt[f] / (1 + exp(-gt[f]));
			} else {
				for (int f = 0; f < FF; f++)
					up[f] = 0.5 * up[f] * (1 + tanh(sqrt(2 / M_PI) * (up[f] + 0.044715 * pow(up[f], 3))));
			}
			ref_lin(t2, d->w2[l], d->llama ? zero : d->b2[l], up, FF, H);
			for (int h = 0; h < H; h++)
				x[p][h] += t2[h];
		}
	}
	ref_norm(d, t2, x[T - 1], d->onorm_g, d->onorm_b);
	for (int j = 0; j < nl; j++) {
		double acc = 0;
		for (int h = 0; h < H; h++)
			acc += t2[h] * d->out[lab[j] * H + h];
		out[j] = acc;
	}
	free(x); free(a); free(q); free(k); free(v); free(c);
}

/* Score three causal sequences (prediction at the last token, prompt at
 * the start) under V prompts; max relative error against the reference. */
static double check_decoder(const struct tdec *d, struct be *b, const float *prompts, size_t V,
                            size_t P)
{
	static const size_t pred[SEQS] = { 5, 5, 8 }, pp[SEQS] = { 0, 0, 0 };
	struct bbt_batch bt;
	batch_of(&bt, P, 1);
	bt.predict_pos = pred;
	bt.prompt_pos = pp;
	float lg[8 * SEQS * LABS];
	char err[BBT_ERRLEN];
	if (bbt_plugin.backend->score(b->st, &bt, prompts, V, lg, err, sizeof err) != 0) {
		diag("score: %s", err);
		return 1e9;
	}
	double worst = 0;
	for (size_t v = 0; v < V; v++)
		for (size_t i = 0; i < SEQS; i++) {
			double want[LABS];
			ref_decoder(d, seq_ids + seq_off[i], (int)(seq_off[i + 1] - seq_off[i]),
			            prompts ? prompts + v * P * H : NULL, (int)P, labels, LABS, want);
			double e = max_rel(lg + (v * SEQS + i) * LABS, want, LABS);
			if (e > worst)
				worst = e;
		}
	return worst;
}

int main(void)
{
	char path[] = "/tmp/bbt-native-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		skip_all("cannot create a temporary file");
	close(fd);
	char err[BBT_ERRLEN];
	struct tiny t;
	tiny_init(&t);
	struct damage none = { 0 };
	ok(tiny_write(&t, path, &none) == 0, "write a tiny random BERT as GGUF");

	/* ---- open, info ---- */
	struct be b;
	int rc = be_open(&b, path, NULL, 0, 1, err);
	ok(rc == 0, "open: %s", rc ? err : "ok");
	if (rc != 0)
		return done_testing();
	ok(strcmp(b.info.arch, "bert") == 0 && b.info.hidden == H && b.info.layers == NL &&
	   b.info.vocab_size == NV && b.info.max_len == NPOS && !b.info.causal &&
	   b.info.bos_id == 2 && b.info.eos_id == 3 && b.info.mask_id == 4 && b.info.pad_id == 0,
	   "model info");
	double mu = 0, m2 = 0;
	for (size_t i = 0; i < NV * H; i++)
		mu += t.tok[i];
	mu /= NV * H;
	for (size_t i = 0; i < NV * H; i++)
		m2 += (t.tok[i] - mu) * (t.tok[i] - mu);
	is_double(b.info.embed_mean, mu, 1e-9, "embedding mean");
	is_double(b.info.embed_std, sqrt(m2 / (NV * H - 1)), 1e-9, "embedding std (unbiased)");

	tokenizer_tests(&b);

	/* ---- forward against the reference ---- */
	float logits[8 * SEQS * LABS];
	double e = check_forward(&t, &b, NULL, 1, 0, 1, 0, logits);
	ok(e < 1e-4, "no prompt: logits match the double reference (max rel err %.2g)", e);
	bbt_plugin.backend->close(b.st);

	enum { P = 4, V = 3 };
	float prompts[V * NL * P * H];
	for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++)
		prompts[i] = (float)(0.5 * rnd_normal());
	float many[V * SEQS * LABS], one[SEQS * LABS];

	rc = be_open(&b, path, NULL, P, 1, err);
	ok(rc == 0, "open with P=%d: %s", P, rc ? err : "ok");
	e = check_forward(&t, &b, prompts, V, P, 1, 0, many);
	ok(e < 1e-4, "cat prompts, V=%d: logits match (max rel err %.2g)", V, e);
	/* the same prompt alone, and each sequence alone */
	e = check_forward(&t, &b, prompts + 2 * P * H, 1, P, 1, 0, one);
	double diff = 0;
	for (size_t i = 0; i < SEQS * LABS; i++)
		diff = fmax(diff, fabs(one[i] - many[2 * SEQS * LABS + i]));
	ok(diff < 1e-5, "batching invariance: variant 2 alone = among %d variants (max diff %.2g)", V, diff);
	struct bbt_batch bt;
	batch_of(&bt, P, 1);
	double d_alone = 0;
	for (size_t i = 0; i < SEQS; i++) {
		struct bbt_batch single = bt;
		size_t off[2] = { 0, seq_off[i + 1] - seq_off[i] };
		single.n_seq = 1;
		single.ids = seq_ids + seq_off[i];
		single.offset = off;
		single.predict_pos = &seq_pred[i];
		single.prompt_pos = &seq_pp[i];
		float l1[LABS];
		bbt_plugin.backend->score(b.st, &single, prompts, 1, l1, err, sizeof err);
		for (size_t c = 0; c < LABS; c++)
			d_alone = fmax(d_alone, fabs(l1[c] - many[i * LABS + c]));
	}
	ok(d_alone < 1e-5, "batching invariance: each sequence alone = in the padded batch (max diff %.2g)",
	   d_alone);
	bbt_plugin.backend->close(b.st);

	rc = be_open(&b, path, "max_rows=1", P, 1, err);
	float chunked[V * SEQS * LABS];
	e = check_forward(&t, &b, prompts, V, P, 1, 0, chunked);
	diff = 0;
	for (size_t i = 0; i < V * SEQS * LABS; i++)
		diff = fmax(diff, fabs(chunked[i] - many[i]));
	ok(rc == 0 && diff < 1e-5, "one sequence per chunk (max_rows=1) gives the same logits (%.2g)", diff);
	bbt_plugin.backend->close(b.st);

	rc = be_open(&b, path, "prompt_mode=add", P, 1, err);
	e = check_forward(&t, &b, prompts, V, P, 1, 1, many);
	ok(rc == 0 && e < 1e-4, "add prompts: logits match (max rel err %.2g)", e);
	bbt_plugin.backend->close(b.st);

	rc = be_open(&b, path, NULL, P, NL, err);
	e = check_forward(&t, &b, prompts, V, P, NL, 0, many);
	ok(rc == 0 && e < 1e-4, "deep prompts (one per layer): logits match (max rel err %.2g)", e);
	bbt_plugin.backend->close(b.st);

	/* BBTv2's deep prompts: every layer's prompt added at the positions after
	 * [CLS]; forward and gradient against the double reference. */
	double gmax = 0;
	rc = be_open(&b, path, "prompt_mode=add", P, NL, err);
	e = check_forward(&t, &b, prompts, V, P, NL, 1, many);
	ok(rc == 0 && e < 1e-5, "deep add prompts, V=%d: logits match the double reference "
	   "(max rel err %.2g)", V, e);
	e = check_gradient(&t, &b, prompts, 2, P, NL, 1, &gmax);
	ok(e < 2e-5, "deep add prompts, V=2: gradient = the double reference's central differences "
	   "(max err %.2g of the largest component %.2g)", e, gmax);
	bbt_plugin.backend->close(b.st);
	rc = be_open(&b, path, NULL, P, NL, err);
	e = check_gradient(&t, &b, prompts, 1, P, NL, 0, &gmax);
	ok(rc == 0 && e < 2e-5, "deep cat prompts: gradient = the double reference's central "
	   "differences (max err %.2g of %.2g)", e, gmax);
	bbt_plugin.backend->close(b.st);

	/* ---- f16 weights ---- */
	struct damage f16 = { .mtype = BBT_GGML_F16 };
	tiny_write(&t, path, &f16);
	rc = be_open(&b, path, NULL, 0, 1, err);
	ok(rc == 0, "open f16 model: %s", rc ? err : "ok");
	if (rc == 0) {
		e = check_forward(&t, &b, NULL, 1, 0, 1, 0, logits);
		ok(e < 2e-2 && e > 0, "f16 weights: logits near the f32 reference (max rel err %.2g)", e);
		bbt_plugin.backend->close(b.st);
	} else {
		skip(1, "no f16 model");
	}

	/* ---- bad input ---- */
	tiny_write(&t, path, &none);
	rc = be_open(&b, path, NULL, 0, 1, err);
	int32_t long_ids[NPOS + 1];
	for (int i = 0; i <= NPOS; i++)
		long_ids[i] = 5;
	size_t long_off[2] = { 0, NPOS + 1 }, zero = 0, pz = 1;
	struct bbt_batch lb;
	batch_of(&lb, 0, 1);
	lb.n_seq = 1;
	lb.ids = long_ids;
	lb.offset = long_off;
	lb.predict_pos = &zero;
	lb.prompt_pos = &pz;
	rc = bbt_plugin.backend->score(b.st, &lb, NULL, 1, logits, err, sizeof err);
	ok(rc == BBT_EINVAL, "a sequence over the model's positions is refused");
	like(err, "over the model's 64 positions", "and the message says so");
	int32_t unk_label[1] = { 1 };
	batch_of(&lb, 0, 1);
	lb.n_labels = 1;
	lb.label_ids = unk_label;
	rc = bbt_plugin.backend->score(b.st, &lb, NULL, 1, logits, err, sizeof err);
	ok(rc == BBT_EINVAL, "a label word that is [UNK] is refused");
	like(err, "not in this vocabulary", "and the message says so");
	bbt_plugin.backend->close(b.st);
	bbt_plugin.backend->close(NULL);

	struct damage drop = { .drop = "blk.1.ffn_up.weight" };
	tiny_write(&t, path, &drop);
	rc = be_open(&b, path, NULL, 0, 1, err);
	ok(rc == BBT_ENOTFOUND && b.st == NULL, "a missing tensor is refused");
	like(err, "blk.1.ffn_up.weight is missing", "and named");
	struct damage shape = { .reshape = "blk.0.attn_k.weight" };
	tiny_write(&t, path, &shape);
	rc = be_open(&b, path, NULL, 0, 1, err);
	ok(rc == BBT_EFORMAT, "a tensor of the wrong shape is refused");
	like(err, "blk.0.attn_k.weight has shape", "and named with its shape");
	struct damage arch = { .arch = "mamba" };
	tiny_write(&t, path, &arch);
	rc = be_open(&b, path, NULL, 0, 1, err);
	ok(rc == BBT_ENOTSUP, "an unknown architecture is refused");
	like(err, "\"mamba\" is not supported", "and named");
	/* an epsilon that is not a positive number makes every norm NaN */
	const double bad_eps[] = { NAN, -1e-5, INFINITY };
	for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++) {
		struct damage eps = { .eps = bad_eps[i] };
		tiny_write(&t, path, &eps);
		rc = be_open(&b, path, NULL, 0, 1, err);
		ok(rc == BBT_EFORMAT && b.st == NULL, "layer_norm_epsilon %g is refused", bad_eps[i]);
		like(err, "bert.attention.layer_norm_epsilon is", "and named");
		like(err, "not a positive number", "and says what was expected");
	}
	struct damage q8 = { .mtype = BBT_GGML_Q8_0 };
	tiny_write(&t, path, &q8);
	rc = be_open(&b, path, NULL, 0, 1, err);
	ok(rc == BBT_ENOTSUP, "Q8_0 weights are refused");
	like(err, "--backend ggml", "and the message points to the backend that runs them");
	rc = be_open(&b, "/nonexistent.gguf", NULL, 0, 1, err);
	ok(rc == BBT_EIO, "a missing file is BBT_EIO");
	rc = be_open(&b, NULL, NULL, 0, 1, err);
	ok(rc == BBT_EINVAL, "no --model is refused");
	like(err, "--model", "and the message says how to give one");

	/* ---- RoBERTa: byte-level BPE, positions offset by padding_idx + 1 ---- */
	struct damage rob = { .roberta = 1 };
	ok(tiny_write(&t, path, &rob) == 0, "write a tiny random RoBERTa");
	rc = be_open(&b, path, NULL, P, 1, err);
	ok(rc == 0, "open RoBERTa: %s", rc ? err : "ok");
	if (rc == 0) {
		ok(strcmp(b.info.arch, "roberta") == 0 && b.info.bos_id == 0 && b.info.eos_id == 2 &&
		   b.info.mask_id == 4 && b.info.pad_id == 1 && b.info.max_len == NPOS,
		   "RoBERTa info: <s> </s> <mask> <pad>, %d positions after the offset", NPOS);
		static const struct {
			const char *text;
			int32_t ids[8];
			int n;
			const char *what;
		} bc[] = {
			{ "hello world", { 24, 29 }, 2, "words; the space joins the next word" },
			{ " great", { 34 }, 1, "a label word with its leading space is one token" },
			{ "caf\xc3\xa9", { 37 }, 1, "UTF-8 bytes mapped and merged" },
			{ "hello  world", { 24, 9, 29 }, 3, "two spaces: one stands alone, one joins the word" },
			{ "hello\nworld", { 24, 38, 10, 26, 7, 12 }, 6, "newline alone; merges only where ranked" },
			{ "hello <mask>!", { 24, 4, 20 }, 3, "<mask> literal swallows the space before it" },
			{ "hello   ", { 24, 39, 9 }, 3, "trailing spaces: a run, then the last one" },
			{ "hex", { 21, 3 }, 2, "a byte outside the vocabulary is <unk>" },
		};
		for (size_t c = 0; c < sizeof bc / sizeof bc[0]; c++) {
			int32_t ids[32];
			size_t n = 0;
			int r = bbt_plugin.backend->tokenize(b.st, bc[c].text, ids, 32, &n, err, sizeof err);
			int same = r == 0 && n == (size_t)bc[c].n;
			for (size_t i = 0; same && i < n; i++)
				same = ids[i] == bc[c].ids[i];
			ok(same, "BPE: %s", bc[c].what);
			if (!same) {
				char got[256] = "";
				for (size_t i = 0; i < n && i < 32; i++)
					snprintf(got + strlen(got), sizeof got - strlen(got), " %d", ids[i]);
				diag("  got%s", got);
			}
		}
		e = check_forward(&t, &b, prompts, V, P, 1, 0, many);
		ok(e < 1e-4, "RoBERTa forward with prompts matches the reference (max rel err %.2g)", e);
		bbt_plugin.backend->close(b.st);
	} else {
		skip(10, "RoBERTa did not open");
	}

	/* ---- causal decoders ---- */
	for (int llama = 0; llama <= 1; llama++) {
		const char *name = llama ? "Llama" : "GPT-2";
		struct tdec d;
		tdec_init(&d, llama);
		ok(tdec_write(&d, path, 0, 0) == 0, "write a tiny random %s", name);
		rc = be_open(&b, path, NULL, P, 1, err);
		ok(rc == 0, "open %s: %s", name, rc ? err : "ok");
		if (rc == 0) {
			ok(b.info.causal && b.info.mask_id == -1 && b.info.bos_id == (llama ? 0 : -1),
			   "%s info: causal, no mask token, BOS only where add_bos_token says", name);
			e = check_decoder(&d, &b, NULL, 1, P);
			ok(e < 1e-4, "%s without prompt matches the reference (max rel err %.2g)", name, e);
			e = check_decoder(&d, &b, prompts, V, P);
			ok(e < 1e-4, "%s with %d prompt variants matches (max rel err %.2g)", name, V, e);
			bbt_plugin.backend->close(b.st);
		} else {
			skip(3, "decoder did not open");
		}
		if (llama) {
			/* the same Llama with a SentencePiece vocabulary */
			d.spm = 1;
			tdec_write(&d, path, 0, 0);
			rc = be_open(&b, path, NULL, 0, 1, err);
			ok(rc == 0 && b.info.bos_id == 1, "open Llama with a SentencePiece vocabulary: %s",
			   rc ? err : "ok");
			static const struct {
				const char *text;
				int32_t ids[4];
				int n;
				const char *what;
			} sc[] = {
				{ "hello world", { 18, 23 }, 2, "space prefix added, merges by score" },
				{ " great", { 28 }, 1, "a label word with its own leading space: no second prefix" },
				{ "\xc3\xa9", { 3, 29, 30 }, 3, "a character outside the vocabulary falls back to bytes" },
			};
			for (size_t c = 0; rc == 0 && c < sizeof sc / sizeof sc[0]; c++) {
				int32_t ids[16];
				size_t n = 0;
				int r = bbt_plugin.backend->tokenize(b.st, sc[c].text, ids, 16, &n, err, sizeof err);
				int same = r == 0 && n == (size_t)sc[c].n;
				for (size_t i = 0; same && i < n; i++)
					same = ids[i] == sc[c].ids[i];
				ok(same, "SentencePiece: %s", sc[c].what);
			}
			if (rc == 0)
				bbt_plugin.backend->close(b.st);
			else
				skip(3, "no SentencePiece model");
		}
		tiny_free(&d.mem);
	}

	tiny_free(&t);
	unlink(path);
	return done_testing();
}
