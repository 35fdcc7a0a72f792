# t/lib.sh - a small TAP producer for the shell tests, sourced by t/*.sh.
# Run through `make check`, which sets BBTBENCH, top_srcdir, top_builddir.

: "${BBTBENCH:?run through make check}"
tap_n=0
tap_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bbt-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
unset BBTBENCH_PLUGIN_PATH BBTBENCH_DATA BBTBENCH_TASKS_PATH
# no per-user plugins but a test's own ($XDG_DATA_HOME/bbtbench/plugins)
XDG_DATA_HOME="$TMP/xdg-data"
export XDG_DATA_HOME

plan() { echo "1..$1"; }

# ok STATUS DESCRIPTION: pass when STATUS is 0
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# is GOT WANT DESCRIPTION
is() {
	[ "$1" = "$2" ]
	st=$?
	ok $st "$3"
	[ $st -eq 0 ] || echo "#   got '$1', want '$2'" >&2
}

# like TEXT PATTERN DESCRIPTION: TEXT matches the extended regular expression
like() {
	printf '%s\n' "$1" | grep -Eq -- "$2"
	st=$?
	ok $st "$3"
	[ $st -eq 0 ] || printf '#   %s\n#   does not match /%s/\n' "$1" "$2" >&2
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # skip $1"
}

# run CMD...: sets $out (stdout), $err (stderr) and $rc
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

done_testing() {
	[ "$tap_failed" -eq 0 ]
}
