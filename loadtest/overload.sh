#!/usr/bin/env bash
# Overload: how a gateway's admission budget holds against open-loop load at and beyond capacity,
# in the deployment users run: a gateway process and a worker process, each on CPUs of its own.
#   Each request scores ROWS candidates with a wide variant of the demo CTR model
#   (train-demo --hidden_units=HIDDEN_UNITS), so that the worker, not the gateway, limits
#   throughput. The worker runs on WORKER_CPUS with one inference thread; the gateway, with
#   --max_concurrent_requests=LIMIT and one event loop, on GATEWAY_CPUS; the load generators on
#   LOAD_CPUS. After a warm-up, closed-loop wrk with LIMIT connections measures the capacity C.
#   Then, for ROUNDS rounds, at each of LEVELS x C: GENERATORS open-loop processes (loadtest's
#   OpenLoopLoad) offer the rate together for DURATION seconds, first to the bare Vert.x JSON
#   endpoint (loadtest's BaselineServer, on GATEWAY_CPUS: the yardstick, what answering at that
#   rate costs on this machine at all), then to the gateway, while both processes' RSS is
#   sampled. Admitted requests (200) and shed ones (503 with Retry-After) are timed apart; each
#   generator's P99 is reported, the larger taken. The gateway's own histogram gives the P99 from
#   arrival to answer, which excludes the generators' scheduling.
# Writes loadtest/results/overload-<stamp>.csv (every round) and prints the medians per level.
# Env: LIMIT (4), ROWS (32), HIDDEN_UNITS (65536), LEVELS ("1 2 3"), ROUNDS (3), DURATION (s, 30),
#      WARMUP (s, 60), GENERATORS (2), GATEWAY_CPUS (0), WORKER_CPUS (1), LOAD_CPUS (0),
#      WORKER_NICE (0; 19 lets whatever shares the worker's CPUs run first, as if it had CPUs of its own),
#      INFERGATE_JAVA_OPTS (gateway and worker; default a fixed, pre-touched 1 GB heap, so that RSS
#      shows any growth beyond it).
#      Needs wrk (Debian: wrk).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
limit="${LIMIT:-4}"
rows="${ROWS:-32}"
hidden_units="${HIDDEN_UNITS:-65536}"
levels="${LEVELS:-1 2 3}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-30}"
warmup="${WARMUP:-60}"
generators="${GENERATORS:-2}"
gateway_cpus="${GATEWAY_CPUS:-0}"
worker_cpus="${WORKER_CPUS:-1}"
load_cpus="${LOAD_CPUS:-0}"
port=8601
bare_port=8602
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/overload-$stamp.csv"
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

model=$(wide_request "$work" "$rows" "$hidden_units")
members=(--cluster_members=127.0.0.1 --cluster_name="overload-$$")
export INFERGATE_JAVA_OPTS="${INFERGATE_JAVA_OPTS:--Xms1g -Xmx1g -XX:+AlwaysPreTouch}"
INFERGATE_LOG_LEVEL=WARN taskset -c "$worker_cpus" nice -n "${WORKER_NICE:-0}" bin/infergate worker --model_name=ctr \
  "--model_base_path=$model/ctr" --num_inference_threads=1 --monitoring_port=8612 "${members[@]}" \
  > /tmp/infergate-bench-overload-worker.log 2>&1 &
worker=$!
pids+=("$worker")
INFERGATE_LOG_LEVEL=WARN taskset -c "$gateway_cpus" bin/infergate gateway --rest_api_port=$port --port=0 \
  --rest_api_num_threads=1 --max_concurrent_requests="$limit" "${members[@]}" \
  > /tmp/infergate-bench-overload-gateway.log 2>&1 &
gateway=$!
pids+=("$gateway")
wait_ready "$port"
wait_predicting "$port"
taskset -c "$gateway_cpus" java -cp "$cp" io.infergate.loadtest.BaselineServer "$bare_port" > /dev/null 2>&1 &
bare=$!
pids+=("$bare")
url="http://127.0.0.1:$port/v1/models/ctr:predict"
bare_url="http://127.0.0.1:$bare_port/v1/models/ctr:predict"

# buckets FILE: the gateway's request-latency histogram by status and bucket ("OK 0.005 1234"), summed over labels.
buckets() {
  curl -s "http://127.0.0.1:$port/metrics" | awk -F'[{}]' '/^infergate_request_latency_seconds_bucket/ {
      status = $2; sub(/.*status="/, "", status); sub(/".*/, "", status)
      le = $2; sub(/.*le="/, "", le); sub(/".*/, "", le); split($3, value, " ")
      sum[status " " le] += value[1] }
    END { for (k in sum) print k, sum[k] }' > "$1"
}
# server_p99 BEFORE AFTER STATUS: the upper bound (ms) of the bucket holding the P99 of what the
# gateway answered with STATUS between two scrapes, from a request's arrival to its answer.
server_p99() {
  awk -v status="$3" 'NR == FNR { before[$1 " " $2] = $3; next }
    $1 == status { n = $3 - before[$1 " " $2]; if ($2 == "+Inf") total = n; else count[$2 + 0] = n }
    END { if (total == 0) { print "-"; exit }
          best = -1
          for (le in count) if (count[le] >= 0.99 * total && (best < 0 || le + 0 < best)) best = le + 0
          if (best < 0) print "inf"; else printf "%.1f", best * 1000 }' "$1" "$2"
}
# offer URL RATE TAG: GENERATORS open-loop processes together at RATE in all, for DURATION s;
# prints the largest P99s and the summed rates, while the gateway's and worker's RSS is sampled.
offer() {
  local target=$1 rate=$2 tag=$3
  for g in $(seq 1 "$generators"); do
    # C1 only: C2 compiling in fresh generator JVMs on a shared core put 6 ms into the bare
    # endpoint's P99 at 1,500 req/s (1.3-1.7 ms without), which no server can go below.
    taskset -c "$load_cpus" java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m -cp "$cp" io.infergate.loadtest.OpenLoopLoad "$target" \
      "$work/body.json" "$duration" $((rate / generators)) > "$work/$tag-$g.csv" 2> "$work/$tag-$g.err" &
  done
  rss_max=0
  while pgrep -f "OpenLoopLoad $target" > /dev/null; do
    now=$(( $(rss_mb "$gateway") + $(rss_mb "$worker") ))
    (( now > rss_max )) && rss_max=$now
    sleep 1
  done
}

