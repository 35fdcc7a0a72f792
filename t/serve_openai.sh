#!/bin/bash
# t/serve_openai.sh - the openai backend against `bbtbench serve`'s
# OpenAI-compatible /v1/models and /v1/completions, on loopback only: the
# manual, calibrated and in-context baselines through --backend openai give
# the in-process --backend native's accuracies exactly and its losses to
# 1e-6 (log-probabilities are the logits less a per-position constant,
# rounded once more in float: doc/protocol.md); bdpl runs through it;
# continuous prompts (cmaes) are refused in one line that says what the
# backend takes, before the run folder exists (BBT_BACKEND_NO_CONTINUOUS);
# the request shapes the backend does not send are 4xx with a reason.
# Skips when serve, the openai or the native backend is not built.
. "${top_srcdir:-.}/t/lib.sh"
SERVE_BACKENDS="openai native"
. "${top_srcdir:-.}/t/serve_lib.sh"
plan 20

start oa
[ -n "$url" ]
ok $? "serve listens ($url)"
request GET /v1/models
like "$resp" '"id": "tiny.gguf"' "/v1/models names the model by its file"
like "$resp" '"mask_marker": "\\uE000"' "... and says it is masked, with the marker of its mask"
printf '{"model":"tiny.gguf","prompt":["a good film . It was \\ue000 ."],"max_tokens":1,"temperature":0,"logprobs":3}' >c.json
request POST /v1/completions c.json
is "$status" 200 "a completion of the openai backend's shape: 200"
like "$resp" '"top_logprobs":\[{"[^"]*":-[0-9.e-]*,"[^"]*":-[0-9.e-]*,"[^"]*":-[0-9.e-]*}\]' \
	"... with the 3 likeliest tokens at the mask"
for bad in '"max_tokens":16' '"max_tokens":1,"echo":true' '"max_tokens":1,"logprobs":99999' \
	'"max_tokens":1,"stream":true'; do
	printf '{"prompt":"a good film . It was \\ue000 .",%s}' "$bad" >bad.json
	request POST /v1/completions bad.json
	like "$status $(reason)" "^400 completions: " "{$bad}: 400 with a reason"
done
printf '{"prompt":"no mask here","max_tokens":1}' >nomask.json
request POST /v1/completions nomask.json
like "$status $(reason)" "^400 .*mask marker U.E000" "a masked model's prompt without its mask: 400"
printf '{"model":"other","prompt":"x \\ue000","max_tokens":1}' >other.json
request POST /v1/completions other.json
is "$status" 404 "a model not served here: 404"

# train_loss to 1e-6, the accuracies exactly
close() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-6) }'
}
last_metrics() {
	sed -n '/^  "metrics": {/,/^  }/p' "$1" | grep -v train_loss
}
train_loss() {
	sed -n 's/^    "train_loss": \([-0-9.e]*\).*/\1/p' "$1"
}
common="--model tiny.gguf --task toy --eval-every 20 --quiet --out runs"
for m in manual calibrated icl; do
	run "$BBTBENCH" --backend native $common --method $m --experiment native
	run "$BBTBENCH" --backend openai -O url="$url" -O logprobs=39 $common --method $m \
		--experiment openai
	n=$(ls -d runs/native/$m*/) o=$(ls -d runs/openai/$m*/)
	[ $rc -eq 0 ] && [ "$(last_metrics "$o/result.json")" = "$(last_metrics "$n/result.json")" ] &&
		close "$(train_loss "$o/result.json")" "$(train_loss "$n/result.json")"
	ok $? "--method $m through openai: native's accuracies, train loss to 1e-6"
done
run "$BBTBENCH" --backend openai -O url="$url" -O logprobs=39 $common --optimizer bdpl \
	--prompt-len 2 --budget 20 --experiment bdpl
ok $rc "bdpl (discrete prompts) through openai"
calls=$(metric 'bbt_client_calls_total{client="anonymous"}')
is "$(metric 'bbt_requests_total{path="/v1/completions",code="200"}')" "$calls" \
	"every completion answered was counted once"
run "$BBTBENCH" --backend openai -O url="$url" $common --optimizer cmaes --prompt-len 5 \
	--dim 10 --budget 20 --experiment cmaes
like "$rc $err" "^2 .*openai is a text API that takes no continuous prompt.*bdpl.*--backend http" \
	"cmaes through openai: refused, saying what the backend takes"
[ ! -e runs/cmaes ]
ok $? "... before the run's folder exists"
run "$BBTBENCH" --backend openai -O url="$url" -O logprobs=1 $common --method manual \
	--experiment top1
like "$rc $err" "^[12] .*label word .* not among the 1 likeliest.*-O logprobs" \
	"a label word outside the top-k: an error that names the option"
kill -TERM $pid
wait $pid
is $? 0 "SIGTERM: exit 0"
done_testing
