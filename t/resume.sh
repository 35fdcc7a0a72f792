#!/bin/sh
# t/resume.sh - --resume: for each optimizer, a run stopped at call 300 of
# 600 (BBTBENCH_TEST_STOP_AFTER: the interrupt of a Ctrl-C at a known
# generation; once a real SIGINT) and resumed has the trace (wall time
# aside), dev history and result of a run never interrupted; the
# interrupted run reports its test metric; bad state files get one line;
# an optimizer without state support restarts, saying so.
. "${top_srcdir:-.}/t/lib.sh"
plan 78
cd "$TMP" || exit 99

syn0="--backend synthetic --task toy --dim 20 --budget 600 --eval-every 100 --seed 5"
syn="$syn0 --quiet"

# same_run A B WHAT: trace (wall_s aside), prompts.tsv and result.json
# (wall time and the folder aside) agree
same_run() {
	cut -d, -f1-5,7- "$1/trace.csv" >a.csv
	cut -d, -f1-5,7- "$2/trace.csv" >b.csv
	cmp -s a.csv b.csv
	ok $? "$3: trace identical to the uninterrupted run's"
	grep -v '"wall_time_s"\|"out"' "$1/result.json" >a.json
	grep -v '"wall_time_s"\|"out"' "$2/result.json" >b.json
	cmp -s a.json b.json
	ok $? "$3: result.json identical"
	if [ -f "$1/prompts.tsv" ] || [ -f "$2/prompts.tsv" ]; then
		cmp -s "$1/prompts.tsv" "$2/prompts.tsv"
		ok $? "$3: dev history (prompts.tsv) identical"
	else
		ok 0 "$3: no dev history in either"
	fi
}

# check NAME ARGS...: a whole run, then a run stopped at 300 and resumed
check() {
	name=$1
	shift
	"$BBTBENCH" $syn "$@" --out "full-$name" >/dev/null 2>&1
	full=$(ls -d full-"$name"/toy/*/)
	BBTBENCH_TEST_STOP_AFTER=300 "$BBTBENCH" $syn "$@" --out "part-$name" >/dev/null 2>err
	part=$(ls -d part-"$name"/toy/*/)
	[ -f "$part/state.bin" ] && grep -q '"status": "interrupted"' "$part/result.json"
	ok $? "$name: stopped at 300 calls, interrupted, state.bin kept"
	run "$BBTBENCH" $syn "$@" --out "part-$name" --resume
	ok $rc "$name: resumed to the end (rc $rc: $err)"
	same_run "$full" "$part" "$name"
	[ ! -f "$part/state.bin" ]
	ok $? "$name: state.bin removed once finished"
}

check cmaes --optimizer cmaes --popsize 20
check sepcmaes --optimizer sepcmaes --popsize 20
check zo-adam --optimizer zo-adam --popsize 20
check zo-sgd --optimizer zo-sgd --popsize 10 -O difference=central
check random-sobol --optimizer random --popsize 20 -O distribution=normal-sobol
check adam --optimizer adam -O lr=0.01
check nmsimplex --optimizer nmsimplex
check bdpl --optimizer bdpl --popsize 20
# BBTv2: one optimizer per layer, each saved
check deep --optimizer cmaes --popsize 10 --prompt-len 5 --prompt-layers all

