/*
 * bbtbench/model/tokenizer.h - the tokenizers of libbbtmodel, over a GGUF
 * vocabulary: text to token ids exactly as the model's own tokenizer does.
 *
 *     struct bbt_tok t;
 *     bbt_tok_init(&t, BBT_TOK_WORDPIECE, tokens, n_tokens, err, sizeof err);
 *     t.unk_id = bbt_tok_find(&t, "[UNK]", 5);
 *     size_t n;
 *     bbt_tok_encode(&t, "It was [MASK] .", ids, cap, &n, err, sizeof err);
 *     bbt_tok_release(&t);
 *
 * Usually bbt_lm_vocab_load() (<bbtbench/model/lmfile.h>) builds it from a
 * model file, special tokens and all.
 *
 * Ownership: the token (and merge) strings stay owned by the caller (the
 * GGUF file) and must outlive the struct; the lookup tables and the SPM
 * scores are the struct's, freed by bbt_tok_release(). Errors: 0 or a
 * negative BBT_E* code with one line in err. Thread-safety: after the init
 * calls the struct is only read, so any number of threads may encode with
 * one tokenizer at once; init and release need the caller's exclusion.
 *
 * WordPiece (tokenizer.ggml.model "bert") does what Hugging Face's
 * BertTokenizer does: special-token literals ("[MASK]" ...) are kept whole;
 * the rest goes through the BasicTokenizer (drop U+0000, U+FFFD and
 * category C* characters, whitespace to spaces, spaces around CJK
 * ideographs, NFC, split on whitespace; per word lowercase, NFD and drop
 * Mn marks, split off punctuation: ASCII 33-47, 58-64, 91-96, 123-126 or
 * category P*), then greedy longest-match-first WordPiece with "##"
 * continuations; a word of more than 100 characters or one the pieces
 * cannot cover is [UNK]. Unicode data come from utf8proc.
 *
 * Byte-level BPE (tokenizer.ggml.model "gpt2": GPT-2, RoBERTa) does what
 * GPT-2's encoder does: split with GPT-2's pattern ('s 't 're 've 'm 'll 'd,
 * ` ?letters`, ` ?digits`, ` ?other`, whitespace runs that leave one space
 * for the next word), map every byte to its printable stand-in (bytes_to_
 * unicode), then apply the merges in rank order (lowest first) and look the
 * pieces up. Special-token literals are kept whole; `<mask>` takes the
 * spaces before it, as RoBERTa's lstrip mask token does.
 *
 * SentencePiece BPE (tokenizer.ggml.model "llama") does what llama.cpp's
 * SPM tokenizer does: spaces become U+2581, a text that does not start with
 * a space gets one in front (add_space_prefix; the host's template pieces
 * carry their own leading spaces), then adjacent pieces are merged while
 * their concatenation is a token, highest score first (leftmost on ties);
 * a piece outside the vocabulary falls back to its bytes' <0xXX> tokens.
 */
#ifndef BBTBENCH_MODEL_TOKENIZER_H
#define BBTBENCH_MODEL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <bbtbench/status.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bbt_tok_kind { BBT_TOK_WORDPIECE = 1, BBT_TOK_BPE = 2, BBT_TOK_SPM = 3 };

/* A caller reads tokens and n (id -> text), and sets the fields from
 * lower to lstrip_id after bbt_tok_init() (lmfile does, from the file);
 * the rest belongs to the library. */
struct bbt_tok {
	enum bbt_tok_kind kind;
	const char *const *tokens;  /* id -> text; owned by the GGUF file */
	size_t n;
	uint32_t *slots;            /* open addressing: id + 1, 0 = empty */
	size_t mask;
	int lower, strip_accents;
	int32_t unk_id;
	int32_t special[8];         /* ids kept whole when written literally */
	size_t n_special;
	int32_t lstrip_id;          /* special that swallows the spaces before it, or -1 */
	const char *const *merges;  /* BPE: "left right", by rank; owned by the GGUF */
	size_t n_merges;
	uint32_t *mslots;           /* open addressing over merges: rank + 1 */
	size_t mmask;
	float *scores;              /* SPM: token scores (owned) */
	int32_t byte_id[256];       /* SPM: <0xXX> tokens, -1 if absent */
	int add_space_prefix;       /* SPM */
};

/* Build the lookup table over tokens[0..n) (kept by reference). lower and
 * strip_accents start at 1, unk_id and lstrip_id at -1, no specials.
 * 0, or BBT_ENOMEM; on failure bbt_tok_release() is still safe. A
 * duplicate token text keeps its last id, as Hugging Face does. */
int bbt_tok_init(struct bbt_tok *t, enum bbt_tok_kind kind, const char *const *tokens, size_t n,
                 char *err, size_t errlen);
/* BPE: index the merges "left right" (rank = position; kept by
 * reference; a repeated merge keeps its first rank). 0 or BBT_ENOMEM. */
int bbt_tok_init_merges(struct bbt_tok *t, const char *const *merges, size_t n, char *err,
                        size_t errlen);
/* SPM: take the scores (malloc'ed, n entries; owned from now on) and find
 * the byte tokens. */
void bbt_tok_init_spm(struct bbt_tok *t, float *scores);
/* Release the table; the struct may be re-initialised. NULL-safe. */
void bbt_tok_release(struct bbt_tok *t);
/* Id of the exact token text s[0..len), or -1. */
int32_t bbt_tok_find(const struct bbt_tok *t, const char *s, size_t len);
/* Tokenize the NUL-terminated text, adding no special tokens (a special
 * literal written in the text stays one token): at most cap ids into ids
 * (NULL when cap is 0), the full count in *n, so that a caller can size a
 * second call. 0, or BBT_ENOMEM. */
int bbt_tok_encode(const struct bbt_tok *t, const char *text, int32_t *ids, size_t cap, size_t *n,
                   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_MODEL_TOKENIZER_H */
