/*
 * lmfile.h - the native backend's names for the model library's model
 * file and tokenizer API (<bbtbench/model/lmfile.h>), which was this
 * folder's own code before it became libbbtmodel.
 *
 * Transitional: model.c, grad.c, native.c and ggml's gmodel.c still say
 * nat_hparams, nat_vocab ...; a mechanical rename to the bbt_lm_ / bbt_tok_
 * names, once the forward-pass work on those files has landed, removes
 * this header. It defines names only; no code.
 */
#ifndef BBT_NATIVE_LMFILE_H
#define BBT_NATIVE_LMFILE_H

#include <bbtbench/model/lmfile.h>

#define nat_hparams bbt_lm_hparams
#define nat_family bbt_lm_family
#define NAT_BERT BBT_LM_BERT
#define NAT_GPT2 BBT_LM_GPT2
#define NAT_LLAMA BBT_LM_LLAMA
#define nat_vocab bbt_lm_vocab
#define nat_hparams_load bbt_lm_hparams_load
#define nat_tensor_find bbt_lm_tensor_find
#define nat_vocab_load bbt_lm_vocab_load
#define nat_vocab_release bbt_lm_vocab_release
#define nat_check_params bbt_lm_check_params
#define nat_check_batch bbt_lm_check_batch
#define nat_check_labels bbt_lm_check_labels
#define nat_model_info bbt_lm_model_info
#define nat_tok_encode bbt_tok_encode

#endif /* BBT_NATIVE_LMFILE_H */
