#!/bin/sh
# t/table.sh - `bbtbench table` on hand-made result.json files whose
# mean ± std and Wilcoxon p-values were computed by hand (enumerating the
# sign patterns): cells, bold best, daggers, counts, formats, LaTeX that
# compiles.
. "${top_srcdir:-.}/t/lib.sh"
plan 56

R="$TMP/results/exp"
# result OPTIMIZER DIM SEED TEST_ACC [STATUS]
result() {
	d="$R/$1-d$2-s$3"
	mkdir -p "$d"
	cat >"$d/result.json" <<EOF
{"status": "${5:-finished}", "run_id": "$1-d$2-s$3",
 "settings": {"optimizer": "$1", "dim": $2, "seed": $3, "task": "toy", "alpha": 1.0},
 "optimizer": {"options": {"lr": "0.1"}}, "backend": {"options": {"hidden": "16"}},
 "metrics": {"metric": "acc", "test_metric": $4, "test_acc": $4, "test_f1": null,
  "train_loss": 0.5, "dev_metric": 0.75},
 "api_calls": 400, "wall_time_s": 1.25}
EOF
}
# d=50: A = .80 .. .90; B = A - (.01 .. .06): all worse, p = 2/64;
# C differs by -.01 +.02 -.03 -.04 -.05 -.06: T+ = 2, p = 2 * 3/64.
s=1
for a in 0.80 0.82 0.84 0.86 0.88 0.90; do result A 50 $s $a; s=$((s + 1)); done
s=1
for b in 0.79 0.80 0.81 0.82 0.83 0.84; do result B 50 $s $b; s=$((s + 1)); done
s=1
for c in 0.79 0.84 0.81 0.82 0.83 0.84; do result C 50 $s $c; s=$((s + 1)); done
# d=100: A = .70 .. .80; B - A = 0, -.02, -.02, -.04, +.01, -.05: the zero
# dropped, mid-ranks 2.5, T+ = 1: p = 2 * 2/32; C: five seeds, all worse,
# p = 2/32.
s=1
for a in 0.70 0.72 0.74 0.76 0.78 0.80; do result A 100 $s $a; s=$((s + 1)); done
s=1
for b in 0.70 0.70 0.72 0.72 0.79 0.75; do result B 100 $s $b; s=$((s + 1)); done
s=1
for c in 0.60 0.61 0.62 0.63 0.64; do result C 100 $s $c; s=$((s + 1)); done
result C 100 6 0.99 interrupted   # left out: not finished

run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --wilcoxon
ok $rc "table exits 0"
line() { printf '%s\n' "$out" | grep "^| $1 |"; }
like "$(line A)" '^\| A \| \*\*85\.00 ± 3\.74\*\* \(n=6\) \| \*\*75\.00 ± 3\.74\*\* \(n=6\) \|$' \
	"A: best in both columns, in bold, mean ± sample std, count shown (cells differ)"
like "$(line B)" '^\| B \| 81\.50 ± 1\.87 \(n=6\) † \| 73\.00 ± 3\.46 \(n=6\) \|$' \
	"B: significantly worse at d=50 (p = 0.03125), not at d=100 (p = 0.125)"
like "$(line C)" '^\| C \| 82\.17 ± 1\.94 \(n=6\) \| 62\.00 ± 1\.58 \(n=5\) \|$' \
	"C: p = 0.09375 and 0.0625, not below 0.05; the interrupted run left out"
like "$out" '\| optimizer \| dim=50 \| dim=100 \|' "header: row key, then column values in numeric order"
like "$out" 'two-sided Wilcoxon signed-rank test paired by seed, exact for n ≤ 25' \
	"footnote states the test"
like "$out" 'p < 0.05' "footnote states the threshold"

run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --wilcoxon --format json
ok $rc "json exits 0"
pval() {
	printf '%s\n' "$out" | tr -d ' \n' | sed 's/},{/}\n{/g' |
		grep "\"optimizer\":\"$1\"},\"col\":\"$2\"" | sed -n 's/.*"p_value":\([^,]*\),.*/\1/p'
}
is "$(pval B 50)" 0.03125 "p-value B vs A at d=50: 2/64"
is "$(pval C 50)" 0.09375 "p-value C vs A at d=50: 6/64"
is "$(pval B 100)" 0.125 "p-value B vs A at d=100 (a zero, a tie): 4/32"
is "$(pval C 100)" 0.0625 "p-value C vs A at d=100 (five pairs): 2/32"
is "$(pval A 50)" null "the best cell is not tested"

