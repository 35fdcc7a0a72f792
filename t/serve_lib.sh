# t/serve_lib.sh - what the serve tests share, sourced after t/lib.sh:
# skip unless serve and the backends named in SERVE_BACKENDS are built;
# start servers on free loopback ports; raw requests through bash's
# /dev/tcp (no HTTP client program needed); run comparisons.

if ! "$BBTBENCH" serve --help 2>/dev/null | grep -q -- --listen ||
	"$BBTBENCH" serve --help | grep -q "has no serve"; then
	echo "1..0 # SKIP bbtbench serve is not built (libmicrohttpd)"
	exit 0
fi
list=$("$BBTBENCH" list 2>/dev/null)
for b in ${SERVE_BACKENDS:-http native}; do
	if ! printf '%s\n' "$list" | grep -q "backend  *$b"; then
		echo "1..0 # SKIP the $b backend is not built"
		exit 0
	fi
done
cd "$TMP" || exit 99
"$top_builddir/t/tiny_gguf" tiny.gguf || exit 99
pids=

# start NAME ARGS...: a server on a free port; sets url, port, pid. Its
# model is tiny.gguf, or $serve_model (empty: none, as synthetic takes)
start() {
	name=$1
	shift
	rm -f "$name.ready"
	"$BBTBENCH" serve ${serve_model---model tiny.gguf} --listen 127.0.0.1:0 \
		--ready-file "$name.ready" "$@" \
		>"$name.log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	for _ in $(seq 300); do
		[ -s "$name.ready" ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	url=$(cat "$name.ready" 2>/dev/null)
	port=${url##*:}
}
stop_all() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
}
trap 'stop_all; rm -rf "$TMP"' EXIT

# raw FILE: send FILE's bytes to $port, the response on stdout
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	cat "$1" >&3
	timeout 20 cat <&3
	exec 3<&- 3>&-
}
# request METHOD PATH [BODY-FILE [EXTRA-HEADER...]]: a request with a
# correct Content-Length; sets status (the code) and resp (the whole answer)
request() {
	method=$1 path=$2 body=${3:-/dev/null}
	shift 3 2>/dev/null || shift $#
	{
		printf '%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n' "$method" "$path"
		for h in "$@"; do printf '%s\r\n' "$h"; done
		printf 'Content-Length: %d\r\n\r\n' "$(wc -c <"$body")"
		cat "$body"
	} >req.bin
	resp=$(raw req.bin | tr -d '\r' | tr '\0' '.')
	status=$(printf '%s\n' "$resp" | sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p')
}
# the JSON error line of the last response
reason() { printf '%s\n' "$resp" | sed -n 's/^{"error":"\(.*\)"}$/\1/p'; }

# score_body FILE JSON PROMPT-BYTES [EXTRA-BYTES]: a /v1/score body
score_body() {
	n=${#2}
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((n & 255)) $((n >> 8 & 255)) 0 0)" >"$1"
	printf '%s' "$2" >>"$1"
	head -c "$3" /dev/zero >>"$1"
	[ -n "$4" ] && head -c "$4" /dev/zero >>"$1"
	return 0
}

# trace.csv without what varies or only a served model has (wall_s, and
# the transport columns), through cksum
trace_sum() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++)
			if ($i ~ /^(wall_s|bytes_sent|bytes_received|latency_ms)$/) drop[i] = 1 }
		{ line = ""; sep = ""
		  for (i = 1; i <= NF; i++) if (!(i in drop)) { line = line sep $i; sep = "," }
		  print line }' "$1" | cksum
}
# transport KEY RESULT: backend.transport.KEY of a result.json
transport() {
	sed -n -e '/"transport": {/,/}/{' -e 's/^ *"'"$1"'": "\(.*\)",*$/\1/p' \
		-e 's/^ *"'"$1"'": \([^",]*\),*$/\1/p' -e '}' "$2"
}
metrics() {
	sed -n '/^  "metrics": {/,/^  }/p' "$1"
}
tokens_scored() {
	sed -n 's/^  "tokens_scored": \([0-9]*\).*/\1/p' "$1"
}
# metric NAME: its value on the server's /metrics
metric() {
	request GET /metrics /dev/null ${auth:+"$auth"}
	printf '%s\n' "$resp" | awk -v k="$1" '$1 == k { print $2 }'
}

