#!/bin/sh
# sdk-examples/installcheck.sh - what `make installcheck` runs: the plugin
# SDK as a stranger meets it. Builds the example optimizer and backend of
# this folder with nothing but pkg-config and cc, drops them into plugin
# folders and runs them with an installed bbtbench.
#
#   installcheck.sh EXAMPLES_DIR BBTBENCH PKGCONFIG_DIR [MOVED_PREFIX]
#
# With MOVED_PREFIX (an install staged with DESTDIR and moved there), it
# checks that the moved bbtbench takes its plugins and tasks from the moved
# tree, and that the moved bbtbench.pc points into it too.
# Prints one line per check; exits 1 when one fails.

examples=$1 bbtbench=$2 pcdir=$3 moved=$4
: "${CC:=cc}" "${PKG_CONFIG:=pkg-config}"
PKG_CONFIG_PATH=$pcdir
XDG_DATA_HOME=        # set below to a folder of this check's own
export PKG_CONFIG_PATH
unset BBTBENCH_PLUGIN_PATH BBTBENCH_TASKS_PATH BBTBENCH_DATA XDG_DATA_HOME

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bbt-installcheck.XXXXXX") || exit 1
failed=0
check() {   # check STATUS WHAT
	if [ "$1" -eq 0 ]; then echo "installcheck: ok - $2"
	else echo "installcheck: FAILED - $2 (files in $tmp)"; failed=1; fi
}
contains() { printf '%s\n' "$1" | grep -Eq -- "$2"; }

# The two plugins, as the README tells an outsider to build them.
cflags=$($PKG_CONFIG --cflags bbtbench) && libs=$($PKG_CONFIG --libs bbtbench)
check $? "pkg-config --cflags --libs bbtbench (PKG_CONFIG_PATH=$pcdir): $cflags $libs"
mkdir -p "$tmp/plugins" && chmod 700 "$tmp" "$tmp/plugins"
# shellcheck disable=SC2086 # the flags are words
$CC -shared -fPIC $cflags -o "$tmp/plugins/optimizer_oneplusone.so" \
	"$examples/oneplusone.c" $libs -lm
check $? "cc -shared -fPIC builds the out-of-tree optimizer"
# shellcheck disable=SC2086
$CC -shared -fPIC $cflags -o "$tmp/plugins/backend_bow.so" "$examples/bow.c" $libs -lm
check $? "cc -shared -fPIC builds the out-of-tree backend"

# A folder of the check's own for per-user plugins, empty unless filled.
XDG_DATA_HOME="$tmp/xdg"
export XDG_DATA_HOME

if [ -z "$moved" ]; then
	out=$("$bbtbench" list --plugin-dir "$tmp/plugins" 2>&1)
	contains "$out" "optimizer +oneplusone +ABI" && contains "$out" "backend +bow +ABI"
	check $? "$bbtbench list shows both, from --plugin-dir"
	"$bbtbench" run --plugin-dir "$tmp/plugins" --optimizer oneplusone --backend bow \
		--task toy --dim 20 --budget 60 --out "$tmp/results" -q >"$tmp/run.out" 2>&1 &&
		grep -q '"status": *"finished"' "$tmp"/results/toy/oneplusone-bow-*/result.json
	check $? "a short run of the two on the installed task toy finishes"
	"$bbtbench" run --plugin-dir "$tmp/plugins" --optimizer oneplusone --backend synthetic \
		--task toy --dim 20 --budget 60 --out "$tmp/results" -q >"$tmp/run2.out" 2>&1
	check $? "the out-of-tree optimizer runs on the installed synthetic backend"

	mkdir -p "$XDG_DATA_HOME/bbtbench/plugins" && chmod -R go-w "$XDG_DATA_HOME" &&
		cp "$tmp/plugins"/*.so "$XDG_DATA_HOME/bbtbench/plugins/"
	out=$("$bbtbench" list 2>&1)
	contains "$out" "bbtbench/plugins/optimizer_oneplusone.so \\(per-user\\)" &&
		contains "$out" "bbtbench/plugins/backend_bow.so \\(per-user\\)"
	check $? "dropped into \$XDG_DATA_HOME/bbtbench/plugins, both are listed"
else
	out=$("$bbtbench" list 2>&1)
	contains "$out" "$moved/.*/optimizer_cmaes\\.so \\(installed\\)"
	check $? "the moved bbtbench finds its installed plugins in the moved tree (the .so itself)"
	contains "$out" "toy .*$moved/.*/tasks/toy\\.yaml"
	check $? "and its installed tasks in the moved tree"
	"$bbtbench" run --optimizer cmaes --backend synthetic --task toy --budget 40 \
		--out "$tmp/results" -q >"$tmp/run.out" 2>&1
	check $? "and runs with them"

	plugindir=$($PKG_CONFIG --variable=plugindir bbtbench)
	case $plugindir in
	"$moved"/*)
		cp "$tmp/plugins/optimizer_oneplusone.so" "$plugindir/" &&
			out=$("$bbtbench" list 2>&1) &&
			contains "$out" "/optimizer_oneplusone.so \\(installed\\)"
		check $? "the moved bbtbench.pc's plugindir is the moved tree's, and a plugin put there is listed"
		;;
	*)
		echo "installcheck: skipped - bbtbench.pc has a fixed prefix (libdir is not \${exec_prefix}/lib)"
		;;
	esac
fi

[ "$failed" -eq 0 ] && rm -rf "$tmp"
exit "$failed"
