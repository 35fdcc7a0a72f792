#!/bin/sh
# t/gradients.sh - white-box runs and --grad-check from the command line, on
# the synthetic backend (whose gradient is exact): adam counts each gradient
# call in the budget and descends; --grad-check logs how close a ZO
# estimate is to the true gradient without spending budget; what cannot
# have a gradient is refused before anything is written.
. "${top_srcdir:-.}/t/lib.sh"
plan 16

common="--backend synthetic --task toy --dim 20 --quiet"

run "$BBTBENCH" --optimizer adam $common --budget 60 -O lr=0.01 --out "$TMP/a"
ok $rc "adam on the synthetic backend runs"
dir=$(ls -d "$TMP"/a/toy/*/)
is "$(wc -l <"$dir/trace.csv")" 61 "every gradient call is an API call: 60 rows"
like "$(cat "$dir/result.json")" '"api_calls": 60,' "result.json: 60 API calls"
like "$(cat "$dir/result.json")" '"white_box": true' "result.json marks the run white-box"
# lr 0.01 is small against the subspace's unit scale: the loss must fall
# at every one of the first 40 steps.
awk -F, 'NR > 2 && NR <= 42 && $3 >= prev { bad = 1 } { prev = $3 } END { exit bad }' \
	"$dir/trace.csv"
ok $? "adam: the training loss falls at every step of the first 40"

# ZO estimate vs the true gradient. Central differences along q Gaussian
# directions in d = 20: E[cos] ~ 1/sqrt(1 + (d + 1)/q) = 0.990 at q = 1000,
# and mu = 1e-3 keeps the O(mu^2) bias and the float noise of the logits
# (~1e-7 of the loss, divided by 2 mu) far below that.
run "$BBTBENCH" --optimizer zo-sgd $common --budget 6000 --grad-check \
	-O q=1000 -O mu=1e-3 -O difference=central --out "$TMP/g"
ok $rc "zo-sgd --grad-check runs"
dir=$(ls -d "$TMP"/g/toy/*/)
is "$(head -1 "$dir/trace.csv")" "call,batch,loss,best_loss,dev_metric,wall_s,grad_cos,grad_norm_ratio" \
	"the trace gains grad_cos and grad_norm_ratio"
is "$(awk -F, 'NR > 1 && $7 != ""' "$dir/trace.csv" | wc -l)" 3 "one check per step (3 steps of 2000 calls)"
awk -F, 'NR > 1 && $7 != "" && ($7 < 0.98 || $8 < 0.9 || $8 > 1.1) { bad = 1 } END { exit bad }' \
	"$dir/trace.csv"
ok $? "q = 1000, mu = 1e-3: cosine >= 0.98 and norm ratio within 10% at every step"
like "$(cat "$dir/result.json")" '"api_calls": 6000,' "true gradients are not counted in the budget"
like "$(cat "$dir/result.json")" '"true_gradient_calls": 3' "result.json counts them apart"

if command -v gnuplot >/dev/null 2>&1; then
	run "$BBTBENCH" plot "$TMP/g/toy" --y grad_cos --by q,mu
	ok $rc "plot --y grad_cos --by q,mu"
	[ -s "$TMP/g/toy/plots/grad_cos.png" ]
	ok $? "grad_cos.png written"
else
	skip "gnuplot not installed"
	skip "gnuplot not installed"
fi

# Refusals, before the results folder exists.
run "$BBTBENCH" --optimizer adam $common --budget 10 --loss perf --out "$TMP/x"
like "$err" "needs a differentiable loss" "adam with --loss perf: refused"
run "$BBTBENCH" --optimizer cmaes $common --budget 10 --grad-check --out "$TMP/x"
like "$err" "optimizer cmaes makes no gradient estimate" "--grad-check with cmaes: refused"
[ ! -e "$TMP/x" ]
ok $? "nothing written by a refused run"
done_testing
