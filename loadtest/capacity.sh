#!/usr/bin/env bash
# Capacity model of the deployment users run (gateway and worker processes): what one request
# costs each process in CPU time, what one batch costs a worker, and how many bytes cross the
# event bus per request, for REST and gRPC predict on the demo CTR model (batching on).
#   Gateways are pinned to GATEWAY_CPUS and workers to WORKER_CPUS (taskset), so the cores are
#   split on purpose; the load generators (OpenLoopLoad, open loop, one per gateway, C1-only)
#   run on the gateways' cores. For each topology (TOPOLOGIES, gateways x workers, the rate
#   spread evenly over the gateways), protocol and rate (RATES, in all, below saturation), after a
#   warm-up: DURATION seconds of load, with each process's CPU time (/proc/PID/stat), the
#   requests the gateways answered and the batches the workers ran (their metrics) and the bytes
#   sent on the event-bus connections (ss) taken before and after, and the bytes to and from the
#   clients (ss, read twice during the run, per request answered in between). Rates per second are over the
#   whole window (it includes the generators' start and their five seconds of warm-up at the rate).
#   First, DURATION seconds with no requests: what each process costs idle. Then fits, per
#   topology and protocol, over the rates (least squares):
#     gateway CPU/s = fixed + g x requests/s                 (g: gateway cost per request)
#     worker CPU/s  = idle + a x requests/s + b x batches/s  (a: per request, b: per batch)
#   The fits show what is fixed and what grows with requests and batches. The projection sizes a
#   fleet of 1-core pods, 70 % busy, for 100k and 1M requests/s from the CPU per request measured
#   at the 1x1 topology's top rate: projected, not measured.
# Writes loadtest/results/capacity-<stamp>.csv and capacity-<stamp>-model.txt.
# Env: TOPOLOGIES ("1x1 1x2 2x1"), RATES ("3000 6000 12000"), DURATION (s, 25, at least 15), WARMUP (s, 60),
#      PROTOCOLS ("rest grpc"), GATEWAY_CPUS (0), WORKER_CPUS (1), BATCHING (loadtest/peak-batching.config),
#      WORKER_FLAGS (more flags for the workers, e.g. TensorFlow's thread pools).
#      Needs ss (iproute2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
topologies="${TOPOLOGIES:-1x1 1x2 2x1}"
rates="${RATES:-3000 6000 12000}"
duration="${DURATION:-25}"
warmup="${WARMUP:-60}"
gateway_cpus="${GATEWAY_CPUS:-0}"
worker_cpus="${WORKER_CPUS:-1}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/capacity-$stamp.csv"
model="loadtest/results/capacity-$stamp-model.txt"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
tr -d '\n' < loadtest/ctr-request.json > "$work/rest.json"
java -cp "$cp" io.infergate.loadtest.GrpcRequestFile "$work/grpc.bin"
ticks_per_s=$(getconf CLK_TCK)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
echo "topology,protocol,offered_per_s,answered_per_s,p99_ms,gateway_cpu_per_s,worker_cpu_per_s,batches_per_s,mean_batch_size,gateway_cpu_us_per_request,worker_cpu_us_per_request,bus_bytes_to_workers_per_request,bus_bytes_to_gateways_per_request,client_bytes_in_per_request,client_bytes_out_per_request" > "$csv"

# cpu_ticks PID...: user + system CPU time of the processes, in clock ticks.
cpu_ticks() {
  local sum=0 pid
  for pid in "$@"; do
    sum=$(( sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat") ))
  done
  echo "$sum"
}
# bus_bytes PORT...: bytes sent so far on the TCP connections to these event-bus ports.
bus_bytes() {
  local filter="" port
  for port in "$@"; do filter+="${filter:+ or }dport = :$port"; done
  ss -tinH "( $filter )" | grep -o 'bytes_acked:[0-9]*' | awk -F: '{ s += $2 } END { printf "%d", s }'
}
# client_bytes PORT...: bytes received from and sent to clients so far on the connections to these
# listening ports (both counted as the server sees them).
client_bytes() {
  local filter="" port
  for port in "$@"; do filter+="${filter:+ or }sport = :$port"; done
  ss -tinH "( $filter )" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, ":")
      if (kv[1] == "bytes_received") r += kv[2]; if (kv[1] == "bytes_acked") a += kv[2] } }
    END { printf "%d %d\n", r, a }'
}
# metric_sum NAME URL...: the sum of a Prometheus metric's samples over these endpoints.
metric_sum() {
  local name=$1 sum=0 url
  shift
  for url in "$@"; do
    sum=$(( sum + $(curl -s "$url" | awk -v n="$name" 'index($0, n) == 1 { s += $NF } END { printf "%d", s }') ))
  done
  echo "$sum"
}