# The interrupted run reports the test metric of the prompt it kept.
part=$(ls -d part-cmaes/toy/*/)
BBTBENCH_TEST_STOP_AFTER=300 "$BBTBENCH" $syn0 --optimizer cmaes --popsize 20 --out stop \
	>out 2>err
like "$(cat out)" 'status   interrupted' "interrupted run: its status says so"
grep -q '"test_metric": [0-9]' stop/toy/*/result.json
ok $? "interrupted run: result.json has a test metric"
like "$(cat err)" 'interrupted \(--resume goes on\)' "interrupted run: the status line says so"

# A finished run with --resume only reports.
run "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --out part-cmaes --resume
like "$out" 'already finished' "--resume on a finished run reports it"

# A real SIGINT part-way through a longer run, then --resume.
long="--backend synthetic --task toy --dim 200 --budget 10000 --eval-every 1000 --seed 5 \
	--quiet --optimizer sepcmaes --popsize 20"
"$BBTBENCH" $long --out sigfull >/dev/null 2>&1
"$BBTBENCH" $long --out sig >/dev/null 2>&1 &
pid=$!
# once a few generations are in the trace
for i in $(seq 100); do
	[ "$(cat sig/toy/*/trace.csv.part 2>/dev/null | wc -l)" -gt 200 ] && break
	sleep 0.1
done
kill -INT $pid
wait $pid
sigdir=$(ls -d sig/toy/*/)
calls=$(($(wc -l <"$sigdir/trace.csv") - 1))
[ "$calls" -gt 0 ] && [ "$calls" -lt 10000 ] && [ -f "$sigdir/state.bin" ]
ok $? "SIGINT stopped the run part-way ($calls calls) with a state"
run "$BBTBENCH" $long --out sig --resume
ok $rc "SIGINT run resumed (rc $rc: $err)"
same_run sigfull/toy/*/ "$sigdir" "SIGINT run"

# Bad state files: one line each, nothing written.
BBTBENCH_TEST_STOP_AFTER=300 "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --out bad \
	>/dev/null 2>&1
bad=$(ls -d bad/toy/*/)
cp "$bad/state.bin" good.bin
cp "$bad/trace.csv" trace.before
BBTBENCH_TEST_STOP_AFTER=300 "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --seed 6 \
	--out other >/dev/null 2>&1
cp other/toy/*/state.bin "$bad/state.bin"
run "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --out bad --resume
like "$err" "state.bin: the state of run cmaes-synthetic-toy-d20-s6-[0-9a-f]+, not this run's cmaes-synthetic-toy-d20-s5" \
	"another run's state file: refused, naming both runs"
is "$rc" 2 "another run's state file: exit 2"
is "$(echo "$err" | wc -l)" 1 "another run's state file: one line"
cmp -s trace.before "$bad/trace.csv"
ok $? "another run's state file: the trace untouched"
head -c 1000 good.bin >"$bad/state.bin"
run "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --out bad --resume
like "$err" 'state.bin: truncated or not a bbtbench state file' "truncated state file: refused"
is "$(echo "$err" | wc -l)" 1 "truncated state file: one line"
# a byte of the optimizer's blob changed: the checksum catches it
size=$(wc -c <good.bin)
{ head -c $((size - 100)) good.bin; printf 'X'; tail -c 99 good.bin; } >"$bad/state.bin"
run "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --out bad --resume
like "$err" 'state.bin: checksum mismatch' "corrupt state file: refused"
is "$(echo "$err" | wc -l)" 1 "corrupt state file: one line"
# a sound file whose optimizer blob belongs to another optimizer's layout:
# sepcmaes's state under cmaes's name is refused by the plugin
cp good.bin "$bad/state.bin"
run "$BBTBENCH" $syn --optimizer sepcmaes --popsize 20 --out bad --resume
is "$rc" 0 "another optimizer's settings are another run: started afresh (rc $rc: $err)"
cp good.bin "$bad/state.bin"
run "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --out bad --resume
ok $rc "the good state file still resumes (rc $rc: $err)"

# A trace shorter than the state (cut by hand): refused, nothing written.
BBTBENCH_TEST_STOP_AFTER=300 "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --out short \
	>/dev/null 2>&1
short=$(ls -d short/toy/*/)
head -101 "$short/trace.csv" >short.csv
cp short.csv "$short/trace.csv"
run "$BBTBENCH" $syn --optimizer cmaes --popsize 20 --out short --resume
like "$err" 'trace.csv: 100 complete rows, but the state to resume is at API call 300' \
	"a trace shorter than the state: refused in one line (rc $rc)"
cmp -s short.csv "$short/trace.csv"
ok $? "a trace shorter than the state: the trace untouched"

# An optimizer without state support (t/plugins/extra, no save_state)
# starts from scratch on --resume and says so.
mkdir -p xdg-data/bbtbench/plugins
chmod 700 xdg-data xdg-data/bbtbench xdg-data/bbtbench/plugins
cp "$top_builddir"/t/plugins/.libs/extra.so xdg-data/bbtbench/plugins/optimizer_extra.so
BBTBENCH_TEST_STOP_AFTER=8 "$BBTBENCH" $syn --optimizer extra --popsize 4 --out ex \
	>/dev/null 2>&1
run "$BBTBENCH" $syn --optimizer extra --popsize 4 --out ex --resume
like "$err" "optimizer extra \(ABI 1\.[0-9]+\) cannot save its state; --resume starts the run from scratch" \
	"no state support: restarts, saying so"
is "$(echo "$err" | grep -c 'cannot save')" 1 "no state support: one line"

# --force and --resume together are refused.
run "$BBTBENCH" $syn --optimizer cmaes --out bad --resume --force
is "$rc" 2 "--force with --resume: usage error"

done_testing
