#!/bin/bash
# bench/serve.sh - what serving costs (make bench):
#
#   per-call overhead  the same BBT run (cmaes, popsize 20, --prompt-len 50,
#                      --dim 500, SST-2 k-shot 16-42: 32 shots) on the
#                      shared BERT, in-process (--backend native) and
#                      through a local `bbtbench serve` (--backend http),
#                      seconds per API call from trace.csv's wall_s (from
#                      the first generation's end to the last's, so
#                      loading is left out), best of BBT_BENCH_REPEAT (3)
#                      alternating runs; the target is <= 10 %;
#   requests/s         t/serve_load's 16 clients x 200 small score
#                      requests on the tiny test model (the server's own
#                      cost: HTTP, parsing, the queue), on 2 workers.
#
# Skips the first without ../shared (BBT_SHARED_DIR). The machine's load
# average is printed beside the figures: they are wall times.
set -u
BBTBENCH=${BBTBENCH:-./bbtbench}
top_srcdir=${top_srcdir:-.}
top_builddir=$(cd "$(dirname "$BBTBENCH")" && pwd)
shared=${BBT_SHARED_DIR:-$top_srcdir/../shared}
repeat=${BBT_BENCH_REPEAT:-3}
if ! "$BBTBENCH" serve --help 2>/dev/null | grep -q -- --listen ||
	"$BBTBENCH" serve --help | grep -q "has no serve" ||
	! "$BBTBENCH" list 2>/dev/null | grep -q "backend  *http "; then
	echo "serve: skipped (bbtbench serve or the http backend is not built)"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bbt-bench-serve.XXXXXX") || exit 1
pids=
trap 'for p in $pids; do kill -TERM "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# serve MODEL ARGS...: a server on a free loopback port; sets url, port, pid
serve() {
	rm -f "$tmp/ready"
	"$BBTBENCH" serve --model "$@" --listen 127.0.0.1:0 --ready-file "$tmp/ready" -q &
	pid=$!
	pids="$pids $pid"
	for _ in $(seq 600); do
		[ -s "$tmp/ready" ] && break
		sleep 0.1
	done
	url=$(cat "$tmp/ready")
	port=${url##*:}
}
# seconds per call of a run's trace: (wall_s at the last call - at the
# first generation's last call) / the calls between
per_call() {
	awk -F, 'NR == 2 { b = $2 } NR > 1 && $2 == b { c0 = $1; w0 = $6 }
		NR > 1 { c = $1; w = $6 } END { printf "%.6f", (w - w0) / (c - c0) }' "$1"
}
load() { cut -d' ' -f1 /proc/loadavg; }

model_dir="$shared/models/bert-l8-h128-reviews"
if [ ! -f "$model_dir/model.safetensors" ] || [ ! -d "$shared/tasks/k-shot/SST-2" ]; then
	echo "per-call overhead: skipped (no shared model or SST-2 data under $shared)"
else
	"$BBTBENCH" convert "$model_dir" -o "$tmp/bert.gguf" -q || exit 1
	serve "$tmp/bert.gguf"
	args="--model $tmp/bert.gguf --task sst2 --data-dir $shared/tasks --split-source kshot"
	args="$args --seed 42 --optimizer cmaes --popsize 20 --prompt-len 50 --dim 500"
	args="$args --budget 200 --eval-every 200 --quiet --out $tmp/runs --force"
	best_n= best_h=
	for i in $(seq "$repeat"); do
		"$BBTBENCH" --backend native $args --experiment native >/dev/null || exit 1
		"$BBTBENCH" --backend http -O url="$url" $args --experiment http >/dev/null || exit 1
		n=$(per_call "$tmp"/runs/native/*/trace.csv)
		h=$(per_call "$tmp"/runs/http/*/trace.csv)
		best_n=$(awk -v a="$n" -v b="${best_n:-$n}" 'BEGIN { print (a < b ? a : b) }')
		best_h=$(awk -v a="$h" -v b="${best_h:-$h}" 'BEGIN { print (a < b ? a : b) }')
		echo "  run $i: native $(awk -v x="$n" 'BEGIN { printf "%.2f", 1e3 * x }') ms," \
			"http $(awk -v x="$h" 'BEGIN { printf "%.2f", 1e3 * x }') ms per call" \
			"(load average $(load))"
	done
	t=$(ls "$tmp"/runs/http/*/trace.csv)
	bytes=$(awk -F, 'NR > 1 { s += $7; r += $8; n++ } END { printf "%.0f B sent, %.0f B received", s / n, r / n }' "$t")
	awk -v n="$best_n" -v h="$best_h" -v b="$bytes" 'BEGIN {
		printf "per-call overhead (BERT, popsize 20, 32 shots, P 50): native %.2f ms, http %.2f ms: %+.1f %% (target <= 10 %%); per call %s\n",
			1e3 * n, 1e3 * h, 100 * (h - n) / n, b }'
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
fi

if [ -x "$top_builddir/t/serve_load" ] && [ -x "$top_builddir/t/tiny_gguf" ]; then
	"$top_builddir/t/tiny_gguf" "$tmp/tiny.gguf" >/dev/null || exit 1
	serve "$tmp/tiny.gguf" --threads 2 --queue 64
	meta='{"n_variants":1,"prompt_len":5,"prompt_layers":1,"prompts":true,"hidden":32,"label_ids":[5,6],"ids":[2,10,4,3],"offset":[0,4],"predict_pos":[2],"prompt_pos":[1]}'
	n=${#meta}
	{
		printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((n & 255)) $((n >> 8 & 255)) 0 0)"
		printf '%s' "$meta"
		head -c 640 /dev/zero
	} >"$tmp/req.bin"
	t0=$(date +%s.%N)
	out=$("$top_builddir/t/serve_load" "$port" 16 200 "$tmp/req.bin" load)
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v o="$out" -v l="$(load)" 'BEGIN {
		printf "server: 3200 score requests (16 clients, tiny model, 2 workers) in %.2f s: %.0f requests/s (%s; load average %s)\n",
			b - a, 3200 / (b - a), o, l }'
else
	echo "requests/s: skipped (make check builds t/serve_load and t/tiny_gguf)"
fi
