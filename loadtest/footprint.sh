#!/usr/bin/env bash
# Serve on one core: what `serve --small_footprint` costs and saves against the default (and with
# the JIT held to C1, JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1), beside the bare Vert.x JSON
# endpoint (loadtest's BaselineServer), the yardstick: with the JVM's defaults (bare) and with the
# small footprint's JVM flags (bare-small, bin/lib/small-footprint.jvm), what the JVM and Vert.x
# alone take. Each process is pinned to one CPU with taskset (SERVER_CPU) and loaded by wrk from
# another (LOAD_CPU), as a small device serves with one core while its clients are elsewhere. In
# ROUNDS alternating rounds, each setup is started afresh and measured:
#   start_s    launch to the first answered prediction (JVM start, model load and warm-up)
#   idle_mb    resident memory once ready
#   rps, p50_ms, p99_ms   closed-loop wrk, CONNECTIONS connections, for DURATION seconds after
#              WARMUP seconds of the same load
#   peak_mb    the process's peak resident memory (VmHWM) by the end of the load
#   anon_mb    of the resident memory at the end, the anonymous part (heap, metaspace, JIT code,
#              TensorFlow's allocations); the rest is mapped files, mostly TensorFlow's library
#              code, clean pages that the kernel shares and can drop
#   threads    the process's threads under load
# The model is the demo CTR model's float version, one row per request (loadtest/ctr-request.json).
# Writes loadtest/results/footprint-<stamp>.csv (every round) and prints the medians per setup.
# Env: SETUPS ("default small small-c1 bare bare-small"), ROUNDS (3), DURATION (s, 20), WARMUP (s, 60),
#      CONNECTIONS (8), SERVER_CPU (1), LOAD_CPU (0). Needs wrk (Debian: wrk).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
setups="${SETUPS:-default small small-c1 bare bare-small}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-20}"
warmup="${WARMUP:-60}"
connections="${CONNECTIONS:-8}"
server_cpu="${SERVER_CPU:-1}"
load_cpu="${LOAD_CPU:-0}"
port=8651
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/footprint-$stamp.csv"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
wrk_post "$work/post.lua" "$(tr -d '\n' < loadtest/ctr-request.json)"
url="http://127.0.0.1:$port/v1/models/ctr:predict"
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

# start SETUP: starts it on the server CPU in the background; sets pid.
start() {
  local serve=(bin/infergate serve --model_name=ctr "--model_base_path=$bench_models/ctr" "--rest_api_port=$port" --port=0)
  case $1 in
    default) INFERGATE_LOG_LEVEL=WARN taskset -c "$server_cpu" "${serve[@]}" > "$work/$1.log" 2>&1 & ;;
    small) INFERGATE_LOG_LEVEL=WARN taskset -c "$server_cpu" "${serve[@]}" --small_footprint > "$work/$1.log" 2>&1 & ;;
    small-c1) INFERGATE_LOG_LEVEL=WARN JAVA_TOOL_OPTIONS=-XX:TieredStopAtLevel=1 taskset -c "$server_cpu" "${serve[@]}" \
      --small_footprint > "$work/$1.log" 2>&1 & ;;
    bare) taskset -c "$server_cpu" java -XX:+UseParallelGC -cp "$cp" io.infergate.loadtest.BaselineServer "$port" \
      > "$work/$1.log" 2>&1 & ;;
    bare-small) taskset -c "$server_cpu" java @bin/lib/small-footprint.jvm -cp "$cp" io.infergate.loadtest.BaselineServer \
      "$port" > "$work/$1.log" 2>&1 & ;;
  esac
  pid=$!
}

# ready_seconds: seconds from now until a prediction is answered (120 s at most).
ready_seconds() {
  local begin end
  begin=$(date +%s.%N)
  for _ in $(seq 1 6000); do
    if [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -d @loadtest/ctr-request.json "$url") == 200 ]]; then
      end=$(date +%s.%N)
      echo "$begin $end" | awk '{ printf "%.2f", $2 - $1 }'
      return 0
    fi
    sleep 0.02
  done
  echo "no prediction within 120 s; see $work" >&2
  return 1
}

status_field() {
  awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status"
}

echo "setup,round,start_s,idle_mb,rps,p50_ms,p99_ms,peak_mb,anon_mb,threads" > "$csv"
for round in $(seq 1 "$rounds"); do
  for setup in $setups; do
    start "$setup"
    seconds=$(ready_seconds)
    sleep 2
    idle=$(rss_mb "$pid")
    measured=$(wrk_measure "$load_cpu" "$work/post.lua" "$connections" "$warmup" "$duration" "$url")
    peak=$(( $(status_field "$pid" VmHWM) / 1024 ))
    anon=$(( $(status_field "$pid" RssAnon) / 1024 ))
    threads=$(status_field "$pid" Threads)
    kill "$pid"
    wait "$pid" 2> /dev/null || true
    echo "$setup,$round,$seconds,$idle,$measured,$peak,$anon,$threads" | tee -a "$csv"
  done
done

echo "medians over $rounds rounds (server on CPU $server_cpu, wrk on CPU $load_cpu):"
echo "setup,start_s,idle_mb,rps,p50_ms,p99_ms,peak_mb,anon_mb,threads"
medians "$csv" 1 3 10
