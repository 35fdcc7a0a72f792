#!/bin/sh
# t/e2e.sh - the whole pipeline from the command line: the README's demo
# run writes a complete result folder, twice identically, and Ctrl-C
# leaves a valid partial trace and no corrupt files.
. "${top_srcdir:-.}/t/lib.sh"
plan 19

demo() {
	"$BBTBENCH" --optimizer random --backend synthetic --task toy --budget 200 --seed 1 \
		--quiet --out "$1"
}
run demo "$TMP/a"
ok $rc "demo run exits 0"
dir=$(ls -d "$TMP"/a/toy/*/)
for f in config.ini trace.csv result.json; do
	[ -s "$dir/$f" ]
	ok $? "result folder holds $f"
done
is "$(wc -l <"$dir/trace.csv")" 201 "trace: header and 200 calls"
like "$(cat "$dir/result.json")" '"status": "finished"' "result.json says finished"
ls "$dir" | grep -q '\.part$\|\.tmp\.'
is $? 1 "no temporary files left"

run demo "$TMP/b"
dir2=$(ls -d "$TMP"/b/toy/*/)
is "$(basename "$dir")" "$(basename "$dir2")" "same settings, same run id"
cut -d, -f1-5 "$dir/trace.csv" >"$TMP/t1"
cut -d, -f1-5 "$dir2/trace.csv" >"$TMP/t2"
cmp -s "$TMP/t1" "$TMP/t2"
ok $? "second run: identical trace (wall time aside)"
sed -n '/"metrics"/,/}/p' "$dir/result.json" >"$TMP/m1"
sed -n '/"metrics"/,/}/p' "$dir2/result.json" >"$TMP/m2"
[ -s "$TMP/m1" ] && cmp -s "$TMP/m1" "$TMP/m2"
ok $? "second run: identical result.json metrics"
# What "the same build" must also hold for bit-for-bit results: the BLAS
# kernels OpenBLAS picked for this CPU, and the thread counts.
blas=$(sed -n '/"blas"/,/}/p' "$dir/result.json")
like "$blas" '"config": "OpenBLAS [0-9.]+' "result.json records the BLAS library and version"
like "$blas" '"core": "[A-Za-z0-9]+"' "and the kernels' core name"
like "$blas" '"threads": [1-9]' "and its thread count"

# Interrupt a long run: it saves what it has and says so.
"$BBTBENCH" --optimizer random --backend synthetic --task toy --budget 100000000 \
	--popsize 20 --quiet --out "$TMP/c" >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
is "$rc" 1 "interrupted run exits 1"
dir3=$(ls -d "$TMP"/c/toy/*/)
like "$(cat "$dir3/result.json")" '"status": "interrupted"' "result.json says interrupted"
awk -F, 'NR > 1 && NF != 6 { bad = 1 } END { exit bad || NR < 2 }' "$dir3/trace.csv"
ok $? "the partial trace is complete CSV, row by row"

# Scoring a large test set (SNLI's is 9,842 rows) shows progress, so the
# run does not look hung; --quiet silences it.
mkdir -p "$TMP/data/SST-2"
awk 'BEGIN { print "sentence\tlabel"; for (i = 0; i < 3000; i++)
	printf "%s movie number %d\t%d\n", i % 2 ? "a great" : "a bad", i, i % 2 }' \
	>"$TMP/data/SST-2/dev.tsv"
head -n 201 "$TMP/data/SST-2/dev.tsv" >"$TMP/data/SST-2/train.tsv"
big() {
	"$BBTBENCH" --method manual --backend synthetic --task sst2 --data-dir "$TMP/data" \
		--out "$TMP/big" --force "$@"
}
run big
ok $rc "a manual baseline on a 3,000-row test set"
like "$err" "scoring test: [0-9]+/3000 examples" "shows its progress through the test set"
run big --quiet
is "$err" "" "--quiet: no progress"
done_testing
