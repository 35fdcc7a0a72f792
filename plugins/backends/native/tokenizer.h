/*
 * tokenizer.h - the native backend's tokenizers, over a GGUF vocabulary.
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
#ifndef BBT_NATIVE_TOKENIZER_H
#define BBT_NATIVE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

enum nat_tok_kind { NAT_TOK_WORDPIECE = 1, NAT_TOK_BPE = 2, NAT_TOK_SPM = 3 };

struct nat_tok {
	enum nat_tok_kind kind;
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

/* Build the lookup table. 0, or BBT_ENOMEM / BBT_EFORMAT (duplicate token). */
int nat_tok_init(struct nat_tok *t, enum nat_tok_kind kind, const char *const *tokens, size_t n,
                 char *err, size_t errlen);
/* BPE: index the merges (rank = position). */
int nat_tok_init_merges(struct nat_tok *t, const char *const *merges, size_t n, char *err,
                        size_t errlen);
/* SPM: take the scores (malloc'ed, n entries; owned from now on) and find
 * the byte tokens. */
void nat_tok_init_spm(struct nat_tok *t, float *scores);
/* Release the table; the struct may be re-initialised. NULL-safe. */
void nat_tok_release(struct nat_tok *t);
/* Id of the exact token text s[0..len), or -1. */
int32_t nat_tok_find(const struct nat_tok *t, const char *s, size_t len);
/* Tokenize text without special tokens added: at most cap ids into ids,
 * the full count in *n. */
int nat_tok_encode(const struct nat_tok *t, const char *text, int32_t *ids, size_t cap, size_t *n,
                   char *err, size_t errlen);

/* The BPE encoder of one segment without special literals (bpe.c). */
int nat_bpe_segment(const struct nat_tok *t, const char *text, size_t len, int32_t *ids,
                    size_t cap, size_t *n, char *err, size_t errlen);

/* The SPM encoder of one segment without special literals (spm.c). */
int nat_spm_segment(const struct nat_tok *t, const char *text, size_t len, int32_t *ids,
                    size_t cap, size_t *n, char *err, size_t errlen);

#endif /* BBT_NATIVE_TOKENIZER_H */
