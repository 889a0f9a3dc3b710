#!/usr/bin/env bash
# Start to ready, per kind of process: seconds from launch until a prediction through a fresh
# process is answered (answer_s) and until it says it is ready (ready_s: its /readyz answers 200;
# a gateway answers before it is ready, while it warms its request path up), in ROUNDS
# alternating rounds, each process started afresh:
#   serve    the single process on the demo CTR model's float version
#   gateway  a gateway joining a cluster whose worker already serves the model
#   worker   a worker joining a cluster whose gateway is up and has no other worker (its answer
#            is the first prediction the gateway can route to it)
#   bare     the bare Vert.x JSON endpoint (loadtest's BaselineServer): the JVM's and Vert.x's
#            floor (ready when it first answers)
# A setup KIND-nowarmup reports ready without the request-path warm-up (--path_warmup_requests=0);
# KIND-plain also starts without the class-data-sharing archive (INFERGATE_CLASS_ARCHIVE=off):
# how processes started before either.
# Writes loadtest/results/startup-<stamp>.csv (every round) and prints the medians.
# Env: ROUNDS (5), SETUPS ("serve serve-nowarmup serve-plain gateway gateway-nowarmup gateway-plain
#      worker worker-plain bare").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
rounds="${ROUNDS:-5}"
setups="${SETUPS:-serve serve-nowarmup serve-plain gateway gateway-nowarmup gateway-plain worker worker-plain bare}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/startup-$stamp.csv"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
members=(--cluster_members=127.0.0.1 "--cluster_name=startup-$$")
export INFERGATE_LOG_LEVEL=WARN
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

# start_member KIND[-nowarmup|-plain]: one process in the background (REST on 8661, a worker's
# monitoring on 8662); sets member to its pid, the JVM's.
start_member() {
  local kind=${1%%-*} flags=() archive=on
  case $1 in
    *-nowarmup) flags=(--path_warmup_requests=0) ;;
    *-plain) archive=off; [[ $kind == worker ]] || flags=(--path_warmup_requests=0) ;;
  esac
  case $kind in
    serve) INFERGATE_CLASS_ARCHIVE=$archive exec bin/infergate serve "${model[@]}" --rest_api_port=8661 --port=0 \
      "${flags[@]}" ;;
    gateway) INFERGATE_CLASS_ARCHIVE=$archive exec bin/infergate gateway "${members[@]}" --rest_api_port=8661 \
      --port=0 "${flags[@]}" ;;
    worker) INFERGATE_CLASS_ARCHIVE=$archive exec bin/infergate worker "${model[@]}" "${members[@]}" \
      --monitoring_port=8662 ;;
    bare) exec java -XX:+UseParallelGC -cp "$cp" io.infergate.loadtest.BaselineServer 8661 ;;
  esac > "$work/$1.log" 2>&1 &
  member=$!
  pids+=("$member")
}

# measure SETUP: starts it; sets answer_s and ready_s, seconds from its launch (the bare endpoint
# is ready when it answers; a gateway answers first, then warms up; a worker is ready, then routed to).
measure() {
  local begin
  begin=$(date +%s.%N)
  start_member "$1"
  case $1 in
    worker*)
      ready_s=$(seconds_until "$begin" ready 8662)
      answer_s=$(seconds_until "$begin" answers 8661) ;;
    bare)
      answer_s=$(seconds_until "$begin" answers 8661)
      ready_s=$answer_s ;;
    *)
      answer_s=$(seconds_until "$begin" answers 8661)
      ready_s=$(seconds_until "$begin" ready 8661) ;;
  esac
}

# join KIND OTHER: measures KIND joining a cluster whose OTHER member is up (a worker is up when
# ready, a gateway without workers when it answers /healthz).
join() {
  local other
  start_member "$2"
  other=$member
  if [[ $2 == worker* ]]; then
    seconds_until "$(date +%s.%N)" ready 8662 > /dev/null
  else
    seconds_until "$(date +%s.%N)" curl -sf http://127.0.0.1:8661/healthz > /dev/null
  fi
  measure "$1"
  stop "$member" "$other"
}

stop() {
  kill "$@" 2> /dev/null || true
  wait "$@" 2> /dev/null || true
}

echo "setup,round,answer_s,ready_s" > "$csv"
for round in $(seq 1 "$rounds"); do
  for setup in $setups; do
    case $setup in
      serve*|bare) measure "$setup"; stop "$member" ;;
      gateway*) join "$setup" worker ;;
      worker*) join "$setup" gateway ;;
    esac
    echo "$setup,$round,$answer_s,$ready_s" | tee -a "$csv"
  done
done

echo "medians over $rounds rounds:"
echo "setup,answer_s,ready_s"
medians "$csv" 1 3 4
