#!/bin/sh
# t/bbtv2.sh - BBTv2 from the command line: a deep run on synthetic (run id,
# trace's layer column, result.json's "deep"), what is refused before a
# folder is made, a BBT run's trace unchanged, and a deep run of the native
# backend on t/tinymodel's tiny BERT.
. "${top_srcdir:-.}/t/lib.sh"
plan 12
cd "$TMP" || exit 99

syn="--backend synthetic --task toy --dim 10 --prompt-len 5 --eval-every 20 --quiet --out runs"
"$BBTBENCH" $syn --optimizer cmaes --budget 100 --prompt-layers all --experiment deep \
	>out 2>err
ok $? "cmaes --prompt-layers all --schedule layerwise on synthetic"
dir=$(ls -d runs/deep/* 2>/dev/null)
is "$(head -1 "$dir/trace.csv")" "call,batch,loss,best_loss,dev_metric,wall_s,layer" \
	"the trace has a layer column"
is "$(awk -F, 'NR > 1 { n++; if ($7 != ($2 - 1) % 4) bad++ } END { print n + 0, bad + 0 }' \
	"$dir/trace.csv")" "80 0" "80 calls (1 round of 4 layers x 20), each row its batch's layer"
like "$(tr -d ' \n' <"$dir/result.json")" '"deep":\{"layers":4,"schedule":"layerwise","rounds":1,"sigma_hat":\[' \
	"result.json's deep section"

"$BBTBENCH" $syn --optimizer cmaes --budget 100 --experiment bbt >out 2>err
is "$(ls runs/bbt)" "cmaes-synthetic-toy-d10-s42-90d8e6df8ca0" "a BBT run keeps its run id"
is "$(head -1 runs/bbt/*/trace.csv)" "call,batch,loss,best_loss,dev_metric,wall_s" \
	"and its trace's columns"

refused() {	# refused PATTERN DESCRIPTION ARGS...: exit 2 or 1, the message, no folder
	pat=$1 what=$2
	shift 2
	"$BBTBENCH" $syn --prompt-layers all --experiment refused "$@" >out 2>err
	rc=$?
	like "$(cat err) rc=$rc folder=$(ls runs/refused 2>/dev/null | wc -l)" "$pat.* rc=[12] folder=0" "$what"
}
refused "less than one round" "a budget under one round is refused" --optimizer cmaes --budget 50
refused "needs a continuous prompt" "a discrete optimizer is refused" --optimizer bdpl
refused "white-box optimizer" "a white-box optimizer is refused (not yet)" --optimizer adam

if ! "$BBTBENCH" list 2>/dev/null | grep -q "backend  *native"; then
	skip "native backend not built"
	skip "native backend not built"
	skip "native backend not built"
	done_testing
	exit $?
fi
"$top_builddir/t/tiny_gguf" tiny.gguf || exit 99
"$BBTBENCH" --backend native --model tiny.gguf --task toy --dim 10 --prompt-len 5 \
	--eval-every 20 --optimizer cmaes --budget 100 --popsize 10 --prompt-layers all \
	--schedule layerwise --quiet --out runs --experiment native >out 2>err
ok $? "native: a deep run of the tiny model finishes"
dir=$(ls -d runs/native/* 2>/dev/null)
layers=$(sed -n 's/.*"deep": {"layers": \([0-9]*\).*/\1/p;/"deep": {/,/}/s/^ *"layers": \([0-9]*\),*$/\1/p' "$dir/result.json" | head -1)
[ -n "$layers" ] && [ "$layers" -gt 1 ]
ok $? "native: one prompt per layer ($layers)"
calls=$(($(wc -l <"$dir/trace.csv") - 1))
is "$calls" "$((100 / (10 * layers) * 10 * layers))" "native: whole rounds of the budget"
done_testing
