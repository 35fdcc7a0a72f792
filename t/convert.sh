#!/bin/sh
# t/convert.sh - convert, info and the native backend from the command line.
# The parts that need the shared BERT model skip when ../shared is absent.
. "${top_srcdir:-.}/t/lib.sh"
plan 19

for cmd in convert info; do
	run "$BBTBENCH" $cmd --help
	ok $rc "$cmd --help exits 0"
	like "$out" "Usage: bbtbench $cmd" "$cmd --help prints its usage"
done
run "$BBTBENCH" help convert
ok $rc "help convert exits 0"
run "$BBTBENCH" convert "$TMP/nowhere" -o "$TMP/x.gguf"
is $rc 1 "convert of a missing folder fails"
like "$err" "nowhere/config.json" "and names config.json"
run "$BBTBENCH" convert "$TMP"
is $rc 2 "convert without -o is a usage error"
printf 'GGUF\003\000\000\000' >"$TMP/short.gguf"
run "$BBTBENCH" info "$TMP/short.gguf"
is $rc 1 "info on a truncated file fails"
like "$err" "too short|truncated" "and says it is truncated"

model="${BBT_SHARED_DIR:-$top_srcdir/../shared}/models/bert-l8-h128-reviews"
tasks="${BBT_SHARED_DIR:-$top_srcdir/../shared}/tasks"
if [ ! -r "$model/model.safetensors" ] || [ ! -d "$tasks/k-shot/SST-2" ]; then
	for i in 1 2 3 4 5 6 7 8 9; do skip "no ../shared BERT model or tasks"; done
	done_testing
	exit $?
fi
run "$BBTBENCH" convert -q "$model" -o "$TMP/bert.gguf"
ok $rc "convert the shared BERT model"
run "$BBTBENCH" info "$TMP/bert.gguf"
like "$out" "architecture +bert" "info: architecture"
like "$out" "138 tensors" "info: 138 tensors (the MLM head included)"
like "$out" "mlm.output.bias +f32 +30522" "info: the decoder bias"
like "$out" "5606330 parameters" "info: the README's parameter count"
run "$BBTBENCH" convert -q --dtype f16 "$model" -o "$TMP/bert16.gguf"
ok $rc "convert --dtype f16"
run "$BBTBENCH" info "$TMP/bert16.gguf"
like "$out" "blk.0.ffn_up.weight +f16" "f16 file holds f16 matrices"
if ! "$BBTBENCH" list 2>/dev/null | grep -q "backend  *native"; then
	skip "native backend not built"; skip "native backend not built"
	done_testing
	exit $?
fi
run "$BBTBENCH" --backend native --model "$TMP/bert16.gguf" --task sst2 --data-dir "$tasks" \
	--split-source kshot --prompt-len 10 --dim 20 --budget 20 --eval-every 10 --quiet \
	--out "$TMP/runs"
ok $rc "a short BBT run on the f16 model finishes"
like "$out" "finished" "and reports its result"
done_testing