run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --wilcoxon --alpha 0.1
like "$(line C)" '82\.17 ± 1\.94 \(n=6\) † \| 62\.00 ± 1\.58 \(n=5\) † \|$' "--alpha 0.1 marks C"

run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --format csv
ok $rc "csv exits 0"
is "$(printf '%s\n' "$out" | head -1)" "optimizer,dim,n,mean,std,best,p_value" "csv header"
like "$out" '^A,50,6,0\.8[45]9*[0-9]*,0\.0374165738677394[0-9]*,1,$' "csv: raw mean and std"
is "$(printf '%s\n' "$out" | wc -l)" 7 "csv: one line per cell"

run "$BBTBENCH" table "$TMP/results" --rows optimizer,seed --cols dim --metric train_loss
like "$(line 'A | 1')" '^\| A \| 1 \| \*\*0\.5000\*\* \| \*\*0\.5000\*\* \|$' \
	"two row keys; one run per cell: no std; ties all bold"
run "$BBTBENCH" table "$TMP/results" --rows lr --metric api_calls
like "$out" '\| 0\.1 \| 50 \| A \| \*\*400 ± 0\*\* \(n=6\) \|' \
	"a bare plugin option name as row key; api_calls; rows split by dim and optimizer"
run "$BBTBENCH" table "$TMP/results/exp" --metric wall_time
like "$out" '\| A \| 50 \| \*\*1\.2 ± 0\.0\*\* \(n=6\) \|' \
	"default rows: optimizer (split by dim); one folder down works too"
run "$BBTBENCH" table "$TMP/results" --metric test_f1
like "$out" '\| A \| 50 \| – \|' "a metric the runs lack: an empty cell"

run "$BBTBENCH" table "$TMP/results" --rows nosuchkey
is "$rc" 2 "unknown row key: exit 2"
like "$err" "no run has a setting or option 'nosuchkey'" "names the key"
run "$BBTBENCH" table "$TMP/results" --metric accuracy
like "$err" "--metric 'accuracy': expected test_acc" "unknown metric named"
run "$BBTBENCH" table "$TMP/nothing"
is "$rc" 2 "missing folder: exit 2"

run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --wilcoxon --format latex
like "$out" '\\toprule' "latex: booktabs rules"
if command -v pdflatex >/dev/null 2>&1; then
	{
		printf '\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage[utf8]{inputenc}\n'
		printf '\\begin{document}\n%s\n\\end{document}\n' "$out"
	} >"$TMP/t.tex"
	(cd "$TMP" && pdflatex -interaction=nonstopmode -halt-on-error t.tex >"$TMP/tex.out" 2>&1)
	ok $? "latex table compiles with pdflatex"
	[ -s "$TMP/t.pdf" ]
	ok $? "and makes a PDF"
else
	skip "pdflatex not installed"
	skip "pdflatex not installed"
fi

# The default metric is each task's own, as its paper reports it: F1 for
# MRPC, not its accuracy.
for s in 1 2; do
	mkdir -p "$TMP/mrpc/s$s"
	cat >"$TMP/mrpc/s$s/result.json" <<EOF
{"status": "finished", "run_id": "s$s", "settings": {"optimizer": "X", "seed": $s},
 "metrics": {"metric": "f1", "test_metric": 0.8$s, "test_acc": 0.7$s, "test_f1": 0.8$s}}
EOF
done
run "$BBTBENCH" table "$TMP/mrpc"
like "$out" '^\| optimizer \| test F1 \(%\) \|$' "default metric: the task's, F1 for MRPC"
like "$out" '\| X \| \*\*81\.50 ± 0\.71\*\* \|' "its values, not the accuracy"

