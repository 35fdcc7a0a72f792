/*
 * t/tokenizer.c - libbbtmodel's tokenizers through the public API only
 * (<bbtbench/model/tokenizer.h>): WordPiece, byte-level BPE and
 * SentencePiece on tiny hand-made vocabularies, the special literals the
 * dispatcher keeps whole, and the count past a short buffer. The real
 * vocabularies are tested against Hugging Face in t/native and t/convert.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <bbtbench/model/tokenizer.h>

#include "tap.h"

/* Encode text; the ids as "a b c", or "error" */
static const char *enc(const struct bbt_tok *t, const char *text, size_t cap, size_t *n)
{
	static char buf[256];
	int32_t ids[16];
	char err[256];
	if (bbt_tok_encode(t, text, cap ? ids : NULL, cap, n, err, sizeof err) < 0) {
		diag("%s", err);
		return "error";
	}
	buf[0] = '\0';
	for (size_t i = 0; i < *n && i < cap; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof buf - l, "%s%d", i ? " " : "", (int)ids[i]);
	}
	return buf;
}

static void wordpiece(void)
{
	static const char *const tokens[] = {
		"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "it", "was", "great", "##ly", ".",
		"un", "##believ", "##able", "cafe",
	};
	struct bbt_tok t;
	char err[256];
	size_t n;
	is_int(bbt_tok_init(&t, BBT_TOK_WORDPIECE, tokens, sizeof tokens / sizeof *tokens, err,
	                    sizeof err), 0, "wordpiece: init");
	t.unk_id = 1;
	t.special[0] = 4;
	t.special[1] = 1;
	t.n_special = 2;
	is_int(bbt_tok_find(&t, "##ly", 4), 8, "find: an exact token");
	is_int(bbt_tok_find(&t, "##l", 3), -1, "find: a prefix is not a token");
	is_string(enc(&t, "It was [MASK] .", 16, &n), "5 6 4 9", "wordpiece: lowercased, [MASK] whole");
	is_string(enc(&t, "Greatly unbelievable", 16, &n), "7 8 10 11 12",
	          "wordpiece: longest match first, ## continuations");
	is_string(enc(&t, "Caf\xc3\xa9", 16, &n), "13", "wordpiece: accents stripped");
	is_string(enc(&t, "xyz", 16, &n), "1", "wordpiece: an uncovered word is [UNK]");
	is_string(enc(&t, "it was great .", 2, &n), "5 6", "a short buffer gets what fits");
	is_int((long long)n, 4, "... and the full count");
	bbt_tok_release(&t);
	bbt_tok_release(&t);
	ok(1, "release twice is safe");
}

static void bpe(void)
{
	static const char *const tokens[] = {
		"h", "e", "l", "o", "he", "ll", "hell", "hello", "<mask>", "\xc4\xa0", "\xc4\xa0hello",
	};
	static const char *const merges[] = { "h e", "l l", "he ll", "hell o", "\xc4\xa0 hello" };
	struct bbt_tok t;
	char err[256];
	size_t n;
	is_int(bbt_tok_init(&t, BBT_TOK_BPE, tokens, sizeof tokens / sizeof *tokens, err, sizeof err),
	       0, "bpe: init");
	is_int(bbt_tok_init_merges(&t, merges, sizeof merges / sizeof *merges, err, sizeof err), 0,
	       "bpe: merges");
	t.lower = 0;
	t.strip_accents = 0;
	t.special[0] = 8;
	t.n_special = 1;
	t.lstrip_id = 8;
	is_string(enc(&t, "hello hello", 16, &n), "7 10", "bpe: merges by rank, the space as \xc4\xa0");
	is_string(enc(&t, "hel", 16, &n), "4 2", "bpe: stops where no merge applies");
	is_string(enc(&t, "hello <mask>", 16, &n), "7 8", "bpe: <mask> takes the spaces before it");
	bbt_tok_release(&t);
}

static void spm(void)
{
	static const char *const tokens[] = {
		"<unk>", "\xe2\x96\x81", "\xe2\x96\x81" "a", "b", "\xe2\x96\x81" "ab", "<0x63>",
	};
	size_t nt = sizeof tokens / sizeof *tokens;
	struct bbt_tok t;
	char err[256];
	size_t n;
	is_int(bbt_tok_init(&t, BBT_TOK_SPM, tokens, nt, err, sizeof err), 0, "spm: init");
	float *scores = calloc(nt, sizeof *scores);
	if (scores == NULL)
		return;
	scores[2] = -1;
	scores[4] = -2;
	bbt_tok_init_spm(&t, scores);   /* owned by t from here */
	t.lower = 0;
	t.strip_accents = 0;
	t.unk_id = 0;
	is_int(t.byte_id[0x63], 5, "spm: byte tokens found");
	is_string(enc(&t, "ab", 16, &n), "4", "spm: space prefix, pairs merged while a token");
	is_string(enc(&t, "c", 16, &n), "1 5", "spm: an unknown piece falls back to its bytes");
	bbt_tok_release(&t);
}

int main(void)
{
	plan(19);
	wordpiece();
	bpe();
	spm();
	return done_testing();
}
