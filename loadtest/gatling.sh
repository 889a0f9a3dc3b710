#!/usr/bin/env bash
# Gatling load test against a running Infergate: open-model ramp then hold, HTML report, and a
# non-zero exit when P99 or the error rate misses its target.
#   loadtest/gatling.sh predict      [-Dbase_url=http://localhost:8501] [-Drate=500] [-Dramp=20] [-Dduration=60]
#   loadtest/gatling.sh recommender  [... -Dcandidates=10 -Dusers=1000 -Ditems=1000]
# Also -Dp99_ms=50 -Dmax_error_percent=1. The report lands in loadtest/target/gatling/<run>/index.html.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-}" in
  predict) simulation=io.infergate.loadtest.gatling.PredictSimulation ;;
  recommender) simulation=io.infergate.loadtest.gatling.RecommenderSimulation ;;
  *) echo "usage: loadtest/gatling.sh predict|recommender [-Dproperty=value ...]" >&2; exit 2 ;;
esac
shift
./mvnw -B -q -pl loadtest -am -DskipTests install
exec ./mvnw -B -pl loadtest gatling:test -Dgatling.simulationClass="$simulation" \
  -Drequest_file="$PWD/loadtest/ctr-request.json" "$@"
