#!/usr/bin/env bash
# Soak: a gateway and two worker processes (a cluster on loopback) under open-loop load at a
# share of their peak for a long time, with bad requests mixed in, new model versions swapped in,
# and a worker restarted, while every process's RSS and heap are sampled.
#   Good traffic: the demo CTR model's predict, open loop (loadtest OpenLoopLoad).
#   Bad traffic: a loop of malformed, oversized, high-rank, wrongly typed and unknown-model requests
#     (about 10 per second); each must get a 4xx.
#   Every SWAP_EVERY seconds a new version of the model appears (a copy of the last) and the oldest
#     is removed; at half time one worker is stopped (SIGTERM) and started again.
# Heaps are fixed and pre-touched, so RSS growth is native memory; Native Memory Tracking's diff
# from the end of the warm-up to the end says where the JVM's part of it went. Every 5 minutes a
# full GC (jcmd GC.run) gives the live heap of the gateway and of the worker never restarted.
# Writes loadtest/results/soak-<stamp>-samples.csv (every 10 s: RSS and heap in use per process,
# the live heap every 5 minutes), soak-<stamp>-nmt.txt (the NMT diffs) and soak-<stamp>.txt (the
# summary), and prints the summary.
# Env: DURATION (s, 1800), SHARE (of the measured peak, 0.7), SWAP_EVERY (s, 300), WARMUP (s, 60),
#      PEAK_SWEEP (open-loop rates tried for the peak, 10 s each).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
duration="${DURATION:-1800}"
share="${SHARE:-0.7}"
swap_every="${SWAP_EVERY:-300}"
warmup="${WARMUP:-60}"
PEAK_SWEEP="${PEAK_SWEEP:-1000 1500 2000 2500 3000 3500 4000 4500 5000}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
samples="loadtest/results/soak-$stamp-samples.csv"
summary="loadtest/results/soak-$stamp.txt"
nmt="loadtest/results/soak-$stamp-nmt.txt"
java_opts="-XX:+UseParallelGC -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:NativeMemoryTracking=summary"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
repository="$work/models/ctr"
mkdir -p "$repository"
cp -r "$bench_models/ctr/2" "$repository/1"
body=$(tr -d '\n' < loadtest/ctr-request.json)
printf '%s' "$body" > "$work/body.json"
wrk_post "$work/post.lua" "$body"
members="127.0.0.1:5711,127.0.0.1:5712,127.0.0.1:5713"
cluster=(--cluster_name="soak-$stamp" --cluster_members="$members")
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT

start_worker() { # start_worker N: a worker on Hazelcast port 571N
  INFERGATE_LOG_LEVEL=WARN INFERGATE_JAVA_OPTS="$java_opts" bin/infergate worker \
    "${cluster[@]}" --cluster_port="571$1" --model_name=ctr --model_base_path="$repository" --monitoring_port="871$1" \
    --file_system_poll_wait_seconds=2 > "$work/worker-$1.log" 2>&1 &
  eval "worker_$1=$!"
  pids+=($!)
}
start_worker 2
start_worker 3
INFERGATE_LOG_LEVEL=WARN INFERGATE_JAVA_OPTS="$java_opts" bin/infergate gateway \
  "${cluster[@]}" --cluster_port=5711 --rest_api_port=8701 --port=0 > "$work/gateway.log" 2>&1 &
gateway=$!
pids+=($gateway)
wait_ready 8701
url="http://127.0.0.1:8701/v1/models/ctr:predict"

echo "warming up for ${warmup}s" >&2
wrk -t2 -c64 -d"${warmup}s" -s "$work/post.lua" "$url" > /dev/null
# The peak as the soak's own generator sees it (it costs far more CPU per request than wrk, and
# shares these cores): the highest rate of a sweep served in full with a P99 under 50 ms.
java -Xmx512m -cp "$cp" io.infergate.loadtest.OpenLoopLoad "$url" "$work/body.json" 10 $PEAK_SWEEP > "$work/sweep.csv"
peak=$(awk -F, 'NR > 1 && $2 >= 0.99 * $1 && $5 < 50 && $7 == 0 && $1 > p { p = $1 } END { printf "%d", p }' "$work/sweep.csv")
(( peak > 0 )) || { echo "no rate of the sweep ($PEAK_SWEEP) was served with a P99 under 50 ms" >&2; cat "$work/sweep.csv" >&2; exit 1; }
rate=$(awk -v p="$peak" -v s="$share" 'BEGIN { printf "%d", p * s }')
echo "peak $peak requests/s (open loop, P99 < 50 ms); soaking at $rate/s for ${duration}s" >&2

java -Xmx512m -cp "$cp" io.infergate.loadtest.OpenLoopLoad "$url" "$work/body.json" "$duration" "$rate" \
  > "$work/good.csv" 2> "$work/good.err" &
good=$!

# Bad requests, each with the status class it must get.
bad_requests=(
  "400|/v1/models/ctr:predict|{\"instances\": [1.0,"
  "400|/v1/models/ctr:predict|{\"instances\": [\"text\"]}"
  "400|/v1/models/ctr/versions/abc:predict|{\"instances\": [1.0]}"
  "400|/v2/models/ctr/infer|{\"inputs\": [{\"name\": \"user_features\", \"datatype\": \"FP32\", \"shape\": [$(printf '1,%.0s' $(seq 1 299))1], \"data\": [1.0]}]}"
  "404|/v1/models/nope:predict|{\"instances\": [1.0]}"
  "413|/v1/models/ctr:predict|@$work/large.json"
)
head -c 20000000 /dev/zero | tr '\0' '1' > "$work/large.json"
bad_loop() {
  local sent=0 unexpected=0
  while kill -0 "$good" 2>/dev/null; do
    for entry in "${bad_requests[@]}"; do
      IFS='|' read -r expected path data <<< "$entry"
      status=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST "http://127.0.0.1:8701$path" \
        -H 'content-type: application/json' --data-binary "$data" || true)
      sent=$((sent + 1))
      [[ "$status" == "$expected" ]] || { unexpected=$((unexpected + 1)); echo "bad request $path got $status" >&2; }
      sleep 0.1
    done
  done
  echo "$sent $unexpected" > "$work/bad.result"
}
bad_loop 2> "$work/bad.err" &

