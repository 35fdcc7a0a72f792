#!/bin/sh
# t/bad_input.sh - malformed INI, task YAML and data files: one clear line
# naming the file, the line or field and what was expected; exit 2; and
# earlier results left exactly as they were.
. "${top_srcdir:-.}/t/lib.sh"
plan 34

mkdir -p "$TMP/data/mini"
printf 'sentence\tlabel\n' >"$TMP/data/mini/head"
good() {
	cp "$TMP/data/mini/head" "$TMP/data/mini/train.tsv"
	for i in 1 2 3 4; do
		printf 'a good great film %s\t1\nan awful bad film %s\t0\n' $i $i >>"$TMP/data/mini/train.tsv"
	done
	cp "$TMP/data/mini/train.tsv" "$TMP/data/mini/test.tsv"
}
cat >"$TMP/mini.yaml" <<'YAML'
name: mini
description: test task
metric: acc
fields: [sentence]
template: "{sentence} . It was {mask} ."
labels:
  - {value: "0", word: bad}
  - {value: "1", word: great}
train:
  file: mini/train.tsv
  format: tsv
  header: true
  columns: {sentence: sentence, label: label}
test:
  file: mini/test.tsv
  format: tsv
  header: true
  columns: {sentence: sentence, label: label}
YAML
mini() {
	run "$BBTBENCH" --optimizer random --backend synthetic --task "$TMP/mini.yaml" \
		--data-dir "$TMP/data" --k-shot 2 --dim 8 --prompt-len 4 --budget 40 \
		--out "$TMP/res" --quiet --force "$@"
}

good
mini
ok $rc "a good run first"
sum_before=$(find "$TMP/res" -type f -exec md5sum {} + | sort)

# expect DESCRIPTION PATTERN: exit 2, one line matching PATTERN
expect() {
	is "$rc" 2 "$1: exit 2"
	like "$err" "$2" "$1: $(printf '%s' "$err" | head -n 1)"
}

printf 'sentence\tlabel\nonly one column\n' >"$TMP/data/mini/train.tsv"
mini
expect "missing column" "mini/train.tsv:2:"

good
printf 'a fine film\t7\n' >>"$TMP/data/mini/train.tsv"
mini
expect "label not in the label set" "mini/train.tsv:10:.*7"

good
: >"$TMP/data/mini/train.tsv"
mini
expect "empty file" "mini/train.tsv.*empty"

good
printf 'caf\351 film\t1\n' >>"$TMP/data/mini/train.tsv"
mini
expect "non-UTF-8 data" "mini/train.tsv:10:.*UTF-8"

good
rm "$TMP/data/mini/test.tsv"
mini
expect "missing data file" "mini/test.tsv"

good
sed 's/{mask}/MASK/' "$TMP/mini.yaml" >"$TMP/nomask.yaml"
run "$BBTBENCH" --task "$TMP/nomask.yaml" --data-dir "$TMP/data" --out "$TMP/res" --quiet
expect "template without {mask}" "nomask.yaml"

printf 'name: [unclosed\n' >"$TMP/broken.yaml"
run "$BBTBENCH" --task "$TMP/broken.yaml" --out "$TMP/res" --quiet
expect "malformed YAML" "broken.yaml:[0-9]+"

printf '[run]\nbudget = lots\n' >"$TMP/bad.ini"
run "$BBTBENCH" --config "$TMP/bad.ini" --out "$TMP/res" --quiet
expect "bad INI value" "bad.ini:2: budget 'lots': expected an integer"

printf '; budget first\nbudget = 5\n[run]\ntask = toy\n' >"$TMP/pre.ini"
run "$BBTBENCH" --config "$TMP/pre.ini" --out "$TMP/res" --quiet
expect "a key before the first [section]" "pre.ini:2: 'budget' is outside any section"

printf '[run]\nbudget = 5\ntask = toy\nbudget = 7\n' >"$TMP/dup.ini"
run "$BBTBENCH" --config "$TMP/dup.ini" --out "$TMP/res" --quiet
expect "a key set twice" "dup.ini:4: 'budget' is set twice in \\[run\\] \\(first on line 2\\)"

printf '[run]\ntask = nosuch\n' >"$TMP/task.ini"
run "$BBTBENCH" --config "$TMP/task.ini" --out "$TMP/res" --quiet
expect "an unknown task in an INI file" "task.ini:2: task \"nosuch\" not found"

printf '[run]\noptimizer = nosuch\n' >"$TMP/opt.ini"
run "$BBTBENCH" --config "$TMP/opt.ini" --out "$TMP/res" --quiet
expect "an unknown plugin in an INI file" "opt.ini:2: no optimizer plugin named 'nosuch'"

# A task's name is a folder under --out: ".." would write beside it.
sed 's/^name: mini$/name: ../' "$TMP/mini.yaml" >"$TMP/dotdot.yaml"
run "$BBTBENCH" --optimizer random --backend synthetic --task "$TMP/dotdot.yaml" \
	--data-dir "$TMP/data" --k-shot 2 --dim 8 --prompt-len 4 --budget 40 --out "$TMP/res" --quiet
expect "task name '..'" "dotdot.yaml:1: name: expected a plain word"

run "$BBTBENCH" --task toy --backend synthetic -O backend.hiden=3 --out "$TMP/res" --quiet
expect "unknown plugin option" "unknown option 'hiden'.*known options: hidden"

run "$BBTBENCH" grid "$TMP/missing.ini"
expect "missing grid file" "missing.ini: No such file"

run "$BBTBENCH" --config "$TMP/missing.ini" --out "$TMP/res" --quiet
expect "missing INI file" "missing.ini: No such file"

sum_after=$(find "$TMP/res" -type f -exec md5sum {} + | sort)
is "$sum_after" "$sum_before" "earlier results are untouched by every failed run"
done_testing
