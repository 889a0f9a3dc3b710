#!/usr/bin/env bash
# Many models on one worker: MODELS copies of the demo CTR model (each its own model), requests
# spread over them by a Zipf law (a few hot, a long cold tail), open-loop at RATE per second for
# SECONDS, served once with every model loaded (pinned) and once paged by memory under a budget
# that holds about a fifth of them (pageable), in ROUNDS alternating rounds after a warm-up. Reports
# per round: throughput, P50/P99/max latency from when each request was due (cold starts
# included), errors, the process's resident memory, the models' measured memory, loads and
# evictions.
#
#   loadtest/paging.sh                      # 50 models, Zipf s=1.0, 200/s, 60 s, 2 rounds
#   MODELS=50 ZIPF=1.1 RATE=300 DURATION=60 ROUNDS=3 loadtest/paging.sh
#   SERVE_FLAGS=--num_load_threads=4 loadtest/paging.sh      # more flags for both modes
#
# Results: loadtest/results/paging-<time>.csv (and .txt with the server's paging log lines).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
models=${MODELS:-50}
zipf=${ZIPF:-1.0}
rate=${RATE:-200}
seconds=${DURATION:-60}
rounds=${ROUNDS:-2}
port=8591
stamp=$(date -u +%Y%m%dT%H%M%SZ)
csv="$root/loadtest/results/paging-$stamp.csv"
mkdir -p "$root/loadtest/results"

repository=$(mktemp -d)
server=
trap 'kill $server 2> /dev/null || true; rm -rf "$repository"' EXIT
config="$repository/models.config"
echo "model_config_list {" > "$config"
for ((i = 0; i < models; i++)); do
  mkdir -p "$repository/m$i"
  cp -r "$bench_models/ctr/2" "$repository/m$i/1"
  echo "  config { name: \"m$i\" base_path: \"$repository/m$i\" }" >> "$config"
done
echo "}" >> "$config"

metric_sum() { # NAME: the sum of a metric's series on the running server
  curl -s "http://127.0.0.1:$port/monitoring/prometheus/metrics" \
    | awk -v name="$1" '$1 ~ "^"name"({|$)" { sum += $2 } END { printf "%.0f", sum }'
}

# serve MODE [flags...]: the 50-model server until the round ends
serve() {
  local mode=$1
  shift
  INFERGATE_LOG_LEVEL=INFO bin/infergate serve "--model_config_file=$config" "--rest_api_port=$port" --port=0 \
    --file_system_poll_wait_seconds=0 ${SERVE_FLAGS:-} "$@" > "/tmp/infergate-paging-$mode.log" 2>&1 &
  server=$!
  wait_ready "$port"
}

# The budget for paging: a fifth of what every model measured when all were loaded.
serve pinned --default_model_paging=pinned
all_bytes=$(metric_sum infergate_model_memory_bytes)
kill "$server"; wait "$server" 2> /dev/null || true
budget=$(( all_bytes / 5 ))
echo "All $models models hold $(( all_bytes >> 20 )) MiB as measured; paging budget $(( budget >> 20 )) MiB"

echo "mode,round,offered_per_s,achieved_per_s,p50_ms,p90_ms,p99_ms,max_ms,errors,admitted_per_s,admitted_p99_ms,shed_per_s,shed_p99_ms,shed_max_ms,other,rss_mb,models_mb,loads,evictions" > "$csv"
run_round() { # MODE ROUND flags...
  local mode=$1 round=$2
  shift 2
  serve "$mode" "$@"
  local line
  line=$(java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.OpenLoopLoad \
    --zipf "$models,$zipf" "http://127.0.0.1:$port/v1/models/{model}:predict" loadtest/ctr-request.json \
    "$seconds" "$rate" | tail -1)
  echo "$mode,$round,$line,$(rss_mb "$server"),$(( $(metric_sum infergate_worker_memory_used_bytes) >> 20 )),$(metric_sum infergate_paging_loads_total),$(metric_sum infergate_paging_evictions_total)" | tee -a "$csv"
  kill "$server"; wait "$server" 2> /dev/null || true
}
for ((r = 1; r <= rounds; r++)); do
  run_round pinned "$r" --default_model_paging=pinned
  run_round pageable "$r" --default_model_paging=pageable "--memory_budget_bytes=$budget"
done
grep -h "Paged in\|Evicting" /tmp/infergate-paging-pageable.log | tail -20 > "${csv%.csv}.txt" || true
echo "Results: $csv"
