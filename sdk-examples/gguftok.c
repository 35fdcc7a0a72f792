/*
 * gguftok.c - a program built outside the bbtbench tree on libbbtmodel
 * alone (pkg-config bbtmodel): it writes a GGUF file holding a small
 * WordPiece vocabulary, or opens a GGUF file and tokenizes a sentence with
 * the tokenizer the file names, as a backend does before scoring.
 *
 *     cc $(pkg-config --cflags bbtmodel) -o gguftok gguftok.c $(pkg-config --libs bbtmodel)
 *     ./gguftok --write vocab.gguf
 *     ./gguftok vocab.gguf "An unbelievable movie: [MASK]!"
 *     5 an
 *     6 un
 *     ...
 *
 * Only the tokenizer keys of a GGUF model file are read
 * (tokenizer.ggml.model, .tokens, .merges, .scores, .unknown_token_id and
 * .mask_token_id), so the file need not hold a model; for a whole model
 * file, bbt_lm_hparams_load() and bbt_lm_vocab_load() of
 * <bbtbench/model/lmfile.h> read the same and more. Exit status: 0, 1 on
 * an error (one line on stderr), 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/model/gguf.h>
#include <bbtbench/model/tokenizer.h>

/* A BERT-style vocabulary, in id order. */
static const char *const vocab[] = {
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
	"an", "un", "##believ", "##able", "movie", "great", "terrible", ":", "!",
};
enum { UNK_ID = 1, MASK_ID = 4 };

static int write_vocab(const char *path, char *err, size_t errlen)
{
	bbt_gguf_writer_t *w = bbt_gguf_writer_alloc();
	if (w == NULL)
		return bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
	bbt_gguf_writer_set_str(w, "general.architecture", "bert");
	bbt_gguf_writer_set_str(w, "tokenizer.ggml.model", "bert");
	bbt_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", vocab, sizeof vocab / sizeof *vocab);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", UNK_ID);
	bbt_gguf_writer_set_u32(w, "tokenizer.ggml.mask_token_id", MASK_ID);
	int rc = bbt_gguf_writer_write(w, path, err, errlen);
	bbt_gguf_writer_free(w);
	return rc;
}

/* Print text's tokens, one "id text" line each. */
static int tokenize(const char *path, const char *text, char *err, size_t errlen)
{
	bbt_gguf_t *g = NULL;
	struct bbt_tok tok = { 0 };
	const char *model, *const *tokens;
	size_t n_tokens, n = 0;
	int32_t *ids = NULL;
	uint32_t unk, mask;
	int rc = bbt_gguf_open(path, &g, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = bbt_gguf_get_str(g, "tokenizer.ggml.model", &model, err, errlen)) < 0 ||
	    (rc = bbt_gguf_get_arr_str(g, "tokenizer.ggml.tokens", &tokens, &n_tokens, err,
	                               errlen)) < 0 ||
	    (rc = bbt_gguf_get_u32(g, "tokenizer.ggml.unknown_token_id", &unk, err, errlen)) < 0)
		goto out;
	if (strcmp(model, "bert") != 0) {
		/* gpt2 (merges) and llama (scores) work the same way: see
		 * bbt_tok_init_merges() and bbt_tok_init_spm(). */
		rc = bbt_error(err, errlen, BBT_ENOTSUP, "%s: tokenizer \"%s\": only bert here",
		               path, model);
		goto out;
	}
	if ((rc = bbt_tok_init(&tok, BBT_TOK_WORDPIECE, tokens, n_tokens, err, errlen)) < 0)
		goto out;
	tok.unk_id = (int32_t)unk;
	if (bbt_gguf_get_u32(g, "tokenizer.ggml.mask_token_id", &mask, NULL, 0) == BBT_OK)
		tok.special[tok.n_special++] = (int32_t)mask;
	/* once to count, once to fill */
	if ((rc = bbt_tok_encode(&tok, text, NULL, 0, &n, err, errlen)) < 0)
		goto out;
	if ((ids = malloc((n + 1) * sizeof *ids)) == NULL) {
		rc = bbt_error(err, errlen, BBT_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = bbt_tok_encode(&tok, text, ids, n, &n, err, errlen)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		printf("%d %s\n", (int)ids[i], tokens[ids[i]]);
out:
	free(ids);
	bbt_tok_release(&tok);
	bbt_gguf_free(g);
	return rc;
}

int main(int argc, char **argv)
{
	char err[BBT_ERRLEN];
	int rc;
	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		rc = write_vocab(argv[2], err, sizeof err);
	else if (argc == 3)
		rc = tokenize(argv[1], argv[2], err, sizeof err);
	else {
		fprintf(stderr, "usage: gguftok --write FILE.gguf | gguftok FILE.gguf TEXT\n");
		return 2;
	}
	if (rc < 0) {
		fprintf(stderr, "gguftok: %s\n", err);
		return 1;
	}
	return 0;
}
