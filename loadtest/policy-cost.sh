#!/usr/bin/env bash
# What a serving policy costs and saves per request: closed-loop wrk (CONNECTIONS connections)
# posting the same demo CTR request to one `serve` process with
#   plain:   no policy;
#   quota:   a model quota and a tenant quota that never refuse (every request takes two tokens);
#   cached:  the response cache on (every request after the first is a hit, answered without a worker);
#   bare:    the bare Vert.x JSON endpoint (loadtest's BaselineServer): the yardstick.
# ROUNDS rounds of DURATION seconds each, alternating the set-ups, after a WARMUP per server.
# Prints requests per second and P99 per round and the medians; writes loadtest/results/policy-cost-<stamp>.csv.
# Env: ROUNDS (5), DURATION (s, 20), WARMUP (s, 30), CONNECTIONS (32). Needs wrk (Debian: wrk).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
rounds="${ROUNDS:-5}"
duration="${DURATION:-20}"
warmup="${WARMUP:-30}"
connections="${CONNECTIONS:-32}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p loadtest/results
csv="loadtest/results/policy-cost-$stamp.csv"
work=$(mktemp -d)
wrk_post "$work/post.lua" "$(tr -d '\n' < loadtest/ctr-request.json)"
echo 'wrk.headers["x-infergate-tenant"] = "bench"' >> "$work/post.lua"
cat > "$work/quota.pbtxt" <<POLICY
models { model: "ctr" quota { requests_per_second: 10000000 }
         tenants { key: "bench" value { requests_per_second: 10000000 } } }
POLICY
echo 'models { model: "ctr" cache { ttl_millis: 3600000 } }' > "$work/cached.pbtxt"
echo "" > "$work/plain.pbtxt"

declare -A ports=([plain]=8711 [quota]=8712 [cached]=8713 [bare]=8714)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for setup in plain quota cached; do
  INFERGATE_LOG_LEVEL=WARN bin/infergate serve --model_name=ctr "--model_base_path=$bench_models/ctr" \
    "--rest_api_port=${ports[$setup]}" --port=0 "--serving_policy_file=$work/$setup.pbtxt" \
    > "/tmp/infergate-bench-policy-$setup.log" 2>&1 &
  pids+=($!)
done
java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.BaselineServer "${ports[bare]}" > /dev/null 2>&1 &
pids+=($!)
for setup in plain quota cached; do
  wait_ready "${ports[$setup]}"
done
sleep 2
for setup in plain quota cached bare; do
  wrk -t1 -c"$connections" -d"${warmup}s" -s "$work/post.lua" "http://127.0.0.1:${ports[$setup]}/v1/models/ctr:predict" > /dev/null
done

echo "round,setup,requests_per_s,p99_ms" > "$csv"
for round in $(seq 1 "$rounds"); do
  for setup in plain quota cached bare; do
    wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" \
        "http://127.0.0.1:${ports[$setup]}/v1/models/ctr:predict" \
      | awk -v round="$round" -v setup="$setup" '
          /Requests\/sec/ { rps = $2 }
          $1 == "99%" { v = $2; if (v ~ /us$/) p = v / 1000; else if (v ~ /ms$/) p = v + 0; else p = v * 1000 }
          END { printf "%s,%s,%.0f,%.2f\n", round, setup, rps, p }' | tee -a "$csv"
  done
done
echo "medians over $rounds rounds ($connections connections, ${duration}s each):"
for setup in plain quota cached bare; do
  awk -F, -v setup="$setup" 'NR > 1 && $2 == setup { r[++n] = $3; p[n] = $4 }
    function median(a, n,   k, j, t) { for (k = 1; k <= n; k++) for (j = k + 1; j <= n; j++) if (a[j] < a[k]) { t = a[k]; a[k] = a[j]; a[j] = t }
      return a[int((n + 1) / 2)] }
    END { printf "%s,%.0f req/s,P99 %.2f ms\n", setup, median(r, n), median(p, n) }' "$csv"
done
curl -s "http://127.0.0.1:${ports[cached]}/monitoring/prometheus/metrics" | grep -E '^infergate_response_cache_(hits|misses)_total' || true
echo "Results: $csv"
