# Sourced by the benchmark scripts: builds what is missing and runs Infergate in the background.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[[ -f app/target/infergate.jar && -d loadtest/target/lib ]] || ./mvnw -B -q -DskipTests package
# The benchmarks' own copy of the demo model and features, float versions only: the demo's folder
# also holds version 3 (int8 weights), which would be the latest there.
bench_models="$root/demo-models/bench"
[[ -d "$bench_models/ctr/2" ]] || bin/infergate train-demo --out "$bench_models" --int8_version=false > /dev/null

# start_infergate NAME REST_PORT [serve flags...]: serves the demo model until stop_infergate.
start_infergate() {
  local name=$1 rest_port=$2
  shift 2
  INFERGATE_LOG_LEVEL=WARN bin/infergate serve --model_name=ctr "--model_base_path=$bench_models/ctr" \
    "--rest_api_port=$rest_port" "$@" > "/tmp/infergate-bench-$name.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  wait_ready "$rest_port"
}

# wait_ready PORT: until the gateway (REST port) or worker (monitoring port) there reports ready
# (60 s at most).
wait_ready() {
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$1/readyz" > /dev/null && return 0
    sleep 0.2
  done
  echo "Infergate on port $1 did not become ready; see its log" >&2
  return 1
}

# wait_predicting REST_PORT: until the demo model answers a prediction there (60 s at most): with
# gateway and worker processes, ready does not yet mean routed.
wait_predicting() {
  for _ in $(seq 1 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -d @"$root/loadtest/ctr-request.json" \
      "http://127.0.0.1:$1/v1/models/ctr:predict") == 200 ]] && return 0
    sleep 0.2
  done
  echo "Infergate on port $1 did not answer a prediction within 60 s" >&2
  return 1
}

stop_infergate() {
  kill "$server"
  wait "$server" 2>/dev/null || true
}

# wrk_post FILE BODY: writes a wrk script that POSTs BODY (JSON, no single quotes) to the URL wrk is given.
wrk_post() {
  cat > "$1" <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
LUA
}

# to_ms VALUE: wrk's "1.25ms" / "830.00us" / "1.02s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) n *= 1000; printf "%.3f", n }'
}

# wrk_measure CPU SCRIPT CONNECTIONS WARMUP DURATION URL: closed-loop wrk from CPU, WARMUP seconds
# unmeasured then DURATION seconds measured; prints "requests per second,P50 ms,P99 ms".
wrk_measure() {
  local out
  taskset -c "$1" wrk -t1 -c"$3" -d"$4s" -s "$2" "$6" > /dev/null
  out=$(taskset -c "$1" wrk -t1 -c"$3" -d"$5s" --latency -s "$2" "$6")
  printf '%s,%s,%s\n' "$(awk '/Requests\/sec/ { printf "%d", $2 }' <<< "$out")" \
    "$(to_ms "$(awk '$1 == "50%" { print $2 }' <<< "$out")")" "$(to_ms "$(awk '$1 == "99%" { print $2 }' <<< "$out")")"
}

# medians CSV KEYS FROM TO: for each distinct value of the columns KEYS (comma-separated column
# numbers) of CSV (a header line, then rounds), in the order first seen, prints the key columns
# and the median of every column from FROM to TO, as CSV.
medians() {
  awk -F, -v keys="$2" -v from="$3" -v to="$4" '
    BEGIN { nk = split(keys, kc, ",") }
    NR == 1 { next }
    { key = $(kc[1]); for (i = 2; i <= nk; i++) key = key "," $(kc[i])
      if (!(key in count)) order[++groups] = key
      n = ++count[key]
      for (c = from; c <= to; c++) v[key, c, n] = $c }
    function median(key, c,   a, k, j, t, n) { n = count[key]; for (k = 1; k <= n; k++) a[k] = v[key, c, k]
      for (k = 2; k <= n; k++) for (j = k; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    END { for (g = 1; g <= groups; g++) { line = order[g]; for (c = from; c <= to; c++) line = line "," median(order[g], c); print line } }
  ' "$1"
}

# rss_mb PID: the process's resident memory in MB (0 once it is gone).
rss_mb() {
  awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2> /dev/null || echo 0
}

# wide_request DIR ROWS HIDDEN_UNITS: a request scoring ROWS candidates (DIR/body.json, and
# DIR/post.lua for wrk) with the demo CTR model widened to HIDDEN_UNITS hidden units, so that a
# worker, not a gateway, limits throughput; trains that model once into demo-models/wide-HIDDEN_UNITS
# and prints its folder.
wide_request() {
  local dir=$1 rows=$2 hidden_units=$3 row body model
  row=$(sed -e 's/^{"instances": \[//' -e 's/\]}$//' "$root/loadtest/ctr-request.json" | tr -d '\n')
  body="{\"instances\": [$(for _ in $(seq 2 "$rows"); do printf '%s, ' "$row"; done)$row]}"
  printf '%s' "$body" > "$dir/body.json"
  wrk_post "$dir/post.lua" "$body"
  model="$root/demo-models/wide-$hidden_units"
  [[ -d "$model/ctr/2" ]] || bin/infergate train-demo --out "$model" --epochs=2 --hidden_units="$hidden_units" \
    --int8_version=false > /dev/null
  echo "$model"
}
