#!/usr/bin/env bash
# Peak throughput of Infergate against the bare Vert.x endpoints, on the same machine in the same run.
#   REST: wrk sweeps connection counts; gRPC: h2load sweeps concurrent HTTP/2 streams (4 connections).
#   The targets (TARGETS) run side by side, all idle but the one measured, and the sweep alternates
#   between them point by point for ROUNDS rounds: each round's ratios compare runs made seconds
#   apart, and the median over rounds damps the noise of a shared small machine.
#     bare     loadtest's BaselineServer (a JSON POST endpoint) and BaselineGrpcServer (bare
#              vertx-grpc unary Predict): what answering at that rate costs at all
#     serve    this build's single process on the demo CTR model (batching on)
#     cluster  this build as users deploy it: a gateway process and a worker process (batching on)
#              in a Hazelcast cluster on loopback, requests crossing the clustered event bus
#     serve@DIR, cluster@DIR  the same from another built checkout (an A/B of two builds), named
#              after the checkout's folder (serve-before for serve@../before)
#   Then, for each Infergate target, an open-loop run at 80 % of its median peak (h2load --rps;
#   --h1 for REST) for its P99.
# Writes loadtest/results/peak-<stamp>-raw.csv (every point), peak-<stamp>.csv (median per level)
# and its .png, and prints each round's ratio and the median for every pair of targets.
# Env: TARGETS ("bare serve"), ROUNDS (5), DURATION (s per point, 10), WARMUP (s, 90, unreported:
#      the JIT settles after 60-90 s under load on 2 cores), PROTOCOLS ("rest grpc"),
#      REST_LEVELS (wrk connections), GRPC_LEVELS (h2load streams per connection, 4 connections),
#      BATCHING (batching parameters file, loadtest/peak-batching.config), INFERGATE_FLAGS (more
#      flags for the process that runs the model). Needs wrk and h2load (Debian: wrk, nghttp2-client).
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
read -r -a targets <<< "${TARGETS:-bare serve}"
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
model_flags=(--enable_batching "--batching_parameters_file=${BATCHING:-loadtest/peak-batching.config}" ${INFERGATE_FLAGS:-})
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# name_of TARGET: its name in the CSV and the summary.
name_of() {
  if [[ $1 == *@* ]]; then echo "${1%%@*}-$(basename "${1#*@}")"; else echo "$1"; fi
}
# Target I listens for REST on rest_port I and for gRPC on grpc_port I.
rest_port() { echo $((8610 + 10 * $1)); }
grpc_port() { echo $((8611 + 10 * $1)); }
rest_url() { echo "http://127.0.0.1:$(rest_port "$1")/v1/models/ctr:predict"; }
grpc_args() {
  echo "http://127.0.0.1:$(grpc_port "$1")/tensorflow.serving.PredictionService/Predict -d $work/grpc-body.bin \
    -H content-type:application/grpc -H te:trailers"
}

# start_target I: starts target I in the background (its processes join pids) and waits until it answers.
start_target() {
  local target=${targets[$1]} rest grpc log="$work/$(name_of "${targets[$1]}").log" home=$root
  rest=$(rest_port "$1")
  grpc=$(grpc_port "$1")
  [[ $target == *@* ]] && home=${target#*@}
  case ${target%%@*} in
    bare)
      java -XX:+UseParallelGC -cp "$cp" io.infergate.loadtest.BaselineServer "$rest" > "$log" 2>&1 &
      pids+=($!)
      java -XX:+UseParallelGC -cp "$cp" io.infergate.loadtest.BaselineGrpcServer "$grpc" >> "$log" 2>&1 &
      pids+=($!)
      sleep 2
      return ;;
    cluster)
      local members=(--cluster_members=127.0.0.1 "--cluster_name=peak-$stamp-$1")
      INFERGATE_LOG_LEVEL=WARN "$home/bin/infergate" worker --model_name=ctr "--model_base_path=$bench_models/ctr" \
        "${members[@]}" --monitoring_port=$((rest + 5)) "${model_flags[@]}" > "$log.worker" 2>&1 &
      pids+=($!)
      INFERGATE_LOG_LEVEL=WARN "$home/bin/infergate" gateway "${members[@]}" --rest_api_port="$rest" --port="$grpc" \
        > "$log" 2>&1 &
      pids+=($!) ;;
    serve)
      INFERGATE_LOG_LEVEL=WARN "$home/bin/infergate" serve --model_name=ctr "--model_base_path=$bench_models/ctr" \
        --rest_api_port="$rest" --port="$grpc" "${model_flags[@]}" > "$log" 2>&1 &
      pids+=($!) ;;
    *)
      echo "unknown target $target: bare, serve, cluster, serve@DIR or cluster@DIR" >&2
      exit 2 ;;
  esac
  wait_predicting "$rest" || { echo "see $log" >&2; exit 1; }
}

