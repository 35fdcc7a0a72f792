/*
 * synthetic.c - the `synthetic` backend: a fast analytic stand-in for a
 * masked language model, for tests, demos and optimizer studies. It
 * implements the whole backend contract (tokenizer, model info, batched
 * scoring under V prompt variants) in microseconds, with no model file.
 *
 * The model, all of it fixed by `weights_seed` (never by the run seed, so the
 * "pretrained model" is the same in every run):
 *
 *   vocabulary  [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, the lexicon words
 *               (lexicon.c), then `hash_buckets` ids that every other word
 *               hashes into (32-bit FNV-1a), so any text tokenizes.
 *   features    f_t in R^k per token: N(0,1), but f_t[0] = +-2 for the
 *               lexicon's polarity words (k = intrinsic_dim).
 *   label bias  b_t = polarity of t, or a N(0, 0.5^2) draw for other tokens.
 *   context     c = mean of f_t over the sequence's tokens, leaving out
 *               [CLS] [SEP] [MASK] [PAD] ([UNK] counts: it stands for a word).
 *   prompt      r = sum_l R_l p_l / sqrt(L) in R^(k+1), R_l fixed with entries
 *               N(0, 1/(P H s_l^2)), s_l the scale of the hidden states
 *               entering layer l (below), so r ~ N(0,1) for a prompt at the
 *               hidden states' scale; no prompt: r = 0.
 *   hidden      the hidden states entering layer l (what BBTv2 scales layer
 *               l's projection by): at a token t, s_l n_t,l with n_t,l in
 *               R^H drawn N(0,1) from (weights_seed, t, l), every 16th
 *               component 6 times larger (the outlier dimensions of real
 *               transformers, which BBTv2's clipping leaves out);
 *               s_l = sigma (1 + l/2), sigma the embedding std; zero at the
 *               prompt positions (the all-zero prompt adds nothing).
 *   gates       g_i = 1 + tanh(r_i), i <= k.
 *   logit       l_w = sum_{i<k} f_w[i] c_i g_i + bias * b_w * g_k.
 *
 * With no prompt the label bias favours the positive words and the k - 1
 * noise features blur the sentiment one; the prompts that fix both (r_0 > 0,
 * r_i << 0 for i >= 1) form a (k+1)-dimensional subspace: a model whose
 * intrinsic dimension is known, for studying how optimizers find it.
 *
 * Gradients: the model is in our hands, so the backend also offers the
 * exact prompt gradient of the host's loss (the chain rule through the
 * logit, gate and projection formulas above), for white-box optimizers and
 * --grad-check.
 *
 * The embedding table E (V x H, N(0, 0.05^2)) is never stored: nothing
 * reads it but the statistics the host needs for the BBT projection, which
 * are accumulated while drawing it once at open.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "lexicon.h"

enum {
	TOK_PAD = 0,
	TOK_UNK = 1,
	TOK_CLS = 2,
	TOK_SEP = 3,
	TOK_MASK = 4,
	N_SPECIAL = 5,
};

static const char *const special_text[N_SPECIAL] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
};

/* Room for "#bucket", any 32-bit number and the NUL. */
#define BUCKET_NAME_LEN 20

/* Stream numbers of the weight generator, one per kind of weight, so that
 * e.g. changing `hidden` does not change the token features. */
enum {
	STREAM_EMBED = 1,
	STREAM_FEATURE = 2,
	STREAM_BIAS = 3,
	STREAM_PROJECTION = 16, /* + layer */
	STREAM_HIDDEN = 4,
};

/* s_l / sigma: the scale of the hidden states entering layer l. */
static double layer_scale(size_t l)
{
	return 1.0 + 0.5 * (double)l;
}

static const struct bbt_option_spec options[] = {
	{ "hidden", BBT_OPT_INT, "64", NULL, 1, 4096, "hidden size H" },
	{ "layers", BBT_OPT_INT, "4", NULL, 1, 64, "layers (deep prompts have one prompt per layer)" },
	{ "max_len", BBT_OPT_INT, "512", NULL, 1, 1 << 20, "most positions per sequence, prompt included" },
	{ "intrinsic_dim", BBT_OPT_INT, "8", NULL, 1, 1024,
	  "k: feature dimension; good prompts live in a (k+1)-dimensional subspace" },
	{ "hash_buckets", BBT_OPT_INT, "1024", NULL, 1, 1 << 20, "vocabulary ids for words outside the lexicon" },
	{ "weights_seed", BBT_OPT_INT, "1", NULL, 0, 4294967295.0,
	  "seed of the fixed \"pretrained\" weights (independent of the run seed)" },
	{ "bias", BBT_OPT_DOUBLE, "1.5", NULL, -1e6, 1e6, "built-in label bias toward positive words" },
	{ 0 },
};

