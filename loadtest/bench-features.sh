#!/usr/bin/env bash
# Online-features benchmark: REST predict on the demo CTR model with entity ids in (features
# from Redis), near cache off and on, open loop, batching on. Reports latency per offered rate
# and the Redis commands per request (from Redis's own command statistics).
# Needs redis-server (Debian package). Env: RATES, SECONDS_PER_RATE.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
rates="${RATES:-1000 2000 4000 6000}"
seconds="${SECONDS_PER_RATE:-10}"
redis_port=6390
command -v redis-server > /dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes > /dev/null
trap 'redis-cli -p $redis_port shutdown nosave > /dev/null 2>&1 || true' EXIT
sleep 0.5
bin/infergate features load --redis "redis://127.0.0.1:$redis_port" --file "$bench_models"/features/users.csv > /dev/null 2>&1
bin/infergate features load --redis "redis://127.0.0.1:$redis_port" --file "$bench_models"/features/items.jsonl > /dev/null 2>&1
echo "near_cache,offered_per_s,achieved_per_s,p50_ms,p90_ms,p99_ms,max_ms,errors,redis_commands_per_request"
for cache in off on; do
  config=$(mktemp --suffix=.config)
  sed "s#redis://127.0.0.1:6379#redis://127.0.0.1:$redis_port#" "$bench_models"/features.config > "$config"
  [[ $cache == off ]] && sed -i 's/near_cache {[^}]*}//' "$config"
  start_infergate "features-$cache" 8731 --port=0 --enable_batching --batching_parameters_file=loadtest/batching.config \
    "--feature_config_file=$config"
  generator=(java -cp "loadtest/target/classes:loadtest/target/lib/*" io.infergate.loadtest.OpenLoopLoad
    http://127.0.0.1:8731/v1/models/ctr:predict loadtest/ctr-ids-request.json)
  "${generator[@]}" 10 2000 > /dev/null   # warmup, not reported
  for rate in $rates; do
    redis-cli -p "$redis_port" config resetstat > /dev/null
    row=$("${generator[@]}" "$seconds" "$rate" | tail -n 1)
    commands=$(redis-cli -p "$redis_port" info commandstats | awk -F'[=,:]' '/cmdstat_(mget|hmget)/ {sum += $3} END {print sum + 0}')
    requests=$(( rate * (seconds + 5) ))   # OpenLoopLoad's own 5 s warmup is counted by Redis too
    echo "$cache,$row,$(awk -v c="$commands" -v r="$requests" 'BEGIN {printf "%.2f", c / r}')"
  done
  stop_infergate
  rm -f "$config"
done
