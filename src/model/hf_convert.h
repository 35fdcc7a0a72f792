/*
 * hf_convert.h - Hugging Face model folder -> GGUF, and GGUF description.
 *
 * bbt_convert_hf reads DIR/config.json, DIR/model.safetensors and the
 * tokenizer files (vocab.txt for WordPiece, or vocab.json + merges.txt for
 * byte-level BPE; tokenizer_config.json and special_tokens_map.json when
 * present) and writes one GGUF file with llama.cpp's metadata keys and
 * tensor names, keeping the masked-LM head that llama.cpp's converter
 * drops:
 *
 *     general.architecture          "bert" | "roberta"
 *     <arch>.context_length         max_position_embeddings (roberta: minus
 *                                   the padding_idx + 1 offset)
 *     <arch>.embedding_length, .block_count, .feed_forward_length,
 *     <arch>.attention.head_count, .attention.layer_norm_epsilon
 *     <arch>.position_offset        first learned position row used (bbtbench
 *                                   key; roberta: padding_idx + 1, bert: 0)
 *     tokenizer.ggml.model          "bert" (WordPiece) | "gpt2" (byte-level BPE)
 *     tokenizer.ggml.tokens, .token_type, .merges (BPE), and the
 *     special-token ids (bos = [CLS]/<s>, eos = [SEP]/</s>, unknown,
 *     seperator, padding, cls, mask)
 *     bbt.tokenizer.do_lower_case, bbt.tokenizer.strip_accents (WordPiece)
 *
 * Tensors: token_embd, position_embd, token_types, token_embd_norm,
 * blk.N.{attn_q,attn_k,attn_v,attn_output,attn_output_norm,ffn_up,ffn_down,
 * layer_output_norm}.{weight,bias}, and the MLM head mlm.dense, mlm.norm,
 * mlm.output.bias (mlm.output.weight only when the decoder is not tied to
 * token_embd). Weights of two or more dimensions are written as `dtype`
 * (Q8_0/Q4_0 only where rows are whole blocks of 32, f16 elsewhere),
 * vectors always as f32.
 */
#ifndef BBT_HF_CONVERT_H
#define BBT_HF_CONVERT_H

#include <stddef.h>
#include <stdio.h>
#include <bbtbench/model/gguf.h>

struct bbt_convert_params {
	uint32_t dtype;      /* BBT_GGML_F32, _F16, _Q8_0 or _Q4_0: type of the matrices */
	FILE *log;           /* one line per step, or NULL for none */
};

struct bbt_convert_params bbt_convert_default_params(void);

/* Convert the folder dir into the GGUF file out. */
int bbt_convert_hf(const char *dir, const char *out, const struct bbt_convert_params *p,
                   char *err, size_t errlen);

/* Print a GGUF file's header, metadata and tensor list on f. */
int bbt_gguf_describe(const char *path, FILE *f, char *err, size_t errlen);

#endif /* BBT_HF_CONVERT_H */
