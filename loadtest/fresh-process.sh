#!/usr/bin/env bash
# A fresh process joining under steady load, as autoscaling and rolling updates start them:
#   gateway  a worker and a gateway serve the demo CTR model, its features (ids in) from the
#            cluster's Hazelcast map with a near cache; steady open-loop load (RATE/s of
#            loadtest/ctr-ids-request.json) runs through the gateway; after STEADY s a second
#            gateway starts, and from the first readiness probe (every 200 ms) that finds it ready
#            it takes every other request, as a round-robin load balancer would send it.
#   worker   a gateway and a worker, the load through the gateway; after STEADY s a second worker
#            starts, and the gateway routes to it from when its model is AVAILABLE.
# Variants, alternating in ROUNDS rounds: warm (the defaults) and cold (the fresh process reports
# ready without the request-path warm-up, --path_warmup_requests=0, and for a worker without its
# model warm-up, --enable_model_warmup=false). Per scenario and variant: errors, P50, P99, P99.9 and
# max of the steady phase, while the new process starts next door (until its first ready probe), of
# its first 60 s (for a worker: all requests then), and of the old gateway meanwhile; latencies
# count from when each request was due.
# Writes loadtest/results/fresh-process-<stamp>.csv (every round's phases) and
# fresh-process-<stamp>-seconds.csv (the first 60 s second by second), and prints medians.
# Env: SCENARIOS ("gateway worker"), VARIANTS ("warm cold"), ROUNDS (3), RATE (400), STEADY (30),
#      AFTER (75), WARMUP (20: unreported seconds of load before the steady phase).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
scenarios="${SCENARIOS:-gateway worker}"
variants="${VARIANTS:-warm cold}"
rounds="${ROUNDS:-3}"
rate="${RATE:-400}"
steady="${STEADY:-30}"
after="${AFTER:-75}"
warmup="${WARMUP:-20}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/fresh-process-$stamp.csv"
seconds_csv="loadtest/results/fresh-process-$stamp-seconds.csv"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
export INFERGATE_LOG_LEVEL=WARN
token=fresh-process
model=(--model_name=ctr "--model_base_path=$bench_models/ctr")
features="$work/features.config"
{
  echo 'hazelcast { timeout_ms: 50 near_cache { max_entries: 100000 ttl_ms: 10000 tracking: true } }'
  sed -n '/^model {/,$p' "$bench_models/features-hazelcast.config"
} > "$features"

# member NAME gateway|worker PORT [flags...]: a cluster member in the background (a gateway's REST
# port, or a worker's monitoring port).
member() {
  local name=$1 kind=$2 port=$3
  shift 3
  if [[ $kind == gateway ]]; then
    bin/infergate gateway "${members[@]}" "--rest_api_port=$port" --port=0 "--feature_config_file=$features" \
      "--admin_token=$token" "$@" > "$work/$name.log" 2>&1 &
  else
    bin/infergate worker "${members[@]}" "${model[@]}" "--monitoring_port=$port" "$@" > "$work/$name.log" 2>&1 &
  fi
  pids+=($!)
}

# run SCENARIO VARIANT ROUND: one fresh process joining under load; appends its phases to the CSVs.
run() {
  local scenario=$1 variant=$2 round=$3 fresh_flags=() out="$work/load.out"
  members=(--cluster_members=127.0.0.1 "--cluster_name=fresh-$$-$round-$scenario-$variant")
  pids=()
  if [[ $variant == cold ]]; then
    [[ $scenario == gateway ]] && fresh_flags=(--path_warmup_requests=0) || fresh_flags=(--enable_model_warmup=false)
  fi
  member worker1 worker 8681
  wait_ready 8681
  member gateway1 gateway 8671
  wait_ready 8671
  for file in users.csv items.jsonl; do
    bin/infergate features load --gateway=http://127.0.0.1:8671 "--admin_token=$token" \
      --file "$bench_models/features/$file" > /dev/null 2>&1
  done
  local load=(java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.FreshProcessLoad
    "$rate" $((warmup + steady + after)) "$warmup" "$steady" loadtest/ctr-ids-request.json
    http://127.0.0.1:8671/v1/models/ctr:predict)
  if [[ $scenario == gateway ]]; then
    load+=(--join http://127.0.0.1:8672/v1/models/ctr:predict http://127.0.0.1:8672/readyz)
  else
    load+=(--watch http://127.0.0.1:8682/readyz)
  fi
  "${load[@]}" > "$out" 2> "$work/load.err" &
  local generator=$!
  sleep $((warmup + steady))
  if [[ $scenario == gateway ]]; then
    member gateway2 gateway 8672 "${fresh_flags[@]}"
  else
    member worker2 worker 8682 "${fresh_flags[@]}"
  fi
  wait "$generator"
  cat "$work/load.err" >&2
  grep -v '^phase\|^second_' "$out" | sed "s/^/$scenario,$variant,$round,/" | tee -a "$csv"
  grep '^second_' "$out" | sed "s/^second_/$scenario,$variant,$round,/" >> "$seconds_csv"
  kill "${pids[@]}" 2> /dev/null || true
  wait "${pids[@]}" 2> /dev/null || true
}

echo "scenario,variant,round,phase,requests,errors,p50_ms,p99_ms,p999_ms,max_ms" | tee "$csv"
echo "scenario,variant,round,second,requests,errors,p50_ms,p99_ms,p999_ms,max_ms" > "$seconds_csv"
for round in $(seq 1 "$rounds"); do
  for scenario in $scenarios; do
    for variant in $variants; do
      run "$scenario" "$variant" "$round"
    done
  done
done

echo "medians over $rounds rounds (rate $rate/s):"
echo "scenario,variant,phase,requests,errors,p50_ms,p99_ms,p999_ms,max_ms"
medians "$csv" 1,2,4 5 10
