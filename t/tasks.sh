#!/bin/sh
# t/tasks.sh - the seven tasks on the real data in ../shared/tasks (skipped
# without it): `bbtbench tasks` reports what is there, and a short run
# completes on every task that has a test set.
. "${top_srcdir:-.}/t/lib.sh"
data="${BBT_SHARED_DIR:-$top_srcdir/../shared}/tasks"
if [ ! -d "$data" ]; then
	echo "1..0 # SKIP no real task data at $data"
	exit 0
fi
plan 20

run "$BBTBENCH" tasks --data-dir "$data"
ok $rc "tasks exits 0"
like "$out" "sst2 +ready" "sst2 ready"
like "$out" "sampled from SST-2/train.tsv \\(67349 rows\\)" "SST-2 train rows counted"
like "$out" "SST-2/dev.tsv \\(872 rows\\)" "SST-2 test rows counted"
like "$out" "RTE/dev.tsv \\(277 rows\\)" "RTE test rows"
like "$out" "MRPC/dev.tsv \\(408 rows\\)" "MRPC test rows"
like "$out" "snli_1.0_dev.jsonl \\(9842 rows\\)" "SNLI test rows"
like "$out" "ag_news_csv/test.csv \\(7600 rows\\)" "AG News test rows"
like "$out" "k-shot/SST-2: 16-shot seeds 13 21 42 87 100" "k-shot seeds listed"
like "$out" "yelp_review_polarity_csv/test.csv: no such file \\(expected RFC 4180 CSV" \
	"a missing file is named with its expected format"

for task in sst2 rte mrpc snli agnews; do
	run "$BBTBENCH" --optimizer random --backend synthetic --task $task --data-dir "$data" \
		--budget 40 --dim 20 --prompt-len 5 --out "$TMP/res" --quiet --json
	ok $rc "$task: a short run completes"
	like "$out" '"status": "finished"' "$task: result.json written"
done
done_testing
