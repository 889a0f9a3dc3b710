# Sourced by the benchmark scripts: builds what is missing and runs Infergate in the background.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[[ -f app/target/infergate.jar && -d loadtest/target/lib ]] || ./mvnw -B -q -DskipTests package
[[ -d demo-models/ctr/2 ]] || bin/infergate train-demo --out demo-models > /dev/null

# start_infergate NAME REST_PORT [serve flags...]: serves the demo model until stop_infergate.
start_infergate() {
  local name=$1 rest_port=$2
  shift 2
  INFERGATE_LOG_LEVEL=WARN bin/infergate serve --model_name=ctr "--model_base_path=$root/demo-models/ctr" \
    "--rest_api_port=$rest_port" "$@" > "/tmp/infergate-bench-$name.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$rest_port/v2/health/ready" > /dev/null && return 0
    sleep 0.2
  done
  echo "Infergate did not become ready; see /tmp/infergate-bench-$name.log" >&2
  return 1
}

stop_infergate() {
  kill "$server"
  wait "$server" 2>/dev/null || true
}
