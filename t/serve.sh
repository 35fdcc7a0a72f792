#!/bin/bash
# t/serve.sh - `bbtbench serve` and the http backend, on loopback only:
# the same run through --backend http and in-process --backend native is
# bit-identical (trace without wall_s, metrics, tokens scored); bad
# requests get a 4xx and one line, and the server keeps serving; bearer
# tokens; the idempotency cache; clients that meet a full queue (503) retry
# and still get identical results; SIGTERM exits 0. Raw requests go through
# bash's /dev/tcp, so no HTTP client program is needed. Skips when serve,
# the http or the native backend is not built.
. "${top_srcdir:-.}/t/lib.sh"

. "${top_srcdir:-.}/t/serve_lib.sh"
plan 42

# --- a server and the same run through it and in-process
start plain --timeout 5
[ -n "$url" ]
ok $? "serve listens on a free loopback port and writes its URL ($url)"
request GET /health
is "$status" 200 "GET /health"
request GET /v1/info
like "$resp" '"protocol": 1' "/v1/info: protocol version 1"
sha=$(sha256sum tiny.gguf | cut -d' ' -f1)
like "$resp" "\"sha256\": \"$sha\"" "/v1/info: the model file's SHA-256"

common="--model tiny.gguf --task toy --dim 10 --prompt-len 5 --eval-every 20 --quiet --out runs"
tune="--optimizer cmaes --budget 60"
run "$BBTBENCH" --backend native $common $tune --experiment native
ok $rc "in-process native run"
run "$BBTBENCH" --backend http -O url="$url" $common $tune --experiment http
ok $rc "the same run through --backend http"
[ $rc -eq 0 ] || printf '# %s\n' "$err" >&2
n=$(ls -d runs/native/*/) h=$(ls -d runs/http/*/)
is "$(trace_sum "$h/trace.csv")" "$(trace_sum "$n/trace.csv")" "http: trace.csv bit-identical but wall_s"
is "$(metrics "$h/result.json")" "$(metrics "$n/result.json")" "http: identical metrics"
is "$(metric 'bbt_client_tokens_scored_total{client="anonymous"}')" \
	"$(tokens_scored "$h/result.json")" "the server counted the tokens the run scored"
calls=$(metric 'bbt_client_calls_total{client="anonymous"}')
is "$(metric 'bbt_requests_total{path="/v1/score",code="200"}')" "$calls" \
	"every score answered was counted once"
run "$BBTBENCH" --backend native $common --method manual --experiment native
run "$BBTBENCH" --backend http -O url="$url" $common --method manual --experiment http
ok $rc "manual baseline (no prompt) through http"
n=$(ls -d runs/native/manual*/) h=$(ls -d runs/http/manual*/)
is "$(metrics "$h/result.json")" "$(metrics "$n/result.json")" "manual baseline: identical metrics"

# --- bad requests: 4xx with one line, and the server keeps serving
request GET /nope
is "$status" 404 "unknown path: 404"
like "$(reason)" "no such path" "... with a reason"
request GET /v1/score
is "$status" 405 "GET on /v1/score: 405"
printf '{"text": ' >bad.json
request POST /v1/tokenize bad.json
is "$status" 400 "malformed JSON: 400"
like "$(reason)" "tokenize: " "... with the parser's reason"
meta='{"n_variants":1,"prompt_len":5,"prompt_layers":1,"prompts":true,"hidden":32,"label_ids":[5,6],"ids":[2,10,4,3],"offset":[0,4],"predict_pos":[2],"prompt_pos":[1]}'
score_body ok.bin "$meta" 640
request POST /v1/score ok.bin
is "$status" 200 "a hand-made score request: 200"
like "$resp" "X-BBT-Tokens-Scored: 9" "... that counts 4 + 5 positions"
score_body short.bin "$meta" 636
request POST /v1/score short.bin
is "$status" 400 "prompts shorter than the metadata declares: 400"
like "$(reason)" "636 bytes of prompts.*declares 640" "... saying both sizes"
score_body long.bin "$meta" 640 3
request POST /v1/score long.bin
is "$status" 400 "a body longer than declared: 400"
score_body wide.bin "${meta/\"hidden\":32/\"hidden\":64}" 640
request POST /v1/score wide.bin
like "$status $(reason)" "^400 .*hidden size 64" "wrong hidden size: 400 with the reason"
score_body oob.bin "${meta/\"predict_pos\":\[2\]/\"predict_pos\":[9]}" 640
request POST /v1/score oob.bin
like "$status $(reason)" "^400 .*predict_pos 9" "predict_pos outside the sequence: 400"
# Content-Length says more than comes: the connection times out, nothing else
printf 'POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc' >trunc.bin
(raw trunc.bin >/dev/null 2>&1 &)
printf 'POST /v1/tokenize HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 99999999999\r\n\r\n' >huge.bin
resp=$(raw huge.bin | tr -d '\r')
like "$resp" "^HTTP/1.1 413" "a body over --max-body: 413 before it is read"
request GET /health
is "$status" 200 "after all that, the server still answers"

