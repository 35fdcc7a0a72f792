/*
 * fuzz.h - what the fuzz targets share.
 *
 * Each fuzz/NAME.c feeds one parser of files that others hand us (GGUF, a
 * Hugging Face folder, task YAML, run and grid INI, the data readers,
 * result.json, trace.csv) through libFuzzer's entry point:
 *
 *     int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
 *     {
 *         char *path = fuzz_write_file("task.yaml", data, size);
 *         ... parse path, free what the parser returned ...
 *         free(path);
 *         return 0;
 *     }
 *
 * Configured with --enable-fuzzing the target is a libFuzzer program
 * (`make fuzz`); otherwise fuzz/replay.c gives it a main() that feeds it
 * every file of fuzz/corpus/NAME/, a TAP test of `make check`.
 *
 * A target ignores what the parser answers: an error message is the right
 * answer to a bad file. What fails is a crash, a sanitizer report, a leak
 * or a hang. Parsers that open a path get the input through files in one
 * private temporary folder, emptied before each input and removed at exit.
 */
#ifndef BBT_FUZZ_H
#define BBT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The process's temporary folder (made on first use, removed at exit),
 * emptied: no file of an earlier input is left in it. NULL when it cannot
 * be made. */
const char *fuzz_dir_reset(void);

/* Write data to the file `name` (may hold '/': the folders are made) under
 * the temporary folder; its path (malloc'ed), or NULL on failure. */
char *fuzz_write_file(const char *name, const void *data, size_t size);

#endif /* BBT_FUZZ_H */
