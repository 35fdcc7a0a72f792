/*
 * t/synthetic.c - the synthetic backend, linked in directly and driven
 * through its descriptor, as the host would drive the loaded module.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "run/loss.h"
#include "plugin_host.h"
#include "tap.h"

extern const struct bbt_plugin bbt_plugin;

/* One backend instance on the real host services. Zero-initialise; each
 * model_host replaces the previous services (close the state first). */
struct model {
	struct plugin_host ph;
	const bbt_host_t *host;
	void *state;
	struct bbt_model_info info;
};

static const bbt_host_t *model_host(struct model *m, uint32_t seed, const char *const *over)
{
	plugin_host_release(&m->ph);
	m->host = plugin_host_init(&m->ph, &bbt_plugin, seed, over);
	return m->host;
}

static int model_open(struct model *m, const char *const *over, size_t prompt_len,
                      size_t prompt_layers, char *err)
{
	struct bbt_backend_params p = { NULL, prompt_len, prompt_layers, 7 };
	m->state = NULL;
	if (model_host(m, (uint32_t)p.seed, over) == NULL) {
		snprintf(err, BBT_ERRLEN, "test host: bad options");
		return BBT_EINVAL;
	}
	return bbt_plugin.backend->open(m->host, &p, &m->state, &m->info, err, BBT_ERRLEN);
}

/* A careless host: the real services, but opt_int says hidden=0, a value
 * bbt_options_resolve would have refused before the plugin saw it. */
static long (*careful_opt_int)(void *ctx, const char *key);

static long careless_opt_int(void *ctx, const char *key)
{
	return strcmp(key, "hidden") == 0 ? 0 : careful_opt_int(ctx, key);
}

static int32_t tok1(void *state, const char *text)
{
	int32_t id = -99;
	size_t n = 0;
	char err[BBT_ERRLEN];
	if (bbt_plugin.backend->tokenize(state, text, &id, 1, &n, err, sizeof err) < 0 || n != 1)
		return -99;
	return id;
}

/* A batch of texts rendered as "[CLS] text . it was [MASK] . [SEP]". */
#define MAXTOK 4096
struct tbatch {
	struct bbt_batch b;
	int32_t ids[MAXTOK];
	size_t offset[65], predict[64], ppos[64];
	int32_t labels[2];
};

static int make_batch(void *state, struct tbatch *t, const char *const *texts, size_t n)
{
	char buf[512], err[BBT_ERRLEN];
	size_t at = 0;
	memset(&t->b, 0, sizeof t->b);
	t->offset[0] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t got;
		snprintf(buf, sizeof buf, "[CLS] %s . it was [MASK] . [SEP]", texts[i]);
		if (bbt_plugin.backend->tokenize(state, buf, t->ids + at, MAXTOK - at, &got, err,
		                                 sizeof err) < 0 || at + got > MAXTOK)
			return -1;
		t->predict[i] = got - 3;
		t->ppos[i] = 1;
		at += got;
		t->offset[i + 1] = at;
	}
	t->labels[0] = tok1(state, "bad");
	t->labels[1] = tok1(state, "great");
	t->b.n_seq = n;
	t->b.ids = t->ids;
	t->b.offset = t->offset;
	t->b.predict_pos = t->predict;
	t->b.prompt_pos = t->ppos;
	t->b.n_labels = 2;
	t->b.label_ids = t->labels;
	return 0;
}

static const char *const pos_texts[] = {
	"a great film", "the acting was excellent", "wonderful story", "a superb cast",
	"brilliant and delightful", "charming music", "a moving ending", "really enjoyable",
	"beautiful scenes", "fun , fantastic fun", "touching and funny", "a terrific director",
	"great great great", "the plot is excellent", "the script was brilliant",
	"a wonderful performance", "it was quite good", "very good acting", "a fantastic cast",
	"just superb",
};
static const char *const neg_texts[] = {
	"a bad film", "the acting was terrible", "awful story", "a boring cast",
	"dull and poor", "weak music", "a mediocre ending", "really tedious",
	"annoying scenes", "painful , messy", "bland and clumsy", "a forgettable director",
	"bad bad bad", "the plot is terrible", "the script was awful",
	"a boring performance", "it was quite dull", "very poor acting", "a mediocre cast",
	"just tedious",
};

