#!/usr/bin/env bash
# Peak throughput of Infergate against the bare Vert.x endpoints, on the same machine in the same run.
#   REST: wrk sweeps connection counts against loadtest's BaselineServer (a JSON POST endpoint)
#         and Infergate's REST predict on the demo CTR model (batching on).
#   gRPC: h2load sweeps concurrent HTTP/2 streams against BaselineGrpcServer (bare vertx-grpc
#         unary Predict) and Infergate's PredictionService/Predict.
#   Both servers run side by side (one idle while the other is measured) and the sweep alternates
#   between them, point by point, for ROUNDS rounds: each round's ratio compares runs made seconds
#   apart, and the median over rounds damps the noise of a shared small machine.
#   Then an open-loop run at 80 % of Infergate's median peak (h2load --rps; --h1 for REST) for its P99.
#   With BASELINE_BUILD (another checkout, built) the yardstick is that build's Infergate, run with
#   the same flags and model: an A/B of two builds with the rounds alternating between them.
# Writes loadtest/results/peak-<stamp>-raw.csv (every point), peak-<stamp>.csv (median per level)
# and its .png, and prints each round's ratio and the median.
# Env: ROUNDS (5), DURATION (s per point, 10), WARMUP (s, 90, unreported: the JIT settles after 60-90 s under load
#      on 2 cores), PROTOCOLS ("rest grpc"),
#      REST_LEVELS (wrk connections), GRPC_LEVELS (h2load streams per connection, 4 connections),
#      BATCHING (batching parameters file, loadtest/peak-batching.config), INFERGATE_FLAGS (more serve flags),
#      BASELINE_BUILD (a checkout whose bin/infergate replaces the bare Vert.x yardstick). Needs wrk and h2load (Debian: wrk, nghttp2-client).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
for tool in wrk h2load; do
  command -v $tool > /dev/null || { echo "$tool is missing: apt-get install wrk nghttp2-client" >&2; exit 1; }
done
duration="${DURATION:-10}"
warmup="${WARMUP:-90}"
rest_levels="${REST_LEVELS:-64 128 256}"
grpc_levels="${GRPC_LEVELS:-16 64 128}"
rounds="${ROUNDS:-5}"
round=0
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/peak-$stamp-raw.csv"
medians="loadtest/results/peak-$stamp.csv"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
body=$(tr -d '\n' < loadtest/ctr-request.json)
wrk_post "$work/post.lua" "$body"
printf '%s' "$body" > "$work/rest-body.json"
java -cp "$cp" io.infergate.loadtest.GrpcRequestFile "$work/grpc-body.bin"
echo "target,level,requests_per_s,p50_ms,p99_ms,errors,round" > "$csv"

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
  echo "$1,$3,$rps,$p50,$p99,$errors,$round" | tee -a "$csv"
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
  echo "$target,$level,$rps,$p50,$p99,$errors,$round" | tee -a "$csv"
}

grpc_args() {
  echo "http://127.0.0.1:$1/tensorflow.serving.PredictionService/Predict -d $work/grpc-body.bin \
    -H content-type:application/grpc -H te:trailers"
}

# round_peaks TARGET: the target's highest throughput in each round, one per line.
round_peaks() {
  awk -F, -v t="$1" '$1 == t && $7 > 0 && $3 > m[$7] {m[$7] = $3} END {for (r in m) print r, m[r]}' "$csv" | sort
}

median() {
  sort -g | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}

serve_flags=(--enable_batching "--batching_parameters_file=${BATCHING:-loadtest/peak-batching.config}" ${INFERGATE_FLAGS:-})
baseline_name="${BASELINE_BUILD:+the build in $BASELINE_BUILD}"
baseline_name="${baseline_name:-bare Vert.x}"

# start_baseline PROTOCOL PORT: the yardstick for PROTOCOL on PORT, in the background as $baseline.
start_baseline() {
  if [[ -n ${BASELINE_BUILD:-} ]]; then
    local ports=(--rest_api_port="$2" --port=0)
    [[ $1 == grpc ]] && ports=(--rest_api_port=$(( $2 + 2 )) --port="$2")
    INFERGATE_LOG_LEVEL=WARN "$BASELINE_BUILD/bin/infergate" serve --model_name=ctr "--model_base_path=$root/demo-models/ctr" \
      "${ports[@]}" "${serve_flags[@]}" > "$work/baseline.log" 2>&1 &
    baseline=$!
    wait_ready "${ports[0]#*=}"
  else
    local main=io.infergate.loadtest.BaselineServer
    [[ $1 == grpc ]] && main=io.infergate.loadtest.BaselineGrpcServer
    java -XX:+UseParallelGC -cp "$cp" "$main" "$2" > "$work/baseline.log" 2>&1 &
    baseline=$!
    sleep 2
  fi
}

