#!/bin/sh
# t/cli.sh - the command line: help for every command, version, list,
# exit codes, INI precedence, a plugin dropped in without rebuilding.
. "${top_srcdir:-.}/t/lib.sh"
plan 77

run "$BBTBENCH" --help
ok $rc "--help exits 0"
like "$out" "Commands:" "--help lists the commands"
for cmd in run list tasks grid table plot report convert info serve help version; do
	run "$BBTBENCH" $cmd --help
	ok $rc "$cmd --help exits 0"
	like "$out" "." "$cmd --help prints something"
done
run "$BBTBENCH" run --help
like "$out" "--budget N .*API calls.*\\[8000\\]" "run --help documents --budget with its default"
run "$BBTBENCH" --version
like "$out" "^bbtbench [0-9]+\\.[0-9]+\\.[0-9]+ \\(plugin ABI [0-9]+\\.[0-9]+\\)$" "--version"
run "$BBTBENCH"
is "$rc" 2 "no arguments: usage, exit 2"
run "$BBTBENCH" frobnicate
is "$rc" 2 "unknown command: exit 2"
like "$err" "unknown command 'frobnicate'" "and says which"
run "$BBTBENCH" --budgte 5
is "$rc" 2 "unknown option: exit 2"
like "$err" "unknown option '--budgte'" "and names it"

# A mistyped name gets the nearest one: options, plugins, tasks.
run "$BBTBENCH" --optimzer cmaes
is "$rc" 2 "mistyped option: exit 2"
like "$err" "unknown option '--optimzer'; did you mean '--optimizer'\\?" "and the option meant"
run "$BBTBENCH" grid --jbos 2 x.ini
like "$err" "unknown option '--jbos'; did you mean '--jobs'\\?" "grid's options too"
run "$BBTBENCH" table --stirct x
like "$err" "unknown option '--stirct'; did you mean '--strict'\\?" "table's options too"
run "$BBTBENCH" plot --tilte x x
like "$err" "unknown option '--tilte'; did you mean '--title'\\?" "plot's options too"
run "$BBTBENCH" tasks --data-dri x
like "$err" "unknown option '--data-dri'; did you mean '--data-dir'\\?" "tasks' options too"
run "$BBTBENCH" list --optoins
like "$err" "unknown option '--optoins'; did you mean '--options'\\?" "list's options too"
for typo in cmaess CMAES zo_adam; do
	run "$BBTBENCH" --optimizer $typo --backend synthetic --task toy --out "$TMP/res" --quiet
	like "$rc $err" "^2 .*no optimizer plugin named '$typo'; did you mean '(cmaes|zo-adam)'\\?" \
		"--optimizer $typo: exit 2, did you mean"
done
run "$BBTBENCH" --backend synthetic --task sst-2 --out "$TMP/res" --quiet
like "$rc $err" "^2 .*task \"sst-2\" not found.*did you mean 'sst2'\\?" "--task sst-2: did you mean"
like "$err" "tasks: .*rte.*toy" "and the tasks there are"
if "$BBTBENCH" list | grep -Eq "backend +ggml"; then
	skip "this build has the ggml backend"
else
	run "$BBTBENCH" --backend ggml --task toy --out "$TMP/res" --quiet
	like "$rc $err" "^2 .*backend plugin named 'ggml': this build has none, configure skipped it \\(.*README" \
		"--backend ggml without ggml: not built, why, and where to read"
fi

run "$BBTBENCH" list
ok $rc "list exits 0"
like "$out" "optimizer +random +ABI 1\\.[0-9]+" "list shows random with its ABI"
like "$out" "plugins/optimizers/random/optimizer_random.la \\(build tree\\)" "and its path"
like "$out" "toy +Synthetic review sentiment" "list shows the tasks"

# A module dropped into a plugin folder under its KIND_NAME file name:
# listed and usable, no rebuild.
mkdir -p "$TMP/plugins"
cp "$top_builddir/t/plugins/.libs/extra.so" "$TMP/plugins/optimizer_extra.so"
BBTBENCH_PLUGIN_PATH="$TMP/plugins" run "$BBTBENCH" list
like "$out" "optimizer +extra +ABI" "dropped-in plugin appears in list"
BBTBENCH_PLUGIN_PATH="$TMP/plugins" run "$BBTBENCH" --optimizer extra --backend synthetic \
	--task toy --dim 10 --prompt-len 4 --popsize 4 --budget 100 --out "$TMP/res" --quiet
ok $rc "and runs"
like "$out" "tolfun after 12 API calls" "its stop reason ends the run (3 rounds of 4)"

