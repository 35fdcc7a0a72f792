#!/bin/sh
# t/metric_f1.sh - the test_f1 a run reports: macro-F1 for three and four
# classes, the declared positive class's F1 for two. Every test example has
# gold label "0", so with a the test accuracy the F1 of label 0 is
# 2a / (1 + a) and every other label's F1 is 0 (no gold, sklearn's
# zero_division=0): macro-F1 = 2a / (L (1 + a)).
. "${top_srcdir:-.}/t/lib.sh"
plan 8

mkdir -p "$TMP/data/m"
# task NAME WORDS... [positive]: a task over len(WORDS) labels "0".."L-1"
task() {
	name=$1; shift
	{
		printf 'name: %s\nmetric: acc\nfields: [sentence]\n' "$name"
		printf 'template: "{sentence} . It was {mask} ."\nlabels:\n'
		i=0
		for w in $WORDS; do printf '  - {value: "%s", word: %s}\n' $i $w; i=$((i + 1)); done
		[ -n "$POSITIVE" ] && printf 'positive: "%s"\n' "$POSITIVE"
		for s in train test; do
			printf '%s:\n  file: m/%s-%s.tsv\n  format: tsv\n  header: true\n' $s $name $s
			printf '  columns: {sentence: sentence, label: label}\n'
		done
	} >"$TMP/$name.yaml"
	printf 'sentence\tlabel\n' >"$TMP/data/m/$name-train.tsv"
	printf 'sentence\tlabel\n' >"$TMP/data/m/$name-test.tsv"
	i=0
	for w in $WORDS; do
		for k in 1 2 3 4; do
			printf 'a %s film %s\t%s\n' $w $k $i >>"$TMP/data/m/$name-train.tsv"
			# the test set: every word, all labelled 0
			printf 'the %s story %s\t0\n' $w $k >>"$TMP/data/m/$name-test.tsv"
		done
		i=$((i + 1))
	done
}
# metric KEY: a value of the "metrics" object in the result.json printed
metric() {
	printf '%s\n' "$out" | sed -n "s/^    \"$1\": \\(.*\\)\$/\\1/p" | tr -d ','
}
# close GOT WANT: |GOT - WANT| < 1e-9
close() { [ -n "$1" ] && awk -v g="$1" -v w="$2" 'BEGIN { d = g - w; exit !(d < 1e-9 && d > -1e-9) }'; }
manual() {
	run "$BBTBENCH" --backend synthetic --task "$TMP/$1.yaml" --data-dir "$TMP/data" \
		--method manual --k-shot 2 --out "$TMP/res" --quiet --json --force
}

for L in 3 4; do
	WORDS=$(echo good bad dull great | cut -d' ' -f1-$L) POSITIVE= task c$L
	manual c$L
	ok $rc "$L classes: a run completes"
	a=$(metric test_acc) f=$(metric test_f1)
	want=$(awk -v a="$a" -v L=$L 'BEGIN { printf "%.17g", 2 * a / (L * (1 + a)) }')
	close "$f" "$want"
	ok $? "$L classes: test_f1 is the macro-F1 ($f, want $want from accuracy $a)"
done

# Binary: the F1 of the class the task declares positive, here label 0.
WORDS="good bad" POSITIVE=0 task b2
manual b2
ok $rc "2 classes, positive \"0\": a run completes"
a=$(metric test_acc) f=$(metric test_f1)
want=$(awk -v a="$a" 'BEGIN { printf "%.17g", 2 * a / (1 + a) }')
close "$f" "$want"
ok $? "2 classes: test_f1 is the positive class's F1 ($f, want $want)"
like "$out" '"positive": "good"' "result.json names the positive class by its word"

WORDS="good bad dull" POSITIVE=1 task p3
run "$BBTBENCH" --backend synthetic --task "$TMP/p3.yaml" --data-dir "$TMP/data" \
	--method manual --out "$TMP/res" --quiet
like "$err" "p3.yaml:[0-9]+: positive: .*2 labels" \
	"positive: on a three-class task is refused, naming the file and line"
done_testing
