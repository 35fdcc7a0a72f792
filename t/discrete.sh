#!/bin/sh
# t/discrete.sh - discrete prompts end to end (bdpl on the synthetic
# backend): the run finishes, result.json holds the best prompt as n-grams,
# token ids and token text, the truncation rule leaves room for the longest
# prompt, and zo-adam's batches keep the budget exact.
. "${top_srcdir:-.}/t/lib.sh"
plan 18

# Readers of result.json (jansson, indented: one array element a line).
# num FILE KEY: the first number after "KEY":
num() {
	grep -o "\"$2\": [0-9]*" "$1" | head -1 | sed 's/.*: //'
}
# items FILE KEY: the elements of array KEY, one a line, quotes and commas off
items() {
	sed -n "/\"$2\": \[/,/\]/p" "$1" | sed '1d;$d' | sed 's/^ *//; s/,$//; s/^"//; s/"$//'
}

run "$BBTBENCH" --optimizer bdpl --backend synthetic --task toy --budget 400 --quiet \
	--out "$TMP/a"
ok $rc "bdpl on the synthetic backend finishes (rc $rc: $err)"
dir=$(ls -d "$TMP"/a/toy/*/ | head -1)
res="$dir/result.json"
like "$(cat "$res")" '"status": "finished"' "result.json says finished"
like "$(cat "$res")" '"kind": "discrete"' "result.json says the prompt is discrete"
is "$(wc -l <"$dir/trace.csv")" 401 "trace: header and 400 calls"
is "$(items "$res" indices | wc -l) $(items "$res" ngrams | wc -l)" "50 50" \
	"the best prompt: --prompt-len 50 positions, an n-gram each"
nt=$(items "$res" tokens | wc -l)
[ "$(items "$res" token_ids | wc -l)" -eq "$nt" ] && [ "$nt" -ge 50 ]
ok $? "its token ids and their text ($nt tokens)"
is "\"text\": \"$(items "$res" tokens | tr '\n' ' ' | sed 's/ $//')\"" \
	"$(grep -o '"text": ".*"' "$res")" "prompt text: the tokens' text"
k=$(num "$res" search_space)
is "$(wc -l <"$dir/vocab.tsv")" $((k + 1)) "vocab.tsv lists the $k candidates"
is "$(num "$res" search-space)" 200 "search-space recorded (default 200)"
like "$(basename "$dir")" '^bdpl-synthetic-toy-L50-s42-' "the run id names L, not d"

run "$BBTBENCH" --optimizer bdpl --backend synthetic --task toy --budget 400 --quiet \
	--out "$TMP/b"
dir2=$(ls -d "$TMP"/b/toy/*/ | head -1)
cut -d, -f1-5 "$dir/trace.csv" >"$TMP/t1"
cut -d, -f1-5 "$dir2/trace.csv" >"$TMP/t2"
cmp -s "$TMP/t1" "$TMP/t2"
ok $? "same seed: identical trace"

run "$BBTBENCH" --optimizer bdpl --backend synthetic --task toy --budget 200 --quiet \
	--prompt-len 10 --search-space 20 --out "$TMP/c"
res=$(ls "$TMP"/c/toy/*/result.json)
is "$(num "$res" search_space) $(items "$res" indices | wc -l) $(items "$res" indices | sort -n | tail -1)" \
	"20 10 $(items "$res" indices | sort -n | tail -1 | awk '$1 < 20')" \
	"--prompt-len 10 --search-space 20: 10 positions over 20 candidates"

# A model of 40 positions: 10 positions of up to 2 tokens (no toy trigram
# occurs twice) take 20, so the examples are cut to 20 tokens and every
# sampled prompt still fits.
run "$BBTBENCH" --optimizer bdpl --backend synthetic --task toy --budget 100 --quiet \
	--prompt-len 10 -O max_len=40 --out "$TMP/d"
ok $rc "max_len 40, 10 discrete positions: the run fits (rc $rc: $err)"
res=$(ls "$TMP"/d/toy/*/result.json)
trunc=$(sed -n '/"truncated"/,/}/p' "$res" | grep -o '"train": [0-9]*' | sed 's/.*: //')
[ "${trunc:-0}" -gt 0 ]
ok $? "examples truncated to leave room for the longest prompt ($trunc train)"
run "$BBTBENCH" --optimizer bdpl --backend synthetic --task toy --budget 100 --quiet \
	--prompt-len 20 -O max_len=40 --out "$TMP/e"
is "$rc" 2 "a prompt that cannot fit is a configuration error (exit 2)"
like "$err" '--prompt-len 20 discrete positions of up to [0-9]+ tokens leave no room' \
	"and the message says why"

# Continuous runs say so; zo-adam's batches of q+1 keep the budget exact.
run "$BBTBENCH" --optimizer zo-adam --backend synthetic --task toy --budget 210 --dim 20 \
	--quiet --out "$TMP/f"
res=$(ls "$TMP"/f/toy/*/result.json)
is "$(grep -c '"kind": "continuous"' "$res") $(num "$res" api_calls)" "1 210" \
	"zo-adam: a continuous run of exactly 210 calls (10 batches of 20 and a cut one)"
is "$(sed -n '/"optimizer_state"/,/}/p' "$res" | grep -o '"countevals": [0-9]*' | sed 's/.*: //')" 200 \
	"the cut batch is never told: the optimizer counted 200"
done_testing
