#!/bin/sh
# t/ablations.sh - the ablations/ presets: every file is a valid grid of
# the stated size, every paper preset has a small synthetic variant, and
# each synthetic variant runs end to end (grid, table, plot data) with the
# optimizers that are built: the ones it names when they are there, else
# `random` in their place, so the mechanics are tested before every plugin
# exists.
. "${top_srcdir:-.}/t/lib.sh"
A="$top_srcdir/ablations"
presets="adam-grad bbtv2 budget cmaes-vs-adam loss optimizers projection prompt-length"
plan 56

# name  runs of the paper preset  runs of the synthetic variant
sizes="adam-grad 100 60
bbtv2 20 6
budget 40 12
cmaes-vs-adam 100 30
loss 30 9
optimizers 315 54
projection 20 6
prompt-length 40 12"
printf '%s\n' "$sizes" >"$TMP/sizes"
while read -r name paper small; do
	is "$("$BBTBENCH" grid --list "$A/$name.ini" | wc -l)" "$paper" "$name.ini: $paper runs"
	is "$("$BBTBENCH" grid --list "$A/synthetic/$name.ini" | wc -l)" "$small" \
		"synthetic/$name.ini: $small runs"
	grep -q '^; Needs: ' "$A/$name.ini"
	ok $? "$name.ini says what it needs"
done <"$TMP/sizes"

# The real-model presets (run by hand, not here): valid grids of the stated size.
while read -r name size what; do
	is "$("$BBTBENCH" grid --list "$A/real/$name.ini" | wc -l)" "$size" \
		"real/$name.ini: $size runs ($what)"
	grep -q '^; Needs: ' "$A/real/$name.ini"
	ok $? "real/$name.ini says what it needs"
done <<'EOF_REAL'
bbt-vs-bbtv2 40 baselines once, BBT and BBTv2 x 2 tasks x 5 splits
adam-lr 9 adam x 3 lr x 3 d on one split and seed
cmaes-vs-adam 150 5 optimizers (adam at its chosen lr) x 3 d x 5 splits x 2 seeds
baselines 150 3 baselines and 3 tuned x 5 tasks x 5 splits
EOF_REAL

built=$("$BBTBENCH" list | awk '$1 == "optimizer" { print $2 }')
is_built() { printf '%s\n' "$built" | grep -qx "$1"; }

# The preset with its optimizers cut to those built (random if none).
adapt() {
	awk -v built="$(printf '%s ' $built)" '
	BEGIN { n = split(built, b, " "); for (i = 1; i <= n; i++) have[b[i]] = 1 }
	/^\[/ { section = $0 }
	/^optimizer *=/ {
		sub(/^optimizer *= */, "")
		n = split($0, v, / *, */); out = ""
		for (i = 1; i <= n; i++) if (v[i] in have) out = out (out == "" ? "" : ", ") v[i]
		if (out == "") out = "random"
		if (section == "[run]" && index(out, ",")) out = "random"
		print "optimizer = " out; next
	}
	{ print }' "$1"
}

for name in $presets; do
	adapt "$A/synthetic/$name.ini" >"$TMP/$name.ini"
	missing=""
	for o in $(sed -n 's/^optimizer *= *//p' "$A/synthetic/$name.ini" | tr ',' ' '); do
		is_built "$o" || missing="$missing $o"
	done
	[ -z "$missing" ] || echo "# synthetic/$name.ini: without$missing (not built): random runs instead"
	n=$("$BBTBENCH" grid --list "$TMP/$name.ini" | wc -l)
	run "$BBTBENCH" grid -q --jobs 2 --out "$TMP/r" "$TMP/$name.ini"
	like "$out" "$n runs: $n finished, 0 skipped .*, 0 failed" "synthetic/$name.ini: $n runs finish"
	key=$(sed -n '/^\[grid\]/,/^\[/{ /^[a-z]/{ s/ *=.*//p; q; } }' "$A/synthetic/$name.ini")
	run "$BBTBENCH" table "$TMP/r/synthetic-$name" --rows optimizer --cols "$key"
	ok $rc "synthetic/$name.ini: a table by $key"
	[ "$(printf '%s\n' "$out" | grep -c '^| ')" -ge 2 ]
	ok $? "synthetic/$name.ini: header and rows"
done
done_testing
