/*
 * replay.c - main() for a fuzz target built without libFuzzer: every file
 * of fuzz/corpus/FUZZ_NAME/ (seeds, and any input that once crashed, kept
 * as a regression test) goes to LLVMFuzzerTestOneInput once, in name order,
 * one TAP line each. Under `make check-sanitize` this replays the corpus
 * with the sanitizers on.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "../t/tap.h"
#include "fuzz.h"
#include "core/util.h"

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(void)
{
	const char *dir = FUZZ_CORPUS_DIR "/" FUZZ_NAME;
	struct dirent **names;
	int n = scandir(dir, &names, visible, alphasort);
	if (n <= 0)
		skip_all("no seed files in %s", dir);
	plan(n);
	for (int i = 0; i < n; i++) {
		char err[512];
		char *path = bbt_path_join(dir, names[i]->d_name), *text = NULL;
		size_t len = 0;
		if (path == NULL || bbt_file_read(path, &text, &len, err, sizeof err) < 0) {
			ok(0, "%s: %s", names[i]->d_name, path ? err : "out of memory");
		} else {
			/* exactly the file's bytes, as libFuzzer hands them, so
			 * AddressSanitizer sees a read past the end */
			uint8_t *input = malloc(len > 0 ? len : 1);
			if (input != NULL) {
				memcpy(input, text, len);
				LLVMFuzzerTestOneInput(input, len);
			}
			ok(input != NULL, "%s (%zu bytes)", names[i]->d_name, len);
			free(input);
		}
		free(text);
		free(path);
		free(names[i]);
	}
	free(names);
	return done_testing();
}
