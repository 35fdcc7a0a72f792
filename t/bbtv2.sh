#!/bin/sh
# t/bbtv2.sh - BBTv2 from the command line: a deep run on synthetic (run id,
# trace's layer column, result.json's "deep"), what is refused before a
# folder is made, a BBT run's trace unchanged, white-box adam under both
# schedules, the deep prompt saved and used again (eval, predict,
# --init-prompt), and deep runs of the native backend on t/tinymodel's tiny
# BERT.
. "${top_srcdir:-.}/t/lib.sh"
plan 31
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
refused "backend http gives no hidden states .ABI 1.2 hidden_states., which scale each layer's projection" \
	"a backend without hidden states (http; ggml too) is refused, naming what is missing" \
	--optimizer cmaes --backend http
refused "grad-check needs --schedule joint" "--grad-check under the layerwise schedule is refused" \
	--optimizer zo-adam --grad-check --budget 100

# White-box adam on deep prompts: the true gradient of every layer's prompt
# pulled back through each A_l, one call per gradient.
decreases() {	# decreases TRACE: the best loss ends below the first call's loss
	awk -F, 'NR == 2 { f = $3 } END { exit !(NR > 2 && $4 < f - 1e-3) }' "$1"
}
"$BBTBENCH" $syn --optimizer adam --budget 101 --prompt-layers all --experiment adam-lw \
	>out 2>err
ok $? "adam --prompt-layers all (layerwise) on synthetic"
dir=$(ls -d runs/adam-lw/* 2>/dev/null)
is "$(awk -F, 'NR > 1 { n++; if ($7 != (n - 1) % 4) bad++ } END { print n + 0, bad + 0 }' \
	"$dir/trace.csv")" "100 0" "layerwise adam: 25 rounds of 4 layers x 1 gradient, in layer order"
decreases "$dir/trace.csv"
ok $? "layerwise adam: the loss decreases ($(sed -n '2p;$p' "$dir/trace.csv" | cut -d, -f4 | tr '\n' ' '))"
"$BBTBENCH" $syn --optimizer adam --budget 101 --prompt-layers all --schedule joint \
	--experiment adam-joint >out 2>err
ok $? "adam --prompt-layers all --schedule joint on synthetic"
dir=$(ls -d runs/adam-joint/* 2>/dev/null)
is "$(head -1 "$dir/trace.csv"),$(($(wc -l <"$dir/trace.csv") - 1))" \
	"call,batch,loss,best_loss,dev_metric,wall_s,101" "joint adam: the whole budget, no layer column"
like "$(tr -d ' \n' <"$dir/result.json")" '"white_box":true.*"deep":\{"layers":4,"schedule":"joint","rounds":null,' \
	"joint adam: result.json says white-box and the joint schedule"
decreases "$dir/trace.csv"
ok $? "joint adam: the loss decreases ($(sed -n '2p;$p' "$dir/trace.csv" | cut -d, -f4 | tr '\n' ' '))"
"$BBTBENCH" $syn --optimizer zo-adam --grad-check --budget 100 --prompt-layers all \
	--schedule joint --experiment gc >out 2>err
dir=$(ls -d runs/gc/* 2>/dev/null)
is "$(awk -F, 'NR > 1 && $7 != "" { n++; s += $7; if (!($7 >= -1 && $7 <= 1)) bad++ }
	END { print (n > 0 && s > 0), bad + 0 }' "$dir/trace.csv")" "1 0" \
	"joint zo-adam --grad-check: cosines with the true all-layer gradient, positive on average"

# The deep prompt saved (#17): z [L, d] and prompt [L, P, H] in
# prompt.safetensors, used again by eval, predict and --init-prompt.
val() { sed -n "s/^ *\"$1\": \([^,]*\),*\$/\1/p" "$2" | head -1 | awk '{ printf "%.10g", $1 }'; }
"$BBTBENCH" $syn --optimizer cmaes --budget 200 --prompt-layers all --experiment saved >out 2>err
R=$(ls -d runs/saved/* 2>/dev/null)
[ -s "$R/prompt.safetensors" ] && [ -s "$R/prompts.tsv" ]
ok $? "a deep run saves prompt.safetensors and prompts.tsv"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	out=$(/usr/bin/python3 - "$R/prompt.safetensors" "$R/prompts.tsv" "$R/result.json" <<'PY'
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
z = np.array([float(x) for x in row[2:]]).reshape(t['z'].shape)
print(t['z'].shape, t['prompt'].shape, meta['prompt_layers'], len(json.loads(meta['layer_stds'])),
      bool((z == t['z']).all()))
deep = json.load(open(sys.argv[3]))['deep']
p = t['prompt'].astype(np.float64).reshape(t['prompt'].shape[0], -1)
want = (np.linalg.norm(p, axis=1), p.mean(axis=1), p.std(axis=1))
print(all(np.allclose(deep[k], w, rtol=1e-8, atol=1e-12)
          for k, w in zip(('prompt_norm', 'prompt_mean', 'prompt_std'), want)))
PY
)
	is "$out" "$(printf '(4, 10) (4, 5, 64) 4 4 True\nTrue')" \
		"numpy reads it: z 4 x 10 = the best-on-dev row of prompts.tsv, prompt 4 x 5 x 64, 4 stds; result.json's prompt_norm, _mean, _std are the saved prompt's"
else
	skip "/usr/bin/python3 has no numpy"
fi
"$BBTBENCH" eval "$R" --split test -q >out 2>err
is "$(val value "$R/eval-test.json")" "$(val test_metric "$R/result.json")" \
	"eval reproduces the deep run's test metric (all layers' prompts)"
"$BBTBENCH" eval "$R" --split dev -q >out 2>err
is "$(val value "$R/eval-dev.json")" "$(val dev_metric "$R/result.json")" \
	"and its best dev metric"
printf 'a great film\nan awful one\n' | "$BBTBENCH" predict "$R" -q >out 2>err
is "$(awk -F'\t' 'NR > 1 && ($2 == "bad" || $2 == "great") { n++ } END { print n + 0 }' out)" 2 \
	"predict on a deep run: a label per line"
c=$(sed -n 's/^ *"best_dev_call": \([0-9]*\),*$/\1/p' "$R/result.json")
old=$(awk -F, -v c="$c" '$1 == c { print $4 }' "$R/trace.csv")
"$BBTBENCH" $syn --optimizer nmsimplex --budget 40 --prompt-layers all --init-prompt "$R" \
	--experiment init >out 2>err
is "$(sed -n 2p runs/init/*/trace.csv | cut -d, -f3)" "$old" \
	"--init-prompt from a deep run: the first candidate scores its best loss"
