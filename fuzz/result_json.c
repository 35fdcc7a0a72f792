/*
 * result_json.c - fuzz target: result.json read back for `bbtbench table`
 * (src/experiments/resultset.c), then the table in every format (src/experiments/table.c). The
 * input is written as two runs' result.json so a cell has a mean, a
 * standard deviation and a Wilcoxon test to compute; a bad one is an error
 * or (inputs of even length) reported and left out, as `table --strict` and
 * `table` do.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "experiments/resultset.h"
#include "experiments/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const formats[] = { "md", "latex", "csv", "json" };
	const char *dir = fuzz_dir_reset();
	if (dir == NULL)
		return 0;
	char *first = fuzz_write_file("a/result.json", data, size);
	char *second = fuzz_write_file("b/result.json", data, size);
	char err[512];
	bbt_resultset_t *rs;
	if (first != NULL && second != NULL && bbt_resultset_load(dir, size % 2, &rs, err, sizeof err) == 0) {
		for (size_t i = 0; i < bbt_resultset_count(rs); i++) {
			bbt_resultset_value(rs, i, "lr");
			bbt_resultset_metric(rs, i, "test_acc");
		}
		FILE *f = fopen("/dev/null", "w");
		for (size_t i = 0; f != NULL && i < sizeof formats / sizeof formats[0]; i++) {
			struct bbt_table_params p = bbt_table_default_params();
			p.format = formats[i];
			p.cols = "dim";
			p.wilcoxon = 1;
			bbt_table_write(rs, &p, f, err, sizeof err);
		}
		if (f != NULL)
			fclose(f);
		if (bbt_resultset_combine_keys(rs, "optimizer,seed") == 0)
			bbt_resultset_value(rs, 0, "optimizer,seed");
		bbt_resultset_free(rs);
	}
	free(first);
	free(second);
	return 0;
}