for protocol in ${PROTOCOLS:-rest grpc}; do
  if [[ $protocol == rest ]]; then
    start_baseline rest 8601
    start_infergate peak 8701 --port=0 "${serve_flags[@]}"
    trap 'kill $server $baseline 2>/dev/null || true' EXIT
    url=http://127.0.0.1:8701/v1/models/ctr:predict
    wrk -t1 -c64 -d"${warmup}s" -s "$work/post.lua" http://127.0.0.1:8601/v1/models/ctr:predict > /dev/null
    wrk -t1 -c64 -d"${warmup}s" -s "$work/post.lua" "$url" > /dev/null
    for round in $(seq 1 "$rounds"); do
      for level in $rest_levels; do
        wrk_point baseline-rest http://127.0.0.1:8601/v1/models/ctr:predict "$level"
        wrk_point infergate-rest "$url" "$level"
      done
    done
    round=0
    rate=$(round_peaks infergate-rest | awk '{print $2}' | median | awk '{printf "%d", $1 * 0.8}')
    # HTTP/1.1 carries one request at a time per connection: enough connections that the rate,
    # not the round trip, limits each one.
    h2load_point infergate-rest-80pct "$rate" --h1 -c 256 --rps $(( rate / 256 )) -d "$work/rest-body.json" \
      -H content-type:application/json "$url"
  else
    start_baseline grpc 8600
    start_infergate peak 8701 --port=8700 "${serve_flags[@]}"
    trap 'kill $server $baseline 2>/dev/null || true' EXIT
    h2load $(grpc_args 8600) -c 4 -m 64 -D "$warmup" > /dev/null 2>&1
    h2load $(grpc_args 8700) -c 4 -m 64 -D "$warmup" > /dev/null 2>&1
    for round in $(seq 1 "$rounds"); do
      for level in $grpc_levels; do
        h2load_point baseline-grpc $(( level * 4 )) $(grpc_args 8600) -c 4 -m "$level"
        h2load_point infergate-grpc $(( level * 4 )) $(grpc_args 8700) -c 4 -m "$level"
      done
    done
    round=0
    rate=$(round_peaks infergate-grpc | awk '{print $2}' | median | awk '{printf "%d", $1 * 0.8}')
    h2load_point infergate-grpc-80pct "$rate" $(grpc_args 8700) -c 4 -m 64 --rps $(( rate / 4 ))
    # gRPC errors travel in trailers, which h2load does not read: count them from Infergate's metrics.
    failed=$(curl -s http://127.0.0.1:8701/monitoring/prometheus/metrics |
      awk '/^infergate_request_latency_seconds_count/ && /entrypoint="GRPC"/ && !/status="OK"/ {s += $NF} END {print s + 0}')
    echo "# infergate gRPC requests answered with a non-OK status during the run: $failed"
  fi
  stop_infergate
  kill $baseline; wait $baseline 2>/dev/null || true
done
# The plotted CSV: per target and level, the median of the rounds.
awk -F, 'NR > 1 {key = $1 "," $2; n[key]++; rps[key, n[key]] = $3; p50[key, n[key]] = $4; p99[key, n[key]] = $5;
    if (!(key in seen)) {seen[key] = 1; order[++k] = key}}
  function med(arr, key, cnt,    i, j, t, v) {
    for (i = 1; i <= cnt; i++) v[i] = arr[key, i]
    for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] + 0 < v[i] + 0) {t = v[i]; v[i] = v[j]; v[j] = t}
    return cnt % 2 ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2 }
  BEGIN {print "target,level,requests_per_s,p50_ms,p99_ms"}
  END {for (i = 1; i <= k; i++) {key = order[i]; c = n[key];
    printf "%s,%.1f,%.3f,%.3f\n", key, med(rps, key, c), med(p50, key, c), med(p99, key, c)}}' "$csv" > "$medians"
java -cp "$cp" io.infergate.loadtest.PeakPlot "$medians" "${medians%.csv}.png"
echo
for protocol in ${PROTOCOLS:-rest grpc}; do
  p99=$(awk -F, -v t="infergate-$protocol-80pct" '$1 == t {print $5}' "$csv")
  join <(round_peaks "baseline-$protocol") <(round_peaks "infergate-$protocol") | awk -v p="$protocol" -v b="$baseline_name" '{
    printf "%s round %d: Infergate %d req/s, %s %d req/s: %.0f%%\n", p, $1, $3, b, $2, 100 * $3 / $2 }'
  ratio=$(join <(round_peaks "baseline-$protocol") <(round_peaks "infergate-$protocol") |
    awk '{print 100 * $3 / $2}' | median)
  printf "%s: median share %.0f%% of %s; P99 at 80%% of Infergate's median peak: %s ms\n" \
    "$protocol" "$ratio" "$baseline_name" "$p99"
done
echo "CSV: $csv (every point), $medians (medians)  plot: ${medians%.csv}.png"
rm -rf "$work"
