/*
 * hf_convert.c - fuzz target: `bbtbench convert` on a Hugging Face model
 * folder (src/model/hf_convert.c): config.json, model.safetensors and the
 * tokenizer files.
 *
 * The input is the folder as `head -c -0 FILES...` prints it: each file
 * after a line "==> NAME <==", NAME one of the files convert reads:
 *
 *     ==> config.json <==
 *     {"model_type": "bert", "vocab_size": 12, ...}
 *     ==> vocab.txt <==
 *     [PAD]
 *     ...
 */
#define _GNU_SOURCE /* memmem */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "model/hf_convert.h"
#include "fuzz.h"
#include "core/util.h"

static const char *const folder_files[] = {
	"config.json", "model.safetensors", "vocab.txt", "vocab.json", "merges.txt",
	"tokenizer_config.json", "special_tokens_map.json",
};

static const char header_start[] = "==> ", header_end[] = " <==\n";

/* The file name of a header line [line, line + len), or NULL. */
static const char *folder_file(const uint8_t *line, size_t len)
{
	size_t start = strlen(header_start), end = strlen(header_end);
	if (len <= start + end || memcmp(line, header_start, start) != 0 ||
	    memcmp(line + len - end, header_end, end) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof folder_files / sizeof folder_files[0]; i++)
		if (strlen(folder_files[i]) == len - start - end &&
		    memcmp(folder_files[i], line + start, len - start - end) == 0)
			return folder_files[i];
	return NULL;
}

/* Write the file whose header line starts at p (`left` bytes from there
 * on); returns where the next header starts, or NULL at the end. */
static const uint8_t *write_part(const uint8_t *p, size_t left)
{
	const uint8_t *end = p + left;
	const uint8_t *nl = memchr(p, '\n', left);
	if (nl == NULL)
		return NULL;
	const uint8_t *body = nl + 1;
	const uint8_t *next = memmem(body, (size_t)(end - body), "\n==> ", 5);
	const uint8_t *body_end = next ? next + 1 : end;
	const char *name = folder_file(p, (size_t)(body - p));
	if (name != NULL)
		free(fuzz_write_file(name, body, (size_t)(body_end - body)));
	return next ? body_end : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_dir_reset();
	if (dir == NULL)
		return 0;
	for (const uint8_t *p = data; p != NULL && p < data + size;)
		p = write_part(p, (size_t)(data + size - p));
	char *out = bbt_path_join(dir, "out.gguf");
	char err[512];
	struct bbt_convert_params params = bbt_convert_default_params();
	if (out != NULL)
		bbt_convert_hf(dir, out, &params, err, sizeof err);
	free(out);
	return 0;
}
