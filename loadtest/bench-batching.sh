#!/usr/bin/env bash
# Dynamic batching benchmark: REST predict on the demo CTR model, one instance per request,
# with batching off and on, under an open-loop sweep of offered loads (loadtest OpenLoopLoad).
# Env: RATES (req/s, space-separated), SECONDS_PER_RATE, MODES ("off on"), EXTRA_FLAGS (more serve flags).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rates="${RATES:-500 1000 2000 3000 4000 5000 6000}"
seconds="${SECONDS_PER_RATE:-10}"
port=8701
[[ -f app/target/infergate.jar && -d loadtest/target/lib ]] || ./mvnw -B -q -DskipTests package
[[ -d demo-models/ctr/2 ]] || bin/infergate train-demo --out demo-models > /dev/null
load() {
  java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.OpenLoopLoad \
    "http://127.0.0.1:$port/v1/models/ctr:predict" loadtest/ctr-request.json "$@"
}
echo "mode,offered_per_s,achieved_per_s,p50_ms,p90_ms,p99_ms,max_ms,errors"
for mode in ${MODES:-off on}; do
  flags=(--model_name=ctr "--model_base_path=$root/demo-models/ctr" "--rest_api_port=$port" --port=0 ${EXTRA_FLAGS:-})
  if [[ $mode == on ]]; then
    flags+=(--enable_batching --batching_parameters_file=loadtest/batching.config)
  fi
  INFERGATE_LOG_LEVEL=WARN bin/infergate serve "${flags[@]}" > "/tmp/infergate-bench-$mode.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/v2/health/ready" > /dev/null && break
    sleep 0.2
  done
  load "$seconds" $rates | tail -n +2 | sed "s/^/$mode,/"
  kill $server
  wait $server 2>/dev/null || true
done
