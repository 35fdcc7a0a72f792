#!/bin/sh
# t/report.sh - `bbtbench report` on a small synthetic experiment
# (ablations/synthetic/report.ini): it runs the grid, writes runs.csv, the
# [report] tables and figures and a README.md; the folder made again from
# the same runs is the same, and from a clean results folder differs only
# in wall times; a bad [report] stops before any run; the runs.csv rows
# reproduce bit for bit (t/paper_repro.sh) and a changed number is caught;
# a y=test_metric figure makes each run's eval-trail-test.tsv (as `eval
# --trail` does) and draws it as steps, and --no-run without one is an error.
. "${top_srcdir:-.}/t/lib.sh"
plan 59

INI="$top_srcdir/ablations/synthetic/report.ini"
D="$TMP/doc/synthetic-report"
# A fake gnuplot where there is none: the numbers and scripts are what
# these tests read.
if ! command -v gnuplot >/dev/null 2>&1; then
	printf '#!/bin/sh\necho x >"${1%%.gp}.png" && echo x >"${1%%.gp}.svg"\n' >"$TMP/fakegp"
	chmod +x "$TMP/fakegp"
	BBTBENCH_GNUPLOT="$TMP/fakegp"
	export BBTBENCH_GNUPLOT
fi

run "$BBTBENCH" report --out "$TMP/results" --dest "$TMP/doc" "$INI"
ok $rc "report runs the grid and exits 0"
like "$out" "24 runs: 24 finished" "the grid ran first"
like "$out" "^report .*: $D/\$" "it names the folder it wrote"
for f in runs.csv README.md test.md test.tex methods.md methods.tex accuracy-vs-d.png \
	accuracy-vs-d.svg accuracy-vs-d.gp accuracy-vs-d.dat dev-convergence.png loss-wall.svg; do
	[ -s "$D/$f" ] || missing="$missing $f"
done
is "${missing:-}" "" "every table and figure of [report], runs.csv and README.md are there"

# --- runs.csv -----------------------------------------------------------------
is "$(wc -l <"$D/runs.csv")" 25 "runs.csv: a header and one row per run"
head=$(head -1 "$D/runs.csv")
miss=
for c in run_id method optimizer dim seed budget optimizer.tolx backend.hidden \
	result.api_calls result.tokens_scored result.wall_time_s result.bbtbench_version \
	seeds.run seeds.projection metrics.test_acc metrics.dev_metric blas.core blas.threads; do
	printf '%s\n' "$head" | tr ',' '\n' | grep -qx "$c" || miss="$miss $c"
done
is "${miss:-}" "" "runs.csv: settings, options, seeds, metrics, counts, BLAS, version"
printf '%s\n' "$head" | tr ',' '\n' | grep -qx out
ok $((1 - $?)) "runs.csv: where the runs were written is not a column"
col() { awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"; }
is "$(col "$D/runs.csv" method | uniq | tr '\n' ' ')" "calibrated manual tune " \
	"rows sorted by their settings"
is "$(col "$D/runs.csv" dim | grep -c .)" 18 "a baseline has no d (its method never used one)"

# --- tables and README --------------------------------------------------------
like "$(cat "$D/test.md")" '^\| optimizer \| dim=5 \| dim=20 \|$' "test.md: rows and columns as [report] says"
like "$(cat "$D/test.md")" 'With 3 pairs the smallest possible p is 0\.25' \
	"test.md: the Wilcoxon footnote says no cell can reach p < 0.05 with 3 seeds"
grep -q 'tune' "$D/test.md"
ok $((1 - $?)) "test.md: where=method=tune leaves the baselines out"
like "$(cat "$D/methods.md")" '^\| manual \| - \|' "methods.md: the baselines have rows of their own"
like "$(cat "$D/test.tex")" '\\toprule' "test.tex: LaTeX (booktabs)"
like "$(cat "$D/README.md")" 'bbtbench report .*report\.ini` from 24 finished runs' \
	"README.md: how the folder was made"
like "$(cat "$D/README.md")" '!\[accuracy-vs-d\]\(accuracy-vs-d\.png\)' "README.md: shows the figures"

like "$(cat "$D/README.md")" '^- dim=5: optimizer\.distribution by mean dev metric: normal 0\.[0-9]+ \(n=3\), uniform 0\.[0-9]+ \(n=3\); kept (normal|uniform)$' \
	"best-on-dev: the README gives each d's means and choice"
kept=$(sed -n 's/^- dim=5: .*kept //p' "$D/README.md" | head -1)
want=$(awk -F, -v k="$kept" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "metrics.test_acc") a = i; if ($i == "optimizer.distribution") o = i; if ($i == "dim") d = i } next }
	$o == k && $d == 5 { s += $a; n++ } END { printf "%.2f", 100 * s / n }' "$D/runs.csv")
