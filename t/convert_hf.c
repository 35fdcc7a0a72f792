/*
 * t/convert_hf.c - `bbtbench convert` on tiny Hugging Face folders that the
 * test writes itself (config.json, model.safetensors, vocab.txt or
 * vocab.json + merges.txt): BERT with F32 and BF16 tensors and RoBERTa with
 * a stored tied decoder, checked tensor by tensor in the GGUF it writes, and
 * folders with one thing wrong, each refused with a message that names it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bbtbench/model/gguf.h>
#include "core/util.h"
#include "tap.h"

enum { H = 8, F = 16, V = 12, NPOS = 10, NL = 1 };

struct st_entry {
	char name[96];
	const char *dtype;   /* "F32" | "BF16" | "F16" */
	int nd;
	int shape[2];
	float *data;
};

static float val(const char *name, size_t i)
{
	/* deterministic, distinct per tensor and element, exact in bf16 */
	unsigned h = 0;
	for (const char *p = name; *p; p++)
		h = h * 31 + (unsigned char)*p;
	return (float)((int)((h + i * 7) % 64) - 32) / 16.0f;
}

static int write_safetensors(const char *path, struct st_entry *e, int n, int truncate)
{
	char *hdr = bbt_strdup("{\"__metadata__\":{\"format\":\"pt\"}");
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		size_t es = strcmp(e[i].dtype, "F32") == 0 ? 4 : 2;
		size_t cnt = (size_t)e[i].shape[0] * (size_t)(e[i].nd == 2 ? e[i].shape[1] : 1);
		char *s = e[i].nd == 2
		          ? bbt_asprintf("%s,\"%s\":{\"dtype\":\"%s\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
		                         hdr, e[i].name, e[i].dtype, e[i].shape[0], e[i].shape[1], off, off + cnt * es)
		          : bbt_asprintf("%s,\"%s\":{\"dtype\":\"%s\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
		                         hdr, e[i].name, e[i].dtype, e[i].shape[0], off, off + cnt * es);
		free(hdr);
		hdr = s;
		off += cnt * es;
	}
	char *s = bbt_asprintf("%s}", hdr);
	free(hdr);
	hdr = s;
	while (strlen(hdr) % 8 != 0) {
		s = bbt_asprintf("%s ", hdr);
		free(hdr);
		hdr = s;
	}
	FILE *f = fopen(path, "wb");
	uint64_t hl = strlen(hdr);
	unsigned char le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(hl >> (8 * i));
	fwrite(le, 1, 8, f);
	fwrite(hdr, 1, hl, f);
	size_t written = 0;
	for (int i = 0; i < n; i++) {
		size_t cnt = (size_t)e[i].shape[0] * (size_t)(e[i].nd == 2 ? e[i].shape[1] : 1);
		for (size_t j = 0; j < cnt; j++) {
			if (truncate && written + 4 > off / 2)
				break;
			if (strcmp(e[i].dtype, "F32") == 0) {
				fwrite(&e[i].data[j], 4, 1, f);
				written += 4;
			} else {
				uint32_t b;
				memcpy(&b, &e[i].data[j], 4);
				uint16_t h = strcmp(e[i].dtype, "BF16") == 0 ? (uint16_t)(b >> 16)
				                                               : bbt_fp32_to_fp16(e[i].data[j]);
				fwrite(&h, 2, 1, f);
				written += 2;
			}
		}
	}
	fclose(f);
	free(hdr);
	return 0;
}

/* The tensors of a 1-layer model; `skip` leaves one out, `bad` gives one a
 * wrong shape. */
