#!/usr/bin/env bash
# CPU profile of Infergate (or the bare yardstick) under peak load: where each request's CPU time
# goes. Starts the target, loads it closed-loop (wrk for REST, h2load for gRPC, as peak.sh does)
# for WARMUP seconds unprofiled, then attaches async-profiler (from Maven Central, see
# loadtest/pom.xml) to every process of the target for SECONDS seconds of the same load.
#   TARGET   serve (default), cluster (a gateway and a worker process; each is profiled) or bare
#   PROTOCOL rest (default) or grpc
# Writes loadtest/results/profile-<stamp>-<target>-<protocol>[-<process>].collapsed (stacks, for
# flame graph tools), .html (async-profiler's flame graph) and .txt: CPU microseconds per request
# by part of the path (ProfileSummary), from the samples (1 ms of CPU each) and the requests served.
# The profiler itself costs some throughput: compare profiles with profiles, not with peak.sh.
# Env: TARGET, PROTOCOL, WARMUP (s, 60), PROFILE_SECONDS (s, 30), CONNECTIONS (wrk, 128), STREAMS (h2load
#      streams per connection, 4 connections, 64), BATCHING (loadtest/peak-batching.config).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
target="${TARGET:-serve}"
protocol="${PROTOCOL:-rest}"
warmup="${WARMUP:-60}"
seconds="${PROFILE_SECONDS:-30}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="loadtest/results/profile-$stamp-$target-$protocol"
mkdir -p loadtest/results
work=$(mktemp -d)
cp="loadtest/target/classes:loadtest/target/lib/*"
profiler_jar=$(ls loadtest/target/profiler/async-profiler-*-linux-x64.jar 2> /dev/null | head -n 1)
[[ -n $profiler_jar ]] || { echo "async-profiler is missing: ./mvnw -B -q -DskipTests package" >&2; exit 1; }
(cd "$work" && jar xf "$root/$profiler_jar" linux-x64/libasyncProfiler.so)
agent="$work/linux-x64/libasyncProfiler.so"
body=$(tr -d '\n' < loadtest/ctr-request.json)
wrk_post "$work/post.lua" "$body"
java -cp "$cp" io.infergate.loadtest.GrpcRequestFile "$work/grpc.bin"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
model_flags=(--model_name=ctr "--model_base_path=$bench_models/ctr" --enable_batching
  "--batching_parameters_file=${BATCHING:-loadtest/peak-batching.config}")

# Each profiled process: its name and pid.
names=() profiled=()
case $target in
  bare)
    main=(io.infergate.loadtest.BaselineServer 8701)
    [[ $protocol == grpc ]] && main=(io.infergate.loadtest.BaselineGrpcServer 8702)
    java -XX:+UseParallelGC -cp "$cp" "${main[@]}" > "$work/bare.log" 2>&1 &
    pids+=($!) names+=(bare) profiled+=($!)
    sleep 3 ;;
  serve)
    INFERGATE_LOG_LEVEL=WARN bin/infergate serve "${model_flags[@]}" --rest_api_port=8701 --port=8702 \
      > "$work/serve.log" 2>&1 &
    pids+=($!) names+=(serve) profiled+=($!) ;;
  cluster)
    cluster=(--cluster_members=127.0.0.1 "--cluster_name=profile-$stamp")
    INFERGATE_LOG_LEVEL=WARN bin/infergate worker "${model_flags[@]}" "${cluster[@]}" --monitoring_port=8705 \
      > "$work/worker.log" 2>&1 &
    pids+=($!) names+=(worker) profiled+=($!)
    INFERGATE_LOG_LEVEL=WARN bin/infergate gateway "${cluster[@]}" --rest_api_port=8701 --port=8702 \
      > "$work/gateway.log" 2>&1 &
    pids+=($!) names+=(gateway) profiled+=($!) ;;
  *) echo "TARGET is serve, cluster or bare, not $target" >&2; exit 2 ;;
esac
[[ $target == bare ]] || wait_predicting 8701 || { echo "see the logs in $work" >&2; exit 1; }

# load SECONDS: prints the requests answered.
load() {
  if [[ $protocol == rest ]]; then
    wrk -t1 -c"${CONNECTIONS:-128}" -d"${1}s" -s "$work/post.lua" http://127.0.0.1:8701/v1/models/ctr:predict |
      awk '/requests in/ { print $1 }'
  else
    h2load http://127.0.0.1:8702/tensorflow.serving.PredictionService/Predict -d "$work/grpc.bin" \
      -H content-type:application/grpc -H te:trailers -c 4 -m "${STREAMS:-64}" -D "$1" |
      awk '/^requests:/ { print $8 }'
  fi
}

# profiler PID COMMAND: async-profiler's agent loaded into a running JVM, given one command.
profiler() {
  jcmd "$1" JVMTI.agent_load "$agent" "\"$2\"" > /dev/null
}

load "$warmup" > /dev/null
for pid in "${profiled[@]}"; do profiler "$pid" start,event=cpu,interval=1ms; done
requests=$(load "$seconds")
for i in "${!profiled[@]}"; do
  file=$out
  [[ ${#profiled[@]} -gt 1 ]] && file+="-${names[$i]}"
  profiler "${profiled[$i]}" "dump,file=$root/$file.collapsed"
  profiler "${profiled[$i]}" "stop,file=$root/$file.html"
  {
    echo "# $target $protocol, ${names[$i]}: $requests requests in $seconds s ($(( requests / seconds )) per s, profiled)"
    java -cp "$cp" io.infergate.loadtest.ProfileSummary "$file.collapsed" "$requests"
  } | tee "$file.txt"
done
