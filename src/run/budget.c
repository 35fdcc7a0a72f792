/*
 * budget.c - one account of what a run spends.
 */
#include "config.h"

#include "core/util.h"
#include "run/budget.h"

struct bbt_budget bbt_budget_init(size_t limit)
{
	return (struct bbt_budget){ .limit = limit };
}

size_t bbt_budget_grant(const struct bbt_budget *b, size_t asked)
{
	size_t left = b->calls < b->limit ? b->limit - b->calls : 0;
	return asked < left ? asked : left;
}

int bbt_budget_spent(const struct bbt_budget *b)
{
	return b->calls >= b->limit;
}

int bbt_budget_charge(struct bbt_budget *b, enum bbt_call_kind kind, size_t n, char *err,
                      size_t errlen)
{
	switch (kind) {
	case BBT_CALL_TRAIN:
		if (bbt_budget_grant(b, n) < n)
			return bbt_error(err, errlen, BBT_EINTERNAL,
			                 "%zu more API calls exceed the budget of %zu (%zu spent)", n,
			                 b->limit, b->calls);
		b->calls += n;
		break;
	case BBT_CALL_BATCH: b->batches += n; break;
	case BBT_CALL_DEV: b->dev += n; break;
	case BBT_CALL_TEST: b->test += n; break;
	case BBT_CALL_GRAD_CHECK: b->grad_checks += n; break;
	default:
		return bbt_error(err, errlen, BBT_EINTERNAL, "unknown kind of call %d", (int)kind);
	}
	return BBT_OK;
}

void bbt_budget_tokens(struct bbt_budget *b, size_t n)
{
	b->tokens += n;
}
