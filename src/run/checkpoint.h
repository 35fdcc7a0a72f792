/*
 * checkpoint.h - state.bin: a tuned run's whole state after its last
 * finished generation, from which `--resume` goes on bit for bit.
 *
 * The file is bbtbench/state.h's record format, like the optimizers' own
 * blobs, so one reader lists either:
 *
 *     "bbtbench-state" (b)   the file's kind        "format" (u)  its layout, 1
 *     "bbtbench" (b)         the version that wrote it
 *     "run_id" (b)           the run (its settings' hash included)
 *     "optimizer" (b), "optimizer_version" (b)
 *     ... the run's sections (run.c, loop.c: budget, selection, rng,
 *         dev history, one optimizer blob per optimizer) ...
 *     "checksum" (u)         FNV-1a 64 over the 8-byte words before this record
 *
 * A file that is not exactly this - another run's, another version's,
 * truncated, or with a byte changed - is refused with one line naming the
 * file and what differs. The file is written after each generation under
 * a temporary name and renamed (not fsync'ed: a killed process cannot
 * lose it, only a crash of the machine, and a half-written file is then
 * refused by its checksum), into a buffer that keeps its capacity, so a
 * checkpoint costs one write of the state's bytes.
 *
 *     struct bbt_checkpoint ck = { 0 };
 *     struct bbt_state_writer *w = bbt_checkpoint_begin(&ck, &id);
 *     bbt_state_put_u64(w, "budget", ...); ...
 *     bbt_checkpoint_commit(&ck, "results/x/run/state.bin", err, n);
 *     ...
 *     struct bbt_checkpoint_file f;
 *     bbt_checkpoint_open(&f, path, &id, err, n);    identity checked
 *     bbt_state_get_u64(&f.r, "budget", ...); ...
 *     bbt_checkpoint_close(&f, err, n);             all read, nothing left over
 *     bbt_checkpoint_release(&ck);
 */
#ifndef BBT_CHECKPOINT_H
#define BBT_CHECKPOINT_H

#include <stddef.h>
#include <bbtbench/state.h>

#define BBT_CHECKPOINT_NAME "state.bin"

/* What a state file must have been written by to be resumed here. */
struct bbt_checkpoint_id {
	const char *version;            /* bbtbench's */
	const char *run_id;
	const char *optimizer, *optimizer_version;
};

/* A checkpoint being written: the bytes so far. */
struct bbt_checkpoint {
	unsigned char *data;
	size_t len, cap;
	struct bbt_state_writer w;
};

/* A bbt_state_write_fn appending to ck (a scratch buffer for a blob that
 * goes into a checkpoint as one bytes field). */
int bbt_checkpoint_append(void *ck, const void *bytes, size_t len);

/* Start a checkpoint (the buffer emptied, its capacity kept) with the
 * identity; the caller adds its sections to the writer returned. */
struct bbt_state_writer *bbt_checkpoint_begin(struct bbt_checkpoint *ck,
                                              const struct bbt_checkpoint_id *id);
/* Append the checksum and write the file atomically. */
int bbt_checkpoint_commit(struct bbt_checkpoint *ck, const char *path, char *err,
                          size_t errlen);
void bbt_checkpoint_release(struct bbt_checkpoint *ck);

/* A state file read back, its reader past the identity. */
struct bbt_checkpoint_file {
	unsigned char *data;
	size_t len;
	char who[1100];                 /* "PATH", for messages */
	struct bbt_state_reader r;
};

/* Read path, check its checksum and identity. BBT_ENOTFOUND when there is
 * no such file; BBT_EFORMAT (one line naming the file and what differs)
 * when it is not this run's state. */
int bbt_checkpoint_open(struct bbt_checkpoint_file *f, const char *path,
                        const struct bbt_checkpoint_id *id, char *err, size_t errlen);
/* The reader's first error, or one when bytes are left over. */
int bbt_checkpoint_close(struct bbt_checkpoint_file *f);
void bbt_checkpoint_file_release(struct bbt_checkpoint_file *f);

#endif /* BBT_CHECKPOINT_H */
