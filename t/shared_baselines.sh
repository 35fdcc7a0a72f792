#!/bin/sh
# t/shared_baselines.sh - the baselines on the real model and data of
# ../shared (skipped without them, or without the native backend): the
# manual prompt reproduces the model README's zero-shot accuracy, and the
# calibrated prompt reaches 75% over the five LM-BFF SST-2 splits.
. "${top_srcdir:-.}/t/lib.sh"
shared="${BBT_SHARED_DIR:-$top_srcdir/../shared}"
model_dir="$shared/models/bert-l8-h128-reviews"
if [ ! -f "$model_dir/model.safetensors" ] || [ ! -d "$shared/tasks/k-shot/SST-2" ]; then
	echo "1..0 # SKIP no shared model or SST-2 data under $shared"
	exit 0
fi
if ! "$BBTBENCH" list | grep -q "backend  *native "; then
	echo "1..0 # SKIP the native backend was not built"
	exit 0
fi
plan 5

run "$BBTBENCH" convert "$model_dir" -o "$TMP/bert.gguf"
ok $rc "the shared model converts"

# The README's zero-shot figure uses the label words terrible/great and the
# template "[CLS] <sentence> . it was [MASK] . [SEP]".
sed -e 's/word: bad/word: terrible/' -e 's/^name: sst2/name: sst2-terrible/' \
	"$top_srcdir/tasks/sst2.yaml" >"$TMP/sst2-terrible.yaml"
run "$BBTBENCH" --method manual --backend native --model "$TMP/bert.gguf" \
	--task "$TMP/sst2-terrible.yaml" --data-dir "$shared/tasks" --split-source kshot \
	--out "$TMP/res" --quiet --json
ok $rc "manual prompt runs"
acc=$(printf '%s\n' "$out" | sed -n 's/^    "test_acc": \([0-9.]*\).*/\1/p')
awk -v a="$acc" 'BEGIN { exit !(a >= 0.5598 && a <= 0.5618) }'
ok $? "zero-shot accuracy $acc is the README's 56.1% to 0.1 points"

sum=0
done_runs=0
for seed in 13 21 42 87 100; do
	"$BBTBENCH" --method calibrated --backend native --model "$TMP/bert.gguf" --task sst2 \
		--data-dir "$shared/tasks" --split-source kshot --seed $seed --out "$TMP/res" \
		--quiet --json >"$TMP/cal.json" 2>"$TMP/err" || break
	a=$(sed -n 's/^    "test_acc": \([0-9.]*\).*/\1/p' "$TMP/cal.json")
	sum=$(awk -v s="$sum" -v a="$a" 'BEGIN { print s + a }')
	done_runs=$((done_runs + 1))
	echo "# calibrated, split 16-$seed: test accuracy $a"
done
mean=$(awk -v s="$sum" 'BEGIN { printf "%.4f", s / 5 }')
is "$done_runs" 5 "calibrated runs on the five splits"
awk -v m="$mean" 'BEGIN { exit !(m >= 0.75) }'
ok $? "calibrated: mean test accuracy $mean >= 75%"
done_testing
