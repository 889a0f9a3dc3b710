#!/usr/bin/env bash
# The demo CTR model's float version (2) against its int8-weight version (3), for each hidden
# layer width in UNITS (the demo's 32, and a wide one whose weights dominate), served as on a
# small device (serve --small_footprint, one core):
#   files_kb      the version's SavedModel on disk (saved_model.pb and variables/)
#   weights_kb    what its weight matrices take in the checkpoint (the trainer's figure)
#   auc           test AUC of the exported graph (the trainer evaluates what it exports)
#   load_mb       memory the version took when it loaded (Infergate's measure, /admin/registry)
#   rss_mb        resident memory of a process serving that version alone, after the load below
#                 (the small footprint's fixed JVM flags keep the heap's share of it steady)
#   rps, p50_ms, p99_ms   closed-loop wrk, CONNECTIONS connections, ROWS rows per request, for
#                 DURATION seconds after WARMUP seconds, the server on SERVER_CPU and wrk on LOAD_CPU
# In ROUNDS alternating rounds per width, each version is served by a fresh process.
# Writes loadtest/results/quantized-<stamp>.csv (every round) and prints the medians (version 2 float, 3 int8).
# Env: UNITS ("32 262144"), ROWS (32), ROUNDS (3), DURATION (s, 20), WARMUP (s, 60), CONNECTIONS (8),
#      SERVER_CPU (1), LOAD_CPU (0). Needs wrk (Debian: wrk).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
units_list="${UNITS:-32 262144}"
rows="${ROWS:-32}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-20}"
warmup="${WARMUP:-60}"
connections="${CONNECTIONS:-8}"
server_cpu="${SERVER_CPU:-1}"
load_cpu="${LOAD_CPU:-0}"
port=8641
token=quantized-bench
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/quantized-$stamp.csv"
work=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
# The wide_request body (ROWS rows) and its wrk script; its wide model is not used here.
wide_request "$work" "$rows" 32 > /dev/null

echo "units,version,round,files_kb,weights_kb,auc,load_mb,rss_mb,rps,p50_ms,p99_ms" > "$csv"
for units in $units_list; do
  model="$root/demo-models/quantized-$units"
  if [[ ! -d "$model/ctr/3" ]]; then
    rm -rf "$model"
    bin/infergate train-demo --out "$model" --hidden_units="$units" > "$model.train.log" 2>&1
  fi
  for round in $(seq 1 "$rounds"); do
    for version in 2 3; do
      files=$(du -sk "$model/ctr/$version" | cut -f1)
      weights=$(awk -v dir="ctr/$version:" '$1 == "exported" && index($2, dir) { gsub(/[(,]/, "", $5); printf "%.1f", $5 / 1024 }' "$model.train.log")
      auc=$(awk -v dir="ctr/$version:" '$1 == "exported" && index($2, dir) { print $(NF - 2) }' "$model.train.log")
      cat > "$work/model.config" <<CONFIG
model_config_list { config { name: "ctr" base_path: "$model/ctr" model_platform: "tensorflow"
  model_version_policy { specific { versions: $version } } } }
CONFIG
      INFERGATE_LOG_LEVEL=WARN taskset -c "$server_cpu" bin/infergate serve "--model_config_file=$work/model.config" \
        "--rest_api_port=$port" --port=0 "--admin_token=$token" --small_footprint > "$work/serve.log" 2>&1 &
      pid=$!
      wait_ready "$port"
      load=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/admin/registry" |
        jq -r --arg v "$version" '.models.ctr.versions[$v].memory_bytes / 1048576 * 10 | round / 10')
      url="http://127.0.0.1:$port/v1/models/ctr/versions/$version:predict"
      measured=$(wrk_measure "$load_cpu" "$work/post.lua" "$connections" "$warmup" "$duration" "$url")
      rss=$(rss_mb "$pid")
      kill "$pid"
      wait "$pid" 2> /dev/null || true
      echo "$units,$version,$round,$files,$weights,$auc,$load,$rss,$measured" | tee -a "$csv"
    done
  done
done

echo "medians over $rounds rounds ($rows rows per request; server on CPU $server_cpu, wrk on CPU $load_cpu):"
echo "units,version,files_kb,weights_kb,auc,load_mb,rss_mb,rps,p50_ms,p99_ms"
medians "$csv" 1,2 4 11
