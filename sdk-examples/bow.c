/*
 * bow.c - a backend plugin built outside the bbtbench tree, from the
 * installed headers alone: a bag-of-words toy that implements the whole
 * backend contract (model info, tokenizer, batched scoring of V prompt
 * variants) in about two hundred lines. It is not a language model; it
 * shows what a backend must provide.
 *
 *     cc -shared -fPIC $(pkg-config --cflags bbtbench) -o backend_bow.so \
 *        bow.c $(pkg-config --libs bbtbench) -lm
 *
 * The "model", fixed by nothing but the `hidden` and `buckets` options:
 *   vocabulary  [PAD] [UNK] [CLS] [SEP] [MASK], then `buckets` ids that
 *               every lowercased word (or punctuation mark) hashes into.
 *   embeddings  E[t] in R^H, a fixed pseudo-random vector per token.
 *   logit       of label word w for a sequence: (c + q) . E[w] * sqrt(H),
 *               c the mean embedding of the sequence's words, q the mean of
 *               the P prompt vectors (no prompt: q = 0).
 * Only an embedding-layer prompt is taken (prompt_layers 1). Optional parts
 * of the contract (gradients) are left out, as a black-box model would.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

enum { T_PAD, T_UNK, T_CLS, T_SEP, T_MASK, N_SPECIAL };
static const char *const special[N_SPECIAL] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
#define TEXT_LEN 24   /* a bucket's text: the first word seen in it, cut short */

static const struct bbt_option_spec options[] = {
	{ "hidden", BBT_OPT_INT, "16", NULL, 1, 1024, "hidden size H" },
	{ "buckets", BBT_OPT_INT, "4096", NULL, 16, 1 << 20, "word ids the words hash into" },
	{ 0 },
};

struct bow {
	size_t hidden, vocab;
	float *embed;          /* vocab x hidden */
	char (*text)[TEXT_LEN];
	size_t prompt_len;
};

/* splitmix64: a fixed value per (token, coordinate), no state. */
static double fixed_uniform(uint64_t k)
{
	k += 0x9e3779b97f4a7c15u;
	k = (k ^ (k >> 30)) * 0xbf58476d1ce4e5b9u;
	k = (k ^ (k >> 27)) * 0x94d049bb133111ebu;
	k ^= k >> 31;
	return (double)(k >> 11) * 0x1.0p-53;
}

static void bow_close(void *state)
{
	struct bow *m = state;
	if (m != NULL) {
		free(m->embed);
		free(m->text);
	}
	free(m);
}

static int bow_open(const bbt_host_t *host, const struct bbt_backend_params *params,
                    void **state, struct bbt_model_info *info, char *err, size_t errlen)
{
	*state = NULL;
	if (params->model != NULL && params->model[0] != '\0')
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "bow: takes no model file (got %s)", params->model);
	if (params->prompt_len > 0 && params->prompt_layers != 1)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "bow: one layer only; prompt_layers %zu", params->prompt_layers);
	struct bow *m = calloc(1, sizeof *m);
	if (m == NULL)
		goto oom;
	m->hidden = (size_t)host->opt_int(host->ctx, "hidden");
	m->vocab = N_SPECIAL + (size_t)host->opt_int(host->ctx, "buckets");
	m->prompt_len = params->prompt_len;
	m->embed = malloc(m->vocab * m->hidden * sizeof *m->embed);
	m->text = calloc(m->vocab, sizeof *m->text);
	if (m->embed == NULL || m->text == NULL)
		goto oom;
	double sum = 0, sum2 = 0, n = (double)(m->vocab * m->hidden);
	for (size_t i = 0; i < m->vocab * m->hidden; i++) {
		/* a sum of four uniforms: roughly normal, std 0.1 */
		double u = 0;
		for (int j = 0; j < 4; j++)
			u += fixed_uniform(4 * (uint64_t)i + (uint64_t)j) - 0.5;
		m->embed[i] = (float)(u * 0.1 * sqrt(3.0));
		sum += m->embed[i];
		sum2 += (double)m->embed[i] * m->embed[i];
	}
	for (size_t t = 0; t < m->vocab; t++)
		snprintf(m->text[t], TEXT_LEN, "%s", t < N_SPECIAL ? special[t] : "#bucket");

	memset(info, 0, sizeof *info);
	snprintf(info->arch, sizeof info->arch, "bow");
	info->hidden = m->hidden;
	info->layers = 1;
	info->vocab_size = m->vocab;
	info->max_len = 512;
	info->bos_id = T_CLS;
	info->eos_id = T_SEP;
	info->mask_id = T_MASK;
	info->pad_id = T_PAD;
	info->embed_mean = sum / n;
	info->embed_std = sqrt((sum2 - sum * sum / n) / (n - 1));
	*state = m;
	return BBT_OK;
