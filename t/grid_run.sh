#!/bin/sh
# t/grid_run.sh - `bbtbench grid`: combinations, excludes, shards that cover a
# grid exactly once, and a grid killed part-way that resumes to the same
# results as an uninterrupted one, each run finished exactly once.
. "${top_srcdir:-.}/t/lib.sh"
plan 28

G="$top_srcdir/t/grids"

# --- combinations -------------------------------------------------------
run "$BBTBENCH" grid "$G/small.ini" --list   # options may follow the file
ok $rc "--list exits 0"
is "$(printf '%s\n' "$out" | wc -l)" 10 "3 x 2 x 2 minus the excluded pair: 10 runs"
printf '%s\n' "$out" | grep -q 'seed=3 dim=10'
is $? 1 "exclude drops seed=3 at dim=10"
printf '%s\n' "$out" | grep -q 'cmaes'
is $? 1 "options of an optimizer that does not run add no runs"
is "$(printf '%s\n' "$out" | head -1)" "0 seed=1 dim=5 optimizer.random.distribution=normal" \
	"first combination: the first value of every key"

# --- shards ---------------------------------------------------------------
for i in 1 2 3; do "$BBTBENCH" grid --list --shard $i/3 "$G/small.ini"; done >"$TMP/shards"
sort "$TMP/shards" >"$TMP/shards.sorted"
printf '%s\n' "$out" | sort >"$TMP/all.sorted"
cmp -s "$TMP/shards.sorted" "$TMP/all.sorted"
ok $? "--list of shards 1/3..3/3: every combination exactly once"
for i in 1 2 3; do
	"$BBTBENCH" grid -q --shard $i/3 --out "$TMP/sh" "$G/small.ini" >"$TMP/sh$i.out" 2>&1 || echo fail
done >"$TMP/sh.status"
is "$(cat "$TMP/sh.status")" "" "three shards into one folder all exit 0"
n=$(cat "$TMP"/sh[123].out | sed -n 's/.*: \([0-9]*\) finished, 0 skipped.*/\1/p' |
	awk '{ s += $1 } END { print s }')
is "$n" 10 "the shards finished 10 runs between them, none twice"
is "$(ls "$TMP/sh/small" | wc -l)" 10 "10 run folders under results/<grid name>/"
is "$(grep -l '"status": "finished"' "$TMP"/sh/small/*/result.json | wc -l)" 10 \
	"every run finished"
run "$BBTBENCH" grid -q --out "$TMP/sh" "$G/small.ini"
like "$out" "10 runs: 0 finished, 10 skipped" "the whole grid again: everything skipped"

# --- kill part-way, resume ---------------------------------------------------
run "$BBTBENCH" grid -q --out "$TMP/ref" "$G/slow.ini"
ok $rc "uninterrupted grid (one process) exits 0"

"$BBTBENCH" grid -q --jobs 2 --out "$TMP/k" "$G/slow.ini" >/dev/null 2>&1 &
pid=$!
finished_runs() {
	grep -l '"status": "finished"' "$TMP"/k/slow/*/result.json 2>/dev/null | sort
}
i=0
# Kill while a run is in flight: at least two finished, one under way.
while { [ "$(finished_runs | wc -l)" -lt 2 ] ||
	! ls "$TMP"/k/slow/*/trace.csv.part >/dev/null 2>&1; } && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -KILL $pid
wait $pid 2>/dev/null
sleep 0.2  # workers die with the grid (PR_SET_PDEATHSIG)
finished_runs >"$TMP/before"
nbefore=$(wc -l <"$TMP/before")
for f in $(cat "$TMP/before"); do stat -c '%i %Y' "$f"; md5sum <"$f"; done >"$TMP/before.stat"
[ "$nbefore" -ge 2 ] && [ "$nbefore" -lt 8 ]
ok $? "killed with $nbefore of 8 runs finished"
ls "$TMP"/k/slow/*/trace.csv.part >/dev/null 2>&1
ok $? "the kill left incomplete runs behind"

run "$BBTBENCH" grid -q --jobs 2 --out "$TMP/k" "$G/slow.ini"
ok $rc "the same command again exits 0"
like "$out" "8 runs: $((8 - nbefore)) finished, $nbefore skipped" \
	"resume: finished runs skipped, the rest run"
for f in $(cat "$TMP/before"); do stat -c '%i %Y' "$f"; md5sum <"$f"; done >"$TMP/after.stat"
cmp -s "$TMP/before.stat" "$TMP/after.stat"
ok $? "runs finished before the kill were not rewritten"
is "$(finished_runs | wc -l)" 8 "all 8 runs finished"
ls "$TMP"/k/slow/*/*.part "$TMP"/k/slow/*/*.tmp.* >/dev/null 2>&1
is $? 2 "no partial files left"
same=0
for d in "$TMP"/ref/slow/*/; do
	id=$(basename "$d")
	cut -d, -f1-5 "$d/trace.csv" >"$TMP/t1"
	cut -d, -f1-5 "$TMP/k/slow/$id/trace.csv" >"$TMP/t2" 2>/dev/null
	sed -n '/"metrics"/,/}/p' "$d/result.json" >"$TMP/m1"
	sed -n '/"metrics"/,/}/p' "$TMP/k/slow/$id/result.json" >"$TMP/m2" 2>/dev/null
	[ -s "$TMP/m1" ] && cmp -s "$TMP/t1" "$TMP/t2" && cmp -s "$TMP/m1" "$TMP/m2" && same=$((same + 1))
done
is "$same" 8 "killed + resumed with 2 workers = uninterrupted in one process (traces, metrics)"

# Ctrl-C: the grid stops, says how to resume, and resuming completes it.
"$BBTBENCH" grid -q --jobs 2 --out "$TMP/c" "$G/slow.ini" >"$TMP/c.out" 2>"$TMP/c.err" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
is $? 1 "interrupted grid exits 1"
like "$(cat "$TMP/c.err")" "interrupted; run the same command again to resume" "and says so"
run "$BBTBENCH" grid -q --jobs 2 --out "$TMP/c" "$G/slow.ini"
like "$out" "8 runs: .* 0 failed, 0 interrupted" "resuming completes the grid"

# Ctrl-C in a terminal signals the whole foreground process group: the
# workers, in groups of their own, get it once (from the grid) and save
# their runs as interrupted instead of dying on a second signal.
if command -v setsid >/dev/null 2>&1; then
	setsid "$BBTBENCH" grid -q --jobs 2 --out "$TMP/g" "$G/slow.ini" >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	kill -INT -$pid
	wait $pid
	is $? 1 "Ctrl-C to the process group: exit 1"
	ls "$TMP"/g/slow/*/trace.csv.part >/dev/null 2>&1
	is $? 2 "every run in flight saved what it did (no partial trace left)"
else
	skip "setsid not installed"
	skip "setsid not installed"
fi

# --- errors -------------------------------------------------------------------
printf '[grid]\nseed = 1, 2\nwidth = 3\n[run]\ntask = toy\n' >"$TMP/bad.ini"
run "$BBTBENCH" grid "$TMP/bad.ini"
is "$rc" 2 "unknown grid key: exit 2"
like "$err" "bad.ini:3: grid key 'width'" "names the file, line and key"
printf '[grid]\ndim = 5, ten\n' >"$TMP/bad2.ini"
run "$BBTBENCH" grid "$TMP/bad2.ini"
like "$err" "bad2.ini:2: dim 'ten': expected an integer" "a bad value is caught before any run"
done_testing