# A run opens only the plugins it uses: the constructor of a module
# dropped beside them (under any name) must not run; `list` opens all.
mkdir -p "$TMP/drop"
cp "$top_builddir/t/plugins/.libs/marker.so" "$TMP/drop/marker.so"
cp "$top_builddir/t/plugins/.libs/marker.so" "$TMP/drop/optimizer_marker.so"
export BBT_TEST_MARKER="$TMP/marker"
run "$BBTBENCH" --plugin-dir "$TMP/drop" --optimizer random --backend synthetic --task toy \
	--dim 5 --prompt-len 4 --budget 20 --out "$TMP/res" --quiet
ok $rc "a run with other modules in its plugin folder"
test ! -e "$TMP/marker"
ok $? "the run did not load the modules it does not use"
cat >"$TMP/g.ini" <<INI
[grid]
seed = 1, 2
[run]
optimizer = random
backend = synthetic
task = toy
dim = 5
prompt-len = 4
budget = 20
INI
run "$BBTBENCH" grid -q --plugin-dir "$TMP/drop" --out "$TMP/res" "$TMP/g.ini"
ok $rc "a grid with other modules in its plugin folder"
test ! -e "$TMP/marker"
ok $? "the grid did not load the modules it does not use"
cp "$top_builddir/t/plugins/.libs/extra.so" "$TMP/drop/extra.so"
run "$BBTBENCH" list --plugin-dir "$TMP/drop"
test -e "$TMP/marker"
ok $? "list opens every module"
like "$out" "optimizer_marker.so: not a bbtbench plugin" "and reports the one that is no plugin"
like "$out" "only \`list\` sees it: a run opens files named optimizer_NAME.so" \
	"and flags a plugin a run would not find under its file name"
unset BBT_TEST_MARKER

# Code that others can replace is refused, as ssh refuses such keys.
chmod o+w "$TMP/plugins"
run "$BBTBENCH" --plugin-dir "$TMP/plugins" --optimizer extra --backend synthetic --task toy \
	--dim 5 --prompt-len 4 --budget 20 --out "$TMP/res" --quiet
is "$rc" 2 "a world-writable plugin folder: exit 2"
like "$err" "$TMP/plugins.*refused.*writable by others.*chmod go-w" "with a line that says why"
chmod o-w "$TMP/plugins"
# group-writable by a group that is not the owner's own (nogroup)
if chgrp 65534 "$TMP/plugins/optimizer_extra.so" 2>/dev/null; then
	chmod g+w "$TMP/plugins/optimizer_extra.so"
	run "$BBTBENCH" --plugin-dir "$TMP/plugins" --optimizer extra --backend synthetic \
		--task toy --dim 5 --prompt-len 4 --budget 20 --out "$TMP/res" --quiet
	is "$rc" 2 "a plugin file writable by another group: exit 2"
	like "$err" "optimizer_extra.so: refused.*writable by others" "with a line that says why"
	run "$BBTBENCH" list --plugin-dir "$TMP/plugins"
	like "$out" "optimizer_extra.so: refused" "list reports the refused file too"
	chmod g-w "$TMP/plugins/optimizer_extra.so"
else
	for i in 1 2 3; do skip "cannot give a file to group 65534 here"; done
fi

# INI file, then the command line on top.
cat >"$TMP/exp.ini" <<INI
[run]
optimizer = random
backend = synthetic
task = toy
dim = 12
budget = 40
prompt-len = 4
out = $TMP/res
[optimizer]
distribution = normal
INI
run "$BBTBENCH" --config "$TMP/exp.ini" --budget 30 --json --quiet
ok $rc "run from an INI file"
like "$out" '"budget": 30' "the command line beats the INI file"
like "$out" '"dim": 12' "the INI file beats the default"
like "$out" '"distribution": "normal"' "[optimizer] options reach the optimizer"

# The experiment is one folder under --out, never a way out of it.
run "$BBTBENCH" run --help
like "$out" "--experiment NAME .*a plain word \\(letters, digits" "--help says what a name may be"
# (An absolute path inside $TMP: a bbtbench without the check would write there, not in /.)
mkdir "$TMP/x"
for exp in "$TMP/x/abs" ../.. .hidden; do
	run "$BBTBENCH" --optimizer random --task toy --dim 4 --prompt-len 2 --budget 8 \
		--out "$TMP/x/a/b" --experiment "$exp" --quiet
	is "$rc" 2 "--experiment '$exp': exit 2"
	like "$err" "experiment '$exp': expected a plain word" "--experiment '$exp': says why"
done
is "$(ls -A "$TMP/x")" "" "and nothing was written"
done_testing