/* Fraction of the 40 sentences whose larger logit is the right label. */
static double accuracy(const float *logits, size_t n_pos, size_t n_neg)
{
	size_t right = 0;
	for (size_t i = 0; i < n_pos + n_neg; i++) {
		int pred = logits[2 * i + 1] > logits[2 * i];
		right += (size_t)(pred == (i < n_pos));
	}
	return (double)right / (double)(n_pos + n_neg);
}

/* Gold labels of the 40 test sentences: the positive ones first. */
static int gold[40];

/* The host's side of a gradient: mean cross-entropy of each variant. */
static int ce_grad(void *ctx, const float *logits, size_t nv, size_t n_seq, size_t n_labels,
                   float *dlogits)
{
	(void)ctx;
	for (size_t v = 0; v < nv; v++)
		if (bbt_loss_grad(BBT_LOSS_CE, logits + v * n_seq * n_labels, n_seq, n_labels, gold,
		                  dlogits + v * n_seq * n_labels) < 0)
			return BBT_EINVAL;
	return BBT_OK;
}

/* Worst relative error of the directional derivatives <grad, u> against
 * central differences of the CE loss, over `dirs` random directions u.
 * The loss is float logits summed in double: with the step h chosen so
 * that L changes by ~1e-3, float rounding of the logits (~1e-7) is 1e-4
 * of the difference, and the O(h^2) term is smaller still. */
static double fd_error(void *state, const struct bbt_batch *b, const float *p, const float *g,
                       size_t n, const bbt_host_t *host, size_t dirs)
{
	float *q = malloc(n * sizeof *q);
	float lg[80];
	char err[BBT_ERRLEN];
	double worst = 0;
	for (size_t k = 0; q && k < dirs; k++) {
		double gu = 0, un = 0;
		float *u = malloc(n * sizeof *u);
		for (size_t i = 0; u && i < n; i++) {
			u[i] = (float)host->rng_normal(host->ctx);
			gu += (double)g[i] * u[i];
			un += (double)u[i] * u[i];
		}
		/* a step moving the loss by about 1e-3 along u */
		double h = 1e-3 / (fabs(gu) > 1e-12 ? fabs(gu) : sqrt(un));
		double f[2];
		for (int s = 0; u && s < 2; s++) {
			for (size_t i = 0; i < n; i++)
				q[i] = p[i] + (float)((s ? -h : h) * u[i]);
			bbt_plugin.backend->score(state, b, q, 1, lg, err, sizeof err);
			f[s] = bbt_loss_ce(lg, b->n_seq, 2, gold);
		}
		double fd = (f[0] - f[1]) / (2 * h), e = fabs(fd - gu) / (fabs(gu) + 1e-12);
		worst = e > worst ? e : worst;
		free(u);
	}
	free(q);
	return worst;
}

static int score(void *state, const struct bbt_batch *b, const float *prompts, size_t v,
                 float *logits, char *err)
{
	err[0] = '\0';
	return bbt_plugin.backend->score(state, b, prompts, v, logits, err, BBT_ERRLEN);
}

