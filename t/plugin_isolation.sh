#!/bin/sh
# t/plugin_isolation.sh - a plugin is compiled against the public headers
# only (include/, never src/), links no host library, and no plugin source
# is compiled into two modules (shared engines are convenience libraries).
#
# It asks make for the flags of this very build (this Makefile, its
# variables expanded by make itself), so a plugin target that adds
# -I$(top_srcdir)/src, or has no CPPFLAGS of its own and so falls back to
# the host's AM_CPPFLAGS, fails here; then it compiles a probe that
# includes host code with a plugin's flags, which must not build.
. "${top_srcdir:-.}/t/lib.sh"
: "${top_builddir:?run through make check}"

# mkvar VAR: VAR as make expands it in this build's Makefile
mkvar() {
	case $1 in
	'$('*) printf 'bbt-print: ; @:\n$(info %s)\n' "$1" ;;
	*) printf 'bbt-print: ; @:\n$(info $(%s))\n' "$1" ;;
	esac > "$TMP/print.mk"
	(cd "$top_builddir" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s \
		--no-print-directory -f Makefile -f "$TMP/print.mk" bbt-print 2>/dev/null)
}

# Every libtool library under plugins/, built here or not (ggml without
# libggml): modules and the convenience libraries they share.
plugins=$(mkvar '$(patsubst %_SOURCES,%,$(filter plugins_%_la_SOURCES,$(.VARIABLES)))')
n=$(echo $plugins | wc -w)
plan $((3 * n + 4))

[ "$n" -ge 8 ]
ok $? "make names the plugin targets ($n)"

: > "$TMP/sources"
for canon in $plugins; do
	t=$canon
	flags=$(mkvar "${canon}_CPPFLAGS")
	[ -n "$flags" ]
	ok $? "$t has CPPFLAGS of its own (else the host's AM_CPPFLAGS with -I src apply)"
	printf '%s\n' "$flags" | tr ' \t' '\n\n' | grep -Eq -- '^-I(.*/)?src/?$'
	st=$?
	[ $st -ne 0 ]
	ok $? "$t: no -I .../src in '$flags'"
	libs="$(mkvar "${canon}_LIBADD") $(mkvar "${canon}_LDFLAGS")"
	case $libs in
	*libbbthost*) ok 1 "$t links no host library ($libs)" ;;
	*) ok 0 "$t links no host library" ;;
	esac
	for s in $(mkvar "${canon}_SOURCES"); do
		case $s in *.c) echo "$s $t" >> "$TMP/sources" ;; esac
	done
done
twice=$(awk '{ n[$1]++; m[$1] = m[$1] " " $2 } END { for (s in n) if (n[s] > 1) print s ":" m[s] }' \
	"$TMP/sources")
is "$twice" "" "no plugin source is compiled into two modules"

# A probe compiled as make compiles the native backend (its flags, from
# its build folder): the public headers build, host code does not.
cc=$(mkvar CC)
base="$(mkvar DEFS) $(mkvar DEFAULT_INCLUDES) $(mkvar plugins_backends_native_backend_native_la_CPPFLAGS) $(mkvar CPPFLAGS) $(mkvar CFLAGS)"
printf '#include "config.h"\n#include <bbtbench/plugin.h>\n#include <bbtbench/model/lmfile.h>\nint probe(void);\nint probe(void) { return BBT_OK; }\n' \
	> "$TMP/public.c"
printf '#include "config.h"\n#include "core/util.h"\nint probe(void);\nint probe(void) { return 0; }\n' \
	> "$TMP/host.c"
(cd "$top_builddir" && eval "$cc $base -fsyntax-only \"$TMP/public.c\"") 2>"$TMP/cc.err"
st=$?
ok $st "a plugin compiles against <bbtbench/plugin.h> and <bbtbench/model/lmfile.h>"
[ $st -eq 0 ] || sed 's/^/#   /' "$TMP/cc.err" >&2
(cd "$top_builddir" && eval "$cc $base -fsyntax-only \"$TMP/host.c\"") 2>"$TMP/cc.err"
st=$?
[ $st -ne 0 ] && grep -q 'core/util.h' "$TMP/cc.err"
ok $? "a plugin that includes host code (\"core/util.h\") does not compile"
done_testing
