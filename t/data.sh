#!/bin/sh
# t/data.sh - task data through the command line, on small made-up files:
# `bbtbench tasks` calls a task ready exactly when `run` finds its data,
# unlabelled rows are counted in result.json, and inputs that are not
# data files are refused at once with the whole path and the reason.
. "${top_srcdir:-.}/t/lib.sh"
plan 17

tasks="$TMP/tasks"
data="$TMP/data"
mkdir -p "$tasks" "$data/SST-2" "$data/k-shot/SST-2/4-42"
sed 's/^name: sst2/name: fake/' "$top_srcdir/tasks/sst2.yaml" >"$tasks/fake.yaml"
BBTBENCH_TASKS_PATH=$tasks
export BBTBENCH_TASKS_PATH

# rows FILE N: a GLUE TSV of N rows per label
rows() {
	printf 'sentence\tlabel\n' >"$1"
	i=0
	while [ $i -lt "$2" ]; do
		printf 'a good film %d\t1\na bad film %d\t0\n' $i $i >>"$1"
		i=$((i + 1))
	done
}
rows "$data/SST-2/train.tsv" 20
rows "$data/SST-2/dev.tsv" 5
for f in train dev test; do rows "$data/k-shot/SST-2/4-42/$f.tsv" 4; done

# agree WHAT: `tasks` says fake is ready exactly when a run on it succeeds.
agree() {
	run "$BBTBENCH" tasks --data-dir "$data" --k-shot 4
	tasks_out=$out
	printf '%s\n' "$tasks_out" | grep -Eq '^fake +ready'
	ready=$?
	run "$BBTBENCH" --optimizer random --backend synthetic --task fake --data-dir "$data" \
		--k-shot 4 --budget 20 --dim 10 --prompt-len 3 --out "$TMP/res" --quiet --force
	[ $ready -eq 0 ] && [ $rc -eq 0 ] || { [ $ready -ne 0 ] && [ $rc -ne 0 ]; }
	ok $? "$1: tasks (ready: $ready) and run (exit $rc) agree"
}

agree "all files good"
like "$tasks_out" "fake +ready" "all files good: ready"

mv "$data/SST-2/dev.tsv" "$TMP/dev.tsv"
printf 'text\tlabel\nfine\t1\n' >"$data/SST-2/dev.tsv"
agree "unparsable full test file, k-shot test.tsv present"
like "$tasks_out" "fake +not ready: .*SST-2/dev.tsv:1: header has no column \"sentence\"" \
	"unparsable test file: not ready, with the reader's error"
mv "$TMP/dev.tsv" "$data/SST-2/dev.tsv"

mv "$data/SST-2/train.tsv" "$TMP/train.tsv"
printf 'sentence\tlabel\nfine\tmaybe\n' >"$data/SST-2/train.tsv"
agree "bad full train file, k-shot folder present"
like "$tasks_out" "fake +not ready: .*SST-2/train.tsv:2: label \"maybe\"" \
	"bad train file: not ready, with the reader's error"
rm "$data/SST-2/train.tsv"
agree "no full train file, k-shot folder present"
like "$tasks_out" "shots +k-shot/SST-2/4-42/train.tsv" "no full train file: shots from the k-shot folder"
mv "$TMP/train.tsv" "$data/SST-2/train.tsv"

# Unlabelled rows: counted per split in result.json.
cp "$tasks/fake.yaml" "$tasks/dash.yaml"
sed -i 's/^name: fake/name: dash/' "$tasks/dash.yaml"
echo 'unlabelled: "-"' >>"$tasks/dash.yaml"
printf 'who knows\t-\nno idea\t-\n' >>"$data/SST-2/train.tsv"
printf 'maybe\t-\n' >>"$data/SST-2/dev.tsv"
run "$BBTBENCH" --optimizer random --backend synthetic --task dash --data-dir "$data" \
	--k-shot 4 --budget 20 --dim 10 --prompt-len 3 --out "$TMP/res" --quiet --json
ok $rc "a task with unlabelled rows runs"
like "$(printf '%s' "$out" | tr -d ' \n')" '"unlabelled_skipped":\{"train":2,"dev":0,"test":1\}' \
	"result.json counts the unlabelled rows per split"
run "$BBTBENCH" tasks --data-dir "$data" --k-shot 4
like "$out" "sampled from SST-2/train.tsv \\(40 rows; 2 unlabelled skipped\\)" \
	"tasks counts the unlabelled rows"
run "$BBTBENCH" --optimizer random --backend synthetic --task fake --data-dir "$data" \
	--k-shot 4 --budget 20 --dim 10 --prompt-len 3 --out "$TMP/res" --quiet --force
ok $((rc == 2 ? 0 : 1)) "a task without unlabelled: refuses a '-' label (exit 2)"
like "$err" "SST-2/train.tsv:42: label \"-\" is not one of 0, 1" "  naming the file and line"

# Not data files: refused at once, not waited on or read without end.
mkfifo "$TMP/fifo.tsv"
mkdir -p "$TMP/fifo-data/SST-2"
mv "$TMP/fifo.tsv" "$TMP/fifo-data/SST-2/train.tsv"
run timeout 60 "$BBTBENCH" tasks --data-dir "$TMP/fifo-data" --k-shot 4
ok $rc "tasks with a FIFO as train file: exits 0, not blocked"
like "$out" "SST-2/train.tsv: not a regular file" "  the FIFO is named, with the reason"
ln -s /dev/zero "$TMP/fifo-data/SST-2/dev.tsv"
run timeout 60 "$BBTBENCH" --optimizer random --backend synthetic --task fake \
	--data-dir "$TMP/fifo-data" --k-shot 4 --out "$TMP/res" --quiet
ok $((rc == 2 ? 0 : 1)) "run with /dev/zero as test file: refused at once (exit 2)"

# A long data path: the message keeps its reason.
long="$TMP"
for i in 1 2 3 4 5 6; do long="$long/$(printf '%0120d' $i)"; done
run "$BBTBENCH" --optimizer random --backend synthetic --task fake --data-dir "$long" \
	--k-shot 4 --out "$TMP/res" --quiet
like "$err" "$long/SST-2/train.tsv: no such file \\(expected GLUE TSV with a header naming sentence, label\\)" \
	"a ${#long}-byte data path: the error keeps the reason"
done_testing
