#!/usr/bin/env bash
# Priorities under overload, in the deployment users run: a gateway process and a worker process
# (dynamic batching on), each on a CPU of its own. Each request scores ROWS candidates with a wide
# variant of the demo CTR model, so the worker limits throughput. After a warm-up, closed-loop wrk
# measures the capacity C. Then, in ROUNDS alternating rounds, two open-loop generators offer
# HIGH x C and LOW x C requests per second together for DURATION seconds (past capacity when
# their sum is above 1):
#   same:         neither names a priority (both the model's default, normal);
#   prioritized:  the first sends x-infergate-priority: high, the second low;
#   bare:         the same two streams to the bare Vert.x JSON endpoint (loadtest's BaselineServer,
#                 on the gateway's CPUs): the yardstick, what answering at that rate costs here.
# Requests carry the gateway's deadline of DEADLINE_MS. Reported per generator: admitted per
# second, the share of its requests answered 200, and the P99 of those (from when each was due).
# Writes loadtest/results/priority-<stamp>.csv and prints the medians per mode and class.
# Env: ROWS (32), HIDDEN_UNITS (65536), HIGH (0.3), LOW (1.2), ROUNDS (3), DURATION (s, 30),
#      WARMUP (s, 60), DEADLINE_MS (1000), GATEWAY_CPUS (0), WORKER_CPUS (1), LOAD_CPUS (0).
#      Needs wrk (Debian: wrk).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
rows="${ROWS:-32}"
hidden_units="${HIDDEN_UNITS:-65536}"
high="${HIGH:-0.3}"
low="${LOW:-1.2}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-30}"
warmup="${WARMUP:-60}"
deadline_ms="${DEADLINE_MS:-1000}"
gateway_cpus="${GATEWAY_CPUS:-0}"
worker_cpus="${WORKER_CPUS:-1}"
load_cpus="${LOAD_CPUS:-0}"
port=8621
bare_port=8623
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/priority-$stamp.csv"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

model=$(wide_request "$work" "$rows" "$hidden_units")
members=(--cluster_members=127.0.0.1 --cluster_name="priority-$$")
export INFERGATE_JAVA_OPTS="${INFERGATE_JAVA_OPTS:--Xms1g -Xmx1g}"
INFERGATE_LOG_LEVEL=WARN taskset -c "$worker_cpus" bin/infergate worker --model_name=ctr \
  "--model_base_path=$model/ctr" --enable_batching --batching_parameters_file=loadtest/peak-batching.config \
  --monitoring_port=8622 "${members[@]}" > /tmp/infergate-bench-priority-worker.log 2>&1 &
pids+=($!)
INFERGATE_LOG_LEVEL=WARN taskset -c "$gateway_cpus" bin/infergate gateway --rest_api_port=$port --port=0 \
  --rest_api_num_threads=1 --rest_api_timeout_in_ms="$deadline_ms" "${members[@]}" \
  > /tmp/infergate-bench-priority-gateway.log 2>&1 &
pids+=($!)
wait_ready "$port"
wait_predicting "$port"
url="http://127.0.0.1:$port/v1/models/ctr:predict"
taskset -c "$gateway_cpus" java -cp "$cp" io.infergate.loadtest.BaselineServer "$bare_port" > /dev/null 2>&1 &
pids+=($!)
bare_url="http://127.0.0.1:$bare_port/v1/models/ctr:predict"

echo "warming up for ${warmup}s" >&2
taskset -c "$load_cpus" wrk -t1 -c16 -d"${warmup}s" -s "$work/post.lua" "$url" > /dev/null
taskset -c "$load_cpus" wrk -t1 -c16 -d"$((warmup / 2))s" -s "$work/post.lua" "$bare_url" > /dev/null
capacity=$(taskset -c "$load_cpus" wrk -t1 -c16 -d20s -s "$work/post.lua" "$url" | awk '/Requests\/sec/ { printf "%d", $2 }')
high_rate=$(awk -v c="$capacity" -v l="$high" 'BEGIN { printf "%d", c * l }')
low_rate=$(awk -v c="$capacity" -v l="$low" 'BEGIN { printf "%d", c * l }')
echo "capacity (closed loop, 16 connections): $capacity requests/s of $rows rows; offering $high_rate + $low_rate per second" >&2

# generate CLASS HEADER RATE [URL]: one open-loop generator in the background.
generate() {
  local class=$1 header=$2 rate=$3 target=${4:-$url}
  local flags=()
  [[ -n "$header" ]] && flags=(--header "x-infergate-priority:$header")
  taskset -c "$load_cpus" java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m -cp "$cp" \
    io.infergate.loadtest.OpenLoopLoad "${flags[@]}" "$target" "$work/body.json" "$duration" "$rate" \
    > "$work/$class.csv" 2> "$work/$class.err" &
  generators+=($!)
}

echo "mode,round,class,offered_per_s,admitted_per_s,success_pct,admitted_p99_ms,shed_per_s,other" > "$csv"
for round in $(seq 1 "$rounds"); do
  for mode in bare same prioritized; do
    generators=()
    if [[ $mode == bare ]]; then
      generate first "" "$high_rate" "$bare_url"; generate second "" "$low_rate" "$bare_url"
    elif [[ $mode == same ]]; then
      generate first "" "$high_rate"; generate second "" "$low_rate"
    else
      generate first high "$high_rate"; generate second low "$low_rate"
    fi
    wait "${generators[@]}"
    for class in first second; do
      tail -n 1 "$work/$class.csv" | awk -F, -v mode="$mode" -v round="$round" -v class="$class" '
        { printf "%s,%s,%s,%d,%d,%.1f,%.2f,%d,%d\n", mode, round, class, $1, $8, 100 * $8 / $1, $9, $10, $13 }' >> "$csv"
    done
    tail -n 2 "$csv" >&2
  done
done
echo "capacity $capacity req/s of $rows rows ($hidden_units hidden units); first at $high x, second at $low x;" \
  "deadline ${deadline_ms} ms; ${duration}s per run, $rounds rounds; gateway on CPUs $gateway_cpus, worker on $worker_cpus, load on $load_cpus" >&2
echo "medians over the rounds:"
echo "mode,class,offered_per_s,admitted_per_s,success_pct,admitted_p99_ms,shed_per_s,other"
for mode in bare same prioritized; do
  for class in first second; do
    awk -F, -v mode="$mode" -v class="$class" 'NR > 1 && $1 == mode && $3 == class' "$csv" | awk -F, '
      { for (i = 4; i <= 9; i++) v[i, NR] = $i; n = NR }
      function median(i,   a, k, j, t) { for (k = 1; k <= n; k++) a[k] = v[i, k]
        for (k = 1; k <= n; k++) for (j = k + 1; j <= n; j++) if (a[j] + 0 < a[k] + 0) { t = a[k]; a[k] = a[j]; a[j] = t }
        return a[int((n + 1) / 2)] }
      END { printf "%s,%s,%s,%s,%s,%s,%s,%s\n", "'"$mode"'", "'"$class"'", median(4), median(5), median(6), median(7), median(8), median(9) }'
  done
done
echo "Results: $csv"
