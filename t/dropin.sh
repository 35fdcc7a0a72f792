#!/bin/sh
# t/dropin.sh - "drop a .so into a plugin folder" works literally: a module
# copied into the per-user folder ($XDG_DATA_HOME/bbtbench/plugins, else
# ~/.local/share/bbtbench/plugins) or into a build tree's top-level plugins/
# folder shows in `bbtbench list` and runs, with nothing rebuilt; list and
# --help say where they are searched.
. "${top_srcdir:-.}/t/lib.sh"
plan 13

so="$top_builddir/t/plugins/.libs/extra.so"
drop() { mkdir -p "$1" && chmod 700 "$1" && cp "$so" "$1/optimizer_extra.so"; }

drop "$TMP/xdg/bbtbench/plugins"
XDG_DATA_HOME="$TMP/xdg" run "$BBTBENCH" list
like "$out" "optimizer +extra +ABI" "a module in \$XDG_DATA_HOME/bbtbench/plugins is listed"
like "$out" "/xdg/bbtbench/plugins/optimizer_extra.so \\(per-user\\)" "from the per-user folder"
like "$out" "/xdg/bbtbench/plugins \\(per-user\\)" "which the search path shows"
XDG_DATA_HOME="$TMP/xdg" run "$BBTBENCH" run --optimizer extra --backend synthetic --task toy \
	--budget 20 --out "$TMP/results" -q
ok $rc "and runs ($err)"

drop "$TMP/home/.local/share/bbtbench/plugins"
(unset XDG_DATA_HOME; HOME="$TMP/home" "$BBTBENCH" list) >"$TMP/out" 2>&1
like "$(cat "$TMP/out")" "/home/.local/share/bbtbench/plugins/optimizer_extra.so \\(per-user\\)" \
	"without XDG_DATA_HOME, ~/.local/share/bbtbench/plugins"

run "$BBTBENCH" list
like "$out" "/xdg-data/bbtbench/plugins \\(per-user; absent\\)" "a missing per-user folder is shown as absent"
! printf '%s\n' "$out" | grep -q "optimizer +extra"
ok $? "and adds nothing"

run "$BBTBENCH" list --help
like "$out" "XDG_DATA_HOME/bbtbench/plugins" "list --help gives the search order"
run "$BBTBENCH" --help
like "$out" "XDG_DATA_HOME" "--help names the per-user folder"

# A build tree made up here: a copy of the program beside a marker that
# names this source tree, and a module dropped into its plugins/ folder.
# $BBTBENCH is libtool's wrapper script; the program is .libs/bbtbench,
# which finds the uninstalled libbbtmodel through LD_LIBRARY_PATH, as the
# wrapper's own run of it does (its rpath is $ORIGIN/../lib, for an install).
prog=$(dirname "$BBTBENCH")/.libs/bbtbench
head -c 4 "$BBTBENCH" | grep -q ELF && prog=$BBTBENCH
LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
mkdir -p "$TMP/tree" && chmod 700 "$TMP/tree"
cp "$prog" "$TMP/tree/bbtbench"
src=$(cd "$top_srcdir" && pwd -P)   # as the program resolves it
printf 'srcdir=%s\n' "$top_srcdir" >"$TMP/tree/bbtbench-build-tree"
drop "$TMP/tree/plugins"
run "$TMP/tree/bbtbench" list
like "$out" "/tree/plugins/optimizer_extra.so \\(build tree\\)" \
	"a module in the build tree's top-level plugins/ is listed"
like "$out" "toy .*$src/tasks/toy.yaml" "the tasks come from the source tree the marker names"
rm "$TMP/tree/bbtbench-build-tree"
run "$TMP/tree/bbtbench" list
[ "$rc" -eq 0 ] && ! printf '%s\n' "$out" | grep -q "optimizer +extra"
ok $? "without the marker it runs, as no build tree"
! printf '%s\n' "$out" | grep -q "$src/tasks"
ok $? "and takes no tasks from the source tree"
done_testing
