/*
 * cmd_convert.c - `bbtbench convert DIR -o FILE.gguf`: a Hugging Face
 * model folder into one GGUF file (model/hf_convert.c does the work).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "model/hf_convert.h"

static void convert_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench convert DIR -o FILE.gguf [--dtype f32|f16|q8_0|q4_0]\n"
	        "Convert a Hugging Face masked-LM folder (BERT or RoBERTa: config.json,\n"
	        "model.safetensors, vocab.txt or vocab.json + merges.txt, tokenizer_config.json,\n"
	        "special_tokens_map.json) into one GGUF file, MLM head included.\n\n"
	        "  -o, --output FILE   the GGUF file to write (required)\n"
	        "      --dtype TYPE    f32 (default), f16, q8_0 or q4_0 for the weight\n"
	        "                      matrices (q8_0/q4_0: ggml's quantized blocks of 32, which\n"
	        "                      the ggml backend runs; matrices whose rows are not whole\n"
	        "                      blocks are f16); vectors (biases, LayerNorm) stay f32\n"
	        "  -q, --quiet         no progress lines\n"
	        "  -h, --help          this help\n");
}

int bbt_cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "dtype", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bbt_convert_params p = bbt_convert_default_params();
	const char *out = NULL;
	int quiet = 0, opt;
	p.log = stderr;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'd':
			if (strcmp(optarg, "f32") == 0)
				p.dtype = BBT_GGML_F32;
			else if (strcmp(optarg, "f16") == 0)
				p.dtype = BBT_GGML_F16;
			else if (strcmp(optarg, "q8_0") == 0)
				p.dtype = BBT_GGML_Q8_0;
			else if (strcmp(optarg, "q4_0") == 0)
				p.dtype = BBT_GGML_Q4_0;
			else {
				bbt_log(BBT_LOG_ERROR, NULL,
				        "convert: --dtype must be f32, f16, q8_0 or q4_0, not '%s'", optarg);
				return BBT_EXIT_USAGE;
			}
			break;
		case 'q': quiet = 1; break;
		case 'h': convert_usage(stdout); return BBT_EXIT_OK;
		default: convert_usage(stderr); return BBT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || out == NULL) {
		convert_usage(stderr);
		return BBT_EXIT_USAGE;
	}
	if (quiet)
		p.log = NULL;
	char err[BBT_ERRLEN];
	int rc = bbt_convert_hf(argv[optind], out, &p, err, sizeof err);
	if (rc < 0)   /* a malformed model folder is bad input (2), an unreadable one a failure (1) */
		bbt_log(BBT_LOG_ERROR, NULL, "convert: %s", err);
	return bbt_exit_code(rc);
}
