#!/usr/bin/env bash
# Cluster benchmark: REST predict on the demo CTR model (open loop, one instance per request,
# batching on) through the single-process server, through a gateway process with one worker
# process, and with two worker processes, all on this machine.
# Env: RATES (req/s, space-separated), SECONDS_PER_RATE.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
rates="${RATES:-1000 2000 4000 6000 8000}"
seconds="${SECONDS_PER_RATE:-10}"
members=(--cluster_members=127.0.0.1 --cluster_name="bench-$$")
batching=(--enable_batching --batching_parameters_file=loadtest/batching.config)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# An unreported pass warms up every JVM involved (gateway, workers, generator), then the sweep.
load() {
  local generator=(java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.OpenLoopLoad
    "http://127.0.0.1:$1/v1/models/ctr:predict" loadtest/ctr-request.json)
  "${generator[@]}" 10 2000 4000 > /dev/null
  "${generator[@]}" "$seconds" $rates | tail -n +2 | sed "s/^/$2,/"
}

worker() {
  INFERGATE_LOG_LEVEL=WARN bin/infergate worker --model_name=ctr "--model_base_path=$bench_models/ctr" \
    "${batching[@]}" "${members[@]}" "--monitoring_port=$1" > "/tmp/infergate-bench-worker-$1.log" 2>&1 &
  pids+=($!)
}

echo "setup,offered_per_s,achieved_per_s,p50_ms,p90_ms,p99_ms,max_ms,errors"
start_infergate single 8701 --port=0 "${batching[@]}"
load 8701 single
stop_infergate

for workers in 1 2; do
  pids=()
  worker 8612
  [[ $workers == 2 ]] && worker 8613
  INFERGATE_LOG_LEVEL=WARN bin/infergate gateway --rest_api_port=8711 --port=0 "${members[@]}" \
    > /tmp/infergate-bench-gateway.log 2>&1 &
  pids+=($!)
  wait_ready 8711
  load 8711 "cluster-$workers-worker"
  kill "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
done
