#!/bin/bash
# t/serve_scale.sh - the http backend beyond one server, on loopback only:
# replicas (-O url=A,B) share each generation's candidates, in a fixed
# order, so that a run is the one-server run (bit for bit on a backend
# whose scores do not depend on the batch, as synthetic; to float
# rounding on native, whose BLAS rounds small blocks otherwise); replicas
# of different models are refused; trace.csv's bytes and latency columns
# and result.json's totals and model hash; quotas (429, not retried).
# Skips when serve, the http, native or synthetic backend is not built.
. "${top_srcdir:-.}/t/lib.sh"
SERVE_BACKENDS="http native synthetic"
. "${top_srcdir:-.}/t/serve_lib.sh"
plan 20

calls() { metric 'bbt_client_calls_total{client="anonymous"}'; }

# --- replicas of the synthetic backend: bit-identical
syn="--task toy --dim 10 --prompt-len 5 --eval-every 20 --quiet --out runs --optimizer cmaes"
syn="$syn --budget 60"
serve_model= start sa --backend synthetic
ua=$url pa=$pid porta=$port
serve_model= start sb --backend synthetic
ub=$url pb=$pid portb=$port
run "$BBTBENCH" --backend synthetic $syn --experiment syn
run "$BBTBENCH" --backend http -O url="$ua,$ub" $syn --experiment syn2
ok $rc "a run on two replicas (-O url=A,B)"
n=$(ls -d runs/syn/*/) h=$(ls -d runs/syn2/*/)
is "$(trace_sum "$h/trace.csv")" "$(trace_sum "$n/trace.csv")" \
	"synthetic on two replicas: trace.csv bit-identical to in-process"
is "$(metrics "$h/result.json")" "$(metrics "$n/result.json")" "... and the metrics"
port=$porta ca=$(calls)
port=$portb cb=$(calls)
[ "${ca:-0}" -gt 0 ] && [ "${cb:-0}" -gt 0 ]
ok $? "both replicas scored ($ca and $cb calls)"
like "$(transport server "$h/result.json")" "^$ua,$ub\$" "result.json names both servers"

# --- trace.csv's transport columns, result.json's totals
is "$(head -1 "$h/trace.csv")" \
	"call,batch,loss,best_loss,dev_metric,wall_s,bytes_sent,bytes_received,latency_ms" \
	"http: bytes_sent, bytes_received, latency_ms appended at the end of trace.csv"
is "$(head -1 "$n/trace.csv")" "call,batch,loss,best_loss,dev_metric,wall_s" \
	"in-process: no transport columns"
sum_sent=$(awk -F, 'NR > 1 { s += $7 } END { print s }' "$h/trace.csv")
tot_sent=$(transport bytes_sent "$h/result.json")
[ "$sum_sent" -gt 0 ] && [ "$sum_sent" -lt "$tot_sent" ]
ok $? "the calls' bytes ($sum_sent) are part of the run's total ($tot_sent, with evaluations)"
awk -F, 'NR > 1 && !($9 > 0) { exit 1 }' "$h/trace.csv"
ok $? "every call has a latency"
is "$(transport retries "$h/result.json")" 0 "result.json: no retries"

# a replica of another model: refused
start nat
un=$url pn=$pid portn=$port
run "$BBTBENCH" --backend http -O url="$ua,$un" $syn --experiment mixed
like "$rc $err" "^2 .*replica $un serves tiny.gguf .*replicas must hold the same model" \
	"replicas of different models: refused in one line"
kill -TERM $pa $pb
wait $pa $pb

# --- native replicas: the same run but for float rounding
start nb
ub=$url pb=$pid
common="--model tiny.gguf --task toy --dim 10 --prompt-len 5 --eval-every 20 --quiet --out runs"
common="$common --optimizer cmaes --budget 60"
run "$BBTBENCH" --backend native $common --experiment nat
run "$BBTBENCH" --backend http -O url="$un,$ub" $common --experiment nat2
ok $rc "native on two replicas"
n=$(ls -d runs/nat/*/) h=$(ls -d runs/nat2/*/)
paste -d, "$n/trace.csv" "$h/trace.csv" | awk -F, 'NR > 1 {
	d = $3 - $9; if (d < 0) d = -d; if (d > 1e-6 * ($3 < 0 ? -$3 : $3)) exit 1 }'
ok $? "... every call's loss the in-process one's to 1e-6"
sha=$(sha256sum tiny.gguf | cut -d' ' -f1)
is "$(transport model_sha256 "$h/result.json")" "$sha" "result.json: the served model's SHA-256"
is "$(transport model "$h/result.json")" tiny.gguf "... and its file"
kill -TERM $pn $pb
wait $pn $pb

# --- quotas: 429 with the reason, counted, not retried
start quota --quota calls=5
run "$BBTBENCH" --backend http -O url="$url" $common --experiment quota
like "$rc $err" "^1 .*429 quota spent: the anonymous client has made its 5 calls \(--quota calls=5\) \(not retried\)" \
	"a spent quota: the run stops with the server's reason, not retried"
is "$(calls)" 5 "the server scored 5 calls"
is "$(metric 'bbt_client_quota_refused_total{client="anonymous"}')" 1 \
	"/metrics counts the refusal by client"
is "$(metric 'bbt_requests_total{path="/v1/score",code="429"}') $(metric bbt_quota_calls)" "1 5" \
	"... and by status, with the quota"
kill -TERM $pid
wait $pid
run "$BBTBENCH" serve --model tiny.gguf --quota calls=x
like "$rc $err" "^2 .*--quota calls=x: expected calls=N or tokens=N" "a bad --quota: one line"
done_testing
