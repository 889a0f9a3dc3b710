#!/usr/bin/env bash
# Holding a latency target: the same open-loop ramp against three batching set-ups of one worker,
# in the deployment users run (a gateway process and a worker process, each on a CPU of its own),
# and against the bare Vert.x JSON endpoint (loadtest's BaselineServer, on the gateway's CPU: the
# yardstick, what answering at that rate costs on this machine at all):
#   defaults:  --enable_batching with TF Serving's defaults (max_batch_size 1000, no timeout,
#              10 queued batches);
#   tuned:     hand-tuned parameters (loadtest/peak-batching.config: 64 rows, 1 ms, 100 batches);
#   adaptive:  TF Serving's defaults plus latency_target_micros (TARGET_MS) in the model config:
#              the worker tunes timeout and batch size online and refuses what cannot be in time.
# Each request scores ROWS candidates with a wide variant of the demo CTR model, so the worker
# limits throughput. After a warm-up of each set-up, closed-loop wrk measures its capacity; the
# ramp's steps are STEPS x the tuned set-up's capacity, DURATION seconds each, in ROUNDS rounds
# that alternate the set-ups. Reported per set-up and step: admitted (200) per second and the P99
# of those from when each request was due, and the share refused (429/503) or failed.
# Writes loadtest/results/slo-<stamp>.csv, prints the medians, and plots them to slo-<stamp>.png.
# Env: SETUPS ("bare defaults tuned adaptive"), ROWS (32), HIDDEN_UNITS (65536), TARGET_MS (30),
#      STEPS ("0.25 0.5 0.75 1 1.25 1.5 2"),
#      ROUNDS (3), DURATION (s, 20), WARMUP (s, 30), DEADLINE_MS (5000), GATEWAY_CPUS (0),
#      WORKER_CPUS (1), LOAD_CPUS (0). Needs wrk (Debian: wrk).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
setups="${SETUPS:-bare defaults tuned adaptive}"
rows="${ROWS:-32}"
hidden_units="${HIDDEN_UNITS:-65536}"
target_ms="${TARGET_MS:-30}"
steps="${STEPS:-0.25 0.5 0.75 1 1.25 1.5 2}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-20}"
warmup="${WARMUP:-30}"
deadline_ms="${DEADLINE_MS:-5000}"
gateway_cpus="${GATEWAY_CPUS:-0}"
worker_cpus="${WORKER_CPUS:-1}"
load_cpus="${LOAD_CPUS:-0}"
port=8631
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/slo-$stamp.csv"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

model=$(wide_request "$work" "$rows" "$hidden_units")
for setup in defaults tuned; do
  echo "model_config_list { config { name: \"ctr\" base_path: \"$model/ctr\" } }" > "$work/$setup.config"
done
echo "model_config_list { config { name: \"ctr\" base_path: \"$model/ctr\" latency_target_micros: $((target_ms * 1000)) } }" \
  > "$work/adaptive.config"
url="http://127.0.0.1:$port/v1/models/ctr:predict"
export INFERGATE_JAVA_OPTS="${INFERGATE_JAVA_OPTS:--Xms1g -Xmx1g}"

# start SETUP: its worker and a gateway (or the bare endpoint), warmed up.
start() {
  local setup=$1 batching=(--enable_batching)
  if [[ $setup == bare ]]; then
    taskset -c "$gateway_cpus" java -cp "$cp" io.infergate.loadtest.BaselineServer "$port" > /dev/null 2>&1 &
    pids=($!)
    sleep 2
    taskset -c "$load_cpus" wrk -t1 -c16 -d"${warmup}s" -s "$work/post.lua" "$url" > /dev/null
    return
  fi
  [[ $setup == tuned ]] && batching+=(--batching_parameters_file=loadtest/peak-batching.config)
  local members=(--cluster_members=127.0.0.1 --cluster_name="slo-$$-$setup")
  INFERGATE_LOG_LEVEL=WARN taskset -c "$worker_cpus" bin/infergate worker "--model_config_file=$work/$setup.config" \
    "${batching[@]}" --monitoring_port=8632 "${members[@]}" > "/tmp/infergate-bench-slo-$setup-worker.log" 2>&1 &
  pids=($!)
  INFERGATE_LOG_LEVEL=WARN taskset -c "$gateway_cpus" bin/infergate gateway --rest_api_port=$port --port=0 \
    --rest_api_num_threads=1 --rest_api_timeout_in_ms="$deadline_ms" "${members[@]}" \
    > "/tmp/infergate-bench-slo-$setup-gateway.log" 2>&1 &
  pids+=($!)
  wait_ready "$port"
  wait_predicting "$port"
  taskset -c "$load_cpus" wrk -t1 -c16 -d"${warmup}s" -s "$work/post.lua" "$url" > /dev/null
}
stop() {
  kill "${pids[@]}"
  wait "${pids[@]}" 2> /dev/null || true
}
capacity() {
  taskset -c "$load_cpus" wrk -t1 -c16 -d15s -s "$work/post.lua" "$url" | awk '/Requests\/sec/ { printf "%d", $2 }'
}

