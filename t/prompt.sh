#!/bin/sh
# t/prompt.sh - the tuned prompt is the product (#17): a continuous run saves
# prompt.safetensors (its sha256 in result.json) and prompts.tsv; numpy alone
# reads the file; `bbtbench eval` reproduces the run's own dev and test
# metrics exactly; `bbtbench eval --trail` scores the prompts the run chose on
# dev along the way, the last being the run's own; `bbtbench predict` on the
# dev texts gives the run's dev accuracy; bad input (no prompt, a changed
# file, another model, a baseline or discrete run for --trail) is one line
# and exit 2.
. "${top_srcdir:-.}/t/lib.sh"
plan 44

# A small task with published k-shot files, so that the dev texts are known.
mkdir -p "$TMP/data/k-shot/mini/4-42"
cat >"$TMP/mini.yaml" <<'YAML'
name: mini
metric: acc
fields: [sentence]
template: "{sentence} . It was {mask} ."
labels:
  - {value: "0", word: bad}
  - {value: "1", word: great}
kshot:
  dir: k-shot/mini
  format: tsv
  header: true
  columns: {sentence: sentence, label: label}
YAML
for s in train dev test; do
	{
		printf 'sentence\tlabel\n'
		for w in good great fine awful bad dull nice poor; do
			case $w in good|great|fine|nice) y=1;; *) y=0;; esac
			printf 'a %s %s film\t%s\nthe %s %s story here\t%s\n' $w $s $y $s $w $y
		done
	} >"$TMP/data/k-shot/mini/4-42/$s.tsv"
done

tune() {
	run "$BBTBENCH" --backend synthetic --dim 20 --prompt-len 5 --budget 120 --eval-every 20 \
		--out "$TMP/res" --quiet "$@"
}
tune --task toy
ok $rc "a continuous run finishes"
R=$(ls -d "$TMP"/res/toy/cmaes-*)
[ -s "$R/prompt.safetensors" ] && [ -s "$R/prompts.tsv" ]
ok $? "prompt.safetensors and prompts.tsv are in the run folder"
sha=$(sha256sum "$R/prompt.safetensors" | cut -d' ' -f1)
like "$(cat "$R/result.json")" "\"sha256\": \"$sha\"" "result.json holds the file's sha256"
is "$(head -1 "$R/prompts.tsv" | cut -f1-3)" "$(printf 'call\tdev_metric\tz0')" "prompts.tsv's header"

# numpy alone: the header, z (F64) and the prompt (F32 [P, H])
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	run /usr/bin/python3 - "$R/prompt.safetensors" "$R/prompts.tsv" <<'PY'
import json, struct, sys
import numpy as np
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
meta = h['__metadata__']
t = {}
for name, dt in (('z', '<f8'), ('prompt', '<f4')):
    s, e = h[name]['data_offsets']
    t[name] = np.frombuffer(b[8 + n + s:8 + n + e], dtype=dt).reshape(h[name]['shape'])
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[2])][1:]
row = [r for r in rows if r[0] == meta['best_dev_call']][-1]
z = np.array([float(x) for x in row[2:]])
print(t['prompt'].shape, len(t['z']), meta['task'], meta['projection'], bool((z == t['z']).all()))
PY
	is "$out" "(5, 64) 20 toy normal True" "numpy reads it: prompt 5 x 64, z = the best-on-dev row of prompts.tsv"
else
	skip "/usr/bin/python3 has no numpy"
fi

# eval reproduces the run's own metrics, bit for bit in JSON
# (result.json writes 10 significant digits; eval-*.json 17)
val() { sed -n "s/^ *\"$1\": \\([^,]*\\),*\$/\\1/p" "$2" | head -1 |
	awk '{ printf "%.10g", $1 }'; }
run "$BBTBENCH" eval "$R" --split test -q
ok $rc "eval --split test"
is "$(val value "$R/eval-test.json")" "$(val test_metric "$R/result.json")" \
	"eval on test reproduces the run's test metric exactly"
run "$BBTBENCH" eval "$R" --split dev -q
is "$(val value "$R/eval-dev.json")" "$(val dev_metric "$R/result.json")" \
	"eval on dev reproduces the run's best dev metric"
like "$out" "^dev  [0-9.]+ acc" "eval prints the metric"

# eval --trail: a row at each call where the best-on-dev prompt changed (the
# loop's rule: strictly higher dev metric), scored like prompt.safetensors
run "$BBTBENCH" eval "$R" --trail -q
ok $rc "eval --trail"
T="$R/eval-trail-test.tsv"
like "$out" "^test  [0-9]+ prompts chosen on dev, scored  .*/eval-trail-test.tsv$" \
	"eval --trail names the file"
