#!/bin/sh
# t/pinned.sh - what a run does, pinned, so that reorganising the host's
# sources cannot change it unnoticed. For a handful of short runs (synthetic
# backend: CMA-ES, random search, BDPL, the manual and calibrated baselines,
# white-box Adam on the backend's gradient, ZO-Adam with --grad-check;
# native backend on t/tinymodel's tiny BERT: CMA-ES and the manual baseline)
# it checks three things against the values written below:
#   the run id (the run's folder name: a hash of the settings that matter),
#   `cksum` of trace.csv without its wall_s column (wall time varies), and
#   result.json's "metrics" (train loss, dev and test metrics).
#
# These values may change only in a commit that makes and states a change of
# behaviour. To regenerate them, run `make check TESTS=t/pinned.sh`: each case
# that differs prints its new values in t/pinned.log (PINNED_PRINT=1 in the
# environment prints every case's), to paste over the old ones.
#
# A continuous prompt goes through OpenBLAS (the projection and its
# transpose are sgemm calls, CMA-ES uses dgemm and dsyevd, the native
# backend is GEMMs), and its traces change with sgemm's rounding (an sgemm
# that sums in double, preloaded, changes every one): those cases were made
# with the core named in pinned_core (result.json's blas.core) and are
# skipped where OpenBLAS picks another. BDPL and the synthetic baselines call
# no BLAS and run everywhere. No case changed with the thread count
# (OPENBLAS_NUM_THREADS and OMP_NUM_THREADS 1 and 2, all this 2-core machine
# allows), so the test leaves it as it finds it.
#
# The native backend's own loops (its vector exp, erf and GELU, the norms)
# round as the compiler's flags let them: its cases were made with the
# default CFLAGS in pinned_cflags and are skipped in another build, such as
# make check-sanitize's -O1 (where the last digits of the loss differ).
. "${top_srcdir:-.}/t/lib.sh"

pinned_core=SkylakeX
pinned_cflags="-g -O2"
blas_free_cases=3 blas_cases=4 native_cases=2
plan $((3 * (blas_free_cases + blas_cases + native_cases)))

# The run id hashes the model's path as given: run in $TMP, on a relative one.
cd "$TMP" || exit 99

skip_cases() {	# skip_cases N REASON
	i=0
	while [ $i -lt $((3 * $1)) ]; do skip "$2"; i=$((i + 1)); done
}

# A result.json's "metrics" object (train loss, dev and test metrics), as
# key=value words.
metrics() {
	sed -n '/^  "metrics": {/,/^  }/s/^    "\([a-z0-9_]*\)": \([^,]*\),*$/\1=\2/p' "$1" |
		tr '\n' ' ' | sed 's/ $//'
}

# trace.csv without its wall_s column, through cksum ("CRC SIZE").
trace_sum() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_s") w = i }
		{ line = ""; sep = ""
		  for (i = 1; i <= NF; i++) if (i != w) { line = line sep $i; sep = "," }
		  print line }' "$1" | cksum
}

# pin NAME RUN-ID TRACE-SUM METRICS ARGS...: run bbtbench with ARGS into its
# own experiment folder and compare the three with the values given.
pin() {
	name=$1 want_id=$2 want_sum=$3 want_metrics=$4
	shift 4
	"$BBTBENCH" "$@" --quiet --out runs --experiment "$name" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	id=$(ls runs/"$name" 2>/dev/null)
	dir=runs/$name/$id
	if [ $rc -ne 0 ] || [ ! -r "$dir/result.json" ]; then
		id="(exit $rc, no result: $(head -1 "$TMP/err"))" sum= metrics=
	else
		sum=$(trace_sum "$dir/trace.csv") metrics=$(metrics "$dir/result.json")
	fi
	is "$id" "$want_id" "$name: run id"
	is "$sum" "$want_sum" "$name: trace.csv without wall_s"
	is "$metrics" "$want_metrics" "$name: metrics"
	if [ "${PINNED_PRINT:-0}" = 1 ] || [ "$id $sum $metrics" != "$want_id $want_sum $want_metrics" ]
	then
		printf "# new values:\n# pin %s %s '%s' \\\\\n#\t'%s' \\\\\n" \
			"$name" "$id" "$sum" "$metrics" >&2
	fi
}

