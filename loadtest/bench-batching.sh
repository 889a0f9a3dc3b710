#!/usr/bin/env bash
# Dynamic batching benchmark: REST predict on the demo CTR model, one instance per request,
# with batching off and on, under an open-loop sweep of offered loads (loadtest OpenLoopLoad).
# Env: RATES (req/s, space-separated), SECONDS_PER_RATE, MODES ("off on"), EXTRA_FLAGS (more serve flags).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
rates="${RATES:-500 1000 2000 3000 4000 5000 6000}"
seconds="${SECONDS_PER_RATE:-10}"
port=8701
load() {
  java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.OpenLoopLoad \
    "http://127.0.0.1:$port/v1/models/ctr:predict" loadtest/ctr-request.json "$@"
}
echo "mode,offered_per_s,achieved_per_s,p50_ms,p90_ms,p99_ms,max_ms,errors"
for mode in ${MODES:-off on}; do
  flags=(--port=0 ${EXTRA_FLAGS:-})
  if [[ $mode == on ]]; then
    flags+=(--enable_batching --batching_parameters_file=loadtest/batching.config)
  fi
  start_infergate "rest-$mode" "$port" "${flags[@]}"
  load "$seconds" $rates | tail -n +2 | sed "s/^/$mode,/"
  stop_infergate
done