is "$(head -1 "$T")" "$(printf 'call\tdev_metric\tmetric\tacc\tf1')" "the trail's header"
changes=$(awk -F'\t' 'NR > 1 && (n++ == 0 || $2 > b) { b = $2; print $1, $2 }' "$R/prompts.tsv")
is "$(awk -F'\t' 'NR > 1 { print $1, $2 }' "$T")" "$changes" \
	"a row at each change of the best-on-dev prompt in prompts.tsv, and only there"
[ "$(tail -n +2 "$R/prompts.tsv" | wc -l)" -gt "$(tail -n +2 "$T" | wc -l)" ]
ok $? "a new best-so-far point that is worse on dev is no change (this run has one)"
awk -F'\t' 'NR > 2 && $1 <= c { exit 1 } { c = $1 }' "$T"
ok $? "calls increase"
is "$(tail -1 "$T" | cut -f1)" "$(sed -n 's/^ *"best_dev_call": \([0-9]*\),*$/\1/p' "$R/result.json")" \
	"the last row is the run's best-on-dev call"
is "$(tail -1 "$T" | awk -F'\t' '{ printf "%.10g", $3 }')" "$(val test_metric "$R/result.json")" \
	"the last row's test metric is the run's, exactly"
is "$(tail -1 "$T" | cut -f3)" "$(sed -n 's/^ *"value": \([^,]*\),*$/\1/p' "$R/eval-test.json")" \
	"and eval's on prompt.safetensors, to 17 digits"
# a tie on dev keeps the earlier prompt: a copy of the first row one call
# later changes nothing
cp -r "$R" "$TMP/tie"
awk -F'\t' 'NR == 2 { print; $1 = $1 + 1; print; next } { print }' OFS='\t' "$R/prompts.tsv" \
	>"$TMP/tie/prompts.tsv"
run "$BBTBENCH" eval "$TMP/tie" --trail -q
is "$(cut -f1-3 "$TMP/tie/eval-trail-test.tsv")" "$(cut -f1-3 "$T")" "a tie on dev is no change (the run's rule)"
run "$BBTBENCH" eval "$R" --trail --split dev -q
awk -F'\t' 'NR > 1 && $2 != $3 { exit 1 }' "$R/eval-trail-dev.tsv"
ok $? "--split dev: each row scores the dev metric the run recorded for it"
run "$BBTBENCH" --backend synthetic --task toy --dim 10 --prompt-len 3 --budget 100 --eval-every 10 \
	--prompt-layers all --experiment deep --out "$TMP/res" --quiet
D=$(ls -d "$TMP"/res/deep/cmaes-*)
run "$BBTBENCH" eval "$D" --trail -q
is "$(tail -1 "$D/eval-trail-test.tsv" | awk -F'\t' '{ printf "%.10g", $3 }')" \
	"$(val test_metric "$D/result.json")" "a deep (BBTv2) run: all layers' z in a row; the last is the run's"

# predict on the dev texts of a k-shot task: the run's dev accuracy
tune --task "$TMP/mini.yaml" --data-dir "$TMP/data" --k-shot 4 --split-source kshot
ok $rc "a run on the k-shot task"
M=$(ls -d "$TMP"/res/mini/cmaes-*)
cut -f1 "$TMP/data/k-shot/mini/4-42/dev.tsv" | tail -n +2 >"$TMP/dev.txt"
run "$BBTBENCH" predict "$M" "$TMP/dev.txt" -q
ok $rc "predict"
printf '%s\n' "$out" >"$TMP/pred.tsv"
tail -n +2 "$TMP/pred.tsv" >"$TMP/pred.body"
acc=$(tail -n +2 "$TMP/data/k-shot/mini/4-42/dev.tsv" | cut -f2 |
	paste - "$TMP/pred.body" | awk -F'\t' '{
		n++; if (($1 == 1 && $3 == "great") || ($1 == 0 && $3 == "bad")) c++ }
		END { printf "%.6f", c / n }')
want=$(awk -v d="$(val dev_metric "$M/result.json")" 'BEGIN { printf "%.6f", d }')
is "$acc" "$want" "predict on the dev texts gives the run's dev accuracy"
is "$(head -1 "$TMP/pred.tsv")" "$(printf 'line\tlabel\tbad\tgreat')" "predict's TSV header"
run "$BBTBENCH" predict "$M" --format jsonl -q <"$TMP/dev.txt"
like "$(printf '%s\n' "$out" | head -1)" '^\{"line":1,"label":"(bad|great)","index":[01],"scores":\{"bad":' \
	"predict --format jsonl from standard input"