# start TOPOLOGY: GxW processes; sets their pids and ports, and waits until every gateway answers.
start() {
  local g=${1%x*} w=${1#*x} i members="127.0.0.1:5951"
  for i in $(seq 2 $(( g + w ))); do members+=",127.0.0.1:$(( 5950 + i ))"; done
  local cluster=("--cluster_name=capacity-$stamp-$1" "--cluster_members=$members")
  gateway_pids=() worker_pids=() gateway_bus=() worker_bus=() worker_metrics=() gateway_metrics=() rest_ports=() grpc_ports=()
  for i in $(seq 1 "$w"); do
    INFERGATE_LOG_LEVEL=WARN taskset -c "$worker_cpus" bin/infergate worker --model_name=ctr \
      "--model_base_path=$bench_models/ctr" --enable_batching "--batching_parameters_file=${BATCHING:-loadtest/peak-batching.config}" \
      "${cluster[@]}" --cluster_port=$(( 5950 + g + i )) --cluster_bus_port=$(( 5930 + i )) --monitoring_port=$(( 8860 + i )) \
      ${WORKER_FLAGS:-} > "$work/worker-$i.log" 2>&1 &
    worker_pids+=($!) worker_bus+=($(( 5930 + i ))) worker_metrics+=("http://127.0.0.1:$(( 8860 + i ))/metrics")
  done
  for i in $(seq 1 "$g"); do
    local rest=$(( 8800 + 10 * i + 1 ))
    INFERGATE_LOG_LEVEL=WARN taskset -c "$gateway_cpus" bin/infergate gateway "${cluster[@]}" \
      --cluster_port=$(( 5950 + i )) --cluster_bus_port=$(( 5940 + i )) --rest_api_port=$rest \
      --port=$(( 8800 + 10 * i )) > "$work/gateway-$i.log" 2>&1 &
    gateway_pids+=($!) gateway_bus+=($(( 5940 + i ))) rest_ports+=($rest) grpc_ports+=($(( 8800 + 10 * i )))
    gateway_metrics+=("http://127.0.0.1:$rest/monitoring/prometheus/metrics")
  done
  pids=("${gateway_pids[@]}" "${worker_pids[@]}")
  local port
  for port in "${rest_ports[@]}"; do
    wait_predicting "$port" || { echo "see the logs in $work" >&2; exit 1; }
  done
}

# load PROTOCOL RATE SECONDS: open-loop load at RATE in all, spread over the gateways; each
# generator's CSV line (see OpenLoopLoad) goes to $work/load.I.
load() {
  local protocol=$1 share=$(( $2 / ${#rest_ports[@]} )) seconds=$3 i loaders=()
  for i in "${!rest_ports[@]}"; do
    local target=(--grpc "http://127.0.0.1:${grpc_ports[$i]}/tensorflow.serving.PredictionService/Predict" "$work/grpc.bin")
    [[ $protocol == rest ]] && target=("http://127.0.0.1:${rest_ports[$i]}/v1/models/ctr:predict" "$work/rest.json")
    taskset -c "$gateway_cpus" java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m -cp "$cp" \
      io.infergate.loadtest.OpenLoopLoad "${target[@]}" "$seconds" "$share" 2> "$work/load.$i.err" | tail -n 1 > "$work/load.$i" &
    loaders+=($!)
  done
  wait "${loaders[@]}"
}

for topology in $topologies; do
  start "$topology"
  # What the processes cost with no requests at all (timers, cluster heartbeats, the batch
  # scheduler): the fits below count only what the requests add to it.
  sleep 5
  g0=$(cpu_ticks "${gateway_pids[@]}") w0=$(cpu_ticks "${worker_pids[@]}")
  sleep "$duration"
  g1=$(cpu_ticks "${gateway_pids[@]}") w1=$(cpu_ticks "${worker_pids[@]}")
  awk -v t="$topology" -v d="$duration" -v hz="$ticks_per_s" -v g=$(( g1 - g0 )) -v w=$(( w1 - w0 )) \
    'BEGIN { printf "%s,idle,0,0,,%.3f,%.3f,0,,,,,,,\n", t, g / hz / d, w / hz / d }' | tee -a "$csv"
  for protocol in ${PROTOCOLS:-rest grpc}; do
    load "$protocol" "$(tr ' ' '\n' <<< "$rates" | sort -n | tail -n 1)" "$warmup"
    listen_ports=("${rest_ports[@]}")
    [[ $protocol == grpc ]] && listen_ports=("${grpc_ports[@]}")
    for rate in $rates; do
      # The generators' own first five seconds (their warm-up) fall inside the window: the
      # requests counted are those the gateways answered in it, whichever they were.
      g0=$(cpu_ticks "${gateway_pids[@]}") w0=$(cpu_ticks "${worker_pids[@]}")
      n0=$(metric_sum infergate_request_latency_seconds_count "${gateway_metrics[@]}")
      b0=$(metric_sum infergate_batch_executions_total "${worker_metrics[@]}")
      tw0=$(bus_bytes "${worker_bus[@]}") tg0=$(bus_bytes "${gateway_bus[@]}") t0=$(date +%s.%N)
      load "$protocol" "$rate" "$duration" &
      loading=$!
      # The clients' connections live only while the generators run: their bytes are read twice
      # within the run, with the requests answered in between.
      sleep 10
      read -r in0 out0 < <(client_bytes "${listen_ports[@]}")
      c0=$(metric_sum infergate_request_latency_seconds_count "${gateway_metrics[@]}")
      sleep $(( duration - 8 ))
      read -r in1 out1 < <(client_bytes "${listen_ports[@]}")
      c1=$(metric_sum infergate_request_latency_seconds_count "${gateway_metrics[@]}")
      wait "$loading"
      g1=$(cpu_ticks "${gateway_pids[@]}") w1=$(cpu_ticks "${worker_pids[@]}")
      n1=$(metric_sum infergate_request_latency_seconds_count "${gateway_metrics[@]}")
      b1=$(metric_sum infergate_batch_executions_total "${worker_metrics[@]}")
      tw1=$(bus_bytes "${worker_bus[@]}") tg1=$(bus_bytes "${gateway_bus[@]}") t1=$(date +%s.%N)
      p99=$(cat "$work"/load.[0-9]* | awk -F, '$5 > m { m = $5 } END { print m + 0 }')
      awk -v t="$topology" -v p="$protocol" -v r="$rate" -v n=$(( n1 - n0 )) -v s0="$t0" -v s1="$t1" \
          -v p99="$p99" -v hz="$ticks_per_s" -v g=$(( g1 - g0 )) -v w=$(( w1 - w0 )) -v b=$(( b1 - b0 )) \
          -v tw=$(( tw1 - tw0 )) -v tg=$(( tg1 - tg0 )) -v ci=$(( in1 - in0 )) -v co=$(( out1 - out0 )) \
          -v cn=$(( c1 - c0 )) 'BEGIN { s = s1 - s0
        printf "%s,%s,%d,%.0f,%s,%.3f,%.3f,%.0f,%.1f,%.1f,%.1f,%.0f,%.0f,%.0f,%.0f\n", t, p, r, n / s, p99, g / hz / s,
          w / hz / s, b / s, (b > 0 ? n / b : 0), g * 1e6 / hz / n, w * 1e6 / hz / n, tw / n, tg / n, ci / cn, co / cn }' |
        tee -a "$csv"
      grep -h . "$work"/load.*.err 2>/dev/null | sed 's/^/  generator: /' || true
    done
  done
  kill "${pids[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
done

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)),"
  echo "gateways on CPU $gateway_cpus, workers on CPU $worker_cpus; CSV: $csv"
  echo
  echo "Fits over the rates (least squares): gateway CPU/s = fixed + g x requests/s;"
  echo "worker CPU/s = idle + a x requests/s + b x batches/s (idle measured with no requests)"
  awk -F, 'NR > 1 && $2 == "idle" { idle_g[$1] = $6; idle_w[$1] = $7; next }
    NR > 1 { k = $1 " " $2; m[k]++; x = $4; y = $6; sx[k] += x; sy[k] += y; sxx[k] += x * x; sxy[k] += x * y
      # worker: what the requests add to its idle CPU, by requests and by batches
      u = $4; v = $8; z = $7 - idle_w[$1]; suu[k] += u * u; svv[k] += v * v; suv[k] += u * v; suz[k] += u * z; svz[k] += v * z
      bw[k] += $12; bg[k] += $13; ci[k] += $14; co[k] += $15 }
    END { for (k in m) { n = m[k]; d = n * sxx[k] - sx[k] * sx[k]; g = (d ? (n * sxy[k] - sx[k] * sy[k]) / d : 0)
        f = (sy[k] - g * sx[k]) / n; e = suu[k] * svv[k] - suv[k] * suv[k]
        a = (e ? (suz[k] * svv[k] - svz[k] * suv[k]) / e : 0); b = (e ? (svz[k] * suu[k] - suz[k] * suv[k]) / e : 0)
        split(k, tk, " ")
        printf "%s: gateway %.1f us/request + %.3f cores fixed (idle %.3f); worker %.1f us/request + %.1f us/batch + idle %.3f cores; bus %.0f B to workers, %.0f B back; clients %.0f B in, %.0f B out per request\n",
          k, g * 1e6, f, idle_g[tk[1]], a * 1e6, b * 1e6, idle_w[tk[1]], bw[k] / n, bg[k] / n, ci[k] / n, co[k] / n } }' "$csv" | sort
  echo
  echo "Projection (not measured): 1-core pods 70 % busy, at the CPU per request measured at the 1x1 top rate"
  echo "(per-request costs fall as the rate rises, since batches and frames grow: at higher rates per pod this is"
  echo "conservative), workers at that rate's batch size."
  awk -F, 'NR > 1 && $1 == "1x1" && $2 != "idle" && $3 >= top[$2] { top[$2] = $3; g[$2] = $10; w[$2] = $11; batch[$2] = $9 }
    END { for (k in top) for (r = 100000; r <= 1000000; r *= 10)
        printf "%s at %7d requests/s: %5d gateway pods (%.1f us/request), %5d worker pods (%.1f us/request, batches of %.1f)\n",
          k, r, int(r * g[k] / 1e6 / 0.7 + 0.999), g[k], int(r * w[k] / 1e6 / 0.7 + 0.999), w[k], batch[k] }' "$csv" | sort
} | tee "$model"