stop_targets() {
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
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

# point PROTOCOL I LEVEL: one sweep point of target I.
point() {
  local protocol=$1 i=$2 level=$3 label
  label="$(name_of "${targets[$i]}")-$protocol"
  if [[ $protocol == rest ]]; then
    wrk_point "$label" "$(rest_url "$i")" "$level"
  else
    h2load_point "$label" $(( level * 4 )) $(grpc_args "$i") -c 4 -m "$level"
  fi
}

# round_peaks TARGET: the target's highest throughput in each round, one per line.
round_peaks() {
  awk -F, -v t="$1" '$1 == t && $7 > 0 && $3 > m[$7] {m[$7] = $3} END {for (r in m) print r, m[r]}' "$csv" | sort
}

median() {
  sort -g | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}

# infergate_failures I: requests target I answered with a gRPC status other than OK (they travel
# in trailers, which h2load does not read).
infergate_failures() {
  curl -s "http://127.0.0.1:$(rest_port "$1")/monitoring/prometheus/metrics" |
    awk '/^infergate_request_latency_seconds_count/ && /entrypoint="GRPC"/ && !/status="OK"/ {s += $NF} END {print s + 0}'
}

for protocol in ${PROTOCOLS:-rest grpc}; do
  levels=$rest_levels
  [[ $protocol == grpc ]] && levels=$grpc_levels
  for i in "${!targets[@]}"; do
    start_target "$i"
  done
  for i in "${!targets[@]}"; do
    if [[ $protocol == rest ]]; then
      wrk -t1 -c64 -d"${warmup}s" -s "$work/post.lua" "$(rest_url "$i")" > /dev/null
    else
      h2load $(grpc_args "$i") -c 4 -m 64 -D "$warmup" > /dev/null 2>&1
    fi
  done
  for round in $(seq 1 "$rounds"); do
    for level in $levels; do
      for i in "${!targets[@]}"; do
        point "$protocol" "$i" "$level"
      done
    done
  done
  round=0
  for i in "${!targets[@]}"; do
    [[ ${targets[$i]} == bare ]] && continue
    name=$(name_of "${targets[$i]}")
    rate=$(round_peaks "$name-$protocol" | awk '{print $2}' | median | awk '{printf "%d", $1 * 0.8}')
    if [[ $protocol == rest ]]; then
      # HTTP/1.1 carries one request at a time per connection: enough connections that the rate,
      # not the round trip, limits each one.
      h2load_point "$name-rest-80pct" "$rate" --h1 -c 256 --rps $(( rate / 256 )) -d "$work/rest-body.json" \
        -H content-type:application/json "$(rest_url "$i")"
    else
      h2load_point "$name-grpc-80pct" "$rate" $(grpc_args "$i") -c 4 -m 64 --rps $(( rate / 4 ))
      echo "# $name: gRPC requests answered with a non-OK status during the run: $(infergate_failures "$i")"
    fi
  done
  stop_targets
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
  for i in "${!targets[@]}"; do
    a=$(name_of "${targets[$i]}")
    for j in "${!targets[@]}"; do
      (( j > i )) || continue
      b=$(name_of "${targets[$j]}")
      join <(round_peaks "$a-$protocol") <(round_peaks "$b-$protocol") | awk -v p="$protocol" -v a="$a" -v b="$b" '{
        printf "%s round %d: %s %d req/s, %s %d req/s: %.0f%%\n", p, $1, b, $3, a, $2, 100 * $3 / $2 }'
      ratio=$(join <(round_peaks "$a-$protocol") <(round_peaks "$b-$protocol") | awk '{print 100 * $3 / $2}' | median)
      printf "%s: %s reaches a median %.0f%% of %s\n" "$protocol" "$b" "$ratio" "$a"
    done
  done
  for i in "${!targets[@]}"; do
    name=$(name_of "${targets[$i]}")
    p99=$(awk -F, -v t="$name-$protocol-80pct" '$1 == t {print $5}' "$csv")
    if [[ -n $p99 ]]; then
      echo "$protocol: $name's P99 at 80% of its median peak: $p99 ms"
    fi
  done
done
echo "CSV: $csv (every point), $medians (medians)  plot: ${medians%.csv}.png"
rm -rf "$work"