echo "warming up for ${warmup}s, and the bare endpoint for half that" >&2
taskset -c "$load_cpus" wrk -t1 -c"$limit" -d"${warmup}s" -s "$work/post.lua" "$url" > /dev/null
taskset -c "$load_cpus" wrk -t1 -c"$limit" -d"$((warmup / 2))s" -s "$work/post.lua" "$bare_url" > /dev/null
capacity=$(taskset -c "$load_cpus" wrk -t1 -c"$limit" -d20s -s "$work/post.lua" "$url" | awk '/Requests\/sec/ { printf "%d", $2 }')
echo "capacity (closed loop, $limit connections): $capacity requests/s of $rows rows ($hidden_units hidden units)" >&2

echo "round,level,offered_per_s,bare_p99_ms,admitted_per_s,admitted_p99_ms,shed_per_s,shed_p99_ms,shed_max_ms,errors,gateway_admitted_p99_ms,gateway_shed_p99_ms,rss_start_mb,rss_max_mb,rss_end_mb" > "$csv"
for round in $(seq 1 "$rounds"); do
  for level in $levels; do
    rate=$(awk -v c="$capacity" -v l="$level" 'BEGIN { printf "%d", c * l }')
    offer "$bare_url" "$rate" "bare-$round-$level"
    bare_p99=$(tail -q -n 1 "$work"/bare-"$round"-"$level"-*.csv | awk -F, '$5 > p { p = $5 } END { print p }')
    rss_start=$(( $(rss_mb "$gateway") + $(rss_mb "$worker") ))
    buckets "$work/before"
    offer "$url" "$rate" "infergate-$round-$level"
    buckets "$work/after"
    # Per generator: offered, admitted/s, admitted P99, shed/s, shed P99, shed max, errors (neither 200 nor shed).
    cat "$work"/infergate-"$round"-"$level"-*.err >&2
    tail -q -n 1 "$work"/infergate-"$round"-"$level"-*.csv | awk -F, -v round="$round" -v level="$level" \
        -v bare="$bare_p99" -v s="$rss_start" -v m="$rss_max" -v e="$(( $(rss_mb "$gateway") + $(rss_mb "$worker") ))" \
        -v sa="$(server_p99 "$work/before" "$work/after" OK)" \
        -v ss="$(server_p99 "$work/before" "$work/after" UNAVAILABLE)" '
      { offered += $1; admitted += $8; shed += $10; errors += $13
        if ($9 > ap99) ap99 = $9; if ($11 > sp99) sp99 = $11; if ($12 > smax) smax = $12 }
      END { printf "%d,%s,%d,%.2f,%d,%.2f,%d,%.2f,%.2f,%d,%s,%s,%d,%d,%d\n", round, level, offered, bare, admitted,
            ap99, shed, sp99, smax, errors, sa, ss, s, m, e }' >> "$csv"
    tail -n 1 "$csv" >&2
  done
done
echo "capacity $capacity req/s of $rows rows, --max_concurrent_requests=$limit, $generators generators," \
  "${duration}s per level, $rounds rounds; gateway on CPUs $gateway_cpus, worker on $worker_cpus (nice ${WORKER_NICE:-0}), load on $load_cpus" >&2
echo "medians over the rounds:"
echo "level,offered_per_s,bare_p99_ms,admitted_per_s,admitted_p99_ms,shed_per_s,shed_p99_ms,shed_max_ms,errors,gateway_admitted_p99_ms,gateway_shed_p99_ms,rss_max_mb"
for level in $levels; do
  awk -F, -v level="$level" 'NR > 1 && $2 == level' "$csv" | awk -F, '
    { for (i = 3; i <= 15; i++) v[i, NR] = $i; n = NR }
    function median(i,   a, k, j, t) { for (k = 1; k <= n; k++) a[k] = v[i, k]
      for (k = 1; k <= n; k++) for (j = k + 1; j <= n; j++) if (a[j] + 0 < a[k] + 0) { t = a[k]; a[k] = a[j]; a[j] = t }
      return a[int((n + 1) / 2)] }
    END { printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", "'"$level"'", median(3), median(4), median(5), median(6),
          median(7), median(8), median(9), median(10), median(11), median(12), median(14) }'
done