/* ------------------------------------------------------------------ */
/* The private weight generator: splitmix64 and Box-Muller. Not the host's
 * rng, because the weights must not depend on the run seed. */

struct wgen {
	uint64_t s;
	int have_spare;
	double spare;
};

static uint64_t wgen_next(struct wgen *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void wgen_init(struct wgen *g, uint64_t seed, uint64_t stream)
{
	g->s = seed;
	g->have_spare = 0;
	g->spare = 0;
	/* Scramble the seed through one output before adding the stream, so
	 * that seeds 1 and 2 (or streams 1 and 2) start far apart. */
	g->s = wgen_next(g) ^ (stream * 0xd1b54a32d192ed03ull);
}

static double wgen_normal(struct wgen *g)
{
	if (g->have_spare) {
		g->have_spare = 0;
		return g->spare;
	}
	/* u1 in (0, 1] so that log() is finite. */
	double u1 = ((wgen_next(g) >> 11) + 1) * 0x1.0p-53;
	double u2 = (wgen_next(g) >> 11) * 0x1.0p-53;
	double rad = sqrt(-2.0 * log(u1));
	double th = 6.283185307179586476925 * u2;
	g->spare = rad * sin(th);
	g->have_spare = 1;
	return rad * cos(th);
}

/* ------------------------------------------------------------------ */

struct synthetic {
	size_t hidden, layers, max_len, k, buckets;
	size_t vocab;          /* N_SPECIAL + lexicon + buckets */
	size_t base;           /* first hash-bucket id */
	double bias;           /* the `bias` option */

	size_t prompt_len;     /* P as opened; 0: no prompt ever */
	size_t prompt_layers;  /* layers with a projection R_l (1 or layers) */
	uint64_t wseed;        /* weights_seed */
	double embed_std;      /* sigma */

	double *feat;          /* [vocab][k] token features f_t */
	double *label_bias;    /* [vocab] b_t */
	float *proj;           /* [prompt_layers][k + 1][prompt_len * hidden] R_l */

	uint32_t *lex_slot;    /* open addressing: lexicon id + 1, 0 = empty */
	size_t lex_mask;       /* table size - 1 (a power of two) */
	char *bucket_names;    /* [buckets][BUCKET_NAME_LEN] "#bucketN" */
};

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* a * b without overflow, or SIZE_MAX. */
static size_t mul_size(size_t a, size_t b)
{
	if (a != 0 && b > SIZE_MAX / a)
		return SIZE_MAX;
	return a * b;
}

static void synthetic_close(void *state)
{
	struct synthetic *m = state;
	if (m == NULL)
		return;
	free(m->feat);
	free(m->label_bias);
	free(m->proj);
	free(m->lex_slot);
	free(m->bucket_names);
	free(m);
}

/* Id of the lowercase word s[0..n), or -1 when it is not in the lexicon. */
static int32_t lexicon_find(const struct synthetic *m, const char *s, size_t n)
{
	size_t i = fnv1a(s, n) & m->lex_mask;
	while (m->lex_slot[i] != 0) {
		const char *w = synthetic_lexicon[m->lex_slot[i] - 1].word;
		if (strncmp(w, s, n) == 0 && w[n] == '\0')
			return (int32_t)(N_SPECIAL + m->lex_slot[i] - 1);
		i = (i + 1) & m->lex_mask;
	}
	return -1;
}

static int build_lexicon(struct synthetic *m, char *err, size_t errlen)
{
	size_t size = 16;
	while (size < 2 * synthetic_lexicon_size)
		size *= 2;
	m->lex_slot = calloc(size, sizeof *m->lex_slot);
	if (m->lex_slot == NULL) {
		return bbt_error(err, errlen, BBT_ENOMEM, "synthetic: out of memory for the lexicon");
	}
	m->lex_mask = size - 1;
	for (size_t w = 0; w < synthetic_lexicon_size; w++) {
		const char *word = synthetic_lexicon[w].word;
		size_t n = strlen(word);
		if (lexicon_find(m, word, n) >= 0) {
			/* A duplicate would silently leave an id unreachable. */
			return bbt_error(err, errlen, BBT_EINTERNAL, "synthetic: lexicon word \"%s\" appears twice", word);
		}
		size_t i = fnv1a(word, n) & m->lex_mask;
		while (m->lex_slot[i] != 0)
			i = (i + 1) & m->lex_mask;
		m->lex_slot[i] = (uint32_t)(w + 1);
	}
	return BBT_OK;
}

/* Draw E once, for its mean and std only (Welford, in double). The std is
 * the unbiased one, as torch's Tensor.std() that BBT's code uses. */
static void embedding_stats(const struct synthetic *m, uint64_t seed, double *mean, double *std)
{
	struct wgen g;
	double mu = 0, m2 = 0;
	size_t n = m->vocab * m->hidden;
	wgen_init(&g, seed, STREAM_EMBED);
	for (size_t i = 0; i < n; i++) {
		double x = 0.05 * wgen_normal(&g);
		double d = x - mu;
		mu += d / (double)(i + 1);
		m2 += d * (x - mu);
	}
	*mean = mu;
	*std = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0.05;
}

static int synthetic_open(const bbt_host_t *host, const struct bbt_backend_params *params,
                          void **state, struct bbt_model_info *info,
                          char *err, size_t errlen)
{
	if (state != NULL)
		*state = NULL;
	if (host == NULL || params == NULL || state == NULL || info == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: open called with a NULL argument");
	}
	if (params->model != NULL && params->model[0] != '\0') {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic backend takes no model file (got %s)", params->model);
	}

	long hidden = host->opt_int(host->ctx, "hidden");
	long layers = host->opt_int(host->ctx, "layers");
	long max_len = host->opt_int(host->ctx, "max_len");
	long k = host->opt_int(host->ctx, "intrinsic_dim");
	long buckets = host->opt_int(host->ctx, "hash_buckets");
	long wseed = host->opt_int(host->ctx, "weights_seed");
	double bias = host->opt_double(host->ctx, "bias");

	/* The host range-checks options already; these guard the arithmetic
	 * below against a host that did not. */
	if (hidden < 1 || layers < 1 || max_len < 1 || k < 1 || buckets < 1 ||
	    buckets > 1 << 20 || !isfinite(bias)) {
		return bbt_error(err, errlen, BBT_EINVAL, 
         		        "synthetic: bad options (hidden=%ld layers=%ld max_len=%ld "
         		        "intrinsic_dim=%ld hash_buckets=%ld bias=%g): sizes must be >= 1, "
         		        "hash_buckets <= %d, bias finite",
         		        hidden, layers, max_len, k, buckets, bias, 1 << 20);
	}

	size_t p_layers = 0;
	if (params->prompt_len > 0) {
		if (params->prompt_layers != 1 && params->prompt_layers != (size_t)layers) {
			return bbt_error(err, errlen, BBT_EINVAL, 
         			        "synthetic: prompt_layers is %zu; it must be 1 (embedding prompt) "
         			        "or the model's %ld layers (deep prompt)",
         			        params->prompt_layers, layers);
		}
		if (params->prompt_len >= (size_t)max_len) {
			return bbt_error(err, errlen, BBT_EINVAL, 
         			        "synthetic: prompt_len %zu leaves no room for text in max_len %ld",
         			        params->prompt_len, max_len);
		}
		p_layers = params->prompt_layers;
	}

	struct synthetic *m = calloc(1, sizeof *m);
	if (m == NULL) {
		return bbt_error(err, errlen, BBT_ENOMEM, "synthetic: out of memory");
	}
	m->hidden = (size_t)hidden;
	m->layers = (size_t)layers;
	m->max_len = (size_t)max_len;
	m->k = (size_t)k;
	m->buckets = (size_t)buckets;
	m->base = N_SPECIAL + synthetic_lexicon_size;
	m->vocab = m->base + m->buckets;
	m->bias = bias;
	m->prompt_len = params->prompt_len;
	m->prompt_layers = p_layers;

	int rc = build_lexicon(m, err, errlen);
	if (rc < 0) {
		synthetic_close(m);
		return rc;
	}

	size_t d = mul_size(m->prompt_len, m->hidden);
	size_t n_proj = mul_size(mul_size(p_layers, m->k + 1), d);
	size_t n_feat = mul_size(m->vocab, m->k);
	if (n_proj == SIZE_MAX || n_feat == SIZE_MAX || n_proj > SIZE_MAX / sizeof(float) ||
	    n_feat > SIZE_MAX / sizeof(double)) {
		bbt_error(err, errlen, BBT_ENOMEM, "synthetic: model too large for this machine");
		synthetic_close(m);
		return BBT_ENOMEM;
	}
	m->feat = malloc(n_feat * sizeof *m->feat);
	m->label_bias = malloc(m->vocab * sizeof *m->label_bias);
	m->bucket_names = malloc(m->buckets * BUCKET_NAME_LEN);
	if (n_proj > 0)
		m->proj = malloc(n_proj * sizeof *m->proj);
	if (m->feat == NULL || m->label_bias == NULL || m->bucket_names == NULL ||
	    (n_proj > 0 && m->proj == NULL)) {
		bbt_error(err, errlen, BBT_ENOMEM,
		          "synthetic: out of memory for a vocabulary of %zu x %zu features "
		          "and a %zu-value prompt projection", m->vocab, m->k, n_proj);
		synthetic_close(m);
		return BBT_ENOMEM;
	}

	uint64_t seed = (uint64_t)wseed;
	struct wgen g;

	/* Features: k draws per token in id order; a polarity word still
	 * draws its f[0] and then overwrites it, so the other tokens' draws do
	 * not depend on which words carry polarity. */
	wgen_init(&g, seed, STREAM_FEATURE);
	for (size_t t = 0; t < m->vocab; t++) {
		double *f = m->feat + t * m->k;
		for (size_t i = 0; i < m->k; i++)
			f[i] = wgen_normal(&g);
		if (t >= N_SPECIAL && t < m->base) {
			int pol = synthetic_lexicon[t - N_SPECIAL].polarity;
			if (pol != 0)
				f[0] = 2.0 * pol;
		}
	}
	wgen_init(&g, seed, STREAM_BIAS);
	for (size_t t = 0; t < m->vocab; t++) {
		double b = 0.5 * wgen_normal(&g);
		if (t >= N_SPECIAL && t < m->base && synthetic_lexicon[t - N_SPECIAL].polarity != 0)
			b = synthetic_lexicon[t - N_SPECIAL].polarity;
		m->label_bias[t] = b;
	}

	double mean, std;
	embedding_stats(m, seed, &mean, &std);

	/* R_l, scaled so that a prompt of N(0, std^2) entries gives r_i ~ N(0, 1)
	 * per layer; the 1/sqrt(L) of a deep prompt is applied at score time so
	 * that R_0 is the same matrix for shallow and deep prompts. One stream
	 * per layer for the same reason. */
	m->wseed = seed;
	m->embed_std = std;
	if (n_proj > 0) {
		size_t per_layer = (m->k + 1) * d;
		for (size_t l = 0; l < p_layers; l++) {
			double scale = 1.0 / (std * layer_scale(l) * sqrt((double)d));
			wgen_init(&g, seed, STREAM_PROJECTION + l);
			for (size_t i = 0; i < per_layer; i++)
				m->proj[l * per_layer + i] = (float)(scale * wgen_normal(&g));
		}
	}

	for (size_t b = 0; b < m->buckets; b++)
		snprintf(m->bucket_names + b * BUCKET_NAME_LEN, BUCKET_NAME_LEN, "#bucket%u", (unsigned)b);

	memset(info, 0, sizeof *info);
	snprintf(info->arch, sizeof info->arch, "synthetic");
	info->hidden = m->hidden;
	info->layers = m->layers;
	info->vocab_size = m->vocab;
	info->max_len = m->max_len;
	info->causal = 0;
	info->bos_id = TOK_CLS;
	info->eos_id = TOK_SEP;
	info->mask_id = TOK_MASK;
	info->pad_id = TOK_PAD;
	info->embed_mean = mean;
	info->embed_std = std;

	if (host->log != NULL)
		host->log(host->ctx, BBT_LOG_DEBUG,
		          "synthetic model: vocab %zu (%zu lexicon words, %zu hash buckets), "
		          "hidden %zu, layers %zu, intrinsic dim %zu, embedding std %.6f",
		          m->vocab, synthetic_lexicon_size, m->buckets, m->hidden, m->layers,
		          m->k, std);
	*state = m;
	return BBT_OK;
}

/* ------------------------------------------------------------------ */
/* Tokenizer */

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* ASCII punctuation only; bytes >= 0x80 (UTF-8) stay inside words. */
static int is_punct(unsigned char c)
{
	return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) ||
	       (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* The special token whose text starts at s (matched case-sensitively, as
 * BERT's tokenizer does before lowercasing), or -1. */
static int special_at(const char *s, size_t *len)
{
	if (s[0] != '[')
		return -1;
	for (int t = 0; t < N_SPECIAL; t++) {
		size_t n = strlen(special_text[t]);
		if (strncmp(s, special_text[t], n) == 0) {
			*len = n;
			return t;
		}
	}
	return -1;
}

static int32_t word_id(const struct synthetic *m, const char *w, size_t n)
{
	int32_t id = lexicon_find(m, w, n);
	if (id >= 0)
		return id;
	return (int32_t)(m->base + fnv1a(w, n) % m->buckets);
}

static int synthetic_tokenize(void *state, const char *text, int32_t *ids, size_t cap,
                              size_t *n, char *err, size_t errlen)
{
	struct synthetic *m = state;
	if (m == NULL || text == NULL || n == NULL || (cap > 0 && ids == NULL)) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: tokenize called with a NULL argument");
	}
	/* Words are lowercased into a small buffer; a longer word is hashed
	 * incrementally instead (no lexicon word is that long). */
	char word[64];
	size_t count = 0;
	const char *s = text;
	while (*s != '\0') {
		unsigned char c = (unsigned char)*s;
		int32_t id;
		size_t len;
		int sp;
		if (is_space(c)) {
			s++;
			continue;
		}
		if ((sp = special_at(s, &len)) >= 0) {
			id = sp;
			s += len;
		} else if (is_punct(c)) {
			char p = (char)c;
			id = word_id(m, &p, 1);
			s++;
		} else {
			size_t wn = 0;
			uint32_t h = 2166136261u;
			while (*s != '\0' && !is_space((unsigned char)*s) &&
			       !is_punct((unsigned char)*s)) {
				char lc = *s;
				if (lc >= 'A' && lc <= 'Z')
					lc = (char)(lc - 'A' + 'a');
				if (wn < sizeof word)
					word[wn] = lc;
				wn++;
				h ^= (unsigned char)lc;
				h *= 16777619u;
				s++;
			}
			id = wn <= sizeof word ? lexicon_find(m, word, wn) : -1;
			if (id < 0)
				id = (int32_t)(m->base + h % m->buckets);
		}
		if (count < cap)
			ids[count] = id;
		count++;
	}
	*n = count;
	return BBT_OK;
}

static const char *synthetic_token_text(void *state, int32_t id)
{
	const struct synthetic *m = state;
	if (m == NULL || id < 0 || (size_t)id >= m->vocab)
		return NULL;
	if (id < N_SPECIAL)
		return special_text[id];
	if ((size_t)id < m->base)
		return synthetic_lexicon[id - N_SPECIAL].word;
	return m->bucket_names + ((size_t)id - m->base) * BUCKET_NAME_LEN;
}

/* ------------------------------------------------------------------ */
/* Scoring */

static int check_batch(const struct synthetic *m, const struct bbt_batch *b, int with_prompt,
                       size_t n_variants, const float *logits, char *err, size_t errlen)
{
	if (b == NULL || logits == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: score called with a NULL %s",
         		        b == NULL ? "batch" : "logits buffer");
	}
	if (n_variants == 0) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: score called with 0 prompt variants");
	}
	if (b->n_labels == 0 || b->label_ids == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: batch has no label words");
	}
	if (b->n_seq > 0 && (b->offset == NULL || b->predict_pos == NULL || b->prompt_pos == NULL)) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: batch lacks offset, predict_pos or prompt_pos");
	}
	if (b->prompt_len != 0 && b->prompt_len != m->prompt_len) {
		return bbt_error(err, errlen, BBT_EINVAL, 
         		        "synthetic: batch prompt_len %zu differs from the %zu the backend was opened with",
         		        b->prompt_len, m->prompt_len);
	}
	if (with_prompt && b->prompt_layers != 1 && b->prompt_layers != m->layers) {
		return bbt_error(err, errlen, BBT_EINVAL, 
         		        "synthetic: batch prompt_layers %zu must be 1 or the model's %zu layers",
         		        b->prompt_layers, m->layers);
	}
	if (with_prompt && b->prompt_layers > m->prompt_layers) {
		return bbt_error(err, errlen, BBT_EINVAL, 
         		        "synthetic: batch has a %zu-layer prompt but the backend was opened with "
         		        "prompt_layers %zu", b->prompt_layers, m->prompt_layers);
	}
	for (size_t j = 0; j < b->n_labels; j++) {
		if (b->label_ids[j] < 0 || (size_t)b->label_ids[j] >= m->vocab) {
			return bbt_error(err, errlen, BBT_EINVAL, "synthetic: label %zu has token id %ld, outside 0..%zu",
         			        j, (long)b->label_ids[j], m->vocab - 1);
		}
	}
	size_t plen = with_prompt ? b->prompt_len : 0;
	for (size_t i = 0; i < b->n_seq; i++) {
		size_t lo = b->offset[i], hi = b->offset[i + 1];
		if (hi < lo) {
			return bbt_error(err, errlen, BBT_EINVAL, "synthetic: sequence %zu: offset %zu is before its start %zu",
         			        i, hi, lo);
		}
		size_t len = hi - lo;
		if (len > 0 && b->ids == NULL) {
			return bbt_error(err, errlen, BBT_EINVAL, "synthetic: batch has tokens but ids is NULL");
		}
		if (b->predict_pos[i] >= len) {
			return bbt_error(err, errlen, BBT_EINVAL, 
         			        "synthetic: sequence %zu: predict_pos %zu is not inside its %zu tokens",
         			        i, b->predict_pos[i], len);
		}
		if (b->prompt_pos[i] > len) {
			return bbt_error(err, errlen, BBT_EINVAL, 
         			        "synthetic: sequence %zu: prompt_pos %zu is past its %zu tokens",
         			        i, b->prompt_pos[i], len);
		}
		if (len > m->max_len || plen > m->max_len - len) {
			return bbt_error(err, errlen, BBT_EINVAL, 
         			        "synthetic: sequence %zu: %zu tokens + %zu prompt positions exceed "
         			        "max_len %zu", i, len, plen, m->max_len);
		}
		for (size_t q = lo; q < hi; q++) {
			if (b->ids[q] < 0 || (size_t)b->ids[q] >= m->vocab) {
				return bbt_error(err, errlen, BBT_EINVAL, 
         				        "synthetic: sequence %zu, token %zu: id %ld outside 0..%zu",
         				        i, q - lo, (long)b->ids[q], m->vocab - 1);
			}
		}
	}
	return BBT_OK;
}