int main(void)
{
	const struct bbt_backend_ops *ops = bbt_plugin.backend;
	char err[BBT_ERRLEN];
	struct model m0 = { 0 }, m1 = { 0 }, m2 = { 0 };
	int rc;

	plan(107);

	/* Descriptor */
	is_int(bbt_plugin.abi_major, BBT_ABI_MAJOR, "ABI major");
	is_int(bbt_plugin.kind, BBT_PLUGIN_BACKEND, "kind backend");
	is_string(bbt_plugin.name, "synthetic", "name");
	ok(ops && ops->open && ops->tokenize && ops->token_text && ops->score && ops->close,
	   "all backend ops present");
	{
		const char *want[] = { "hidden", "layers", "max_len", "intrinsic_dim",
		                       "hash_buckets", "weights_seed", "bias" };
		size_t found = 0, n = 0;
		for (const struct bbt_option_spec *o = bbt_plugin.options; o->name; o++, n++)
			for (size_t i = 0; i < 7; i++)
				found += strcmp(o->name, want[i]) == 0;
		ok(found == 7 && n == 7, "options table lists exactly the 7 options");
	}
	ops->close(NULL);
	ok(1, "close(NULL) is a no-op");

	/* Open with defaults, no prompt */
	rc = model_open(&m0, NULL, 0, 1, err);
	if (!ok(rc == 0 && m0.state != NULL, "open with defaults")) {
		diag("%s", err);
		return done_testing();
	}
	struct bbt_model_info *in = &m0.info;
	is_string(in->arch, "synthetic", "arch");
	ok(in->hidden == 64 && in->layers == 4 && in->max_len == 512, "hidden, layers, max_len");
	ok(in->causal == 0 && in->bos_id == 2 && in->eos_id == 3 && in->mask_id == 4 &&
	   in->pad_id == 0, "special ids [CLS] [SEP] [MASK] [PAD]");
	ok(in->embed_std > 0.04 && in->embed_std < 0.06, "embed_std %.5f near 0.05", in->embed_std);
	ok(fabs(in->embed_mean) < 0.002, "embed_mean %.5f near 0", in->embed_mean);
	size_t base = in->vocab_size - 1024;
	ok(base > 5 + 200 && base < 5 + 2000, "lexicon of a few hundred words (%zu)", base - 5);

	/* Tokenizer */
	{
		int32_t ids[32];
		size_t n;
		rc = ops->tokenize(m0.state, "The film was GREAT!", ids, 32, &n, err, sizeof err);
		ok(rc == 0 && n == 5, "5 tokens in \"The film was GREAT!\"");
		const char *want[] = { "the", "film", "was", "great", "!" };
		int same = n == 5;
		for (size_t i = 0; same && i < 5; i++)
			same = ids[i] < (int32_t)base &&
			       strcmp(ops->token_text(m0.state, ids[i]), want[i]) == 0;
		ok(same, "lowercased lexicon words and punctuation, text round-trips");

		rc = ops->tokenize(m0.state, "it's (well-made) [MASK]", NULL, 0, &n, err, sizeof err);
		ok(rc == 0 && n == 9, "cap 0 counts: it ' s ( well - made ) [MASK] = 9 (got %zu)", n);
		rc = ops->tokenize(m0.state, "it's (well-made) [MASK]", ids, 3, &n, err, sizeof err);
		ok(rc == 0 && n == 9 && ids[1] == tok1(m0.state, "'"), "cap 3 still reports 9");

		is_int(tok1(m0.state, "[MASK]"), 4, "[MASK] maps to the mask id");
		is_int(tok1(m0.state, "[CLS]"), 2, "[CLS] maps to its id");
		is_int(tok1(m0.state, "[SEP]"), 3, "[SEP] maps to its id");
		rc = ops->tokenize(m0.state, "foo[MASK]bar", ids, 32, &n, err, sizeof err);
		ok(rc == 0 && n == 3 && ids[1] == 4, "[MASK] inside a word splits it");
		rc = ops->tokenize(m0.state, "[mask]", ids, 32, &n, err, sizeof err);
		ok(rc == 0 && n == 3 && ids[1] != 4, "[mask] in lowercase is ordinary text");

		int32_t u1 = tok1(m0.state, "zyzzyva"), u2 = tok1(m0.state, "ZYZZYVA");
		ok(u1 >= (int32_t)base && u1 == u2, "unknown word hashes to a bucket, case-folded");
		char name[32];
		snprintf(name, sizeof name, "#bucket%d", u1 - (int32_t)base);
		is_string(ops->token_text(m0.state, u1), name, "bucket token text");
		/* FNV-1a 32 of "zyzzyva" mod 1024, computed independently */
		uint32_t h = 2166136261u;
		for (const char *s = "zyzzyva"; *s; s++)
			h = (h ^ (unsigned char)*s) * 16777619u;
		is_int(u1, (int32_t)(base + h % 1024), "bucket is FNV-1a(word) mod hash_buckets");

		char longw[200], longu[200];
		memset(longw, 'q', 150);
		longw[150] = '\0';
		memset(longu, 'Q', 150);
		longu[150] = '\0';
		ok(tok1(m0.state, longw) == tok1(m0.state, longu) && tok1(m0.state, longw) >= (int32_t)base,
		   "a 150-byte word hashes, case-folded");
		ok(tok1(m0.state, "caf\xc3\xa9") >= (int32_t)base, "UTF-8 bytes stay in one word");
		rc = ops->tokenize(m0.state, "  \t\n", ids, 32, &n, err, sizeof err);
		ok(rc == 0 && n == 0, "whitespace only: no tokens");
		rc = ops->tokenize(m0.state, NULL, ids, 32, &n, err, sizeof err);
		ok(rc == BBT_EINVAL, "NULL text refused");

		const char *lex[] = {
			"good", "great", "excellent", "wonderful", "superb", "brilliant", "delightful",
			"charming", "moving", "enjoyable", "beautiful", "fun", "fantastic", "touching",
			"funny", "terrific", "bad", "terrible", "awful", "boring", "dull", "poor",
			"weak", "mediocre", "tedious", "annoying", "painful", "messy", "bland",
			"clumsy", "forgettable", "the", "a", "this", "movie", "story", "plot", "it",
			"and", "but", "of", "very", "World", "Sports", "Business", "Tech", "Yes",
			"No", "Maybe", "Company", "Education", "Artist", "Athlete", "Office",
			"Transportation", "Building", "Natural", "Village", "Animal", "Plant",
			"Album", "Film", "Written", ".", ",", "!", "?", "'", "-", ":", ";", "(", ")",
			"[", "]",
		};
		size_t missing = 0;
		for (size_t i = 0; i < sizeof lex / sizeof lex[0]; i++) {
			int32_t id = tok1(m0.state, lex[i]);
			if (id < 5 || id >= (int32_t)base) {
				diag("not in the lexicon: %s", lex[i]);
				missing++;
			}
		}
		is_int((long long)missing, 0, "required words and label words are lexicon tokens");
		size_t bad = 0;
		for (int32_t id = 5; id < (int32_t)base; id++)
			bad += tok1(m0.state, ops->token_text(m0.state, id)) != id;
		is_int((long long)bad, 0, "every lexicon word tokenizes back to its own id");
		ok(ops->token_text(m0.state, -1) == NULL &&
		   ops->token_text(m0.state, (int32_t)in->vocab_size) == NULL,
		   "token_text out of range is NULL");
		is_string(ops->token_text(m0.state, 0), "[PAD]", "token_text of [PAD]");
	}

	/* --model is refused */
	{
		struct plugin_host ph;
		const bbt_host_t *h = plugin_host_init(&ph, &bbt_plugin, 1, NULL);
		void *st = (void *)&ph;
		struct bbt_model_info info;
		struct bbt_backend_params p = { "roberta.gguf", 0, 1, 1 };
		rc = ops->open(h, &p, &st, &info, err, sizeof err);
		ok(rc == BBT_EINVAL && st == NULL, "a model file is refused, state NULL");
		like(err, "synthetic backend takes no model file (got roberta.gguf)", "message names it");
		p.model = "";
		rc = ops->open(h, &p, &st, &info, err, sizeof err);
		ok(rc == 0, "an empty model name is fine");
		ops->close(st);
		p.model = NULL;
		p.prompt_len = 5;
		p.prompt_layers = 2;
		rc = ops->open(h, &p, &st, &info, err, sizeof err);
		ok(rc == BBT_EINVAL, "open with prompt_layers 2 of 4 refused");
		like(err, "prompt_layers is 2", "message");
		p.prompt_layers = 1;
		p.prompt_len = 512;
		rc = ops->open(h, &p, &st, &info, err, sizeof err);
		ok(rc == BBT_EINVAL, "prompt_len >= max_len refused");
		like(err, "max_len 512", "message");
		plugin_host_release(&ph);
	}

	/* Scoring: shapes, determinism, invariances */
	const size_t P = 5, H = 64, D = P * H;
	rc = model_open(&m1, NULL, P, 1, err);
	ok(rc == 0, "open with a 5-token prompt");
	static struct tbatch tb, one;
	const char *texts[40];
	for (size_t i = 0; i < 20; i++) {
		texts[i] = pos_texts[i];
		texts[20 + i] = neg_texts[i];
	}
	ok(make_batch(m1.state, &tb, texts, 40) == 0, "a batch of 40 sentences");
	tb.b.prompt_len = P;
	tb.b.prompt_layers = 1;

	const size_t V = 3;
	float *prompts = malloc(V * D * sizeof *prompts);
	float *lg = malloc(200 * 40 * 2 * sizeof *lg);
	float *lg2 = malloc(200 * 40 * 2 * sizeof *lg2);
	for (size_t i = 0; i < V * D; i++)
		prompts[i] = (float)(m1.info.embed_std * m1.host->rng_normal(m1.host->ctx));

	for (size_t i = 0; i < 200 * 80; i++)
		lg[i] = lg2[i] = NAN;
	rc = score(m1.state, &tb.b, prompts, V, lg, err);
	ok(rc == 0, "score 40 sequences x 3 variants");
	{
		int fin = 1;
		for (size_t i = 0; i < V * 80; i++)
			fin &= isfinite(lg[i]);
		ok(fin && isnan(lg[V * 80]), "exactly V x n_seq x n_labels logits written");
	}
	rc = score(m1.state, &tb.b, prompts, V, lg2, err);
	ok(rc == 0 && memcmp(lg, lg2, V * 80 * sizeof *lg) == 0, "the same call twice: identical bits");
	rc = model_open(&m2, NULL, P, 1, err);
	rc |= score(m2.state, &tb.b, prompts, V, lg2, err);
	ok(rc == 0 && memcmp(lg, lg2, V * 80 * sizeof *lg) == 0,
	   "a second instance with the same options: identical bits");
	ops->close(m2.state);
	{
		const char *over[] = { "weights_seed=2", NULL };
		struct bbt_backend_params p = { NULL, P, 1, 999 };
		rc = model_host(&m2, (uint32_t)p.seed, NULL) ? 0 : BBT_EINVAL;
		rc |= ops->open(m2.host, &p, &m2.state, &m2.info, err, sizeof err);
		rc |= score(m2.state, &tb.b, prompts, V, lg2, err);
		ok(rc == 0 && memcmp(lg, lg2, V * 80 * sizeof *lg) == 0,
		   "another run seed: the same model");
		ops->close(m2.state);
		rc = model_open(&m2, over, P, 1, err);
		rc |= score(m2.state, &tb.b, prompts, V, lg2, err);
		ok(rc == 0 && memcmp(lg, lg2, V * 80 * sizeof *lg) != 0,
		   "another weights_seed: another model");
		ops->close(m2.state);
	}

	{
		/* Sequence 7 alone, under variant 2 alone. */
		const char *t7[] = { texts[7] };
		make_batch(m1.state, &one, t7, 1);
		one.b.prompt_len = P;
		one.b.prompt_layers = 1;
		float l1[2];
		rc = score(m1.state, &one.b, prompts + 2 * D, 1, l1, err);
		ok(rc == 0 && memcmp(l1, lg + (2 * 40 + 7) * 2, sizeof l1) == 0,
		   "a sequence scores the same alone and in a batch, as one variant of many");
	}
	{
		float *np = malloc(2 * 80 * sizeof *np);
		rc = score(m1.state, &tb.b, NULL, 2, np, err);
		ok(rc == 0 && memcmp(np, np + 80, 80 * sizeof *np) == 0,
		   "no prompt: every variant the same");
		ok(memcmp(np, lg, 80 * sizeof *np) != 0, "a prompt changes the logits");
		tb.b.prompt_len = 0;
		rc = score(m1.state, &tb.b, prompts, 1, lg2, err);
		ok(rc == 0 && memcmp(np, lg2, 80 * sizeof *np) == 0,
		   "prompt_len 0 in the batch: the prompt is ignored");
		rc = score(m0.state, &tb.b, NULL, 1, lg2, err);
		ok(rc == 0 && memcmp(np, lg2, 80 * sizeof *np) == 0,
		   "the no-prompt model is the same whatever prompt_len it was opened with");
		tb.b.prompt_len = P;

		/* The model with no prompt: biased, not useless. */
		double acc0 = accuracy(np, 20, 20);
		ok(acc0 >= 0.45 && acc0 <= 0.8, "no-prompt accuracy %.3f: far from perfect", acc0);
		size_t positive = 0;
		for (size_t i = 0; i < 40; i++)
			positive += np[2 * i + 1] > np[2 * i];
		ok(positive > 20, "no-prompt model leans positive (%zu of 40)", positive);

		/* 200 random prompts at the embedding scale: the best is far better.
		 * The floor 0.75 is the lowest best-of-200 seen over 200 seeds of
		 * the host's stream (this one, seed 7, gives 0.8). */
		float *many = malloc(200 * D * sizeof *many);
		for (size_t i = 0; i < 200 * D; i++)
			many[i] = (float)(m1.info.embed_std * m1.host->rng_normal(m1.host->ctx));
		rc = score(m1.state, &tb.b, many, 200, lg2, err);
		double best = 0;
		size_t n_better = 0;
		for (size_t v = 0; v < 200; v++) {
			double a = accuracy(lg2 + v * 80, 20, 20);
			best = a > best ? a : best;
			n_better += a > acc0;
		}
		ok(rc == 0 && best >= acc0 + 0.15 && best >= 0.75,
		   "best of 200 random prompts: accuracy %.3f vs %.3f", best, acc0);
		ok(n_better > 0 && n_better < 200, "%zu of 200 random prompts beat no prompt", n_better);
		free(many);
		free(np);
	}

	/* Deep prompts: layer 0's projection is shared with the shallow model. */
	{
		const size_t L = 4;
		float *deep = calloc(L * D, sizeof *deep);
		float a[80], b[80], c[80];
		memcpy(deep, prompts, D * sizeof *deep);
		rc = model_open(&m2, NULL, P, L, err);
		ok(rc == 0, "open with a deep prompt (4 layers)");
		tb.b.prompt_layers = L;
		rc = score(m2.state, &tb.b, deep, 1, a, err);
		ok(rc == 0, "score a deep prompt");
		tb.b.prompt_layers = 1;
		rc = score(m2.state, &tb.b, prompts, 1, b, err);
		rc |= score(m1.state, &tb.b, prompts, 1, c, err);
		ok(rc == 0 && memcmp(b, c, sizeof b) == 0,
		   "a one-layer prompt means the same to the deep and the shallow model");
		ok(memcmp(a, b, sizeof a) != 0, "the same layer-0 prompt counts less in a deep one");
		for (size_t i = D; i < L * D; i++)
			deep[i] = prompts[i % D + D];
		rc = score(m2.state, &tb.b, deep, 1, c, err);
		ok(rc == 0, "deep-opened model scores a one-layer batch");
		tb.b.prompt_layers = L;
		rc = score(m1.state, &tb.b, deep, 1, c, err);
		ok(rc == BBT_EINVAL, "a 4-layer prompt to a model opened for 1 layer is refused");
		like(err, "opened with prompt_layers 1", "message");
		tb.b.prompt_layers = 1;
		ops->close(m2.state);
		free(deep);
	}

	/* Gradients: exact, per variant, for shallow and deep prompts. */
	{
		for (size_t i = 0; i < 40; i++)
			gold[i] = i < 20;
		float *g = malloc(V * D * sizeof *g), *g1 = malloc(D * sizeof *g1);
		float a[V * 80], b[V * 80];
		rc = ops->gradient(m1.state, &tb.b, prompts, V, ce_grad, NULL, a, g, err, sizeof err);
		rc |= score(m1.state, &tb.b, prompts, V, b, err);
		ok(rc == 0 && memcmp(a, b, sizeof a) == 0, "gradient's logits are score's, bit for bit");
		double e = fd_error(m1.state, &tb.b, prompts, g, D, m1.host, 4);
		ok(e < 1e-3, "prompt gradient = central differences of the CE loss (worst %.2g)", e);
		rc = ops->gradient(m1.state, &tb.b, prompts + 2 * D, 1, ce_grad, NULL, a, g1, err,
		                   sizeof err);
		ok(rc == 0 && memcmp(g1, g + 2 * D, D * sizeof *g1) == 0,
		   "each variant's gradient is its own (variant 3 of 3 = alone)");
		const size_t L = 4;
		float *deep = malloc(L * D * sizeof *deep), *gd = malloc(L * D * sizeof *gd);
		for (size_t i = 0; i < L * D; i++)
			deep[i] = (float)(m1.info.embed_std * m1.host->rng_normal(m1.host->ctx));
		rc = model_open(&m2, NULL, P, L, err);
		tb.b.prompt_layers = L;
		rc |= ops->gradient(m2.state, &tb.b, deep, 1, ce_grad, NULL, a, gd, err, sizeof err);
		e = fd_error(m2.state, &tb.b, deep, gd, L * D, m2.host, 4);
		ok(rc == 0 && e < 1e-3, "deep prompt (4 layers): gradient = differences (worst %.2g)",
		   e);
		tb.b.prompt_layers = 1;
		rc = ops->gradient(m1.state, &tb.b, NULL, 1, ce_grad, NULL, a, g1, err, sizeof err);
		ok(rc == BBT_EINVAL, "a gradient without a prompt is refused");
		like(err, "needs a prompt", "message");
		ops->close(m2.state);
		free(deep);
		free(gd);
		free(g);
		free(g1);
	}

	/* Validation: every malformed batch is refused with a message. */
	{
		struct bbt_batch b = tb.b;
		int32_t ids[MAXTOK];
		size_t pp[64], pr[64], off[65];
		int32_t lab[2];
		memcpy(ids, tb.ids, sizeof ids);
		b.ids = ids;
		float out[80];

		ids[3] = (int32_t)m1.info.vocab_size;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "token id == vocab size refused");
		like(err, "sequence 0, token 3", "message names sequence and token");
		ids[3] = -1;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "negative token id refused");
		ids[3] = tb.ids[3];

		memcpy(pp, tb.predict, sizeof pp);
		b.predict_pos = pp;
		pp[5] = tb.offset[6] - tb.offset[5];
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "predict_pos == length refused");
		like(err, "sequence 5: predict_pos", "message");
		b.predict_pos = tb.predict;

		memcpy(pr, tb.ppos, sizeof pr);
		b.prompt_pos = pr;
		pr[2] = tb.offset[3] - tb.offset[2];
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == 0, "prompt_pos == length is allowed (prompt at the end)");
		pr[2]++;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "prompt_pos > length refused");
		like(err, "sequence 2: prompt_pos", "message");
		b.prompt_pos = tb.ppos;

		b.prompt_len = P + 1;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "prompt_len other than the opened one refused");
		like(err, "prompt_len 6", "message");
		b.prompt_len = P;

		b.prompt_layers = 2;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "prompt_layers 2 of 4 refused");
		like(err, "prompt_layers 2", "message");
		b.prompt_layers = 0;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "prompt_layers 0 with a prompt refused");
		b.prompt_layers = 1;

		memcpy(lab, tb.labels, sizeof lab);
		b.label_ids = lab;
		lab[1] = (int32_t)m1.info.vocab_size + 5;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "label id out of range refused");
		like(err, "label 1", "message");
		b.label_ids = tb.labels;

		memcpy(off, tb.offset, sizeof off);
		b.offset = off;
		off[4] = off[3] - 1;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "decreasing offsets refused");
		b.offset = tb.offset;

		rc = score(m1.state, &b, prompts, 0, out, err);
		ok(rc == BBT_EINVAL, "0 variants refused");
		rc = score(m1.state, NULL, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "NULL batch refused");
		rc = score(m1.state, &b, prompts, 1, NULL, err);
		ok(rc == BBT_EINVAL, "NULL logits refused");
		b.n_labels = 0;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "no label words refused");
		b.n_labels = 2;

		float saved = prompts[17];
		prompts[17] = NAN;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "a NaN in the prompt refused");
		like(err, "non-finite", "message");
		prompts[17] = saved;

		/* A prompt on the no-prompt model. */
		rc = score(m0.state, &b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "a prompt to a model opened without one refused");
		like(err, "prompt_len 5 differs", "message");

		b.n_seq = 0;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == 0, "an empty batch is fine");
		b.n_seq = 40;
		rc = score(m1.state, &b, prompts, 1, out, err);
		ok(rc == 0, "the repaired batch scores again");
	}

	/* max_len counts the prompt. */
	{
		const char *over[] = { "max_len=20", NULL };
		struct model ms = { 0 };
		const char *t[] = { "a b c d e f g h" }; /* 8 words + 7 template tokens */
		float out[2];
		rc = model_open(&ms, over, 5, 1, err);
		ok(rc == 0, "open with max_len 20");
		make_batch(ms.state, &one, t, 1);
		size_t len = one.offset[1];
		is_int((long long)len, 15, "15 tokens");
		one.b.prompt_len = 5;
		one.b.prompt_layers = 1;
		rc = score(ms.state, &one.b, prompts, 1, out, err);
		ok(rc == 0, "15 + 5 = max_len is fine");
		const char *t2[] = { "a b c d e f g h i" };
		make_batch(ms.state, &one, t2, 1);
		one.b.prompt_len = 5;
		one.b.prompt_layers = 1;
		rc = score(ms.state, &one.b, prompts, 1, out, err);
		ok(rc == BBT_EINVAL, "16 + 5 > max_len refused");
		like(err, "exceed max_len 20", "message");
		one.b.prompt_len = 0;
		rc = score(ms.state, &one.b, NULL, 1, out, err);
		ok(rc == 0, "16 tokens without a prompt fit");
		ops->close(ms.state);
		plugin_host_release(&ms.ph);
	}

	/* Options change the shape. */
	{
		const char *over[] = { "hidden=16", "layers=2", "hash_buckets=7", "intrinsic_dim=3",
		                       "bias=0", NULL };
		struct model ms = { 0 };
		rc = model_open(&ms, over, 2, 2, err);
		ok(rc == 0 && ms.info.hidden == 16 && ms.info.layers == 2 &&
		   ms.info.vocab_size == base + 7, "options set hidden, layers and vocabulary size");
		int32_t id = tok1(ms.state, "zyzzyva");
		ok(id >= (int32_t)base && id < (int32_t)base + 7, "7 hash buckets");
		is_int(tok1(ms.state, "great"), tok1(m0.state, "great"),
		       "lexicon ids do not depend on hash_buckets");
		ops->close(ms.state);
		struct bbt_backend_params p = { NULL, 0, 1, 7 };
		bbt_host_t careless = *model_host(&ms, (uint32_t)p.seed, NULL);
		careful_opt_int = careless.opt_int;
		careless.opt_int = careless_opt_int;
		ms.state = NULL;
		rc = ops->open(&careless, &p, &ms.state, &ms.info, err, sizeof err);
		ok(rc == BBT_EINVAL && ms.state == NULL, "hidden=0 from a careless host refused");
		like(err, "hidden=0", "message");
		plugin_host_release(&ms.ph);
	}

	free(prompts);
	free(lg);
	free(lg2);
	ops->close(m0.state);
	ops->close(m1.state);
	plugin_host_release(&m0.ph);
	plugin_host_release(&m1.ph);
	plugin_host_release(&m2.ph);
	return done_testing();
}