synthetic="--backend synthetic --task toy --dim 10 --prompt-len 5 --eval-every 20"
pin bdpl-synthetic bdpl-synthetic-toy-L5-s42-ec4c366c5235 '2641204898 2892' \
	'metric="acc" train_loss=0.9723599541 dev_metric=0.53125 best_dev_call=60 test_metric=0.571 test_acc=0.571 test_f1=0.7126590757' \
	$synthetic --optimizer bdpl --search-space 20 --budget 100
pin manual-synthetic manual-synthetic-toy-s42-b2ee508dca6e '1820517112 37' \
	'metric="acc" train_loss=1.844059611 dev_metric=0.5 best_dev_call=0 test_metric=0.532 test_acc=0.532 test_f1=0.6945169713' \
	$synthetic --method manual
pin calibrated-synthetic calibrated-synthetic-toy-s42-21339c4fe5c7 '1820517112 37' \
	'metric="acc" train_loss=1.844059611 dev_metric=0.6875 best_dev_call=0 test_metric=0.79 test_acc=0.79 test_f1=0.7891566265' \
	$synthetic --method calibrated

# OpenBLAS's core, from a baseline run (no API calls, instant).
"$BBTBENCH" --backend synthetic --method manual --quiet --json --out probe >"$TMP/probe.json" 2>&1
core=$(sed -n '/^  "blas": {/,/^  }/s/^    "core": "\(.*\)",*$/\1/p' "$TMP/probe.json")
if [ "$core" != "$pinned_core" ]; then
	skip_cases $((blas_cases + native_cases)) \
		"values made with OpenBLAS core $pinned_core, this one is '${core:-unknown}'"
	done_testing
	exit $?
fi

pin cmaes-synthetic cmaes-synthetic-toy-d10-s42-90d8e6df8ca0 '1657791484 3013' \
	'metric="acc" train_loss=0.648265735 dev_metric=0.6875 best_dev_call=20 test_metric=0.71 test_acc=0.71 test_f1=0.7812971342' \
	$synthetic --optimizer cmaes --budget 100
pin random-synthetic random-synthetic-toy-d10-s42-0b87cf4019cb '3916168657 2970' \
	'metric="acc" train_loss=0.7260731277 dev_metric=0.5625 best_dev_call=20 test_metric=0.565 test_acc=0.565 test_f1=0.7062795409' \
	$synthetic --optimizer random --budget 100
pin adam-synthetic adam-synthetic-toy-d10-s42-c36bd263664e '2167583448 1171' \
	'metric="acc" train_loss=1.656164298 dev_metric=0.5 best_dev_call=20 test_metric=0.532 test_acc=0.532 test_f1=0.6945169713' \
	$synthetic --optimizer adam --budget 40
pin zo-adam-synthetic zo-adam-synthetic-toy-d10-s42-034d347ba9f9 '3152175246 3225' \
	'metric="acc" train_loss=0.7670187199 dev_metric=0.53125 best_dev_call=80 test_metric=0.534 test_acc=0.534 test_f1=0.6954248366' \
	$synthetic --optimizer zo-adam --grad-check --budget 100

if ! "$BBTBENCH" list 2>/dev/null | grep -q "backend  *native"; then
	skip_cases $native_cases "native backend not built"
	done_testing
	exit $?
fi
if [ "${BBT_BUILD_CFLAGS-$pinned_cflags}" != "$pinned_cflags" ]; then
	skip_cases $native_cases "native values made with CFLAGS '$pinned_cflags', this build has '$BBT_BUILD_CFLAGS'"
	done_testing
	exit $?
fi
# The native figures also change with t/tinymodel.c's weights or writer.
"$top_builddir/t/tiny_gguf" tiny.gguf || exit 99
native="--backend native --model tiny.gguf --task toy --dim 10 --prompt-len 5 --eval-every 20"
pin cmaes-native cmaes-native-toy-d10-s42-8b9cd710bc96 '3207286866 1734' \
	'metric="acc" train_loss=0.9397488755 dev_metric=0.5 best_dev_call=20 test_metric=0.53 test_acc=0.53 test_f1=0.6899736148' \
	$native --optimizer cmaes --budget 60
pin manual-native manual-native-toy-s42-fa322641146b '1820517112 37' \
	'metric="acc" train_loss=1.798611635 dev_metric=0.5 best_dev_call=0 test_metric=0.533 test_acc=0.533 test_f1=0.6945716154' \
	$native --method manual
done_testing