/* Logits, and with dloss the prompt gradient: the forward pass keeps each
 * gate's tanh(r_i), and the backward pass is the chain rule through
 *   l_w = sum_{i<k} f_w[i] c_i g_i + bias b_w g_k,  g_i = 1 + tanh(r_i),
 *   r_i = sum_l R_l[i] . p_l / sqrt(L).  */
static int synthetic_run(struct synthetic *m, const struct bbt_batch *batch, const float *prompts,
                         size_t n_variants, bbt_logit_grad_fn dloss, void *dctx, float *logits,
                         float *grad, char *err, size_t errlen)
{
	if (m == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: score called without a model");
	}
	int with_prompt = prompts != NULL && batch != NULL && batch->prompt_len > 0;
	int rc = check_batch(m, batch, with_prompt, n_variants, logits, err, errlen);
	if (rc < 0)
		return rc;
	if (dloss != NULL && (!with_prompt || grad == NULL)) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: a gradient needs a prompt and a gradient buffer");
	}

	const size_t k = m->k, n_seq = batch->n_seq, n_lab = batch->n_labels;
	size_t n_ctx = mul_size(n_seq > 0 ? n_seq : 1, k);
	size_t n_gate = mul_size(n_variants, k + 1);
	size_t n_out = dloss ? mul_size(n_variants, mul_size(n_seq, n_lab)) : 0;
	double *ctx = n_ctx < SIZE_MAX / sizeof(double) ? malloc(n_ctx * sizeof *ctx) : NULL;
	/* th: tanh(r) of every variant, then room for one variant's dL/dr */
	double *th = n_gate < SIZE_MAX / sizeof(double) - k - 1
	                     ? malloc((n_gate + k + 1) * sizeof *th) : NULL;
	float *dl = n_out < SIZE_MAX / sizeof(float) ? malloc((n_out ? n_out : 1) * sizeof *dl)
	                                             : NULL;
	if (ctx == NULL || th == NULL || dl == NULL) {
		free(ctx);
		free(th);
		free(dl);
		return bbt_error(err, errlen, BBT_ENOMEM, "synthetic: out of memory scoring %zu sequences x %zu variants",
         		        n_seq, n_variants);
	}

	/* Context of each sequence, on its own tokens only, so a sequence
	 * scores the same alone and in any batch. */
	for (size_t i = 0; i < n_seq; i++) {
		double *c = ctx + i * k;
		size_t used = 0;
		memset(c, 0, k * sizeof *c);
		for (size_t q = batch->offset[i]; q < batch->offset[i + 1]; q++) {
			int32_t t = batch->ids[q];
			if (t == TOK_PAD || t == TOK_CLS || t == TOK_SEP || t == TOK_MASK)
				continue;
			const double *f = m->feat + (size_t)t * k;
			for (size_t d = 0; d < k; d++)
				c[d] += f[d];
			used++;
		}
		if (used > 0)
			for (size_t d = 0; d < k; d++)
				c[d] /= (double)used;
	}

	/* tanh(r_i) of each variant (0 without a prompt: every gate is 1). */
	size_t d = m->prompt_len * m->hidden, L = with_prompt ? batch->prompt_layers : 1;
	double inv_sqrt_l = 1.0 / sqrt((double)L);
	for (size_t v = 0; v < n_variants; v++) {
		double *t = th + v * (k + 1);
		const float *pv = with_prompt ? prompts + v * L * d : NULL;
		for (size_t i = 0; i <= k; i++) {
			double r = 0;
			for (size_t l = 0; pv && l < L; l++) {
				const float *row = m->proj + (l * (k + 1) + i) * d;
				const float *p = pv + l * d;
				for (size_t e = 0; e < d; e++)
					r += (double)row[e] * (double)p[e];
			}
			r *= inv_sqrt_l;
			if (!isfinite(r)) {
				rc = bbt_error(err, errlen, BBT_EINVAL,
				               "synthetic: prompt variant %zu has non-finite values", v);
				goto out;
			}
			t[i] = tanh(r);
		}
	}

	for (size_t v = 0; v < n_variants; v++) {
		const double *t = th + v * (k + 1);
		for (size_t i = 0; i < n_seq; i++) {
			const double *c = ctx + i * k;
			float *o = logits + (v * n_seq + i) * n_lab;
			for (size_t j = 0; j < n_lab; j++) {
				size_t w = (size_t)batch->label_ids[j];
				const double *f = m->feat + w * k;
				double l = 0;
				for (size_t q = 0; q < k; q++)
					l += f[q] * c[q] * (1.0 + t[q]);
				l += m->bias * m->label_bias[w] * (1.0 + t[k]);
				o[j] = (float)l;
			}
		}
	}
	if (dloss == NULL)
		goto out;

	if ((rc = dloss(dctx, logits, n_variants, n_seq, n_lab, dl)) < 0) {
		bbt_error(err, errlen, rc, "synthetic: the host's loss gradient failed (%d)", rc);
		goto out;
	}
	double *dr = th + n_gate;
	for (size_t v = 0; v < n_variants; v++) {
		const double *t = th + v * (k + 1);
		/* dL/dg_i, then through g = 1 + tanh(r): dL/dr_i */
		for (size_t i = 0; i <= k; i++)
			dr[i] = 0;
		for (size_t i = 0; i < n_seq; i++) {
			const double *c = ctx + i * k;
			const float *g = dl + (v * n_seq + i) * n_lab;
			for (size_t j = 0; j < n_lab; j++) {
				size_t w = (size_t)batch->label_ids[j];
				const double *f = m->feat + w * k;
				for (size_t q = 0; q < k; q++)
					dr[q] += (double)g[j] * f[q] * c[q];
				dr[k] += (double)g[j] * m->bias * m->label_bias[w];
			}
		}
		for (size_t i = 0; i <= k; i++)
			dr[i] *= (1.0 - t[i] * t[i]) * inv_sqrt_l;
		for (size_t l = 0; l < L; l++) {
			float *gp = grad + (v * L + l) * d;
			for (size_t e = 0; e < d; e++) {
				double acc = 0;
				for (size_t i = 0; i <= k; i++)
					acc += dr[i] * (double)m->proj[(l * (k + 1) + i) * d + e];
				gp[e] = (float)acc;
			}
		}
	}
