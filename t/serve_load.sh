#!/bin/bash
# t/serve_load.sh - `bbtbench serve` under load, on loopback, bounded to
# seconds: 16 concurrent clients x 200 score requests (t/serve_load) on 2
# workers and a queue of 8, so that some are refused: every request is
# answered 200 or refused 503, a retried key is replayed with the same
# logits and scored once, the server's counters equal the requests made,
# its memory stays flat; clients killed mid-request leave no wedged
# worker; and a server restarted in the middle of a `--backend http` run
# is retried through, the run equal to the in-process one.
. "${top_srcdir:-.}/t/lib.sh"

. "${top_srcdir:-.}/t/serve_lib.sh"
plan 17
LOAD="$top_builddir/t/serve_load"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

start load --threads 2 --queue 8 --timeout 5
[ -n "$url" ]
ok $? "serve listens ($url)"
meta='{"n_variants":1,"prompt_len":5,"prompt_layers":1,"prompts":true,"hidden":32,"label_ids":[5,6],"ids":[2,10,4,3],"offset":[0,4],"predict_pos":[2],"prompt_pos":[1]}'
score_body ok.bin "$meta" 640

# a warm-up, so that RSS before counts the threads' arenas and the cache
"$LOAD" "$port" 16 10 ok.bin load >warm.out
before=$(rss $pid)
calls0=$(metric 'bbt_client_calls_total{client="anonymous"}')
ok200=$(metric 'bbt_requests_total{path="/v1/score",code="200"}')
no503=$(metric 'bbt_requests_total{path="/v1/score",code="503"}')
replays0=$(metric bbt_idempotent_replays_total)
t0=$(date +%s.%N)
"$LOAD" "$port" 16 200 ok.bin load >load.out
ok $? "16 clients x 200 requests: each answered 200 or 503, every replay as first answered"
t1=$(date +%s.%N)
after=$(rss $pid)
read -r _ n _ fresh _ replayed _ refused _ other _ unanswered _ _ <load.out
echo "# $(cat load.out) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s" \
	"($(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.0f", n / (b - a) }') requests/s," \
	"load average $(cut -d' ' -f1 /proc/loadavg))"
is $((fresh + replayed + refused)) 3200 "3200 requests, each answered or refused with a status"
[ "$replayed" -gt 0 ]
ok $? "retried keys were answered from the cache ($replayed)"
is $(($(metric 'bbt_client_calls_total{client="anonymous"}') - calls0)) "$fresh" \
	"the server scored exactly the fresh 200s: nothing twice"
is $(($(metric bbt_idempotent_replays_total) - replays0)) "$replayed" "... and counted the replays"
is $(($(metric 'bbt_requests_total{path="/v1/score",code="200"}') - ${ok200:-0})) \
	$((fresh + replayed)) "its 200s are the clients' 200s"
is $(($(metric 'bbt_requests_total{path="/v1/score",code="503"}') - ${no503:-0})) "$refused" \
	"its 503s are the clients' refusals ($refused)"
echo "# VmRSS ${before} kB before, ${after} kB after"
case "${BBT_BUILD_CFLAGS-}" in
*-fsanitize=*)   # AddressSanitizer's quarantine holds freed memory: RSS grows by design
	skip "server memory flat: not measurable under sanitizers (grew $((after - before)) kB)" ;;
*)
	[ $((after - before)) -lt 16384 ]
	ok $? "server memory flat: grew $((after - before)) kB (< 16 MB)" ;;
esac

# clients killed mid-request: no wedged worker, nothing leaked
"$LOAD" "$port" 16 20 ok.bin abort >abort.out
like "$(cat abort.out)" "aborted 320" "320 clients gave up mid-request"
"$LOAD" "$port" 4 10 ok.bin load >after.out
ok $? "then 40 more requests all answered"
like "$(cat after.out)" " unanswered 0 " "... none unanswered"
for _ in $(seq 50); do   # the aborted bodies time out (--timeout 5) at the latest
	[ "$(metric bbt_queue_depth)" = 0 ] && [ "$(metric bbt_in_flight)" = 1 ] && break
	sleep 0.2
done
is "$(metric bbt_queue_depth) $(metric bbt_in_flight)" "0 1" \
	"no request waits and none is stuck (only this /metrics in flight)"
kill -TERM $pid
wait $pid
is $? 0 "SIGTERM after the load: exit 0"

# a server restarted in the middle of a run: the run retries through it
common="--model tiny.gguf --task toy --dim 10 --prompt-len 5 --eval-every 50 --quiet --out runs"
tune="--optimizer cmaes --budget 600"
run "$BBTBENCH" --backend native $common $tune --experiment native
start first
first_port=$port
"$BBTBENCH" --backend http -O url="$url" -O backoff=0.05 -O retries=30 $common $tune \
	--experiment restarted >run.out 2>run.err &
client=$!
for _ in $(seq 300); do   # until the run is well under way
	c=$(metric 'bbt_client_calls_total{client="anonymous"}')
	[ "${c:-0}" -ge 20 ] && break
	sleep 0.05
done
old_calls=$(metric 'bbt_client_calls_total{client="anonymous"}')
kill -TERM $pid
wait $pid
sleep 0.5   # the client meets a closed port and retries
start second --listen "127.0.0.1:$first_port"
wait $client
ok $? "the run went through the restart (its server answered $old_calls calls before it)"
new_calls=$(metric 'bbt_client_calls_total{client="anonymous"}')
n=$(ls -d runs/native/*/) h=$(ls -d runs/restarted/*/)
is "$(trace_sum "$h/trace.csv")" "$(trace_sum "$n/trace.csv")" \
	"... its trace equal to the in-process run's: no call lost or counted twice"
retries=$(transport retries "$h/result.json")
echo "# calls before the restart $old_calls, after $new_calls; the run retried $retries times"
[ "${retries:-0}" -gt 0 ] && [ "$new_calls" -gt 0 ]
ok $? "... through retries, onto the restarted server"
kill -TERM $pid
wait $pid
done_testing
