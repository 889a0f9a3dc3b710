#!/usr/bin/env bash
# Start to ready, per kind of process: seconds from launch until a fresh process says it is ready
# (ready_s: its /readyz answers 200) and until a prediction through it is answered (answer_s), in
# ROUNDS alternating rounds, each process started afresh:
#   serve    the single process on the demo CTR model's float version
#   gateway  a gateway joining a cluster whose worker already serves the model
#   worker   a worker joining a cluster whose gateway is up and has no other worker (its answer
#            is the first prediction the gateway can route to it)
#   bare     the bare Vert.x JSON endpoint (loadtest's BaselineServer): the JVM's and Vert.x's
#            floor (ready when it first answers)
# Writes loadtest/results/startup-<stamp>.csv (every round) and prints the medians.
# Env: ROUNDS (5), SETUPS ("serve gateway worker bare").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
rounds="${ROUNDS:-5}"
setups="${SETUPS:-serve gateway worker bare}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/startup-$stamp.csv"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
members=(--cluster_members=127.0.0.1 "--cluster_name=startup-$$")
model=(--model_name=ctr "--model_base_path=$bench_models/ctr")

# seconds_until BEGIN COMMAND...: seconds from BEGIN (date +%s.%N) until COMMAND succeeds (120 s at most).
seconds_until() {
  local begin=$1
  shift
  for _ in $(seq 1 6000); do
    if "$@" > /dev/null 2>&1; then
      awk -v begin="$begin" -v now="$(date +%s.%N)" 'BEGIN { printf "%.2f", now - begin }'
      return 0
    fi
    sleep 0.02
  done
  echo "timed out waiting for: $*; logs in $work" >&2
  return 1
}

answers() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST -d @loadtest/ctr-request.json \
    "http://127.0.0.1:$1/v1/models/ctr:predict") == 200 ]]
}

ready() {
  curl -sf "http://127.0.0.1:$1/readyz"
}

# start_member gateway|worker: a cluster member in the background (REST 8661, or monitoring 8662); sets member.
start_member() {
  case $1 in
    gateway) INFERGATE_LOG_LEVEL=WARN exec bin/infergate gateway "${members[@]}" --rest_api_port=8661 --port=0 ;;
    worker) INFERGATE_LOG_LEVEL=WARN exec bin/infergate worker "${model[@]}" "${members[@]}" --monitoring_port=8662 ;;
  esac > "$work/$1.log" 2>&1 &
  member=$!
  pids+=("$member")
}

stop() {
  kill "$@" 2> /dev/null || true
  wait "$@" 2> /dev/null || true
}

echo "setup,round,ready_s,answer_s" > "$csv"
for round in $(seq 1 "$rounds"); do
  for setup in $setups; do
    case $setup in
      serve)
        begin=$(date +%s.%N)
        INFERGATE_LOG_LEVEL=WARN bin/infergate serve "${model[@]}" --rest_api_port=8661 --port=0 > "$work/serve.log" 2>&1 &
        pid=$!
        ready_s=$(seconds_until "$begin" ready 8661)
        answer_s=$(seconds_until "$begin" answers 8661)
        stop "$pid" ;;
      gateway)
        start_member worker
        other=$member
        seconds_until "$(date +%s.%N)" ready 8662 > /dev/null
        begin=$(date +%s.%N)
        start_member gateway
        ready_s=$(seconds_until "$begin" ready 8661)
        answer_s=$(seconds_until "$begin" answers 8661)
        stop "$member" "$other" ;;
      worker)
        start_member gateway
        other=$member
        seconds_until "$(date +%s.%N)" curl -sf http://127.0.0.1:8661/healthz > /dev/null
        begin=$(date +%s.%N)
        start_member worker
        ready_s=$(seconds_until "$begin" ready 8662)
        answer_s=$(seconds_until "$begin" answers 8661)
        stop "$member" "$other" ;;
      bare)
        begin=$(date +%s.%N)
        java -XX:+UseParallelGC -cp "$cp" io.infergate.loadtest.BaselineServer 8661 > "$work/bare.log" 2>&1 &
        pid=$!
        answer_s=$(seconds_until "$begin" answers 8661)
        ready_s=$answer_s
        stop "$pid" ;;
    esac
    echo "$setup,$round,$ready_s,$answer_s" | tee -a "$csv"
  done
done

echo "medians over $rounds rounds:"
echo "setup,ready_s,answer_s"
medians "$csv" 1 3 4
