/*
 * config_ini.c - fuzz target: a run's INI file (src/run/runconfig.c), read the
 * way `bbtbench run --config` reads it, then written back as config.ini.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "run/runconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct bbt_config cfg;
	if (fuzz_dir_reset() == NULL)
		return 0;
	char *path = fuzz_write_file("run.ini", data, size);
	if (path != NULL && bbt_config_init(&cfg) == 0) {
		if (bbt_config_load_ini(&cfg, path, err, sizeof err) == 0) {
			FILE *f = fopen("/dev/null", "w");
			if (f != NULL) {
				bbt_config_write_run_section(&cfg, f);
				fclose(f);
			}
			json_decref(bbt_config_to_json(&cfg));
		}
		bbt_config_release(&cfg);
	}
	free(path);
	return 0;
}
