#!/bin/sh
# t/shared_prompt.sh - issue #17's "done when" on the real model and data of
# ../shared (skipped without them, or without the native backend): a short
# BBT run on SST-2 (the LM-BFF k-shot split of seed 13), then `bbtbench eval
# --split test` reproduces the run's test metric exactly, and `bbtbench
# predict` on the split's dev sentences gives the run's dev accuracy.
. "${top_srcdir:-.}/t/lib.sh"
shared="${BBT_SHARED_DIR:-$top_srcdir/../shared}"
model_dir="$shared/models/bert-l8-h128-reviews"
split="$shared/tasks/k-shot/SST-2/16-13"
if [ ! -f "$model_dir/model.safetensors" ] || [ ! -f "$split/dev.tsv" ]; then
	echo "1..0 # SKIP no shared model or SST-2 k-shot data under $shared"
	exit 0
fi
if ! "$BBTBENCH" list | grep -q "backend  *native "; then
	echo "1..0 # SKIP the native backend was not built"
	exit 0
fi
plan 9

run "$BBTBENCH" convert -q "$model_dir" -o "$TMP/bert.gguf"
ok $rc "the shared model converts"
run "$BBTBENCH" --backend native --model "$TMP/bert.gguf" --task sst2 \
	--data-dir "$shared/tasks" --split-source kshot --seed 13 --budget 60 --popsize 10 \
	--dim 50 --prompt-len 10 --out "$TMP/res" --quiet
ok $rc "a short BBT run on SST-2, split 13"
R=$(ls -d "$TMP"/res/sst2/cmaes-native-sst2-d50-s13-*)
like "$(cat "$R/result.json")" "k-shot/SST-2/16-13/train.tsv" "it trained on the split of seed 13"
like "$(cat "$R/config.ini")" "^eval-every = 10$" \
	"dev every generation by default (60 calls / 20 rounded up to 10), in config.ini"

# result.json writes 10 significant digits, eval-*.json 17
val() { sed -n "s/^ *\"$1\": \\([^,]*\\),*\$/\\1/p" "$2" | head -1 |
	awk '{ printf "%.10g", $1 }'; }
run "$BBTBENCH" eval "$R" --split test -q
ok $rc "eval --split test"
is "$(val value "$R/eval-test.json")" "$(val test_metric "$R/result.json")" \
	"eval on the 872 test sentences reproduces the run's test metric exactly"

tail -n +2 "$split/dev.tsv" | cut -f1 >"$TMP/dev.txt"
run "$BBTBENCH" predict "$R" "$TMP/dev.txt" -q
ok $rc "predict on the dev sentences"
printf '%s\n' "$out" | tail -n +2 >"$TMP/pred.tsv"
is "$(wc -l <"$TMP/pred.tsv")" 32 "one prediction per dev sentence"
acc=$(tail -n +2 "$split/dev.tsv" | cut -f2 | paste - "$TMP/pred.tsv" | awk -F'\t' '{
	n++; if (($1 == 1 && $3 == "great") || ($1 == 0 && $3 == "bad")) c++ }
	END { printf "%.6f", c / n }')
want=$(awk -v d="$(val dev_metric "$R/result.json")" 'BEGIN { printf "%.6f", d }')
is "$acc" "$want" "predict's accuracy on them is the run's best dev accuracy"
done_testing
