#!/bin/sh
# t/cli.sh - the command line: help for every command, version, list,
# exit codes, INI precedence, a plugin dropped in without rebuilding.
. "${top_srcdir:-.}/t/lib.sh"
plan 44

run "$BBTBENCH" --help
ok $rc "--help exits 0"
like "$out" "Commands:" "--help lists the commands"
for cmd in run list tasks grid table plot help version; do
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

run "$BBTBENCH" list
ok $rc "list exits 0"
like "$out" "optimizer +random +ABI 1\\.[0-9]+" "list shows random with its ABI"
like "$out" "plugins/optimizers/random/optimizer_random.la \\(build tree\\)" "and its path"
like "$out" "toy +Synthetic review sentiment" "list shows the tasks"

# A module dropped into a plugin folder: listed and usable, no rebuild.
mkdir -p "$TMP/plugins"
cp "$top_builddir/t/plugins/.libs/extra.so" "$TMP/plugins/"
BBTBENCH_PLUGIN_PATH="$TMP/plugins" run "$BBTBENCH" list
like "$out" "optimizer +extra +ABI" "dropped-in plugin appears in list"
BBTBENCH_PLUGIN_PATH="$TMP/plugins" run "$BBTBENCH" --optimizer extra --backend synthetic \
	--task toy --dim 10 --prompt-len 4 --popsize 4 --budget 100 --out "$TMP/res" --quiet
ok $rc "and runs"
like "$out" "tolfun after 12 API calls" "its stop reason ends the run (3 rounds of 4)"

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
