/*
 * openai.c - the `openai` backend: label words scored through an
 * OpenAI-compatible POST /v1/completions with log-probabilities (what
 * llama.cpp's server, vLLM and `bbtbench serve` answer), for the methods
 * that need only text: the manual, calibrated and in-context baselines and
 * discrete prompts (bdpl).
 *
 *     bbtbench --backend openai -O url=http://127.0.0.1:8000 -O model=NAME \
 *              --method manual --task sst2 ...
 *
 * Text in, text out. tokenize() cuts text into pieces (white space then a
 * word, or white space then one punctuation mark) and numbers them in the
 * order it meets them, so that token_text() of the pieces gives the text
 * back byte for byte; the server tokenizes that text with its own
 * tokenizer. One score() is one request (doc/protocol.md, "OpenAI-compatible
 * completions"):
 *
 *     {"model": M, "prompt": [TEXT, ...], "max_tokens": 1, "temperature": 0,
 *      "logprobs": K, "echo": false}
 *
 * one prompt per sequence, and the label word's log-probability is read in
 * choices[i].logprobs.top_logprobs[0], the K most likely first tokens. A
 * log-probability is the logit less a per-position constant, so the host's
 * losses and metrics (softmax over the label words, hinge, argmax,
 * calibration) come out as from the logits. Causal models: the prompt ends
 * where the host predicts. Masked models (a server whose /v1/models gives
 * a "mask_marker", as bbtbench serve does): the prompt holds that marker
 * where the host put the mask (and the "sep_marker" where it put the
 * separator), and the server answers for the mask's position.
 *
 * Continuous prompts (cmaes and the other real-vector optimizers) cannot
 * travel as text: score() refuses them with a message that says what to use.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "../http/client.h"

static const struct bbt_option_spec options[] = {
	{ "url", BBT_OPT_STRING, NULL, NULL, 0, 0,
	  "the server: http://HOST:PORT (its /v1/completions)" },
	{ "model", BBT_OPT_STRING, NULL, NULL, 0, 0,
	  "the model name sent with each request [the first of GET /v1/models]" },
	{ "logprobs", BBT_OPT_INT, "20", NULL, 1, 100000,
	  "most likely tokens asked for at the prediction position" },
	{ "missing", BBT_OPT_CHOICE, "error", "error|floor", 0, 0,
	  "a label word not among them: an error, or the least of them (an upper bound)" },
	{ "max_len", BBT_OPT_INT, "0", NULL, 0, 1e7,
	  "pieces per sequence [the server's max_model_len, else 2048]" },
	HC_OPTIONS,
	{ 0 },
};

#define MASK_ID 0   /* piece 0: the server's mask marker, for masked models */
#define SEP_ID 1    /* piece 1: its separator marker */
#define XMASK_ID 2  /* piece 2: its marker of a mask token in the input (not read) */

struct openai {
	struct hc c;
	const bbt_host_t *host;
	char model[256];
	char *mask;                /* the server's mask marker, or NULL: causal */
	char *sep;                 /* its separator marker, or NULL */
	char *xmask;               /* its marker of a mask token that is input */
	long logprobs;
	int floor;                 /* missing=floor */
	/* the pieces: text by id, and an open-addressing table text -> id */
	char **piece;
	size_t n_piece, cap_piece;
	int32_t *slot;             /* -1 empty */
	size_t n_slot;
};

/* ---------------------------------------------------------------- */
/* Pieces */

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static int grow_slots(struct openai *o)
{
	size_t n = o->n_slot ? 2 * o->n_slot : 1024;
	int32_t *s = malloc(n * sizeof *s);
	if (s == NULL)
		return BBT_ENOMEM;
	for (size_t i = 0; i < n; i++)
		s[i] = -1;
	for (size_t id = 0; id < o->n_piece; id++) {
		size_t k = hash(o->piece[id], strlen(o->piece[id])) & (n - 1);
		while (s[k] >= 0)
			k = (k + 1) & (n - 1);
		s[k] = (int32_t)id;
	}
	free(o->slot);
	o->slot = s;
	o->n_slot = n;
	return BBT_OK;
}

