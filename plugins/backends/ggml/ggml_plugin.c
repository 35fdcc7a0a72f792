/*
 * ggml_plugin.c - the `ggml` backend: the native backend's GGUF models
 * (BERT/RoBERTa masked LMs, GPT-2 and Llama causal LMs) run through
 * libggml's graphs (gmodel.h), on its CPU backend with N threads or on
 * another ggml device, with the weights in their file types, so that
 * Q8_0/Q4_0 ... files run quantized. The file reading, tokenizers, checks
 * and model info are libbbtmodel's, as for native (<bbtbench/model/lmfile.h>,
 * <bbtbench/model/tokenizer.h>).
 *
 *     bbtbench --backend ggml --model roberta.gguf -O threads=8 --task sst2
 *
 * Options as native's (prompt_mode, max_rows, threads), plus `device`: a
 * ggml device name ("CPU", "CUDA0", "Metal" ... as the installed ggml
 * registers them). Operations a device lacks run on the CPU backend
 * (ggml's scheduler).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bbtbench/plugin.h>
#include <ggml-backend.h>

#include <bbtbench/model/gguf.h>
#include "gmodel.h"
#include <bbtbench/model/lmfile.h>
#include <bbtbench/model/tokenizer.h>
#include <bbtbench/status.h>

static const struct bbt_option_spec options[] = {
	{ "prompt_mode", BBT_OPT_CHOICE, "cat", "cat|add", 0, 0,
	  "cat: prompt vectors are input embeddings after [CLS]; add: added after the embedding LayerNorm" },
	{ "max_rows", BBT_OPT_INT, "4096", NULL, 1, 1 << 24,
	  "padded rows (tokens) per chunk of sequences in one graph (bounds activation memory)" },
	{ "threads", BBT_OPT_INT, "0", NULL, 0, 1024, "CPU backend threads; 0: one per online core" },
	{ "device", BBT_OPT_STRING, "CPU", NULL, 0, 0,
	  "ggml device to compute on: CPU, or a name the installed ggml registers (CUDA0, Metal, ...)" },
	{ 0 },
};

struct gstate {
	bbt_gguf_t *g;
	struct bbt_lm_hparams hp;
	struct bbt_lm_vocab vb;
	struct gml_model m;
	struct gml_forward_params fp;
	ggml_backend_t dev, cpu;      /* cpu: the fallback, NULL when dev is the CPU */
	ggml_backend_sched_t sched;
	size_t prompt_len;
};

static void ggml_be_close(void *state)
{
	struct gstate *s = state;
	if (s == NULL)
		return;
	if (s->sched != NULL)
		ggml_backend_sched_free(s->sched);
	gml_model_release(&s->m);
	if (s->cpu != NULL)
		ggml_backend_free(s->cpu);
	if (s->dev != NULL)
		ggml_backend_free(s->dev);
	bbt_lm_vocab_release(&s->vb);
	bbt_gguf_free(s->g);
	free(s);
}

/* ggml's own messages (device probing, allocations) are debug output; its
 * errors come back to us as failed calls, which we report. */
static void quiet_log(enum ggml_log_level level, const char *text, void *ud)
{
	(void)level;
	(void)text;
	(void)ud;
}

static void set_threads(ggml_backend_t be, int n)
{
	ggml_backend_dev_t dev = ggml_backend_get_device(be);
	ggml_backend_reg_t reg = dev != NULL ? ggml_backend_dev_backend_reg(dev) : NULL;
	ggml_backend_set_n_threads_t fn = reg != NULL
		? (ggml_backend_set_n_threads_t)ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads")
		: NULL;
	if (fn != NULL)
		fn(be, n);
}

/* The device named by the option, and the CPU beside it. */
static int open_devices(struct gstate *s, const char *name, int threads, char *err, size_t errlen)
{
	ggml_backend_dev_t dev = ggml_backend_dev_by_name(name);
	if (dev == NULL) {
		char list[256] = "";
		for (size_t i = 0; i < ggml_backend_dev_count(); i++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
			         ggml_backend_dev_name(ggml_backend_dev_get(i)));
		return bbt_error(err, errlen, BBT_ENOTFOUND,
		                 "ggml: no device \"%s\" in this ggml (it has: %s)", name, list);
	}
	if ((s->dev = ggml_backend_dev_init(dev, NULL)) == NULL)
		return bbt_error(err, errlen, BBT_EIO, "ggml: cannot start device %s", name);
	if (ggml_backend_dev_type(dev) != GGML_BACKEND_DEVICE_TYPE_CPU &&
	    (s->cpu = ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, NULL)) == NULL)
		return bbt_error(err, errlen, BBT_EIO, "ggml: cannot start the CPU backend");
	set_threads(s->dev, threads);
	if (s->cpu != NULL)
		set_threads(s->cpu, threads);
	ggml_backend_t bes[2] = { s->dev, s->cpu };
	s->sched = ggml_backend_sched_new(bes, NULL, s->cpu != NULL ? 2 : 1, 64 * s->hp.L + 256,
	                                  false, true);
	if (s->sched == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "ggml: cannot create the scheduler");
	return BBT_OK;
}

/* The word embeddings as f32 (malloc'ed), for the model info's statistics;
 * the model's loading has checked that ggml reads their type. */