like "$(cat "$D/test.md")" "^\| random \| $want ± " "best-on-dev: the cell is the mean of the chosen value's runs"

# --- figures ------------------------------------------------------------------
gp=$(cat "$D/accuracy-vs-d.gp")
like "$gp" "set xlabel 'subspace dimension d'" "accuracy-vs-d: the axis says what d is"
like "$gp" "with lines dt [0-9]+ .*title 'manual \(n=3\)'" \
	"accuracy-vs-d: the manual prompt is a reference line"
like "$gp" "title 'calibrated \(n=3\)'" "accuracy-vs-d: and the calibrated one"
like "$gp" "set title 'test accuracy against d'" "a title from [report]"
like "$(cat "$D/dev-convergence.gp")" "with steps .*title 'optimizer=cmaes dim=5 \(n=3\)'" \
	"dev-metric curves are steps; split by every key in by="
gp=$(cat "$D/dev-convergence.gp")
like "$gp" "title 'calibrated \(n=3\)'" "reference=calibrated: the calibrated dev metric is a line"
! printf '%s\n' "$gp" | grep -q "title 'manual"
ok $? "and the manual prompt is not"
like "$(cat "$D/loss-wall.gp")" "set title 'pooled over dim \(2 values\)" \
	"a convergence figure that pools d says so"
like "$(cat "$D/loss-wall.gp")" "set xlabel 'wall time \(s\)'" "x-axis=wall"
# a run that has ended keeps its last value: every curve reaches the slowest run's end
is "$(awk '/^#/ { if (x != "") print x; x = ""; next } NF { x = $1 } END { print x }' \
	"$D/loss-wall.dat" | sort -u | wc -l)" 1 "x-axis=wall: every curve ends at the same time"

# --- the same runs, the same folder ---------------------------------------------
cp -r "$TMP/doc" "$TMP/doc1"
run "$BBTBENCH" report --no-run --out "$TMP/results" --dest "$TMP/doc" "$INI"
ok $rc "--no-run exits 0"
diff -r "$TMP/doc1" "$TMP/doc" >/dev/null
ok $? "made again from the same runs: the same files, byte for byte"
# From a clean results folder: the same numbers, but for wall times.
run "$BBTBENCH" report -q --out "$TMP/results2" --dest "$TMP/doc2" "$INI"
nowall() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "result.wall_time_s") c = i } { $c = ""; print }' OFS=, "$1"; }
is "$(nowall "$TMP/doc2/synthetic-report/runs.csv")" "$(nowall "$D/runs.csv")" \
	"from a clean results folder: runs.csv differs in wall times only"
cmp -s "$TMP/doc2/synthetic-report/test.md" "$D/test.md"
ok $? "and the tables are the same"

# --- bad [report] ----------------------------------------------------------------
bad() {
	sed "s|^table.test = .*|$1|" "$INI" >"$TMP/bad.ini"
	run "$BBTBENCH" report --out "$TMP/badres" --dest "$TMP/baddoc" "$TMP/bad.ini"
}
bad 'table.test = rows=optimizer colums=dim'
is "$rc" 2 "an unknown word: exit 2"
like "$err" "bad.ini:25: table.test: 'colums': expected KEY=VALUE, KEY one of rows, cols" \
	"the message names the file, line, table and word"