heap_mb() { # heap_mb URL: heap in use, from a Prometheus scrape
  curl -s "$1" | awk '/^jvm_memory_used_bytes\{area="heap"/ { sum += $NF } END { printf "%d", sum / 1048576 }'
}

# live_heap_mb PID: the heap in use right after a full GC.
live_heap_mb() {
  jcmd "$1" GC.run > /dev/null 2>&1 || true
  jcmd "$1" GC.heap_info 2> /dev/null | awk '/PSYoungGen|ParOldGen/ { for (i = 1; i < NF; i++) if ($i == "used") {
      v = $(i + 1); sub(/K.*/, "", v); s += v } } END { printf "%d", s / 1024 }'
}

echo "seconds,gateway_rss_mb,gateway_heap_mb,worker2_rss_mb,worker3_rss_mb,worker3_heap_mb,versions_swapped,worker_restarts,gateway_live_heap_mb,worker3_live_heap_mb" > "$samples"
started=$(date +%s)
next_swap=$((started + swap_every))
next_live=$((started + 120))
baselined=0
version=1
restarted=0
while kill -0 "$good" 2>/dev/null; do
  now=$(date +%s)
  if (( now >= next_swap )); then
    version=$((version + 1))
    cp -r "$repository/$((version - 1))" "$repository/.new" && mv "$repository/.new" "$repository/$version"
    (( version > 2 )) && rm -rf "${repository:?}/$((version - 2))"
    next_swap=$((now + swap_every))
  fi
  if (( restarted == 0 && now - started >= duration / 2 )); then
    kill -TERM "$worker_2"
    wait "$worker_2" 2>/dev/null || true
    start_worker 2
    restarted=1
  fi
  live=","
  if (( now >= next_live )); then
    live="$(live_heap_mb $gateway),$(live_heap_mb "$worker_3")"
    next_live=$((now + 300))
    if (( baselined == 0 )); then # the end of the warm-up: where native memory is measured from
      jcmd $gateway VM.native_memory baseline > /dev/null
      jcmd "$worker_3" VM.native_memory baseline > /dev/null
      baselined=1
    fi
  fi
  echo "$((now - started)),$(rss_mb $gateway),$(heap_mb http://127.0.0.1:8701/metrics),$(rss_mb "$worker_2"),$(rss_mb "$worker_3"),$(heap_mb http://127.0.0.1:8713/metrics),$((version - 1)),$restarted,$live" >> "$samples"
  sleep 10
done
wait "$good" || true
{
  echo "gateway: $(live_heap_mb $gateway) MB live heap at the end"
  jcmd $gateway VM.native_memory summary.diff
  echo "worker 3: $(live_heap_mb "$worker_3") MB live heap at the end"
  jcmd "$worker_3" VM.native_memory summary.diff
} > "$nmt" 2>&1
sleep 2
read -r bad_sent bad_unexpected < "$work/bad.result" || { bad_sent=0; bad_unexpected=0; }
{
  echo "Infergate soak $stamp on $(nproc) cores: 1 gateway + 2 workers (cluster on loopback), demo CTR model"
  echo "peak (open loop, highest rate of the sweep served with P99 < 50 ms): $peak req/s; good traffic open loop at $rate req/s for ${duration}s"
  echo "good traffic (OpenLoopLoad): $(head -n 1 "$work/good.csv")"
  echo "                              $(tail -n 1 "$work/good.csv")"
  grep -h "neither admitted" "$work/good.err" || true
  echo "bad requests: $bad_sent sent, $bad_unexpected with an unexpected status"
  echo "model versions swapped in: $((version - 1)); worker restarts: $restarted"
  awk -F, 'NR == 2 { next } NR > 2 && $1 >= 120 {
      if (!seen) { g0 = $2; h0 = $3; seen = 1 } g1 = $2; h1 = $3; if ($2 > gmax) gmax = $2; if ($3 > hmax) hmax = $3 }
    END { printf "gateway RSS after warm-up: %d MB at 2 min, %d MB at the end, %d MB at most; heap %d -> %d MB (max %d)\n",
          g0, g1, gmax, h0, h1, hmax }' "$samples"
  awk -F, 'NR > 2 && $1 >= 120 { if (!seen) { w0 = $5; h0 = $6; seen = 1 } w1 = $5; h1 = $6
      if ($5 > wmax) wmax = $5; if ($6 > hmax) hmax = $6 }
    END { printf "worker 3 (never restarted) RSS: %d MB at 2 min, %d MB at the end, %d MB at most; heap %d -> %d MB (max %d)\n",
          w0, w1, wmax, h0, h1, hmax }' "$samples"
  awk -F, 'NR > 1 && $9 != "" { n++; if (n == 1) { g0 = $9; w0 = $10 } g1 = $9; w1 = $10 }
    END { printf "live heap (after a full GC, every 5 min from 2 min on): gateway %d -> %d MB, worker 3 %d -> %d MB\n",
          g0, g1, w0, w1 }' "$samples"
  awk '/^Total:/ { printf "JVM native memory from the end of the warm-up to the end (NMT), %s: %s\n",
      (++n == 1 ? "gateway" : "worker 3"), $0 }' "$nmt"
} | tee "$summary"
