#!/bin/sh
# t/rundir.sh - the run folder's lifecycle: a --force rerun keeps the
# finished run's files until its own result.json replaces them (a rerun
# killed with SIGKILL leaves them intact), and a run folder in use by one
# process is refused to a second one and skipped by a grid.
. "${top_srcdir:-.}/t/lib.sh"
plan 15

# run_bg OUT BUDGET [ARGS]: a run in the background, $bg its pid, once its
# trace has begun (the run is under way, its folder locked).
run_bg() {
	o=$1 b=$2
	shift 2
	"$BBTBENCH" --optimizer random --backend synthetic --task toy --seed 1 --budget "$b" \
		--popsize 20 --quiet --out "$o" --experiment e "$@" >"$TMP/bg.out" 2>"$TMP/bg.err" &
	bg=$!
	i=0
	while ! ls "$o"/e/*/trace.csv.part >/dev/null 2>&1 && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
# A run slow enough (about a second) to be killed part-way.
demo() {
	"$BBTBENCH" --optimizer random --backend synthetic --task toy --seed 1 --budget 10000 \
		--popsize 20 --quiet --out "$TMP/f" --experiment e "$@"
}

# --force: the finished run survives a rerun killed part-way.
run demo
ok $rc "a finished run"
dir=$(ls -d "$TMP"/f/e/*/)
cp "$dir/result.json" "$TMP/result.before"
cp "$dir/trace.csv" "$TMP/trace.before"
run_bg "$TMP/f" 10000 --force
kill -KILL $bg
wait $bg 2>/dev/null
cmp -s "$dir/result.json" "$TMP/result.before"
ok $? "--force rerun killed with SIGKILL: result.json intact"
cmp -s "$dir/trace.csv" "$TMP/trace.before"
ok $? "--force rerun killed with SIGKILL: trace.csv intact"
run demo
like "$out" "already finished" "the folder still counts as finished"

# A --force rerun stopped by Ctrl-C (or one that fails) replaces nothing:
# the finished result stays, and the rerun says so.
rm -f "$dir/trace.csv.part"   # the killed rerun's, which run_bg waits for
run_bg "$TMP/f" 10000 --force
kill -INT $bg
wait $bg
is $? 1 "--force rerun interrupted: exit 1"
cmp -s "$dir/result.json" "$TMP/result.before" && cmp -s "$dir/trace.csv" "$TMP/trace.before"
ok $? "--force rerun interrupted: the finished result.json and trace.csv are kept"
like "$(cat "$TMP/bg.err")" "earlier finished result is kept" "and the rerun says so"

# A completed --force rerun replaces both files.
sed -i 's/"status": "finished",/"status": "finished", "old": true,/' "$dir/result.json"
echo "old,row" >>"$dir/trace.csv"
run demo --force
ok $rc "--force rerun completes"
grep -q '"old"' "$dir/result.json"
is $? 1 "its result.json replaced the old one"
grep -q 'old,row' "$dir/trace.csv"
is $? 1 "its trace.csv replaced the old one"

# Two processes on one run folder: the second is refused, a grid skips it.
run_bg "$TMP/l" 100000000
# (timeout: without the lock these would run the whole budget)
run timeout 60 "$BBTBENCH" --optimizer random --backend synthetic --task toy --seed 1 --budget 100000000 \
	--popsize 20 --quiet --out "$TMP/l" --experiment e --force
is "$rc" 1 "a second process on the same run folder exits 1"
like "$err" "run in progress \\(pid $bg\\)" "and says which process holds it"
printf '[grid]\nseed = 1\n\n[run]\noptimizer = random\nbackend = synthetic\ntask = toy\nbudget = 100000000\npopsize = 20\n' >"$TMP/e.ini"
run timeout 60 "$BBTBENCH" grid -q --force --out "$TMP/l" "$TMP/e.ini"
is "$rc" 0 "a grid over the locked run exits 0"
like "$out" "1 runs?: 0 finished, 1 skipped" "and skips it"
kill -INT $bg
wait $bg
is "$?" 1 "the first process, interrupted, saved its run"
done_testing
