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
  wait_ready "$rest_port"
}

# wait_ready REST_PORT: until the gateway there reports ready (30 s at most).
wait_ready() {
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$1/v2/health/ready" > /dev/null && return 0
    sleep 0.2
  done
  echo "Infergate on port $1 did not become ready; see /tmp/infergate-bench-*.log" >&2
  return 1
}

# wait_predicting REST_PORT: until the demo model answers a prediction there (60 s at most): with
# gateway and worker processes, ready does not yet mean routed.
wait_predicting() {
  for _ in $(seq 1 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -d @"$root/loadtest/ctr-request.json" \
      "http://127.0.0.1:$1/v1/models/ctr:predict") == 200 ]] && return 0
    sleep 0.2
  done
  echo "Infergate on port $1 did not answer a prediction within 60 s" >&2
  return 1
}

stop_infergate() {
  kill "$server"
  wait "$server" 2>/dev/null || true
}

# wrk_post FILE BODY: writes a wrk script that POSTs BODY (JSON, no single quotes) to the URL wrk is given.
wrk_post() {
  cat > "$1" <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
LUA
}

# rss_mb PID: the process's resident memory in MB (0 once it is gone).
rss_mb() {
  awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2> /dev/null || echo 0
}

# wide_request DIR ROWS HIDDEN_UNITS: a request scoring ROWS candidates (DIR/body.json, and
# DIR/post.lua for wrk) with the demo CTR model widened to HIDDEN_UNITS hidden units, so that a
# worker, not a gateway, limits throughput; trains that model once into demo-models/wide-HIDDEN_UNITS
# and prints its folder.
wide_request() {
  local dir=$1 rows=$2 hidden_units=$3 row body model
  row=$(sed -e 's/^{"instances": \[//' -e 's/\]}$//' "$root/loadtest/ctr-request.json" | tr -d '\n')
  body="{\"instances\": [$(for _ in $(seq 2 "$rows"); do printf '%s, ' "$row"; done)$row]}"
  printf '%s' "$body" > "$dir/body.json"
  wrk_post "$dir/post.lua" "$body"
  model="$root/demo-models/wide-$hidden_units"
  [[ -d "$model/ctr/2" ]] || bin/infergate train-demo --out "$model" --epochs=2 --hidden_units="$hidden_units" > /dev/null
  echo "$model"
}
