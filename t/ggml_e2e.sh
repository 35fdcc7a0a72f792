#!/bin/sh
# t/ggml_e2e.sh - a short CMA-ES run on the shared BERT model through the
# ggml backend and through native, same seed: the same trajectory (every
# call's loss and the best-so-far within 1e-5 relative, as the two
# backends' logits agree to ~1e-7) and the same dev and test accuracy.
# Skips when the ggml backend was not built or ../shared is absent.
. "${top_srcdir:-.}/t/lib.sh"
plan 6

model="${BBT_SHARED_DIR:-$top_srcdir/../shared}/models/bert-l8-h128-reviews"
tasks="${BBT_SHARED_DIR:-$top_srcdir/../shared}/tasks"
if ! "$BBTBENCH" list 2>/dev/null | grep -q "backend  *ggml"; then
	for i in 1 2 3 4 5 6; do skip "ggml backend not built"; done
	done_testing
	exit $?
fi
if [ ! -r "$model/model.safetensors" ] || [ ! -d "$tasks/k-shot/SST-2" ]; then
	for i in 1 2 3 4 5 6; do skip "no ../shared BERT model or tasks"; done
	done_testing
	exit $?
fi
run "$BBTBENCH" convert -q "$model" -o "$TMP/bert.gguf"
ok $rc "convert the shared BERT model"
for be in native ggml; do
	run "$BBTBENCH" --backend $be --model "$TMP/bert.gguf" --task sst2 --data-dir "$tasks" \
		--split-source kshot --prompt-len 10 --dim 20 --budget 40 --eval-every 20 --seed 13 \
		--quiet --out "$TMP/$be"
	ok $rc "a short CMA-ES run through the $be backend finishes"
	eval "sum_$be=\$(printf '%s\n' \"\$out\" | tail -1)"
done
n=$(ls "$TMP"/native/sst2/*/trace.csv) g=$(ls "$TMP"/ggml/sst2/*/trace.csv)
# call, loss, best_loss, dev_metric of each line, side by side
cmp=$(paste -d, "$n" "$g" | awk -F, -v nf="$(head -1 "$n" | awk -F, '{ print NF }')" '
	function rel(a, b) { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; return s > 1 ? d / s : d }
	NR > 1 {
		if ($1 != $(nf + 1) || $5 != $(nf + 5)) bad++
		for (c = 3; c <= 4; c++) { e = rel($c, $(nf + c)); if (e > worst) worst = e }
	}
	END { printf "%d %.3g\n", bad, worst }')
set -- $cmp
is "$1" 0 "the same calls and dev accuracies in trace.csv"
ok $(awk -v w="$2" 'BEGIN { exit !(w < 1e-5) }'; echo $?) \
	"every loss and best-so-far within 1e-5 relative (worst $2)"
is "$sum_ggml" "$sum_native" "the same summary: train loss, dev and test accuracy"
done_testing
