/*
 * grid_ini.c - fuzz target: a grid file (src/experiments/grid.c): its [grid] section,
 * excludes and fixed sections, and the settings of its first combinations.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "experiments/grid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	bbt_grid_t *g;
	if (fuzz_dir_reset() == NULL)
		return 0;
	char *path = fuzz_write_file("grid.ini", data, size);
	if (path != NULL && bbt_grid_load(path, &g, err, sizeof err) == 0) {
		bbt_grid_experiment(g);
		size_t n = bbt_grid_count(g);
		for (size_t i = 0; i < n && i < 4; i++) {
			struct bbt_config cfg;
			for (size_t k = 0; k < bbt_grid_key_count(g); k++)
				bbt_grid_value(g, i, k);
			bbt_grid_config(g, i, &cfg, err, sizeof err);
			bbt_config_release(&cfg);
		}
		bbt_grid_free(g);
	}
	free(path);
	return 0;
}