static int embeddings_f32(const bbt_gguf_t *g, float **out, char *err, size_t errlen)
{
	const struct bbt_gguf_tensor *t = bbt_gguf_find_tensor(g, "token_embd.weight");
	const struct ggml_type_traits *tr = ggml_get_type_traits((enum ggml_type)t->type);
	if (t->type != BBT_GGML_F32 && tr->to_float == NULL)
		return bbt_error(err, errlen, BBT_ENOTSUP,
		                 "ggml: token_embd.weight is %s, which ggml cannot convert to f32",
		                 ggml_type_name((enum ggml_type)t->type));
	float *f = malloc((size_t)t->n_elements * sizeof *f);
	if (f == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "ggml: out of memory");
	if (t->type == BBT_GGML_F32)
		memcpy(f, t->data, (size_t)t->n_elements * sizeof *f);
	else
		tr->to_float(t->data, f, (int64_t)t->n_elements);
	*out = f;
	return BBT_OK;
}

static int ggml_be_open(const bbt_host_t *host, const struct bbt_backend_params *params,
                        void **state, struct bbt_model_info *info, char *err, size_t errlen)
{
	if (state != NULL)
		*state = NULL;
	if (host == NULL || params == NULL || state == NULL || info == NULL)
		return bbt_error(err, errlen, BBT_EINVAL, "ggml: open called with a NULL argument");
	if (params->model == NULL || params->model[0] == '\0')
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "ggml backend needs a model: --model FILE.gguf (bbtbench convert makes one)");
	struct gstate *s = calloc(1, sizeof *s);
	if (s == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "ggml: out of memory");
	ggml_log_set(quiet_log, NULL);
	const char *path = params->model;
	long threads = host->opt_int(host->ctx, "threads");
	if (threads <= 0)
		threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
	const char *device = host->opt_string(host->ctx, "device");
	int rc = bbt_gguf_open(path, &s->g, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_lm_hparams_load(&s->hp, s->g, path, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_lm_vocab_load(&s->vb, s->g, path, &s->hp, err, errlen);
	if (rc == BBT_OK)
		rc = bbt_lm_check_params(&s->hp, params, "ggml", err, errlen);
	if (rc == BBT_OK)
		rc = open_devices(s, device != NULL && device[0] ? device : "CPU", (int)threads, err,
		                  errlen);
	if (rc == BBT_OK)
		rc = gml_model_load(&s->m, &s->hp, s->g, path, s->dev, err, errlen);
	float *embd = NULL;
	if (rc == BBT_OK)
		rc = embeddings_f32(s->g, &embd, err, errlen);
	if (rc < 0) {
		ggml_be_close(s);
		return rc;
	}
	bbt_lm_model_info(info, &s->hp, &s->vb, embd);
	free(embd);
	s->prompt_len = params->prompt_len;
	const char *mode = host->opt_string(host->ctx, "prompt_mode");
	s->fp.mode = mode != NULL && strcmp(mode, "add") == 0 ? GML_PROMPT_ADD : GML_PROMPT_CAT;
	long rows = host->opt_int(host->ctx, "max_rows");
	s->fp.max_rows = rows > 0 ? (size_t)rows : 4096;
	if (host->log != NULL)
		host->log(host->ctx, BBT_LOG_INFO,
		          "%s: %s, %zu layers, hidden %zu, %zu heads, vocab %zu, %zu positions, "
		          "embedding std %.6f, prompt mode %s; ggml %s, %ld threads",
		          path, s->hp.arch, s->hp.L, s->hp.H, s->hp.heads, s->hp.V, s->hp.n_pos,
		          info->embed_std, s->fp.mode == GML_PROMPT_ADD ? "add" : "cat",
		          ggml_backend_name(s->dev), threads);
	*state = s;
	return BBT_OK;
}

static int ggml_be_tokenize(void *state, const char *text, int32_t *ids, size_t cap, size_t *n,
                            char *err, size_t errlen)
{
	struct gstate *s = state;
	if (s == NULL || text == NULL || n == NULL || (cap > 0 && ids == NULL))
		return bbt_error(err, errlen, BBT_EINVAL, "ggml: tokenize called with a NULL argument");
	return bbt_tok_encode(&s->vb.tok, text, ids, cap, n, err, errlen);
}

static const char *ggml_be_token_text(void *state, int32_t id)
{
	const struct gstate *s = state;
	if (s == NULL || id < 0 || (size_t)id >= s->vb.tok.n)
		return NULL;
	return s->vb.tok.tokens[id];
}

static int ggml_be_score(void *state, const struct bbt_batch *batch, const float *prompts,
                         size_t n_variants, float *logits, char *err, size_t errlen)
{
	struct gstate *s = state;
	if (s == NULL || batch == NULL || logits == NULL || (batch->n_labels > 0 && !batch->label_ids))
		return bbt_error(err, errlen, BBT_EINVAL, "ggml: score called with a NULL argument");
	if (prompts != NULL && batch->prompt_len != 0 && batch->prompt_len != s->prompt_len)
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "ggml: batch prompt_len %zu, but the model was opened for %zu",
		                 batch->prompt_len, s->prompt_len);
	int rc = bbt_lm_check_labels(&s->vb, batch, "ggml", err, errlen);
	if (rc < 0)
		return rc;
	return gml_model_score(&s->m, &s->fp, s->sched, batch, prompts, n_variants, logits, err,
	                       errlen);
}

static const struct bbt_backend_ops ops = {
	ggml_be_open, ggml_be_tokenize, ggml_be_token_text, ggml_be_score, ggml_be_close, NULL,
};

/* A program that links this backend beside another (t/ggml, bench/ggml)
 * renames the descriptor apart. */
#ifndef GGML_DESCRIPTOR
#define GGML_DESCRIPTOR bbt_plugin
#endif

BBT_PLUGIN_EXPORT const struct bbt_plugin GGML_DESCRIPTOR = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_BACKEND,
	.name = "ggml",
	.version = "0.1",
	.description = "the native backend's GGUF models (quantized too) through libggml's graphs",
	.options = options,
	.backend = &ops,
};