/* The id of text[0..n), numbered now if new; -1 on out of memory. */
static int32_t intern(struct openai *o, const char *text, size_t n)
{
	if (2 * (o->n_piece + 1) > o->n_slot && grow_slots(o) < 0)
		return -1;
	size_t k = hash(text, n) & (o->n_slot - 1);
	for (; o->slot[k] >= 0; k = (k + 1) & (o->n_slot - 1)) {
		const char *p = o->piece[o->slot[k]];
		if (strncmp(p, text, n) == 0 && p[n] == '\0')
			return o->slot[k];
	}
	if (o->n_piece == o->cap_piece) {
		size_t cap = o->cap_piece ? 2 * o->cap_piece : 1024;
		char **v = realloc(o->piece, cap * sizeof *v);
		if (v == NULL)
			return -1;
		o->piece = v;
		o->cap_piece = cap;
	}
	char *t = malloc(n + 1);
	if (t == NULL || o->n_piece >= INT32_MAX) {
		free(t);
		return -1;
	}
	memcpy(t, text, n);
	t[n] = '\0';
	o->piece[o->n_piece] = t;
	o->slot[k] = (int32_t)o->n_piece;
	return (int32_t)o->n_piece++;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* letters, digits and every byte of a multi-byte UTF-8 character */
static int is_word(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       c == '_' || c >= 0x80;
}

static int openai_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                           char *err, size_t errlen)
{
	struct openai *o = state;
	if (o == NULL || text == NULL || n == NULL || (cap > 0 && ids == NULL))
		return bbt_error(err, errlen, BBT_EINVAL, "openai: tokenize called with a NULL argument");
	size_t count = 0;
	for (const char *p = text; *p;) {
		const char *q = p;
		while (is_space((unsigned char)*q))
			q++;
		if (is_word((unsigned char)*q))
			while (is_word((unsigned char)*q))
				q++;
		else if (*q)
			q++;
		int32_t id = intern(o, p, (size_t)(q - p));
		if (id < 0)
			return bbt_error(err, errlen, BBT_ENOMEM, "openai: out of memory");
		if (count < cap)
			ids[count] = id;
		count++;
		p = q;
	}
	*n = count;
	return BBT_OK;
}

static const char *openai_token_text(void *state, int32_t id)
{
	const struct openai *o = state;
	if (o == NULL || id < 0 || (size_t)id >= o->n_piece)
		return NULL;
	return o->piece[id];
}

/* ---------------------------------------------------------------- */
/* open / close */

static void openai_close(void *state)
{
	struct openai *o = state;
	if (o == NULL)
		return;
	hc_close(&o->c);
	for (size_t i = 0; i < o->n_piece; i++)
		free(o->piece[i]);
	free(o->piece);
	free(o->slot);
	free(o->mask);
	free(o->sep);
	free(o->xmask);
	free(o);
}

/* GET /v1/models: the model's name (unless -O model), its positions
 * (vLLM's max_model_len) and, from bbtbench serve, its mask token. A
 * server without /v1/models is taken as causal, -O model required. */
static int read_models(struct openai *o, long *max_len, char *err, size_t errlen)
{
	const bbt_host_t *host = o->host;
	const char *want = host->opt_string(host->ctx, "model");
	struct hc_resp r = { 0 };
	int rc = hc_request(&o->c, "/v1/models", NULL, 0, NULL, NULL, &r, err, errlen);
	json_t *j = rc == BBT_OK ? json_loadb(r.body ? r.body : "", r.len, 0, NULL) : NULL;
	free(r.body);
	if (rc == BBT_ENOTSUP && want && want[0]) {   /* no /v1/models: take -O model as it is */
		snprintf(o->model, sizeof o->model, "%s", want);
		return BBT_OK;
	}
	if (rc < 0)
		return rc;
	json_t *data = json_object_get(j, "data"), *m = NULL;
	for (size_t i = 0; i < json_array_size(data) && m == NULL; i++) {
		json_t *e = json_array_get(data, i);
		const char *id = json_string_value(json_object_get(e, "id"));
		if (id && (want == NULL || want[0] == '\0' || strcmp(id, want) == 0))
			m = e;
	}
	if (m == NULL) {
		json_decref(j);
		return want && want[0]
		       ? bbt_error(err, errlen, BBT_ENOTFOUND, "openai: %s/v1/models does not list %s",
		                   o->c.url, want)
		            : bbt_error(err, errlen, BBT_EFORMAT,
		                   "openai: %s/v1/models lists no model; name one with -O model=NAME",
		                   o->c.url);
	}
	snprintf(o->model, sizeof o->model, "%s", json_string_value(json_object_get(m, "id")));
	json_t *ml = json_object_get(m, "max_model_len");
	if (*max_len == 0 && json_is_integer(ml) && json_integer_value(ml) > 0)
		*max_len = (long)json_integer_value(ml);
	const char *mask = json_string_value(json_object_get(m, "mask_marker"));
	const char *sep = json_string_value(json_object_get(m, "sep_marker"));
	const char *xm = json_string_value(json_object_get(m, "input_mask_marker"));
	if (mask && mask[0] && xm && xm[0] && (o->xmask = strdup(xm)) == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "openai: out of memory");
	if ((mask && mask[0] && (o->mask = strdup(mask)) == NULL) ||
	    (o->mask && sep && sep[0] && (o->sep = strdup(sep)) == NULL))
		rc = bbt_error(err, errlen, BBT_ENOMEM, "openai: out of memory");
	json_decref(j);
	return rc;
}

