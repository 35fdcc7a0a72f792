/*
 * budget.h - what a run spends, in one place: API calls on the training
 * batch (the budget a paper reports), whole-split evaluations on dev and
 * test, the positions the backend scored, and the true gradients that
 * --grad-check asks besides.
 *
 *     struct bbt_budget b = bbt_budget_init(8000);
 *     size_t m = bbt_budget_grant(&b, n);        of n candidates, m fit the budget
 *     bbt_budget_charge(&b, BBT_CALL_TRAIN, 1, err, sizeof err) per candidate scored
 *     bbt_budget_tokens(&b, positions)           by every backend call (score.c)
 *
 * Only training calls count against the limit: a call beyond it is refused
 * (BBT_EINTERNAL, a bug of the caller, which asks bbt_budget_grant first).
 * Dev and test evaluations, gradient checks and tokens are counted for
 * result.json and never refused.
 */
#ifndef BBT_BUDGET_H
#define BBT_BUDGET_H

#include <stddef.h>
#include <stdint.h>

enum bbt_call_kind {
	BBT_CALL_TRAIN = 0,        /* one candidate on the training batch: one API call */
	BBT_CALL_BATCH = 1,        /* one ask/tell round scored */
	BBT_CALL_DEV = 2,          /* one prompt on the whole dev split */
	BBT_CALL_TEST = 3,         /* one prompt on the whole test split */
	BBT_CALL_GRAD_CHECK = 4,   /* one true gradient for --grad-check (outside the budget) */
};

struct bbt_budget {
	size_t limit;        /* training API calls allowed (SIZE_MAX: no limit, a baseline) */
	size_t calls;        /* training API calls so far */
	size_t batches;      /* ask/tell rounds scored */
	size_t dev, test;    /* whole-split evaluations */
	size_t grad_checks;  /* true gradients asked by --grad-check */
	size_t tokens;       /* positions the backend scored, all calls */
};

#define BBT_BUDGET_UNLIMITED SIZE_MAX

struct bbt_budget bbt_budget_init(size_t limit);

/* How many of `asked` training calls fit what is left (0 when spent). */
size_t bbt_budget_grant(const struct bbt_budget *b, size_t asked);
/* 1 when no training call is left. */
int bbt_budget_spent(const struct bbt_budget *b);

/* Count n calls of a kind; BBT_EINTERNAL ("N API calls exceed the budget
 * of M") for training calls past the limit, nothing counted then. */
int bbt_budget_charge(struct bbt_budget *b, enum bbt_call_kind kind, size_t n, char *err,
                      size_t errlen);
/* Count positions the backend is asked to score. */
void bbt_budget_tokens(struct bbt_budget *b, size_t n);

#endif /* BBT_BUDGET_H */
