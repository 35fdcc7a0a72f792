#!/bin/sh
# t/grid_log.sh - what a grid says while it runs and what it keeps: an ETA
# from the first progress on (also after a resume), one line per event on
# the grid's stderr (no run's own progress lines interleaved), and a run.log
# in every run folder, appended per attempt so that a --force rerun keeps
# the earlier attempt's log.
. "${top_srcdir:-.}/t/lib.sh"
plan 18

G="$top_srcdir/t/grids"
ETA='ETA [0-9]+(m[0-9][0-9]s|h[0-9][0-9]m)'

# --- ETA before the first run finishes -------------------------------------
for j in 1 2; do
	run "$BBTBENCH" grid --jobs $j --out "$TMP/j$j" "$G/slow.ini"
	ok $rc "--jobs $j: the grid exits 0"
	like "$(printf '%s\n' "$err" | grep -m1 'ETA')" "0 done, $ETA" \
		"--jobs $j: the first progress line, before any run finished, has an ETA"
done

# --- one line per event --------------------------------------------------------
bad=$(printf '%s\n' "$err" | grep -Ev '^(bbtbench: |\[grid )')
is "$bad" "" "--jobs 2: every stderr line is a whole message or a grid progress line"
n=$(printf '%s\n' "$err" | grep -c 'best loss')
is "$n" 0 "--jobs 2: the runs' own progress lines stay in their run.log"
n=$(printf '%s\n' "$err" | grep -Ec 'grid: run [0-9]+/8 finished')
is "$n" 8 "--jobs 2: one line per finished run"

# --- resume ------------------------------------------------------------------
"$BBTBENCH" grid -q --shard 1/2 --out "$TMP/r" "$G/slow.ini" >/dev/null 2>&1
run "$BBTBENCH" grid --jobs 2 --out "$TMP/r" "$G/slow.ini"
ok $rc "resumed grid exits 0"
like "$(printf '%s\n' "$err" | grep -m1 'ETA')" "$ETA" \
	"after a resume the ETA is known from the first progress on"

# --- run.log -----------------------------------------------------------------
is "$(ls "$TMP"/j2/slow/*/run.log 2>/dev/null | wc -l)" 8 "every grid run folder has a run.log"
log=$(ls "$TMP"/j2/slow/*/run.log | head -1)
is "$(grep -c '^--- attempt ' "$log")" 1 "run.log starts with an attempt header"
grep -Eq 'calls 3000/3000' "$log"
ok $? "run.log holds the run's final progress line"

S="--backend synthetic --task toy --budget 200 --out $TMP/s"
"$BBTBENCH" $S >/dev/null 2>&1
slog=$(ls "$TMP"/s/toy/*/run.log 2>/dev/null)
grep -Eq 'calls 200/200' "$slog" 2>/dev/null
ok $? "a standalone run writes run.log too"
"$BBTBENCH" $S --force >/dev/null 2>&1
is "$(grep -c '^--- attempt ' "$slog")" 2 "a --force rerun appends a second attempt"
is "$(grep -c 'calls 200/200' "$slog")" 2 "the first attempt's log is kept"
is "$(grep -c '^--- attempt ' "$TMP"/r/slow/*/run.log | grep -vc ':1$')" 0 \
	"a resumed grid leaves finished runs' logs as they were"

# Ctrl-C: the run's log ends with why it stopped.
"$BBTBENCH" --backend synthetic --task toy --budget 10000000 --out "$TMP/i" >/dev/null 2>&1 &
pid=$!
i=0
until grep -qs 'calls' "$TMP"/i/toy/*/run.log || [ $i -ge 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -INT $pid
wait $pid
ok $((1 - $?)) "an interrupted run exits 1"
like "$(tail -1 "$TMP"/i/toy/*/run.log)" 'interrupted after [0-9]+ calls' \
	"its run.log ends with why it stopped"

done_testing