static int openai_open(const bbt_host_t *host, const struct bbt_backend_params *params,
                       void **state, struct bbt_model_info *info, char *err, size_t errlen)
{
	if (state != NULL)
		*state = NULL;
	if (host == NULL || params == NULL || state == NULL || info == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "openai: open called with a NULL argument");
	const char *url = host->opt_string(host->ctx, "url");
	if (url == NULL || url[0] == '\0')
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "openai backend needs its server: -O url=http://HOST:PORT "
		                 "(an OpenAI-compatible /v1/completions)");
	struct openai *o = calloc(1, sizeof *o);
	if (o == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "openai: out of memory");
	o->host = host;
	o->logprobs = host->opt_int(host->ctx, "logprobs");
	o->floor = strcmp(host->opt_string(host->ctx, "missing"), "floor") == 0;
	int rc = hc_open(&o->c, host, "openai", url, err, errlen);
	if (rc < 0) {
		free(o);
		return rc;
	}
	long max_len = host->opt_int(host->ctx, "max_len");
	rc = read_models(o, &max_len, err, errlen);
	/* pieces 0, 1 and 2: the markers (masked models; unused otherwise) */
	if (rc == BBT_OK && (intern(o, o->mask ? o->mask : "", o->mask ? strlen(o->mask) : 0) !=
	                             MASK_ID ||
	                     intern(o, o->sep ? o->sep : "\x01", o->sep ? strlen(o->sep) : 1) !=
	                             SEP_ID ||
	                     intern(o, o->xmask ? o->xmask : "\x02", o->xmask ? strlen(o->xmask) : 1)
	                             != XMASK_ID))
		rc = bbt_error(err, errlen, BBT_ENOMEM, "openai: out of memory");
	if (rc < 0) {
		openai_close(o);
		return rc;
	}
	memset(info, 0, sizeof *info);
	snprintf(info->arch, sizeof info->arch, "openai");
	info->hidden = 1;        /* no embeddings travel: nothing continuous to size */
	info->layers = 1;
	info->vocab_size = 0;    /* the server's vocabulary, unknown here */
	info->max_len = (size_t)(max_len > 0 ? max_len : 2048);
	info->causal = o->mask == NULL;
	info->bos_id = info->pad_id = -1;   /* the server adds its own */
	info->eos_id = o->sep ? SEP_ID : -1; /* between demonstrations and at the end */
	info->mask_id = o->mask ? MASK_ID : -1;
	info->embed_std = 1;
	if (host->log)
		host->log(host->ctx, BBT_LOG_INFO, "%s: model %s, %s, top %ld log-probabilities",
		          o->c.url, o->model, o->mask ? "masked (markers from /v1/models)" : "causal",
		          o->logprobs);
	*state = o;
	return BBT_OK;
}

/* ---------------------------------------------------------------- */
/* score */

/* The label text seen as a token: leading white space, GPT-2's 'Ġ' and
 * SentencePiece's '▁' dropped. */