# --- idempotency: a retried call is answered from the cache, not rescored
before=$(metric 'bbt_client_calls_total{client="anonymous"}')
request POST /v1/score ok.bin "Idempotency-Key: t-1"
first=$resp
request POST /v1/score ok.bin "Idempotency-Key: t-1"
like "$resp" "X-BBT-Replayed: 1" "the same Idempotency-Key again: replayed"
is "$(printf '%s\n' "$resp" | tail -n 1)" "$(printf '%s\n' "$first" | tail -n 1)" \
	"... with the same logits"
is "$(metric 'bbt_client_calls_total{client="anonymous"}')" $((before + 1)) "... and counted once"
request POST /v1/score long.bin "Idempotency-Key: t-1"
is "$status" 409 "the same key for another body: 409"

# --- SIGTERM
kill -TERM $pid
wait $pid
is $? 0 "SIGTERM: the server exits 0"
like "$(cat plain.log)" "stopped: " "... after saying what it served"

# --- tokens, and the address rule
printf '# tokens\nsecret-one\nsecret-two\n' >tokens
chmod 600 tokens
printf 'secret-two\n' >client.token
start auth --token-file tokens
request GET /v1/info
is "$status" 401 "with --token-file, no token: 401"
request GET /v1/info /dev/null "Authorization: Bearer secret-on"
is "$status" 401 "a wrong token: 401"
auth="Authorization: Bearer secret-two"
request GET /v1/info /dev/null "$auth"
is "$status" 200 "a listed token: 200"
run "$BBTBENCH" --backend http -O url="$url" -O token_file=client.token $common --method manual \
	--experiment auth
ok $rc "an http run with -O token_file"
like "$(metric 'bbt_client_calls_total{client="2"}') $(metric 'bbt_client_calls_total{client="1"}')" \
	'^[1-9][0-9]* 0$' "counted for the second token, not the first"
auth=
kill -TERM $pid
wait $pid
run "$BBTBENCH" serve --model tiny.gguf --listen 0.0.0.0:0
like "$rc $err" "^2 .*not a loopback address.*--token-file" \
	"a non-loopback address without --token-file is refused, in one line"

# --- three clients on one worker and no queue: 503s, retries, same results
start busy --threads 1 --queue 0
for i in 1 2 3; do
	"$BBTBENCH" --backend http -O url="$url" -O backoff=0.01 $common $tune --experiment "c$i" \
		>"c$i.out" 2>"c$i.err" &
	eval "c$i=\$!"
done
fails=0
for i in 1 2 3; do
	eval "wait \$c$i" || fails=$((fails + 1))
done
is $fails 0 "three concurrent clients all finish"
n=$(ls -d runs/native/cmaes*/)
same=0
for i in 1 2 3; do
	[ "$(trace_sum runs/c$i/*/trace.csv)" = "$(trace_sum "$n/trace.csv")" ] && same=$((same + 1))
done
is $same 3 "... each with the in-process trace"
refused=$(metric 'bbt_requests_total{path="/v1/score",code="503"}')
diag_refused=${refused:-0}
echo "# 503s answered to the concurrent clients: $diag_refused"
calls=$(metric 'bbt_client_calls_total{client="anonymous"}')
is "$(metric 'bbt_requests_total{path="/v1/score",code="200"}')" "$calls" \
	"... and no call scored twice"
kill -TERM $pid
wait $pid
is $? 0 "SIGTERM after the load: exit 0"
done_testing