is "$(printf '%s\n' "$out" | wc -l)" "$(wc -l <"$TMP/dev.txt")" "one JSON line per input line"

# Bad input: one line, exit 2
run "$BBTBENCH" --backend synthetic --task toy --method manual --out "$TMP/res" --quiet
B=$(ls -d "$TMP"/res/toy/manual-*)
run "$BBTBENCH" eval "$B"
is "$rc" 2 "a run folder without a prompt: exit 2"
like "$err" "result.json: no saved prompt" "says so, naming the file"
run "$BBTBENCH" eval "$B" --trail
like "$rc: $err" "^2: bbtbench: error: .*/manual-[^ ]*: a baseline run \(method manual\) tunes no prompt" \
	"eval --trail on a baseline: refused, exit 2"
is "$(printf '%s\n' "$err" | wc -l)" 1 "in one line"
run "$BBTBENCH" --backend synthetic --task toy --optimizer bdpl --prompt-len 5 --budget 40 \
	--out "$TMP/res" --quiet
run "$BBTBENCH" eval "$(ls -d "$TMP"/res/toy/bdpl-*)" --trail
like "$rc: $err" "^2: .*: a discrete \(BDPL\) prompt: --trail scores the continuous prompts" \
	"eval --trail on a discrete run: refused, exit 2"
cp -r "$R" "$TMP/notrail"
rm "$TMP/notrail/prompts.tsv" "$TMP/notrail/eval-trail-test.tsv" "$TMP/notrail/eval-trail-dev.tsv"
run "$BBTBENCH" eval "$TMP/notrail" --trail
like "$rc: $err" "^2: .*notrail: no prompts.tsv" "eval --trail without prompts.tsv: refused, exit 2"
[ ! -e "$TMP/notrail/eval-trail-test.tsv" ]
ok $? "and writes nothing"
printf 'call\tdev_metric\tz0\n' >"$TMP/notrail/prompts.tsv"
run "$BBTBENCH" eval "$TMP/notrail" --trail
like "$rc: $err" "^2: .*notrail/prompts.tsv:1: expected the header call, dev_metric and 20 coordinates" \
	"a prompts.tsv that is not the run's: named, exit 2"
cp -r "$R" "$TMP/cut"
head -c 300 "$R/prompt.safetensors" >"$TMP/cut/prompt.safetensors"
run "$BBTBENCH" eval "$TMP/cut"
is "$rc" 2 "a truncated prompt file: exit 2"
like "$err" "prompt.safetensors: sha256 .*result.json says" "names the file and the mismatch"
cp -r "$R" "$TMP/other"
sed -i 's/^hidden = 64$/hidden = 32/' "$TMP/other/config.ini"
run "$BBTBENCH" eval "$TMP/other"
is "$rc" 2 "another model: exit 2"
like "$err" "hidden size 32 .* the run's .* hidden size 64" "names both hidden sizes"
is "$(printf '%s\n' "$err" | wc -l)" 1 "in one line"

# --init-prompt: the saved z is the optimizer's x0; Nelder-Mead's first call
# is its first vertex, x0, so it scores the old run's best-on-dev training loss
c=$(sed -n 's/^ *"best_dev_call": \([0-9]*\),*$/\1/p' "$R/result.json")
old=$(awk -F, -v c="$c" '$1 == c { print $4 }' "$R/trace.csv")
run "$BBTBENCH" --backend synthetic --task toy --dim 20 --prompt-len 5 --budget 10 \
	--optimizer nmsimplex --init-prompt "$R" --out "$TMP/init" --quiet
ok $rc "a run with --init-prompt"
I=$(ls -d "$TMP"/init/toy/nmsimplex-*)
is "$(sed -n 2p "$I/trace.csv" | cut -d, -f3)" "$old" "its first candidate scores the old best loss"
run "$BBTBENCH" --backend synthetic --task toy --dim 20 --prompt-len 5 --budget 10 \
	--optimizer nmsimplex --out "$TMP/init" --quiet
is "$(ls "$TMP/init/toy" | wc -l)" 2 "--init-prompt enters the run id"
run "$BBTBENCH" --backend synthetic --task toy --dim 20 --prompt-len 5 --budget 10 --seed 7 \
	--init-prompt "$R" --out "$TMP/init" --quiet
like "$rc: $err" "^2: .*--init-prompt .*projection .* is not this run's" \
	"another projection: one line, exit 2"

done_testing
