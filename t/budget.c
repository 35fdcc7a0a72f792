/*
 * t/budget.c - one account of a run's spending: grants up to the limit,
 * refusal past it, the other counts never refused.
 */
#include "config.h"

#include <string.h>

#include "core/util.h"
#include "run/budget.h"
#include "tap.h"

int main(void)
{
	plan(16);
	char err[BBT_ERRLEN] = "";
	struct bbt_budget b = bbt_budget_init(50);
	is_int((long long)bbt_budget_grant(&b, 20), 20, "a batch of 20 fits 50");
	is_int(bbt_budget_charge(&b, BBT_CALL_TRAIN, 20, err, sizeof err), BBT_OK, "20 spent");
	is_int(bbt_budget_charge(&b, BBT_CALL_TRAIN, 20, err, sizeof err), BBT_OK, "40 spent");
	is_int((long long)bbt_budget_grant(&b, 20), 10, "of the third batch only 10 fit");
	ok(!bbt_budget_spent(&b), "not spent at 40 of 50");
	is_int(bbt_budget_charge(&b, BBT_CALL_TRAIN, 11, err, sizeof err), BBT_EINTERNAL,
	       "a call over the limit is refused");
	like(err, "exceed the budget of 50", "saying so");
	is_int((long long)b.calls, 40, "and not counted");
	for (int i = 0; i < 10; i++)
		bbt_budget_charge(&b, BBT_CALL_TRAIN, 1, err, sizeof err);
	ok(bbt_budget_spent(&b) && b.calls == 50, "exactly the budget spent, one call at a time");
	is_int((long long)bbt_budget_grant(&b, 20), 0, "nothing granted once spent");
	is_int(bbt_budget_charge(&b, BBT_CALL_DEV, 3, err, sizeof err), BBT_OK,
	       "dev evaluations are outside the limit");
	bbt_budget_charge(&b, BBT_CALL_TEST, 1, err, sizeof err);
	bbt_budget_charge(&b, BBT_CALL_GRAD_CHECK, 2, err, sizeof err);
	bbt_budget_charge(&b, BBT_CALL_BATCH, 3, err, sizeof err);
	bbt_budget_tokens(&b, 1000);
	bbt_budget_tokens(&b, 24);
	ok(b.dev == 3 && b.test == 1 && b.grad_checks == 2 && b.batches == 3,
	   "each kind counted apart");
	is_int((long long)b.tokens, 1024, "tokens summed");
	is_int(bbt_budget_charge(&b, (enum bbt_call_kind)99, 1, err, sizeof err), BBT_EINTERNAL,
	       "an unknown kind is refused");

	struct bbt_budget u = bbt_budget_init(BBT_BUDGET_UNLIMITED);
	is_int(bbt_budget_charge(&u, BBT_CALL_TRAIN, 2, err, sizeof err), BBT_OK,
	       "a baseline's calls have no limit");
	ok(!bbt_budget_spent(&u), "and never run out");
	return done_testing();
}
