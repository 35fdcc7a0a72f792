#!/bin/sh
# sdk-examples/installcheck.sh - what `make installcheck` runs: the plugin
# SDK as a stranger meets it. Builds the example optimizer and backend of
# this folder with nothing but pkg-config and cc, drops them into plugin
# folders and runs them with an installed bbtbench; builds the example tool
# on the installed model library (pkg-config bbtmodel) and has it write a
# GGUF vocabulary and tokenize a sentence with it.
#
#   installcheck.sh EXAMPLES_DIR BBTBENCH PKGCONFIG_DIR [MOVED_PREFIX]
#
# With MOVED_PREFIX (an install staged with DESTDIR and moved there), it
# checks that the moved bbtbench takes its plugins, its tasks and the
# shared libbbtmodel from the moved tree, and that the moved bbtbench.pc
# and bbtmodel.pc point into it too.
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

# A program on libbbtmodel, as bbtmodel.pc tells an outsider to build it
# (with an rpath: the prefix need not be one the dynamic linker searches).
mcflags=$($PKG_CONFIG --cflags bbtmodel) && mlibs=$($PKG_CONFIG --libs bbtmodel) &&
	mlibdir=$($PKG_CONFIG --variable=libdir bbtmodel)
check $? "pkg-config --cflags --libs bbtmodel: $mcflags $mlibs"
# shellcheck disable=SC2086
$CC $mcflags -o "$tmp/gguftok" "$examples/gguftok.c" $mlibs -Wl,-rpath,"$mlibdir"
check $? "cc builds the out-of-tree tool on libbbtmodel"
"$tmp/gguftok" --write "$tmp/vocab.gguf" &&
	"$tmp/gguftok" "$tmp/vocab.gguf" "An unbelievable movie: [MASK]!" >"$tmp/tokens" &&
	[ "$(tr '\n' ' ' <"$tmp/tokens")" = "5 an 6 un 7 ##believ 8 ##able 9 movie 12 : 4 [MASK] 13 ! " ]
check $? "it writes a GGUF vocabulary, reads it back and tokenizes a sentence (WordPiece)"
case $moved in
?*)
	case $mlibdir in
	"$moved"/*) ldd "$tmp/gguftok" | grep -q "libbbtmodel[^ ]* => $moved/" ;;
	*) false ;;
	esac
	check $? "the moved bbtmodel.pc's libdir is the moved tree's, and the tool runs on its libbbtmodel"
	;;
esac

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
	# libbbtmodel by the $ORIGIN rpath (configure.ac), not from the
	# configured prefix; the backends on it load from the moved tree.
	ldd "$bbtbench" | grep -q "libbbtmodel[^ ]* => $moved/"
	check $? "the moved bbtbench loads libbbtmodel from the moved tree (ldd)"
	contains "$out" "$moved/.*/backend_native\\.so \\(installed\\)" ||
		! [ -e "${bbtbench%/*}/../lib/bbtbench/backend_native.so" ]
	check $? "and the native backend, linked to it, loads from the moved tree"

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
