/*
 * lexicon.h - the built-in word list of the synthetic backend.
 *
 * A few hundred common English words and punctuation marks, lowercase, each
 * with a sentiment polarity: +1 (positive), -1 (negative) or 0 (neutral).
 * The synthetic model gives polarity words a sentiment feature and a label
 * bias of that sign; everything else is neutral noise. Token ids follow the
 * order of this table (after the five special tokens), so appending words
 * changes no existing id, while inserting or reordering does: the "pretrained
 * model" of a given weights_seed is defined by this order.
 */
#ifndef BBT_SYNTHETIC_LEXICON_H
#define BBT_SYNTHETIC_LEXICON_H

#include <stddef.h>

struct lexicon_entry {
	const char *word; /* lowercase ASCII; one punctuation character or one word */
	int polarity;     /* +1, -1 or 0 */
};

/* The table and its length; words are unique. */
extern const struct lexicon_entry synthetic_lexicon[];
extern const size_t synthetic_lexicon_size;

#endif /* BBT_SYNTHETIC_LEXICON_H */