static const char *bare(const char *s)
{
	for (;;) {
		if (is_space((unsigned char)*s))
			s++;
		else if ((unsigned char)s[0] == 0xC4 && (unsigned char)s[1] == 0xA0)
			s += 2;
		else if ((unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x96 &&
		         (unsigned char)s[2] == 0x81)
			s += 3;
		else
			return s;
	}
}

/* The label's log-probability in one top_logprobs object: the entry of
 * exactly its text, else the likeliest entry whose text is the same word
 * (" great", "great", "Ġgreat"); NAN when none. *least: the smallest. */
static double label_logprob(json_t *top, const char *label, double *least)
{
	const char *key;
	json_t *v;
	double got = NAN, best = -INFINITY;
	*least = INFINITY;
	json_object_foreach(top, key, v) {
		if (!json_is_number(v))
			continue;
		double lp = json_number_value(v);
		if (lp < *least)
			*least = lp;
		if (strcmp(key, label) == 0)
			got = lp;
		else if (strcmp(bare(key), bare(label)) == 0 && bare(label)[0] && lp > best)
			best = lp;
	}
	return got == got ? got : best > -INFINITY ? best : NAN;
}

static int openai_score(void *state, const struct bbt_batch *b, const float *prompts,
                        size_t n_variants, float *logits, char *err, size_t errlen)
{
	struct openai *o = state;
	if (o == NULL || b == NULL || logits == NULL || n_variants == 0 ||
	    (b->n_seq > 0 && (b->ids == NULL || b->offset == NULL)))
		return bbt_error(err, errlen, BBT_EINVAL, "openai: score called with a NULL argument");
	if (prompts != NULL && b->prompt_len > 0)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "openai: a text API takes no continuous prompt (%zu vectors per sequence); "
		                 "use a discrete method (--optimizer bdpl) or a baseline (--method manual, "
		                 "calibrated, icl), or serve the model with `bbtbench serve` and tune it "
		                 "through --backend http", b->prompt_len);
	for (size_t l = 0; l < b->n_labels; l++)
		if (openai_token_text(o, b->label_ids[l]) == NULL)
			return bbt_error(err, errlen, BBT_EINVAL, "openai: label id %d is no piece of text",
			                 (int)b->label_ids[l]);
	json_t *texts = json_array();
	int rc = texts ? BBT_OK : bbt_error(err, errlen, BBT_ENOMEM, "openai: out of memory");
	char *buf = NULL;
	size_t cap = 0;
	for (size_t i = 0; rc == BBT_OK && i < b->n_seq; i++) {
		size_t len = b->offset[i + 1] - b->offset[i], at = 0, masks = 0;
		const int32_t *seq = b->ids + b->offset[i];
		if (o->mask == NULL && b->predict_pos[i] + 1 != len)
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "openai: sequence %zu: a causal model predicts after the last token, "
			               "not at %zu of %zu", i, b->predict_pos[i], len);
		for (size_t k = 0; rc == BBT_OK && k < len; k++) {
			/* a mask token the host did not predict at: input (calibration's) */
			int input_mask = o->mask && seq[k] == MASK_ID && k != b->predict_pos[i];
			const char *t = input_mask && o->xmask ? o->xmask : openai_token_text(o, seq[k]);
			if (t == NULL) {
				rc = bbt_error(err, errlen, BBT_EINVAL, "openai: sequence %zu: token id %d is no "
				               "piece of text", i, (int)seq[k]);
				break;
			}
			masks += o->mask && seq[k] == MASK_ID && !(input_mask && o->xmask);
			size_t n = strlen(t);
			if (at + n + 1 > cap) {
				size_t c2 = cap ? 2 * cap : 4096;
				while (c2 < at + n + 1)
					c2 *= 2;
				char *nb = realloc(buf, c2);
				if (nb == NULL) {
					rc = bbt_error(err, errlen, BBT_ENOMEM, "openai: out of memory");
					break;
				}
				buf = nb;
				cap = c2;
			}
			memcpy(buf + at, t, n);
			at += n;
		}
		if (rc == BBT_OK && o->mask && (masks != 1 || seq[b->predict_pos[i]] != MASK_ID))
			rc = bbt_error(err, errlen, BBT_EINVAL,
			               "openai: sequence %zu: a masked model reads its one mask token; this "
			               "one has %zu, and predicts at %zu", i, masks, b->predict_pos[i]);
		if (rc == BBT_OK) {
			buf[at] = '\0';
			json_t *s = json_string(buf);
			if (s == NULL || json_array_append_new(texts, s) < 0)
				rc = bbt_error(err, errlen, BBT_EINVAL,
				               "openai: sequence %zu is not UTF-8 text", i);
		}
	}
	free(buf);
	json_t *req = NULL;
	if (rc == BBT_OK)
		req = json_pack("{s:s, s:O, s:i, s:i, s:I, s:b}", "model", o->model, "prompt", texts,
		                "max_tokens", 1, "temperature", 0, "logprobs", (json_int_t)o->logprobs,
		                "echo", 0);
	json_decref(texts);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (rc == BBT_OK && body == NULL)
		rc = bbt_error(err, errlen, BBT_ENOMEM, "openai: out of memory");
	struct hc_resp r = { 0 };
	if (rc == BBT_OK) {
		char key[64];
		hc_next_key(&o->c, key, sizeof key);
		rc = hc_request(&o->c, "/v1/completions", body, strlen(body), "application/json", key,
		                &r, err, errlen);
	}
	free(body);
	json_t *j = rc == BBT_OK ? json_loadb(r.body ? r.body : "", r.len, 0, NULL) : NULL;
	free(r.body);
	if (rc < 0)
		return rc;
	json_t *choices = json_object_get(j, "choices");
	if (json_array_size(choices) != b->n_seq)
		rc = bbt_error(err, errlen, BBT_EFORMAT,
		               "openai: %s/v1/completions answered %zu choices for %zu prompts", o->c.url,
		               json_array_size(choices), b->n_seq);
	for (size_t c = 0; rc == BBT_OK && c < b->n_seq; c++) {
		json_t *ch = json_array_get(choices, c), *ix = json_object_get(ch, "index");
		size_t i = json_is_integer(ix) ? (size_t)json_integer_value(ix) : c;
		json_t *top = json_array_get(
			json_object_get(json_object_get(ch, "logprobs"), "top_logprobs"), 0);
		if (i >= b->n_seq || !json_is_object(top)) {
			rc = bbt_error(err, errlen, BBT_EFORMAT,
			               "openai: %s/v1/completions: choice %zu has no logprobs.top_logprobs[0]",
			               o->c.url, c);
			break;
		}
		for (size_t l = 0; rc == BBT_OK && l < b->n_labels; l++) {
			const char *label = openai_token_text(o, b->label_ids[l]);
			double least, lp = label_logprob(top, label, &least);
			if (lp != lp && o->floor && least < INFINITY)
				lp = least;
			if (lp != lp)
				rc = bbt_error(err, errlen, BBT_EINVAL,
				               "openai: label word \"%s\" is not among the %ld likeliest tokens "
				               "of sequence %zu; raise -O logprobs, or -O missing=floor",
				               label, o->logprobs, i);
			for (size_t v = 0; v < n_variants; v++)
				logits[(v * b->n_seq + i) * b->n_labels + l] = (float)lp;
		}
	}
	json_decref(j);
	return rc;
}

static int openai_transport(void *state, struct bbt_backend_transport *t)
{
	const struct openai *o = state;
	if (o == NULL || t == NULL)
		return BBT_EINVAL;
	memset(t, 0, sizeof *t);
	hc_totals(&o->c, t);
	t->seconds = o->c.seconds;
	snprintf(t->server, sizeof t->server, "%s", o->c.url);
	snprintf(t->model, sizeof t->model, "%.127s", o->model);   /* an API's model name; no hash */
	return BBT_OK;
}

static const struct bbt_backend_ops ops = {
	.open = openai_open,
	.tokenize = openai_tokenize,
	.token_text = openai_token_text,
	.score = openai_score,
	.close = openai_close,
	.gradient = NULL,   /* a text API gives no gradients */
	.transport = openai_transport,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_BACKEND,
	.name = "openai",
	.version = "0.1",
	.description = "label words through an OpenAI-compatible /v1/completions (text prompts only)",
	.options = options,
	.flags = BBT_BACKEND_NO_CONTINUOUS,   /* the host refuses continuous runs up front */
	.backend = &ops,
};
