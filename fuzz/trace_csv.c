/*
 * trace_csv.c - fuzz target: a run's trace.csv read for `bbtbench plot`
 * (src/experiments/plot.c) beside a fixed finished result.json, for one of its curves
 * (by the input's length: each figure costs a fork). gnuplot is not run
 * (BBTBENCH_GNUPLOT names no program): the .dat file the figure would be
 * drawn from is written all the same.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "experiments/plot.h"
#include "experiments/resultset.h"
#include "core/util.h"

static const char result_json[] =
	"{\"status\": \"finished\", \"run_id\": \"r\",\n"
	" \"settings\": {\"optimizer\": \"zo-sgd\", \"dim\": 10, \"seed\": 1},\n"
	" \"metrics\": {\"train_loss\": 0.5, \"dev_metric\": 0.7, \"test_acc\": 0.7},\n"
	" \"api_calls\": 40}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const curves[] = { "train_loss", "dev_metric", "grad_cos",
	                                      "grad_norm_ratio" };
	const char *dir = fuzz_dir_reset();
	if (dir == NULL)
		return 0;
	setenv("BBTBENCH_GNUPLOT", "/nonexistent/gnuplot", 1);
	char *result = fuzz_write_file("runs/r/result.json", result_json, strlen(result_json));
	char *trace = fuzz_write_file("runs/r/trace.csv", data, size);
	char *runs = bbt_path_join(dir, "runs");
	char *out = bbt_path_join(dir, "plots");
	char err[512];
	bbt_resultset_t *rs;
	if (result != NULL && trace != NULL && runs != NULL && out != NULL) {
		if (bbt_resultset_load(runs, 1, &rs, err, sizeof err) == 0) {
			struct bbt_plot_params p = bbt_plot_default_params();
			char *written[4];
			size_t n_written = 0;
			p.out_dir = out;
			p.y = curves[size % (sizeof curves / sizeof curves[0])];
			bbt_plot_draw(rs, &p, written, 4, &n_written, err, sizeof err);
			for (size_t k = 0; k < n_written; k++)
				free(written[k]);
			bbt_resultset_free(rs);
		}
	}
	free(out);
	free(runs);
	free(trace);
	free(result);
	return 0;
}