[ ! -e "$TMP/badres" ] && [ ! -e "$TMP/baddoc" ]
ok $? "nothing ran, nothing was written"
bad 'table.test = rows= cols=dim'
like "$err" "bad.ini:25: table.test: rows= needs a value" "an empty value"
bad 'table.test = metric=test_accuracy'
like "$err" "metric=test_accuracy: expected one of test_acc" "an unknown metric"
bad 'table.test = rows=optimizer where=task=nosuchtask'
like "$err" "bad.ini:25: table.test: where=task=nosuchtask: no finished run has task = nosuchtask" \
	"a where= that matches no run is named"
run "$BBTBENCH" report --no-run --out "$TMP/nothing" --dest "$TMP/nodoc" "$INI"
is "$rc" 2 "--no-run without results: exit 2"
# where=KEY!=VALUE keeps the runs with another value or none
sed 's|^table.test = .*|table.test = rows=method metric=test_metric where=method!=tune|' \
	"$INI" >"$TMP/neq.ini"
run "$BBTBENCH" report --no-run --out "$TMP/results" --dest "$TMP/neqdoc" "$TMP/neq.ini"
ok $([ "$rc" = 0 ] && grep -q '^| calibrated |' "$TMP/neqdoc/synthetic-report/test.md" &&
	grep -q '^| manual |' "$TMP/neqdoc/synthetic-report/test.md" &&
	! grep -q '^| tune |' "$TMP/neqdoc/synthetic-report/test.md"; echo $?) \
	"where=method!=tune: the baselines' rows, not the tuned runs'"
bad 'table.test = rows=optimizer where=!=tune'
like "$err" "where=!=tune: expected where=KEY=VALUE or where=KEY!=VALUE" "where=!=VALUE: no key"
# ... and one such file does not keep the next from its folder
sed 's/^experiment = .*/experiment = never-ran/' "$INI" >"$TMP/never-ran.ini"
run "$BBTBENCH" report --no-run --out "$TMP/results" --dest "$TMP/twodoc" "$TMP/never-ran.ini" "$INI"
ok $([ "$rc" = 2 ] && [ -f "$TMP/twodoc/synthetic-report/runs.csv" ] &&
	[ ! -e "$TMP/twodoc/never-ran" ]; echo $?) \
	"--no-run, a file without results first: exit 2, the next file's folder still made"

# --- test metric curves (eval --trail) ------------------------------------------
TI="$TMP/trail/report.ini"
mkdir -p "$TMP/trail"
{ cat "$INI"; echo 'figure.test-budget = y=test_metric by=optimizer reference=manual'; } >"$TI"
run "$BBTBENCH" report --no-run --out "$TMP/results" --dest "$TMP/tdoc" "$TI"
like "$rc: $(printf '%s\n' "$err" | grep error)" "^2: bbtbench: error: report: .*report.ini:30: figure.test-budget: .*/(cmaes|random)-[^ ]*: no eval-trail-test.tsv: make it with \`bbtbench eval .* --trail\`\$" \
	"--no-run without the runs' test trails: exit 2, naming a run and the command"
is "$(printf '%s\n' "$err" | grep -c error)" 1 "in one line"
run "$BBTBENCH" report --out "$TMP/results" --dest "$TMP/tdoc" "$TI"
ok $rc "report makes the test trails, then the figure"
is "$(ls "$TMP"/results/synthetic-report/*/eval-trail-test.tsv | wc -l)" 18 \
	"a trail for every tuned run (none for the baselines)"
like "$err" "cmaes-[^ ]*: eval-trail-test.tsv: [0-9]+ prompts? chosen on dev, scored on test" \
	"progress on stderr says what it scored"
TD="$TMP/tdoc/synthetic-report"
like "$(cat "$TD/test-budget.gp")" "with steps .*title 'cmaes \(n=6\)'" "test-metric curves are steps"
like "$(cat "$TD/test-budget.gp")" "set ylabel 'test metric of the best-on-dev prompt" \
	"the axis says which prompt's test metric"