oom:
	bow_close(m);
	return bbt_error(err, errlen, BBT_ENOMEM, "bow: out of memory");
}

/* Letters, digits, apostrophes and UTF-8 bytes make words; any other
 * byte but a space is a token of its own. */
static int word_byte(char ch)
{
	unsigned char c = (unsigned char)ch;
	return c >= 0x80 || c == '\'' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static int bow_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                        char *err, size_t errlen)
{
	struct bow *m = state;
	size_t count = 0;
	(void)err, (void)errlen;   /* any text tokenizes */
	for (const char *s = text; *s != '\0';) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			s++;
			continue;
		}
		size_t len = 1;
		while (word_byte(*s) && word_byte(s[len]))
			len++;
		uint32_t h = 2166136261u;   /* FNV-1a of the lowercased word */
		for (size_t i = 0; i < len; i++) {
			char lc = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
			h = (h ^ (unsigned char)lc) * 16777619u;
		}
		int32_t id = (int32_t)(N_SPECIAL + h % (m->vocab - N_SPECIAL));
		if (strcmp(m->text[id], "#bucket") == 0)
			snprintf(m->text[id], TEXT_LEN, "%.*s", (int)(len < TEXT_LEN ? len : TEXT_LEN - 1), s);
		if (count < cap)
			ids[count] = id;
		count++;
		s += len;
	}
	*n = count;
	return BBT_OK;
}

static const char *bow_token_text(void *state, int32_t id)
{
	const struct bow *m = state;
	return id >= 0 && (size_t)id < m->vocab ? m->text[id] : NULL;
}

static int bow_score(void *state, const struct bbt_batch *b, const float *prompts,
                     size_t n_variants, float *logits, char *err, size_t errlen)
{
	const struct bow *m = state;
	size_t H = m->hidden, P = prompts != NULL ? b->prompt_len : 0;
	double *c = calloc(2 * H, sizeof *c), *q = c + H;
	if (c == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "bow: out of memory");
	for (size_t v = 0; v < n_variants; v++) {
		memset(q, 0, H * sizeof *q);
		for (size_t p = 0; p < P; p++)
			for (size_t h = 0; h < H; h++)
				q[h] += prompts[(v * P + p) * H + h] / (double)P;
		for (size_t i = 0; i < b->n_seq; i++) {
			memset(c, 0, H * sizeof *c);
			size_t words = 0;
			for (size_t k = b->offset[i]; k < b->offset[i + 1]; k++) {
				int32_t t = b->ids[k];
				if (t < 0 || (size_t)t >= m->vocab) {
					free(c);
					return bbt_error(err, errlen, BBT_EINVAL,
					                 "bow: token id %d out of range", (int)t);
				}
				if (t == T_UNK || t >= N_SPECIAL) {
					for (size_t h = 0; h < H; h++)
						c[h] += m->embed[(size_t)t * H + h];
					words++;
				}
			}
			for (size_t l = 0; l < b->n_labels; l++) {
				const float *w = m->embed + (size_t)b->label_ids[l] * H;
				double dot = 0;
				for (size_t h = 0; h < H; h++)
					dot += (c[h] / (words ? (double)words : 1.0) + q[h]) * w[h];
				logits[(v * b->n_seq + i) * b->n_labels + l] = (float)(dot * sqrt((double)H));
			}
		}
	}
	free(c);
	return BBT_OK;
}

static const struct bbt_backend_ops ops = {
	.open = bow_open,
	.tokenize = bow_tokenize,
	.token_text = bow_token_text,
	.score = bow_score,
	.close = bow_close,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_BACKEND,
	.name = "bow",
	.version = "1.0",
	.description = "bag-of-words toy model (SDK example, built out of tree)",
	.options = options,
	.backend = &ops,
};
