/*
 * suggest.h - "did you mean ...?" for a mistyped name: a plugin, a task,
 * an option. Names compare case-insensitively with '-' and '_' the same
 * (CMAES is cmaes, zo_adam is zo-adam); the nearest candidate within a
 * small edit distance (insertions, deletions, substitutions, swaps of two
 * neighbours) is the suggestion.
 *
 *     const char *names[] = { "cmaes", "random", "zo-adam" };
 *     const char *s = bbt_suggest("cmaess", names, 3);    "cmaes"
 */
#ifndef BBT_SUGGEST_H
#define BBT_SUGGEST_H

#include <stddef.h>

/* The candidate nearest to typed, or NULL when none is close enough (or
 * typed is one of them exactly). Borrowed from candidates. */
const char *bbt_suggest(const char *typed, const char *const *candidates, size_t n);

/* 1 when a and b are the same name up to case and '-'/'_'. */
int bbt_name_equiv(const char *a, const char *b);

#endif /* BBT_SUGGEST_H */
