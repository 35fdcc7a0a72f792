/*
 * record.h - what a run writes beside its numbers: config.ini (the
 * resolved settings, to re-run it), vocab.tsv (a discrete prompt's
 * candidates), and result.json's sections that describe the run (plugins,
 * model, task, data, projection, prompt, seeds, BLAS).
 */
#ifndef BBT_RECORD_H
#define BBT_RECORD_H

#include <stddef.h>
#include "run/plan.h"
#include "run/result_json.h"
#include "run/results.h"
#include "run/setup.h"

/* config.ini into the run's folder. */
int bbt_record_config(const struct bbt_plan *p, const struct bbt_setup *s, bbt_rundir_t *rd,
                      char *err, size_t errlen);
/* vocab.tsv: one line per candidate n-gram, so a prompt's indices in the
 * trace and result.json can be read back. */
int bbt_record_vocab(const struct bbt_setup *s, bbt_rundir_t *rd, char *err, size_t errlen);

/* result.json's descriptive sections (see result_json.h) but for the
 * calibration and the optimizer's state, which the caller adds.
 * best_dev_z: the tuned prompt (d values), or NULL for a baseline. */
void bbt_record_parts(const struct bbt_plan *p, const struct bbt_setup *s,
                      const double *best_dev_z, struct bbt_result_parts *parts);

#endif /* BBT_RECORD_H */
