#!/bin/sh
# t/gsl_e2e.sh - what GSL computes for a user, through the real host: the
# Nelder-Mead simplex (listed, loaded from the build tree, options validated
# by the host, a run on the synthetic backend that improves on its first
# point) and random search on a quasi-random sequence at BBT's d = 500.
. "${top_srcdir:-.}/t/lib.sh"
plan 11

run "$BBTBENCH" list
like "$out" "nmsimplex" "bbtbench list shows nmsimplex"

toy() {
	"$BBTBENCH" --backend synthetic --task toy --dim 10 --seed 3 --quiet --out "$TMP/r" \
		--optimizer nmsimplex "$@"
}
run toy --budget 300
ok $rc "a toy run exits 0"
d=$(ls -td "$TMP"/r/toy/nmsimplex-*/ | head -1)
like "$(cat "$d/result.json")" '"countevals": 300' "result.json has countevals"
like "$(cat "$d/result.json")" '"stop_reason": "maxfevals"' "the budget ended it"
first=$(sed -n 2p "$d/trace.csv" | cut -d, -f3)
best=$(tail -1 "$d/trace.csv" | cut -d, -f4)
awk -v f="$first" -v b="$best" 'BEGIN { exit !(b < f) }'
ok $? "the simplex improves on its first point (train loss $first -> $best)"

run toy --budget 300 -O step=-1
is "$rc" 2 "step=-1 refused by the host"
like "$err" "step" "... naming the option"

qmc() {
	"$BBTBENCH" --backend synthetic --task toy --seed 3 --quiet --out "$TMP/q" \
		--optimizer random --budget 100 "$@"
}
run qmc --dim 500 -O distribution=normal-reversehalton
ok $rc "random search on the reverse Halton sequence, d = 500"
like "$(cat "$TMP"/q/toy/random-*/config.ini)" "distribution = normal-reversehalton" \
	"config.ini records the sequence"
run qmc --dim 500 -O distribution=uniform-sobol
[ "$rc" -ne 0 ]
ok $? "sobol at d = 500 refused (exit $rc)"
like "$err" "at most 40 dimensions" "... naming GSL's limit"
done_testing
