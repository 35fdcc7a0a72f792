#!/bin/sh
# t/results_untrusted.sh - results folders come from other people: `plot`
# and `table` read their result.json and trace.csv as data, never as code,
# and report (then skip) what they cannot read.
. "${top_srcdir:-.}/t/lib.sh"
plan 19

R="$TMP/results"
# result DIR OPTIMIZER_JSON DIM_JSON: a finished run with a short trace
result() {
	mkdir -p "$R/$1"
	cat >"$R/$1/result.json" <<EOF
{"status": "finished", "run_id": "$1",
 "settings": {"optimizer": $2, "dim": $3, "seed": 1, "task": "toy"},
 "metrics": {"metric": "acc", "test_metric": 0.75, "test_acc": 0.75, "train_loss": 0.5, "dev_metric": 0.75},
 "api_calls": 3, "wall_time_s": 1.0}
EOF
	printf 'call,batch,loss,best_loss,dev_metric,wall_s\n1,1,0.9,0.9,,0.1\n2,1,0.8,0.8,0.5,0.2\n3,1,0.7,0.7,,0.3\n' \
		>"$R/$1/trace.csv"
}
# Each value, once in a gnuplot script, would run a shell command: a new
# line then gnuplot's `!`, or a backquote substitution in a "..." string.
result r1 '"x\n!touch '"$TMP"'/pwned-newline\n"' '"a\n!touch '"$TMP"'/pwned-x\n"'
result r2 '"`touch '"$TMP"'/pwned-backquote`"' '"`touch '"$TMP"'/pwned-xtic`"'
result r3 '"it'"'"'s \"quoted\" \\ @macro"' '"b"'

if command -v gnuplot >/dev/null 2>&1; then
	run "$BBTBENCH" plot "$R" --x dim -o "$TMP/plots"
	ok $rc "plot of hostile names exits 0"
	[ -s "$TMP/plots/convergence.png" ] && [ -s "$TMP/plots/test_metric-vs-dim.png" ]
	ok $? "and draws both figures"
	ls "$TMP" | grep -q pwned
	ok $((1 - $?)) "no command in result.json ran (gnuplot)"
else
	skip "gnuplot not installed"
	skip "gnuplot not installed"
	skip "gnuplot not installed"
fi
# Whatever gnuplot does with them, the scripts and data hold no line break
# from the data and no backquote where gnuplot substitutes: a fake gnuplot
# that only keeps the files.
printf '#!/bin/sh\nfor e in png svg; do echo fake >"${1%%.gp}.$e"; done\n' >"$TMP/fakeplot"
chmod +x "$TMP/fakeplot"
BBTBENCH_GNUPLOT="$TMP/fakeplot" run "$BBTBENCH" plot "$R" --x dim -o "$TMP/fake"
cat "$TMP/fake/"*.gp "$TMP/fake/"*.dat >"$TMP/all"
grep -q '^!' "$TMP/all"
ok $((1 - $?)) "no line of the scripts or data begins with gnuplot's shell escape"
cat "$TMP/fake/"*.gp | grep -v '^#' | sed "s/'[^']*'//g" | grep -q '`'
ok $((1 - $?)) "no backquote from the data outside a single-quoted string of the scripts"
[ -s "$TMP/fake/test_metric-vs-dim.gp" ] && ! grep -q '"x' "$TMP/fake/convergence.gp"
ok $? "data strings are single-quoted in the script (no substitution there)"

# A value of a trace that is not a number is reported where it is and left
# out, not drawn as 0; a result.json that is not JSON is reported and its
# run left out, unless --strict.
R="$TMP/mixed"
result g1 '"good"' 1
result g2 '"good"' 2
result b1 '"badtrace"' 1
printf 'call,batch,loss,best_loss,dev_metric,wall_s\n1,1,0.9,0.9,,0.1\n2,1,0.8,abc,,0.2\n3,1,0.7,\033]0;x\007,,0.3\n' \
	>"$R/b1/trace.csv"
BBTBENCH_GNUPLOT="$TMP/fakeplot" run "$BBTBENCH" plot "$R" -o "$TMP/mixed-plots"
ok $rc "plot with an unparsable trace value exits 0"
like "$err" "b1/trace.csv:3: best_loss: expected a number, got 'abc'" \
	"the value is reported as file:line with the field"
like "$err" "b1/trace.csv:4: best_loss: expected a number, got '\?\]0;x\?'" \
	"a value's terminal escape sequence reaches stderr defused"
sed -n '/badtrace/,/^$/p' "$TMP/mixed-plots/convergence.dat" | grep -q '^2 '
ok $((1 - $?)) "and left out of the curve, not drawn as 0"

mkdir -p "$R/broken"
printf '{"status": "finished", "settings": {' >"$R/broken/result.json"
run "$BBTBENCH" table "$R"
ok $rc "table with a broken result.json exits 0"
like "$err" "broken/result.json:1: .*left out" "the broken file is named, with the JSON error"
like "$err" "1 unreadable result.json left out" "and counted"
like "$out" "good \\| [12] \\| \\*\\*75\\.00\\*\\*" "the other runs are tabulated (split by dim)"
run "$BBTBENCH" table --strict "$R"
is "$rc" 2 "table --strict refuses the folder: exit 2"
like "$err" "broken/result.json:1: " "naming the file"
BBTBENCH_GNUPLOT="$TMP/fakeplot" run "$BBTBENCH" plot "$R" -o "$TMP/mixed-plots"
ok $rc "plot with a broken result.json exits 0"
BBTBENCH_GNUPLOT="$TMP/fakeplot" run "$BBTBENCH" plot --strict "$R" -o "$TMP/mixed-plots"
is "$rc" 2 "plot --strict refuses the folder: exit 2"

# A key that a results folder holds names the figure's files: --x ../KEY
# would write beside the plots folder, not in it.
R="$TMP/keyed"
result k1 '"cmaes"' 1
sed -i 's/"seed": 1,/"seed": 1, "..\/up": 3,/' "$R/k1/result.json"
BBTBENCH_GNUPLOT="$TMP/fakeplot" run "$BBTBENCH" plot "$R" --x ../up -o "$TMP/keyed-plots"
is "$rc" 2 "plot --x with a key that is not a plain word: exit 2"
done_testing