static int model_tensors(struct st_entry *e, int roberta, const char *skip, const char *bad)
{
	const char *pre = roberta ? "roberta." : "bert.";
	static const struct { const char *n; int nd, a, b; } base[] = {
		{ "embeddings.word_embeddings.weight", 2, V, H },
		{ "embeddings.position_embeddings.weight", 2, NPOS, H },
		{ "embeddings.token_type_embeddings.weight", 2, 2, H },
		{ "embeddings.LayerNorm.weight", 1, H, 0 },
		{ "embeddings.LayerNorm.bias", 1, H, 0 },
		{ "encoder.layer.0.attention.self.query.weight", 2, H, H },
		{ "encoder.layer.0.attention.self.query.bias", 1, H, 0 },
		{ "encoder.layer.0.attention.self.key.weight", 2, H, H },
		{ "encoder.layer.0.attention.self.key.bias", 1, H, 0 },
		{ "encoder.layer.0.attention.self.value.weight", 2, H, H },
		{ "encoder.layer.0.attention.self.value.bias", 1, H, 0 },
		{ "encoder.layer.0.attention.output.dense.weight", 2, H, H },
		{ "encoder.layer.0.attention.output.dense.bias", 1, H, 0 },
		{ "encoder.layer.0.attention.output.LayerNorm.weight", 1, H, 0 },
		{ "encoder.layer.0.attention.output.LayerNorm.bias", 1, H, 0 },
		{ "encoder.layer.0.intermediate.dense.weight", 2, F, H },
		{ "encoder.layer.0.intermediate.dense.bias", 1, F, 0 },
		{ "encoder.layer.0.output.dense.weight", 2, H, F },
		{ "encoder.layer.0.output.dense.bias", 1, H, 0 },
		{ "encoder.layer.0.output.LayerNorm.weight", 1, H, 0 },
		{ "encoder.layer.0.output.LayerNorm.bias", 1, H, 0 },
	};
	static const struct { const char *bert, *rob; int nd, a, b; } head[] = {
		{ "cls.predictions.transform.dense.weight", "lm_head.dense.weight", 2, H, H },
		{ "cls.predictions.transform.dense.bias", "lm_head.dense.bias", 1, H, 0 },
		{ "cls.predictions.transform.LayerNorm.weight", "lm_head.layer_norm.weight", 1, H, 0 },
		{ "cls.predictions.transform.LayerNorm.bias", "lm_head.layer_norm.bias", 1, H, 0 },
		{ "cls.predictions.bias", "lm_head.bias", 1, V, 0 },
	};
	int n = 0;
	for (size_t i = 0; i < sizeof base / sizeof base[0] + sizeof head / sizeof head[0] + 1; i++) {
		struct st_entry *t = &e[n];
		if (i < sizeof base / sizeof base[0]) {
			snprintf(t->name, sizeof t->name, "%s%s", pre, base[i].n);
			t->nd = base[i].nd;
			t->shape[0] = base[i].a;
			t->shape[1] = base[i].b;
		} else if (i < sizeof base / sizeof base[0] + sizeof head / sizeof head[0]) {
			size_t k = i - sizeof base / sizeof base[0];
			snprintf(t->name, sizeof t->name, "%s", roberta ? head[k].rob : head[k].bert);
			t->nd = head[k].nd;
			t->shape[0] = head[k].a;
			t->shape[1] = head[k].b;
		} else {
			if (!roberta)
				break;
			/* HF writes RoBERTa's tied decoder: the converter must see it is tied */
			snprintf(t->name, sizeof t->name, "lm_head.decoder.weight");
			t->nd = 2;
			t->shape[0] = V;
			t->shape[1] = H;
		}
		if (skip && strstr(t->name, skip))
			continue;
		if (bad && strstr(t->name, bad))
			t->shape[0] += 1;
		/* BF16 for one matrix, F32 elsewhere */
		t->dtype = strstr(t->name, "query.weight") ? "BF16" : "F32";
		size_t cnt = (size_t)t->shape[0] * (size_t)(t->nd == 2 ? t->shape[1] : 1);
		t->data = malloc(cnt * sizeof *t->data);
		const char *seed = strcmp(t->name, "lm_head.decoder.weight") == 0
		                   ? "roberta.embeddings.word_embeddings.weight" : t->name;
		for (size_t j = 0; j < cnt; j++)
			t->data[j] = val(seed, j);
		n++;
	}
	return n;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = bbt_path_join(dir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	free(p);
}

static const char *bert_config =
	"{\"model_type\": \"bert\", \"vocab_size\": 12, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
	" \"num_attention_heads\": 2, \"intermediate_size\": 16, \"max_position_embeddings\": 10,"
	" \"type_vocab_size\": 2, \"layer_norm_eps\": 1e-12, \"hidden_act\": \"gelu\"}";
static const char *roberta_config =
	"{\"model_type\": \"roberta\", \"vocab_size\": 12, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
	" \"num_attention_heads\": 2, \"intermediate_size\": 16, \"max_position_embeddings\": 10,"
	" \"type_vocab_size\": 2, \"layer_norm_eps\": 1e-5, \"hidden_act\": \"gelu\", \"pad_token_id\": 1}";

/* Write a folder and convert it; returns the exit status, stderr in msg. */
static int convert(const char *dir, int roberta, const char *config, const char *skip,
                   const char *bad, int truncate, const char *dtype, char *msg, size_t msglen)
{
	struct st_entry e[40];
	memset(e, 0, sizeof e);
	int n = model_tensors(e, roberta, skip, bad);
	char *st = bbt_path_join(dir, "model.safetensors");
	write_safetensors(st, e, n, truncate);
	free(st);
	for (int i = 0; i < n; i++)
		free(e[i].data);
	write_file(dir, "config.json", config);
	if (roberta) {
		write_file(dir, "vocab.json",
		           "{\"<s>\": 0, \"<pad>\": 1, \"</s>\": 2, \"<unk>\": 3, \"<mask>\": 4, \"a\": 5,"
		           " \"b\": 6, \"ab\": 7, \"\\u0120\": 8, \"\\u0120ab\": 9, \"\\u0120a\": 10, \"c\": 11}");
		write_file(dir, "merges.txt", "#version: 0.2\na b\n\xc4\xa0 a\n\xc4\xa0" "a b\n");
	} else {
		write_file(dir, "vocab.txt",
		           "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\n##b\nc\n##c\nd\n.\n");
		write_file(dir, "tokenizer_config.json", "{\"do_lower_case\": true}");
	}
	const char *bbt = getenv("BBTBENCH");
	char *cmd = bbt_asprintf("'%s' convert -q %s%s '%s' -o '%s/out.gguf' 2>'%s/err'", bbt,
	                         dtype ? "--dtype " : "", dtype ? dtype : "", dir, dir, dir);
	int rc = system(cmd);
	free(cmd);
	char *ep = bbt_path_join(dir, "err"), *data = NULL;
	size_t len = 0;
	msg[0] = '\0';
	if (bbt_file_read(ep, &data, &len, NULL, 0) == 0) {
		snprintf(msg, msglen, "%s", data);
		free(data);
	}
	free(ep);
	return rc;
}

int main(void)
{
	if (getenv("BBTBENCH") == NULL)
		skip_all("run through make check (BBTBENCH)");
	char dir[] = "/tmp/bbt-convert-XXXXXX";
	if (mkdtemp(dir) == NULL)
		skip_all("cannot create a temporary directory");
	char msg[1024], err[BBT_ERRLEN];
	char *out = bbt_path_join(dir, "out.gguf");

	int rc = convert(dir, 0, bert_config, NULL, NULL, 0, NULL, msg, sizeof msg);
	ok(rc == 0, "convert a tiny BERT folder (F32 and BF16 tensors): %s", rc ? msg : "ok");
	bbt_gguf_t *g = NULL;
	rc = bbt_gguf_open(out, &g, err, sizeof err);
	ok(rc == 0, "its GGUF opens: %s", rc ? err : "ok");
	if (rc == 0) {
		const struct bbt_gguf_tensor *t = bbt_gguf_find_tensor(g, "blk.0.attn_q.weight");
		int same = t != NULL && t->type == BBT_GGML_F32 && t->ne[0] == H && t->ne[1] == H;
		for (size_t i = 0; same && i < H * H; i++)
			same = ((const float *)t->data)[i] == val("bert.encoder.layer.0.attention.self.query.weight", i);
		ok(same, "BF16 query weight converted exactly to f32, [out][in] kept, ne = {in, out}");
		t = bbt_gguf_find_tensor(g, "blk.0.ffn_up.weight");
		ok(t != NULL && t->ne[0] == H && t->ne[1] == F, "ffn_up has ne = {%d, %d}", H, F);
		t = bbt_gguf_find_tensor(g, "mlm.output.bias");
		same = t != NULL && t->ne[0] == V;
		for (size_t i = 0; same && i < V; i++)
			same = ((const float *)t->data)[i] == val("cls.predictions.bias", i);
		ok(same, "the MLM decoder bias is kept");
		ok(bbt_gguf_find_tensor(g, "mlm.output.weight") == NULL, "no decoder weight: tied to token_embd");
		const char *s = NULL;
		uint32_t u = 0;
		bbt_gguf_get_str(g, "tokenizer.ggml.model", &s, NULL, 0);
		bbt_gguf_get_u32(g, "tokenizer.ggml.mask_token_id", &u, NULL, 0);
		ok(s && strcmp(s, "bert") == 0 && u == 4, "WordPiece tokenizer, [MASK] = 4");
		bbt_gguf_get_u32(g, "bert.context_length", &u, NULL, 0);
		is_int(u, NPOS, "context_length");
		bbt_gguf_free(g);
	} else {
		skip(6, "no GGUF");
	}

	rc = convert(dir, 0, bert_config, NULL, NULL, 0, "f16", msg, sizeof msg);
	g = NULL;
	if (rc == 0)
		bbt_gguf_open(out, &g, err, sizeof err);
	const struct bbt_gguf_tensor *t = g ? bbt_gguf_find_tensor(g, "blk.0.attn_k.weight") : NULL;
	const struct bbt_gguf_tensor *tb = g ? bbt_gguf_find_tensor(g, "blk.0.attn_k.bias") : NULL;
	ok(t && t->type == BBT_GGML_F16 && tb && tb->type == BBT_GGML_F32 &&
	   bbt_fp16_to_fp32(((const uint16_t *)t->data)[5]) ==
	   val("bert.encoder.layer.0.attention.self.key.weight", 5),
	   "--dtype f16: matrices f16, vectors f32");
	bbt_gguf_free(g);

	rc = convert(dir, 1, roberta_config, NULL, NULL, 0, NULL, msg, sizeof msg);
	ok(rc == 0, "convert a tiny RoBERTa folder (BPE, tied decoder stored): %s", rc ? msg : "ok");
	g = NULL;
	if (rc == 0 && bbt_gguf_open(out, &g, err, sizeof err) == 0) {
		const char *s = NULL;
		uint32_t off = 0, ctx = 0;
		const char *const *merges;
		size_t nm = 0;
		bbt_gguf_get_str(g, "tokenizer.ggml.model", &s, NULL, 0);
		bbt_gguf_get_arr_str(g, "tokenizer.ggml.merges", &merges, &nm, NULL, 0);
		ok(s && strcmp(s, "gpt2") == 0 && nm == 3 && strcmp(merges[1], "\xc4\xa0 a") == 0,
		   "BPE tokenizer with its merges in order (header line dropped)");
		bbt_gguf_get_u32(g, "roberta.position_offset", &off, NULL, 0);
		bbt_gguf_get_u32(g, "roberta.context_length", &ctx, NULL, 0);
		ok(off == 2 && ctx == NPOS - 2, "positions start at padding_idx + 1 = 2; %u usable", ctx);
		ok(bbt_gguf_find_tensor(g, "mlm.output.weight") == NULL,
		   "a stored decoder equal to the embeddings is recognised as tied");
		bbt_gguf_free(g);
	} else {
		skip(3, "no RoBERTa GGUF");
	}

	/* one thing wrong at a time */
	rc = convert(dir, 0, bert_config, "intermediate.dense.bias", NULL, 0, NULL, msg, sizeof msg);
	ok(rc != 0 && strstr(msg, "intermediate.dense.bias\" is missing"), "missing tensor named");
	rc = convert(dir, 0, bert_config, NULL, "output.dense.weight", 0, NULL, msg, sizeof msg);
	ok(rc != 0 && strstr(msg, "has shape") && strstr(msg, "config.json implies"),
	   "shape mismatch named with both shapes");
	rc = convert(dir, 0, bert_config, NULL, NULL, 1, NULL, msg, sizeof msg);
	ok(rc != 0 && strstr(msg, "data_offsets"), "truncated safetensors refused");
	rc = convert(dir, 0, "{\"model_type\": \"t5\"}", NULL, NULL, 0, NULL, msg, sizeof msg);
	ok(rc != 0 && strstr(msg, "model_type \"t5\" is not supported"), "unknown architecture named");
	char *cfg = bbt_strdup(bert_config);
	char *p = strstr(cfg, "\"vocab_size\": 12");
	p[15] = '3';
	rc = convert(dir, 0, cfg, NULL, NULL, 0, NULL, msg, sizeof msg);
	ok(rc != 0 && strstr(msg, "vocab_size"), "vocabulary size mismatch refused");
	free(cfg);
	rc = convert(dir, 0, "{not json", NULL, NULL, 0, NULL, msg, sizeof msg);
	ok(rc != 0 && strstr(msg, "config.json:1"), "malformed config.json refused with its line");
	/* a layer_norm_eps that is not a positive number, once silently 1e-12 */
	static const char *const bad_eps[] = { "\"1e-12\"", "null", "[]", "0", "-1e-5" };
	for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++) {
		char *c = bbt_strdup(bert_config), *e = strstr(c, "1e-12");
		char *bad = bbt_asprintf("%.*s%s%s", (int)(e - c), c, bad_eps[i], e + 5);
		rc = convert(dir, 0, bad, NULL, NULL, 0, NULL, msg, sizeof msg);
		ok(WIFEXITED(rc) && WEXITSTATUS(rc) == 2 &&
		   strstr(msg, "config.json: \"layer_norm_eps\" must be a positive number, not "),
		   "layer_norm_eps %s refused (exit 2), naming the field: %s", bad_eps[i], msg);
		free(bad);
		free(c);
	}

	char *cmd = bbt_asprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	free(cmd);
	free(out);
	return done_testing();
}