B=$(ls -d runs/bbt/*)
"$BBTBENCH" $syn --optimizer nmsimplex --budget 40 --prompt-layers all --init-prompt "$B" \
	--experiment init2 >out 2>err
like "$? $(cat err)" "^2 .*--init-prompt .*its prompt has 1 layer; this run's has 4" \
	"--init-prompt from a BBT run into a deep run: one line, exit 2"

if ! "$BBTBENCH" list 2>/dev/null | grep -q "backend  *native"; then
	for i in 1 2 3 4 5 6; do skip "native backend not built"; done
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
"$BBTBENCH" eval "$dir" --split test -q >out 2>err
is "$(val value "$dir/eval-test.json")" "$(val test_metric "$dir/result.json")" \
	"native: eval reproduces the deep run's test metric"
"$BBTBENCH" --backend native --model tiny.gguf --task toy --dim 10 --prompt-len 5 \
	--eval-every 20 --optimizer adam --budget 30 --prompt-layers all --schedule joint \
	--quiet --out runs --experiment native-adam >out 2>err
ok $? "native: joint adam on the tiny model's deep prompt finishes"
dir=$(ls -d runs/native-adam/* 2>/dev/null)
decreases "$dir/trace.csv"
ok $? "native: joint adam's loss decreases ($(sed -n '2p;$p' "$dir/trace.csv" | cut -d, -f4 | tr '\n' ' '))"
done_testing
