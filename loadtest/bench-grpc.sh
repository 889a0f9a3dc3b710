#!/usr/bin/env bash
# gRPC benchmark: unary tensorflow.serving.PredictionService/Predict on the demo CTR model over
# many concurrent HTTP/2 streams, with h2load (Debian package nghttp2-client), batching off and on.
# Env: DURATION (s per run), WARMUP (s, unreported), CONNECTIONS, STREAMS (per connection), MODES ("off on").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
duration="${DURATION:-15}"
connections="${CONNECTIONS:-4}"
streams="${STREAMS:-64}"
port=8700
command -v h2load > /dev/null || { echo "h2load is missing: apt-get install nghttp2-client" >&2; exit 1; }
body=$(mktemp)
java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.GrpcRequestFile "$body"
echo "mode,connections,streams_per_connection,requests_per_s,mean_ms,max_ms,errors"
for mode in ${MODES:-off on}; do
  flags=("--port=$port")
  if [[ $mode == on ]]; then
    flags+=(--enable_batching --batching_parameters_file=loadtest/batching.config)
  fi
  start_infergate "grpc-$mode" 8701 "${flags[@]}"
  h2load_run() {
    h2load "http://127.0.0.1:$port/tensorflow.serving.PredictionService/Predict" -d "$body" \
      -H 'content-type: application/grpc' -H 'te: trailers' -c "$connections" -m "$streams" -D "$1" 2>&1
  }
  h2load_run "${WARMUP:-20}" > /dev/null   # JIT warmup, not reported
  out=$(h2load_run "$duration")
  rps=$(awk '/^finished in/ {gsub(",", "", $4); print $4}' <<< "$out")
  errors=$(awk '/^requests:/ {print $10 + $12}' <<< "$out")
  mean=$(awk '/^time for request:/ {print $6}' <<< "$out")
  max=$(awk '/^time for request:/ {print $5}' <<< "$out")
  echo "$mode,$connections,$streams,$rps,$mean,$max,$errors"
  echo "$out" > "/tmp/infergate-bench-grpc-$mode.h2load"
  stop_infergate
done
rm -f "$body"