# A cell holds runs that differ only in their seeds: runs that differ in
# another setting (here the budget) are split into rows by it, and said so.
M="$TMP/mixed/exp"
mixed() {	# mixed SEED BUDGET TEST_ACC
	mkdir -p "$M/s$1-b$2"
	cat >"$M/s$1-b$2/result.json" <<EOF
{"status": "finished", "run_id": "s$1-b$2",
 "settings": {"optimizer": "X", "seed": $1, "data-seed": -1, "budget": $2, "out": "$M"},
 "optimizer": {"options": {"lr": "0.1"}},
 "metrics": {"metric": "acc", "test_metric": $3, "test_acc": $3}, "api_calls": $2}
EOF
}
mixed 1 400 0.60; mixed 2 400 0.70; mixed 3 800 0.80; mixed 4 800 0.90
run "$BBTBENCH" table "$TMP/mixed"
ok $rc "runs that differ in a setting: table exits 0"
like "$out" '^\| optimizer \| budget \| test accuracy \(%\) \|$' "split into rows by that setting"
like "$out" '\| X \| 400 \| 65\.00 ± 7\.07 \|' "the budget 400 runs in one cell"
like "$out" '\| X \| 800 \| \*\*85\.00 ± 7\.07\*\* \|' "the budget 800 runs in another"
like "$err" "differ in budget besides their seeds" "the differing setting is named"
# The same run twice in a cell (a copied folder) is not two seeds.
cp -r "$M/s1-b400" "$M/copy"
run "$BBTBENCH" table "$TMP/mixed"
is "$rc" 2 "the same settings and seeds twice in a cell: exit 2"
like "$err" "copy.* and .*s1-b400.*: the same settings and seeds" "both runs named"

# --ci bootstrap: each mean's 95% percentile interval, the same every run.
run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --ci bootstrap
like "$(line A)" '^\| A \| \*\*85\.00 ± 3\.74\*\* \[8[0-9]\.[0-9][0-9], 8[0-9]\.[0-9][0-9]\] \(n=6\) \|' \
	"--ci bootstrap: an interval around the mean"
like "$out" '\[ \]: 95% percentile bootstrap interval of the mean \(10000 resamples' \
	"the footnote says what the interval is"
first="$out"
run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --ci bootstrap
is "$out" "$first" "the same interval every time (seeded)"
run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --ci bootstrap --format csv
is "$(printf '%s\n' "$out" | head -1)" "optimizer,dim,n,mean,std,best,p_value,ci_low,ci_high" \
	"csv: the interval's columns"
run "$BBTBENCH" table "$TMP/results" --ci normal
is "$rc" 2 "--ci normal: exit 2"
like "$err" "--ci 'normal': expected bootstrap" "names the method it takes"

# Two seeds: the smallest p two pairs can give is 2/4, so no cell can be
# marked at 0.05, and the footnote says so rather than promise a test
# that cannot fire. With five or six pairs (2/32 > 0.05 > 2/64) it does not.
P="$TMP/pairs2/exp"
for o in A B; do
	for s in 1 2; do
		mkdir -p "$P/$o-s$s"
		cat >"$P/$o-s$s/result.json" <<EOF
{"status": "finished", "run_id": "$o-s$s", "settings": {"optimizer": "$o", "seed": $s},
 "metrics": {"metric": "acc", "test_metric": 0.$([ $o = A ] && echo 9 || echo 5)$s}}
EOF
	done
done
run "$BBTBENCH" table "$TMP/pairs2" --wilcoxon
like "$out" 'With 2 pairs the smallest possible p is 0\.5, so no cell can reach p < 0\.05\.' \
	"2 pairs: the footnote says no cell can reach the level"
run "$BBTBENCH" table "$TMP/pairs2" --wilcoxon --format latex
like "$out" 'With 2 pairs the smallest possible \$p\$ is 0\.5, so no cell can reach \$p < 0\.05\$\.' \
	"and so does the LaTeX one"
run "$BBTBENCH" table "$TMP/pairs2" --wilcoxon --alpha 0.6
! printf '%s\n' "$out" | grep -q 'no cell can reach'
ok $? "not when the level is reachable (--alpha 0.6)"
run "$BBTBENCH" table "$TMP/results" --rows optimizer --cols dim --wilcoxon
! printf '%s\n' "$out" | grep -q 'no cell can reach'
ok $? "nor with five or six pairs at 0.05"

# A '|' in a value would end a Markdown cell.
Q="$TMP/pipe/exp"
for o in 'a|b' c; do
	mkdir -p "$Q/$o"
	cat >"$Q/$o/result.json" <<EOF
{"status": "finished", "run_id": "x", "settings": {"optimizer": "$o", "seed": 1},
 "metrics": {"metric": "acc", "test_metric": 0.5}}
EOF
done
run "$BBTBENCH" table "$TMP/pipe"
ok $rc "a value with '|': table exits 0"
like "$out" '^\| a\\\|b \| \*\*50\.00\*\* \|$' "md: the '|' in the value escaped"

# Every command of this family documents itself.
for cmd in grid table plot; do
	run "$BBTBENCH" $cmd --help
	ok $rc "$cmd --help exits 0"
	like "$out" "^Usage: bbtbench $cmd" "$cmd --help prints its usage"
done
done_testing
