#!/bin/sh
# t/blas_warn.sh - the BLAS in use is shown by `list`, and an OpenBLAS running
# kernels far older than the CPU (faked through the BBTBENCH_TEST_BLAS_CORE
# test hook, see src/core/blas.h) is a warning with its fix, said once per
# process, also under --quiet, and by a grid with workers only once.
. "${top_srcdir:-.}/t/lib.sh"
plan 9
unset BBTBENCH_TEST_BLAS_CORE

run "$BBTBENCH" list
ok $rc "list exits 0"
like "$out" "^BLAS: " "list shows the BLAS in use"

if ! printf '%s\n' "$out" | grep -q '^BLAS: .*, core '; then
	for i in 4 5 6 7 8 9; do skip "this BLAS does not name its core"; done
	done_testing
	exit
fi

export BBTBENCH_TEST_BLAS_CORE=Prescott
run "$BBTBENCH" list
like "$out" "^BLAS: .*core Prescott.*OPENBLAS_CORETYPE=SkylakeX" \
	"list: a fallback core is shown with its fix"

warning='warning: OpenBLAS runs its Prescott kernels.*OPENBLAS_CORETYPE=SkylakeX'
run "$BBTBENCH" --optimizer random --backend synthetic --task toy --budget 50 --seed 1 \
	--quiet --out "$TMP/r"
ok $rc "a run on a fallback core still exits 0"
like "$err" "$warning" "run --quiet: the warning names the core and the fix"
is "$(printf '%s\n' "$err" | grep -c 'OPENBLAS_CORETYPE')" 1 "run: said once"

run "$BBTBENCH" grid -q --jobs 2 --out "$TMP/g" "$top_srcdir/t/grids/small.ini"
ok $rc "a grid with 2 workers exits 0"
is "$(printf '%s\n' "$err" | grep -c 'OPENBLAS_CORETYPE')" 1 "grid --jobs 2: said once"

BBTBENCH_TEST_BLAS_CORE=SkylakeX
run "$BBTBENCH" --optimizer random --backend synthetic \
	--task toy --budget 50 --seed 1 --quiet --out "$TMP/s"
is "$(printf '%s\n' "$err" | grep -c 'OPENBLAS_CORETYPE')" 0 "a core that fits: nothing said"
done_testing