start tuned
base=$(capacity)
stop
rates=$(for s in $steps; do awk -v c="$base" -v s="$s" 'BEGIN { printf "%d ", c * s }'; done)
echo "tuned capacity (closed loop, 16 connections): $base requests/s of $rows rows; ramp: $rates" >&2

echo "setup,round,step,offered_per_s,admitted_per_s,admitted_p99_ms,refused_pct,other_pct,capacity_per_s" > "$csv"
for round in $(seq 1 "$rounds"); do
  for setup in $setups; do
    start "$setup"
    cap=$(capacity)
    # shellcheck disable=SC2086
    taskset -c "$load_cpus" java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m -cp "$cp" \
      io.infergate.loadtest.OpenLoopLoad "$url" "$work/body.json" "$duration" $rates \
      > "$work/ramp.csv" 2> "$work/ramp.err"
    stop
    tail -n +2 "$work/ramp.csv" | awk -F, -v setup="$setup" -v round="$round" -v steps="$steps" -v cap="$cap" '
      BEGIN { split(steps, step, " ") }
      { printf "%s,%s,%s,%d,%d,%.2f,%.1f,%.1f,%d\n", setup, round, step[NR], $1, $8, $9, 100 * $10 / $1, 100 * $13 / $1, cap }' \
      | tee -a "$csv" >&2
  done
done
summary="${csv%.csv}-medians.csv"
echo "setup,step,offered_per_s,admitted_per_s,admitted_p99_ms,refused_pct,other_pct" > "$summary"
for setup in $setups; do
  for step in $steps; do
    awk -F, -v setup="$setup" -v step="$step" 'NR > 1 && $1 == setup && $3 == step' "$csv" | awk -F, '
      { for (i = 4; i <= 8; i++) v[i, NR] = $i; n = NR }
      function median(i,   a, k, j, t) { for (k = 1; k <= n; k++) a[k] = v[i, k]
        for (k = 1; k <= n; k++) for (j = k + 1; j <= n; j++) if (a[j] + 0 < a[k] + 0) { t = a[k]; a[k] = a[j]; a[j] = t }
        return a[int((n + 1) / 2)] }
      END { printf "%s,%s,%s,%s,%s,%s,%s\n", "'"$setup"'", "'"$step"'", median(4), median(5), median(6), median(7), median(8) }'
  done
done >> "$summary"
cat "$summary"
# The plot takes PeakPlot's columns: target, achieved/s, P50 and P99 (the admitted P99 in both).
awk -F, 'NR == 1 { print "target,offered_per_s,achieved_per_s,p50_ms,p99_ms"; next }
  { printf "%s,%s,%s,%s,%s\n", $1, $3, $4, $5, $5 }' "$summary" > "$work/admitted-p99-target-${target_ms}ms.csv"
# The latency axis ends at 10x the target: a set-up's seconds would flatten the others' milliseconds.
java -cp "$cp" io.infergate.loadtest.PeakPlot "$work/admitted-p99-target-${target_ms}ms.csv" "${csv%.csv}.png" \
  "$((target_ms * 10))" || true
echo "setups: $rows rows per request, $hidden_units hidden units; target ${target_ms} ms; deadline ${deadline_ms} ms;" \
  "${duration}s per step, $rounds rounds; gateway on CPUs $gateway_cpus, worker on $worker_cpus, load on $load_cpus" >&2
echo "Results: $csv, $summary, ${csv%.csv}.png"