out:
	free(ctx);
	free(th);
	free(dl);
	return rc;
}

static int synthetic_score(void *state, const struct bbt_batch *batch, const float *prompts,
                           size_t n_variants, float *logits, char *err, size_t errlen)
{
	return synthetic_run(state, batch, prompts, n_variants, NULL, NULL, logits, NULL, err,
	                     errlen);
}

static int synthetic_gradient(void *state, const struct bbt_batch *batch, const float *prompts,
                              size_t n_variants, bbt_logit_grad_fn dloss, void *ctx,
                              float *logits, float *grad, char *err, size_t errlen)
{
	if (dloss == NULL) {
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: gradient called without the loss's derivative");
	}
	return synthetic_run(state, batch, prompts, n_variants, dloss, ctx, logits, grad, err,
	                     errlen);
}

/* The hidden states entering layer l (see the top): a function of the
 * token and the layer only, so a batch needs no forward pass. */
static int synthetic_hidden_states(void *state, const struct bbt_batch *batch, size_t layer,
                                   float *out, char *err, size_t errlen)
{
	struct synthetic *m = state;
	if (m == NULL || batch == NULL || out == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: hidden_states called with a NULL argument");
	if (layer >= m->layers)
		return bbt_error(err, errlen, BBT_EINVAL, "synthetic: layer %zu of a %zu-layer model",
		                 layer, m->layers);
	float dummy[1];
	struct bbt_batch b = *batch;
	if (b.n_labels == 0) {   /* labels do not matter here */
		static const int32_t none[1] = { TOK_MASK };
		b.n_labels = 1;
		b.label_ids = none;
	}
	int rc = check_batch(m, &b, b.prompt_len > 0, 1, dummy, err, errlen);
	if (rc < 0)
		return rc;
	const size_t H = m->hidden, P = b.prompt_len;
	const double s = m->embed_std * layer_scale(layer);
	float *o = out;
	for (size_t i = 0; i < b.n_seq; i++) {
		size_t lo = b.offset[i], len = b.offset[i + 1] - lo;
		for (size_t q = 0; q <= len; q++) {
			if (q == b.prompt_pos[i] && P > 0) {
				memset(o, 0, P * H * sizeof *o);
				o += P * H;
			}
			if (q == len)
				break;
			struct wgen g;
			uint64_t t = (uint64_t)b.ids[lo + q];
			wgen_init(&g, m->wseed ^ (t * 0x9e3779b97f4a7c15ull + layer), STREAM_HIDDEN);
			for (size_t h = 0; h < H; h++)
				*o++ = (float)(s * (h % 16 == 0 ? 6.0 : 1.0) * wgen_normal(&g));
		}
	}
	return BBT_OK;
}

static const struct bbt_backend_ops ops = {
	.open = synthetic_open,
	.tokenize = synthetic_tokenize,
	.token_text = synthetic_token_text,
	.score = synthetic_score,
	.close = synthetic_close,
	.gradient = synthetic_gradient,
	.hidden_states = synthetic_hidden_states,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_BACKEND,
	.name = "synthetic",
	.version = "1.0",
	.description = "analytic stand-in for a masked LM with a known intrinsic dimension "
	               "(tests, demos, optimizer studies; no model file)",
	.options = options,
	.flags = 0,
	.optimizer = NULL,
	.backend = &ops,
};