like "$(cat "$TD/test-budget.dat")" "# reference line: method = manual, mean test_metric " \
	"the manual prompt's test metric is a reference line"
C=$(ls -d "$TMP"/results/synthetic-report/cmaes-synthetic-toy-d20-s1-*)
cp "$C/eval-trail-test.tsv" "$TMP/trail/by-report.tsv"
run "$BBTBENCH" eval "$C" --trail -q
cmp -s "$C/eval-trail-test.tsv" "$TMP/trail/by-report.tsv"
ok $? "report's trail is eval --trail's, byte for byte"
cp -r "$TMP/tdoc" "$TMP/tdoc1"
run "$BBTBENCH" report --no-run --out "$TMP/results" --dest "$TMP/tdoc" "$TI"
diff -r "$TMP/tdoc1" "$TMP/tdoc" >/dev/null
ok $? "made again: the same files, byte for byte"
# A trail that is not the finished run's (its last change cut off)
head -n -1 "$TMP/trail/by-report.tsv" >"$C/eval-trail-test.tsv"
run "$BBTBENCH" report --no-run --out "$TMP/results" --dest "$TMP/tdoc" "$TI"
like "$rc: $(printf '%s\n' "$err" | grep error)" "^2: .*eval-trail-test.tsv: ends at call [0-9]+, but result.json's best_dev_call is [0-9]+: make it again" \
	"--no-run with a trail that is not the run's: exit 2, saying why"
run "$BBTBENCH" report -q --out "$TMP/results" --dest "$TMP/tdoc" "$TI"
cmp -s "$C/eval-trail-test.tsv" "$TMP/trail/by-report.tsv"
ok $? "report makes it again"
# One run alone: every call a point, the test metric of the last change by then
mkdir -p "$TMP/one"
cp -r "$C" "$TMP/one/"
run "$BBTBENCH" plot "$TMP/one" --y test_metric --points 1000 -o "$TMP/oneplot"
ok $rc "plot --y test_metric"
is "$(awk 'FNR == NR { if (FNR > 1) { c[++n] = $1; m[n] = 100 * $3 } next }
	/^[0-9]/ { k = 0; for (i = 1; i <= n; i++) if (c[i] <= $1) k = i
		if (k == 0 || ($2 - m[k]) ^ 2 > 1e-16) bad++; pts++ }
	END { print pts, bad + 0 }' FS='\t' "$C/eval-trail-test.tsv" FS=' ' "$TMP/oneplot/convergence.dat")" \
	"$(( $(tail -1 "$C/trace.csv" | cut -d, -f1) - $(sed -n 2p "$C/eval-trail-test.tsv" | cut -f1) + 1 )) 0" \
	"its .dat: a point per call from the first change to the last call, each the last change's test metric"

# --- runs.csv reproduces ----------------------------------------------------------
run env BBTBENCH_PAPER_RESULTS="$TMP/doc" sh "$top_srcdir/t/paper_repro.sh"
ok $rc "t/paper_repro.sh: two rows run again to the same metrics"
mkdir -p "$TMP/tampered/x"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "metrics.test_acc") c = i; print; next }
	{ $c = "0.1"; print }' OFS=, "$D/runs.csv" >"$TMP/tampered/x/runs.csv"
run env BBTBENCH_PAPER_RESULTS="$TMP/tampered" sh "$top_srcdir/t/paper_repro.sh"
like "$out" "^not ok .*exactly as committed" "a number that does not reproduce fails it"
mkdir -p "$TMP/othercore/x"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "blas.core") c = i; print; next }
	{ $c = "NoSuchCore"; print }' OFS=, "$D/runs.csv" >"$TMP/othercore/x/runs.csv"
run env BBTBENCH_PAPER_RESULTS="$TMP/othercore" sh "$top_srcdir/t/paper_repro.sh"
like "$out" "^ok [0-9]+ # skip x row 1: BLAS core .* here; the row recorded NoSuchCore" \
	"a row recorded on another BLAS core is skipped, saying why"
done_testing
