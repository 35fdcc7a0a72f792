/*
 * checkpoint.c - state.bin, written and read back (checkpoint.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "run/checkpoint.h"

#define KIND "bbtbench-state"
#define FORMAT 1
/* The checksum record: name length, "checksum", type, count, one value. */
#define CHECKSUM_BYTES (1 + 8 + 1 + 8 + 8)

/* FNV-1a 64 taken over 8-byte little-endian words (the last one padded
 * with zeros) rather than bytes: eight times fewer multiplications, so a
 * 5 MB state is checked in about a millisecond, and any changed byte
 * still changes the sum. */
static uint64_t checksum(const unsigned char *p, size_t len)
{
	uint64_t h = BBT_HASH64_INIT;
	size_t i = 0;
	for (; i + 8 <= len; i += 8)
		h = (h ^ bbt_state_rd64(p + i)) * 0x100000001b3ULL;
	if (i < len) {
		unsigned char last[8] = { 0 };
		memcpy(last, p + i, len - i);
		h = (h ^ bbt_state_rd64(last)) * 0x100000001b3ULL;
	}
	return h;
}

int bbt_checkpoint_append(void *ctx, const void *bytes, size_t len)
{
	struct bbt_checkpoint *ck = ctx;
	if (len > ck->cap - ck->len) {
		size_t cap = ck->cap ? ck->cap : 4096;
		while (cap - ck->len < len) {
			if (cap > SIZE_MAX / 2)
				return BBT_ENOMEM;
			cap *= 2;
		}
		unsigned char *d = realloc(ck->data, cap);
		if (d == NULL)
			return BBT_ENOMEM;
		ck->data = d;
		ck->cap = cap;
	}
	memcpy(ck->data + ck->len, bytes, len);
	ck->len += len;
	return BBT_OK;
}

static void put_text(struct bbt_state_writer *w, const char *name, const char *text)
{
	bbt_state_put_bytes(w, name, text, strlen(text));
}

struct bbt_state_writer *bbt_checkpoint_begin(struct bbt_checkpoint *ck,
                                              const struct bbt_checkpoint_id *id)
{
	ck->len = 0;
	ck->w = bbt_state_writer(bbt_checkpoint_append, ck);
	uint64_t format = FORMAT;
	put_text(&ck->w, "bbtbench-state", KIND);
	bbt_state_put_u64(&ck->w, "format", &format, 1);
	put_text(&ck->w, "bbtbench", id->version);
	put_text(&ck->w, "run_id", id->run_id);
	put_text(&ck->w, "optimizer", id->optimizer);
	put_text(&ck->w, "optimizer_version", id->optimizer_version);
	return &ck->w;
}

/* Write without fsync: see checkpoint.h. */
int bbt_checkpoint_commit(struct bbt_checkpoint *ck, const char *path, char *err,
                          size_t errlen)
{
	uint64_t sum = checksum(ck->data, ck->len);
	bbt_state_put_u64(&ck->w, "checksum", &sum, 1);
	int rc = bbt_state_end(&ck->w, path, err, errlen);
	return rc < 0 ? rc : bbt_file_write_atomic_nosync(path, ck->data, ck->len, err, errlen);
}

void bbt_checkpoint_release(struct bbt_checkpoint *ck)
{
	free(ck->data);
	*ck = (struct bbt_checkpoint){ 0 };
}

/* The whole file; BBT_ENOTFOUND when there is none (a run that has not
 * written one yet), which bbt_file_read reports as any other failure. */
static int read_whole(struct bbt_checkpoint_file *f, const char *path, char *err,
                      size_t errlen)
{
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return bbt_error(err, errlen, BBT_ENOTFOUND, "%s: %s", path, strerror(ENOENT));
	char *data;
	int rc = bbt_file_read(path, &data, &f->len, err, errlen);
	f->data = (unsigned char *)data;
	return rc;
}

/* One identity field: the file's must be this run's. */
static int same(struct bbt_checkpoint_file *f, const char *name, const char *what,
                const char *want, char *err, size_t errlen)
{
	const void *have;
	size_t n;
	if (bbt_state_get_bytes(&f->r, name, &have, &n) < 0)
		return f->r.rc;
	if (n != strlen(want) || memcmp(have, want, n) != 0)
		return f->r.rc = bbt_error(err, errlen, BBT_EFORMAT,
		                           "%s: the state of %s %.*s, not this run's %s", f->who, what,
		                           (int)(n > 200 ? 200 : n), (const char *)have, want);
	return BBT_OK;
}

int bbt_checkpoint_open(struct bbt_checkpoint_file *f, const char *path,
                        const struct bbt_checkpoint_id *id, char *err, size_t errlen)
{
	*f = (struct bbt_checkpoint_file){ 0 };
	snprintf(f->who, sizeof f->who, "%s", path);
	int rc = read_whole(f, path, err, errlen);
	if (rc < 0)
		return rc;
	/* The checksum first: the rest is then what was written. */
	static const unsigned char head[] = { 8, 'c', 'h', 'e', 'c', 'k', 's', 'u', 'm', 'u',
		                              1, 0, 0, 0, 0, 0, 0, 0 };
	size_t body = f->len - (f->len < CHECKSUM_BYTES ? f->len : CHECKSUM_BYTES);
	if (f->len < CHECKSUM_BYTES || memcmp(f->data + body, head, sizeof head) != 0)
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: truncated or not a bbtbench state file (%zu bytes, no checksum "
		                 "at its end)", path, f->len);
	if (bbt_state_rd64(f->data + body + sizeof head) != checksum(f->data, body))
		return bbt_error(err, errlen, BBT_EFORMAT,
		                 "%s: checksum mismatch: the file was changed or damaged", path);
	f->r = bbt_state_reader(f->data, body, f->who, err, errlen);
	const void *kind;
	size_t n;
	uint64_t format = 0;
	if (bbt_state_get_bytes(&f->r, "bbtbench-state", &kind, &n) < 0 ||
	    bbt_state_get_u64(&f->r, "format", &format, 1) < 0)
		return f->r.rc;
	if (format != FORMAT)
		return f->r.rc = bbt_error(err, errlen, BBT_EFORMAT,
		                           "%s: state file layout %llu, this bbtbench reads %d", path,
		                           (unsigned long long)format, FORMAT);
	if (same(f, "bbtbench", "bbtbench", id->version, err, errlen) < 0 ||
	    same(f, "run_id", "run", id->run_id, err, errlen) < 0 ||
	    same(f, "optimizer", "optimizer", id->optimizer, err, errlen) < 0 ||
	    same(f, "optimizer_version", "optimizer version", id->optimizer_version, err,
	         errlen) < 0)
		return f->r.rc;
	return BBT_OK;
}

int bbt_checkpoint_close(struct bbt_checkpoint_file *f)
{
	return bbt_state_done(&f->r);
}

void bbt_checkpoint_file_release(struct bbt_checkpoint_file *f)
{
	free(f->data);
	f->data = NULL;
}
