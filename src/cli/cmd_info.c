/*
 * cmd_info.c - `bbtbench info FILE.gguf`: a GGUF file's architecture,
 * tokenizer, metadata and tensors.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "core/log.h"
#include "core/util.h"
#include "model/hf_convert.h"

static void info_usage(FILE *f)
{
	fprintf(f,
	        "Usage: bbtbench info FILE.gguf\n"
	        "Print a GGUF file's architecture, sizes, tokenizer, metadata and tensor list.\n\n"
	        "  -h, --help   this help\n");
}

int bbt_cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			info_usage(stdout);
			return BBT_EXIT_OK;
		}
		info_usage(stderr);
		return BBT_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		info_usage(stderr);
		return BBT_EXIT_USAGE;
	}
	char err[BBT_ERRLEN];
	int rc = bbt_gguf_describe(argv[optind], stdout, err, sizeof err);
	if (rc < 0) {
		bbt_log(BBT_LOG_ERROR, NULL, "info: %s", err);
		return BBT_EXIT_FAILED;
	}
	return BBT_EXIT_OK;
}
