#!/bin/sh
# t/plot.sh - `bbtbench plot` on a small grid's results: convergence curves
# and a metric against a grid key, as non-empty PNG and SVG files (skipped
# without gnuplot), and a clear error when gnuplot is missing.
. "${top_srcdir:-.}/t/lib.sh"
plan 22

run "$BBTBENCH" grid -q --out "$TMP/r" "$top_srcdir/t/grids/small.ini"
ok $rc "the small grid runs"

# Without gnuplot: the data and script are written, the error says what to install.
BBTBENCH_GNUPLOT=/nonexistent/gnuplot run "$BBTBENCH" plot "$TMP/r/small" -o "$TMP/nogp"
is "$rc" 2 "no gnuplot: exit 2"
like "$err" "install gnuplot-nox" "the error names the Debian package"
[ -s "$TMP/nogp/convergence.dat" ] && [ -s "$TMP/nogp/convergence.gp" ]
ok $? "the numbers and the script are there to plot later"

run "$BBTBENCH" plot "$TMP/r/small" --by nosuchkey
like "$err" "--by: no run has a setting or option 'nosuchkey'" "unknown --by key named"

# A fake gnuplot that only writes the two files: the tests below read the
# script and the numbers, not the pictures.
printf '#!/bin/sh\necho x >"${1%%.gp}.png" && echo x >"${1%%.gp}.svg"\n' >"$TMP/fakegp"
chmod +x "$TMP/fakegp"
BBTBENCH_GNUPLOT="$TMP/fakegp" run "$BBTBENCH" plot "$TMP/r/small" --by optimizer.distribution \
	--x dim -o "$TMP/fake"
ok $rc "plot with a fake gnuplot"
F="$TMP/fake/test_metric-vs-dim"
like "$(cat "$F.gp")" "set xlabel 'subspace dimension d'" "the x axis says what the key means"
like "$(cat "$TMP/fake/convergence.gp")" "title 'normal \(n=5\)'" "convergence legend gives n"
like "$(cat "$F.gp")" "title 'normal \(n=(3|2-3)\)'" "metric legend gives n per point"
# normal and uniform at d = 5 are drawn a little apart, the tics stay at 5 and 10
is "$(awk '!/^#/ && NF >= 4 { print $1 }' "$F.dat" | sort -u | wc -l)" 4 \
	"points at the same x are dodged"
BBTBENCH_GNUPLOT="$TMP/fakegp" run "$BBTBENCH" plot "$TMP/r/small" --by dim,optimizer \
	-o "$TMP/fake2"
like "$(tr '\n' ' ' <"$TMP/fake2/convergence.gp")" "title 'dim=5 optimizer=random.*title 'dim=10" \
	"combined legends in numeric order (5 before 10)"

# trace.csv's columns are found by name: one more, in the middle, changes nothing.
cp -r "$TMP/r/small" "$TMP/wider"
for t in "$TMP"/wider/*/trace.csv; do
	awk -F, 'BEGIN { OFS = "," } { $2 = $2 "," (NR == 1 ? "bytes_sent" : 123); print }' "$t" >"$t.new"
	mv "$t.new" "$t"
done
BBTBENCH_GNUPLOT="$TMP/fakegp" run "$BBTBENCH" plot "$TMP/wider" --by optimizer.distribution \
	--x dim -o "$TMP/fake3"
cmp -s "$TMP/fake3/convergence.dat" "$TMP/fake/convergence.dat"
ok $? "a trace.csv with a column added in the middle: the same curves"
BBTBENCH_GNUPLOT="$TMP/fakegp" run "$BBTBENCH" plot "$TMP/r/small" --x-axis wall -o "$TMP/fake4"
like "$(cat "$TMP/fake4/convergence.gp")" "set xlabel 'wall time \(s\)'" "--x-axis wall"

if ! command -v gnuplot >/dev/null 2>&1; then
	for i in 14 15 16 17 18 19 20 21 22; do skip "gnuplot not installed"; done
	exit 0
fi
is_png() { [ -s "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = "211PNG" ]; }
is_svg() { [ -s "$1" ] && grep -q '<svg' "$1"; }

run "$BBTBENCH" plot "$TMP/r/small" --by optimizer.distribution --x dim
ok $rc "plot exits 0"
is "$(printf '%s\n' "$out" | wc -l)" 4 "four figures listed"
P="$TMP/r/small/plots"
is_png "$P/convergence.png" && is_svg "$P/convergence.svg"
ok $? "convergence.png and .svg: non-empty, the right formats"
is_png "$P/test_metric-vs-dim.png" && is_svg "$P/test_metric-vs-dim.svg"
ok $? "test_metric-vs-dim.png and .svg"
# median and quartiles: 10 runs, 5 per distribution, at 200 points at most
awk '!/^#/ && NF == 4 && !($3 <= $2 && $2 <= $4) { bad = 1 } END { exit bad }' \
	"$P/convergence.dat"
ok $? "q1 <= median <= q3 at every point"
is "$(grep -c '^#' "$P/convergence.dat")" 2 "one curve per distribution"
like "$(cat "$P/convergence.gp")" "set ylabel 'best training loss" "labelled axes"

run "$BBTBENCH" plot "$TMP/r/small" -y dev_metric --by seed --x optimizer.distribution \
	-m dev_metric -o "$TMP/p2"
ok $rc "dev metric curves; a categorical x axis"
is_png "$TMP/p2/dev_metric-vs-optimizer.distribution.png"
ok $? "dev_metric-vs-optimizer.distribution.png"
done_testing
