/*
 * t/tiny_gguf.c - write t/tinymodel's tiny random BERT (f32, fixed seed) as
 * GGUF, so that a shell test can run the native backend on a model the
 * project's own code wrote: `t/tiny_gguf FILE`. Not a test itself; t/pinned.sh
 * calls it.
 */
#include "config.h"

#include <stdio.h>

#include "tinymodel.h"
#include "core/util.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "Usage: %s FILE\n", argv[0]);
		return 2;
	}
	struct tiny t;
	tiny_init(&t);
	struct damage intact = { 0 };
	int rc = tiny_write(&t, argv[1], &intact);
	tiny_free(&t);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", argv[0], argv[1], bbt_status_str(rc));
		return 1;
	}
	return 0;
}
