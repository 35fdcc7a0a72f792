#!/bin/sh
# t/baselines.sh - the baselines from the command line: manual prompt,
# calibrated prompt, in-context learning, and --calibrate beside a tuned run.
. "${top_srcdir:-.}/t/lib.sh"
plan 17

base() {
	run "$BBTBENCH" --backend synthetic --task toy --out "$TMP/res" --quiet --json "$@"
}
field() {	# field KEY: a top-level value of the last result.json printed
	printf '%s\n' "$out" | sed -n "s/^  \"$1\": \\(.*\\)\$/\\1/p" | tr -d ','
}
metric() {	# metric KEY: a value of its "metrics" object
	printf '%s\n' "$out" | sed -n "s/^    \"$1\": \\(.*\\)\$/\\1/p" | tr -d ','
}

base --method manual
ok $rc "manual runs"
is "$(field api_calls)" 0 "manual: no API calls"
is "$(field method)" '"manual"' "result.json names the method"
is "$(field optimizer)" null "and no optimizer"
manual_test=$(metric test_metric)

base --method calibrated
ok $rc "calibrated runs"
is "$(field api_calls)" 2 "calibrated: content-free inputs and the train batch, 2 calls"
like "$out" '"chosen": "(none|contextual|fitted)"' "the chosen variant is stated"
like "$out" '"contextual": \{' "contextual offsets reported"
like "$out" '"fitted": \{' "fitted offsets reported"

base --method icl --icl-shots 2
ok $rc "in-context learning runs"
like "$out" '"used": 4' "2 demonstrations per class"
base --method icl --icl-shots 16 -O backend.max_len=64 --force
like "$out" '"dropped_to_fit": [1-9]' "demonstrations that do not fit are dropped and counted"

# A baseline does not depend on the tuning settings: one run for all of them.
base --method manual --dim 7 --budget 3
is "$(metric test_metric)" "$manual_test" "same baseline result"
like "$err$out" '"status": "finished"' "reported from the finished run"
run "$BBTBENCH" --backend synthetic --task toy --out "$TMP/res" --quiet --method manual --dim 7
like "$out" "already finished with these settings" "not redone for other tuning settings"

base --budget 100 --calibrate
like "$out" '"test_metric_calibrated": ' "--calibrate reports the tuned prompt calibrated"
like "$out" '"calibration": \{' "with its calibration"
done_testing
