#!/bin/sh
# t/readme.sh - the README's one-line set-up works where a newcomer runs it:
# as root in a bare Debian container (no sudo there), on a machine that never
# ran apt-get update, and with the packages .ci/run installs. apt-get and
# sudo are stand-ins that only log their arguments. And every BBTBENCH_*
# variable the program reads is documented, in the README and in --help.
. "${top_srcdir:-.}/t/lib.sh"
plan $((4 + 2 * $(cat "$top_srcdir"/src/*/*.c | grep -o 'getenv("BBTBENCH_[A-Z_]*")' | sort -u | wc -l)))

line=$(grep -m1 'apt-get install' "$top_srcdir/README.md" | sed 's/^ *//')
setup=${line%% && autoreconf*}
mkdir "$TMP/bin"
printf '#!/bin/sh\necho "apt-get $*" >>"$LOG"\n' >"$TMP/bin/apt-get"
printf '#!/bin/sh\necho sudo >>"$LOG"\nexec "$@"\n' >"$TMP/bin/sudo"
chmod +x "$TMP/bin/apt-get" "$TMP/bin/sudo"

LOG="$TMP/log" PATH="$TMP/bin:$PATH" sh -c "$setup"
ok $? "the set-up part of the README's line runs: $setup"
like "$(grep -m1 apt-get "$TMP/log")" "^apt-get update" "it updates the package lists first"
if [ "$(id -u)" -eq 0 ]; then
	! grep -q sudo "$TMP/log"
	ok $? "as root it does not need sudo"
else
	grep -q sudo "$TMP/log"
	ok $? "as a user it goes through sudo"
fi

packages() { tr -s ' \t\\' '\n' | grep -v -e '^-' -e '^$' -e 'apt-get' -e '^install$' -e 'sudo' | sort; }
ci=$(awk '/apt-get install/ { f = 1 } f { print } f && !/\\$/ { exit }' "$top_srcdir/.ci/run" | packages)
readme=$(printf '%s\n' "$setup" | sed 's/.*apt-get install//' | packages)
is "$readme" "$ci" "the same packages as .ci/run"

vars=$(cat "$top_srcdir"/src/*/*.c | grep -o 'getenv("BBTBENCH_[A-Z_]*")' | sed 's/getenv("\(.*\)")/\1/' | sort -u)
help=$("$BBTBENCH" --help)
for v in $vars; do
	grep -q "\`$v\`" "$top_srcdir/README.md"
	ok $? "the README documents $v"
	like "$help" "^  $v " "bbtbench --help documents $v"
done
done_testing
