#!/bin/sh
# t/cmaes_e2e.sh - cmaes and sepcmaes through the real host: loaded from the
# build tree, options validated by the host, pycma-named state in
# result.json, a stop reason of their own, and a better train loss than
# random search at the same budget on the synthetic backend.
. "${top_srcdir:-.}/t/lib.sh"
plan 11

toy() {
	"$BBTBENCH" --backend synthetic --task toy --dim 50 --seed 3 --quiet --out "$TMP/r" "$@"
}
best() { # best train loss of the newest run of optimizer $1
	d=$(ls -td "$TMP"/r/toy/"$1"-*/ | head -1)
	tail -1 "$d/trace.csv" | cut -d, -f4
}

for o in cmaes sepcmaes; do
	run toy --optimizer $o --budget 600
	ok $rc "$o: a toy run exits 0"
	d=$(ls -td "$TMP"/r/toy/$o-*/ | head -1)
	like "$(cat "$d/result.json")" '"countevals": 600' "$o: result.json has pycma's countevals"
	like "$(cat "$d/result.json")" '"stop_reason": "maxfevals"' "$o: the budget ended it: maxfevals"
done
c=$(best cmaes)

run toy --optimizer cmaes --budget 600 -O tolconditioncov=1 
d=$(ls -td "$TMP"/r/toy/cmaes-*/ | head -1)
like "$(cat "$d/result.json")" '"stop_reason": "conditioncov"' "cmaes's own stop reason reaches result.json"

run toy --optimizer cmaes --budget 600 -O bounds=-1
is "$rc" 2 "bounds=-1 refused by the host"
like "$err" "bounds" "... naming the option"
run toy --optimizer cmaes --budget 600 -O active=maybe
is "$rc" 2 "active=maybe refused"

run toy --optimizer random --budget 600
r=$(best random)
awk -v c="$c" -v r="$r" 'BEGIN { exit !(c < r) }'
ok $? "cmaes beats random search at 600 calls (best train loss $c < $r)"
done_testing
