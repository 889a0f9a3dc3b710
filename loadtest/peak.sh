#!/usr/bin/env bash
# Peak throughput of Infergate against the bare Vert.x endpoints, on the same machine in the same run.
#   REST: wrk sweeps connection counts against loadtest's BaselineServer (a JSON POST endpoint)
#         and Infergate's REST predict on the demo CTR model (batching on).
#   gRPC: h2load sweeps concurrent HTTP/2 streams against BaselineGrpcServer (bare vertx-grpc
#         unary Predict) and Infergate's PredictionService/Predict.
#   Then an open-loop run at 80 % of each Infergate peak (h2load --rps; --h1 for REST) for its P99.
# Writes loadtest/results/peak-<stamp>.csv and .png and prints the ratios.
# Env: DURATION (s per point, 10), WARMUP (s, 45, unreported: the JIT needs it), PROTOCOLS ("rest grpc"),
#      REST_LEVELS (wrk connections), GRPC_LEVELS (h2load streams per connection, 4 connections),
#      BATCHING (batching parameters file, loadtest/batching.config), INFERGATE_FLAGS (more serve flags). Needs wrk and h2load (Debian: wrk, nghttp2-client).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
for tool in wrk h2load; do
  command -v $tool > /dev/null || { echo "$tool is missing: apt-get install wrk nghttp2-client" >&2; exit 1; }
done
duration="${DURATION:-10}"
warmup="${WARMUP:-45}"
rest_levels="${REST_LEVELS:-4 8 16 32 64 128 256}"
grpc_levels="${GRPC_LEVELS:-2 4 16 32 64 128}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/peak-$stamp.csv"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
body=$(tr -d '\n' < loadtest/ctr-request.json)
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
printf '%s' "$body" > "$work/rest-body.json"
java -cp "$cp" io.infergate.loadtest.GrpcRequestFile "$work/grpc-body.bin"
echo "target,level,requests_per_s,p50_ms,p99_ms,errors" > "$csv"

# to_ms VALUE: wrk's "1.25ms" / "830.00us" / "1.02s" in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) n *= 1000; printf "%.3f", n }'
}

# wrk_point TARGET URL CONNECTIONS: one sweep point.
wrk_point() {
  local out
  out=$(wrk -t1 -c"$3" -d"${duration}s" --latency -s "$work/post.lua" "$2")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<< "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<< "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<< "$out")")
  errors=$(awk '/Non-2xx/ {s += $NF} /Socket errors/ {gsub(",", ""); s += $4 + $6 + $8 + $10} END {print s + 0}' <<< "$out")
  echo "$1,$3,$rps,$p50,$p99,$errors" | tee -a "$csv"
}

# h2load_point TARGET LEVEL ARGS...: one run; percentiles from h2load's per-request log.
h2load_point() {
  local target=$1 level=$2
  shift 2
  local out
  out=$(h2load "$@" -D "$duration" --log-file="$work/h2load.log" 2>&1)
  local rps errors
  rps=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' <<< "$out")
  errors=$(awk '/^requests:/ {print $10 + $12}' <<< "$out")
  read -r p50 p99 < <(awk '{print $3}' "$work/h2load.log" | sort -n |
    awk '{a[NR] = $1} END {printf "%.3f %.3f\n", a[int(NR * 0.50) + 1] / 1000, a[int(NR * 0.99) + 1] / 1000}')
  echo "$target,$level,$rps,$p50,$p99,$errors" | tee -a "$csv"
}

grpc_args() {
  echo "http://127.0.0.1:$1/tensorflow.serving.PredictionService/Predict -d $work/grpc-body.bin \
    -H content-type:application/grpc -H te:trailers"
}

peak_of() {
  awk -F, -v t="$1" '$1 == t && $3 > m {m = $3} END {printf "%.0f", m}' "$csv"
}

start_java() {
  java -XX:+UseParallelGC -cp "$cp" "$@" > "$work/baseline.log" 2>&1 &
  baseline=$!
  sleep 2
}

for protocol in ${PROTOCOLS:-rest grpc}; do
  if [[ $protocol == rest ]]; then
    start_java io.infergate.loadtest.BaselineServer 8601
    wrk -t1 -c64 -d"${warmup}s" -s "$work/post.lua" http://127.0.0.1:8601/ > /dev/null
    for level in $rest_levels; do wrk_point baseline-rest http://127.0.0.1:8601/ "$level"; done
    kill $baseline; wait $baseline 2>/dev/null || true
    start_infergate peak 8701 --port=8700 --enable_batching --batching_parameters_file="${BATCHING:-loadtest/batching.config}" \
      ${INFERGATE_FLAGS:-}
    url=http://127.0.0.1:8701/v1/models/ctr:predict
    wrk -t1 -c64 -d"${warmup}s" -s "$work/post.lua" "$url" > /dev/null
    for level in $rest_levels; do wrk_point infergate-rest "$url" "$level"; done
    rate=$(( $(peak_of infergate-rest) * 8 / 10 ))
    # HTTP/1.1 carries one request at a time per connection: enough connections that the rate,
    # not the round trip, limits each one.
    h2load_point infergate-rest-80pct "$rate" --h1 -c 256 --rps $(( rate / 256 )) -d "$work/rest-body.json" \
      -H content-type:application/json "$url"
    stop_infergate
  else
    start_java io.infergate.loadtest.BaselineGrpcServer 8600
    h2load $(grpc_args 8600) -c 4 -m 64 -D "$warmup" > /dev/null 2>&1
    for level in $grpc_levels; do h2load_point baseline-grpc $(( level * 4 )) $(grpc_args 8600) -c 4 -m "$level"; done
    kill $baseline; wait $baseline 2>/dev/null || true
    start_infergate peak 8701 --port=8700 --enable_batching --batching_parameters_file="${BATCHING:-loadtest/batching.config}" \
      ${INFERGATE_FLAGS:-}
    h2load $(grpc_args 8700) -c 4 -m 64 -D "$warmup" > /dev/null 2>&1
    for level in $grpc_levels; do h2load_point infergate-grpc $(( level * 4 )) $(grpc_args 8700) -c 4 -m "$level"; done
    rate=$(( $(peak_of infergate-grpc) * 8 / 10 ))
    h2load_point infergate-grpc-80pct "$rate" $(grpc_args 8700) -c 4 -m 64 --rps $(( rate / 4 ))
    # gRPC errors travel in trailers, which h2load does not read: count them from Infergate's metrics.
    failed=$(curl -s http://127.0.0.1:8701/monitoring/prometheus/metrics |
      awk '/^infergate_request_latency_seconds_count/ && /entrypoint="GRPC"/ && !/status="OK"/ {s += $NF} END {print s + 0}')
    echo "# infergate gRPC requests answered with a non-OK status during the run: $failed"
    stop_infergate
  fi
done
java -cp "$cp" io.infergate.loadtest.PeakPlot "$csv" "${csv%.csv}.png"
echo
for protocol in ${PROTOCOLS:-rest grpc}; do
  base=$(peak_of "baseline-$protocol")
  ours=$(peak_of "infergate-$protocol")
  p99=$(awk -F, -v t="infergate-$protocol-80pct" '$1 == t {print $5}' "$csv")
  awk -v p="$protocol" -v b="$base" -v o="$ours" -v q="$p99" 'BEGIN {
    printf "%s: Infergate peak %d req/s = %.0f%% of the bare Vert.x endpoint (%d req/s); P99 at 80%% of peak: %s ms\n",
      p, o, 100 * o / b, b, q }'
done
echo "CSV: $csv  plot: ${csv%.csv}.png"
rm -rf "$work"
